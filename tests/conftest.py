"""Small, hand-checkable input sets written to a temporary folder."""

from __future__ import annotations

import datetime as dt
import functools
import gc
import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TypeVar

import numpy as np
import polars as pl
import pytest
import typer
import typer.testing
import yaml
from hypothesis import settings

START = dt.date(2025, 1, 6)  # a Monday
WEEKS = 40
AS_OF = START + dt.timedelta(weeks=WEEKS)  # 2025-10-13, a Monday

# Python's cyclic collector paused while pytest collects: rewriting the asserts of every test
# module allocates millions of short-lived AST nodes, which refcounting frees, and each
# collection of the oldest generation then walks every object of the libraries the test
# modules import (polars, numpy, scipy). Collecting the suite takes 17.8 s of CPU with the
# collector on and 14.1 s with it paused (`pytest --collect-only -n 0`, median of 2), in
# each pytest-xdist worker. It is on again before the first test (`pytest_collection_finish`;
# pytest-xdist's controller, which collects no module, when it makes its scheduler)
gc.disable()


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.enable()


# property tests judge results, not time: a loaded CI machine must not fail one on its
# default 200 ms deadline per example
settings.register_profile("stockplan", deadline=None)
settings.load_profile("stockplan")


Command = TypeVar("Command")


def _command_built_once(
    build: Callable[[typer.Typer], Command],
) -> Callable[[typer.Typer], Command]:
    """typer's `get_command` for `CliRunner.invoke`, keeping each app's click command:
    the invoke builds the command again on every call (tens of milliseconds each, in
    hundreds of tests), where `stockplan` builds it once per process. The tests replace
    the functions the commands call, never the commands, so a kept command runs the same;
    `typer.main.get_command` itself still builds afresh."""
    built: dict[int, tuple[typer.Typer, Command]] = {}

    def get_command(app: typer.Typer) -> Command:
        if id(app) not in built:
            built[id(app)] = (app, build(app))  # the app kept: its id stays its own
        return built[id(app)][1]

    return get_command


typer.testing._get_command = _command_built_once(typer.testing._get_command)


@pytest.fixture(autouse=True)
def _plan_cache_beside_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test keeps its plan cache beside its own config (`.stockplan-cache/`), as a
    user without `$STOCKPLAN_CACHE_DIR` does: a cache folder set in the shell that runs
    the tests would be shared between them, and the cache tests look for it there."""
    monkeypatch.delenv("STOCKPLAN_CACHE_DIR", raising=False)


def write_config(folder: Path, **sections: object) -> Path:
    """Write `config.yaml` in `folder` with the given sections (inputs relative to it)."""
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(sections, allow_unicode=True), encoding="utf-8")
    return path


def write_shop_config(folder: Path, as_of: dt.date, tables: list[str], **sections: object) -> Path:
    """`write_config` for a hand-made shop: each of `tables` read from `<table>.csv` beside
    the config, planned as of `as_of` with two backtest windows (the small shops' history
    holds no more), plus `sections`."""
    return write_config(
        folder,
        inputs={table: f"{table}.csv" for table in tables},
        planning={"as_of": as_of.isoformat()},
        forecast={"backtest_windows": 2},
        **sections,
    )


def warm_plan_cache(config: Path) -> None:
    """Plan `config` in this process (forecasting is already loaded here) so the plan cache
    beside it holds the plan: a child `stockplan plan` on it then reuses the plan instead of
    importing the forecasting libraries, which costs seconds in every new process."""
    from typer.testing import CliRunner

    from stockplan.cli import app

    result = CliRunner().invoke(app, ["plan", "-c", str(config), "-o", "-", "-q"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def small_shop(tmp_path: Path) -> Path:
    """Two SKUs in two warehouses, 40 weeks of daily sales; returns the config path.

    - A-100 sells 10 a day in both warehouses (steady), pack 12, MOQ 24.
    - B-200 (leading-zero code '007') sells 2 units on every 4th day in WH1 only.
    """
    return make_small_shop(tmp_path)


@pytest.fixture(scope="module")
def shared_small_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`small_shop` built once for a test module, its plan cached beside the config: for
    tests that only read it (never edit its files or config)."""
    return planned_shop(tmp_path_factory.mktemp("shared_shop"))


