"""stockplan from Python: frames built in memory, checked at the boundary, planned, explained,
replayed and written, through the public names of `stockplan` only."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from openpyxl import load_workbook
from scipy.stats import norm

import stockplan
from stockplan import Config, Inputs, StockplanError

START = dt.date(2025, 1, 6)  # a Monday
AS_OF = dt.date(2025, 5, 26)  # 20 weeks later, a Monday
DAYS = [START + dt.timedelta(days=i) for i in range((AS_OF - START).days)]


def steady_shop() -> dict[str, pl.DataFrame]:
    """One item selling exactly 10 a day at WH1, 50 on hand, a supplier 14 days away."""
    return {
        "sales": pl.DataFrame({"date": DAYS, "sku": "A", "location": "WH1", "quantity": 10}),
        "stock": pl.DataFrame({"sku": ["A"], "location": ["WH1"], "on_hand": [50]}),
        "products": pl.DataFrame({"sku": ["A"], "supplier": ["S"], "unit_cost": [2.0]}),
        "suppliers": pl.DataFrame({"supplier": ["S"], "lead_time_days": [14]}),
    }


def no_holidays(**sections: object) -> Config:
    """A config without input paths (frames are handed in) and without supplier holidays,
    so the lead time is the supplier's 14 days."""
    return Config.model_validate(
        {"planning": {"as_of": AS_OF.isoformat()}, "calendars": {"public_holidays": "none"}}
        | sections
    )


@pytest.fixture(scope="module")
def steady_plan() -> stockplan.Plan:
    return stockplan.plan(steady_shop(), no_holidays())


def test_a_plan_from_frames_covers_lead_time_and_review_plus_safety_stock(steady_plan):
    row = steady_plan.orders.row(0, named=True)
    lead, review = 14.0, 7.0
    assert row["lead_time_days"] == lead
    assert row["forecast_per_day"] == pytest.approx(10.0)
    # order-up-to = demand over L + R + z * sigma_e * sqrt((L + R) / bucket days)
    z = norm.ppf(0.95)
    safety = z * row["sigma_e"] * math.sqrt((lead + review) / 7)
    assert row["safety_stock"] == pytest.approx(safety, rel=1e-6)
    assert row["order_up_to"] == pytest.approx(10 * (lead + review) + safety, rel=1e-6)
    need = 10 * (lead + review) + safety - 50
    assert row["order_qty"] == pytest.approx(round(need), abs=1)


def test_plan_has_named_tables_and_no_notices_without_customer_orders(steady_plan):
    for name in ("orders", "risk", "transfers", "excess", "supplier_orders", "forecast"):
        assert isinstance(getattr(steady_plan, name), pl.DataFrame), name
    assert steady_plan.classes["demand_pattern"].to_list() == ["smooth"]
    assert steady_plan.notices is None
    assert steady_plan.as_of == AS_OF


def test_pandas_frames_give_the_same_orders_as_polars_frames(steady_plan):
    pandas_frames = {name: frame.to_pandas() for name, frame in steady_shop().items()}
    from_pandas = stockplan.plan(pandas_frames, no_holidays())
    assert from_pandas.orders["order_qty"].to_list() == steady_plan.orders["order_qty"].to_list()


def test_frames_give_the_same_plan_as_the_same_data_in_files(tmp_path: Path, steady_plan):
    frames = steady_shop()
    for name, frame in frames.items():
        frame.write_csv(tmp_path / f"{name}.csv")
    (tmp_path / "stockplan.yaml").write_text(
        "inputs:\n"
        + "".join(f"  {name}: {name}.csv\n" for name in frames)
        + f"planning:\n  as_of: {AS_OF}\ncalendars:\n  public_holidays: none\n",
        encoding="utf-8",
    )
    config, inputs = stockplan.load(tmp_path / "stockplan.yaml")
    assert set(inputs) == set(frames)
    from_files = stockplan.plan(inputs, config)
    columns = ["sku", "location", "order_qty", "safety_stock", "reorder_point"]
    assert from_files.orders.select(columns).equals(steady_plan.orders.select(columns))


def test_a_bad_value_in_a_frame_names_table_row_and_column():
    frames = steady_shop()
    frames["sales"] = frames["sales"].with_columns(
        pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("ten")).otherwise(pl.lit("10"))
        .alias("quantity")
    )  # fmt: skip
    with pytest.raises(StockplanError) as error:
        stockplan.plan(frames, no_holidays())
    assert str(error.value) == "sales frame, row 3, column 'quantity': 'ten' is not a number"


