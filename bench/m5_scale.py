"""Scale benchmark: the full weekly plan on an M5-shaped data set, against plain AutoETS.

    python bench/m5_scale.py                     # 30,490 series x 1,941 days, 2 jobs
    python bench/m5_scale.py --series 3049       # a tenth, for a quick look
    python bench/m5_scale.py --data DIR          # reuse / keep the generated files in DIR

Generates (seed 20261125) sales lines for 3,049 items x 10 stores over 1,941 days like
the M5 competition data (mostly slow, intermittent series; weekly and yearly patterns;
staggered launches), a stock snapshot and a product master, as Parquet. Then, in one
process:

1. `stockplan plan` as a user runs it (load, censoring, classes, forecast, policy, risk,
   transfers, orders) with `planning.as_of` set `--holdout` weeks before the data ends,
   timing every stage;
2. a plain statsforecast AutoETS forecast of the same weekly series (same jobs);
3. both forecasts scored on the held-out weeks (RMSSE, MASE, utilsforecast);
4. peak RSS of this process and its workers, and `stockplan --help` wall time.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import resource
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

# isort: split
import stockplan  # noqa: F401  # before polars, as the command imports it (allocator settings)

# isort: split
import polars as pl
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED = 20261125
START = dt.date(2011, 1, 29)
STORES = ["CA_1", "CA_2", "CA_3", "CA_4", "TX_1", "TX_2", "TX_3", "WI_1", "WI_2", "WI_3"]
CATEGORIES = ["FOODS", "HOUSEHOLD", "HOBBIES"]


BLOCK = 2000
"""Series per part file of the generated sales dataset (one block of draws)."""
RECENT_DAYS = 28


def generate_dataset(folder: Path, n_series: int, n_days: int) -> None:
    """The M5-shaped data, written as it is drawn: `sales/part-NNNNN.parquet` per block of
    BLOCK series, then stock.parquet and products.parquet. Only one block's lines are in memory at a
    time, with a few numbers per series. Skipped when `folder/stock.parquet` exists (the
    last file written)."""
    if (folder / "stock.parquet").exists():
        return
    sales = folder / "sales"
    sales.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    n_items = max(1, n_series // len(STORES))
    n_series = n_items * len(STORES)
    items = [f"ITEM_{i:05d}" for i in range(n_items)]
    category = rng.choice(CATEGORIES, n_items, p=[0.47, 0.34, 0.19])
    price = np.round(np.exp(rng.normal(1.2, 0.8, n_items)), 2)
    days = np.arange(n_days)
    weekday = np.array([1.25, 1.3, 0.95, 0.9, 0.9, 0.95, 1.05])[(days + 5) % 7]
    yearly = 1 + 0.15 * np.cos(2 * np.pi * (days - 200) / 365.25)
    sku_all = np.repeat(np.array(items), len(STORES))[:n_series]
    store_all = np.tile(np.array(STORES), n_items)[:n_series]
    levels = np.exp(rng.normal(-0.6, 1.2, n_series))
    launch = np.where(rng.random(n_series) < 0.3, rng.integers(0, n_days - 120, n_series), 0)
    # the last 2 x 28 days of every series: the stock's recent rate is taken over the 28
    # days up to the last day any series sold
    tail = np.zeros((n_series, 2 * RECENT_DAYS), dtype=np.int32)
    last_day = -1
    for lo in range(0, n_series, BLOCK):
        hi = min(lo + BLOCK, n_series)
        rate = levels[lo:hi, None] * weekday[None, :] * yearly[None, :]
        rate = np.where(days[None, :] >= launch[lo:hi, None], rate, 0.0)
        qty = rng.poisson(rate).astype(np.int32)
        tail[lo:hi, -min(n_days, 2 * RECENT_DAYS) :] = qty[:, -2 * RECENT_DAYS :]
        row, col = np.nonzero(qty)
        last_day = max(last_day, int(col.max()) if col.size else -1)
        pl.DataFrame(
            {
                "date": (np.datetime64(START) + col.astype("timedelta64[D]")).astype(
                    "datetime64[D]"
                ),
                "sku": sku_all[lo:hi][row],
                "location": store_all[lo:hi][row],
                "quantity": qty[row, col],
            }
        ).write_parquet(sales / f"part-{lo // BLOCK:05d}.parquet")
    end = 2 * RECENT_DAYS - (n_days - 1 - last_day)  # one past the last day sold, in `tail`
    sold = tail[:, max(0, end - RECENT_DAYS) : max(0, end)].sum(axis=1)
    on_hand = np.round(sold / RECENT_DAYS * rng.uniform(0, 30, n_series))
    products = pl.DataFrame(
        {
            "sku": items,
            "category": category,
            "unit_price": price,
            "unit_cost": np.round(price * 0.6, 2),
            "supplier": rng.choice(["Supplier A", "Supplier B", "Supplier C"], n_items),
            "lead_time_days": rng.choice([7.0, 14.0, 21.0], n_items),
        }
    )
    products.write_parquet(folder / "products.parquet")
    pl.DataFrame({"sku": sku_all, "location": store_all, "on_hand": on_hand}).write_parquet(
        folder / "stock.parquet"
    )


def generate(folder: Path, n_series: int, n_days: int) -> None:
    """Write sales.parquet, stock.parquet, products.parquet (skipped when present): the
    data of `generate_dataset`, its sales part files joined into one file in order."""
    if (folder / "sales.parquet").exists():
        return
    generate_dataset(folder, n_series, n_days)
    parts = folder / "sales"
    pl.scan_parquet(parts / "*.parquet").sink_parquet(folder / "sales.parquet")
    shutil.rmtree(parts)


def cpu_seconds() -> float:
    """User + sys CPU of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def peak_rss_mb() -> tuple[float, float]:
    """(this process, largest finished child) peak resident set, MB (Linux: KB units)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def consistent_total(process) -> tuple[int, int, bool] | None:
    """(PSS of `process`, summed PSS of its descendants, whether the same descendants
    existed before and after the reads); None when `process` could not be read."""
    import psutil

    def descendants() -> set[tuple[int, float]]:
        found = set()
        for child in process.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                found.add((child.pid, child.create_time()))
        return found

    before = descendants()
    try:
        driver = process.memory_full_info().pss
    except psutil.Error:
        return None
    workers = 0
    children = process.children(recursive=True)
    for child in children:
        with contextlib.suppress(psutil.Error):
            workers += child.memory_full_info().pss
    return driver, workers, descendants() == before


class MemorySampler:
    """Peak of the summed proportional set size (PSS) of this process and all its
    descendants, sampled every `interval` seconds from /proc (psutil): the physical memory
    they use together. PSS splits a page shared by n processes (a forked worker's
    copy-on-write view of its parent) n ways, where summing RSS would count it n times.
    `driver_mb` and `workers_mb` keep the peaks of this process alone and of its
    descendants together.

    A sample counts only when the same descendants exist before and after it is read
    (`consistent_total`): reading this process's PSS (tens of ms on a 2 GB process) while
    a statsforecast pool forks its workers counts the pages they share twice, the
    driver's whole before the fork, each worker's share after it (up to 1 GB here).
    `naive_peak_mb` keeps the peak of every sample, as measured before, for comparison;
    `discarded` counts the samples left out."""

    def __init__(self, interval: float = 0.2) -> None:
        import threading

        self.interval = interval
        self.peak_mb = 0.0
        self.stage_mb = 0.0  # peak since the last `stage_peak()`
        self.naive_peak_mb = 0.0
        self.naive_stage_mb = 0.0
        self.naive_stages: list[float] = []  # naive peak of each stage_peak() interval
        self.discarded = 0
        self.driver_mb = 0.0
        self.workers_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            sample = consistent_total(me)
            if sample is None:
                self._stop.wait(self.interval)
                continue
            driver, workers, consistent = sample
            total = driver + workers
            self.naive_peak_mb = max(self.naive_peak_mb, total / 2**20)
            self.naive_stage_mb = max(self.naive_stage_mb, total / 2**20)
            if consistent:
                self.driver_mb = max(self.driver_mb, driver / 2**20)
                self.workers_mb = max(self.workers_mb, workers / 2**20)
                self.peak_mb = max(self.peak_mb, total / 2**20)
                self.stage_mb = max(self.stage_mb, total / 2**20)
            else:
                self.discarded += 1
            self._stop.wait(self.interval if consistent else 0.0)

    def stage_peak(self) -> float:
        """Peak MB since the previous call; starts the next stage's count."""
        peak, self.stage_mb = self.stage_mb, 0.0
        self.naive_stages.append(self.naive_stage_mb)
        self.naive_stage_mb = 0.0
        return peak

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def help_seconds() -> float:
    command = [sys.executable, "-m", "stockplan", "--help"]
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        best = min(best, time.perf_counter() - started)
    return best


