"""Where the over-service at the lowest target comes from, review by review.

    python bench/low_target_diagnosis.py -c dev.yaml [--as-of 2010-08-30]
        [--pattern intermittent] [--measure cycle] [--modes plan,units,units-1] [--fine-grid]

Replays one target (0.90 by default) as `bench/replay_real.py` and `simulate` do, on the
same prepared replay (refits, lead-time draws, lost sales), and records at every review
the order-up-to level S the plan set and the position after its order. Prints, for the
series of one demand pattern (at the replay start):

- per refit, the chosen method's backtest curve (service per knob) and the knob the
  recalibration takes for 0.90 / 0.95 / 0.98;
- per order mode (`--modes`): "plan" orders as the plan does; on the pattern's (R, S)
  rows with S > 0, "units" orders round(S - position) half up (whole units, no MOQ, packs
  or max order) and "units-1" the same for S - 1 (what one unit of S is worth): the
  achieved service and fill rate, the share of reviews whose S is a whole number, the
  position after the order over S (mean, and the share of reviews at least one unit
  above: S fell below what the position still holds, and an (R, S) policy cannot send
  stock back), the backtest's event T <= S on the replay's own windows (T the demand over
  the order's drawn lead time and the review period after it, windows with demand in the
  review period, after the warm-up) and T <= the position after the order, and the
  achieved service by the series' median S in units and policy type;
- with `--packs-in-backtest`, all of it with the backtest's lost-sales path ordering as
  the plan rounds (MOQ, packs, max order), each order still arriving after L;
- with `--fine-grid`, all of it with the calibration scored at ten more quantile levels
  between 0.85 and the top (the error of reading the curve linearly between levels).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from replay_real import _with  # noqa: E402

from stockplan.config import load_config  # noqa: E402

BUCKETS = [(0, 0), (1, 1), (2, 2), (3, 4), (5, 9), (10, 10**9)]


def run(prepared, config, target: float, pattern: str, mode: str = "plan"):
    """Replay one target; returns (per review S [reviews, series], per review type, totals
    of the pattern's review periods by S bucket). `mode` "plan" orders as the plan does;
    on the pattern's (R, S) rows with S > 0, "units" orders round(S - position) (half up:
    whole units, no MOQ, packs or max order) and "units-1" the same for S - 1 (what one
    unit of S is worth)."""
    from stockplan.replay import policy_at_target, replay_policy, review_orders

    policy = policy_at_target(config, target)
    rows = (prepared.series["demand_pattern"] == pattern).to_numpy()
    n_reviews = len(prepared.levels)
    level = np.zeros((n_reviews, rows.size))
    kind = np.empty((n_reviews, rows.size), dtype=object)
    excess = np.zeros((n_reviews, rows.size))

    def decide(review: int, day: int, position: np.ndarray) -> np.ndarray:
        orders = review_orders(prepared, policy, config, review, day, position)
        s = orders["order_up_to"].to_numpy().astype(float)
        level[review] = s
        kind[review] = orders["policy_type"].to_numpy()
        qty = orders["order_qty"].to_numpy().astype(float)
        if mode != "plan":
            shift = -1.0 if mode == "units-1" else 0.0
            moved = rows & (kind[review] == "rs") & (s > 0)
            qty = np.where(moved, np.maximum(np.floor(s + shift - position + 0.5), 0.0), qty)
        excess[review] = position + qty - s
        return qty

    totals = replay_policy(prepared, decide, False)
    return level, kind, totals, rows, excess


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", type=Path, required=True)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--pattern", default="intermittent")
    parser.add_argument("--targets", default="0.9")
    parser.add_argument("--modes", default="plan,units,units-1")
    parser.add_argument("--refit-every", type=int, default=13, help="simulate.refit_every")
    parser.add_argument("--measure", default="cycle", choices=["cycle", "fill_rate"])
    parser.add_argument(
        "--fine-grid",
        action="store_true",
        help="Score the calibration at ten more quantile levels between 0.85 and the top "
        "(the error of reading the curve linearly between the grid's levels).",
    )
    parser.add_argument(
        "--packs-in-backtest",
        action="store_true",
        help="Round the orders of the backtest's lost-sales path to MOQ, packs and max order "
        "as the plan rounds them, every order still arriving after L (an experiment).",
    )
    args = parser.parse_args()
    if args.packs_in_backtest:
        import stockplan.lead_time_demand as ltd_module
        import stockplan.series as series_module

        scored = ltd_module.calibration_sums

        def rounded_path(*a, **k):
            return scored(*a, **(k | {"replayed": False}))

        ltd_module.calibration_sums = rounded_path
        ltd_module.replayed_orders = ltd_module.lost_sales_scoring
        series_module.replayed_orders = ltd_module.lost_sales_scoring
    if args.fine_grid:
        import stockplan.lead_time_demand as ltd_module
        import stockplan.policy as policy_module

        extra = [0.87, 0.91, 0.92, 0.94, 0.96, 0.975, 0.985, 0.9925, 0.997, 0.998]
        grid = np.unique(np.concatenate([ltd_module.CALIBRATION_GRID, extra]))
        knob = np.concatenate([grid, grid[-1] + ltd_module.EXTENSION_STEPS])
        ltd_module.CALIBRATION_GRID, ltd_module.CALIBRATION_KNOB = grid, knob
        policy_module.CALIBRATION_GRID, policy_module.CALIBRATION_KNOB = grid, knob

    from stockplan.io.prepare import prepare_inputs
    from stockplan.io.readers import load_inputs
    from stockplan.lead_time_demand import CALIBRATION_KNOB, recalibrated_level
    from stockplan.replay import prepare_replay

    config = load_config(args.config)
    if args.as_of:
        config = _with(config, "planning", as_of=args.as_of)
    config = _with(config, "policy", service_measure=args.measure)
    tables = prepare_inputs(load_inputs(config), config).tables
    print(f"# {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, load {os.getloadavg()[0]:.1f}")
    prepared = prepare_replay(tables, config)
    seen = set()
    for review, ltd in enumerate(prepared.lead_time_demand or []):
        if ltd is None or id(ltd) in seen or args.pattern not in ltd.calibration:
            continue
        seen.add(id(ltd))
        which = 0 if args.measure == "cycle" else 1
        curve = np.maximum.accumulate(np.asarray(ltd.calibration[args.pattern][which], dtype=float))
        knobs = {t: float(recalibrated_level(np.array([t]), curve)[0]) for t in (0.9, 0.95, 0.98)}
        print(
            f"refit at review {review}: method {ltd.methods.get(args.pattern, 'parametric')}, "
            f"knob for 0.90 / 0.95 / 0.98: " + " / ".join(f"{k:.4f}" for k in knobs.values())
        )
        print(
            "  curve: "
            + ", ".join(f"{k:g}:{c:.3f}" for k, c in zip(CALIBRATION_KNOB, curve, strict=False))
        )
    for target in (float(t) for t in args.targets.split(",")):
        for mode in args.modes.split(","):
            level, kind, totals, rows, excess = run(prepared, config, target, args.pattern, mode)
            print(f"\n## target {target:g}, orders: {mode}")
            ordered = level[:, rows] > 0
            whole = np.mean(np.isclose(level[:, rows], np.round(level[:, rows])))
            print(
                f"S whole units on {whole:.3f}"
                f" of the reviews; position after the order over S, on reviews with S > 0: "
                f"mean {excess[:, rows][ordered].mean():.2f} units, >= 1 unit on "
                f"{np.mean(excess[:, rows][ordered] >= 1 - 1e-9):.3f}"
            )
            cyc, ok = totals["cycles"], totals["cycles_ok"]
            every = prepared.series["demand_pattern"].to_numpy()
            got, out_of = (
                (ok, cyc) if args.measure == "cycle" else (totals["served"], totals["demand"])
            )
            print(
                f"every pattern ({args.measure}): "
                + ", ".join(
                    f"{p} {got[every == p].sum() / max(out_of[every == p].sum(), 1):.3f}"
                    for p in ("smooth", "erratic", "intermittent", "lumpy")
                )
            )
            print(
                f"pattern {args.pattern}: {int(rows.sum())} series, cycle service "
                f"{ok[rows].sum() / max(cyc[rows].sum(), 1):.3f} on {int(cyc[rows].sum())} cycles; "
                f"fill {totals['served'][rows].sum() / max(totals['demand'][rows].sum(), 1):.3f}"
            )
            # the backtest's event on the replay's own windows: T = D_L + D_R from each review
            # (its order's lead time L drawn by the replay) against the S set there, and
            # against the position after the order (the S a ratchet actually holds)
            from stockplan.replay import BASELINE_HISTORY_DAYS

            demand = prepared.demand[rows][:, BASELINE_HISTORY_DAYS:]
            run_sum = np.concatenate([np.zeros((demand.shape[0], 1)), demand.cumsum(axis=1)], 1)
            warm = prepared.warmup_days[rows] if prepared.warmup_days is not None else 0 * rows
            r = prepared.review_days
            hits = {"S": [0, 0], "position": [0, 0]}
            by_age = []  # per review: windows, T <= S, T <= position, S below the position
            for k in range(level.shape[0]):
                day = k * r
                lead = prepared.lead_draws[rows, k]
                end = day + lead + r
                inside = (end <= demand.shape[1]) & (day + lead >= warm)
                idx = np.flatnonzero(inside)
                lead_dem = run_sum[idx, day + lead[idx]] - run_sum[idx, day]
                rev_dem = run_sum[idx, end[idx]] - run_sum[idx, day + lead[idx]]
                has = rev_dem > 0
                total = (lead_dem + rev_dem)[has]
                s_k = level[k, rows][idx][has]
                p_k = s_k + excess[k, rows][idx][has]
                hits["S"][0] += has.sum()
                hits["S"][1] += (total <= s_k + 1e-9).sum()
                hits["position"][0] += has.sum()
                hits["position"][1] += (total <= p_k + 1e-9).sum()
                above = excess[k, rows][idx] >= 1 - 1e-9
                by_age.append(
                    (has.sum(), (total <= s_k + 1e-9).sum(), (total <= p_k + 1e-9).sum(), above)
                )
            print(
                "replay windows with demand in the review period: "
                + ", ".join(f"T <= {n} {h / max(c, 1):.3f}" for n, (c, h) in hits.items())
                + f" (of {hits['S'][0]})"
            )
            refit = args.refit_every
            for lo in range(0, len(by_age), refit):
                part = by_age[lo : lo + refit]
                for a, b in ((0, 4), (4, refit)):
                    chunk = part[a:b]
                    n = sum(c[0] for c in chunk)
                    if n == 0:
                        continue
                    print(
                        f"  reviews {lo + a}-{lo + min(b, len(part)) - 1}: {n} windows, "
                        f"T <= S {sum(c[1] for c in chunk) / n:.3f}, T <= position "
                        f"{sum(c[2] for c in chunk) / n:.3f}, position >= S + 1 on "
                        f"{np.mean(np.concatenate([c[3] for c in chunk])):.3f} of the reviews"
                    )
            # per series: its median S over the reviews, and its type at the last review
            s_med = np.median(level[:, rows], axis=0)
            types = kind[-1, rows]
            out = []
            for lo, hi in BUCKETS:
                for t in ("rs", "ss"):
                    pick = (s_med >= lo - 0.25) & (s_med <= hi + 0.25) & (types == t)
                    if lo > 0:
                        pick &= s_med > lo - 0.5
                    if not pick.any():
                        continue
                    c, o = cyc[rows][pick].sum(), ok[rows][pick].sum()
                    out.append(
                        {
                            "median_S": f"{lo}" if lo == hi else f"{lo}-{hi}",
                            "type": t,
                            "series": int(pick.sum()),
                            "cycles": int(c),
                            "served": round(float(o / c), 3) if c else None,
                        }
                    )
            with pl.Config(tbl_rows=40, tbl_formatting="MARKDOWN"):
                print(pl.DataFrame(out))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