def test_a_frame_without_a_required_column_names_the_table_and_column():
    frames = steady_shop()
    frames["stock"] = frames["stock"].drop("on_hand")
    with pytest.raises(StockplanError, match=r"^stock frame: missing required column 'on_hand'"):
        stockplan.plan(frames, no_holidays())


def test_a_negative_on_hand_in_a_frame_is_refused_like_in_a_file():
    frames = steady_shop()
    frames["products"] = frames["products"].with_columns(pl.lit(-2.0).alias("unit_cost"))
    with pytest.raises(StockplanError, match=r"^products frame, row 1, column 'unit_cost'"):
        stockplan.plan(frames, no_holidays())


def test_missing_stock_and_unknown_tables_are_refused():
    frames = steady_shop()
    del frames["stock"]
    with pytest.raises(StockplanError, match="missing input table 'stock'"):
        stockplan.plan(frames, no_holidays())
    with pytest.raises(StockplanError, match="unknown input table 'sale'"):
        Inputs.from_frames(no_holidays(), sale=steady_shop()["sales"], **steady_shop())
    with pytest.raises(StockplanError, match="expected a Polars or pandas DataFrame"):
        stockplan.plan({**steady_shop(), "stock": [("A", "WH1", 50)]}, no_holidays())


def test_frame_headers_map_through_aliases_and_config_columns():
    frames = steady_shop()
    frames["sales"] = frames["sales"].rename({"quantity": "qty", "location": "Lager"})
    frames["stock"] = frames["stock"].rename({"location": "Lager"})
    config = no_holidays(columns={"sales": {"Lager": "location"}, "stock": {"Lager": "location"}})
    inputs = Inputs.from_frames(config, **frames)
    assert inputs["sales"]["quantity"].sum() == 10 * len(DAYS)
    assert inputs["sales"]["location"].unique().to_list() == ["WH1"]


def test_a_frame_number_next_to_zero_is_read_as_zero_with_the_note_a_file_gets():
    """50 on hand less a rounding residue (1e-15 left after fractional moves) in a frame
    became 0 without a word; the note names the frame, row and column as for a file."""
    frames = steady_shop()
    frames["stock"] = pl.DataFrame(
        {"sku": ["A", "A"], "location": ["WH1", "WH2"], "on_hand": [50.0, 1e-15]}
    )
    inputs = Inputs.from_frames(no_holidays(), **frames)
    assert inputs["stock"]["on_hand"].to_list() == [50.0, 0.0]
    assert [w for w in inputs.warnings if "read as 0" in w] == [
        "stock frame, row 2, column 'on_hand': '1e-15' read as 0 (1 such cells in the "
        "column): no quantity, price or time is so near 0; a rounding residue or a damaged cell"
    ]


def test_explain_reads_the_plan_own_row_and_projects_stock_from_it(steady_plan):
    shown = stockplan.explain(steady_plan, "A", location="WH1")
    assert shown.orders.equals(steady_plan.orders)
    first = shown.projection.sort("period_start").row(0, named=True)
    # the first week: 50 on hand less a week of demand at 10 a day; the order is not in yet
    assert first["projected_without_order"] == pytest.approx(50 - 7 * 10, abs=1e-6)
    assert shown.history["demand"].tail(4).to_list() == [70.0] * 4


def test_explain_refuses_an_unknown_sku_and_location(steady_plan):
    with pytest.raises(StockplanError, match="SKU 'Z' is in neither the sales nor the stock"):
        stockplan.explain(steady_plan, "Z")
    with pytest.raises(StockplanError, match="no stock or sales at location 'WH9'"):
        stockplan.explain(steady_plan, "A", location="WH9")


def test_plan_write_hands_every_table_to_one_workbook(tmp_path: Path, steady_plan):
    written = steady_plan.write(tmp_path / "plan.xlsx")
    assert written == [tmp_path / "plan.xlsx"]
    sheets = load_workbook(written[0], read_only=True).sheetnames
    assert len(sheets) >= len(steady_plan.tables)


def test_plan_write_to_a_folder_writes_one_csv_per_table(tmp_path: Path, steady_plan):
    folder = tmp_path / "out"
    written = steady_plan.write(folder, all_rows=True)
    assert {p.stem for p in written} == set(steady_plan.tables)
    orders = pl.read_csv(folder / "orders.csv")
    assert orders["order_qty"].to_list() == steady_plan.orders["order_qty"].to_list()


