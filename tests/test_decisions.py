"""Decisions a buyer acts on: inactive items, stale stock, conflicting master data,
allocations that already reserve customer orders, risk after transfers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import yaml
from plan_rows import NULLABLE_NUMBERS, plan_row

import stockplan
from stockplan import i18n
from stockplan.config import Policy, Transfers
from stockplan.reorder import (
    MASTER_DATA_CONFLICT,
    master_data_note,
    plan_orders,
    stale_stock_note,
    stock_position,
    under_half_a_unit,
)
from stockplan.series import item_attributes
from stockplan.transfers import plan_transfers

AS_OF = dt.date(2025, 3, 3)
NO_PO = pl.DataFrame(
    schema={"sku": pl.String, "location": pl.String, "quantity": pl.Float64, "arrival": pl.Date}
)


def _row(**overrides) -> dict:
    """One series, 10 a day over L + R = 21 days, sigma 0: S = 210; position 10."""
    return plan_row(**{"on_hand": 10.0, "inventory_position": 10.0, **overrides})


def _plan(*rows: dict) -> dict[str, dict]:
    frame = pl.DataFrame(
        list(rows),
        schema_overrides=NULLABLE_NUMBERS,
    )
    return {r["sku"]: r for r in plan_orders(frame, Policy(), AS_OF, 7).to_dicts()}


@pytest.mark.parametrize(
    "status",
    ["false", "0", "no", "N", "否", "disabled", "Archived", "blocked", "停用", "停售", "下架"],
)
def test_inactive_products_are_never_ordered(status):
    products = pl.DataFrame({"sku": ["P", "Q"], "status": [status, "active"]})
    sales = pl.DataFrame({"sku": ["P"], "quantity": [1.0]})
    stock = pl.DataFrame({"sku": ["P"], "on_hand": [1.0]})
    flags = dict(item_attributes(products, stock, sales).select("sku", "inactive").iter_rows())
    assert flags == {"P": True, "Q": False}
    out = _plan(_row(inactive=True), _row(sku="Q"))
    assert (
        out["P"]["order_qty"] == 0 and out["P"]["reason"] == "no order: product status is inactive"
    )
    assert out["Q"]["order_qty"] == 200  # 210 - 10, the active twin


@pytest.mark.parametrize("value", ["true", "1", "yes", "Y", "是", None])
def test_an_active_column_saying_yes_or_nothing_keeps_the_item(value):
    products = pl.DataFrame(
        {"sku": ["P"], "status": [value]}, schema={"sku": pl.String, "status": pl.String}
    )
    sales = pl.DataFrame({"sku": ["P"], "quantity": [1.0]})
    stock = pl.DataFrame({"sku": ["P"], "on_hand": [1.0]})
    assert item_attributes(products, stock, sales)["inactive"].to_list() == [False]


def test_inactive_items_are_neither_sent_nor_received_by_transfers():
    rows = pl.DataFrame(
        {
            "sku": ["A", "A", "B", "B"],
            "location": ["D", "R", "D", "R"],
            "on_hand": [130.0, 0.0, 130.0, 0.0],
            "allocated": [0.0] * 4,
            "backorders": [0.0] * 4,
            "inventory_position": [130.0, 0.0, 130.0, 0.0],
            "reorder_point": [50.0] * 4,
            "order_up_to": [50.0] * 4,
            "forecast_per_day": [1.0] * 4,
            "inactive": [False, False, True, True],
        }
    )
    moves = plan_transfers(rows, Transfers(), AS_OF).select(
        "sku", "from_location", "to_location", "quantity"
    )
    # A: D holds 130 - 50 = 80 above S, R needs 50 -> 50 move; B (inactive) stays put
    assert moves.rows() == [("A", "D", "R", 50.0)]


def _snapshots(missing: str) -> dict[tuple[str, str], dict]:
    # two weekly exports; the newest (10 Mar) leaves out X@W1, which had 300 on 3 Mar.
    # W2 was only exported on 3 Mar: its rows are its newest snapshot.
    stock = pl.DataFrame(
        {
            "sku": ["X", "Y", "Y", "X"],
            "location": ["W1", "W1", "W1", "W2"],
            "date": [
                dt.date(2025, 3, 3),
                dt.date(2025, 3, 3),
                dt.date(2025, 3, 10),
                dt.date(2025, 3, 3),
            ],
            "on_hand": [300, 40, 25, 7],
            "allocated": [20.0, 0.0, 5.0, 0.0],
        }
    )
    position = stock_position(stock, NO_PO, None, missing_from_latest=missing)
    return {(r["sku"], r["location"]): r for r in position.to_dicts()}


def test_an_item_missing_from_the_newest_snapshot_has_nothing_on_hand():
    zero = _snapshots("zero")
    assert (zero[("X", "W1")]["on_hand"], zero[("X", "W1")]["inventory_position"]) == (0.0, 0.0)
    assert zero[("Y", "W1")]["inventory_position"] == 20.0  # 25 - 5 from 10 Mar
    assert zero[("X", "W2")]["on_hand"] == 7.0  # its location's newest export
    kept = _snapshots("last_seen")
    assert kept[("X", "W1")]["inventory_position"] == 280.0  # 300 - 20, last week's
    stock = pl.DataFrame(
        {
            "sku": ["X", "Y"],
            "location": ["W1", "W1"],
            "date": [dt.date(2025, 3, 3), dt.date(2025, 3, 10)],
            "on_hand": [300, 25],
        }
    )
    assert stale_stock_note(stock, "zero") == (
        "stock: 1 item is missing from their location's newest snapshot, taken as 0 on hand: X@W1"
    )


def test_max_order_below_moq_orders_nothing_and_says_so():
    out = _plan(_row(moq=1000.0, max_order=500.0), _row(sku="Q", moq=100.0, max_order=500.0))
    p = out["P"]
    assert p["order_qty"] == 0 and p["order_value"] == 0
    assert p["reason"] == (
        f"{MASTER_DATA_CONFLICT}: max_order 500 is below the MOQ 1000 in the products file; "
        "need 200 to reach 210"
    )
    assert out["Q"]["order_qty"] == 200  # 210 - 10, within MOQ 100 and max 500
    note = master_data_note(pl.DataFrame([p, out["Q"]]))
    assert note == (
        "products: max_order below the moq in whole packs leaves 1 line with a need "
        "unordered (P); fix the product master"
    )


def test_no_pack_multiple_between_moq_and_max_order_orders_nothing_and_says_so():
    # P: MOQ 100 in packs of 12 is 9 packs = 108, above max_order 107; 8 packs = 96 would
    # be below the MOQ. Q may order 108: need 200 -> 17 packs = 204, capped at 9 packs.
    rows = {"moq": 100.0, "pack_size": 12.0}
    out = _plan(_row(**rows, max_order=107.0), _row(sku="Q", **rows, max_order=108.0))
    p = out["P"]
    assert p["order_qty"] == 0 and p["order_value"] == 0
    assert p["reason"] == (
        f"{MASTER_DATA_CONFLICT}: max_order 107 is below 108, the MOQ 100 in whole packs of "
        "12, in the products file; need 200 to reach 210"
    )
    assert i18n.unknown_clauses(p["reason"]) == []
    assert i18n.render_reason(p["reason"], "zh") == (
        "不订货：商品档案数据冲突：最大订货量 107 低于 108（最小起订量 100 按每包 12 取整）；"
        "需 200 补至最高库存 210"
    )
    assert out["Q"]["order_qty"] == 108
    assert master_data_note(pl.DataFrame([p, out["Q"]])) == (
        "products: max_order below the moq in whole packs leaves 1 line with a need "
        "unordered (P); fix the product master"
    )


@pytest.mark.parametrize(
    ("reserves", "backorders", "position"),
    [
        # separate: 100 on hand - 30 allocated - 50 open customer orders = 20
        (False, 50.0, 20.0),
        # allocated is the reservation for 30 of the 50 ordered: 100 - 30 - (50 - 30) = 50
        (True, 20.0, 50.0),
    ],
)
def test_allocated_stock_and_customer_orders_are_not_subtracted_twice(
    reserves, backorders, position
):
    stock = pl.DataFrame({"sku": ["A"], "location": ["W"], "on_hand": [100.0], "allocated": [30.0]})
    customer_orders = pl.DataFrame(
        {"sku": ["A", "A"], "location": ["W", "W"], "quantity": [20.0, 30.0]}
    )
    (row,) = stock_position(
        stock, NO_PO, customer_orders, allocated_includes_customer_orders=reserves
    ).to_dicts()
    assert (row["backorders"], row["inventory_position"]) == (backorders, position)


def test_allocation_above_the_customer_orders_leaves_no_backorder():
    # 40 allocated for 25 ordered: nothing more is owed, allocated still counts once
    stock = pl.DataFrame({"sku": ["A"], "location": ["W"], "on_hand": [100.0], "allocated": [40.0]})
    customer_orders = pl.DataFrame({"sku": ["A"], "location": ["W"], "quantity": [25.0]})
    (row,) = stock_position(
        stock, NO_PO, customer_orders, allocated_includes_customer_orders=True
    ).to_dicts()
    assert (row["backorders"], row["inventory_position"]) == (0.0, 60.0)


def _cli(*args: str):
    from typer.testing import CliRunner

    from stockplan.cli import app

    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _products(folder: Path, **columns: list) -> None:
    frame = pl.read_csv(folder / "products.csv", schema_overrides={"sku": pl.String})
    frame.with_columns(**{k: pl.Series(v) for k, v in columns.items()}).write_csv(
        folder / "products.csv"
    )


def test_an_active_column_of_false_stops_the_order_end_to_end(small_shop: Path):
    # products: A-100, 007; A-100 is short in WH1 and would be ordered
    _products(small_shop.parent, active=[False, True])
    config, inputs = stockplan.load(small_shop)
    orders = stockplan.plan(inputs, config).orders  # every sku x location
    a100 = orders.filter(pl.col("sku") == "A-100")
    assert a100["order_qty"].to_list() == [0, 0]
    assert set(a100["reason"]) == {"no order: product status is inactive"}
    assert orders.filter(pl.col("sku") == "007")["order_qty"].item() > 0


def test_fail_on_risk_counts_the_planned_transfer(small_shop: Path, tmp_path: Path):
    # WH1 holds 40 - 5 allocated of A-100 (10 a day, 14-day lead time, 48 due on day 7):
    # short alone, covered once WH2's surplus moves. 007 gets stock so only A-100 matters.
    folder = small_shop.parent
    stock = pl.read_csv(folder / "stock.csv", schema_overrides={"sku": pl.String})
    stock.with_columns(
        pl.when(pl.col("sku") == "007").then(300).otherwise(pl.col("on_hand")).alias("on_hand")
    ).write_csv(folder / "stock.csv")
    out = tmp_path / "out"
    moved = _cli("plan", "-c", str(small_shop), "-o", str(out), "--all", "--fail-on-risk", "high")
    assert moved.exit_code == 0, moved.output
    orders = pl.read_csv(out / "orders.csv", schema_overrides={"sku": pl.String})
    risk = pl.read_csv(out / "risk.csv", schema_overrides={"sku": pl.String})
    key = (pl.col("sku") == "A-100") & (pl.col("location") == "WH1")
    row, wh1 = orders.filter(key).row(0, named=True), risk.filter(key).row(0, named=True)
    assert row["transfer_qty"] > 0 and wh1["risk_level"] == "low"
    # cover = (40 - 5 + transfer in) / rate
    assert wh1["days_of_cover"] == pytest.approx(
        (40 - 5 + row["transfer_qty"]) / row["forecast_per_day"],
        abs=0.05,  # CSV rounds to 2 places
    )
    config = yaml.safe_load(small_shop.read_text())
    config["transfers"] = {"enabled": False}
    small_shop.write_text(yaml.safe_dump(config))
    alone = _cli(
        "risk", "-c", str(small_shop), "-o", str(tmp_path / "r.csv"), "--fail-on-risk", "high"
    )
    assert alone.exit_code == 3


def test_explain_projection_counts_the_transfer_and_demand_from_as_of():
    from stockplan.projection import stock_projection

    orders = pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["W"],
            "on_hand": [30.0],
            "allocated": [5.0],
            "backorders": [0.0],
            "transfer_qty": [5.0],
            "order_qty": [0.0],
            "expected_arrival": [dt.date(2025, 3, 19)],
        }
    )
    forecast = pl.DataFrame(
        {
            "sku": ["A", "A"],
            "location": ["W", "W"],
            "period_start": [dt.date(2025, 3, 3), dt.date(2025, 3, 10)],
            "forecast": [7.0, 14.0],
        }
    )
    path = stock_projection(orders, forecast, NO_PO, 7, dt.date(2025, 3, 5))
    # 30 - 5 + 5 = 30 free; Wed 5 Mar to Sun 9 Mar is 5 of week 1's 7 days: 30 - 5 = 25;
    # then all of week 2: 25 - 14 = 11
    assert path["projected_stock"].to_list() == [25.0, 11.0]


@pytest.mark.parametrize(
    ("moq", "max_order", "conflict"),
    [
        (1000, 500, "max_order 500 is below the MOQ 1000"),
        # packs of 12: 96 is below the MOQ 100, 108 above max 107
        (100, 107, "max_order 107 is below 108, the MOQ 100 in whole packs of 12"),
    ],
)
def test_max_order_below_moq_stays_on_the_order_sheet_with_a_note(
    small_shop: Path, tmp_path: Path, moq: int, max_order: int, conflict: str
):
    # A-100 (packs of 12) is short at WH1 (transfers off); its master data leaves no
    # quantity between its MOQ and its max_order
    _products(small_shop.parent, moq=[moq, 0], max_order=[max_order, None])
    config = yaml.safe_load(small_shop.read_text())
    config["transfers"] = {"enabled": False}
    small_shop.write_text(yaml.safe_dump(config))
    out = tmp_path / "orders.csv"
    result = _cli("plan", "-c", str(small_shop), "-o", str(out))  # without --all
    assert result.exit_code == 0, result.output
    orders = pl.read_csv(out, schema_overrides={"sku": pl.String})
    flagged = orders.filter(pl.col("sku") == "A-100")
    assert flagged.height >= 1 and flagged["order_qty"].to_list() == [0] * flagged.height
    assert flagged["reason"].str.starts_with(f"no order: conflicting master data: {conflict}").all()
    assert "products: max_order below the moq in whole packs leaves" in result.stderr


@pytest.mark.parametrize(
    ("position", "shown"),
    [(209.6, "only 0.4 below"), (209.52, "only 0.48 below"), (209.996, "only 0.004 below")],
)
def test_a_need_under_half_a_unit_orders_nothing_and_says_so(position: float, shown: str):
    # S = 210: the position is below it, but by less than half a unit, which rounds to 0
    # units (README, How the plan is made); the need is cut, not rounded, so 0.48 does not
    # read 0.5
    out = _plan(_row(inventory_position=position))["P"]
    assert out["order_qty"] == 0
    assert out["reason"] == (
        f"no order: position {round(position, 1):g} is {shown} order-up-to 210, under half a unit"
    )
    assert i18n.unknown_clauses(out["reason"]) == []
    zh = i18n.render_reason(out["reason"], "zh")
    assert zh.startswith("不订货：库存位置") and "不足半件" in zh


def test_the_need_under_half_a_unit_is_written_to_the_cent_without_float_noise():
    # S = 210: 210 - 209.65 = 0.35, 210 - 209.59 = 0.41, 210 - 209.53 = 0.47 and
    # 210 - 209.581 = 0.419, cut (not rounded) to 0.41. On a column of more than one row
    # polars divides by 100 as x 0.01, which writes 35, 41 and 47 cents as
    # 0.35000000000000003: the cut is written from its whole cents (209.65 is stored as
    # 209.6499..: 209.6 to 1 decimal)
    positions = [209.65, 209.59, 209.53, 209.581]
    written = ["209.6", "209.6", "209.5", "209.6"]
    shown = ["0.35", "0.41", "0.47", "0.41"]
    expected = [
        f"no order: position {p} is only {n} below order-up-to 210, under half a unit"
        for p, n in zip(written, shown, strict=True)
    ]
    # the reason as the plan's stages build it (`under_half_a_unit`, also after a cap)
    frame = pl.DataFrame({"position": positions, "up_to": [210.0] * 4})
    need = pl.col("up_to") - pl.col("position")
    reasons = frame.select(under_half_a_unit(pl.col("position"), need, pl.col("up_to")))
    assert reasons.to_series().to_list() == expected
    # and on the order rows, in both languages
    out = _plan(*[_row(sku=f"P{i}", inventory_position=p) for i, p in enumerate(positions)])
    assert [out[f"P{i}"]["order_qty"] for i in range(4)] == [0] * 4
    assert [out[f"P{i}"]["reason"] for i in range(4)] == expected
    assert [i18n.render_reason(out[f"P{i}"]["reason"], "zh") for i in range(4)] == [
        f"不订货：库存位置 {p} 仅比最高库存 210 低 {n}，不足半件"
        for p, n in zip(written, shown, strict=True)
    ]


SQ = Policy(type="sq", ordering_cost=50.0, holding_cost_rate=0.25)
"""(s, Q) with K = 50 and h = 0.25 a year: on `_row` (10 a day, unit cost 10, L + R = 21,
no forecast error) s = 210, EOQ = sqrt(2 x 3650 x 50 / (0.25 x 10)) = sqrt(146000) = 382.1
> d R = 70, so Q = 382.1 and S = s + Q = 592.1."""


@pytest.mark.parametrize(
    ("position", "order", "clause"),
    [
        # floor((210 - 10) / 382.1) + 1 = 1 x Q: 10 + 382.1 = 392.1, not S = 592.1
        (
            10.0,
            382,
            "position 10 at or below reorder point 210: order 1 × Q 382.1 = 382.1, "
            "lifting the position to 392.1",
        ),
        # floor((210 + 300) / 382.1) + 1 = 2 x Q = 764.2: -300 + 764.2 = 464.2
        (
            -300.0,
            764,
            "position -300 at or below reorder point 210: order 2 × Q 382.1 = "
            "764.2, lifting the position to 464.2",
        ),
        # from exactly s one Q lifts it to S: 210 + 382.1 = 592.1
        (
            210.0,
            382,
            "position 210 at or below reorder point 210: order 1 × Q 382.1 = 382.1, "
            "lifting the position to 592.1",
        ),
    ],
)
def test_an_sq_reason_says_how_many_q_it_orders_and_where_they_lift_the_position(
    position: float, order: int, clause: str
):
    # README: sq orders multiples of Q once position <= s; it does not order up to S
    frame = pl.DataFrame(
        [_row(inventory_position=position, on_hand=position)], schema_overrides=NULLABLE_NUMBERS
    )
    out = plan_orders(frame, SQ, AS_OF, 7).row(0, named=True)
    assert out["order_up_to"] == pytest.approx(592.1, abs=0.01)
    assert out["order_qty"] == order
    assert out["reason"] == clause
    assert i18n.unknown_clauses(out["reason"]) == []
    head, tail = clause.split(": order ")
    p = head.removeprefix("position ").split(" at or ")[0]
    k_q_n, lifted = tail.split(", lifting the position to ")
    assert i18n.render_reason(out["reason"], "zh") == (
        f"库存位置 {p} 不高于再订货点 210：订 {k_q_n}，库存位置升至 {lifted}"
    )


def test_an_sq_reason_after_a_transfer_and_explain_say_what_the_sq_rule_did():
    from stockplan.report import explain_lines

    # position 100 after a transfer in of 40: 1 x Q = 382.1 lifts it to 482.1
    frame = pl.DataFrame(
        [_row(inventory_position=100.0, on_hand=60.0, transfer_qty=40.0)],
        schema_overrides=NULLABLE_NUMBERS,
    )
    order = plan_orders(frame, SQ, AS_OF, 7).row(0, named=True)
    assert order["reason"] == (
        "after a transfer in of 40, position 100 at or below reorder point 210: order 1 × Q "
        "382.1 = 382.1, lifting the position to 482.1"
    )
    assert i18n.render_reason(order["reason"], "zh") == (
        "调入 40 后库存位置 100 仍不高于再订货点 210：订 1 × Q 382.1 = 382.1，库存位置升至 482.1"
    )
    en = explain_lines(order, None, "cycle", "CNY")
    zh = explain_lines(order, None, "cycle", "CNY", "zh")
    # no "order-up-to S = 592.1" the order does not reach: the rule, and the reason's numbers
    assert (
        "reorder point s = 210 + 0 = 210; (s, Q): order whole multiples of Q once position ≤ s"
        in en
    )
    assert not any("592.1" in line for line in en + zh)
    assert "再订货点 s = 210 + 0 = 210；(s, Q) 定量：库存位置 ≤ s 时按 Q 的整数倍订货" in zh
    assert any(
        line.endswith("order 1 × Q 382.1 = 382.1, lifting the position to 482.1") for line in en
    )
    assert any(line.endswith("订 1 × Q 382.1 = 382.1，库存位置升至 482.1") for line in zh)


def test_an_sq_line_with_conflicting_master_data_names_the_position_its_need_reaches():
    # max_order 20 below the MOQ 30: no order; the need 1 x Q = 382.1 reaches 100 + 382.1
    frame = pl.DataFrame(
        [_row(inventory_position=100.0, moq=30.0, max_order=20.0)],
        schema_overrides=NULLABLE_NUMBERS,
    )
    out = plan_orders(frame, SQ, AS_OF, 7).row(0, named=True)
    assert out["order_qty"] == 0
    assert out["reason"] == (
        "no order: conflicting master data: max_order 20 is below the MOQ 30 in the products "
        "file; need 382.1 to reach 482.1"
    )
    assert i18n.render_reason(out["reason"], "zh") == (
        "不订货：商品档案数据冲突：最大订货量 20 低于最小起订量 30；需 382.1 补至最高库存 482.1"
    )


def test_a_plan_says_why_a_need_under_half_a_unit_is_not_ordered(small_shop: Path):
    # 007 at WH1 is given stock 0.3 below its order-up-to: the plan orders nothing and
    # says the position is below by 0.3, not that it is not below
    config, inputs = stockplan.load(small_shop)
    first = stockplan.plan(inputs, config).orders.filter(pl.col("sku") == "007").row(0, named=True)
    on_hand = first["order_up_to"] - 0.3
    stock = pl.read_csv(small_shop.parent / "stock.csv", schema_overrides={"sku": pl.String})
    stock.with_columns(
        pl.when(pl.col("sku") == "007").then(on_hand).otherwise(pl.col("on_hand")).alias("on_hand")
    ).write_csv(small_shop.parent / "stock.csv")
    config, inputs = stockplan.load(small_shop)
    row = stockplan.plan(inputs, config).orders.filter(pl.col("sku") == "007").row(0, named=True)
    assert row["order_up_to"] == pytest.approx(first["order_up_to"])
    assert row["inventory_position"] == pytest.approx(on_hand)
    assert row["order_qty"] == 0
    assert row["reason"].startswith("no order: position ")
    assert " is only 0.3 below order-up-to " in row["reason"]
    assert row["reason"].endswith(", under half a unit")
