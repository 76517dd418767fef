"""The plan on a Dask, Ray or Spark cluster runs on the cluster's workers and gives the
local engine's plan: order lines, policy, risk, classes and forecast.

The dask extra is part of the test extras: without it this module fails to import, the
Dask tests are never skipped. Ray and Spark run when their extra is installed
(`pip install -e ".[ray]"` / `".[spark]"`, Spark needs Java), else they are skipped:
    .venv/bin/python -m pytest tests/test_engines.py -q
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from distributed import Client
from distributed.diagnostics.plugin import WorkerPlugin
from polars.testing import assert_frame_equal

import stockplan
from stockplan import engines
from stockplan.config import Classify, Forecast, parse_config
from stockplan.errors import StockplanError
from stockplan.forecast import forecast_demand
from stockplan.partitioned import partition_of
from stockplan.segmentation import classify_demand

AS_OF = dt.date(2025, 10, 13)
ROOT = Path(__file__).resolve().parents[1]


def _history() -> pl.DataFrame:
    rng = np.random.default_rng(3)
    weeks = 60
    start = AS_OF - dt.timedelta(weeks=weeks)
    frames = []
    for index in range(8):
        if index % 2:
            demand = np.where(rng.random(weeks) < 0.3, rng.integers(1, 5, weeks), 0)
        else:
            demand = rng.poisson(10 + 3 * index, weeks)
        frames.append(
            pl.DataFrame(
                {
                    "sku": f"S{index}",
                    "location": "W",
                    "period_start": [start + dt.timedelta(weeks=i) for i in range(weeks)],
                    "demand": demand.astype(float),
                    "revenue": demand.astype(float),
                }
            )
        )
    return pl.concat(frames)


def _executed_on_workers(client: Client) -> dict[int, int]:
    """Worker process id -> tasks it has executed, as recorded on the worker itself."""
    return {
        pid: count
        for pid, count in client.run(
            lambda dask_worker: (os.getpid(), len(getattr(dask_worker, "tasks_executed", [])))
        ).values()
    }


class CountExecuted(WorkerPlugin):
    """Records, on the worker, every task it finished executing."""

    name = "count-executed"

    def setup(self, worker) -> None:
        self.worker = worker
        worker.tasks_executed = []

    def transition(self, key, start, finish, **kwargs) -> None:
        if start == "executing" and finish == "memory":
            self.worker.tasks_executed.append(key)


@contextmanager
def counting_tasks(address: str) -> Iterator[Client]:
    """A client of the cluster at `address` whose workers count, from now on, every task
    they finish (`_executed_on_workers`); the count stops when the block ends, so that the
    session's cluster serves the next test as it was."""
    with Client(address) as client:
        client.register_plugin(CountExecuted())  # setup: each worker's count starts at 0
        try:
            yield client
        finally:
            client.unregister_worker_plugin(CountExecuted.name)


def test_dask_engine_runs_the_forecast_on_the_cluster_and_gives_the_local_result(
    dask_scheduler,
):
    history = _history()
    classes = classify_demand(history, AS_OF, "week", Classify())
    local = Forecast(backtest_windows=2)
    forecast_local, summary_local = forecast_demand(history, classes, "week", local, 6)
    with counting_tasks(dask_scheduler) as client:
        before = _executed_on_workers(client)
        assert sum(before.values()) == 0 and os.getpid() not in before
        remote = Forecast(backtest_windows=2, engine="dask", engine_address=dask_scheduler)
        forecast_dask, summary_dask = forecast_demand(history, classes, "week", remote, 6)
        after = _executed_on_workers(client)
    # the work ran in the worker process, not in this one
    assert sum(after.values()) > 0, after
    assert summary_local.height == 8
    assert summary_dask["model"].to_list() == summary_local["model"].to_list()
    assert np.allclose(summary_dask["sigma_e"], summary_local["sigma_e"], rtol=1e-6)
    assert forecast_dask.select("sku", "location", "period_start").equals(
        forecast_local.select("sku", "location", "period_start")
    )
    # the same fits on other processes: equal up to floating-point summation order
    assert np.allclose(forecast_dask["forecast"], forecast_local["forecast"], rtol=1e-6)


def test_unknown_engine_is_a_config_error():
    with pytest.raises(StockplanError, match="forecast.engine"):
        parse_config(
            {"inputs": {"sales": "s.csv", "stock": "k.csv"}, "forecast": {"engine": "hadoop"}}
        )


# ---- the whole plan, partitioned by sku ----

SKUS = 14


