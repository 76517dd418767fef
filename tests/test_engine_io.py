"""Inputs and outputs of the plan on a cluster: a sales Parquet dataset (a folder,
hive-partitioned or not, or a glob) read by the tasks themselves, each its own slice of
skus, and checked there; the local engine reads the same paths.

Dask runs in CI (the dask extra is in the test extras); one local cluster serves the module.
    .venv/bin/python -m pytest tests/test_engine_io.py -q
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal
from test_engines import AS_OF, _assert_same_plan, _shop

import stockplan
from stockplan.api import read_inputs
from stockplan.config import parse_config
from stockplan.errors import StockplanError
from stockplan.io.parts import offering, parts_target

POLICY = {"lead_time_demand": "parametric", "quantile_method": "conformal"}

CLUSTERS = ["dask", "ray", "spark"]
"""The engines whose tasks read the datasets: Dask in CI (on the module's cluster), Ray
and Spark (a local cluster per test) when their extra is installed, else skipped:
    pip install -e ".[test,ray,spark]" && python -m pytest tests/test_engine_io.py -q"""


def _address(engine: str, request) -> str | None:
    """The cluster an engine's test plans on: the module's Dask cluster, or (Ray, Spark,
    skipped without their extra) a local one the plan starts; None for the local engine."""
    if engine == "dask":
        return request.getfixturevalue("dask_scheduler")
    if engine in ("ray", "spark"):
        pytest.importorskip("ray" if engine == "ray" else "pyspark")
    return None


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


def test_the_local_engine_reads_a_hive_dataset_and_a_glob_as_the_sales_table(
    shop_files, local_plan
):
    folder, shop = shop_files
    for sales in ("sales", "sales/location=*/*.parquet"):
        inputs = read_inputs(_config(folder, sales))
        # four part files, the location from the folder names, the marker file skipped
        assert inputs["sales"].height == shop["sales"].height
        assert set(inputs["sales"]["location"]) == {"WH1", "WH2"}
        _assert_same_plan(local_plan, stockplan.plan(inputs, _config(folder, sales)))


@pytest.fixture(scope="module")
def dask_plan_below_the_parts_threshold(shop_files, local_plan, dask_scheduler, tmp_path_factory):
    """The sales folder planned on the module's Dask cluster, part files offered and
    `io.parquet_parts_series` one above the shop's series count: (what the driver read,
    the plan, whether it wrote part files). Planned once for the two tests that read it:
    the tasks' own sales slices, and the series count from which part files are written."""
    folder, _ = shop_files
    config = _config(folder, "sales", "dask", dask_scheduler)
    io = config.io.model_copy(
        update={"parquet_parts_series": local_plan.tables["classes"].height + 1}
    )
    config = config.model_copy(update={"io": io})
    inputs = read_inputs(config, for_plan=True)
    parts = parts_target(str(tmp_path_factory.mktemp("below_threshold") / "out"), "parquet")
    assert parts is not None
    with offering(parts):
        plan = stockplan.plan(inputs, config)
    used = parts.used
    parts.discard()
    return inputs, plan, used


@pytest.mark.parametrize("engine", CLUSTERS)
def test_the_tasks_read_their_own_sales_slice_and_give_the_local_plan(
    shop_files, local_plan, request, engine
):
    folder, _ = shop_files
    for sales in ("sales", "sales/*/part-*.parquet"):
        if engine == "dask" and sales == "sales":  # the module's plan of the folder
            inputs, remote, _ = request.getfixturevalue("dask_plan_below_the_parts_threshold")
        else:
            config = _config(folder, sales, engine, _address(engine, request))
            inputs = read_inputs(config, for_plan=True)
            remote = stockplan.plan(inputs, config)
        assert "sales" not in inputs  # the driver never reads the sales lines
        _assert_same_plan(local_plan, remote)
        # the plan's demand history, built on the workers, is the local one
        history = local_plan.history.sort("sku", "location", "period_start")
        assert remote.history.sort("sku", "location", "period_start").equals(history)


def _bad_cell_shop(folder: Path, shop: dict[str, pl.DataFrame]) -> tuple[Path, int]:
    """The shop's sales as three plain part files; in the second, the quantity column is
    text and its 7th data row (file row 8, the header being row 1) reads 'abc'."""
    sales = folder / "sales"
    sales.mkdir(parents=True)
    lines = shop["sales"].sort("sku", "location", "date")
    third = lines.height // 3
    lines.head(third).write_parquet(sales / "part-0.parquet")
    middle = lines.slice(third, third).with_columns(pl.col("quantity").cast(pl.String))
    middle = middle.with_columns(
        pl.when(pl.int_range(pl.len()) == 6)
        .then(pl.lit("abc"))
        .otherwise(pl.col("quantity"))
        .alias("quantity")
    )
    assert middle["quantity"][6] == "abc"
    middle.write_parquet(sales / "part-1.parquet")
    lines.slice(2 * third).write_parquet(sales / "part-2.parquet")
    for name in ("stock", "purchase_orders"):
        shop[name].write_parquet(folder / f"{name}.parquet")
    return sales / "part-1.parquet", 8


