"""Forecast level bias on the backtest windows against the weeks after the origin.

    python bench/level_bias.py -c dev.yaml --origin 2010-08-30

Fits the forecast stage on the history before --origin (weekly buckets), then prints per
demand pattern sum(actual) / sum(forecast) over the forecast's own backtest windows (4
weeks each, the windows the lead-time-demand calibration scores) and over the 13 weeks
after the origin. A recalibration conditioned on the backtest's level bias can only
correct what the first ratio shows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stockplan.config import load_config  # noqa: E402
from stockplan.demand import demand_history  # noqa: E402
from stockplan.forecast import forecast_demand  # noqa: E402
from stockplan.io.prepare import prepare_inputs  # noqa: E402
from stockplan.io.readers import load_inputs  # noqa: E402
from stockplan.pipeline import excluded_days, item_attributes, unit_values  # noqa: E402
from stockplan.segmentation import classify_demand  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", type=Path, required=True)
    parser.add_argument("--origin", type=dt.date.fromisoformat, required=True)
    args = parser.parse_args()
    config = load_config(args.config)
    tables = prepare_inputs(load_inputs(config), config).tables
    sales = tables["sales"]
    origin = args.origin
    last = sales["date"].max()
    excluded, _ = excluded_days(tables, config, last + dt.timedelta(days=1))
    history = demand_history(sales, origin, "week", excluded)
    uv = unit_values(item_attributes(tables.get("products"), tables["stock"], sales))
    classes = classify_demand(history, origin, "week", config.classify, uv)
    fc, summary = forecast_demand(history, classes, "week", config.forecast, 13)
    # backtest windows: forecast rate per bucket at each origin vs actual over the next 4 buckets
    w = (
        summary.select("sku", "location", "window_origins", "window_rates")
        .drop_nulls("window_origins")
        .explode("window_origins", "window_rates")
    )
    act = demand_history(sales, last + dt.timedelta(days=1), "week", None)

    def actual(frame, start_col, weeks):
        return (
            frame.join(act, on=["sku", "location"])
            .filter(
                (pl.col("period_start") >= pl.col(start_col))
                & (pl.col("period_start") < pl.col(start_col) + pl.duration(weeks=weeks))
            )
            .group_by("sku", "location", start_col)
            .agg((pl.col("demand").sum() / weeks).alias("actual"))
        )

    bt = w.join(actual(w, "window_origins", 4), on=["sku", "location", "window_origins"]).join(
        classes.select("sku", "location", "demand_pattern"), on=["sku", "location"]
    )
    print("backtest windows: sum actual / sum forecast per pattern (origins before", origin, ")")
    print(
        bt.group_by("demand_pattern")
        .agg(
            pl.len(),
            (pl.col("actual").sum() / pl.col("window_rates").sum()).alias("actual_over_forecast"),
        )
        .sort("demand_pattern")
    )
    print(
        bt.group_by("window_origins")
        .agg((pl.col("actual").sum() / pl.col("window_rates").sum()).alias("ratio"))
        .sort("window_origins")
    )
    f = (
        fc.group_by("sku", "location")
        .agg(pl.col("forecast").mean().alias("rate"))
        .with_columns(pl.lit(origin).alias("o"))
    )
    rp = f.join(actual(f, "o", 13), on=["sku", "location", "o"]).join(
        classes.select("sku", "location", "demand_pattern"), on=["sku", "location"]
    )
    print("the 13 weeks after", origin)
    print(
        rp.group_by("demand_pattern")
        .agg(
            pl.len(), (pl.col("actual").sum() / pl.col("rate").sum()).alias("actual_over_forecast")
        )
        .sort("demand_pattern")
    )


if __name__ == "__main__":
    main()
