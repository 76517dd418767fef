"""Scale-out benchmark: the whole plan on a local Dask cluster against the local engine.

    python bench/scale_out.py                          # 30k series, 3 runs each
    python bench/scale_out.py --series 30490 100000 300000 --runs 3 --local-up-to 100000
    python bench/scale_out.py --series 3000 --days 365 --runs 1      # a quick check
    python bench/scale_out.py --series 3000 --days 365 --runs 1 --item-datasets
    python bench/scale_out.py --generate-only --series 100000        # only the data

For each size it generates the M5-shaped data of `bench/m5_scale.py` (the same seeded
draws, so the same rows: items x 10 stores, mostly slow intermittent series) as a
Parquet dataset: `sales/` holds one part file per block of 2,000 series, written as each
block is drawn, so generating never holds more than one block's lines (a 300,000-series
set has about 240 million lines). Stock and products are single files, or with
`--item-datasets` folders of part files of 20,000 rows (`stock/`, `products/`), which the
Dask tasks read themselves like the sales. Then it plans it
with `stockplan plan`'s own loading (`api.read_inputs(config, for_plan=True)`) and
`pipeline.run_plan`, each run in a fresh Python process: first `forecast.engine: local`
(`forecast.n_jobs` = the machine's cores; it reads the dataset's part files one by one),
then `forecast.engine: dask` (a local Dask cluster, one single-threaded worker per core,
started and stopped inside the run), whose tasks each read their own slice of the
dataset: the driver never reads the sales lines, and (as `plan -o FOLDER -f parquet --all`
with `io.parquet_parts: on`) whose workers write the per-series tables (forecast, demand
history, orders, risk, classes, excess, large orders) as part files into `plan-dask/` of
the data folder: the driver never gathers them either (their writing counts in the Dask
run; the local run writes nothing; the Dask run's orders are read back from the part
files after the run, for the comparison with the local plan). `--local-up-to N` skips the local
baseline for sizes above N series (the local plan holds every sales line in one process:
about 3.3 GB at 30,490 series x 1,941 days, so 300,000 series would need about 33 GB);
the Dask / local ratios are then reported as not measured. Per run it records

- wall seconds of the plan (load to result tables, cluster start and stop included),
- CPU seconds (user + sys) of the process and every worker it started (RUSAGE_CHILDREN
  of this parent over the child's lifetime, so process start-up and imports count),
- peak proportional set size (PSS) of the driver process alone, and of all its worker
  processes together, sampled every 0.2 s (`m5_scale.MemorySampler`),
- the 1-minute load average before and after,
- how many order lines of the Dask plan have the local plan's order quantity.

and prints medians per size and engine, and Dask / local ratios of wall and CPU.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def child(engine: str, config_path: Path, out: Path) -> None:
    """One plan in this process; prints one JSON line."""
    from m5_scale import MemorySampler

    from stockplan.api import read_inputs
    from stockplan.config import load_config
    from stockplan.io.parts import PartsOutput, offering
    from stockplan.pipeline import run_plan

    with MemorySampler() as peaks:
        begin = time.perf_counter()
        config = load_config(config_path)
        config = config.model_copy(
            update={
                "forecast": config.forecast.model_copy(update={"engine": engine}),
                "io": config.io.model_copy(update={"parquet_parts": "on"}),
            }
        )
        tables = read_inputs(config, for_plan=True).tables  # as `stockplan plan` reads them
        # as `plan -o FOLDER -f parquet`: on Dask the workers write forecast and history
        parts = PartsOutput(out.parent / f"plan-{engine}", all_rows=True)
        with offering(parts):
            result = run_plan(tables, config, include_all=True)
        parts.publish()
        wall = time.perf_counter() - begin
    orders, classes = result.tables["orders"], result.tables["classes"]
    if getattr(result, "totals", None) is not None:  # the workers wrote orders and classes
        import polars as pl

        orders = pl.read_parquet(parts.target / "orders" / "*.parquet")
        classes = pl.scan_parquet(parts.target / "classes" / "*.parquet").collect()
    orders.select("sku", "location", "order_qty").write_parquet(out)
    print(
        json.dumps(
            {
                "wall": wall,
                "driver_mb": peaks.driver_mb,
                "workers_mb": peaks.workers_mb,
                "series": classes.height,
            }
        )
    )


def item_datasets(folder: Path, rows_per_part: int = 20_000) -> None:
    """`stock/` and `products/` beside the single files: the same rows as Parquet part
    files of `rows_per_part` rows (skipped when they exist), for `--item-datasets`."""
    import polars as pl

    for table in ("stock", "products"):
        parts = folder / table
        if parts.exists():
            continue
        rows = pl.read_parquet(folder / f"{table}.parquet")
        staging = folder / f".{table}.tmp"
        staging.mkdir(exist_ok=True)
        for index, start in enumerate(range(0, rows.height, rows_per_part)):
            rows.slice(start, rows_per_part).write_parquet(staging / f"part-{index:05d}.parquet")
        staging.rename(parts)


def config_for(
    folder: Path, days: int, holdout: int, cores: int, items_as_datasets: bool = False
) -> Path:
    import yaml
    from m5_scale import START

    end = START + dt.timedelta(days=days)
    as_of = end - dt.timedelta(weeks=holdout)
    as_of -= dt.timedelta(days=as_of.weekday())
    path = folder / "scale_out.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "inputs": {
                    "sales": "sales",  # the dataset folder of part files
                    "stock": "stock" if items_as_datasets else "stock.parquet",
                    "products": "products" if items_as_datasets else "products.parquet",
                },
                "planning": {"as_of": as_of.isoformat(), "bucket": "week"},
                "forecast": {"n_jobs": cores, "expensive_classes": []},
            }
        )
    )
    return path


def run(engine: str, config_path: Path, out: Path) -> dict:
    load_before = os.getloadavg()[0]
    cpu_before = children_cpu()
    done = subprocess.run(
        [sys.executable, __file__, "--child", engine, str(config_path), str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "NIXTLA_ID_AS_COL": "1"},
    )
    if done.returncode:
        sys.exit(f"{engine} run failed:\n{done.stderr[-3000:]}")
    record = json.loads(done.stdout.strip().splitlines()[-1])
    record["cpu"] = children_cpu() - cpu_before
    record["load"] = (load_before, os.getloadavg()[0])
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, nargs="+", default=[30490])
    parser.add_argument("--days", type=int, default=1941, help="days of sales (default 1941)")
    parser.add_argument("--holdout", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path("/tmp/stockplan-scale"))
    parser.add_argument(
        "--local-up-to",
        type=int,
        default=None,
        metavar="N",
        help="run the local baseline only for sizes up to N series (default: every size); "
        "above it only Dask runs and the Dask / local ratios are not measured",
    )
    parser.add_argument("--generate-only", action="store_true", help="write the data sets and stop")
    parser.add_argument(
        "--item-datasets",
        action="store_true",
        help="give stock and products as Parquet datasets too (folders of part files of "
        "20,000 rows): on Dask the tasks read them, each its own slice",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        engine, config_path, out = args.child
        child(engine, Path(config_path), Path(out))
        return

    import polars as pl
    from m5_scale import generate_dataset

    cores = len(os.sched_getaffinity(0))
    memory_gb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    print(f"machine: {cores} cores, {memory_gb:.0f} GB")
    results = {}
    for series in args.series:
        folder = args.data / f"{series}x{args.days}-dataset"
        started = time.perf_counter()
        generate_dataset(folder, series, args.days)
        generated = time.perf_counter() - started
        lines = pl.scan_parquet(folder / "sales" / "*.parquet").select(pl.len()).collect().item()
        parts = len(list((folder / "sales").glob("*.parquet")))
        print(
            f"\n{series} series, {lines:,} sales lines in {parts} part files "
            f"({generated:.0f} s, peak RSS of this process "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB)",
            flush=True,
        )
        if args.generate_only:
            continue
        if args.item_datasets:
            item_datasets(folder)
        config_path = config_for(folder, args.days, args.holdout, cores, args.item_datasets)
        with_local = args.local_up_to is None or series <= args.local_up_to
        engines = ("local", "dask") if with_local else ("dask",)
        if not with_local:
            print(f"  local baseline skipped (--local-up-to {args.local_up_to})")
        records: dict[str, list[dict]] = {engine: [] for engine in engines}
        for index in range(args.runs):
            for engine in engines:
                record = run(engine, config_path, folder / f"orders-{engine}.parquet")
                records[engine].append(record)
                print(
                    f"  run {index + 1} {engine:5}: {record['wall']:6.1f} s wall, "
                    f"{record['cpu']:6.1f} s CPU, driver {record['driver_mb']:6,.0f} MB, "
                    f"workers {record['workers_mb']:6,.0f} MB, load "
                    f"{record['load'][0]:.1f} -> {record['load'][1]:.1f}",
                    flush=True,
                )
            if not with_local:
                continue
            local = pl.read_parquet(folder / "orders-local.parquet")
            dask = pl.read_parquet(folder / "orders-dask.parquet")
            both = local.join(dask, on=["sku", "location"], suffix="_dask")
            same = (both["order_qty"] == both["order_qty_dask"]).sum()
            print(f"  order lines with the local quantity: {same:,} of {local.height:,}")
        summary: dict = {"lines": lines, "local_skipped": not with_local}
        for engine, runs in records.items():
            summary[engine] = {
                key: statistics.median(r[key] for r in runs)
                for key in ("wall", "cpu", "driver_mb", "workers_mb")
            }
        summary["runs"] = records
        results[series] = summary
        dask = summary["dask"]
        line = (
            f"  median of {args.runs}: dask {dask['wall']:.1f} s wall / {dask['cpu']:.1f} s "
            f"CPU, driver {dask['driver_mb']:,.0f} MB, workers {dask['workers_mb']:,.0f} MB"
        )
        if with_local:
            local = summary["local"]
            summary["ratio_wall"] = dask["wall"] / local["wall"]
            summary["ratio_cpu"] = dask["cpu"] / local["cpu"]
            line += (
                f"; local {local['wall']:.1f} s wall / {local['cpu']:.1f} s CPU, driver "
                f"{local['driver_mb']:,.0f} MB, workers {local['workers_mb']:,.0f} MB; "
                f"dask / local: wall {summary['ratio_wall']:.2f}, CPU {summary['ratio_cpu']:.2f}"
            )
        else:
            line += "; dask / local: not measured (local baseline skipped)"
        print(line, flush=True)
    if args.generate_only:
        return
    out = args.data / "scale_out.json"
    out.write_text(json.dumps(results, indent=1))
    print(f"\nrecords: {out}")


if __name__ == "__main__":
    main()
