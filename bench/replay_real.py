"""Replay the policy on real item-level demand, per demand pattern, against the rule of thumb.

    python bench/replay_real.py -c dev.yaml                       # cycle and fill-rate targets
    python bench/replay_real.py -c dev.yaml --as-of 2010-08-30    # a second, earlier period

For each service measure (cycle service, fill rate) the last `simulate.periods` buckets
before as_of are replayed exactly as `stockplan simulate` does (rolling-origin refits,
lead times drawn, lost sales) at targets 0.90 / 0.95 / 0.98, and the rule-of-thumb curve
("reorder at a weeks, up to 2a") at every scale. Per demand pattern (at the replay start) it
prints target vs achieved service, average inventory value and order lines, and the
rule's curve at the policy's fill rate (linear between its points) against the policy's
stock: `policy_vs_rule` below 1 means the policy serves the same share of demand with less.
Per target it also prints what was promised (`promised`, units-weighted for fill rate),
the service achieved on the series promised their target (`achieved_reachable`) and, for
the series whose target was not reachable at sane stock, their count, share of demand,
promise and achievement; then those items per pattern and the `--list` largest; then
the achieved service of the series that had `--selection-days` selling days before the
replay start (a data set that keeps only items selling that many days in its year kept
these whatever they sold later) against the rest, with each group's demand per day
during the replay over before it; the series grouped by that ratio; and per refit and
pattern the service the backtest's calibration curve reached at its top quantile level,
the ceiling above which every target gets the same level.

`promise_calibration`: per pattern and target, promised against achieved service with the
gap's standard error over the series, on all series and on those whose demand per day
during the replay stayed within twice what it was before the start (what a forecast made
at the start could see) and the rest; then the same by each series' promise less its
target (does an item promised less get less?); and per pattern and target the series
served more than 5 and 10 points below the target (`served_below_target`).

`achieved_se`, last column of the targets table: the standard error of the achieved
service over the pattern's series (series resampled with replacement), so a miss can be
read against the noise of how many series the pattern has.

Forecast accuracy and band coverage: the forecast stage is fitted on the history before
`--holdout` buckets ahead of as_of and scored on them: MASE (scaled by the in-sample
one-step naive error) per pattern and the share of actual buckets outside the
`forecast.interval_level` band (nominal 1 - level).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stockplan.config import load_config  # noqa: E402
from stockplan.demand import SERIES, bucket_start, demand_history  # noqa: E402
from stockplan.forecast import forecast_demand  # noqa: E402
from stockplan.segmentation import classify_demand  # noqa: E402

TARGETS = [0.9, 0.95, 0.98]
PATTERNS = ["smooth", "erratic", "intermittent", "lumpy"]


def _with(config, section: str, **values):
    return config.model_copy(update={section: getattr(config, section).model_copy(update=values)})


def replay(tables, config, measure: str):
    """(by pattern, unreachable items, every series, the prepared replay) of the replay,
    every series with `selling_days_before`: the series' days with a sale before the
    replay start."""
    from stockplan.replay import BASELINE_HISTORY_DAYS, prepare_replay, replay_policies

    config = _with(config, "policy", service_measure=measure)
    config = _with(config, "simulate", targets=TARGETS)
    prepared = prepare_replay(tables, config)
    out = replay_policies(prepared, config, per_series=True)
    before = (
        tables["sales"]
        .filter((pl.col("date") < prepared.start) & (pl.col("quantity") > 0))
        .group_by(SERIES)
        .agg(
            pl.col("date").n_unique().alias("selling_days_before"),
            pl.col("quantity").sum().alias("units_before"),
            (pl.lit(prepared.start) - pl.col("date").min()).dt.total_days().alias("days_before"),
        )
    )
    days = prepared.demand.shape[1] - BASELINE_HISTORY_DAYS
    warmup = prepared.warmup_days if prepared.warmup_days is not None else 0
    counted = prepared.series.select(SERIES).with_columns(
        pl.Series("days_counted", np.maximum(days - np.asarray(warmup) * 1.0, 0.0) + 0.0)
    )
    series = (
        out["simulation_series"]
        .join(before, on=SERIES, how="left")
        .join(counted, on=SERIES, how="left")
        .with_columns(pl.col("selling_days_before", "units_before", "days_before").fill_null(0))
    )
    return out["simulation_by_pattern"], out["simulation_unreachable"], series, prepared


def calibration_ceiling(prepared, measure: str) -> pl.DataFrame:
    """Per refit and pattern: the lead-time-demand method kept and the service its
    backtest curve reached at quantile levels 0.90, 0.99 and the grid's top (0.999). A
    target above the top is set at the top level and promises what the curve reached
    there, whatever the target: one level for every such target. With the steps beyond
    the top scored (`policy.extend_levels`), also at S_0.999 + B and S_0.999 + 3 B
    (`at_c1`, `at_c3`), where such a target is set instead."""
    from stockplan.lead_time_demand import CALIBRATION_GRID, CALIBRATION_KNOB

    which = 0 if measure == "cycle" else 1
    rows, seen = [], set()
    for review, ltd in enumerate(prepared.lead_time_demand or []):
        if ltd is None or id(ltd) in seen:
            continue
        seen.add(id(ltd))
        for pattern, curves in ltd.calibration.items():
            curve = np.maximum.accumulate(np.asarray(curves[which], dtype=float))
            rows.append(
                {
                    "refit_at_review": review,
                    "pattern": pattern,
                    "method": ltd.methods.get(pattern, "parametric"),
                    **{
                        f"at_{level:g}": round(
                            float(np.interp(level, CALIBRATION_KNOB[: curve.size], curve)), 3
                        )
                        for level in (0.9, 0.99, float(CALIBRATION_GRID[-1]))
                    },
                    **{
                        f"at_c{c:g}": round(
                            float(np.interp(CALIBRATION_GRID[-1] + c, CALIBRATION_KNOB, curve)), 3
                        )
                        for c in (1, 3)
                        if curve.size == CALIBRATION_KNOB.size
                    },
                }
            )
    return pl.DataFrame(rows)


def ramp_split(series: pl.DataFrame, measure: str, selection_days: int) -> pl.DataFrame:
    """Per pattern and target, the series grouped by their demand per day during the
    replay over before it (the level a forecast made at the start could not see): count,
    how many met the data set's selection rule before the start, achieved service, and
    each group's share of the pattern's demand and unmet units."""
    achieved = (
        (1 - pl.col("unmet_units").sum() / pl.col("demand_units").sum())
        if measure == "fill_rate"
        else pl.col("cycle_service_level").mean()
    )
    ratio = (pl.col("demand_units") / pl.col("days_counted").clip(1)) / (
        pl.col("units_before") / pl.col("days_before").clip(1)
    )
    group = (
        pl.when(ratio <= 0.8)
        .then(pl.lit("a: <= 0.8"))
        .when(ratio <= 1.25)
        .then(pl.lit("b: 0.8-1.25"))
        .when(ratio <= 2.0)
        .then(pl.lit("c: 1.25-2"))
        .otherwise(pl.lit("d: > 2"))
    )
    whole = ["demand_pattern", "target"]
    return (
        series.filter(pl.col("demand_pattern").is_in(PATTERNS))
        .with_columns(group.alias("during_vs_before"))
        .group_by(*whole, "during_vs_before")
        .agg(
            pl.len().alias("series"),
            (pl.col("selling_days_before") >= selection_days).sum().alias("met_rule_before"),
            achieved.round(3).alias("achieved"),
            pl.col("demand_units").sum().alias("demand"),
            pl.col("unmet_units").sum().alias("unmet"),
        )
        .with_columns(
            (pl.col("demand") / pl.col("demand").sum().over(whole)).round(3).alias("demand_share"),
            (pl.col("unmet") / pl.col("unmet").sum().over(whole)).round(3).alias("unmet_share"),
        )
        .drop("demand", "unmet")
        .sort(*whole, "during_vs_before")
    )


def cells_within(table: pl.DataFrame, points: float = 2.0) -> int:
    """How many (pattern, target) rows of `table` (target, achieved) achieved their target
    within `points` points."""
    return table.filter((pl.col("achieved") - pl.col("target")).abs() <= points / 100 + 1e-9).height


def cells_line(summary: pl.DataFrame, split: pl.DataFrame) -> str:
    """The cells within 2 points on every series (`summarise`) and on the series the data
    set kept whatever they sold later (`selection_split`'s `before start`)."""
    before = split.filter(pl.col("selected_by_sales") == "before start")
    return (
        f"cells within 2 points of the target: {cells_within(summary)} of {summary.height} on "
        f"every series, {cells_within(before)} of {before.height} on the series selected "
        "before the start"
    )


def selection_split(series: pl.DataFrame, selection_days: int, measure: str) -> pl.DataFrame:
    """Achieved service per pattern and target on the series that had `selection_days`
    selling days before the replay start (a data set that keeps only items with that many
    selling days in its year would have kept them whatever they sold later) and on the
    rest (kept because of sales in the replay), with each group's demand per day before
    and during the replay."""
    kept = pl.col("selling_days_before") >= selection_days
    achieved = (
        (1 - pl.col("unmet_units").sum() / pl.col("demand_units").sum())
        if measure == "fill_rate"
        else pl.col("cycle_service_level").mean()
    )
    return (
        series.filter(pl.col("demand_pattern").is_in(PATTERNS))
        .with_columns(pl.when(kept).then(pl.lit("before start")).otherwise(pl.lit("later")))
        .rename({"literal": "selected_by_sales"})
        .group_by("demand_pattern", "target", "selected_by_sales")
        .agg(
            pl.len().alias("series"),
            achieved.round(3).alias("achieved"),
            pl.col("demand_units").sum().round(0).alias("demand_units"),
            (pl.col("units_before") / pl.col("days_before").clip(1)).sum().alias("rate_before"),
            (pl.col("demand_units") / pl.col("days_counted").clip(1)).sum().alias("rate_during"),
        )
        .with_columns(
            (pl.col("rate_during") / pl.col("rate_before")).round(2).alias("during_vs_before")
        )
        .drop("rate_before", "rate_during")
        .sort("demand_pattern", "target", "selected_by_sales")
    )


def _round(value: float | None, target: float | None = None) -> float | None:
    """3 decimals, or the miss against `target` in points; None stays None."""
    if value is None:
        return None
    return round(100 * (value - target), 1) if target is not None else round(value, 3)


def rule_best_fill(part: pl.DataFrame) -> float:
    """The highest fill rate any point of the rule of thumb's curve reached."""
    return float(part.filter(pl.col("policy").str.starts_with("baseline:"))["fill_rate"].max())


def rule_table(by_pattern: pl.DataFrame) -> pl.DataFrame:
    """The rule of thumb's curve per pattern: fill rate, stock and order lines at each scale."""
    return (
        by_pattern.filter(pl.col("policy").str.starts_with("baseline:"))
        .select(
            "demand_pattern",
            pl.col("policy").str.replace("baseline: ", ""),
            pl.col("fill_rate").round(3),
            pl.col("avg_inventory_value").round(0),
            "orders_placed",
        )
        .pivot(
            on="demand_pattern",
            index="policy",
            values=["fill_rate", "avg_inventory_value", "orders_placed"],
        )
    )


def summarise(by_pattern: pl.DataFrame, measure: str) -> pl.DataFrame:
    column = "cycle_service_level" if measure == "cycle" else "fill_rate"
    rows = []
    for pattern in PATTERNS:
        part = by_pattern.filter(pl.col("demand_pattern") == pattern)
        if part.height == 0:
            continue
        for row in part.filter(pl.col("policy") == "stockplan").iter_rows(named=True):
            best = row["rule_inventory_at_same_fill"]
            # "<=": the policy serves more than the rule's best point, compared with it
            above = best is not None and row["rule_fill_rate_compared"] < row["fill_rate"]
            rows.append(
                {
                    "pattern": pattern,
                    "target": row["target"],
                    "achieved": round(row[column], 3),
                    "miss_points": round(100 * (row[column] - row["target"]), 1),
                    "promised": _round(row["promised_service"]),
                    "reachable": row["reachable_series"],
                    "achieved_reachable": _round(row["reachable_service"]),
                    "miss_reachable": _round(row["reachable_service"], row["target"]),
                    "unreachable": row["unreachable_series"],
                    "unreachable_units": _round(row["unreachable_demand_share"]),
                    "promised_unreachable": _round(row["unreachable_promised"]),
                    "achieved_unreachable": _round(row["unreachable_service"]),
                    "fill_rate": round(row["fill_rate"], 3),
                    "inventory": round(row["avg_inventory_value"]),
                    "order_lines": row["orders_placed"],
                    "rule_inventory_at_same_fill": round(best) if best else None,
                    "policy_vs_rule": round(row["inventory_vs_rule"], 2) if best else None,
                    "vs_rule_basis": (
                        None if best is None else "<= (above rule)" if above else "same fill"
                    ),
                    "rule_best_fill": round(rule_best_fill(part), 3),
                }
            )
    return pl.DataFrame(rows)


def achieved_standard_error(
    series: pl.DataFrame, measure: str, draws: int = 2000, seed: int = 0
) -> pl.DataFrame:
    """Per pattern and target, the standard error of the achieved service from resampling
    the pattern's series with replacement (Efron & Tibshirani 1993, ch. 6). Achieved
    service is a ratio over series, sum(served) / sum(demand) for fill rate and
    sum(cycles without shortage) / sum(cycles) for cycle service, so the error says how far
    it could move with another draw of as many series of that pattern: a miss of a few
    points on 30 series can be noise, on 800 it is not."""
    rng = np.random.default_rng(seed)
    if measure == "fill_rate":
        numerator = pl.col("demand_units") - pl.col("unmet_units")
        denominator = pl.col("demand_units")
    else:
        numerator = pl.col("cycle_service_level") * pl.col("cycles")
        denominator = pl.col("cycles")
    rows = []
    order = [c for c in ("demand_pattern", "target", "sku", "location") if c in series.columns]
    ordered = series.sort(order)  # the same draws on every run
    for (pattern, target), part in ordered.group_by(
        "demand_pattern", "target", maintain_order=True
    ):
        part = part.select(numerator.alias("num"), denominator.alias("den"))
        num, den = part["num"].to_numpy(), part["den"].to_numpy()
        picks = rng.integers(0, len(num), size=(draws, len(num)))
        totals = den[picks].sum(axis=1)
        ratio = num[picks].sum(axis=1) / np.where(totals > 0, totals, np.nan)
        rows.append({"pattern": pattern, "target": target, "achieved_se": np.nanstd(ratio)})
    return pl.DataFrame(
        rows, schema={"pattern": pl.String, "target": pl.Float64, "achieved_se": pl.Float64}
    )


def served_below_target(series: pl.DataFrame, measure: str) -> pl.DataFrame:
    """Per pattern and target, how the service is spread over the items: the series
    served more than 5 and more than 10 points below the target over the replay (their
    count, and their share of the pattern's demand for fill rate or of its cycles for
    cycle service). A pattern can meet its target with some items far below it; this is
    what a buyer reading the plan item by item meets."""
    if measure == "fill_rate":
        weight = pl.col("demand_units")
        achieved = 1 - pl.col("unmet_units") / pl.col("demand_units")
    else:
        weight, achieved = pl.col("cycles"), pl.col("cycle_service_level")
    short = pl.col("target") - achieved
    served = series.filter(pl.col("demand_pattern").is_in(PATTERNS) & (weight > 0))
    return (
        served.group_by(pl.col("demand_pattern").alias("pattern"), "target")
        .agg(
            pl.len().alias("series"),
            (short > 0.05).sum().alias("series_below_5"),
            (weight.filter(short > 0.05).sum() / weight.sum()).alias("share_below_5"),
            (short > 0.10).sum().alias("series_below_10"),
            (weight.filter(short > 0.10).sum() / weight.sum()).alias("share_below_10"),
        )
        .with_columns(pl.col("share_below_5", "share_below_10").round(3))
        .sort("pattern", "target")
    )


# `promise_calibration(split="promise")`: each series' promise less its target, in points
PROMISE_BINS = [-10.0, -5.0, -2.0, 2.0]
PROMISE_LABELS = ["< -10", "-10 to -5", "-5 to -2", "-2 to +2", "> +2"]


def promise_calibration(
    series: pl.DataFrame,
    measure: str,
    ramp_limit: float = 2.0,
    draws: int = 1000,
    seed: int = 0,
    split: str = "ramp",
) -> pl.DataFrame:
    """Per pattern and target, promised against achieved service on all series and split by
    the series' demand per day during the replay over before it (at most `ramp_limit`, the
    level a forecast made at the start could see, or above it), or with `split="promise"`
    by the series' promise less its target in points (`PROMISE_LABELS`: does an item
    promised less than the others get less?): the series' promises (`promised_service`)
    and service weighted by their demand (fill rate) or cycles (cycle service),
    `gap_points` = 100 (achieved - promised) and its standard error over the group's
    series (resampled with replacement, as `achieved_standard_error`)."""
    rng = np.random.default_rng(seed)
    if measure == "fill_rate":
        weight, served = pl.col("demand_units"), pl.col("demand_units") - pl.col("unmet_units")
    else:
        weight, served = pl.col("cycles"), pl.col("cycle_service_level") * pl.col("cycles")
    if split == "promise":
        # rounded: a promise held at the allocation's floor (the target less 5 points) sits
        # on a bucket's edge, and 100 (0.85 - 0.90) is -5.000000000000004 in floating
        # point, which sorted it into the bucket below the one its label names
        points = (100 * (pl.col("promised_service") - pl.col("target"))).round(6)
        label = pl.when(points < PROMISE_BINS[0]).then(pl.lit(PROMISE_LABELS[0]))
        for edge, name in zip(PROMISE_BINS[1:], PROMISE_LABELS[1:-1], strict=True):
            label = label.when(points < edge).then(pl.lit(name))
        label = label.otherwise(pl.lit(PROMISE_LABELS[-1]))
        groups = [*PROMISE_LABELS, "all"]
    else:
        ratio = (pl.col("demand_units") / pl.col("days_counted").clip(1)) / (
            pl.col("units_before") / pl.col("days_before").clip(1)
        )
        ramp = pl.when(ratio <= ramp_limit).then(pl.lit(f"<= {ramp_limit:g}"))
        label = ramp.otherwise(pl.lit(f"> {ramp_limit:g}"))
        groups = [f"<= {ramp_limit:g}", f"> {ramp_limit:g}", "all"]
    order = [c for c in ("demand_pattern", "target", "sku", "location") if c in series.columns]
    # sorted: the same draws on every run
    ordered = series.filter(pl.col("demand_pattern").is_in(PATTERNS)).sort(order)
    frame = ordered.select(
        "demand_pattern",
        "target",
        label.alias("during_vs_before"),
        weight.alias("w"),
        (pl.col("promised_service") * weight).alias("p"),
        served.alias("s"),
    )
    rows = []
    for group in groups:
        part = frame if group == "all" else frame.filter(pl.col("during_vs_before") == group)
        for (pattern, target), g in part.group_by("demand_pattern", "target", maintain_order=True):
            w, p, s = (g[c].to_numpy().astype(float) for c in ("w", "p", "s"))
            if w.sum() <= 0:
                continue
            picks = rng.integers(0, len(w), size=(draws, len(w)))
            totals = w[picks].sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                gaps = (s[picks].sum(axis=1) - p[picks].sum(axis=1)) / totals
            rows.append(
                {
                    "pattern": pattern,
                    "target": target,
                    "during_vs_before": group,
                    "series": len(w),
                    "weight_share": w.sum(),
                    "promised": p.sum() / w.sum(),
                    "achieved": s.sum() / w.sum(),
                    "gap_points": 100 * (s.sum() - p.sum()) / w.sum(),
                    "gap_se_points": 100 * float(np.nanstd(gaps)),
                }
            )
    out = pl.DataFrame(rows)
    whole = pl.col("weight_share").filter(pl.col("during_vs_before") == "all").first()
    out = (
        out.with_columns(pl.col("weight_share") / whole.over("pattern", "target"))
        .with_columns(pl.col(pl.Float64).exclude("target").round(3))
        .with_columns(pl.col("gap_points", "gap_se_points").round(1))
        .sort("pattern", "target", pl.col("during_vs_before").cast(pl.Enum(groups)))
    )
    return out if split == "ramp" else out.rename({"during_vs_before": "promise_vs_target"})


def unreachable_summary(unreachable: pl.DataFrame) -> pl.DataFrame:
    """Per pattern and target: the items whose target was not reachable, their demand,
    the share of it on their largest day, what they promised and what they achieved."""
    return (
        unreachable.group_by("demand_pattern", "target")
        .agg(
            pl.len().alias("items"),
            pl.col("demand_units").sum().round(0).alias("demand_units"),
            (pl.col("largest_day_units").sum() / pl.col("demand_units").sum())
            .round(3)
            .alias("largest_day_share"),
            (
                (pl.col("promised_service") * pl.col("demand_units")).sum()
                / pl.col("demand_units").sum()
            )
            .round(3)
            .alias("promised_units_weighted"),
            (1 - pl.col("unmet_units").sum() / pl.col("demand_units").sum())
            .round(3)
            .alias("fill_rate"),
            pl.col("cycle_service_level").mean().round(3).alias("cycle_service_mean"),
        )
        .sort("demand_pattern", "target")
    )


def forecast_quality(tables, config, holdout: int) -> pl.DataFrame:
    from stockplan.forecast import backtest_periods
    from stockplan.pipeline import excluded_days, item_attributes, unit_values

    sales = tables["sales"]
    as_of = config.planning.as_of or sales["date"].max() + dt.timedelta(days=1)
    bucket = config.planning.bucket
    end = pl.select(bucket_start(pl.lit(as_of), bucket)).item()
    origin = end - dt.timedelta(days=7 * holdout)
    excluded, _ = excluded_days(tables, config, as_of)
    history = demand_history(sales, origin, bucket, excluded)
    unit_value = unit_values(item_attributes(tables.get("products"), tables["stock"], sales))
    classes = classify_demand(history, origin, bucket, config.classify, unit_value)
    forecast, _ = forecast_demand(history, classes, bucket, config.forecast, holdout)
    actual = demand_history(sales, end, bucket, None).filter(pl.col("period_start") >= origin)
    scale = (
        history.sort([*SERIES, "period_start"])
        .group_by(SERIES)
        .agg(pl.col("demand").diff().abs().mean().alias("naive_mae"))
    )
    scored = (
        forecast.join(actual, on=[*SERIES, "period_start"])
        .join(scale, on=SERIES)
        .join(classes.select(*SERIES, "demand_pattern"), on=SERIES)
        .filter(pl.col("naive_mae") > 0)
        .with_columns(pl.col("period_start").rank("dense").alias("step"))
    )
    # the band's misses within the backtest's horizon and beyond it (where the band's
    # growth is extrapolated), and actual / forecast: a level shift the history could not
    # show moves the misses whatever the band
    within = pl.col("step") <= backtest_periods(config.forecast, bucket)
    outside = (pl.col("demand") < pl.col("lo")) | (pl.col("demand") > pl.col("hi"))
    per_series = scored.group_by(*SERIES, "demand_pattern").agg(
        ((pl.col("forecast") - pl.col("demand")).abs().mean() / pl.col("naive_mae").first()).alias(
            "mase"
        ),
        outside.mean().alias("outside"),
        outside.filter(within).mean().alias("outside_within"),
        outside.filter(~within).mean().alias("outside_beyond"),
        (pl.col("demand") > pl.col("hi")).mean().alias("above"),
        (pl.col("demand") < pl.col("lo")).mean().alias("below"),
        pl.col("demand").sum().alias("actual"),
        pl.col("forecast").sum().alias("forecast"),
    )
    return (
        per_series.group_by("demand_pattern")
        .agg(
            pl.len().alias("series"),
            pl.col("mase").mean().round(3),
            pl.col("outside").mean().round(3).alias("outside_band"),
            pl.col("outside_within").mean().round(3).alias("outside_backtest_horizon"),
            pl.col("outside_beyond").mean().round(3).alias("outside_beyond_it"),
            pl.col("above").mean().round(3).alias("above_hi"),
            pl.col("below").mean().round(3).alias("below_lo"),
            (pl.col("actual").sum() / pl.col("forecast").sum())
            .round(2)
            .alias("actual_vs_forecast"),
        )
        .sort("demand_pattern")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", type=Path, required=True)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--holdout", type=int, default=13, help="Forecast holdout, buckets.")
    parser.add_argument("--measures", default="cycle,fill_rate")
    parser.add_argument("--list", type=int, default=10, help="Unreachable items listed.")
    parser.add_argument(
        "--selection-days",
        type=int,
        default=20,
        help="Selling days a year the data set requires of an item (retail-2009: 20).",
    )
    args = parser.parse_args()

    from stockplan.io.prepare import prepare_inputs
    from stockplan.io.readers import load_inputs

    config = load_config(args.config)
    if args.as_of:
        config = _with(config, "planning", as_of=args.as_of)
    tables = prepare_inputs(load_inputs(config), config).tables
    print(
        f"# {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, as_of "
        f"{config.planning.as_of or 'day after last sale'}, large_orders "
        f"{config.policy.large_orders}, lead_time_demand {config.policy.lead_time_demand}"
    )
    with pl.Config(tbl_rows=60, tbl_cols=21, tbl_width_chars=340, tbl_formatting="MARKDOWN"):
        for measure in args.measures.split(","):
            started = time.perf_counter()
            by_pattern, unreachable, series, prepared = replay(tables, config, measure)
            summary = summarise(by_pattern, measure)
            if summary.is_empty():
                raise SystemExit(
                    f"replay_real: no smooth, erratic, intermittent or lumpy series was "
                    f"replayed at {measure} targets with as_of "
                    f"{config.planning.as_of or 'the day after the last sale'}: the history "
                    "before the replay is too short to classify, forecast and calibrate on"
                )
            table = summary.join(
                achieved_standard_error(series, measure).with_columns(
                    pl.col("achieved_se").round(3)
                ),
                on=["pattern", "target"],
                how="left",
            )
            print(f"\n## {measure} targets ({time.perf_counter() - started:.0f} s)\n")
            print(table)
            print(
                f"\n### {measure}: promised against achieved, all series and by demand per "
                "day during the replay over before it\n"
            )
            print(promise_calibration(series, measure))
            print(
                f"\n### {measure}: promised against achieved, by each series' promise less "
                "its target (points)\n"
            )
            print(promise_calibration(series, measure, split="promise"))
            print(f"\n### {measure}: series served more than 5 / 10 points below the target\n")
            print(served_below_target(series, measure))
            print(f"\n### {measure}: the rule of thumb's curve per pattern\n")
            print(rule_table(by_pattern))
            print(f"\n### {measure}: items whose target is not reachable at sane stock\n")
            print(unreachable_summary(unreachable))
            largest = unreachable.sort("demand_units", descending=True).head(args.list)
            print(f"\nlargest {args.list} by demand:\n")
            print(largest.with_columns(pl.col(pl.Float64).round(3)))
            print(
                f"\n### {measure}: series with {args.selection_days}+ selling days before the "
                "replay start (selected by sales `before start`) and the rest (`later`)\n"
            )
            split = selection_split(series, args.selection_days, measure)
            print(split)
            print(cells_line(summary, split))
            print(f"\n### {measure}: series by demand per day during the replay over before it\n")
            print(ramp_split(series, measure, args.selection_days))
            print(f"\n### {measure}: the backtest curve per refit (targets above its top level)\n")
            print(calibration_ceiling(prepared, measure))
        started = time.perf_counter()
        quality = forecast_quality(tables, config, args.holdout)
        took = time.perf_counter() - started
        print(f"\n## forecast, {args.holdout}-bucket holdout ({took:.0f} s)\n")
        print(quality)
        print(f"nominal outside share: {1 - config.forecast.interval_level / 100:.2f}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