def test_simulate_replays_frames_with_the_policy_and_the_rule_of_thumb():
    rng = np.random.default_rng(3)
    frames = steady_shop()
    frames["sales"] = frames["sales"].with_columns(
        pl.Series("quantity", rng.poisson(10, len(DAYS)))
    )
    config = no_holidays(simulate={"periods": 4, "targets": [0.9]})
    announced = []
    run = stockplan.simulate(frames, config, replaying=lambda *what: announced.append(what))
    # 4 weekly buckets before the Monday as_of, announced before the replay runs
    assert announced == [(AS_OF - dt.timedelta(weeks=4), 28, 1)]
    policies = set(run.simulation["policy"])
    assert "stockplan" in policies
    assert any(name.startswith("baseline: reorder at") for name in policies)
    assert run.days == 28 and run.series == 1
    assert run.simulation["fill_rate"].is_between(0, 1).all()
    only_policy = stockplan.simulate(frames, config, baselines=[])
    assert set(only_policy.simulation["policy"]) == {"stockplan"}


def test_importing_stockplan_loads_no_dataframe_library():
    code = "import sys, stockplan; print('polars' in sys.modules, stockplan.__all__[0])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "Config"]


def test_the_api_names_are_the_functions_after_every_module_is_imported():
    import importlib
    import pkgutil
    import types

    for module in pkgutil.walk_packages(stockplan.__path__, "stockplan."):
        if not module.name.endswith("__main__"):  # that one runs the command line
            importlib.import_module(module.name)
    for name in ("plan", "classify", "simulate", "explain", "load", "verify"):
        function = getattr(stockplan, name)
        assert callable(function) and function.__module__ == "stockplan.api", name
    for name in stockplan.__all__:  # no submodule import has replaced a public name
        assert not isinstance(getattr(stockplan, name), types.ModuleType), name
    assert set(stockplan.__all__) <= set(dir(stockplan))


def test_a_kit_sold_but_never_stocked_is_explained_by_its_components():
    frames = steady_shop()
    kit_sales = pl.DataFrame({"date": DAYS, "sku": "KIT", "location": "WH1", "quantity": 1})
    frames["sales"] = pl.concat([frames["sales"], kit_sales])
    frames["bom"] = pl.DataFrame(
        {"kit_sku": ["KIT", "KIT"], "component_sku": ["A", "B"], "quantity": [2, 1]}
    )
    frames["stock"] = pl.DataFrame(
        {"sku": ["A", "B"], "location": ["WH1", "WH1"], "on_hand": [50, 5]}
    )
    frames["products"] = pl.DataFrame(
        {"sku": ["A", "B", "KIT"], "supplier": ["S", "S", None], "unit_cost": [2.0, 1.0, None]}
    )
    planned = stockplan.plan(frames, no_holidays())
    shown = stockplan.explain(planned, "KIT")
    assert shown.kit_components == ["A", "B"] and shown.orders.height == 0
    # the kit's sales are its components' demand: A sells 10 alone and 2 per kit a day
    a_row = planned.orders.filter(pl.col("sku") == "A").row(0, named=True)
    assert a_row["forecast_per_day"] == pytest.approx(10 + 2 * 1)


def test_plan_write_without_all_rows_keeps_only_the_lines_to_order(tmp_path: Path):
    frames = steady_shop()
    frames["stock"] = pl.DataFrame(
        {"sku": ["A", "A"], "location": ["WH1", "WH2"], "on_hand": [50, 10_000]}
    )
    planned = stockplan.plan(frames, no_holidays(transfers={"enabled": False}))
    assert planned.orders.height == 2  # every sku x location
    planned.write(tmp_path / "orders.csv")
    written = pl.read_csv(tmp_path / "orders.csv")
    assert written["location"].to_list() == ["WH1"]  # WH2 holds years of stock
    assert planned.order_lines["location"].to_list() == ["WH1"]


def test_a_yaml_config_still_needs_its_inputs(tmp_path: Path):
    path = tmp_path / "stockplan.yaml"
    path.write_text("planning:\n  bucket: week\n", encoding="utf-8")
    with pytest.raises(StockplanError, match=r"stockplan.yaml: missing key 'inputs'$"):
        stockplan.load(path)


