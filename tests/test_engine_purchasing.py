"""The purchasing rules of a large cluster plan with the per-series rows on the workers:
the budget over the order lines, minimum order values and full loads from per-supplier
sums, the per-series tables written by the workers as part files, and all of it equal to
the local plan.

Dask runs in CI (the dask extra is in the test extras); one local cluster serves the module.
    .venv/bin/python -m pytest tests/test_engine_purchasing.py -q
"""

from __future__ import annotations

import contextlib

import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal
from test_engines import AS_OF, SKUS, _config, _shop
from typer.testing import CliRunner

import stockplan
from stockplan.cli import app
from stockplan.config import parse_config
from stockplan.io.parts import offering, parts_target
from stockplan.io.writers import finite

SERIES = ["sku", "location"]
BUDGET = 40_000.0
"""Below the 50,815.20 the shop's order lines ask for: the budget cuts lines."""
NORTH_MINIMUM = 60_000.0
"""North's minimum order value: above what its funded lines come to."""
SOUTH_CONTAINER_M3 = 2.5
"""South's container: its order fills 3.99 of them before rounding to whole loads."""


def _purchasing_shop() -> dict[str, pl.DataFrame]:
    """The shop of test_engines (14 skus, two warehouses, two partitions on Dask) with a
    product master (supplier, packs, volume, weight) and two suppliers: North with a
    minimum order value, South shipping full container loads only."""
    shop = _shop()
    skus = [f"K{i:03d}" for i in range(SKUS)]
    shop["products"] = pl.DataFrame(
        {
            "sku": skus,
            "supplier": ["North" if i % 2 else "South" for i in range(SKUS)],
            "pack_size": [1.0 if i % 3 else 4.0 for i in range(SKUS)],
            "volume_m3": [0.02 + 0.01 * (i % 4) for i in range(SKUS)],
            "weight_kg": [1.0 + i for i in range(SKUS)],
        }
    )
    shop["suppliers"] = pl.DataFrame(
        {
            "supplier": ["North", "South"],
            "moq_value": [NORTH_MINIMUM, None],
            "container_m3": [None, SOUTH_CONTAINER_M3],
            "full_loads": [None, "yes"],
        }
    )
    return shop


def _purchasing_config(
    budget: float | None, action: str, engine: str = "local", address: str | None = None
):
    raw = _config(engine, address).model_dump(mode="json")
    raw["inputs"].update({"products": "products.csv", "suppliers": "suppliers.csv"})
    raw["purchasing"] = {"budget": budget, "minimum_order_value": action}
    raw["io"] = {**raw.get("io", {}), "parquet_parts": "on"}
    return parse_config(raw)


CASES = {
    "budget, cheapest minimum action, every row": (BUDGET, "cheapest", True),
    "no budget, deferred minimum, the lines to show": (None, "defer", False),
    # North's minimum of 60,000 is above the budget of 40,000: deferred, and the money
    # its lines held goes to South's lines, on the workers as locally
    "budget, deferred minimum, every row": (BUDGET, "defer", True),
}


@pytest.fixture(scope="module")
def shop():
    return _purchasing_shop()


def _local(shop, budget, action, all_rows):
    plan = stockplan.plan(shop, _purchasing_config(budget, action))
    return plan, plan.tables["orders"] if all_rows else plan.order_lines


@pytest.fixture(scope="module")
def local_plans(shop):
    """`_local` on the module's shop, each (budget, action) planned once for the module
    (the tests only read the plans)."""
    plans: dict[tuple, stockplan.Plan] = {}

    def local(budget, action, all_rows):
        if (budget, action) not in plans:
            plans[budget, action] = stockplan.plan(shop, _purchasing_config(budget, action))
        plan = plans[budget, action]
        return plan, plan.tables["orders"] if all_rows else plan.order_lines

    return local


def _parts(folder, table: str) -> pl.DataFrame:
    return pl.read_parquet(folder / table / "*.parquet")


