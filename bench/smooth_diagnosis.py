"""Where the replay's service on one demand pattern goes: level, spread or lead time.

    python bench/smooth_diagnosis.py -c dev.yaml                     # smooth items
    python bench/smooth_diagnosis.py -c dev.yaml --as-of 2010-08-30 --pattern erratic

Builds the replay exactly as `stockplan simulate` does (`prepare_replay`) and, for every
series of the pattern (at the replay start) and every review after the warm-up whose
L + R window ends inside the replay, compares the policy's numbers with what was sold:

- level: sum(T) / sum(mu), T the demand sold over [t, t + l + R) with l the replay's own
  lead-time draw for that review, mu the policy's demand over L + R (`demand_protection`);
- spread: the realised root mean square of T - mu against the sigma_LTD the policy used,
  and the same for the first bucket alone (sold in the week after t against the
  forecast's week, sigma_e): their ratio over L + R against that over one bucket says
  whether errors add up like independent buckets (sqrt(L + R) scaling) or persist;
- quantile: the share of windows with T <= S (ex-ante cycle service of the order-up-to
  level S, no stock left at t assumed) against the target, for the method each row used
  (`ltd_method`);
- lead time: the spread of the replay's lead-time draws and the share of shortfalls
  (T > S) in windows whose draw exceeds the mean lead time.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from replay_real import _with  # noqa: E402

from stockplan.config import load_config  # noqa: E402
from stockplan.demand import BUCKET_DAYS  # noqa: E402
from stockplan.reorder import plan_orders  # noqa: E402

TARGETS = [0.9, 0.95, 0.98]


def main() -> None:
    from stockplan.io.prepare import prepare_inputs
    from stockplan.io.readers import load_inputs
    from stockplan.replay import BASELINE_HISTORY_DAYS, policy_at_target, prepare_replay

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", type=Path, required=True)
    parser.add_argument("--as-of", type=dt.date.fromisoformat)
    parser.add_argument("--pattern", default="smooth")
    args = parser.parse_args()
    config = load_config(args.config)
    if args.as_of:
        config = _with(config, "planning", as_of=args.as_of)
    started = time.process_time()
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, as_of {config.planning.as_of}"
    )
    tables = prepare_inputs(load_inputs(config), config).tables
    replay = prepare_replay(tables, config)
    bucket_days = BUCKET_DAYS[config.planning.bucket]
    review = replay.review_days
    n_days = replay.demand.shape[1] - BASELINE_HISTORY_DAYS
    sold = replay.demand[:, BASELINE_HISTORY_DAYS:]
    cum = np.concatenate([np.zeros((sold.shape[0], 1)), np.cumsum(sold, axis=1)], axis=1)
    rows = (replay.series["demand_pattern"] == args.pattern).to_numpy()
    warmup = replay.warmup_days if replay.warmup_days is not None else np.zeros(rows.size)
    lead_mean = replay.levels[0]["lead_time_days"].to_numpy()
    spread = replay.lead_draws[rows] - lead_mean[rows, None]  # each series' own mean
    assumed = replay.levels[0]["lead_time_std_days"].fill_null(0).to_numpy()[rows]
    print(
        f"{args.pattern}: {int(rows.sum())} series; lead-time draws around each series' "
        f"mean: rms {np.sqrt((spread**2).mean()):.3f} d; policy sigma_L rms "
        f"{np.sqrt((assumed**2).mean()):.3f} d"
    )
    if replay.lead_time_demand:
        for index, ltd in enumerate(dict.fromkeys(map(id, replay.lead_time_demand))):
            first = next(x for x in replay.lead_time_demand if id(x) == ltd)
            print(
                f"refit {index}: methods {first.methods}, recalibrated patterns "
                f"{sorted(first.calibration)}"
            )
    for target in TARGETS:
        policy = policy_at_target(config, target)
        parts = []
        for r, level in enumerate(replay.levels):
            day = r * review
            lead = replay.lead_draws[:, r]
            end = day + lead + review
            keep = rows & (day >= warmup) & (end <= n_days)
            if not keep.any():
                continue
            frame = level.with_columns(
                pl.lit(0.0).alias("inventory_position"),
                pl.lit(None, pl.Float64).alias("product_service_level"),
            )
            out = plan_orders(
                frame,
                policy,
                replay.start + dt.timedelta(days=day),
                bucket_days,
                replay.error_scores[r] if replay.error_scores else None,
                replay.lead_time_demand[r] if replay.lead_time_demand else None,
            )
            idx = np.nonzero(keep)[0]
            total = cum[idx, end[idx]] - cum[idx, day]
            week = cum[idx, np.minimum(day + bucket_days, n_days)] - cum[idx, day]
            parts.append(
                pl.DataFrame(
                    {
                        "review": np.full(idx.size, r),
                        "T": total,
                        "mu": level["demand_protection"].to_numpy()[idx],
                        "sigma": out["sigma_lead_time_demand"].to_numpy()[idx],
                        "S": out["order_up_to"].to_numpy()[idx],
                        "week": week,
                        "week_fc": level["forecast_per_day"].to_numpy()[idx] * bucket_days,
                        "sigma_e": level["sigma_e"].to_numpy()[idx],
                        "late": lead[idx] > lead_mean[idx],
                        "method": out["ltd_method"].to_numpy()[idx],
                    }
                )
            )
        d = pl.concat(parts)
        cover = (d["T"] <= d["S"] + 1e-9).to_numpy()
        summary = d.group_by("method").agg(
            pl.len().alias("windows"),
            (pl.col("T").sum() / pl.col("mu").sum()).alias("sold_over_mu"),
            (
                (pl.col("T") - pl.col("mu")).pow(2).mean().sqrt()
                / pl.col("sigma").pow(2).mean().sqrt()
            ).alias("rmse_over_sigma_LR"),
            (
                (pl.col("week") - pl.col("week_fc")).pow(2).mean().sqrt()
                / pl.col("sigma_e").pow(2).mean().sqrt()
            ).alias("rmse_over_sigma_e_week"),
            ((pl.col("T") - pl.col("mu")) / pl.col("sigma"))
            .filter(pl.col("sigma") > 0)
            .median()
            .alias("median_z"),
            (pl.col("T") <= pl.col("S") + 1e-9).mean().alias("share_T_le_S"),
            (pl.col("T") <= pl.col("mu") + pl.col("sigma") * 0).mean().alias("share_T_le_mu"),
        )
        short_late = float(d["late"].to_numpy()[~cover].mean()) if (~cover).any() else 0.0
        print(
            f"\ntarget {target}: share T <= S {cover.mean():.3f}; shortfalls in windows "
            f"with a late lead-time draw {short_late:.3f}"
        )
        with pl.Config(tbl_cols=-1, tbl_width_chars=200, float_precision=3):
            print(summary.sort("method"))
    print(f"\nCPU {time.process_time() - started:.1f} s")


if __name__ == "__main__":
    main()
