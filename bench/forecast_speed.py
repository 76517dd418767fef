"""Time the forecast stage (backtest, selection, bands) on a config's history.

    python bench/forecast_speed.py                                    # the bundled sample
    python bench/forecast_speed.py -c my.yaml --baseline old_forecast.py

`forecast_demand` runs on the whole history with `n_jobs` 1 (worker processes would hide
their CPU time): median CPU and wall seconds of `--runs` runs after one warm-up, with the
1-minute load average. `--baseline` is a copy of an earlier `stockplan/forecast.py`
(e.g. `git show REV:stockplan/forecast.py > old_forecast.py`), timed alternately in the
same process on the same inputs; the script prints the CPU ratio.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-c", "--config", type=Path, default=ROOT / "config.example.yaml")
    parser.add_argument("--baseline", type=Path, help="an earlier stockplan/forecast.py")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--horizon", type=int, default=13, help="buckets ahead (default 13)")
    args = parser.parse_args()

    from forecast_accuracy import history_from_config

    import stockplan.forecast as current
    from stockplan.segmentation import classify_demand

    history, as_of, bucket, config = history_from_config(args.config)
    classes = classify_demand(history, as_of, bucket, config.classify)
    settings = config.forecast.model_copy(update={"n_jobs": 1})
    versions = {"current": current}
    if args.baseline is not None:
        spec = importlib.util.spec_from_file_location("baseline_forecast", args.baseline)
        baseline = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(baseline)
        versions["baseline"] = baseline
    current.forecast_demand(history, classes, bucket, settings, args.horizon)  # warm-up
    cpu: dict[str, list[float]] = {name: [] for name in versions}
    wall: dict[str, list[float]] = {name: [] for name in versions}
    for _ in range(args.runs):
        for name, module in versions.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            module.forecast_demand(history, classes, bucket, settings, args.horizon)
            cpu[name].append(time.process_time() - started_cpu)
            wall[name].append(time.perf_counter() - started)
    print(
        f"{history.select('sku', 'location').n_unique()} series, {platform.machine()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; median of {args.runs}"
    )
    for name in versions:
        print(
            f"{name}: CPU {statistics.median(cpu[name]):.2f} s, "
            f"wall {statistics.median(wall[name]):.2f} s"
        )
    if "baseline" in versions:
        ratio = statistics.median(cpu["current"]) / statistics.median(cpu["baseline"])
        print(f"CPU ratio current / baseline: {ratio:.3f}")


if __name__ == "__main__":
    main()
