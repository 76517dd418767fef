"""Inputs and outputs of the plan on a cluster: a sales Parquet dataset (a folder,
hive-partitioned or not, or a glob) read by the tasks themselves, each its own slice of
skus, and checked there; the local engine reads the same paths.

Dask runs in CI (the dask extra is in the test extras); one local cluster serves the module.
    .venv/bin/python -m pytest tests/test_engine_io.py -q
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml
from distributed import LocalCluster
from test_engines import AS_OF, _assert_same_plan, _shop

import stockplan
from stockplan.api import read_inputs
from stockplan.config import parse_config
from stockplan.errors import StockplanError

POLICY = {"lead_time_demand": "parametric", "quantile_method": "conformal"}


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as running:
        yield running.scheduler_address


@pytest.fixture(scope="module")
def shop_files(tmp_path_factory):
    """The shop of test_engines with its sales as a hive dataset (location=WH1/, WH2/: the
    location column only in the folder names), each location in two part files."""
    folder = tmp_path_factory.mktemp("shop")
    shop = _shop()
    for name in ("stock", "purchase_orders"):
        shop[name].write_parquet(folder / f"{name}.parquet")
    for (location,), rows in shop["sales"].partition_by("location", as_dict=True).items():
        part = folder / "sales" / f"location={location}"
        part.mkdir(parents=True)
        half = rows.height // 2
        rows.drop("location").head(half).write_parquet(part / "part-0.parquet")
        rows.drop("location").tail(rows.height - half).write_parquet(part / "part-1.parquet")
    (folder / "sales" / "_SUCCESS").write_text("")
    return folder, shop


def _config(folder: Path, sales: str, engine: str = "local", address: str | None = None):
    return parse_config(
        {
            "inputs": {
                "sales": str(folder / sales),
                "stock": str(folder / "stock.parquet"),
                "purchase_orders": str(folder / "purchase_orders.parquet"),
            },
            "planning": {"as_of": AS_OF.isoformat()},
            "policy": POLICY,
            "forecast": {"backtest_windows": 2, "engine": engine, "engine_address": address},
            "transfers": {"enabled": True},
        }
    )


@pytest.fixture(scope="module")
def local_plan(shop_files):
    folder, shop = shop_files
    config = _config(folder, "sales")
    return stockplan.plan(stockplan.Inputs.from_frames(config, **shop), config)
