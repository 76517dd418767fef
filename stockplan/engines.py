"""Where the plan runs: this process, or a Dask / Ray / Spark cluster.

`forecast.engine` picks the backend and `forecast.engine_address` the cluster (a Dask
scheduler `tcp://host:8786`, a Ray address `ray://host:10001` or `auto`, a Spark master
URL `spark://host:7077`); with no address a local cluster on this machine's cores is
started for the run and stopped after it. Each backend is an optional extra:
`pip install "stockplan[dask]"` (or `[ray]`, `[spark]`).

Two ways of using a cluster:

- `Cluster.map` / `Cluster.gather`: run a function on every partition of the series and
  keep each result on the worker that made it, until a later step maps over it again or
  gathers it (the partitioned plan, `stockplan.partitioned`, docs/design.md §6);
- `forecast_backend`: statsforecast's own fugue backends, one distributed frame per
  forecast call (the forecast-only path `simulate` and `score-overrides` still take).

`engine_session` keeps one cluster open over many calls (one per `simulate` replay, not
one per refit); `silence()` (the CLI's `-q`) turns the engines' own logging off.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from stockplan.config import Forecast
from stockplan.errors import StockplanError
from stockplan.i18n import both, phrase

ENGINE_LOGGERS = ("distributed", "dask", "ray", "py4j", "pyspark", "fugue", "fugue_dask")
"""Loggers `-q` sets to errors only."""

_quiet = False
_open: dict[str, Cluster] = {}


def silence() -> None:
    """Only errors from the engines' loggers, in this process and (through the
    environment) in the workers a local cluster starts; Spark's log4j at ERROR and no
    progress bar, Ray's worker output not forwarded."""
    global _quiet
    _quiet = True
    for name in ENGINE_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    os.environ["DASK_LOGGING__DISTRIBUTED"] = "error"


@dataclass
class Backend:
    """Turns a pandas frame into the engine's frame and a result back into pandas."""

    name: str
    distribute: Callable[[Any], Any]
    collect: Callable[[Any], Any]


@dataclass
class Cluster:
    """A connected engine: `scatter` puts one object per partition on the workers, `map`
    runs `function(handle, *shared)` where each handle lives and keeps the result there,
    `gather` brings results back; `workers` is the number of worker processes."""

    name: str
    workers: int
    backend: Backend
    scatter: Callable[[list], Any]
    map: Callable[..., Any]
    gather: Callable[[Any], list]
    extra: dict[str, Any] = field(default_factory=dict)


def _missing(engine: str, exc: ImportError) -> StockplanError:
    package = exc.name or both("error.engine_package")
    return StockplanError(phrase("error.engine_missing", engine=engine, package=package))


def _unreachable(engine: str, address: str) -> StockplanError:
    return StockplanError(phrase("error.cluster_unreachable", engine=engine, address=address))