@pytest.mark.parametrize("engine", ["local", *CLUSTERS])
def test_a_bad_cell_in_one_part_file_stops_the_plan_with_one_line_and_no_output(
    tmp_path, request, engine
):
    bad_file, row = _bad_cell_shop(tmp_path, _shop())
    config = _config(tmp_path, "sales", engine, _address(engine, request))
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json")))
    env = {**os.environ, "STOCKPLAN_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-m", "stockplan", "plan", "-c", "config.yaml", "-q"]
        + ["-o", "out", "-f", "parquet"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    assert f"{bad_file}, row {row}, column 'quantity': 'abc' is not a number" in lines[0]
    assert not (tmp_path / "out").exists()


def test_a_sales_dataset_without_parquet_files_is_refused_with_one_line(tmp_path):
    (tmp_path / "sales").mkdir()
    (tmp_path / "sales" / "sales.csv").write_text("date,sku,quantity\n2025-01-01,A,1\n")
    with pytest.raises(StockplanError) as caught:
        read_inputs(_config(tmp_path, "sales"))
    assert str(caught.value) == (
        f"{tmp_path / 'sales'}: is read as a Parquet dataset (a folder or glob of .parquet "
        f"files), but it holds {tmp_path / 'sales' / 'sales.csv'}; give a file, or a folder of "
        ".parquet files only"
    )


def _run_plan(
    folder: Path, config, *options: str, quiet: bool = True
) -> subprocess.CompletedProcess:
    (folder / "config.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json")))
    return subprocess.run(
        [sys.executable, "-m", "stockplan", "plan", "-c", "config.yaml", *options]
        + (["-q"] if quiet else []),
        cwd=folder,
        env={**os.environ, "STOCKPLAN_CACHE_DIR": str(folder / "cache")},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _run_plan_here(folder: Path, config, *options: str, quiet: bool = True):
    """`_run_plan` in this process (typer's CliRunner, in `folder`): for the tests that
    read the written files and the summary line, not the whole stderr of a process (a
    child process costs seconds of imports before it plans)."""
    from typer.testing import CliRunner

    from stockplan.cli import app

    (folder / "config.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json")))
    with contextlib.chdir(folder):
        return CliRunner().invoke(
            app, ["plan", "-c", "config.yaml", *options] + (["-q"] if quiet else [])
        )


def _with_parts(config):
    return config.model_copy(update={"io": config.io.model_copy(update={"parquet_parts": "on"})})


def test_the_workers_write_forecast_and_history_as_parquet_parts_equal_to_the_local_plan(
    shop_files, local_plan, dask_scheduler, tmp_path
):
    folder, _ = shop_files
    config = _with_parts(_config(folder, "sales", "dask", dask_scheduler))
    done = _run_plan_here(tmp_path, config, "-o", "out", "-f", "parquet", "--all", quiet=False)
    assert done.exit_code == 0, done.output[-2000:]
    # the summary line from the workers' counts: the local plan's order lines and value
    buying = local_plan.tables["orders"].filter(pl.col("order_qty") > 0)
    value = buying["order_value"].sum()
    assert f"{buying.height} order lines, value {value:,.2f} CNY; " in done.stderr
    out = tmp_path / "out"
    assert not (out / "forecast.parquet").exists()
    assert len(list((out / "forecast").glob("part-*.parquet"))) == 2  # one per partition
    keys = ["sku", "location", "period_start"]
    forecast = pl.read_parquet(out / "forecast" / "*.parquet").sort(keys)
    expected = local_plan.tables["forecast"].sort(keys)
    columns = ["sku", "location", "period_start", "forecast", "model"]
    assert forecast.height == expected.height
    assert (forecast["as_of"] == AS_OF).all()
    assert_frame_equal(
        forecast.select(columns), expected.select(columns), check_exact=False, rel_tol=1e-9
    )
    history = pl.read_parquet(out / "history" / "*.parquet").sort(keys)
    assert history.drop("as_of").equals(local_plan.history.sort(keys))
    # the orders too are the workers' part files, and the local plan's
    assert not (out / "orders.parquet").exists()
    orders = pl.read_parquet(out / "orders" / "*.parquet").sort("sku", "location")
    local_orders = local_plan.tables["orders"].sort("sku", "location")
    assert orders["order_qty"].to_list() == local_orders["order_qty"].to_list()
    assert not list(tmp_path.glob(".out.parts-*"))  # the staging folder is gone
    # the run record checksums the dataset's four part files (the marker file skipped)
    record = json.loads((out / "run.json").read_text())
    assert record["inputs"]["sales"]["files"] == 4