def _same(table: str, local: pl.DataFrame, written: pl.DataFrame) -> None:
    """The rows a worker wrote (parsed back) equal the local table as the writers write
    it (no NaN), on the local table's columns, in (sku, location) order."""
    keys = [c for c in (*SERIES, "period_start", "date") if c in local.columns]
    expected = finite(local).sort(keys, nulls_last=True)
    got = written.select(local.columns).sort(keys, nulls_last=True)
    try:
        assert_frame_equal(expected, got, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)
    except AssertionError as error:
        raise AssertionError(f"table {table}: {error}") from None


@pytest.mark.parametrize("case", list(CASES))
def test_purchasing_rules_on_dask_keep_the_rows_on_the_workers_and_give_the_local_plan(
    shop, local_plans, dask_scheduler, tmp_path, case
):
    budget, action, all_rows = CASES[case]
    local, local_orders = local_plans(budget, action, all_rows)
    reasons = " | ".join(local.tables["orders"]["reason"].to_list())
    # the rules this test is about act on the local plan
    if budget is not None:
        assert "budget: " in reasons
    if action == "cheapest":
        assert "to reach the supplier's minimum order value" in reasons
    else:
        assert "; deferred " in reasons
    assert "to fill whole container loads" in reasons or "to whole container loads" in reasons
    if budget is not None and action == "defer":  # North's money went to South's lines
        assert local.tables["orders"]["order_value"].sum() <= budget
        north = local_orders.filter(pl.col("supplier") == "North")["reason"]
        assert north.str.contains("; deferred ").any()
        note = next(n for n in local.notes if n.startswith("budget "))
        assert "North (" in note and "deferred below their minimum order value" in note

    config = _purchasing_config(budget, action, "dask", dask_scheduler)
    parts = parts_target(str(tmp_path / "out"), "parquet", all_rows)
    with offering(parts):
        remote = stockplan.plan(shop, config)
    assert parts is not None and parts.used
    parts.publish()
    out = tmp_path / "out"

    # the driver holds no per-series row: those tables are empty frames of their columns
    for table in ("orders", "risk", "classes", "excess", "forecast"):
        assert remote.tables[table].height == 0, table
    assert remote.history is not None and remote.history.height == 0
    # one part file per partition (two workers, 14 skus: two partitions)
    assert len(list((out / "orders").glob("part-*.parquet"))) == 2

    _same("orders", local_orders, _parts(out, "orders"))
    for table in ("risk", "classes", "excess", "large_orders"):
        _same(table, local.tables[table], _parts(out, table))
    # the planning date is on every row the workers write (the local tables have no
    # such column: _same does not compare it)
    for table in ("orders", "risk", "classes", "excess"):
        frame = _parts(out, table)
        assert frame.height > 0, table
        assert (frame["as_of"] == AS_OF).all(), table
    assert_frame_equal(
        local.tables["supplier_orders"],
        remote.tables["supplier_orders"],
        check_exact=False,
        rel_tol=1e-9,
    )
    assert_frame_equal(local.tables["transfers"], remote.tables["transfers"])
    assert set(local.notes) <= set(remote.notes)
    # the summary the CLI prints: lines to order, their value, high-risk series
    buying = local_orders.filter(pl.col("order_qty") > 0)
    assert remote.totals is not None
    assert remote.totals["lines"] == buying.height
    assert remote.totals["value"] == pytest.approx(buying["order_value"].sum(), rel=1e-12)
    high = local.tables["risk"].filter(pl.col("risk_level") == "high").height
    assert remote.totals["high"] == high

    # per supplier, the driver's totals are the sums of the lines the workers wrote
    written = _parts(out, "orders").filter(pl.col("order_qty") > 0)
    by_supplier = written.group_by("supplier").agg(pl.col("order_value").sum(), pl.len())
    summary = remote.tables["supplier_orders"].join(by_supplier, on="supplier")
    assert summary.height == by_supplier.height
    assert (summary["order_value"] - summary["order_value_right"]).abs().max() < 1e-6
    assert (summary["lines"].cast(pl.Int64) == summary["len"].cast(pl.Int64)).all()
    if action == "defer":  # North waits a cycle: 0 lines and only its deferred rows written
        north = remote.tables["supplier_orders"].filter(pl.col("supplier") == "North")
        assert north["minimum_action"].to_list() == ["defer"]
        deferred = _parts(out, "orders").filter(pl.col("supplier") == "North")
        assert deferred.height > 0 and (deferred["order_qty"] == 0).all()
    if action == "cheapest":  # South's order rounded up towards whole containers of 2.5 m3
        south = remote.tables["supplier_orders"].filter(pl.col("supplier") == "South")
        loads = south["volume_m3"][0] / SOUTH_CONTAINER_M3
        assert south["loads"][0] == pytest.approx(loads)
        assert south["load_action"].to_list() == ["up"]
        assert south["load_fill"][0] == pytest.approx(loads / 4) and loads > 3.99


