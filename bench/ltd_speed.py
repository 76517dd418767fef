"""Time the lead-time-demand calibration that every plan runs, on the plan's own inputs.

    python bench/ltd_speed.py                                   # the bundled sample
    python bench/ltd_speed.py -c my.yaml --baseline old_ltd.py  # against another version

The plan stage runs once (forecast included) to capture the arguments it passes to
`history_lead_time_demand`; then that call alone is timed: median wall and CPU seconds
of `--runs` runs, with the 1-minute load average. `--baseline` is a copy of an earlier
`stockplan/lead_time_demand.py` (e.g. `git show REV:stockplan/lead_time_demand.py`) timed
in the same process on the same arguments; the script prints the ratio and how far its
order-up-to levels move (the share of series whose empirical S differs and the largest
relative change per pattern, at the config's targets).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def capture(config_path: Path):
    """Run the plan once; return the args and kwargs of its lead-time-demand call."""
    from stockplan import pipeline, series
    from stockplan.config import load_config
    from stockplan.io.prepare import prepare_inputs
    from stockplan.io.readers import load_inputs

    config = load_config(config_path)
    tables = prepare_inputs(load_inputs(config), config).tables
    seen = {}
    # the plan calls the calibration's first half; `history_lead_time_demand` takes the
    # same arguments and runs both halves
    real = series.lead_time_demand_sums

    def spy(*args, **kwargs):
        seen.setdefault("call", (args, kwargs))
        return real(*args, **kwargs)

    series.lead_time_demand_sums = spy
    try:
        pipeline.run_plan(tables, config)
    finally:
        series.lead_time_demand_sums = real
    return seen["call"]


def timed(function, args, kwargs, runs: int):
    walls, cpus, result = [], [], None
    for _ in range(runs):
        cpu, wall = time.process_time(), time.perf_counter()
        result = function(*args, **kwargs)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def levels(ltd, keys: pl.DataFrame, alpha: float) -> np.ndarray:
    from stockplan.lead_time_demand import empirical_order_up_to

    frame = keys.join(ltd.keys.with_row_index("i"), on=["sku", "location"]).with_columns(
        pl.lit(alpha).alias("service_level"),
        ((pl.col("lead_time_days") + 7) * 1.0).alias("demand_protection"),
        pl.lit(7.0).alias("review_days"),
    )
    frame = frame.with_columns(
        (pl.col("demand_protection") * pl.Series(np.nan_to_num(ltd.mean_day))).alias(
            "demand_protection"
        )
    )
    return frame, empirical_order_up_to(frame, ltd, "cycle", ltd.backorder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", type=Path, default=ROOT / "config.example.yaml")
    parser.add_argument("--baseline", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    call_args, call_kwargs = capture(args.config)
    from stockplan.lead_time_demand import history_lead_time_demand

    print(
        f"# {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
        f"{call_args[1].height} series, median of {args.runs}"
    )
    wall, cpu, new = timed(history_lead_time_demand, call_args, call_kwargs, args.runs)
    print(f"history_lead_time_demand: wall {wall:.3f} s, cpu {cpu:.3f} s")
    if args.baseline is None:
        return
    spec = importlib.util.spec_from_file_location("baseline_ltd", args.baseline)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    base_wall, base_cpu, old = timed(
        module.history_lead_time_demand, call_args, call_kwargs, args.runs
    )
    print(f"baseline: wall {base_wall:.3f} s, cpu {base_cpu:.3f} s")
    print(f"ratio (this / baseline): wall {wall / base_wall:.2f}, cpu {cpu / base_cpu:.2f}")
    print(f"methods: {new.methods} (baseline {old.methods})")
    keys = call_args[1].sort(["sku", "location"])
    for alpha in (0.9, 0.95, 0.98):
        frame, s_new = levels(new, keys, alpha)
        _, s_old = levels(old, keys, alpha)
        ok = np.isfinite(s_new) & np.isfinite(s_old) & (s_old > 0)
        rel = np.abs(s_new[ok] - s_old[ok]) / s_old[ok]
        print(
            f"alpha {alpha}: S differs on {np.mean(s_new[ok] != s_old[ok]):.1%} of "
            f"{ok.sum()} series; median |change| {np.median(rel):.1%}, "
            f"mean S {s_new[ok].mean():.2f} vs {s_old[ok].mean():.2f}"
        )


if __name__ == "__main__":
    main()