def _local_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextlib.contextmanager
def _dask(settings: Forecast) -> Iterator[Cluster]:
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise _missing("dask", exc) from None
    # -q: not even a worker's "failed to communicate with scheduler during heartbeat",
    # which a loaded machine may log as the local cluster shuts down after a good plan;
    # a task that fails still stops the plan with its one line
    level = logging.CRITICAL if _quiet else logging.WARNING
    cluster = None
    if settings.engine_address:
        try:
            client = Client(settings.engine_address)
        except OSError:  # distributed's "Timed out trying to connect to ... after 30 s"
            raise _unreachable("dask", settings.engine_address) from None
    else:
        # Dask sets MALLOC_TRIM_THRESHOLD_ in its workers, which turns off glibc's
        # adaptive mmap threshold: every large numpy array is then mapped and unmapped
        # afresh, and the page faults cost as much system time as the plan's own work.
        # No statistical profiler in the workers either: it samples their stacks every
        # 10 ms for the dashboard, which this cluster does not have (about a quarter of
        # the workers' CPU in a small plan)
        without = {
            "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
            "distributed.worker.profile.enabled": False,
        }
        with dask.config.set(without):
            cluster = LocalCluster(
                n_workers=_local_cores(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # no dashboard, and the scheduler's health endpoint on a free port: the
                # default 8787 may be held by another cluster, which warns on stderr
                scheduler_kwargs={"dashboard_address": ":0"},
                # one Polars thread per single-threaded worker: two workers each running
                # Polars' pool of every core oversubscribe the machine and spin
                env={"POLARS_MAX_THREADS": "1"},
                silence_logs=level,
            )
        client = Client(cluster)
    workers = max(1, len(client.scheduler_info().get("workers", {})))

    def scatter(items: list) -> list:
        return client.scatter(items)

    sent: dict[int, tuple[Any, Any]] = {}  # id -> (value, its future) of the last step

    def map_(function: Callable, handles: list, *shared: Any) -> list:
        # shared arguments go to every worker once, not once per task; under a key of
        # their own (not their hash): the same value shared by two steps in a row would
        # otherwise share a key, whose release by the first step cancels the second. The
        # very object the step before sent (the frozen config, which most steps take) is
        # not sent again, and the new ones go in one call: each scatter is a round trip
        # to the scheduler and the workers (10 ms on a quiet local cluster)
        new = list({id(v): v for v in shared if id(v) not in sent}.values())
        scattered = client.scatter(new, broadcast=True, hash=False) if new else []
        futures = dict(zip(map(id, new), scattered, strict=True))
        spread = [futures[id(v)] if id(v) in futures else sent[id(v)][1] for v in shared]
        sent.clear()  # kept for the next step only: the workers free what no step holds
        sent.update({id(v): (v, s) for v, s in zip(shared, spread, strict=True)})
        return client.map(function, handles, *[[s] * len(handles) for s in spread], pure=False)

    def distribute(frame: Any) -> Any:
        # Dask's frames (and pandas with them, about 2 s of imports) only for the
        # forecast-only path: the partitioned plan maps over Polars frames
        try:
            import dask.dataframe as dd
        except ImportError as exc:
            raise _missing("dask", exc) from None
        return dd.from_pandas(frame, npartitions=workers)

    try:
        yield Cluster(
            "dask",
            workers,
            Backend("dask", distribute, lambda result: result.compute()),
            scatter,
            map_,
            client.gather,
            {"client": client},
        )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@contextlib.contextmanager
def _ray(settings: Forecast) -> Iterator[Cluster]:
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise _missing("ray", exc) from None
    try:
        ray.init(
            address=settings.engine_address,
            ignore_reinit_error=True,
            log_to_driver=not _quiet,
            logging_level=logging.ERROR if _quiet else logging.WARNING,
            include_dashboard=False,
        )
    except ConnectionError:
        if not settings.engine_address:
            raise
        raise _unreachable("ray", settings.engine_address) from None
    workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
    remote: dict[Callable, Any] = {}

    def map_(function: Callable, handles: list, *shared: Any) -> list:
        task = remote.setdefault(function, ray.remote(function))
        spread = [ray.put(value) for value in shared]
        return [task.remote(handle, *spread) for handle in handles]

    try:
        yield Cluster(
            "ray",
            workers,
            Backend("ray", ray.data.from_pandas, lambda result: result.to_pandas()),
            lambda items: [ray.put(item) for item in items],
            map_,
            ray.get,
        )
    finally:
        ray.shutdown()


@dataclass
class _Partitions:
    """A Spark RDD of one Python object per partition (cached between steps)."""

    rdd: Any


@contextlib.contextmanager
def _stderr_to_null() -> Iterator[None]:
    """File descriptor 2 on /dev/null for the block: child processes started in it keep it."""
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


@contextlib.contextmanager
def _spark(settings: Forecast) -> Iterator[Cluster]:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise _missing("spark", exc) from None
    # the executors start this interpreter, not the first `python` on PATH
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    level = "ERROR" if _quiet else "WARN"
    builder = (
        SparkSession.builder.master(settings.engine_address or f"local[{_local_cores()}]")
        .appName("stockplan")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.python.worker.reuse", "true")
    )
    # the JVM writes its start-up notes and log4j lines to the stderr it inherits: with
    # -q it inherits /dev/null (errors still reach Python as exceptions)
    with _stderr_to_null() if _quiet else contextlib.nullcontext():
        session = builder.getOrCreate()
    context = session.sparkContext
    context.setLogLevel(level)
    workers = max(1, context.defaultParallelism)

    def scatter(items: list) -> _Partitions:
        return _Partitions(context.parallelize(items, max(1, len(items))).cache())

    def map_(function: Callable, handles: _Partitions, *shared: Any) -> _Partitions:
        values = [context.broadcast(value) for value in shared]
        return _Partitions(
            handles.rdd.map(lambda handle: function(handle, *[v.value for v in values])).cache()
        )

    try:
        yield Cluster(
            "spark",
            workers,
            Backend("spark", session.createDataFrame, lambda result: result.toPandas()),
            scatter,
            map_,
            lambda handles: handles.rdd.collect(),
        )
    finally:
        if not settings.engine_address:
            session.stop()


OPENERS = {"dask": _dask, "ray": _ray, "spark": _spark}


@contextlib.contextmanager
def engine_session(settings: Forecast) -> Iterator[Cluster | None]:
    """The cluster of `settings.engine` for everything inside the block: opened once (or
    the one already open reused), None for the local engine."""
    if settings.engine == "local":
        yield None
        return
    if settings.engine in _open:
        yield _open[settings.engine]
        return
    with OPENERS[settings.engine](settings) as cluster:
        _open[settings.engine] = cluster
        try:
            yield cluster
        finally:
            del _open[settings.engine]


@contextlib.contextmanager
def forecast_backend(settings: Forecast) -> Iterator[Backend | None]:
    """None for the local engine, else a connected Backend for the run's duration (the
    session's cluster when one is open)."""
    with engine_session(settings) as cluster:
        yield None if cluster is None else cluster.backend
