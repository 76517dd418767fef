"""The replay at several refit cadences: why a plan refitted every week serves what it does.

    python bench/refit_cadence.py -c dev.yaml --cadences 1,4,13 --measure fill_rate

For each cadence (`simulate.refit_every`, buckets) the replay is prepared once (the
forecasts and lead-time-demand calibrations of every refit; its CPU time is printed) and
run at targets 0.90 / 0.95 / 0.98. Per demand pattern at the replay start it prints the
service achieved, the average inventory value at cost and the order lines, and what moves
the levels from review to review:

- `dp_step`: the mean |change| of the forecast over L + R (`demand_protection`) from one
  review to the next, over its mean (per series, then the demand-weighted mean);
- `S_step`: the same for the order-up-to level at target 0.95;
- `ss_share`: safety stock over the order-up-to level at 0.95 (units, summed);
- `act/fc`: the actual demand over the L + R days after each review over the forecast of
  it made at that review (summed), and `act/fc fresh` the same for reviews at a refit;
- `over_S`: share of reviews at which the position was above S (the level fell below
  what was already bought) and `excess`: that excess over S, in units summed over
  reviews, per unit of demand;
- `methods`: the lead-time-demand method kept per pattern at each refit (block, days,
  parametric), as counts, and `flips`: refits whose method differs from the one before;
- `fill` / `inv` in the first and the second half of the replay (the same run: the first
  half replayed alone, the second half the difference of the totals).
Set `policy.calibrate_every_review` in the config to measure the plan with it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from replay_real import _with  # noqa: E402

from stockplan.config import load_config  # noqa: E402

TARGETS = [0.9, 0.95, 0.98]
PATTERNS = ["smooth", "erratic", "intermittent", "lumpy"]


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def run_cadence(tables, config, cadence: int, measure: str) -> tuple[pl.DataFrame, dict]:
    """Per pattern and target: service, stock, orders and the level diagnostics."""
    from stockplan.demand import BUCKET_DAYS
    from stockplan.replay import (
        BASELINE_HISTORY_DAYS,
        metrics,
        policy_at_target,
        prepare_replay,
        replay_policy,
        review_orders,
    )

    config = _with(config, "policy", service_measure=measure)
    config = _with(config, "simulate", targets=TARGETS, refit_every=cadence)
    cpu, wall = _cpu(), time.perf_counter()
    prepared = prepare_replay(tables, config)
    timing = {"prepare_cpu": _cpu() - cpu, "prepare_wall": time.perf_counter() - wall}
    backorder = config.simulate.unmet_demand == "backorder"
    n_reviews = len(prepared.levels)
    n_series = prepared.series.height
    patterns = prepared.series["demand_pattern"].to_numpy()
    demand = prepared.demand[:, BASELINE_HISTORY_DAYS:]
    days = demand.shape[1]
    r = prepared.review_days
    dp = np.stack([lv["demand_protection"].to_numpy() for lv in prepared.levels], axis=1)
    lead = prepared.levels[0]["lead_time_days"].to_numpy()
    running = np.concatenate([np.zeros((n_series, 1)), np.cumsum(demand, axis=1)], axis=1)
    begin = np.arange(n_reviews) * r
    end = begin[None, :] + np.round(lead[:, None] + r).astype(int)
    fits = end <= days
    rows = np.arange(n_series)[:, None]
    actual = running[rows, np.minimum(end, days)] - running[rows, begin[None, :]]
    fresh = np.array(
        [(i * r) % (cadence * BUCKET_DAYS[config.planning.bucket]) == 0 for i in range(n_reviews)]
    )
    out, by_model = [], []
    cpu, wall = _cpu(), time.perf_counter()
    for target in TARGETS:
        policy = policy_at_target(config, target)
        up_to = np.zeros((n_series, n_reviews))
        over = np.zeros((n_series, n_reviews))
        safety = np.zeros((n_series, n_reviews))

        def decide(review, day, position, policy=policy, up_to=up_to, over=over, safety=safety):
            orders = review_orders(prepared, policy, config, review, day, position)
            up_to[:, review] = orders["order_up_to"].to_numpy()
            safety[:, review] = orders["safety_stock"].to_numpy()
            over[:, review] = np.maximum(position - up_to[:, review], 0.0)
            return orders["order_qty"].to_numpy()

        totals = replay_policy(prepared, decide, backorder)
        half_days = (days // 2) // r * r
        first_half = replace(
            prepared, demand=prepared.demand[:, : BASELINE_HISTORY_DAYS + half_days]
        )
        early = replay_policy(first_half, decide, backorder)
        late = {k: totals[k] - early[k] for k in totals}
        for pattern in PATTERNS:
            pick = patterns == pattern
            if not pick.any():
                continue
            m = metrics(totals, pick)
            weight = totals["demand"][pick]

            def step(levels, pick=pick, weight=weight):
                move = np.abs(np.diff(levels[pick], axis=1)).mean(axis=1)
                mean = levels[pick].mean(axis=1)
                ratio = np.divide(move, mean, out=np.zeros_like(move), where=mean > 0)
                return float((ratio * weight).sum() / max(weight.sum(), 1e-12))

            ok = fits[pick]
            ok_fresh = ok & fresh[None, :]
            m1, m2 = metrics(early, pick), metrics(late, pick)
            out.append(
                {
                    "fill 1st half": m1["fill_rate"],
                    "inv 1st half": m1["avg_inventory_value"],
                    "fill 2nd half": m2["fill_rate"],
                    "inv 2nd half": m2["avg_inventory_value"],
                    "cadence": cadence,
                    "pattern": pattern,
                    "target": target,
                    "service": m["cycle_service_level" if measure == "cycle" else "fill_rate"],
                    "fill_rate": m["fill_rate"],
                    "inventory": m["avg_inventory_value"],
                    "orders": m["orders_placed"],
                    "dp_step": step(dp),
                    "S_step": step(up_to),
                    "ss_share": float(safety[pick].sum() / max(up_to[pick].sum(), 1e-12)),
                    "act/fc": float(actual[pick][ok].sum() / max(dp[pick][ok].sum(), 1e-12)),
                    "act/fc fresh": float(
                        actual[pick][ok_fresh].sum() / max(dp[pick][ok_fresh].sum(), 1e-12)
                    ),
                    "over_S": float((over[pick] > 0.5).mean()),
                    "excess": float(over[pick].sum() / max(weight.sum(), 1e-12)),
                }
            )
        if target == 0.95:  # by how the series was forecast at the middle review
            mid = n_reviews // 2
            short = (
                prepared.levels[mid]["model"]
                .is_in(["CategoryBlend", "DefaultBlend", "HistoricAverage"])
                .fill_null(False)
                .to_numpy()
            )
            late_reviews = (np.arange(n_reviews) >= mid)[None, :] & fits
            for pattern in PATTERNS:
                for name, group in (("mean of history", short), ("fitted model", ~short)):
                    pick = (patterns == pattern) & group
                    if not pick.any():
                        continue
                    m = metrics(totals, pick)
                    ok = late_reviews[pick]
                    by_model.append(
                        {
                            "cadence": cadence,
                            "pattern": pattern,
                            "forecast at mid-replay": name,
                            "series": int(pick.sum()),
                            "fill_rate": m["fill_rate"],
                            "inventory": m["avg_inventory_value"],
                            "act/fc 2nd half": float(
                                actual[pick][ok].sum() / max(dp[pick][ok].sum(), 1e-12)
                            ),
                        }
                    )
    timing["replay_cpu"] = _cpu() - cpu
    timing["by_model"] = pl.DataFrame(by_model)
    timing["replay_wall"] = time.perf_counter() - wall
    methods = {}
    if prepared.lead_time_demand:
        seen, last = [], None
        for i, ltd in enumerate(prepared.lead_time_demand):
            if ltd is None or (last is not None and ltd is last):
                continue
            last = ltd
            seen.append((i, dict(ltd.methods)))
        for pattern in PATTERNS:
            chosen = [m.get(pattern, "-") for _, m in seen]
            flips = sum(a != b for a, b in zip(chosen, chosen[1:], strict=False))
            counts = {k: chosen.count(k) for k in sorted(set(chosen))}
            methods[pattern] = f"{counts} flips {flips}"
    timing["methods"] = methods
    return pl.DataFrame(out), timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", type=Path, required=True)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--cadences", default="1,4,13")
    parser.add_argument("--measure", default="fill_rate", choices=["cycle", "fill_rate"])
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
        f"{config.planning.as_of or 'day after last sale'}, measure {args.measure}"
    )
    with pl.Config(tbl_rows=100, tbl_cols=20, tbl_width_chars=260, tbl_formatting="MARKDOWN"):
        for cadence in (int(c) for c in args.cadences.split(",")):
            table, timing = run_cadence(tables, config, cadence, args.measure)
            print(
                f"\n## refit every {cadence}: prepare {timing['prepare_cpu']:.0f} s CPU "
                f"({timing['prepare_wall']:.0f} s wall), replays {timing['replay_cpu']:.0f} s "
                f"CPU, load {os.getloadavg()[0]:.1f}\n"
            )
            print(table.with_columns(pl.col(pl.Float64).round(3)))
            print(timing["by_model"].with_columns(pl.col(pl.Float64).round(3)))
            for pattern, text in timing["methods"].items():
                print(f"methods {pattern}: {text}")
            sys.stdout.flush()


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
