import io
import subprocess
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from edunn import plotting  # noqa: E402

CHINESE_TEXT = "梯度下降：学习率与损失"


def draw_chinese_figure():
    fig, ax = plt.subplots()
    ax.plot([-2, -1, 0, 1], [3.5, -0.5, 1.0, -2.0], label="损失")
    ax.set_title(CHINESE_TEXT)
    ax.set_xlabel("步数")
    ax.set_ylabel("学习率（对数刻度）")
    ax.legend()
    return fig


def save_png_with_glyph_warnings_as_errors(fig):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def restore_rc_params():
    with matplotlib.rc_context():
        yield


def test_book_style_renders_chinese():
    plotting.use_book_style()
    png = save_png_with_glyph_warnings_as_errors(draw_chinese_figure())
    assert png.startswith(b"\x89PNG")


def test_default_style_warns_on_chinese():
    # Shows that the check above can fail: without the CJK font the same figure warns.
    matplotlib.rcdefaults()
    with pytest.raises(UserWarning, match="missing from font"):
        save_png_with_glyph_warnings_as_errors(draw_chinese_figure())
    plt.close("all")


def test_cjk_font_follows_sans_serif():
    family = plotting.use_book_style()
    assert family in [name for name, _ in plotting.CJK_FONTS]
    assert matplotlib.rcParams["font.family"] == ["sans-serif", family]
    assert matplotlib.rcParams["axes.unicode_minus"] is False


def test_cjk_font_resolves_to_file():
    family = plotting.use_book_style()
    _, path = plotting.find_cjk_font()
    resolved = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    assert resolved == str(path)


def test_use_book_style_is_repeatable():
    first = plotting.use_book_style()
    second = plotting.use_book_style()
    assert first == second
    assert matplotlib.rcParams["font.family"] == ["sans-serif", first]


def test_new_figure_sets_labels():
    fig, ax = plotting.new_figure("学习率曲线", xlabel="步数", ylabel="学习率")
    assert ax.get_title() == "学习率曲线"
    assert ax.get_xlabel() == "步数"
    assert ax.get_ylabel() == "学习率"
    save_png_with_glyph_warnings_as_errors(fig)


def test_missing_font_error_names_fonts(monkeypatch):
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *args, **kwargs: [])
    plotting.find_cjk_font.cache_clear()
    try:
        with pytest.raises(RuntimeError) as error:
            plotting.find_cjk_font()
    finally:
        plotting.find_cjk_font.cache_clear()

    message = str(error.value)
    for family, filename in plotting.CJK_FONTS:
        assert family in message
        assert filename in message
    assert "apt-get install" in message


def test_plotting_does_not_import_torch():
    code = "import sys, edunn.plotting; sys.exit('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr or "importing edunn.plotting imported torch"
