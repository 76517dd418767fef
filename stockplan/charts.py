"""PNG charts (matplotlib, headless). Built here as bytes; `io` writes them."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import polars as pl

from stockplan.history_replay import BUYERS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# font families that draw Chinese (Windows, macOS, Linux), first found is used; matplotlib
# names a Noto CJK collection after its first face (JP), which draws Chinese as well
CHINESE_FONTS = (
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Heiti SC",
    "STHeiti",
    "Arial Unicode MS",
    "Noto Sans CJK JP",
)


def chinese_font() -> str | None:
    """The first of `CHINESE_FONTS` matplotlib can find on this machine, else None."""
    from matplotlib import font_manager

    found = {font.name for font in font_manager.fontManager.ttflist}
    return next((family for family in CHINESE_FONTS if family in found), None)


def tradeoff_labels(lang: str, currency: str, measure: str) -> dict[str, str]:
    """Title, axis labels and legend of the trade-off chart in `lang`."""
    from stockplan.i18n import message, value

    measure_word = measure if lang == "en" else message(f"measure.{measure}", lang)
    return {
        "title": message("chart.tradeoff_title", lang),
        "x": message("chart.tradeoff_x", lang),
        "y": message("chart.tradeoff_y", lang, currency=currency),
        "policy": message("chart.tradeoff_policy", lang, measure=measure_word),
        "baseline": message("chart.tradeoff_baseline", lang),
        "buyers": value("policy", BUYERS, lang) or BUYERS,
        "expired": message("chart.tradeoff_expired", lang, value="{value}"),
    }


def tradeoff_png(simulation: pl.DataFrame, currency: str, measure: str, lang: str = "en") -> bytes:
    """The trade-off chart (`tradeoff_figure`) as PNG bytes, labelled in `lang` when a font
    can draw it (`chinese_font`), else in English."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    font = chinese_font() if lang != "en" else None
    labels = tradeoff_labels(lang if font else "en", currency, measure)
    fonts = {}
    if font:  # its own minus sign: many Chinese fonts have no U+2212
        fonts = {
            "font.family": "sans-serif",
            "font.sans-serif": [font, *plt.rcParams["font.sans-serif"]],
            "axes.unicode_minus": False,
        }
    buffer = io.BytesIO()
    with plt.rc_context(fonts):
        figure = tradeoff_figure(simulation, labels)
        figure.tight_layout()
        figure.savefig(buffer, format="png")
        plt.close(figure)
    return buffer.getvalue()


def tradeoff_figure(simulation: pl.DataFrame, labels: dict[str, str]) -> Figure:
    """Service vs inventory: fill rate (x) against average inventory value (y), one curve
    for the policy across its targets, one for the baseline across its scales, and a star
    for your buyers' own purchase history when it was replayed; `labels` from
    `tradeoff_labels`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.ticker
    from matplotlib import pyplot as plt

    policy = simulation.filter(pl.col("policy") == "stockplan").sort("fill_rate")
    buyers = simulation.filter(pl.col("policy") == BUYERS)
    baseline = simulation.filter(~pl.col("policy").is_in(["stockplan", BUYERS])).sort("fill_rate")
    figure, axes = plt.subplots(figsize=(8, 5), dpi=120)
    axes.plot(
        policy["fill_rate"] * 100,
        policy["avg_inventory_value"],
        marker="o",
        label=labels["policy"],
    )
    for row in policy.iter_rows(named=True):
        axes.annotate(
            f"{row['target']:.0%}{_written_off(row, labels)}",
            (row["fill_rate"] * 100, row["avg_inventory_value"]),
            textcoords="offset points",
            xytext=(4, -12),
            fontsize=8,
        )
    if baseline.height:
        axes.plot(
            baseline["fill_rate"] * 100,
            baseline["avg_inventory_value"],
            marker="s",
            linestyle="--",
            label=labels["baseline"],
        )
        for row in baseline.iter_rows(named=True):
            if written := _written_off(row, labels):
                axes.annotate(
                    written.strip(),
                    (row["fill_rate"] * 100, row["avg_inventory_value"]),
                    textcoords="offset points",
                    xytext=(4, 6),
                    fontsize=8,
                )
    if buyers.height:
        axes.scatter(
            buyers["fill_rate"] * 100,
            buyers["avg_inventory_value"],
            marker="*",
            s=220,
            color="tab:red",
            zorder=3,
            label=labels["buyers"],
        )
    axes.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    axes.set_xlabel(labels["x"])
    axes.set_ylabel(labels["y"])
    axes.set_title(labels["title"])
    axes.grid(alpha=0.3)
    axes.legend()
    return figure


def _written_off(row: dict, labels: dict[str, str]) -> str:
    """ ", written off 1,234" for a replayed point that wrote stock off unsold (items with a
    shelf life, `expired_value` at cost), else ""."""
    expired = row.get("expired_value") or 0.0
    if expired <= 0:
        return ""
    return "\n" + labels["expired"].format(value=f"{expired:,.0f}")
