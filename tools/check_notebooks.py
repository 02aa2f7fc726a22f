"""Check that chapter notebooks are committed executed, with clean metadata.

nbval compares only cells that have stored outputs, so a notebook committed without
running would pass it silently. This check fails when a notebook has
- a code cell that was never executed (no execution count),
- a kernelspec other than ``python3`` (the book build would look for that kernel),
- an error output stored in any cell,
- a code cell whose last statement ends with ``;``: nbval runs cells without
  recording them in IPython's history, and IPython looks there for the semicolon,
  so under nbval the value is displayed anyway and the comparison fails.

Usage: python tools/check_notebooks.py [NOTEBOOK ...]
With no NOTEBOOK, every ``chapters/*.ipynb`` is checked. Exits 1 on any problem.
"""

import argparse
import io
import sys
import tokenize
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parent.parent


def ends_with_semicolon(source: str) -> bool:
    """Return whether the last token of SOURCE, ignoring comments and blank lines, is ';'."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return False
    skipped = {tokenize.ENDMARKER, tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT, tokenize.DEDENT}
    for token in reversed(tokens):
        if token.type not in skipped:
            return token.type == tokenize.OP and token.string == ";"
    return False


def find_problems(notebook: nbformat.NotebookNode) -> list[str]:
    """Return one message per problem found in NOTEBOOK; an empty list means it is clean."""
    problems = []

    kernel_name = notebook.metadata.get("kernelspec", {}).get("name")
    if kernel_name != "python3":
        problems.append(f"kernelspec name is {kernel_name!r}, expected 'python3'")

    code_number = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        code_number += 1
        if not cell.source.strip():
            continue

        first_line = cell.source.strip().splitlines()[0]
        where = f"code cell {code_number} ({first_line[:50]!r})"
        if cell.get("execution_count") is None:
            problems.append(f"{where} was not executed")
        if ends_with_semicolon(cell.source):
            problems.append(f"{where} ends with ';'; end it with plt.show() or assign the value to _ instead")
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                problems.append(f"{where} stores an error output: {output.get('ename')}: {output.get('evalue')}")

    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to check (default: chapters/*.ipynb)")
    args = parser.parse_args()

    notebooks = args.notebooks or sorted((REPO_ROOT / "chapters").glob("*.ipynb"))
    failed = 0
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        problems = find_problems(notebook)
        for problem in problems:
            print(f"{path}: {problem}", file=sys.stderr)
        if problems:
            failed += 1

    print(f"checked {len(notebooks)} notebooks, {failed} with problems")
    if failed:
        print("Fix the cells listed above, run `make execute` to store fresh outputs, and commit the notebooks.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
