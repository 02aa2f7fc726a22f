"""Check a built site for the things a strict Sphinx build does not catch.

- every page loads its scripts and stylesheets from the site itself, not from a
  remote host, and each referenced local file exists (MathJax included), so the
  site works offline;
- a page loads MathJax through its one entry script, not through each of its
  components (which happens when MathJax sits in an html_static_path folder);
- the search index contains Chinese words (it does only when jieba was installed
  at build time and the language is zh_CN);
- the pages declare Chinese as their language.

Usage: python tools/check_site.py [HTML_DIR]   (default _build/html). Exits 1 on any problem.
"""

import argparse
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")


class AssetCollector(HTMLParser):
    """Collects the language, the redirect flag and the script and stylesheet URLs of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.language = None
        self.is_redirect = False
        self.assets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "meta" and (attributes.get("http-equiv") or "").lower() == "refresh":
            self.is_redirect = True
        elif tag == "html":
            self.language = attributes.get("lang")
        elif tag == "script" and attributes.get("src"):
            self.assets.append(attributes["src"])
        elif tag == "link" and attributes.get("rel") == "stylesheet" and attributes.get("href"):
            self.assets.append(attributes["href"])


def check_page(page: Path) -> tuple[list[str], bool]:
    """Return the problems found in one page and whether it loads MathJax."""
    collector = AssetCollector()
    collector.feed(page.read_text(encoding="utf-8"))

    problems = []
    if collector.language != "zh-CN" and not collector.is_redirect:
        problems.append(f"<html lang> is {collector.language!r}, expected 'zh-CN'")

    mathjax_scripts = []
    for url in collector.assets:
        parts = urlsplit(url)
        if "mathjax" in parts.path.lower():
            mathjax_scripts.append(parts.path)
        if parts.scheme or parts.netloc:
            problems.append(f"loads {url} from a remote host")
            continue
        target = (page.parent / parts.path).resolve()
        if not target.is_file():
            problems.append(f"references {url}, but {target} does not exist")

    if len(mathjax_scripts) > 1:
        problems.append(f"loads {len(mathjax_scripts)} MathJax scripts, expected only the entry script")
    return problems, bool(mathjax_scripts)


def read_search_terms(search_index: Path) -> list[str]:
    """Return the words of Sphinx's search index, a JSON object wrapped in Search.setIndex(...)."""
    text = search_index.read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    return list(index["terms"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html_dir", nargs="?", type=Path, default=Path("_build/html"))
    args = parser.parse_args()
    html_dir: Path = args.html_dir

    if not (html_dir / "index.html").is_file():
        print(f"error: {html_dir / 'index.html'} not found; build the site first", file=sys.stderr)
        return 1

    problems = []
    pages_with_math = 0
    for page in sorted(html_dir.rglob("*.html")):
        if "_static" in page.relative_to(html_dir).parts:
            continue
        page_problems, loads_mathjax = check_page(page)
        pages_with_math += loads_mathjax
        problems += [f"{page.relative_to(html_dir)}: {problem}" for problem in page_problems]

    search_index = html_dir / "searchindex.js"
    if not search_index.is_file():
        problems.append("searchindex.js not found")
    elif not any(CJK_WORD.fullmatch(term) for term in read_search_terms(search_index)):
        problems.append("searchindex.js has no Chinese search terms (is jieba installed, language zh_CN?)")

    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"site check passed: {html_dir}, {pages_with_math} pages load the local MathJax")
    return 0


if __name__ == "__main__":
    sys.exit(main())