def test_the_cli_writes_the_per_series_tables_as_parts_and_prints_the_local_summary(
    shop, local_plans, dask_scheduler, tmp_path
):
    """`stockplan plan -o FOLDER -f parquet` on Dask with part files: orders, risk and
    classes are folders of part files, the supplier orders a file the driver wrote, and
    the summary line counts the local plan's order lines, value and high-risk items."""
    local, shown = local_plans(BUDGET, "cheapest", False)
    raw = _purchasing_config(BUDGET, "cheapest", "dask", dask_scheduler).model_dump(mode="json")
    names = ("sales", "stock", "purchase_orders", "products", "suppliers")
    for name in names:
        shop[name].write_parquet(tmp_path / f"{name}.parquet")
    raw["inputs"] = {name: f"{name}.parquet" for name in names}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(raw))
    # in this process: the test reads the files and the summary line, and a child
    # process would spend seconds importing before it plans
    with contextlib.chdir(tmp_path):
        done = CliRunner().invoke(app, ["plan", "-c", "config.yaml", "-o", "out", "-f", "parquet"])
    assert done.exit_code == 0, done.output[-2000:]
    out = tmp_path / "out"
    for table in ("orders", "risk", "classes", "excess", "forecast", "history"):
        assert not (out / f"{table}.parquet").exists(), table
        assert list((out / table).glob("part-*.parquet")), table
    assert (out / "supplier_orders.parquet").is_file()
    buying = shown.filter(pl.col("order_qty") > 0)
    high = local.tables["risk"].filter(pl.col("risk_level") == "high").height
    value = f"{buying['order_value'].sum():,.2f}"
    summary = f"{buying.height} order lines, value {value} CNY; {high} items at high"
    assert summary in done.stderr, done.stderr[-2000:]
    _same("orders", shown, _parts(out, "orders"))


STRICT_CASES = {
    # minimums flagged: the cut that loses breaks comes last, after the loads were rounded
    # down; the supplier table measures the loads the lines finally hold
    "flagged": (10_000.0, "flag", None),
    # deferred: the cut at the prices paid takes South below its minimum of 3,340 again
    # (to 3,337.00), so South waits a cycle as `defer` promises
    "deferred": (10_500.0, "defer", 3_340.0),
}