def _shop() -> dict[str, pl.DataFrame]:
    """14 skus in two warehouses, 420 days: steady, intermittent and one-warehouse items,
    values spread so that ABC over every series differs from ABC within a partition, two
    suppliers with receipts (lead times, scorecard), stock that sends one warehouse's
    surplus to the other (transfers)."""
    rng = np.random.default_rng(18)
    days = 420
    start = AS_OF - dt.timedelta(days=days)
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    sales, stock, orders = [], [], []
    for index in range(SKUS):
        sku = f"K{index:03d}"
        price = float(5 + 7 * index)
        for location in ("WH1", "WH2") if index % 3 else ("WH1",):
            rate = (0.3 if index % 4 == 1 else 2.0 + index) * (1.5 if location == "WH1" else 0.7)
            quantity = rng.poisson(rate, days)
            sales.append(
                pl.DataFrame(
                    {
                        "date": dates,
                        "sku": sku,
                        "location": location,
                        "quantity": quantity.astype(float),
                        "unit_price": price,
                    }
                ).filter(pl.col("quantity") > 0)
            )
            on_hand = float(rate * (80 if location == "WH2" and index % 5 == 0 else 9))
            stock.append((sku, location, on_hand, price * 0.6))
            supplier = "North" if index % 2 else "South"
            for k in range(6):
                ordered = start + dt.timedelta(days=40 + 60 * k)
                lead = int(rng.integers(6, 16) if supplier == "North" else rng.integers(3, 6))
                orders.append(
                    (
                        f"P{index}{location}{k}",
                        sku,
                        location,
                        supplier,
                        50.0,
                        ordered,
                        ordered + dt.timedelta(days=9),
                        ordered + dt.timedelta(days=lead),
                    )
                )
    return {
        "sales": pl.concat(sales),
        "stock": pl.DataFrame(
            stock, schema=["sku", "location", "on_hand", "unit_cost"], orient="row"
        ),
        "purchase_orders": pl.DataFrame(
            orders,
            schema=[
                "po_id",
                "sku",
                "location",
                "supplier",
                "quantity",
                "order_date",
                "expected_date",
                "received_date",
            ],
            orient="row",
        ),
    }


def _config(engine: str = "local", address: str | None = None, **policy: object):
    return parse_config(
        {
            "inputs": {"sales": "sales.csv", "stock": "stock.csv"},
            "planning": {"as_of": AS_OF.isoformat()},
            # parametric lead-time demand (the default bootstrap: tests/test_engine_global.py)
            "policy": {"lead_time_demand": "parametric", "quantile_method": "conformal", **policy},
            "forecast": {"backtest_windows": 2, "engine": engine, "engine_address": address},
            "transfers": {"enabled": True},
        }
    )


COMPARED = {
    "orders": None,
    "risk": None,
    "classes": None,
    "transfers": None,
    "supplier_orders": None,
    "excess": None,
    "forecast": None,  # lo / hi too: the band widths are pooled over every partition
}


def _assert_same_plan(local: stockplan.Plan, remote: stockplan.Plan) -> None:
    for name, columns in COMPARED.items():
        a, b = local.tables[name], remote.tables[name]
        if columns:
            a, b = a.select(columns), b.select(columns)
        try:
            assert_frame_equal(a, b, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)
        except AssertionError as error:
            raise AssertionError(f"table {name}: {error}") from None


@pytest.fixture(scope="module")
def shop_and_local_plan():
    shop = _shop()
    config = _config()
    plan = stockplan.plan(shop, config)
    # the fixture must exercise what the partitioned plan pools over every series
    orders = plan.tables["orders"]
    assert (orders["order_qty"] > 0).sum() >= 5
    assert plan.tables["transfers"].height >= 1
    assert set(plan.tables["classes"]["abc"]) == {"A", "B", "C"}
    return shop, plan


def test_dask_plans_every_stage_on_the_workers_and_gives_the_local_plan(
    shop_and_local_plan, dask_scheduler, monkeypatch
):
    shop, local = shop_and_local_plan
    # the driver maps over Polars frames: it needs neither Dask's frames nor pandas (their
    # imports cost about 2 s in every `stockplan plan` on Dask)
    monkeypatch.setitem(sys.modules, "dask.dataframe", None)  # import refused
    with counting_tasks(dask_scheduler) as client:
        remote = stockplan.plan(shop, _config("dask", dask_scheduler))
        executed = _executed_on_workers(client)
    assert os.getpid() not in executed
    # two partitions x (demand, values, supply, scores, orders, rows) at least
    assert sum(executed.values()) >= 12, executed
    _assert_same_plan(local, remote)


