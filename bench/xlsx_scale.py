"""Time writing the plan workbook (plan.xlsx) as the number of series grows.

    python bench/xlsx_scale.py                 # sample plan x 1 and x 15 (~10k series)
    python bench/xlsx_scale.py --copies 1 5 15

Runs `stockplan plan` on the config once (its cache, in a temporary folder, holds the
plan's tables), then writes the workbook of every table with the plan's own writer for
the sample copied N times under new SKU codes: median wall and CPU time of `--runs`
writes, with the load average. The ratio is to the single-copy workbook, same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stockplan import cache  # noqa: E402
from stockplan.io.writers import output_plan, write_files  # noqa: E402
from stockplan.items import for_people, item_names  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-c", "--config", type=Path, default=ROOT / "config.example.yaml")
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 15])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "cache"
        env = {**os.environ, "STOCKPLAN_CACHE_DIR": str(folder)}
        argv = [sys.executable, "-m", "stockplan", "plan", "-c", str(args.config), "-q"]
        subprocess.run([*argv, "-o", str(Path(tmp) / "p.csv")], env=env, check=True)
        (entry,) = [p for p in folder.iterdir() if p.is_dir()]
        tables, _, result, _ = cache.load(folder, entry.name)
        names = item_names(tables)
        info = {"as_of": result.as_of, "version": "bench", "config": str(args.config)}
        info |= {"inputs": {}, "currency": "CNY"}
        print(f"{os.cpu_count()} cores, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
        base = None
        for copies in args.copies:
            big = {
                name: pl.concat(
                    [frame.with_columns(pl.col("sku") + f"-{i}") for i in range(copies)]
                )
                if "sku" in frame.columns
                else frame
                for name, frame in result.tables.items()
            }
            shown = for_people(big, names, result.as_of)
            series = big["risk"].height
            cells = sum(f.height * f.width for f in shown.values())
            walls, cpus, loads = [], [], []
            for _ in range(args.runs):
                target = Path(tmp) / "plan.xlsx"
                loads.append(os.getloadavg()[0])
                cpu, wall = time.process_time(), time.perf_counter()
                write_files(output_plan(shown, target, None, "orders"), lang="en", info=info)
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
            wall = statistics.median(walls)
            base = base or wall
            print(
                f"x{copies:<3d} {series:6,d} series, {cells:9,d} cells: wall {wall:6.2f} s, "
                f"CPU {statistics.median(cpus):6.2f} s, x{wall / base:5.1f} of x1 "
                f"(median of {args.runs}; load average {min(loads):.1f}-{max(loads):.1f})",
                flush=True,
            )


if __name__ == "__main__":
    main()
