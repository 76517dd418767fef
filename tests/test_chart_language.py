"""The `simulate --plot` chart in the buyer's language: Chinese labels when matplotlib has a
font that draws Chinese, else English labels and one warning in Chinese."""

from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pytest
import yaml
from matplotlib import font_manager
from matplotlib import pyplot as plt
from typer.testing import CliRunner

from stockplan import charts
from stockplan.cli import app
from stockplan.history_replay import BUYERS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ENGLISH = {
    "title": "Service vs inventory on replayed history",
    "x": "simulated fill rate (%)",
    "y": "average inventory value (CNY)",
    "policy": "stockplan policy (fill_rate targets)",
    "baseline": "rule-of-thumb baseline (scaled)",
    "buyers": "your buyers (purchase history)",
    "expired": "written off {value}",
}
CHINESE = {
    "title": "历史回放：服务水平与库存",
    "x": "模拟满足率（%）",
    "y": "平均库存金额（CNY）",
    "policy": "stockplan 策略（满足率目标）",
    "baseline": "经验法则基准（按比例缩放）",
    "buyers": "采购员实际（采购历史）",
    "expired": "报废 {value}",
}


def _simulation() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "policy": [
                "stockplan",
                "stockplan",
                "baseline: reorder at 2 weeks, up to 4 weeks",
                "baseline: reorder at 3 weeks, up to 6 weeks",
                BUYERS,
            ],
            "target": [0.9, 0.95, None, None, None],
            "fill_rate": [0.91, 0.96, 0.88, 0.94, 0.9],
            "avg_inventory_value": [1200.0, 1500.0, 1600.0, 2100.0, 1900.0],
        }
    )


def _texts(figure) -> dict[str, object]:
    (axes,) = figure.axes
    return {
        "title": axes.get_title(),
        "x": axes.get_xlabel(),
        "y": axes.get_ylabel(),
        "legend": [text.get_text() for text in axes.get_legend().get_texts()],
    }


def _drawn(monkeypatch: pytest.MonkeyPatch, font: str | None, lang: str):
    """The PNG of the sample simulation and what the figure carried while it was drawn,
    with `font` standing in for the machine's Chinese font."""
    monkeypatch.setattr(charts, "chinese_font", lambda: font)
    real_figure = charts.tradeoff_figure
    seen: dict[str, object] = {}

    def figure(simulation, labels):
        made = real_figure(simulation, labels)
        seen.update(_texts(made), font=plt.rcParams["font.sans-serif"][0])
        return made

    monkeypatch.setattr(charts, "tradeoff_figure", figure)
    with warnings.catch_warnings():  # the stand-in font has no Chinese glyphs
        warnings.simplefilter("ignore", UserWarning)
        png = charts.tradeoff_png(_simulation(), "CNY", "fill_rate", lang)
    return png, seen


def test_the_chart_labels_in_each_language():
    assert charts.tradeoff_labels("en", "CNY", "fill_rate") == ENGLISH
    assert charts.tradeoff_labels("zh", "CNY", "fill_rate") == CHINESE
    cycle = charts.tradeoff_labels("zh", "EUR", "cycle")
    assert cycle["policy"] == "stockplan 策略（周期服务水平目标）"
    assert cycle["y"] == "平均库存金额（EUR）"


def test_with_a_chinese_font_the_chart_is_drawn_in_chinese_with_that_font(monkeypatch):
    png, seen = _drawn(monkeypatch, "DejaVu Serif", "zh")
    assert seen["font"] == "DejaVu Serif"
    assert (seen["title"], seen["x"], seen["y"]) == (CHINESE["title"], CHINESE["x"], CHINESE["y"])
    assert seen["legend"] == [CHINESE["policy"], CHINESE["baseline"], CHINESE["buyers"]]
    assert png.startswith(PNG_SIGNATURE) and len(png) > 10_000


def test_without_a_chinese_font_the_chart_stays_english(monkeypatch):
    png, seen = _drawn(monkeypatch, None, "zh")
    assert (seen["title"], seen["x"], seen["y"]) == (ENGLISH["title"], ENGLISH["x"], ENGLISH["y"])
    assert seen["legend"] == [ENGLISH["policy"], ENGLISH["baseline"], ENGLISH["buyers"]]
    assert png.startswith(PNG_SIGNATURE) and len(png) > 10_000
    english, seen = _drawn(monkeypatch, "DejaVu Serif", "en")  # English never looks for one
    assert seen["title"] == ENGLISH["title"] and seen["font"] != "DejaVu Serif"
    assert english.startswith(PNG_SIGNATURE)


def test_the_first_chinese_font_matplotlib_knows_is_chosen(monkeypatch):
    def fonts(*names: str) -> list[SimpleNamespace]:
        return [SimpleNamespace(name=name) for name in names]

    manager = font_manager.fontManager
    monkeypatch.setattr(manager, "ttflist", fonts("DejaVu Sans", "WenQuanYi Zen Hei", "SimHei"))
    assert charts.chinese_font() == "SimHei"  # SimHei comes first in the list of known fonts
    monkeypatch.setattr(manager, "ttflist", fonts("DejaVu Sans", "Noto Sans CJK JP"))
    assert charts.chinese_font() == "Noto Sans CJK JP"
    monkeypatch.setattr(manager, "ttflist", fonts("DejaVu Sans", "STIXGeneral"))
    assert charts.chinese_font() is None


@pytest.mark.parametrize("font", [None, "DejaVu Serif"], ids=["no-font", "font"])
def test_simulate_plot_in_chinese_warns_once_when_the_chart_stays_english(
    small_shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, font: str | None
):
    config = yaml.safe_load(small_shop.read_text())
    config["simulate"] = {"targets": [0.9, 0.95], "periods": 8}
    small_shop.write_text(yaml.safe_dump(config))
    monkeypatch.setattr(charts, "chinese_font", lambda: font)
    out, png = tmp_path / "simulation.csv", tmp_path / "tradeoff.png"
    args = ["simulate", "-c", str(small_shop), "-o", str(out), "--plot", str(png), "--lang", "zh"]
    with warnings.catch_warnings():  # the stand-in font has no Chinese glyphs
        warnings.simplefilter("ignore", UserWarning)
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if "中文字体" in line]
    if font is None:
        assert warned == [
            f"stockplan: 警告: {png}：图表的文字仍为英文，因为没有找到中文字体（可安装 Noto "
            "Sans CJK SC 或文泉驿正黑等中文字体）"
        ]
    else:
        assert warned == []
    assert png.read_bytes().startswith(PNG_SIGNATURE) and png.stat().st_size > 10_000
    assert f"已写入 {png}" in result.stderr


def test_points_that_wrote_stock_off_say_how_much_on_the_chart():
    # perishable items replayed: the policy at 95% and one rule-of-thumb scale wrote off
    # stock that expired unsold; the chart says so beside those points, and only there
    simulation = _simulation().with_columns(expired_value=pl.Series([0.0, 1234.4, 0.0, 56.0, 0.0]))
    figure = charts.tradeoff_figure(simulation, charts.tradeoff_labels("en", "CNY", "fill_rate"))
    (axes,) = figure.axes
    assert sorted(text.get_text() for text in axes.texts) == [
        "90%",
        "95%\nwritten off 1,234",
        "written off 56",
    ]
    plt.close(figure)
    figure = charts.tradeoff_figure(simulation, charts.tradeoff_labels("zh", "CNY", "fill_rate"))
    assert "95%\n报废 1,234" in [text.get_text() for text in figure.axes[0].texts]
    plt.close(figure)