def test_classify_gives_the_plan_classes_without_a_forecast(steady_plan):
    classes = stockplan.classify(steady_shop(), no_holidays())
    row = classes.row(0, named=True)
    # 10 every day: every bucket has demand (ADI 1) and no spread (CV^2 0): smooth
    assert (row["sku"], row["location"], row["demand_pattern"]) == ("A", "WH1", "smooth")
    assert row["adi"] == pytest.approx(1.0)
    assert row["cv2"] == pytest.approx(0.0, abs=1e-12)
    assert classes.equals(steady_plan.classes)


def test_supplier_scorecard_reads_only_the_purchase_orders(tmp_path: Path):
    (tmp_path / "po.csv").write_text(
        "po_id,sku,supplier,order_date,received_date,quantity\n"
        "P1,A,S,2025-01-01,2025-01-11,100\n"  # 10 days
        "P2,A,S,2025-02-01,2025-02-15,100\n",  # 14 days
        encoding="utf-8",
    )
    config = Config.model_validate(
        {
            "inputs": {
                "sales": str(tmp_path / "missing-sales.csv"),  # never read
                "stock": str(tmp_path / "missing-stock.csv"),
                "purchase_orders": str(tmp_path / "po.csv"),
            }
        }
    )
    orders = stockplan.read_purchase_orders(config)
    assert list(orders) == ["purchase_orders"]
    row = stockplan.suppliers(orders, config).row(0, named=True)
    assert row["receipts"] == 2
    assert row["lead_time_mean_days"] == pytest.approx(12.0)
    assert row["lead_time_std_days"] == pytest.approx(math.sqrt(((10 - 12) ** 2 + 2**2) / 1))
    # no sales read: the scorecard is dated the day after the newest receipt
    assert stockplan.planning_date(orders, config) == dt.date(2025, 2, 16)


def test_planning_date_is_the_config_date_else_the_day_after_the_last_sale():
    frames = steady_shop()
    assert stockplan.planning_date(frames, Config()) == DAYS[-1] + dt.timedelta(days=1)
    assert stockplan.planning_date(frames, no_holidays()) == AS_OF
    assert stockplan.planning_date({}, Config()) == dt.date.today()


def test_diff_plans_names_the_order_change_when_stock_rises(tmp_path: Path, steady_plan):
    frames = steady_shop()
    frames["stock"] = frames["stock"].with_columns(pl.lit(80).alias("on_hand"))
    more_stock = stockplan.plan(frames, no_holidays())
    steady_plan.write(tmp_path / "old.xlsx", all_rows=True)
    more_stock.write(tmp_path / "new.xlsx", all_rows=True)
    compared = stockplan.diff_plans(tmp_path / "old.xlsx", tmp_path / "new.xlsx")
    row = compared.changes.row(0, named=True)
    old_qty = steady_plan.orders["order_qty"][0]
    assert row["change"] == "changed"
    assert row["old_order_qty"] == old_qty
    assert row["order_qty_change"] == pytest.approx(-30.0)  # 30 more on hand, 30 fewer to buy
    assert compared.planning_dates() == ["?", "?"]  # plan.write keeps no run record
    assert compared.same_config() is None


def test_verify_refuses_a_plan_without_a_run_record(tmp_path: Path, steady_plan):
    steady_plan.write(tmp_path / "plan.xlsx")
    with pytest.raises(StockplanError, match="no run record"):
        stockplan.verify(tmp_path / "plan.xlsx")


def test_supplier_forecast_starts_with_this_week_order_then_one_review_a_week(steady_plan):
    projection = stockplan.supplier_forecast(steady_plan, no_holidays())
    this_week = projection.filter(pl.col("status") == "this week's order")
    assert this_week["projected_qty"].sum() == steady_plan.orders["order_qty"].sum()
    # order-up-to with a weekly review and 10 sold a day: each later order replaces the
    # week's 7 x 10 = 70 units sold since the last one; one review a week for 8 weeks
    later = projection.filter(pl.col("status") == "projected")
    assert later["projected_qty"].to_list() == [70.0] * 7
    assert projection["order_date"].to_list() == [AS_OF + dt.timedelta(weeks=k) for k in range(8)]
    assert (projection["qty_low"] <= projection["projected_qty"]).all()
    assert (projection["projected_qty"] <= projection["qty_high"]).all()
