"""本书的 matplotlib 风格：中文字体与简洁的坐标轴。

matplotlib 自带的 DejaVu Sans 没有汉字字形，中文标题和坐标轴标签会变成方框，
并且只给出一条 "Glyph ... missing from font(s)" 警告。``use_book_style()`` 找到系统里
已安装的中文字体文件，直接注册给 matplotlib（不依赖可能过期的字体缓存），再把它排在
默认无衬线字体之后作为后备：西文和数字仍用 DejaVu Sans，汉字由中文字体显示。

用法::

    from edunn.plotting import new_figure
    fig, ax = new_figure("学习率曲线", xlabel="步数", ylabel="学习率")
    ax.plot(steps, lrs)

本模块只依赖 matplotlib，不导入 torch。
"""

import functools
from pathlib import Path

import matplotlib
from matplotlib import font_manager

# 按优先顺序列出 (字体族名, 字体文件名)。文件名是 Debian/Ubuntu 软件包
# fonts-noto-cjk、fonts-wqy-microhei、fonts-wqy-zenhei 安装的文件。
CJK_FONTS = (
    ("Noto Sans CJK SC", "NotoSansCJK-Regular.ttc"),
    ("WenQuanYi Micro Hei", "wqy-microhei.ttc"),
    ("WenQuanYi Zen Hei", "wqy-zenhei.ttc"),
)

BOOK_STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": "large",
    "axes.labelsize": "medium",
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    # 负号画成 ASCII 连字符：每种字体都有这个字形，写法也与 print 打印的数字一致。
    "axes.unicode_minus": False,
}


@functools.cache
def find_cjk_font() -> tuple[str, Path]:
    """Return the family name and file of the first installed font in ``CJK_FONTS``.

    Raises:
        RuntimeError: if none of the fonts is installed.
    """
    installed = {Path(path).name: Path(path) for path in font_manager.findSystemFonts()}
    for family, filename in CJK_FONTS:
        if filename in installed:
            return family, installed[filename]

    looked_for = ", ".join(f"{family} ({filename})" for family, filename in CJK_FONTS)
    raise RuntimeError(
        f"No CJK font found for matplotlib; looked for {looked_for}. "
        "Install one, for example `sudo apt-get install fonts-wqy-microhei` on Debian or Ubuntu "
        "(`make book` and `make test` do this when run as root or with sudo)."
    )


@functools.cache
def _register_cjk_font() -> str:
    family, path = find_cjk_font()
    font_manager.fontManager.addfont(path)
    return family


def use_book_style() -> str:
    """Apply the book's matplotlib style with a CJK fallback font and return that font's family.

    Safe to call more than once; the font file is registered only on the first call.
    """
    family = _register_cjk_font()
    matplotlib.rcParams.update(BOOK_STYLE)
    # 字体族列表里第一个没有的字形，matplotlib 会到后面的字体里找。只把中文字体写进
    # font.sans-serif 不会触发这种后备，所以直接写进 font.family。
    matplotlib.rcParams["font.family"] = ["sans-serif", family]
    return family


def new_figure(title=None, *, xlabel=None, ylabel=None, figsize=None):
    """Create a figure with one set of axes in the book's style and return ``(fig, ax)``."""
    use_book_style()
    import matplotlib.pyplot as plt  # pyplot picks a backend on import, so import it only when drawing

    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    if title is not None:
        ax.set_title(title)
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    return fig, ax
