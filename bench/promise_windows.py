"""The calibration curve behind the promise, split by what followed each backtest window.

    python bench/promise_windows.py -c dev.yaml --measure fill_rate
    python bench/promise_windows.py -c dev.yaml --measure fill_rate --as-of 2010-08-30

`promised_service` reads the pooled calibration curve of the row's demand pattern
(`lead_time_demand.calibration_curves`), and a target above the curve's top is flagged
for every item of the pattern. This takes the calibration inputs of the replay's first
refit (the arguments `calibration_sums` receives there: the series, their daily demand,
the backtest windows) and scores the same windows again in two groups: those whose
series sold at most `--ramp` times the window's forecast per day over the `--ahead` days
after its origin, and the rest (a level the forecast could not see). Per pattern it
prints the curve's service at quantile levels 0.90, 0.99 and the grid's top (0.999) for
all windows and for each group, and the share of windows in the second group.
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

import stockplan.lead_time_demand as ltd  # noqa: E402
from stockplan.config import load_config  # noqa: E402


class _Captured(Exception):
    """Raised by the stand-in for `calibration_sums` once it holds the first refit's inputs."""


def first_calibration_inputs(tables, config) -> tuple[list, dict]:
    """The positional and keyword arguments of the first `calibration_sums` call of the
    replay's preparation (its first refit); the preparation stops there."""
    from stockplan.replay import prepare_replay

    captured: dict = {}
    scored = ltd.calibration_sums

    def capture(*args, **kwargs):
        captured["args"], captured["kwargs"] = list(args), kwargs
        raise _Captured

    ltd.calibration_sums = capture
    try:
        prepare_replay(tables, config)
    except _Captured:
        pass
    finally:
        ltd.calibration_sums = scored
    if "args" not in captured:
        raise SystemExit("the replay's first refit ran no calibration backtest")
    return captured["args"], captured["kwargs"]


def demand_after_over_forecast(
    daily: np.ndarray, rows: np.ndarray, days: np.ndarray, rate: np.ndarray, ahead: int
) -> np.ndarray:
    """Per window: the series' mean demand per day over the `ahead` days from its origin
    (fewer where the history ends) over the window's forecast per day (inf where that
    forecast is 0)."""
    span = daily.shape[1]
    running = np.concatenate(
        [np.zeros((daily.shape[0], 1)), np.cumsum(np.nan_to_num(daily), axis=1)], axis=1
    )
    end = np.minimum(days + ahead, span)
    per_day = (running[rows, end] - running[rows, days]) / np.maximum(end - days, 1)
    return np.divide(per_day, rate, out=np.full(rate.shape, np.inf), where=rate > 0)


def curve_points(sums: dict, measure: str) -> list[dict]:
    """Per method and pattern, the curve's service at 0.90, 0.99 and the top level."""
    curves, _ = ltd.calibration_curves(sums)
    which = 0 if measure == "cycle" else 1
    rows = []
    for method, per_pattern in curves.items():
        for pattern, pair in per_pattern.items():
            curve = np.maximum.accumulate(np.asarray(pair[which], dtype=float))
            knob = ltd.CALIBRATION_KNOB[: curve.size]
            rows.append(
                {
                    "method": method,
                    "pattern": pattern,
                    **{
                        f"at_{level:g}": round(float(np.interp(level, knob, curve)), 3)
                        for level in (0.9, 0.99, float(ltd.CALIBRATION_GRID[-1]))
                    },
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", type=Path, required=True)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--measure", choices=["cycle", "fill_rate"], default="fill_rate")
    parser.add_argument("--ramp", type=float, default=2.0)
    parser.add_argument("--ahead", type=int, default=91, help="Days after each origin.")
    args = parser.parse_args()

    from stockplan.io.prepare import prepare_inputs
    from stockplan.io.readers import load_inputs

    config = load_config(args.config)
    update = {"service_measure": args.measure}
    config = config.model_copy(update={"policy": config.policy.model_copy(update=update)})
    if args.as_of:
        planning = config.planning.model_copy(update={"as_of": args.as_of})
        config = config.model_copy(update={"planning": planning})
    tables = prepare_inputs(load_inputs(config), config).tables
    positional, keywords = first_calibration_inputs(tables, config)
    keys, daily, first, windows = positional[:4]
    located = windows.join(
        keys.select("sku", "location").with_row_index("row"),
        on=["sku", "location"],
        maintain_order="left",
    )
    days = located.select((pl.col("origin") - pl.lit(first)).dt.total_days())["origin"]
    ratio = demand_after_over_forecast(
        daily,
        located["row"].to_numpy(),
        days.to_numpy(),
        located["rate_per_day"].to_numpy(),
        args.ahead,
    )
    groups = {
        "all": np.ones(ratio.size, dtype=bool),
        f"<= {args.ramp:g}": ratio <= args.ramp,
        f"> {args.ramp:g}": ratio > args.ramp,
    }
    rows = []
    for name, keep in groups.items():
        part = windows.filter(pl.Series(keep))
        sums = ltd.calibration_sums(keys, daily, first, part, *positional[4:], **keywords)
        for row in curve_points(sums, args.measure):
            rows.append({"windows": name, "count": int(keep.sum())} | row)
    print(
        f"# {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, first refit, {args.measure} targets, "
        f"as_of {config.planning.as_of or 'day after last sale'}; windows from {first}"
    )
    with pl.Config(tbl_rows=80, tbl_formatting="MARKDOWN"):
        print(pl.DataFrame(rows).sort("method", "pattern", "windows"))
        pattern = keys["demand_pattern"].to_numpy()[located["row"].to_numpy()]
        print(f"\nshare of windows followed by more than {args.ramp:g} x the forecast:\n")
        print(
            pl.DataFrame({"pattern": pattern, "above": ratio > args.ramp})
            .group_by("pattern")
            .agg(pl.len().alias("windows"), pl.col("above").mean().round(3).alias("share"))
            .sort("pattern")
        )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