def test_abc_is_ranked_over_every_series_not_within_a_partition(shop_and_local_plan):
    """Ranked alone, a partition would class some of its series otherwise: the equal
    classes of the Dask plan come from ranking every series on the driver."""
    shop, local = shop_and_local_plan
    classes = local.tables["classes"].select("sku", "location", "abc")
    differ = 0
    for part in (0, 1):
        alone = stockplan.classify(
            {name: frame.filter(partition_of(2) == part) for name, frame in shop.items()},
            _config(),
        )
        joined = alone.select("sku", "location", "abc").join(classes, on=["sku", "location"])
        assert joined.height > 0
        differ += (joined["abc"] != joined["abc_right"]).sum()
    assert differ > 0


def _in_process(partitions: int):
    """A "dask" engine that runs its `partitions` partitions one after another in this
    process: the driver's combining steps without a cluster."""

    @contextmanager
    def opener(settings):
        yield engines.Cluster(
            "dask",
            partitions,
            engines.Backend("dask", id, id),
            list,
            lambda function, handles, *shared: [function(h, *shared) for h in handles],
            list,
        )

    return opener


def test_partitions_without_any_series_leave_the_plan_unchanged(monkeypatch):
    """One sku over three partitions: two of them hold no row of any table."""

    monkeypatch.setitem(engines.OPENERS, "dask", _in_process(3))
    one = {name: frame.filter(pl.col("sku") == "K002") for name, frame in _shop().items()}
    parts = {int(p) for p in one["sales"].select(partition_of(3))["sku"].unique()}
    assert len(parts) == 1
    local, remote = stockplan.plan(one, _config()), stockplan.plan(one, _config("dask"))
    assert local.tables["orders"].height == 2  # K002 in both warehouses
    _assert_same_plan(local, remote)


@pytest.mark.parametrize("engine", ["ray", "spark"])
def test_ray_and_spark_give_the_local_plan(shop_and_local_plan, engine):
    pytest.importorskip("ray" if engine == "ray" else "pyspark")
    shop, local = shop_and_local_plan
    remote = stockplan.plan(shop, _config(engine))
    _assert_same_plan(local, remote)