def test_a_plan_that_fails_to_write_leaves_no_part_files(shop_files, dask_scheduler, tmp_path):
    folder, _ = shop_files
    config = _with_parts(_config(folder, "sales", "dask", dask_scheduler))
    # the driver's writer cannot replace it
    (tmp_path / "out" / "supplier_orders.parquet").mkdir(parents=True)
    done = _run_plan(tmp_path, config, "-o", "out", "-f", "parquet")
    assert done.returncode == 1, done.stderr[-2000:]
    assert len(done.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["supplier_orders.parquet"]
    assert not list(tmp_path.glob(".out.parts-*"))


def test_parquet_parts_auto_writes_part_files_only_from_the_configured_series_count(
    shop_files, local_plan, dask_plan_below_the_parts_threshold, dask_scheduler, tmp_path
):
    # one series below the threshold: no part files, the driver holds every row
    _, below, used = dask_plan_below_the_parts_threshold
    assert not used
    assert below.tables["forecast"].height == local_plan.tables["forecast"].height
    assert below.history.height == local_plan.history.height
    # at the threshold: part files, the driver holds no forecast or history row
    folder, _ = shop_files
    config = _config(folder, "sales", "dask", dask_scheduler)  # auto: from 100,000 series
    series = local_plan.tables["classes"].height
    config = config.model_copy(
        update={"io": config.io.model_copy(update={"parquet_parts_series": series})}
    )
    parts = parts_target(str(tmp_path / "out"), "parquet")
    with offering(parts):
        plan = stockplan.plan(read_inputs(config, for_plan=True), config)
    assert parts is not None and parts.used
    assert plan.tables["forecast"].height == 0
    assert plan.history.height == 0
    parts.discard()


@pytest.mark.parametrize("engine", ["local", *CLUSTERS])
def test_a_sku_missing_from_products_is_named_by_its_part_file_and_row_on_every_engine(
    shop_files, request, tmp_path, engine
):
    """The unknown-sku check needs every sales line: on Dask each task checks its own
    slice and the driver names the earliest (part file, row) of all of them. K004 is in
    the sales only, not in products, stock or purchase orders."""
    folder, shop = shop_files
    products = shop["stock"].select("sku").unique().filter(pl.col("sku") != "K004")
    products.write_parquet(tmp_path / "products.parquet")
    config = _config(folder, "sales", engine, _address(engine, request))
    raw = config.model_dump(mode="json")
    raw["inputs"]["products"] = str(tmp_path / "products.parquet")
    for name in ("stock", "purchase_orders"):  # K004 only in the sales
        shop[name].filter(pl.col("sku") != "K004").write_parquet(tmp_path / f"{name}.parquet")
        raw["inputs"][name] = str(tmp_path / f"{name}.parquet")
    config = parse_config({k: v for k, v in raw.items() if v is not None})
    # K004 sells in both warehouses: its first line is in location=WH1/part-0.parquet
    lines = pl.read_parquet(folder / "sales" / "location=WH1" / "part-0.parquet")
    row = lines.with_row_index("i").filter(pl.col("sku") == "K004")["i"][0] + 2
    where = f"{folder / 'sales' / 'location=WH1' / 'part-0.parquet'}, row {row}"
    with pytest.raises(StockplanError) as caught:
        stockplan.plan(read_inputs(config, for_plan=True), config)
    assert str(caught.value) == (
        f"{where}, column 'sku': 'K004' is not in the products table (1 unknown SKU in "
        "sales); add them to products or set planning.unknown_sku: warn"
    )


def test_a_repeated_stock_record_across_part_files_names_both_files(tmp_path):
    stock = tmp_path / "stock"
    stock.mkdir()
    rows = pl.DataFrame({"sku": ["A", "B"], "location": ["W", "W"], "on_hand": [1.0, 2.0]})
    rows.write_parquet(stock / "part-0.parquet")
    rows.tail(1).write_parquet(stock / "part-1.parquet")  # B at W again
    pl.DataFrame({"date": ["2025-01-02"], "sku": ["A"], "quantity": [1.0]}).write_parquet(
        tmp_path / "sales.parquet"
    )
    config = parse_config(
        {"inputs": {"sales": str(tmp_path / "sales.parquet"), "stock": str(stock)}}
    )
    with pytest.raises(StockplanError) as caught:
        read_inputs(config)
    assert str(caught.value) == (
        f"{stock / 'part-1.parquet'}, row 2, column 'sku': stock record sku='B', location='W' "
        f"appears again (first at {stock / 'part-0.parquet'}, row 3)"
    )


@pytest.mark.parametrize("engine", CLUSTERS)
def test_a_purchase_order_location_neither_stock_nor_the_tasks_sales_know_is_refused(
    shop_files, request, tmp_path, engine
):
    """Stock lacks the location, and the sales that might hold it are read by the tasks:
    the driver checks the order against the locations they report."""
    folder, shop = shop_files
    orders = shop["purchase_orders"].with_columns(
        pl.when(pl.int_range(pl.len()) == 4)
        .then(pl.lit("WH9"))
        .otherwise("location")
        .alias("location")
    )
    orders.write_parquet(tmp_path / "purchase_orders.parquet")
    raw = _config(folder, "sales", engine, _address(engine, request)).model_dump(mode="json")
    raw["inputs"]["purchase_orders"] = str(tmp_path / "purchase_orders.parquet")
    config = parse_config({k: v for k, v in raw.items() if v is not None})
    inputs = read_inputs(config, for_plan=True)
    with pytest.raises(StockplanError) as caught:
        stockplan.plan(inputs, config)
    assert str(caught.value) == (
        f"{tmp_path / 'purchase_orders.parquet'}, row 6, column 'location': 'WH9' is in "
        "neither the stock nor the sales file"
    )


@pytest.mark.parametrize("engine", CLUSTERS)
def test_a_totals_row_in_a_part_file_is_dropped_by_the_task_that_reads_it(
    shop_files, local_plan, request, tmp_path, engine
):
    folder, _ = shop_files
    shutil.copytree(folder / "sales", tmp_path / "sales")
    part = tmp_path / "sales" / "location=WH2" / "part-1.parquet"
    lines = pl.read_parquet(part)
    total = pl.DataFrame({"sku": ["合计"], "quantity": [lines["quantity"].sum()]})
    pl.concat([lines, total], how="diagonal_relaxed").write_parquet(part)
    raw = _config(folder, "sales", engine, _address(engine, request)).model_dump(mode="json")
    raw["inputs"]["sales"] = str(tmp_path / "sales")
    config = parse_config({k: v for k, v in raw.items() if v is not None})
    remote = stockplan.plan(read_inputs(config, for_plan=True), config)
    assert f"{part}, row {lines.height + 2}: 1 totals row (合计) dropped" in " ".join(remote.notes)
    _assert_same_plan(local_plan, remote)


# ---- stock and products read by the tasks too ----


def _products() -> pl.DataFrame:
    """The shop's products: names, the suppliers its purchase orders use, and packs of 6
    for every third sku (the order quantities round up to them)."""
    index = range(14)
    return pl.DataFrame(
        {
            "sku": [f"K{i:03d}" for i in index],
            "name": [f"Item {i}" for i in index],
            "supplier": ["North" if i % 2 else "South" for i in index],
            "pack_size": [6 if i % 3 == 0 else 1 for i in index],
        }
    )


@pytest.fixture(scope="module")
def items_files(tmp_path_factory):
    """The shop with sales, stock and products as datasets: sales and stock in hive
    folders location=WH1/, WH2/ (the location only in the folder names), the products in
    two part files matched by a glob; purchase orders one file."""
    folder = tmp_path_factory.mktemp("items")
    shop = {**_shop(), "products": _products()}
    shop["purchase_orders"].write_parquet(folder / "purchase_orders.parquet")
    for table in ("sales", "stock"):
        for (location,), rows in shop[table].partition_by("location", as_dict=True).items():
            part = folder / table / f"location={location}"
            part.mkdir(parents=True)
            half = rows.height // 2
            rows.drop("location").head(half).write_parquet(part / "part-0.parquet")
            rows.drop("location").tail(rows.height - half).write_parquet(part / "part-1.parquet")
    (folder / "products").mkdir()
    shop["products"].head(7).write_parquet(folder / "products" / "part-0.parquet")
    shop["products"].tail(7).write_parquet(folder / "products" / "part-1.parquet")
    return folder, shop


def _items_config(folder: Path, engine: str = "local", address: str | None = None, **inputs):
    raw = _config(folder, "sales", engine, address).model_dump(mode="json")
    raw["inputs"].update(
        {"stock": str(folder / "stock"), "products": str(folder / "products" / "*.parquet")}
    )
    raw["inputs"].update({name: str(path) for name, path in inputs.items()})
    return parse_config({k: v for k, v in raw.items() if v is not None})


@pytest.fixture(scope="module")
def items_plan(items_files):
    folder, shop = items_files
    config = _items_config(folder)
    plan = stockplan.plan(stockplan.Inputs.from_frames(config, **shop), config)
    # the packs of 6 shape order quantities: the products table matters to the plan
    orders = plan.tables["orders"].join(_products(), on="sku")
    packed = orders.filter((pl.col("pack_size") == 6) & (pl.col("order_qty") > 0))
    assert packed.height >= 1 and (packed["order_qty"] % 6 == 0).all()
    return plan


def test_the_local_engine_reads_stock_and_products_datasets_as_whole_tables(
    items_files, items_plan
):
    folder, shop = items_files
    inputs = read_inputs(_items_config(folder))
    assert inputs["stock"].height == shop["stock"].height
    assert set(inputs["stock"]["location"]) == {"WH1", "WH2"}  # from the folder names
    assert inputs["products"].sort("sku").equals(shop["products"].sort("sku"))
    _assert_same_plan(items_plan, stockplan.plan(inputs, _items_config(folder)))


@pytest.mark.parametrize("engine", CLUSTERS)
def test_the_tasks_read_sales_stock_and_products_and_give_the_local_plan(
    items_files, items_plan, request, engine
):
    folder, shop = items_files
    config = _items_config(folder, engine, _address(engine, request))
    inputs = read_inputs(config, for_plan=True)
    # the driver reads none of the three: the tasks read them, each its slice of skus
    assert {"sales", "stock", "products"}.isdisjoint(inputs.tables)
    remote = stockplan.plan(inputs, config)
    _assert_same_plan(items_plan, remote)
    history = items_plan.history.sort("sku", "location", "period_start")
    assert remote.history.sort("sku", "location", "period_start").equals(history)
    # what came back for the names in the outputs: the products' rows in file order and
    # one row per stocked series (not the stock's columns)
    assert inputs["products"].equals(shop["products"])
    assert inputs["stock"].columns == ["sku", "location"]
    assert inputs["stock"].height == shop["stock"].height


@pytest.mark.parametrize("engine", CLUSTERS)
def test_the_product_masters_warnings_name_the_part_file_the_tasks_read(
    items_files, tmp_path, request, engine
):
    # part-1.parquet of the products (K007..K013): data row 2 (file row 3) a pack of 0,
    # row 3 a status neither active nor inactive, row 4 a unit cost of 0
    folder = tmp_path / "items"
    shutil.copytree(items_files[0], folder)
    part = folder / "products" / "part-1.parquet"
    row = pl.int_range(pl.len())
    rows = pl.read_parquet(part).with_columns(
        pl.when(row == 1).then(0).otherwise("pack_size").alias("pack_size"),
        pl.when(row == 2).then(pl.lit("审核中")).otherwise(pl.lit("正常")).alias("status"),
        pl.when(row == 3).then(0.0).otherwise(5.0).alias("unit_cost"),
    )
    rows.write_parquet(part)
    first = folder / "products" / "part-0.parquet"  # the same columns in every part file
    pl.read_parquet(first).with_columns(
        pl.lit("正常").alias("status"), pl.lit(5.0).alias("unit_cost")
    ).write_parquet(first)
    config = _items_config(folder, engine, _address(engine, request))
    inputs = read_inputs(config, for_plan=True)
    assert "products" not in inputs.tables  # the tasks read them
    notes = stockplan.plan(inputs, config).notes  # the tasks' reading notes come with the plan
    expected = [
        f"{part}, row 5, column 'unit_cost': 0 (1 item): their orders are valued at 0",
        f"{part}, row 4, column 'status': status '审核中' is neither an active nor an inactive",
        f"{part}, row 3, column 'pack_size': 0 (1 item): read as no pack size",
    ]
    for start in expected:
        assert sum(note.startswith(start) for note in notes) == 1, (start, notes)
    # the local engine, reading the same files whole, says the same as it reads them
    warnings = read_inputs(_items_config(folder), for_plan=True).warnings
    for start in expected:
        assert sum(note.startswith(start) for note in warnings) == 1, (start, warnings)


def _bad_stock_and_products(folder: Path, shop: dict[str, pl.DataFrame]) -> dict[str, tuple]:
    """Copies of the items datasets with one bad cell each: in stock location=WH2/
    part-1.parquet the on_hand of data row 3 (file row 4) reads 'lots'; in products
    part-1.parquet the pack_size of data row 2 (file row 3) reads 'six'."""
    stock = folder / "stock" / "location=WH2" / "part-1.parquet"
    rows = pl.read_parquet(stock).with_columns(pl.col("on_hand").cast(pl.String))
    rows = rows.with_columns(
        pl.when(pl.int_range(pl.len()) == 2)
        .then(pl.lit("lots"))
        .otherwise("on_hand")
        .alias("on_hand")
    )
    rows.write_parquet(stock)
    products = folder / "products" / "part-1.parquet"
    rows = pl.read_parquet(products).with_columns(pl.col("pack_size").cast(pl.String))
    rows = rows.with_columns(
        pl.when(pl.int_range(pl.len()) == 1)
        .then(pl.lit("six"))
        .otherwise("pack_size")
        .alias("pack_size")
    )
    rows.write_parquet(products)
    return {
        "stock": (stock, f"{stock}, row 4, column 'on_hand': 'lots' is not a number"),
        "products": (products, f"{products}, row 3, column 'pack_size': 'six' is not a number"),
    }


@pytest.mark.parametrize(
    ("table", "engine"),
    [
        pytest.param(table, engine, id=f"{table}-{engine}")
        for table in ("stock", "products")
        for engine in ("local", *CLUSTERS)
        # a bad stock cell on Dask: the command's own test below, on these same files,
        # checks the line and more (exit 1, no output)
        if (table, engine) != ("stock", "dask")
    ],
)
def test_a_bad_cell_in_a_stock_or_products_part_file_is_one_line_naming_it(
    items_files, request, tmp_path, engine, table
):
    folder, shop = items_files
    for name in ("sales", "stock", "products"):
        shutil.copytree(folder / name, tmp_path / name)
    shutil.copy(folder / "purchase_orders.parquet", tmp_path)
    bad = _bad_stock_and_products(tmp_path, shop)
    good = {other: folder / other for other in ("stock", "products") if other != table}
    config = _items_config(tmp_path, engine, _address(engine, request), **good)
    with pytest.raises(StockplanError) as caught:
        stockplan.plan(read_inputs(config, for_plan=True), config)
    assert bad[table][1] in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_bad_stock_cell_read_by_a_dask_task_exits_1_with_one_line_and_no_output(
    items_files, dask_scheduler, tmp_path
):
    folder, shop = items_files
    for name in ("sales", "stock", "products"):
        shutil.copytree(folder / name, tmp_path / name)
    shutil.copy(folder / "purchase_orders.parquet", tmp_path)
    _, line = _bad_stock_and_products(tmp_path, shop)["stock"]
    config = _items_config(tmp_path, "dask", dask_scheduler, products=folder / "products")
    done = _run_plan(tmp_path, config, "-o", "out", "-f", "parquet")
    assert done.returncode == 1, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and line in lines[0], done.stderr[-2000:]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("engine", ["local", *CLUSTERS])
def test_a_product_repeated_in_another_part_file_names_both_files_on_every_engine(
    items_files, request, tmp_path, engine
):
    folder, shop = items_files
    products = tmp_path / "products"
    products.mkdir()
    shop["products"].head(7).write_parquet(products / "part-0.parquet")
    again = pl.concat([shop["products"].tail(7), shop["products"].slice(3, 1)])
    again.write_parquet(products / "part-1.parquet")  # K003 again, as its 8th data row
    config = _items_config(folder, engine, _address(engine, request), products=products)
    with pytest.raises(StockplanError) as caught:
        stockplan.plan(read_inputs(config, for_plan=True), config)
    assert str(caught.value) == (
        f"{products / 'part-1.parquet'}, row 9, column 'sku': product sku='K003' appears "
        f"again (first at {products / 'part-0.parquet'}, row 5)"
    )


@pytest.mark.parametrize("engine", ["local", *CLUSTERS])
def test_a_stocked_sku_missing_from_products_is_named_by_its_stock_part_file_and_row(
    items_files, request, tmp_path, engine
):
    """K005 is stocked and sold but not in products: the task holding K005 finds it in
    its stock slice; the stock is checked before the sales, as a local run checks it."""
    folder, shop = items_files
    products = tmp_path / "products"
    products.mkdir()
    shop["products"].filter(pl.col("sku") != "K005").write_parquet(products / "part-0.parquet")
    config = _items_config(folder, engine, _address(engine, request), products=products)
    part = folder / "stock" / "location=WH1" / "part-0.parquet"
    lines = pl.read_parquet(part).with_row_index("i")
    assert "K005" in lines["sku"].to_list()  # K005 at WH1 is in the first part file
    row = lines.filter(pl.col("sku") == "K005")["i"][0] + 2
    with pytest.raises(StockplanError) as caught:
        stockplan.plan(read_inputs(config, for_plan=True), config)
    assert str(caught.value) == (
        f"{part}, row {row}, column 'sku': 'K005' is not in the products table (1 unknown "
        "SKU in stock); add them to products or set planning.unknown_sku: warn"
    )


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_a_purchase_order_without_location_beside_a_stock_of_two_is_refused(
    items_files, request, tmp_path, engine
):
    """The driver learns the stock's locations from the tasks before it places the
    purchase orders: a table without a location column cannot be split between two."""
    folder, shop = items_files
    orders = tmp_path / "purchase_orders.parquet"
    shop["purchase_orders"].drop("location").write_parquet(orders)
    config = _items_config(folder, engine, _address(engine, request), purchase_orders=orders)
    with pytest.raises(StockplanError) as caught:
        stockplan.plan(read_inputs(config, for_plan=True), config)
    assert str(caught.value) == (
        f"{orders}: has no location column, but the stock file has 2 locations (WH1, WH2); "
        "add a location column"
    )


def test_a_one_warehouse_shop_without_location_columns_plans_on_dask_as_locally(
    dask_scheduler, tmp_path
):
    """No table names a location: the tasks report a stock without a location column, the
    driver places every row at `planning.default_location`, as a local run does."""
    shop = {
        name: frame.filter(pl.col("location") == "WH1").drop("location")
        for name, frame in _shop().items()
    }
    shop["products"] = _products()
    for table in ("sales", "stock", "products"):
        (tmp_path / table).mkdir()
        rows = shop[table]
        rows.head(rows.height // 2).write_parquet(tmp_path / table / "part-0.parquet")
        rows.tail(rows.height - rows.height // 2).write_parquet(tmp_path / table / "part-1.parquet")
    shop["purchase_orders"].write_parquet(tmp_path / "purchase_orders.parquet")
    config = _items_config(tmp_path, "dask", dask_scheduler, stock=tmp_path / "stock")
    local_config = _items_config(tmp_path, stock=tmp_path / "stock")
    local = stockplan.plan(stockplan.Inputs.from_frames(local_config, **shop), local_config)
    assert set(local.tables["orders"]["location"]) == {"MAIN"}  # the default location
    _assert_same_plan(local, stockplan.plan(read_inputs(config, for_plan=True), config))


def test_the_cli_names_the_items_from_a_products_dataset_the_dask_tasks_read(
    items_files, dask_scheduler, tmp_path
):
    """The products' rows the tasks send back give the written orders their names."""
    folder, _ = items_files
    config = _items_config(folder, "dask", dask_scheduler)
    done = _run_plan_here(tmp_path, config, "-o", "orders.csv", "--all", "--headers", "canonical")
    assert done.exit_code == 0, done.output[-2000:]
    orders = pl.read_csv(tmp_path / "orders.csv", infer_schema_length=0)
    named = orders.select("sku", "name").unique().sort("sku")
    assert named.height == 14
    assert named["name"].to_list() == [f"Item {int(sku[1:])}" for sku in named["sku"]]


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_a_purchase_order_sku_missing_from_a_products_dataset_is_named_by_its_row(
    items_files, request, tmp_path, engine
):
    """The purchase orders are read on the driver, the products by the tasks: the driver
    checks the orders' skus against the products' rows they send back."""
    folder, shop = items_files
    orders = shop["purchase_orders"]
    extra = orders.head(1).with_columns(pl.lit("K099").alias("sku"))
    path = tmp_path / "purchase_orders.parquet"
    pl.concat([orders, extra]).write_parquet(path)
    config = _items_config(folder, engine, _address(engine, request), purchase_orders=path)
    with pytest.raises(StockplanError) as caught:
        stockplan.plan(read_inputs(config, for_plan=True), config)
    assert str(caught.value) == (
        f"{path}, row {orders.height + 2}, column 'sku': 'K099' is not in the products table "
        "(1 unknown SKU in purchase_orders); add them to products or set "
        "planning.unknown_sku: warn"
    )


@pytest.mark.parametrize("engine", ["local", "dask"])
@pytest.mark.parametrize(
    ("table", "text", "row", "column", "sku"),
    [
        (
            "bom",
            "kit_sku,component_sku,quantity\nK001,K002,1\nK001,K099,2\n",
            3,
            "component_sku",
            "K099",
        ),
        ("succession", "old_sku,new_sku,date\nK001,K098,2025-12-01\n", 2, "new_sku", "K098"),
        ("price_breaks", "sku,min_qty,unit_price\nK097,100,1\n", 2, "sku", "K097"),
    ],
)
def test_a_kit_successor_or_price_break_sku_missing_from_a_products_dataset_is_named(
    items_files, request, tmp_path, engine, table, text, row, column, sku
):
    """The kits, successions and price breaks are read on the driver, the products by the
    tasks: the driver checks their skus against the products' rows the tasks send back,
    as a local run checks them (a phantom component or successor was planned and ordered
    with no supplier or cost, a price break of a typo never applied)."""
    folder, _ = items_files
    path = tmp_path / f"{table}.csv"
    path.write_text(text, encoding="utf-8")
    config = _items_config(folder, engine, _address(engine, request), **{table: path})
    with pytest.raises(StockplanError) as caught:
        stockplan.plan(read_inputs(config, for_plan=True), config)
    assert str(caught.value) == (
        f"{path}, row {row}, column '{column}': '{sku}' is not in the products table "
        f"(1 unknown SKU in {table}); add them to products or set planning.unknown_sku: warn"
    )


def test_the_workers_count_order_lines_without_a_unit_cost_in_the_summary(
    shop_files, dask_scheduler, tmp_path
):
    """On part files the driver never holds the order rows: the workers count the lines
    whose value is unknown, and the summary says so as the local plan does."""
    folder, shop = shop_files
    copy = tmp_path / "shop"
    shutil.copytree(folder, copy)
    first = shop["stock"]["sku"].min()
    stock = shop["stock"].with_columns(
        pl.when(pl.col("sku") == first).then(None).otherwise(pl.col("unit_cost")).alias("unit_cost")
    )
    stock.write_parquet(copy / "stock.parquet")
    local_config = _config(copy, "sales")
    inputs = stockplan.Inputs.from_frames(local_config, **{**shop, "stock": stock})
    local = stockplan.plan(inputs, local_config)
    buying = local.tables["orders"].filter(pl.col("order_qty") > 0)
    missing = buying["order_value"].null_count()
    assert 0 < missing < buying.height
    config = _with_parts(_config(copy, "sales", "dask", dask_scheduler))
    done = _run_plan_here(tmp_path, config, "-o", "out", "-f", "parquet", quiet=False)
    assert done.exit_code == 0, done.output[-2000:]
    value = buying["order_value"].sum()
    assert (
        f"{buying.height} order lines, value {value:,.2f} CNY ({missing} of them without a "
        "unit cost, not counted)"
    ) in done.stderr


# ---- one table over every part file and partition: sku codes, blank locations ----


def _plain_parts(folder: Path, shop: dict[str, pl.DataFrame], tables: tuple[str, ...]) -> None:
    """Each of `tables` as a dataset of two plain part files (the location a column, no
    hive folders; the sales cut by date, each part with every sku), the purchase orders
    one file."""
    shop["purchase_orders"].write_parquet(folder / "purchase_orders.parquet")
    for table in tables:
        (folder / table).mkdir()
        rows = shop[table].sort("date" if "date" in shop[table].columns else "sku", "location")
        rows.head(rows.height // 2).write_parquet(folder / table / "part-0.parquet")
        rows.tail(rows.height - rows.height // 2).write_parquet(folder / table / "part-1.parquet")


def _plan_on(folder: Path, engine: str, address: str | None, **inputs: Path):
    """`stockplan plan` in this process on the shop in `folder` (its datasets `inputs`),
    written to folder/out.xlsx."""
    from typer.testing import CliRunner

    from stockplan.cli import app

    raw = _config(folder, "sales", engine, address).model_dump(mode="json")
    raw["inputs"].update({name: str(path) for name, path in inputs.items()})
    config = {k: v for k, v in raw.items() if v is not None}
    (folder / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    out = folder / "out.xlsx"
    return CliRunner().invoke(
        app, ["plan", "-c", str(folder / "config.yaml"), "-o", str(out), "-q"]
    )


@pytest.mark.parametrize("engine", ["local", *CLUSTERS])
def test_sales_codes_that_lost_their_zeros_are_refused_on_every_engine(request, tmp_path, engine):
    """K003 is 010007 in the stock and the purchase orders but 10007 in the sales (an
    export through a sheet that took the code for a number). The tasks read the sales and
    the stock, and the two spellings hash to two partitions: only the driver, with every
    task's codes, sees both. Before, the tasks planned 10007 as an item of its own, with
    every sale and none of the stock, and 010007 as a stocked item that never sells."""
    shop = {
        name: frame.with_columns(
            pl.col("sku").replace("K003", "10007" if name == "sales" else "010007")
        )
        for name, frame in _shop().items()
    }
    _plain_parts(tmp_path, shop, ("sales", "stock"))
    part = tmp_path / "sales" / "part-0.parquet"
    lines = pl.read_parquet(part).with_row_index("i")
    row = lines.filter(pl.col("sku") == "10007")["i"][0] + 2
    stock = pl.read_parquet(tmp_path / "stock" / "part-0.parquet").with_row_index("i")
    stock_row = stock.filter(pl.col("sku") == "010007")["i"][0] + 2
    result = _plan_on(
        tmp_path,
        engine,
        _address(engine, request),
        sales=tmp_path / "sales",
        stock=tmp_path / "stock",
    )
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output
    assert result.output.startswith(
        f"stockplan: error: {part}, row {row}, column 'sku': '10007' is '010007' in "
        f"{tmp_path / 'stock' / 'part-0.parquet'}, row {stock_row}, with its leading zeros"
    ), result.output
    assert not (tmp_path / "out.xlsx").exists()


@pytest.mark.parametrize("engine", ["local", *CLUSTERS])
def test_a_kit_component_that_lost_its_zeros_is_refused_against_the_tasks_codes(
    request, tmp_path, engine
):
    """The kits are read on the driver, the sales and stock (010007) by the tasks, and no
    table the driver reads names 010007: the driver compares the kits' codes with the
    tasks'. Before, the kit's demand went to an item 10007 that nothing stocks."""
    shop = {
        name: frame.with_columns(pl.col("sku").replace("K003", "010007"))
        for name, frame in _shop().items()
    }
    shop["purchase_orders"] = shop["purchase_orders"].filter(pl.col("sku") != "010007")
    _plain_parts(tmp_path, shop, ("sales", "stock"))
    bom = tmp_path / "bom.csv"
    bom.write_text("kit_sku,component_sku,quantity\nKIT,10007,2\n", encoding="utf-8")
    stock = pl.read_parquet(tmp_path / "stock" / "part-0.parquet").with_row_index("i")
    stock_row = stock.filter(pl.col("sku") == "010007")["i"][0] + 2
    result = _plan_on(
        tmp_path,
        engine,
        _address(engine, request),
        sales=tmp_path / "sales",
        stock=tmp_path / "stock",
        bom=bom,
    )
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output
    assert result.output.startswith(
        f"stockplan: error: {bom}, row 2, column 'component_sku': '10007' is '010007' in "
        f"{tmp_path / 'stock' / 'part-0.parquet'}, row {stock_row}, with its leading zeros"
    ), result.output
    assert not (tmp_path / "out.xlsx").exists()


@pytest.mark.parametrize("engine", ["local", *CLUSTERS])
@pytest.mark.parametrize("table", ["sales", "stock"])
def test_a_part_file_without_locations_beside_named_ones_is_refused_on_every_engine(
    request, tmp_path, engine, table
):
    """Every row of the second part file has a blank location: each part file passed the
    rule on its own (and so did each task's slice of them), its rows planned at a
    made-up MAIN."""
    _plain_parts(tmp_path, _shop(), ("sales", "stock"))
    part = tmp_path / table / "part-1.parquet"
    # one row per sku: the blank rows, placed at MAIN, are no repeated stock records
    rows = pl.read_parquet(part).unique("sku", keep="first", maintain_order=True)
    rows = rows.with_columns(pl.lit(None, pl.String).alias("location"))
    rows.write_parquet(part)
    result = _plan_on(
        tmp_path,
        engine,
        _address(engine, request),
        sales=tmp_path / "sales",
        stock=tmp_path / "stock",
    )
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output
    assert result.output.startswith(
        f"stockplan: error: {part}, row 2, column 'location': empty location while other rows "
        f"name one (WH1, WH2; {rows.height} empty)"
    ), result.output
    assert not (tmp_path / "out.xlsx").exists()