def save_plan(tables: dict[str, pl.DataFrame], folder: Path) -> None:
    """Every table of the plan as `folder`/name.parquet, for `compare_plan` after a change."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.write_parquet(folder / f"{name}.parquet")


def compare_plan(tables: dict[str, pl.DataFrame], folder: Path) -> None:
    """Print whether every table equals the one saved in `folder`: the same columns, types
    and text, numbers equal to 1e-12 (the forecast's worker processes may sum in another
    order)."""
    from polars.testing import assert_frame_equal

    differ = []
    for name, frame in tables.items():
        saved = pl.read_parquet(folder / f"{name}.parquet")
        try:
            assert_frame_equal(frame, saved, check_exact=False, rel_tol=1e-12, abs_tol=1e-12)
        except AssertionError as error:
            differ.append(f"{name}: {str(error).splitlines()[0]}")
    print(
        f"plan tables against {folder}: "
        + ("identical" if not differ else "DIFFERENT\n  " + "\n  ".join(differ))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=30490)
    parser.add_argument("--days", type=int, default=1941)
    parser.add_argument("--holdout", type=int, default=4, help="held-out weeks (default 4)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--expensive-classes", default="A", help="e.g. A, AB, or none")
    parser.add_argument("--combine-top", type=int, default=None, help="forecast.combine_top")
    parser.add_argument("--censoring", default="auto", help="censoring.method")
    parser.add_argument("--data", type=Path, default=Path("/tmp/stockplan-m5"))
    parser.add_argument("--skip-ets", action="store_true", help="skip the plain AutoETS run")
    parser.add_argument(
        "--save-plan", type=Path, default=None, help="write the plan's tables as Parquet here"
    )
    parser.add_argument(
        "--compare-plan",
        type=Path,
        default=None,
        help="compare the plan's tables with those a --save-plan run wrote here",
    )
    args = parser.parse_args()
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")

    folder = args.data / f"{args.series}x{args.days}"
    started = time.perf_counter()
    generate(folder, args.series, args.days)
    print(f"data: {folder} ({time.perf_counter() - started:.1f} s)")
    end = START + dt.timedelta(days=args.days)
    as_of = end - dt.timedelta(weeks=args.holdout)
    as_of -= dt.timedelta(days=as_of.weekday())  # a Monday: whole weeks held out
    classes = [] if args.expensive_classes == "none" else list(args.expensive_classes.upper())
    config_path = folder / "stockplan.yaml"
    config_path.write_text(
        yaml.safe_dump(
            {
                "inputs": {
                    "sales": "sales.parquet",
                    "stock": "stock.parquet",
                    "products": "products.parquet",
                },
                "planning": {"as_of": as_of.isoformat(), "bucket": "week"},
                "censoring": {"method": args.censoring},
                "forecast": {
                    "n_jobs": args.n_jobs,
                    "expensive_classes": classes,
                    **({"combine_top": args.combine_top} if args.combine_top else {}),
                },
            }
        )
    )

    from stockplan.config import load_config
    from stockplan.io.prepare import prepare_inputs
    from stockplan.io.readers import load_inputs
    from stockplan.pipeline import run_plan

    stages: list[tuple[str, float]] = []
    clock = [time.perf_counter()]

    stage_mb: list[float] = []

    def mark(message: str, total: int | None = None) -> None:
        now = time.perf_counter()
        if not stages or stages[-1][0] != message:
            stages.append((message, now))
            stage_mb.append(sampler.stage_peak())

    sampler = MemorySampler().__enter__()
    cpu_begin = cpu_seconds()
    begin = time.perf_counter()
    config = load_config(config_path)
    tables = prepare_inputs(load_inputs(config), config).tables
    stages.append(("load and check inputs", time.perf_counter()))
    stage_mb.append(sampler.stage_peak())
    clock[0] = begin
    result = run_plan(tables, config, include_all=True, progress=mark)
    finished = time.perf_counter()
    plan_seconds = finished - begin
    plan_cpu = cpu_seconds() - cpu_begin
    plan_rss = peak_rss_mb()
    plan_total_mb = sampler.peak_mb
    plan_naive_mb = sampler.naive_peak_mb
    print(
        f"\nfull plan: {plan_seconds:.1f} s wall, {plan_cpu:.1f} s CPU (this process and its "
        f"workers) on {args.n_jobs} jobs; load average {os.getloadavg()[0]:.1f}"
    )
    starts = [("load and check inputs", begin)] + stages[1:] + [("end", finished)]
    # each stage's peak, all processes (0: too short for a sample)
    stage_mb = [max(stage_mb[:2]), *stage_mb[2:], sampler.stage_peak()]
    # the same with every sample counted, also those read while a worker started or ended
    naive_mb = [max(sampler.naive_stages[:2]), *sampler.naive_stages[2:]]
    for ((name, start), (_, stop)), mb, naive in zip(
        zip(starts, starts[1:], strict=False), stage_mb, naive_mb, strict=False
    ):
        print(f"  {stop - start:7.1f} s  {mb:7,.0f} MB  ({naive:7,.0f} every sample)  {name}")
    print(
        f"  {sampler.discarded} samples read while a worker started or ended, left out: "
        f"peak {plan_total_mb:,.0f} MB, {plan_naive_mb:,.0f} MB with them"
    )

    plan_tables = {**result.tables, "history": result.history, "plan_rows": result.plan_rows}
    if args.save_plan is not None:
        save_plan(plan_tables, args.save_plan)
    if args.compare_plan is not None:
        compare_plan(plan_tables, args.compare_plan)

    history = result.history
    weekly = history.select(
        pl.concat_str("sku", pl.lit("/"), "location").alias("unique_id"),
        pl.col("period_start").alias("ds"),
        pl.col("demand").alias("y"),
    )
    actual = (
        tables["sales"]
        .filter(pl.col("date") >= as_of)
        .with_columns(pl.col("date").dt.truncate("1w").alias("ds"))
        .group_by("sku", "location", "ds")
        .agg(pl.col("quantity").sum().alias("y"))
        .with_columns(pl.concat_str("sku", pl.lit("/"), "location").alias("unique_id"))
    )
    ours = result.tables["forecast"].select(
        pl.concat_str("sku", pl.lit("/"), "location").alias("unique_id"),
        pl.col("period_start").alias("ds"),
        pl.col("forecast").alias("stockplan"),
    )
    ets_seconds = None
    frame = ours
    if not args.skip_ets:
        from statsforecast import StatsForecast
        from statsforecast.models import AutoETS, Naive

        plain_input = weekly.sort("unique_id", "ds")
        started = time.perf_counter()
        ets_cpu = cpu_seconds()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ets = StatsForecast(
                models=[AutoETS(season_length=1)],
                freq="7d",
                n_jobs=args.n_jobs,
                fallback_model=Naive(),  # AutoETS refuses series of one or two points
            ).forecast(df=plain_input, h=args.holdout)
        ets_seconds = time.perf_counter() - started
        ets_cpu = cpu_seconds() - ets_cpu
        frame = frame.join(
            ets.with_columns(pl.col("AutoETS").fill_nan(0.0).clip(lower_bound=0.0)),
            on=["unique_id", "ds"],
        )
    frame = frame.join(weekly.select("unique_id").unique(), on="unique_id", how="semi").join(
        actual.select("unique_id", "ds", "y"), on=["unique_id", "ds"], how="left"
    )
    frame = frame.with_columns(pl.col("y").fill_null(0.0)).filter(
        pl.col("ds") < as_of + dt.timedelta(weeks=args.holdout)
    )
    from utilsforecast.losses import mase, rmsse

    models = ["stockplan"] + (["AutoETS"] if ets_seconds is not None else [])
    train = weekly.join(frame.select("unique_id").unique(), on="unique_id", how="semi")
    scores = {
        "RMSSE": rmsse(frame, models, seasonality=1, train_df=train),
        "MASE": mase(frame, models, seasonality=1, train_df=train),
    }
    print(
        f"\naccuracy on the {args.holdout} held-out weeks ({frame['unique_id'].n_unique()} series):"
    )
    for metric, table in scores.items():
        values = ", ".join(
            f"{m} {table.filter(pl.col(m).is_finite())[m].mean():.3f}" for m in models
        )
        print(f"  {metric}: {values}")
    if ets_seconds is not None:
        print(
            f"\nplain AutoETS forecast of the same {weekly['unique_id'].n_unique()} series: "
            f"{ets_seconds:.1f} s wall, {ets_cpu:.1f} s CPU; full plan / AutoETS = "
            f"{plan_seconds / ets_seconds:.2f} wall, {plan_cpu / ets_cpu:.2f} CPU"
        )
    sampler.__exit__()
    own, children = plan_rss
    print(
        f"peak memory of the plan, all processes together (PSS): {plan_total_mb:,.0f} MB"
        f" (peak RSS of this process alone {own:,.0f} MB, largest worker {children:,.0f} MB)"
    )
    own, children = peak_rss_mb()
    print(
        f"peak memory of the whole benchmark, all processes together (PSS): "
        f"{sampler.peak_mb:,.0f} MB (peak RSS of this process alone {own:,.0f} MB, "
        f"largest worker {children:,.0f} MB)"
    )
    print(f"stockplan --help: {help_seconds():.2f} s")


if __name__ == "__main__":
    main()
