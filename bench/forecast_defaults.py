"""Choose the forecast defaults from measurements: accuracy and cost of each setting.

    python bench/forecast_defaults.py                 # the bundled sample data
    python bench/forecast_defaults.py -c my.yaml      # your exports

The last `--holdout` buckets are hidden; for each variant of the `forecast:` settings
stockplan classifies, backtests, picks and forecasts exactly as `plan` does, and every
series with a complete holdout and a non-zero in-sample naive error is scored: MASE
(scaled by the one-step naive error), averaged over all of them. Cost is the CPU time
(user + sys, own process and children) and wall time of the forecast stage, median of
`--runs` runs, with the load average at the time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from forecast_accuracy import history_from_config  # noqa: E402

import stockplan.forecast as forecast_module  # noqa: E402
from stockplan.demand import BUCKET_DAYS, SERIES, bucket_start  # noqa: E402
from stockplan.forecast import forecast_demand  # noqa: E402
from stockplan.segmentation import classify_demand  # noqa: E402

# `refit`: how the backtest fits AutoETS / AutoTheta (forecast.EXPENSIVE_REFIT): False fits
# once at the first origin and carries it forward (the default), True refits at every origin.
# `carried`: which of them forecast from that backtest fit carried on to the end of the history
# (forecast.CARRIED_TO_FORECAST; default AutoETS) rather than refitted on the whole history
VARIANTS = {
    "default": {},
    "refit both for forecast": {"carried": set()},
    "carry AutoTheta instead": {"carried": {"AutoTheta"}},
    "carry both to forecast": {"carried": {"AutoETS", "AutoTheta"}},
    "before: refit, 6 windows": {"backtest_windows": 6, "refit": True},
    "refit, 8 windows": {"refit": True},
    "fit once, 6 windows": {"backtest_windows": 6},
    "fit once, 7 windows": {"backtest_windows": 7},
    "fit once, 10 windows": {"backtest_windows": 10},
    "n_jobs 2": {"n_jobs": 2},
    "expensive A+B": {"expensive_classes": ["A", "B"]},
    "expensive A+B+C": {"expensive_classes": ["A", "B", "C"]},
    "cheap only": {"expensive_classes": []},
    "cheap only, 6 windows": {"expensive_classes": [], "backtest_windows": 6},
    "cheap only, top 1": {"expensive_classes": [], "combine_top": 1},
}


CARRIED = forecast_module.CARRIED_TO_FORECAST


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def mase_every_series(train: pl.DataFrame, test: pl.DataFrame, forecast: pl.DataFrame) -> float:
    """Mean over series of mean|actual - forecast| / mean|y_t - y_{t-1}| (in-sample)."""
    scale = (
        train.sort([*SERIES, "period_start"])
        .group_by(SERIES, maintain_order=True)
        .agg(pl.col("demand").diff().abs().mean().alias("scale"))
        .filter(pl.col("scale") > 0)
    )
    errors = (
        test.join(forecast, on=[*SERIES, "period_start"], how="left")
        .group_by(SERIES)
        .agg(
            (pl.col("demand") - pl.col("forecast").fill_null(0.0)).abs().mean().alias("mae"),
            pl.len().alias("n"),
        )
    )
    holdout = test.group_by(SERIES).agg(pl.len().alias("n"))["n"].max()
    scored = errors.filter(pl.col("n") == holdout).join(scale, on=SERIES)
    return float((scored["mae"] / scored["scale"]).mean()), scored.height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-c", "--config", type=Path, default=ROOT / "config.example.yaml")
    parser.add_argument("--holdout", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="variant names to run")
    args = parser.parse_args()
    history, as_of, bucket, config = history_from_config(args.config)
    days = BUCKET_DAYS[bucket]
    cutoff = pl.select(bucket_start(pl.lit(as_of), bucket)).item() - dt.timedelta(
        days=args.holdout * days
    )
    train = history.filter(pl.col("period_start") < cutoff)
    test = history.filter(pl.col("period_start") >= cutoff)
    classes = classify_demand(train, cutoff, bucket, config.classify)
    print(f"{os.cpu_count()} cores, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    for name, update in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        update = dict(update)
        refit = update.pop("refit", False)
        forecast_module.EXPENSIVE_REFIT = dict.fromkeys(forecast_module.EXPENSIVE_MODELS, refit)
        forecast_module.CARRIED_TO_FORECAST = update.pop("carried", CARRIED)
        settings = config.forecast.model_copy(update=update)
        walls, cpus, loads = [], [], []
        for _ in range(args.runs):
            loads.append(os.getloadavg()[0])
            cpu, wall = _cpu(), time.perf_counter()
            forecast, _ = forecast_demand(train, classes, bucket, settings, args.holdout)
            walls.append(time.perf_counter() - wall)
            cpus.append(_cpu() - cpu)
        score, series = mase_every_series(train, test, forecast)
        print(
            f"{name:26s} MASE {score:.4f} over {series} series; forecast stage CPU "
            f"{statistics.median(cpus):6.2f} s, wall {statistics.median(walls):6.2f} s "
            f"(median of {args.runs}; load average {min(loads):.1f}-{max(loads):.1f})",
            flush=True,
        )


if __name__ == "__main__":
    main()
