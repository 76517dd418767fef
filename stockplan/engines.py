"""Where the forecast stage runs: this process, or a Dask / Ray / Spark cluster.

statsforecast runs any of its models on a distributed DataFrame through fugue: the same
`cross_validation` and `forecast` calls, given a Dask, Ray or Spark frame, fan the series
out over the cluster's workers (docs/design.md §6). `forecast.engine` picks the backend and
`forecast.engine_address` the cluster (a Dask scheduler `tcp://host:8786`, a Ray address,
a Spark master URL); with no address a local cluster on this machine's cores is started
for the run and stopped after it. Each backend is an optional extra:
`pip install "stockplan[dask]"` (or `[ray]`, `[spark]`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from stockplan.config import Forecast
from stockplan.errors import StockplanError


@dataclass
class Backend:
    """Turns a pandas frame into the engine's frame and a result back into pandas."""

    name: str
    distribute: Callable[[pd.DataFrame], Any]
    collect: Callable[[Any], pd.DataFrame]


def _missing(engine: str, exc: ImportError) -> StockplanError:
    return StockplanError(
        f"forecast.engine {engine}: {exc.name or 'a package'} is not installed "
        f'(pip install "stockplan[{engine}]")'
    )


@contextlib.contextmanager
def _dask(settings: Forecast) -> Iterator[Backend]:
    try:
        import dask.dataframe as dd
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise _missing("dask", exc) from None
    cluster = None
    if settings.engine_address:
        client = Client(settings.engine_address)
    else:
        cluster = LocalCluster(
            n_workers=os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    try:
        yield Backend(
            "dask",
            lambda frame: dd.from_pandas(frame, npartitions=workers),
            lambda result: result.compute(),
        )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@contextlib.contextmanager
def _ray(settings: Forecast) -> Iterator[Backend]:
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise _missing("ray", exc) from None
    ray.init(address=settings.engine_address, ignore_reinit_error=True, log_to_driver=False)
    try:
        yield Backend("ray", ray.data.from_pandas, lambda result: result.to_pandas())
    finally:
        ray.shutdown()


@contextlib.contextmanager
def _spark(settings: Forecast) -> Iterator[Backend]:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise _missing("spark", exc) from None
    session = SparkSession.builder.master(settings.engine_address or "local[*]").getOrCreate()
    try:
        yield Backend("spark", session.createDataFrame, lambda result: result.toPandas())
    finally:
        if not settings.engine_address:
            session.stop()


@contextlib.contextmanager
def forecast_backend(settings: Forecast) -> Iterator[Backend | None]:
    """None for the local engine, else a connected Backend for the run's duration."""
    if settings.engine == "local":
        yield None
        return
    opener = {"dask": _dask, "ray": _ray, "spark": _spark}[settings.engine]
    with opener(settings) as backend:
        yield backend