@pytest.mark.parametrize("case", list(STRICT_CASES))
def test_a_strict_budget_holds_on_dask_after_the_cut_loses_price_breaks(
    shop, dask_scheduler, tmp_path, case
):
    # every sku pays half its price from 30 units: the budget's cut leaves lines below 30,
    # which pay the full price; the cap still holds (it was passed: 10,725.40 on 10,000),
    # and the cluster's rounds of cutting and pricing give the local plan's lines
    budget, action, south_minimum = STRICT_CASES[case]
    skus = [f"K{i:03d}" for i in range(14)]
    with_breaks = {
        **shop,
        "price_breaks": pl.DataFrame(
            {
                "sku": skus,
                "min_qty": [30.0] * len(skus),
                "unit_price": [(5 + 7 * i) * 0.5 for i in range(len(skus))],
            }
        ),
    }
    if south_minimum is not None:
        with_breaks["suppliers"] = shop["suppliers"].with_columns(
            moq_value=pl.when(pl.col("supplier") == "South").then(south_minimum).otherwise(1.0)
        )

    def config(engine: str = "local", address: str | None = None):
        raw = _purchasing_config(budget, action, engine, address).model_dump(mode="json")
        raw["inputs"]["price_breaks"] = "price_breaks.csv"
        return parse_config(raw)

    local = stockplan.plan(with_breaks, config())
    orders = local.tables["orders"]
    assert orders["order_value"].sum() <= budget
    assert orders.filter(pl.col("reason").str.contains("the break price .* needs more")).height
    south = local.tables["supplier_orders"].filter(pl.col("supplier") == "South").row(0, named=True)
    volume = (
        orders.filter(pl.col("supplier") == "South")
        .join(with_breaks["products"].select("sku", "volume_m3"), on="sku")
        .select((pl.col("order_qty") * pl.col("volume_m3")).sum())
        .item()
    )
    if south_minimum is None:  # the table measures what the lines hold
        assert south["volume_m3"] == pytest.approx(volume)
        assert south["loads"] == pytest.approx(volume / SOUTH_CONTAINER_M3)
    else:  # deferred after the cut: no line, and the table says so; the money its lines
        # held is spent again on North's, and the budget note says so
        assert volume == 0 and south["lines"] == 0 and south["minimum_action"] == "defer"
        note = next(n for n in local.notes if n.startswith("budget "))
        assert note.endswith(
            f"South ({-south['added_value']:,.2f}) deferred below their minimum order value, "
            "the budget they held funded other lines"
        )
        assert -south["added_value"] < south_minimum
    parts = parts_target(str(tmp_path / "out"), "parquet", True)
    with offering(parts):
        remote = stockplan.plan(with_breaks, config("dask", dask_scheduler))
    assert parts is not None and parts.used
    parts.publish()
    _same("orders", orders, _parts(tmp_path / "out", "orders"))
    assert_frame_equal(
        local.tables["supplier_orders"],
        remote.tables["supplier_orders"],
        check_exact=False,
        rel_tol=1e-9,
    )
    assert remote.totals is not None
    assert remote.totals["value"] == pytest.approx(orders["order_value"].sum(), rel=1e-12)
    assert set(local.notes) <= set(remote.notes)


def test_a_suppliers_own_review_period_plans_on_dask_as_locally(shop, dask_scheduler, tmp_path):
    # North ordered every 28 days, South's cell blank (policy.review_days, 7): North's
    # lines protect L + 28 and its minimum's top-up is costed over 28-day cycles, the same
    # on the workers as locally
    own = {
        **shop,
        "suppliers": shop["suppliers"].with_columns(
            review_days=pl.when(pl.col("supplier") == "North").then(28.0).otherwise(None)
        ),
    }
    local = stockplan.plan(own, _purchasing_config(None, "cheapest"))
    orders = local.tables["orders"]
    own_r = orders.group_by("supplier").agg(
        (pl.col("review_days") - pl.col("closure_cover_days")).unique().alias("r")
    )
    assert dict(own_r.iter_rows()) == {"North": [28.0], "South": [7.0]}
    north = local.tables["supplier_orders"].filter(pl.col("supplier") == "North")
    assert north["minimum_action"].to_list() != [None]
    parts = parts_target(str(tmp_path / "out"), "parquet", True)
    with offering(parts):
        remote = stockplan.plan(own, _purchasing_config(None, "cheapest", "dask", dask_scheduler))
    assert parts is not None and parts.used
    parts.publish()
    _same("orders", orders, _parts(tmp_path / "out", "orders"))
    _same("risk", local.tables["risk"], _parts(tmp_path / "out", "risk"))
    assert_frame_equal(
        local.tables["supplier_orders"],
        remote.tables["supplier_orders"],
        check_exact=False,
        rel_tol=1e-9,
    )


