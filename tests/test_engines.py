"""The forecast stage on a Dask cluster runs on the cluster's workers and gives the local
engine's result.

The dask extra is part of the test extras: without it this module fails to import,
it is never skipped."""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import polars as pl
import pytest
from distributed import Client, LocalCluster
from distributed.diagnostics.plugin import WorkerPlugin

from stockplan.config import Classify, Forecast, parse_config
from stockplan.errors import StockplanError
from stockplan.forecast import forecast_demand
from stockplan.segmentation import classify_demand

AS_OF = dt.date(2025, 10, 13)


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


def test_dask_engine_runs_the_forecast_on_the_cluster_and_gives_the_local_result():
    class CountExecuted(WorkerPlugin):
        """Records, on the worker, every task it finished executing."""

        name = "count-executed"

        def setup(self, worker) -> None:
            self.worker = worker
            worker.tasks_executed = []

        def transition(self, key, start, finish, **kwargs) -> None:
            if start == "executing" and finish == "memory":
                self.worker.tasks_executed.append(key)

    history = _history()
    classes = classify_demand(history, AS_OF, "week", Classify())
    local = Forecast(backtest_windows=2)
    forecast_local, summary_local = forecast_demand(history, classes, "week", local, 6)
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        client.register_plugin(CountExecuted())
        before = _executed_on_workers(client)
        assert sum(before.values()) == 0 and os.getpid() not in before
        remote = Forecast(
            backtest_windows=2, engine="dask", engine_address=cluster.scheduler_address
        )
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
