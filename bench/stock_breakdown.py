"""Where the policy's stock goes, per demand pattern, next to the rule of thumb's.

    python bench/stock_breakdown.py -c config.example.yaml --target 0.95 [--pattern intermittent]

Replays the policy at one fill-rate target as `stockplan simulate` does and records every
review's levels. Per pattern it splits the average stock value (textbook approximation,
average stock = safety stock + half the order; Silver, Pyke & Thomas 2017, ch. 5) into
safety stock (S - demand over L + R, at each review, mean; and the part of it in
reviews where it sits at the `max_cover_days` cap), half the review period's
demand (the order an (R, S) series places anyway), the order beyond a review's demand
(min-max / (s, Q) order quantities), and the rounding of orders to MOQ and pack size
(order_qty - raw need, half of it on average); with the policy type split and the
series that hold the most stock over their share of demand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from replay_real import _with  # noqa: E402

from stockplan.config import load_config  # noqa: E402


def fill_rate_replay(config_path: Path, as_of: dt.date | None, target: float):
    """(config, prepared replay, policy at `target`) of the config at `config_path` with
    fill-rate targets, as of `as_of` when given: the replay `stockplan simulate` runs."""
    from stockplan.io.prepare import prepare_inputs
    from stockplan.io.readers import load_inputs
    from stockplan.replay import policy_at_target, prepare_replay

    config = _with(load_config(config_path), "policy", service_measure="fill_rate")
    if as_of:
        config = _with(config, "planning", as_of=as_of)
    tables = prepare_inputs(load_inputs(config), config).tables
    return config, prepare_replay(tables, config), policy_at_target(config, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", type=Path, required=True)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--pattern", default=None)
    args = parser.parse_args()

    from stockplan.replay import replay_policy, review_orders

    config, replay, policy = fill_rate_replay(args.config, args.as_of, args.target)
    keep = [
        "safety_stock",
        "order_up_to",
        "reorder_point",
        "order_qty",
        "forecast_per_day",
    ]
    records: list[pl.DataFrame] = []

    def decide(review: int, day: int, position: np.ndarray) -> np.ndarray:
        orders = review_orders(replay, policy, config, review, day, position)
        records.append(
            orders.select("policy_type", *keep)
            .with_columns(
                (pl.col("order_up_to") - pl.Series(position)).clip(0).alias("raw_need"),
                (
                    pl.col("safety_stock")
                    >= pl.col("forecast_per_day") * policy.max_cover_days - 1e-6
                ).alias("capped"),
            )
            .with_row_index("row")
        )
        return orders["order_qty"].to_numpy()

    totals = replay_policy(replay, decide, config.simulate.unmet_demand == "backorder")
    cost = replay.series["unit_cost"].fill_null(0.0).to_numpy()
    review = replay.review_days
    per_review = (
        pl.concat(records)
        .with_columns(
            pl.col("forecast_per_day").fill_nan(0.0),
            (pl.col("order_qty") - pl.col("raw_need")).clip(0).alias("rounding"),
        )
        .group_by("row")
        .agg(
            pl.col("policy_type").first(),
            pl.col("safety_stock").clip(0).mean().alias("safety"),
            (pl.col("safety_stock").clip(0) * pl.col("capped")).mean().alias("safety_capped"),
            (pl.col("forecast_per_day") * review / 2).mean().alias("half_review"),
            ((pl.col("order_qty") - pl.col("rounding")).filter(pl.col("order_qty") > 0).mean() / 2)
            .fill_null(0.0)
            .alias("half_order"),
            (pl.col("rounding").filter(pl.col("order_qty") > 0).mean() / 2)
            .fill_null(0.0)
            .alias("half_rounding"),
        )
        .sort("row")
    )
    days = np.maximum(totals["days"], 1)
    frame = replay.series.select(
        "sku", "location", "demand_pattern", "moq", "pack_size"
    ).with_columns(
        pl.Series("policy_type", per_review["policy_type"]),
        pl.Series("stock_value", totals["inventory_value"] / days),
        pl.Series("safety_value", per_review["safety"].to_numpy() * cost),
        pl.Series("capped_safety_value", per_review["safety_capped"].to_numpy() * cost),
        pl.Series("half_review_value", per_review["half_review"].to_numpy() * cost),
        pl.Series(
            "order_beyond_review_value",
            np.maximum(
                per_review["half_order"].to_numpy() - per_review["half_review"].to_numpy(), 0
            )
            * cost,
        ),
        pl.Series("rounding_value", per_review["half_rounding"].to_numpy() * cost),
        pl.Series("demand_value", totals["demand"] * cost),
        pl.Series("served", totals["served"]),
        pl.Series("demand", totals["demand"]),
    )
    if args.pattern:
        frame = frame.filter(pl.col("demand_pattern") == args.pattern)
    parts = [
        "safety_value",
        "capped_safety_value",
        "half_review_value",
        "order_beyond_review_value",
        "rounding_value",
    ]
    with pl.Config(tbl_rows=40, tbl_cols=20, tbl_width_chars=220, tbl_formatting="MARKDOWN"):
        print(f"# target {args.target} (fill rate), {config.planning.as_of or 'last'}\n")
        print(
            frame.group_by("demand_pattern", "policy_type")
            .agg(
                pl.len().alias("series"),
                (1 - (pl.col("demand") - pl.col("served")).sum() / pl.col("demand").sum())
                .round(3)
                .alias("fill_rate"),
                pl.col("stock_value").sum().round(0),
                *[pl.col(p).sum().round(0) for p in parts],
            )
            .sort("demand_pattern", "policy_type")
        )
        print("\nlargest stock per unit of demand value:\n")
        print(
            frame.with_columns(
                (pl.col("stock_value") / pl.col("demand_value").clip(1e-9)).alias(
                    "stock_per_demand"
                )
            )
            .sort("stock_value", descending=True)
            .head(15)
            .with_columns(pl.col(pl.Float64).round(2))
        )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
