"""Where the policy holds more stock than the rule of thumb at the same fill rate, per item.

    python bench/rule_gap_by_item.py -c dev.yaml --target 0.9 --pattern erratic [--as-of ...]

Replays the policy at one fill-rate target (as `stockplan simulate` does) and the rule of
thumb at every `simulate.baseline_scales`, on the same days. For the pattern it takes the
two rule scales whose pattern fill rates bracket the policy's and, per item, the rule's
stock and fill rate interpolated with that same weight (the `policy_vs_rule` comparison,
item by item). It prints the pattern's totals, the policy's stock split into safety stock
(S - demand over L + R, mean over reviews, at cost; the part at the `max_cover_days` cap)
and the rest, then the items grouped by unit-cost quintile and by where the policy's
stock sits against the rule's (more / less), with stock, fill rate and units short of
each group: which items carry the excess, and what fill it buys.
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

from stock_breakdown import fill_rate_replay  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", type=Path, required=True)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--target", type=float, default=0.9)
    parser.add_argument("--pattern", default="erratic")
    args = parser.parse_args()

    from stockplan.replay import BASELINE_HISTORY_DAYS, _rounded, replay_policy, review_orders

    config, replay, policy = fill_rate_replay(args.config, args.as_of, args.target)
    backorder = config.simulate.unmet_demand == "backorder"
    cost = replay.series["unit_cost"].fill_null(0.0).to_numpy()
    safety: list[np.ndarray] = []
    capped: list[np.ndarray] = []

    def decide(review: int, day: int, position: np.ndarray) -> np.ndarray:
        orders = review_orders(replay, policy, config, review, day, position)
        s = orders["safety_stock"].fill_nan(0.0).to_numpy()
        cap = orders["forecast_per_day"].fill_nan(0.0).to_numpy() * policy.max_cover_days
        safety.append(np.maximum(s, 0.0))
        capped.append((s >= cap - 1e-6) & (s > 0))
        return orders["order_qty"].to_numpy()

    mine = replay_policy(replay, decide, backorder)
    rows = (replay.series["demand_pattern"] == args.pattern).fill_null(False).to_numpy()
    window = BASELINE_HISTORY_DAYS
    rules = []
    for scale in config.simulate.baseline_scales:
        a = 7 * config.simulate.baseline_reorder_weeks * scale
        b = 7 * config.simulate.baseline_up_to_weeks * scale

        def rule(review: int, day: int, position: np.ndarray, a=a, b=b) -> np.ndarray:
            rate = replay.demand[:, day : day + window].mean(axis=1)
            need = np.where(position <= a * rate, b * rate - position, 0.0)
            return _rounded(replay.series, need)

        rules.append((scale, replay_policy(replay, rule, backorder)))

    def stock(t: dict) -> np.ndarray:
        return t["inventory_value"] / np.maximum(t["days"], 1)

    def fill(t: dict, pick: np.ndarray) -> float:
        return float(t["served"][pick].sum() / max(t["demand"][pick].sum(), 1e-9))

    target_fill = fill(mine, rows)
    curve = sorted(((fill(t, rows), s, t) for s, t in rules), key=lambda x: x[0])
    fills = np.array([c[0] for c in curve])
    hi = int(np.clip(np.searchsorted(fills, target_fill), 1, len(curve) - 1))
    (f0, s0, t0), (f1, s1, t1) = curve[hi - 1], curve[hi]
    w = float(np.clip((target_fill - f0) / (f1 - f0), 0.0, 1.0)) if f1 > f0 else 1.0
    rule_stock = (1 - w) * stock(t0) + w * stock(t1)
    rule_served = (1 - w) * t0["served"] + w * t1["served"]
    frame = pl.DataFrame(
        {
            "unit_cost": cost,
            "policy_stock": stock(mine),
            "rule_stock": rule_stock,
            "safety": np.mean(safety, axis=0) * cost,
            "safety_capped": np.mean(np.where(capped, safety, 0.0), axis=0) * cost,
            "demand": mine["demand"],
            "served": mine["served"],
            "rule_served": rule_served,
        }
    ).filter(pl.Series(rows))
    frame = frame.with_columns(
        pl.when(pl.col("policy_stock") > pl.col("rule_stock"))
        .then(pl.lit("policy holds more"))
        .otherwise(pl.lit("policy holds less"))
        .alias("side"),
        (pl.col("unit_cost").rank("ordinal") * 5 / pl.len()).ceil().cast(pl.Int32).alias("cost_q"),
    )

    def summary(by: str) -> pl.DataFrame:
        return (
            frame.group_by(by)
            .agg(
                pl.len().alias("items"),
                pl.col("unit_cost").median().round(2).alias("median_cost"),
                pl.col("policy_stock").sum().round(0),
                pl.col("safety").sum().round(0).alias("policy_safety"),
                pl.col("safety_capped").sum().round(0).alias("policy_safety_capped"),
                pl.col("rule_stock").sum().round(0),
                (pl.col("served").sum() / pl.col("demand").sum()).round(3).alias("policy_fill"),
                (pl.col("rule_served").sum() / pl.col("demand").sum()).round(3).alias("rule_fill"),
                (pl.col("demand") - pl.col("served")).sum().round(0).alias("policy_short"),
                (pl.col("demand") - pl.col("rule_served")).sum().round(0).alias("rule_short"),
                (pl.col("demand").sum() / frame["demand"].sum()).round(3).alias("demand_share"),
            )
            .sort(by)
        )

    with pl.Config(tbl_rows=40, tbl_cols=20, tbl_width_chars=220, tbl_formatting="MARKDOWN"):
        print(
            f"# {args.pattern}, fill-rate target {args.target}, {config.planning.as_of or 'last'}: "
            f"policy fill {target_fill:.3f}; rule between {s0:g}x ({f0:.3f}) and {s1:g}x "
            f"({f1:.3f}), weight {w:.2f}; stock {frame['policy_stock'].sum():,.0f} against "
            f"{frame['rule_stock'].sum():,.0f} "
            f"({frame['policy_stock'].sum() / frame['rule_stock'].sum():.2f})\n"
        )
        print(summary("side"))
        print()
        print(summary("cost_q"))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