def test_one_cluster_serves_every_forecast_call_inside_a_session(monkeypatch):
    """`simulate` refits the forecast at every origin: one cluster for all of them."""
    opened = []

    @contextmanager
    def fake(settings):
        opened.append(settings.engine_address)
        yield engines.Cluster("dask", 1, engines.Backend("dask", id, id), id, id, id)

    monkeypatch.setitem(engines.OPENERS, "dask", fake)
    settings = Forecast(engine="dask", engine_address="tcp://scheduler:8786")
    with engines.engine_session(settings):
        for _ in range(3):
            with engines.forecast_backend(settings) as backend:
                assert backend is not None and backend.name == "dask"
    assert opened == ["tcp://scheduler:8786"]
    with engines.forecast_backend(settings):
        pass
    assert len(opened) == 2  # outside a session each call opens its own


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["dask", "ray", "spark"])
def test_the_cli_plans_on_a_cluster_from_a_venv_not_on_path_silently_with_q(
    shop_and_local_plan, tmp_path, engine
):
    """`stockplan plan -q` with `forecast.engine` set and no address starts its own local
    cluster (Spark's workers this interpreter, though `python` on PATH is another), prints
    nothing on stderr, and writes the local plan's order lines."""
    if engine != "dask":
        pytest.importorskip("ray" if engine == "ray" else "pyspark")
    shop, local_plan = shop_and_local_plan
    for name, frame in shop.items():
        frame.write_parquet(tmp_path / f"{name}.parquet")
    config = {
        "inputs": {n: f"{n}.parquet" for n in shop},
        "planning": {"as_of": AS_OF.isoformat()},
        "policy": {"lead_time_demand": "parametric", "quantile_method": "conformal"},
        "forecast": {"backtest_windows": 2, "engine": engine},
        "transfers": {"enabled": True},
    }
    import yaml

    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYSPARK_PYTHON")}
    env["PATH"] = "/usr/bin:/bin"  # the venv's python is not on PATH
    env["STOCKPLAN_CACHE_DIR"] = str(tmp_path / "cache")
    done = subprocess.run(
        [sys.executable, "-m", "stockplan", "plan", "-c", "config.yaml", "-q"]
        + ["-o", "orders.csv", "--all"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr == ""
    written = pl.read_csv(tmp_path / "orders.csv", infer_schema_length=0)
    local = local_plan.tables["orders"]
    both = written.select(
        "sku", "location", pl.col("order_qty").cast(pl.Float64).alias("written")
    ).join(local.select("sku", "location", "order_qty"), on=["sku", "location"])
    assert both.height == local.height == written.height
    assert both["written"].to_list() == both["order_qty"].to_list()
    assert (both["order_qty"] > 0).sum() >= 5


def test_the_local_dask_cluster_keeps_the_adaptive_mmap_threshold_and_one_polars_thread(
    monkeypatch,
):
    """Dask's nanny would start its workers with MALLOC_TRIM_THRESHOLD_=65536 (glibc then
    maps and unmaps every large array afresh: 27.8 s of system time in the workers of a
    30,490-series plan against 7.4 s without); each single-threaded worker gets one
    Polars thread, and no statistical profiler (a stack sample every 10 ms for a
    dashboard the cluster does not have)."""
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)

    def worker_environment(_handle: int) -> tuple[str | None, str | None, bool]:
        # defined here, it travels to the workers by value: a function of this module
        # would make each of them import the module, and stockplan with it (seconds)
        import dask

        profiled = dask.config.get("distributed.worker.profile.enabled")
        return (
            os.environ.get("MALLOC_TRIM_THRESHOLD_"),
            os.environ.get("POLARS_MAX_THREADS"),
            profiled,
        )

    with engines.engine_session(Forecast(engine="dask")) as cluster:
        assert cluster is not None
        seen = cluster.gather(cluster.map(worker_environment, cluster.scatter([0, 1])))
    assert seen == [(None, "1", False), (None, "1", False)]


def test_the_import_thread_of_a_plan_on_a_cluster_leaves_statsforecast_to_the_workers(
    monkeypatch,
):
    """The partitioned plan forecasts only in the workers: the command's import thread
    (`preload.start(local=False)`) imports the planning modules, not statsforecast with
    pandas (about 3 s of CPU in every `stockplan plan` on a cluster, for nothing)."""
    from stockplan import preload

    imported = []
    monkeypatch.setattr(preload, "_import", imported.append)
    preload._preload(local=False)
    assert imported == []
    preload._preload(local=True)
    assert imported == [True]


def test_a_cluster_plan_lists_classes_equal_to_a_millionth_by_sku_as_the_local_plan(monkeypatch):
    """Three items each selling 30 a day: R's year is 1e-7 more, the kind of last-bit
    difference a multi-threaded sum gives from run to run. Ranked on the value to 1e-6,
    the local plan lists them by sku; the driver's sort on the raw value put R first."""

    monkeypatch.setitem(engines.OPENERS, "dask", _in_process(2))
    days = [AS_OF - dt.timedelta(days=i) for i in range(1, 421)]
    sales = pl.DataFrame(
        [
            (day, sku, "WH1", 3.0, 30.0 + (1e-7 if sku == "R" and day == days[0] else 0.0))
            for sku in ("P", "Q", "R")
            for day in days
        ],
        schema=["date", "sku", "location", "quantity", "revenue"],
        orient="row",
    )
    stock = pl.DataFrame({"sku": ["P", "Q", "R"], "location": ["WH1"] * 3, "on_hand": [10.0] * 3})
    for engine in ("local", "dask"):
        classes = stockplan.plan({"sales": sales, "stock": stock}, _config(engine)).classes
        assert classes["sku"].to_list() == ["P", "Q", "R"]
        assert classes["annual_value"].to_list() == [3 * 3640.0, 3 * 3640.0, 10920.0000001]


def test_a_cluster_plan_as_of_a_past_date_reads_the_orders_of_that_day(dask_scheduler):
    """The driver prepares the purchase orders once for every partition: as of day 282 of
    the shop's 420, each series' fifth line (ordered day 280, received day 283 to 295) is
    on order and its sixth (ordered day 340) not placed yet."""
    start = AS_OF - dt.timedelta(days=420)
    day = start + dt.timedelta(days=282)
    config = _config("dask", dask_scheduler)
    config = config.model_copy(
        update={"planning": config.planning.model_copy(update={"as_of": day})}
    )
    remote = stockplan.plan(_shop(), config)
    orders = remote.tables["orders"]
    assert orders.height == 12 + 11
    # every series: the fifth line's 50 units on order, 4 receipts (>= min_history 3)
    assert orders["on_order"].to_list() == [50.0] * orders.height
    assert set(orders["lead_time_source"]) == {"sku history"}
    receipts = dict(remote.tables["suppliers"].select("supplier", "receipts").iter_rows())
    # North: odd skus, 12 series (K003, K009 at WH1 alone); South: even, 11 series; 4 each
    assert receipts == {"North": 4 * 12, "South": 4 * 11}