def test_on_dask_no_top_up_passes_a_shelf_life_cap_and_the_budget_note_is_the_sheet(
    shop, dask_scheduler, tmp_path
):
    # North's items (odd codes) keep 12 + i days: their order-up-to is capped at d x (L +
    # 12 + i). North's minimum of 60,000 is topped up after the budget of 40,000: every
    # line it raises stays at or under its cap (K007, K009, K011, K013 were raised 12 to
    # 74 units past it), locally and on the workers, and the budget note gives the total
    # of the lines as written, and what came after the budget
    perishable = {
        **shop,
        "products": shop["products"].with_columns(
            pl.Series("shelf_life_days", [None if i % 2 == 0 else 12.0 + i for i in range(SKUS)])
        ),
    }

    def config(engine: str = "local", address: str | None = None):
        raw = _purchasing_config(BUDGET, "top_up", engine, address).model_dump(mode="json")
        return parse_config(raw)

    local = stockplan.plan(perishable, config())
    orders = local.tables["orders"]
    raised = orders.filter(
        pl.col("reason").str.contains("topped up by") & pl.col("order_up_to_cap").is_not_null()
    )
    assert raised.height >= 4
    after = raised["inventory_position"] + raised["order_qty"]
    assert (after <= raised["order_up_to_cap"] + 1e-9).all()
    buying = orders.filter(pl.col("order_qty") > 0)
    note = next(n for n in local.notes if n.startswith("budget "))
    total = f"{buying['order_value'].sum():,.2f}"
    assert note.startswith(f"budget 40,000.00: orders {total} on {buying.height} lines, ")
    assert " added after the budget by top ups" in note

    parts = parts_target(str(tmp_path / "out"), "parquet", True)
    with offering(parts):
        remote = stockplan.plan(perishable, config("dask", dask_scheduler))
    assert parts is not None and parts.used
    parts.publish()
    _same("orders", orders, _parts(tmp_path / "out", "orders"))
    assert note in remote.notes


@pytest.mark.parametrize("action", ["defer", "flag"])
def test_a_supplier_with_a_line_without_a_cost_is_not_judged_on_dask_as_locally(
    shop, dask_scheduler, tmp_path, action
):
    """K001 (North) has no unit cost: North's known total is below its minimum but its
    total is unknown, so its orders stay as planned, locally and on Dask alike."""
    shop = {
        **shop,
        "stock": shop["stock"].with_columns(
            pl.when(pl.col("sku") == "K001")
            .then(None)
            .otherwise(pl.col("unit_cost"))
            .alias("unit_cost")
        ),
    }
    local, local_orders = _local(shop, None, action, True)
    north = local.tables["supplier_orders"].filter(pl.col("supplier") == "North").row(0, named=True)
    assert north["minimum_action"] == "unknown_cost" and north["meets_minimum"] is None
    lines = local_orders.filter((pl.col("supplier") == "North") & (pl.col("order_qty") > 0))
    assert lines.height == north["lines"] > 0
    assert lines["reason"].str.contains("minimum order value 60000 not checked").all()
    assert not local_orders["reason"].str.contains("deferred").any()
    assert any(
        note.startswith("suppliers: minimum order value not checked") for note in local.notes
    )

    config = _purchasing_config(None, action, "dask", dask_scheduler)
    parts = parts_target(str(tmp_path / "out"), "parquet", True)
    with offering(parts):
        remote = stockplan.plan(shop, config)
    assert parts is not None and parts.used
    parts.publish()
    _same("orders", local_orders, _parts(tmp_path / "out", "orders"))
    assert_frame_equal(
        local.tables["supplier_orders"],
        remote.tables["supplier_orders"],
        check_exact=False,
        rel_tol=1e-9,
    )
    assert set(local.notes) <= set(remote.notes)