def planned_shop(folder: Path, adjust: Callable[[Path], object] | None = None) -> Path:
    """`small_shop` written into `folder`, `adjust(config)` applied, and planned once so its
    plan cache holds the plan: the tests of a module that only read a shop share it (a
    child `stockplan` then reuses the plan instead of importing the forecasting
    libraries). Returns the config path."""
    config = make_small_shop(folder)
    if adjust is not None:
        adjust(config)
    with pytest.MonkeyPatch.context() as patch:  # the cache beside the config, as per test
        patch.delenv("STOCKPLAN_CACHE_DIR", raising=False)
        warm_plan_cache(config)
    return config


@functools.cache
def _small_shop_tables() -> dict[str, str]:
    """`small_shop`'s input files by name, as CSV text: made once per process, written by
    every test that asks for a small shop (hundreds)."""
    rng = np.random.default_rng(7)
    days = [START + dt.timedelta(days=i) for i in range(WEEKS * 7)]
    rows = []
    for day_index, day in enumerate(days):
        for location in ("WH1", "WH2"):
            rows.append((day, "A-100", location, int(rng.poisson(10)), 25.0))
        if day_index % 4 == 0:
            rows.append((day, "007", "WH1", 2, 99.0))
    sales = pl.DataFrame(rows, schema=["date", "sku", "warehouse", "qty", "price"], orient="row")
    stock = pl.DataFrame(
        {
            "sku": ["A-100", "A-100", "007"],
            "location": ["WH1", "WH2", "WH1"],
            "on_hand": [40, 500, 3],
            "allocated": [5, 0, 0],
        }
    )
    products = pl.DataFrame(
        {
            "sku": ["A-100", "007"],
            "name": ["Steady item", "Slow item"],
            "unit_cost": [12.5, 40.0],
            "unit_price": [25.0, 99.0],
            "supplier": ["Acme", "Acme"],
            "pack_size": [12, 1],
            "moq": [24, 0],
        }
    )
    suppliers = pl.DataFrame(
        {"supplier": ["Acme"], "lead_time_days": [14], "lead_time_std_days": [2.0]}
    )
    purchase_orders = pl.DataFrame(
        {
            "po_id": ["P1", "P2"],
            "sku": ["A-100", "A-100"],
            "location": ["WH1", "WH1"],
            "supplier": ["Acme", "Acme"],
            "quantity": [60, 48],
            "order_date": ["2025-09-20", "2025-10-01"],
            "expected_date": ["2025-10-04", "2025-10-20"],
            "received_date": ["2025-10-03", None],
        }
    )
    return {
        "sales.csv": sales.write_csv(date_format="%Y-%m-%d"),
        "stock.csv": stock.write_csv(),
        "products.csv": products.write_csv(),
        "suppliers.csv": suppliers.write_csv(),
        "purchase_orders.csv": purchase_orders.write_csv(),
    }


def make_small_shop(tmp_path: Path) -> Path:
    """Write `small_shop`'s files into `tmp_path`; return the config path."""
    for name, text in _small_shop_tables().items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return write_shop_config(
        tmp_path, AS_OF, ["sales", "stock", "products", "suppliers", "purchase_orders"]
    )


def add_daily_sales(folder: Path, sku: str, quantity: int, price: float) -> None:
    """Append to a small shop's sales: `sku` sells `quantity` at WH1 on every day of the
    shop's weeks, at `price`."""
    days = [START + dt.timedelta(days=i) for i in range(WEEKS * 7)]
    sales = pl.read_csv(folder / "sales.csv", schema_overrides={"sku": pl.String})
    extra = pl.DataFrame(
        {"date": [d.isoformat() for d in days], "sku": sku, "warehouse": "WH1", "qty": quantity}
    ).with_columns(pl.lit(price).alias("price"))
    pl.concat([sales, extra.select(sales.columns).cast(sales.schema)]).write_csv(
        folder / "sales.csv"
    )


