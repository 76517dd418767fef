"""Projected purchase orders shared with suppliers, checked against hand-rolled policies."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import yaml
from conftest import AS_OF as SHOP_AS_OF
from conftest import add_selling_successor
from typer.testing import CliRunner

from stockplan.cli import app
from stockplan.io.supplier_workbooks import supplier_file_name
from stockplan.supplier_projection import (
    PROJECTION_COLUMNS,
    project_supplier_orders,
    supplier_summary,
)

AS_OF = dt.date(2025, 3, 3)


def _day(n: int) -> dt.date:
    return AS_OF + dt.timedelta(days=n)


def _forecast(per_week: float, low: float, high: float, weeks: int = 13) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["A"] * weeks,
            "location": ["W"] * weeks,
            "period_start": [_day(7 * k) for k in range(weeks)],
            "forecast": [per_week] * weeks,
            "lo": [low] * weeks,
            "hi": [high] * weeks,
        }
    )


def _row(**overrides: object) -> pl.DataFrame:
    row = {
        "sku": "A",
        "location": "W",
        "supplier": "Acme",
        "order_qty": 130.0,
        "inventory_position": 100.0,
        "reorder_point": 230.0,
        "order_up_to": 230.0,
        "policy_type": "rs",
        "lead_time_days": 14.0,
        "review_days": 7.0,
        "unit_cost": 2.5,
        "moq": None,
        "pack_size": None,
        "max_order": None,
        "forecast_per_day": 10.0,
    }
    row.update(overrides)
    return pl.DataFrame(
        [row],
        schema_overrides={"moq": pl.Float64, "pack_size": pl.Float64, "max_order": pl.Float64},
    )


def test_constant_demand_order_up_to_projects_one_week_of_demand_after_the_first_order():
    # d = 70 a week (lo 50, hi 90), L = 14, R = 7, S = 210 + SS 20 = 230, position 100:
    # this week's order 130 lifts the position to S; every later review re-orders what the
    # week used: forecast path 70, lower path 50 (180 + 50 - 50 ...), upper path 90.
    projection = project_supplier_orders(_row(), _forecast(70.0, 50.0, 90.0), AS_OF, 7, 4)
    assert projection.columns == PROJECTION_COLUMNS
    assert projection["order_date"].to_list() == [_day(0), _day(7), _day(14), _day(21)]
    assert projection["expected_arrival"].to_list() == [_day(14), _day(21), _day(28), _day(35)]
    assert projection["projected_qty"].to_list() == [130.0, 70.0, 70.0, 70.0]
    assert projection["qty_low"].to_list() == [130.0, 50.0, 50.0, 50.0]
    assert projection["qty_high"].to_list() == [130.0, 90.0, 90.0, 90.0]
    assert projection["projected_value"].to_list() == [325.0, 175.0, 175.0, 175.0]
    assert projection["status"].to_list() == ["this week's order"] + ["projected"] * 3


def test_projection_rounds_to_packs_and_carries_the_rounding_surplus_forward():
    # packs of 12, this week's order 132 (130 rounded up): position 100 + 132 - 70 = 162,
    # need 68 -> 72; then 162 + 72 - 70 = 164, need 66 -> 72; 166, need 64 -> 72
    projection = project_supplier_orders(
        _row(order_qty=132.0, pack_size=12.0), _forecast(70.0, 70.0, 70.0), AS_OF, 7, 4
    )
    assert projection["projected_qty"].to_list() == [132.0, 72.0, 72.0, 72.0]


def test_min_max_projection_range_spans_the_low_and_high_demand_paths():
    # ss: s = 150, S = 300, position 160 (no order today). Weekly demand 70 (lo 50, hi 90):
    #   forecast path: 90 -> order 210; 230; 160; 90 -> order 210
    #   lower path:   110 -> order 190; 250; 200; 150 -> order 150 (at s)
    #   upper path:    70 -> order 230; 210; 120 -> order 180; 210
    projection = project_supplier_orders(
        _row(
            order_qty=0.0,
            inventory_position=160.0,
            reorder_point=150.0,
            order_up_to=300.0,
            policy_type="ss",
        ),
        _forecast(70.0, 50.0, 90.0),
        AS_OF,
        7,
        5,
    )
    rows = {r["order_date"]: r for r in projection.to_dicts()}
    assert sorted(rows) == [_day(7), _day(21), _day(28)]  # weeks where no path orders drop out
    assert (
        rows[_day(7)]["projected_qty"],
        rows[_day(7)]["qty_low"],
        rows[_day(7)]["qty_high"],
    ) == (210.0, 190.0, 230.0)
    assert (
        rows[_day(21)]["projected_qty"],
        rows[_day(21)]["qty_low"],
        rows[_day(21)]["qty_high"],
    ) == (0.0, 0.0, 180.0)
    assert (
        rows[_day(28)]["projected_qty"],
        rows[_day(28)]["qty_low"],
        rows[_day(28)]["qty_high"],
    ) == (210.0, 0.0, 210.0)


def test_inactive_items_are_not_projected_and_summary_adds_lines_per_week():
    rows = pl.concat(
        [
            _row().with_columns(pl.lit(False).alias("inactive")),
            _row(sku="B", order_qty=0.0).with_columns(pl.lit(True).alias("inactive")),
        ]
    )
    forecast = pl.concat(
        [
            _forecast(70.0, 50.0, 90.0),
            _forecast(70.0, 50.0, 90.0).with_columns(pl.lit("B").alias("sku")),
        ]
    )
    projection = project_supplier_orders(rows, forecast, AS_OF, 7, 2)
    assert projection["sku"].unique().to_list() == ["A"]
    summary = supplier_summary(projection)
    assert summary.select("order_date", "lines", "projected_qty", "qty_low", "qty_high").rows() == [
        (_day(0), 1, 130.0, 130.0, 130.0),
        (_day(7), 1, 70.0, 50.0, 90.0),
    ]


def test_supplier_file_names_are_safe_for_every_file_system():
    assert supplier_file_name('A/B: "C"') == "A_B_ _C_"
    assert supplier_file_name("华东食品") == "华东食品"
    assert supplier_file_name("...") == "supplier"
    # 255 bytes is the limit, not 255 characters: 120 Chinese characters are 360 bytes
    long = supplier_file_name("华东食品供应链管理有限公司" * 10)
    assert len(long.encode()) <= 150 and long == ("华东食品供应链管理有限公司" * 4)[:50]
    # a bidi override would show 'invoice\u202excod' as 'invoicedocx' in a file browser
    assert supplier_file_name("invoice\u202excod") == "invoice_xcod"


def test_plan_writes_one_workbook_per_supplier_whose_first_week_is_the_plan(
    small_shop: Path, tmp_path: Path
):
    out = tmp_path / "sf"
    result = CliRunner().invoke(
        app,
        [
            "plan",
            "-c",
            str(small_shop),
            "-o",
            str(tmp_path / "plan.xlsx"),
            "--all",
            "--supplier-forecast",
            str(out),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["Acme.xlsx"]
    orders = pl.read_excel(
        tmp_path / "plan.xlsx", sheet_name="orders", schema_overrides={"sku": pl.String}
    ).filter(pl.col("sku") != "total")  # the sheet's totals row
    lines = pl.read_excel(
        out / "Acme.xlsx", sheet_name="lines", schema_overrides={"sku": pl.String}
    )
    summary = pl.read_excel(out / "Acme.xlsx", sheet_name="summary")
    config = yaml.safe_load(small_shop.read_text())
    weeks = config.get("supplier_forecast", {}).get("weeks", 8)
    assert summary.height <= weeks and summary["order_date"].n_unique() == summary.height
    assert set(lines["name"].drop_nulls()) <= {"Steady item", "Slow item"}
    this_week = lines.filter(pl.col("status") == "this week's order")
    assert this_week["projected_qty"].sum() == orders["order_qty"].sum()
    assert (lines["qty_low"] <= lines["projected_qty"]).all()
    assert (lines["projected_qty"] <= lines["qty_high"]).all()


def test_supplier_forecast_into_a_file_is_refused_in_one_line(small_shop: Path, tmp_path: Path):
    taken = tmp_path / "taken.txt"
    taken.write_text("keep me")
    result = CliRunner().invoke(
        app,
        [
            "plan",
            "-c",
            str(small_shop),
            "-o",
            str(tmp_path / "o.csv"),
            "--supplier-forecast",
            str(taken),
        ],
    )
    assert result.exit_code == 1
    assert "is a file, expected a folder" in result.output
    assert taken.read_text() == "keep me"
    assert not (tmp_path / "o.csv").exists()  # refused before anything is written


def test_supplier_workbooks_are_in_the_buyers_language(small_shop: Path, tmp_path: Path):
    out = tmp_path / "sf"
    args = ["plan", "-c", str(small_shop), "-q", "--lang", "zh", "--supplier-forecast", str(out)]
    result = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "plan.csv")])
    assert result.exit_code == 0, result.output
    (workbook,) = out.iterdir()
    lines = pl.read_excel(
        workbook, sheet_name="预计采购明细", schema_overrides={"商品编码": pl.String}
    )
    assert {
        "供应商",
        "商品编码",
        "商品名称",
        "预计采购量",
        "采购量下限",
        "采购量上限",
        "状态",
    } <= set(lines.columns)
    assert set(lines["状态"]) <= {"本周订单", "预计"} and "本周订单" in set(lines["状态"])
    summary = pl.read_excel(workbook, sheet_name="汇总")
    assert "预计采购量" in summary.columns


def _forecasts(*skus: str, per_week: list[float] | None = None) -> pl.DataFrame:
    """A 13-week forecast for each sku: 70 a week (lo 50, hi 90), or `per_week` (lo = hi)."""
    frames = []
    for sku in skus:
        frame = _forecast(70.0, 50.0, 90.0).with_columns(pl.lit(sku).alias("sku"))
        if per_week is not None:
            weekly = pl.Series(per_week, dtype=pl.Float64)
            frame = frame.with_columns(forecast=weekly, lo=weekly, hi=weekly)
        frames.append(frame)
    return pl.concat(frames)


def _lines(projection: pl.DataFrame, sku: str) -> list[tuple]:
    return (
        projection.filter(pl.col("sku") == sku)
        .select("order_date", "projected_qty", "qty_low", "qty_high")
        .rows()
    )


def test_each_item_rolls_forward_at_its_own_suppliers_review_period():
    # 70 a week (10 a day), L = 14, safety stock 20, position 100, over 8 weeks (56 days).
    # A from Acme, R = 28: S = 10 x (14 + 28) + 20 = 440, this week 340; at day 28 the
    # position is 440 - 280 = 160, S_1 = 440 (constant demand): order 280 (lo 200, hi 360);
    # the next review, day 56, is past the 8 weeks.
    # B from Beta, R = 7: S = 230, this week 130, then the week's 70 (50 to 90) at days
    # 7, 14, ..., 49: a weekly order, not Acme's every four weeks.
    rows = pl.concat(
        [
            _row(order_qty=340.0, reorder_point=440.0, order_up_to=440.0, review_days=28.0),
            _row(sku="B", supplier="Beta"),
        ]
    )
    projection = project_supplier_orders(rows, _forecasts("A", "B"), AS_OF, 7, 8)
    assert _lines(projection, "A") == [
        (_day(0), 340.0, 340.0, 340.0),
        (_day(28), 280.0, 200.0, 360.0),
    ]
    assert _lines(projection, "B") == [(_day(0), 130.0, 130.0, 130.0)] + [
        (_day(7 * k), 70.0, 50.0, 90.0) for k in range(1, 8)
    ]


def test_an_old_item_is_ordered_only_for_its_demand_until_the_successor_takes_over():
    # A is replaced on day 42; L = 14, R = 7, S = 230, position 100: this week 130.
    # The cap is the forecast demand left until the switch, D(t, 42) = 10 (42 - t):
    #   day 7:  cap 350, position 230 - 70 = 160 -> 70   (lo 230-50 = 180 -> 50, hi 140 -> 90)
    #   day 14: cap 280, position 160 -> 70              (lo 180 -> 50, hi 140 -> 90)
    #   day 21: cap 210 < S, position 160 -> 210 - 160 = 50  (lo 180 -> 30, hi 140 -> 70)
    #   day 28: cap 140, position 160 + 50 - 70 = 140 -> 0 (lo 180 + 30 - 50 = 160 -> 0;
    #           hi 140 + 70 - 90 = 120 < 140, but 20 would arrive on day 42, the switch: 0)
    #   day 35 on: the old item is never ordered
    rows = _row(order_up_to_cap=420.0, replaced_from=_day(42))
    projection = project_supplier_orders(rows, _forecast(70.0, 50.0, 90.0), AS_OF, 7, 8)
    assert _lines(projection, "A") == [
        (_day(0), 130.0, 130.0, 130.0),
        (_day(7), 70.0, 50.0, 90.0),
        (_day(14), 70.0, 50.0, 90.0),
        (_day(21), 50.0, 30.0, 70.0),
    ]
    assert (projection["expected_arrival"] < _day(42)).all()


def test_an_item_capped_at_zero_by_its_shelf_life_is_never_projected():
    # shelf life not longer than the sell-by days: cap 0, the plan orders nothing. The
    # position 16 falls 14 a week below 0, yet nothing received could be sold: no line.
    rows = _row(
        order_qty=0.0,
        inventory_position=16.0,
        reorder_point=0.0,
        order_up_to=0.0,
        order_up_to_cap=0.0,
        forecast_per_day=2.0,
    )
    projection = project_supplier_orders(rows, _forecast(14.0, 10.0, 18.0), AS_OF, 7, 8)
    assert projection.height == 0


def test_a_shelf_life_cap_holds_when_the_forecast_rises():
    # cap 150 (the plan's order_up_to_cap) below S = 230: the plan orders up to 150 from
    # 100, i.e. 50. Forecast 70, 70, then 140 a week: at day 7 S_1 = 150 + D(7, 28)
    # - D(0, 21) = 150 + 350 - 280 = 220, capped at 150; position 150 - 70 = 80 -> 70.
    # Day 14: S_2 = 150 + D(14, 35) - 280 = 290 -> 150; position 150 - 70 = 80 -> 70
    # (the week of 70 before the rise). Day 21: position 150 - 140 = 10 -> 140.
    rows = _row(order_qty=50.0, reorder_point=150.0, order_up_to=150.0, order_up_to_cap=150.0)
    forecast = _forecasts("A", per_week=[70.0, 70.0] + [140.0] * 11)
    projection = project_supplier_orders(rows, forecast, AS_OF, 7, 4)
    assert projection["projected_qty"].to_list() == [50.0, 70.0, 70.0, 140.0]


def test_a_line_without_a_cost_has_no_value_and_the_total_says_it_leaves_it_out():
    # A costs 2.5, B has no cost: B's value stays empty (never 0); a week's value is the
    # known 130 x 2.5 = 325 and 70 x 2.5 = 175 with one line left out; a supplier whose
    # only line lacks a cost has no value at all
    rows = pl.concat(
        [
            _row(),
            _row(sku="B", unit_cost=None),
            _row(sku="C", supplier="Beta", unit_cost=None),
        ]
    )
    projection = project_supplier_orders(rows, _forecasts("A", "B", "C"), AS_OF, 7, 2)
    values = {(r["sku"], r["order_date"]): r["projected_value"] for r in projection.to_dicts()}
    assert values == {
        ("A", _day(0)): 325.0,
        ("A", _day(7)): 175.0,
        ("B", _day(0)): None,
        ("B", _day(7)): None,
        ("C", _day(0)): None,
        ("C", _day(7)): None,
    }
    summary = supplier_summary(projection)
    assert summary.select(
        "supplier", "order_date", "lines", "projected_value", "missing_cost_lines"
    ).rows() == [
        ("Acme", _day(0), 2, 325.0, 1),
        ("Acme", _day(7), 2, 175.0, 1),
        ("Beta", _day(0), 1, None, 1),
        ("Beta", _day(7), 1, None, 1),
    ]


def _plan_supplier_forecast(config: Path, out: Path) -> str:
    result = CliRunner().invoke(
        app,
        [
            "plan",
            "-c",
            str(config),
            "-o",
            str(out.parent / "plan.csv"),
            "--supplier-forecast",
            str(out),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result.output


def _workbook(path: Path, sheet: str) -> pl.DataFrame:
    codes = {"sku": pl.String} if sheet == "lines" else None
    return pl.read_excel(path, sheet_name=sheet, schema_overrides=codes)


def _edit_products(config: Path, **columns: pl.Expr) -> None:
    path = config.parent / "products.csv"
    products = pl.read_csv(path, schema_overrides={"sku": pl.String})
    products.with_columns(**columns).write_csv(path)


def test_plan_projects_every_supplier_at_its_own_review_period(small_shop: Path, tmp_path: Path):
    # A-100 from Acme reviewed every 28 days, 007 from Beta every 7 days
    _edit_products(
        small_shop,
        supplier=pl.when(pl.col("sku") == "007").then(pl.lit("Beta")).otherwise(pl.lit("Acme")),
    )
    pl.DataFrame(
        {
            "supplier": ["Acme", "Beta"],
            "lead_time_days": [14, 14],
            "lead_time_std_days": [0.0, 0.0],
            "review_days": [28, 7],
        }
    ).write_csv(small_shop.parent / "suppliers.csv")
    out = tmp_path / "sf"
    _plan_supplier_forecast(small_shop, out)
    acme = _workbook(out / "Acme.xlsx", "lines")
    beta = _workbook(out / "Beta.xlsx", "lines")
    # 8 weeks: Acme's reviews on days 0 and 28, Beta's every week
    assert set(acme["order_date"]) <= {SHOP_AS_OF, SHOP_AS_OF + dt.timedelta(days=28)}
    assert SHOP_AS_OF + dt.timedelta(days=28) in set(acme["order_date"])
    offsets = {(d - SHOP_AS_OF).days for d in beta["order_date"]}
    assert offsets <= set(range(0, 56, 7)) and len(offsets) >= 4


def test_plan_never_projects_an_old_item_arriving_after_its_successor_takes_over(
    small_shop: Path, tmp_path: Path
):
    # N-1 replaces A-100 six weeks after as_of (day 42): A-100 is bought only for what it
    # sells until then, its orders arriving before the switch; N-1 is bought after it
    add_selling_successor(small_shop, [5] * 28)
    out = tmp_path / "sf"
    _plan_supplier_forecast(small_shop, out)
    lines = _workbook(out / "Acme.xlsx", "lines")
    switch = SHOP_AS_OF + dt.timedelta(days=42)
    old = lines.filter((pl.col("sku") == "A-100") & (pl.col("qty_high") > 0))
    assert old.height and (old["expected_arrival"] < switch).all()
    assert (old["order_date"] < switch).all()
    new = lines.filter(pl.col("sku") == "N-1")
    assert (new["order_date"] >= switch - dt.timedelta(days=14)).any()


def test_plan_writes_no_workbook_for_a_supplier_with_nothing_to_order(
    small_shop: Path, tmp_path: Path
):
    # 007 from Fresh keeps 2 days, all of them its sell-by days: cap 0, nothing is
    # ordered, now or later, so Fresh gets no workbook; Acme's has no 007 line
    _edit_products(
        small_shop,
        supplier=pl.when(pl.col("sku") == "007").then(pl.lit("Fresh")).otherwise(pl.lit("Acme")),
        shelf_life_days=pl.when(pl.col("sku") == "007").then(2).otherwise(None),
    )
    config = yaml.safe_load(small_shop.read_text())
    config["shelf_life"] = {"sell_by_days": 2}
    small_shop.write_text(yaml.safe_dump(config))
    out = tmp_path / "sf"
    _plan_supplier_forecast(small_shop, out)
    plan = pl.read_csv(tmp_path / "plan.csv", schema_overrides={"sku": pl.String})
    assert "007" not in set(plan["sku"])  # the plan orders none of it
    assert sorted(p.name for p in out.iterdir()) == ["Acme.xlsx"]
    assert "007" not in set(_workbook(out / "Acme.xlsx", "lines")["sku"])


def test_plan_workbook_leaves_a_missing_cost_empty_and_counts_the_lines_left_out(
    small_shop: Path, tmp_path: Path
):
    # 007 has no unit cost: its lines' value is empty and each week's value is A-100's
    # alone, with the lines without a cost counted beside it
    _edit_products(
        small_shop,
        unit_cost=pl.when(pl.col("sku") == "007").then(None).otherwise(pl.col("unit_cost")),
    )
    out = tmp_path / "sf"
    _plan_supplier_forecast(small_shop, out)
    lines = _workbook(out / "Acme.xlsx", "lines")
    summary = _workbook(out / "Acme.xlsx", "summary")
    slow = lines.filter(pl.col("sku") == "007")
    assert slow.height and slow["projected_value"].null_count() == slow.height
    steady = lines.filter((pl.col("sku") == "A-100") & (pl.col("projected_qty") > 0))
    by_date = steady.group_by("order_date").agg(
        (pl.col("projected_qty") * 12.5).round(2).sum().alias("known")
    )
    missing = slow.filter(pl.col("projected_qty") > 0).group_by("order_date").len()
    expected = (
        summary.select("order_date")
        .join(by_date, on="order_date", how="left")
        .join(missing, on="order_date", how="left")
    )
    assert summary["projected_value"].to_list() == expected["known"].to_list()
    assert summary["missing_cost_lines"].to_list() == expected["len"].fill_null(0).to_list()
    assert summary["missing_cost_lines"].sum() >= 1
