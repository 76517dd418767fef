"""PNG charts (matplotlib, headless). Built here as bytes; `io` writes them."""

from __future__ import annotations

import io

import polars as pl

from stockplan.history_replay import BUYERS


def tradeoff_png(simulation: pl.DataFrame, currency: str, measure: str) -> bytes:
    """Service vs inventory: fill rate (x) against average inventory value (y), one curve
    for the policy across its targets, one for the baseline across its scales, and a star
    for your buyers' own purchase history when it was replayed."""
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
        label=f"stockplan policy ({measure} targets)",
    )
    for row in policy.iter_rows(named=True):
        axes.annotate(
            f"{row['target']:.0%}",
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
            label="rule-of-thumb baseline (scaled)",
        )
    if buyers.height:
        axes.scatter(
            buyers["fill_rate"] * 100,
            buyers["avg_inventory_value"],
            marker="*",
            s=220,
            color="tab:red",
            zorder=3,
            label=BUYERS,
        )
    axes.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    axes.set_xlabel("simulated fill rate (%)")
    axes.set_ylabel(f"average inventory value ({currency})")
    axes.set_title("Service vs inventory on replayed history")
    axes.grid(alpha=0.3)
    axes.legend()
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()