def add_fast_mover(folder: Path, on_hand: dict[str, int]) -> None:
    """Add C-300 to a small shop's files: 5 sold a day at WH1 over the shop's weeks,
    `on_hand` by location, its preferred supplier Slow with the backup Fast (the suppliers
    table, with their lead times, is the test's own)."""
    add_daily_sales(folder, "C-300", 5, 30.0)
    stock = pl.read_csv(folder / "stock.csv", schema_overrides={"sku": pl.String})
    more = pl.DataFrame(
        {
            "sku": ["C-300"] * len(on_hand),
            "location": list(on_hand),
            "on_hand": list(on_hand.values()),
            "allocated": [0] * len(on_hand),
        }
    )
    pl.concat([stock, more], how="vertical_relaxed").write_csv(folder / "stock.csv")
    products = pl.read_csv(folder / "products.csv", schema_overrides={"sku": pl.String})
    pl.concat(
        [
            products.with_columns(pl.lit(None, pl.String).alias("backup_supplier")),
            pl.DataFrame(
                {
                    "sku": ["C-300"],
                    "name": ["Fast mover"],
                    "unit_cost": [15.0],
                    "unit_price": [30.0],
                    "supplier": ["Slow"],
                    "pack_size": [1],
                    "moq": [0],
                    "backup_supplier": ["Fast"],
                }
            ),
        ],
        how="vertical_relaxed",
    ).write_csv(folder / "products.csv")


def add_selling_successor(small_shop: Path, quantities: list[int]) -> None:
    """Make N-1 the successor of A-100 six weeks after as_of in a small shop, selling
    `quantities` (one a day, the last day first) at WH1 under its own code over the days
    before as_of; no stock, cost 12.5, price 25, supplier Acme; transfers off."""
    folder = small_shop.parent
    sales = pl.read_csv(folder / "sales.csv", schema_overrides={"sku": pl.String})
    days = [AS_OF - dt.timedelta(days=i) for i in range(1, len(quantities) + 1)]
    own = pl.DataFrame(
        {"date": [d.isoformat() for d in days], "sku": "N-1", "warehouse": "WH1", "qty": quantities}
    ).with_columns(pl.lit(25.0).alias("price"))
    pl.concat([sales, own.select(sales.columns).cast(sales.schema)]).write_csv(folder / "sales.csv")
    stock = pl.read_csv(folder / "stock.csv", schema_overrides={"sku": pl.String})
    extra = pl.DataFrame({"sku": ["N-1"], "location": ["WH1"], "on_hand": [0], "allocated": [0]})
    pl.concat([stock, extra], how="vertical_relaxed").write_csv(folder / "stock.csv")
    products = pl.read_csv(folder / "products.csv", schema_overrides={"sku": pl.String})
    new = {"sku": ["N-1"], "name": ["New"], "unit_cost": [12.5], "unit_price": [25.0]}
    new |= {"supplier": ["Acme"], "pack_size": [1], "moq": [0]}
    pl.concat([products, pl.DataFrame(new)], how="vertical_relaxed").write_csv(
        folder / "products.csv"
    )
    switch = (AS_OF + dt.timedelta(days=42)).isoformat()
    pl.DataFrame({"old_sku": ["A-100"], "new_sku": ["N-1"], "date": [switch]}).write_csv(
        folder / "succession.csv"
    )
    config = yaml.safe_load(small_shop.read_text())
    config["inputs"]["succession"] = "succession.csv"
    config["transfers"] = {"enabled": False}
    small_shop.write_text(yaml.safe_dump(config))


CLUSTER_FILES = frozenset(
    {"test_engines.py", "test_engine_io.py", "test_engine_global.py", "test_engine_purchasing.py"}
)
"""The test files that plan on the session's Dask cluster (`dask_scheduler`)."""


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """`--dist loadfile` (pyproject's addopts) with the files of `CLUSTER_FILES` as one unit:
    each file runs on one pytest-xdist worker, so its module fixtures (the whole-sample plan
    and replay) are computed once, and the Dask files share one worker, so one local
    cluster serves them all instead of one per worker. Any other `--dist` is xdist's own."""
    gc.enable()  # the controller collects no test module (see `gc.disable()` above)
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class OneClusterScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = super()._split_scope(nodeid)
            return "the Dask cluster's files" if Path(path).name in CLUSTER_FILES else path

    return OneClusterScheduling(config, log)


@pytest.fixture(scope="session")
def dask_scheduler():
    """The address of a local Dask cluster of two single-threaded worker processes, one
    for the whole run (started by the first test that plans on it): each test hands the
    workers its own shop, so they keep nothing between tests but imported modules."""
    import dask
    from distributed import LocalCluster

    # the workers' environment of stockplan's own local cluster (engines._dask): glibc's
    # adaptive mmap threshold kept, one Polars thread per single-threaded worker (two
    # workers each with a pool of every core oversubscribe the machine the tests share).
    # No statistical profiler in the workers (a stack sample every 10 ms, for a dashboard
    # nobody opens), and the event-loop health check and the memory and system monitors
    # once a second, not every 20 to 500 ms: they cost the workers about a third of a
    # plan's CPU (3.9 s against 2.4 s for a plan of tests/test_engine_purchasing.py) and,
    # idle between the tests, 0.14 s of CPU a second against 0.02 s
    quiet = {
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
        "distributed.worker.profile.enabled": False,
        "distributed.admin.tick.interval": "1s",
        "distributed.admin.system-monitor.interval": "1s",
        "distributed.worker.memory.monitor-interval": "1s",
    }
    with dask.config.set(quiet):
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # the scheduler's health endpoint on a free port, as stockplan's own local
            # cluster: the default 8787 may be held by another cluster (another
            # pytest-xdist worker's, another user's), which warns
            scheduler_kwargs={"dashboard_address": ":0"},
            env={"POLARS_MAX_THREADS": "1"},
        )
    with cluster:
        yield cluster.scheduler_address


def add_customer_order(small_shop: Path, sku: str, quantity: int, location: str = "WH1") -> None:
    """Give a small shop one open customer order, SO1 of customer C1 placed on 2025-10-10:
    `quantity` of `sku` at `location` (its customer_orders.csv, named in the config)."""
    folder = small_shop.parent
    pl.DataFrame(
        {"order_id": ["SO1"], "customer": ["C1"], "sku": [sku], "location": [location]}
        | {"quantity": [quantity], "order_date": ["2025-10-10"]}
    ).write_csv(folder / "customer_orders.csv")
    config = yaml.safe_load(small_shop.read_text())
    config["inputs"]["customer_orders"] = "customer_orders.csv"
    small_shop.write_text(yaml.safe_dump(config), encoding="utf-8")


class Robot:
    """A local stand-in for a WeCom / DingTalk robot webhook: records each request (path,
    query, content type, JSON body and its size in bytes), answers `reply`."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.reply: dict = {"errcode": 0, "errmsg": "ok"}
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                parts = urllib.parse.urlsplit(self.path)
                robot.requests.append(
                    {
                        "path": parts.path,
                        "query": urllib.parse.parse_qs(parts.query),
                        "content_type": self.headers["Content-Type"],
                        "body": json.loads(raw.decode("utf-8")),
                        "size": len(raw),
                    }
                )
                answer = json.dumps(robot.reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def bodies(self) -> list[dict]:
        return [request["body"] for request in self.requests]

    @property
    def sizes(self) -> list[int]:
        return [request["size"] for request in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def robot() -> Iterator[Robot]:
    """A local robot webhook for a test's alerts (`Robot`)."""
    server = Robot()
    yield server
    server.close()
