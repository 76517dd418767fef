"""Supplier orders a supplier accepts: calendars, order-by dates, price breaks, minimum
order value and container loads, each on a hand-computed case."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from conftest import make_small_shop

from stockplan.calendar import (
    calendar_lead_times,
    open_days,
    order_by_dates,
    supplier_closures,
)
from stockplan.i18n import header, render_note, render_reason, unknown_clauses
from stockplan.price_breaks import all_units_eoq, apply_price_breaks, reprice
from stockplan.purchasing import flag_minimum_order_value, supplier_orders
from stockplan.supplier_rules import (
    SUPPLIER_ORDER_EXTRA,
    meet_minimum_order_value,
    round_to_loads,
    unknown_cost_note,
)

D = dt.date


def _translated(reason: str) -> bool:
    """Every clause this stage adds (after the fixtures' "r") has a Chinese template."""
    added = reason.removeprefix("r; ")
    return unknown_clauses(added) == [] and render_reason(added, "zh") != added


def _lead(supplier: str, days: float) -> pl.DataFrame:
    return pl.DataFrame(
        {"sku": ["X"], "location": ["W"], "supplier": [supplier], "lead_time_days": [days]}
    )


# --- supplier calendars ----------------------------------------------------------------


def test_a_closure_inside_the_lead_time_delays_arrival_by_its_closed_days():
    # S is closed 10-14 March 2025. Ordered Monday 3 March with L = 7 open days:
    # open 3..9 March -> arrives 10 March, no delay. The next order (10 March) sees
    # 10..14 closed, then 7 open days 15..21 -> arrives 22 March instead of 17 March:
    # this order must cover 5 more days.
    closures = pl.DataFrame(
        {"supplier": ["S"], "from": [D(2025, 3, 10)], "to": [D(2025, 3, 14)], "note": ["检修"]}
    )
    calendar = supplier_closures(closures, "none")
    row = calendar_lead_times(_lead("S", 7), calendar, D(2025, 3, 3), 7, 91).row(0, named=True)
    assert row["lead_time_days"] == 7 and row["closure_days"] == 0
    assert row["closure_cover_days"] == 5
    # ordered 7 March: open 7, 8, 9, then closed 10..14, then 15..18 -> arrives 19 March
    later = calendar_lead_times(_lead("S", 7), calendar, D(2025, 3, 7), 7, 91).row(0, named=True)
    assert later["lead_time_days"] == 12  # 7 March + 12 = 19 March
    assert later["closure_days"] == 5 and later["closure_note"] == "检修"
    assert later["open_lead_time_days"] == 7
    # another supplier is not affected
    other = calendar_lead_times(_lead("T", 7), calendar, D(2025, 3, 7), 7, 91).row(0, named=True)
    assert other["lead_time_days"] == 7 and other["closure_days"] == 0


def test_spring_festival_moves_arrival_unless_turned_off_or_the_supplier_is_exempt():
    # 春节 2026: closed 15..23 February (9 days). Ordered 9 Feb with L = 14 open days:
    # 9..14 Feb (6 days), closed, then 24 Feb .. 3 Mar (8 days) -> arrives 4 March = 23 days.
    with_holidays = calendar_lead_times(
        _lead("S", 14), supplier_closures(None, "cn"), D(2026, 2, 9), 7, 91
    ).row(0, named=True)
    assert with_holidays["lead_time_days"] == 23
    assert with_holidays["closure_days"] == 9 and with_holidays["closure_note"] == "春节"
    without = calendar_lead_times(
        _lead("S", 14), supplier_closures(None, "none"), D(2026, 2, 9), 7, 91
    ).row(0, named=True)
    assert without["lead_time_days"] == 14 and without["closure_days"] == 0
    # a supplier abroad, exempt from the public holidays, keeps its 14 days
    abroad = calendar_lead_times(
        _lead("S", 14), supplier_closures(None, "cn", ["S"]), D(2026, 2, 9), 7, 91
    ).row(0, named=True)
    assert abroad["lead_time_days"] == 14 and abroad["closure_days"] == 0


def test_order_by_is_the_last_open_day_that_still_arrives_before_the_stockout():
    # S closed 10..14 March; stockout 20 March; L = 7 open days. Counting back from 20
    # March: 19, 18, 17, 16, 15 (5 open days), 14..10 closed, 9, 8 -> order by 8 March.
    # Without the closure: 20 - 7 = 13 March.
    closures = pl.DataFrame(
        {"supplier": ["S"], "from": [D(2025, 3, 10)], "to": [D(2025, 3, 14)], "note": ["x"]}
    )
    calendar = open_days(
        supplier_closures(closures, "none"), pl.Series(["S", "T"]), D(2025, 1, 1), D(2025, 6, 1)
    )
    lines = pl.DataFrame(
        {
            "supplier": ["S", "T", "S"],
            "need_by": [D(2025, 3, 20), D(2025, 3, 20), None],
            "lead": [7.0, 7.0, 7.0],
        }
    )
    dated = order_by_dates(lines, calendar, "need_by", "lead", "order_by")
    assert dated["order_by"].to_list() == [D(2025, 3, 8), D(2025, 3, 13), None]


# --- price breaks ----------------------------------------------------------------------


def test_all_units_discount_reproduces_the_textbook_answer():
    # Heizer & Render, Operations Management, quantity discount model example: D = 5,000
    # a year, S = $49 an order, I = 20 % of price; $5.00 below 1,000, $4.80 from 1,000,
    # $4.75 from 2,000. EOQs 700, 714 -> 1,000, 718 -> 2,000; total costs
    # TC(700) = 25,000 + 350 + 350 = 25,700; TC(1,000) = 24,000 + 245 + 480 = 24,725;
    # TC(2,000) = 23,750 + 122.5 + 950 = 24,822.5. Published answer: order 1,000 ($24,725).
    quantity, cost = all_units_eoq(5000, 49, 0.2, [(0, 5.00), (1000, 4.80), (2000, 4.75)])
    assert quantity == pytest.approx(1000)
    assert cost == pytest.approx(24725)


def _priced_lines() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["FAST", "SLOW"],
            "location": ["W", "W"],
            "supplier": ["S", "S"],
            "order_qty": [100.0, 10.0],
            "unit_cost": [10.0, 10.0],
            "order_value": [1000.0, 100.0],
            "forecast_per_day": [10.0, 0.1],
            "moq": [None, None],
            "pack_size": [None, None],
            "max_order": [None, None],
            "reason": ["r", "r"],
        },
        schema_overrides={"moq": pl.Float64, "pack_size": pl.Float64, "max_order": pl.Float64},
    )


def test_a_price_break_is_taken_only_when_the_saving_beats_the_extra_holding():
    # A = 5, r = 0.25. FAST: D = 3,650 a year. TC(Q) = A D / Q + r v Q / 2 + D v:
    #   100 at 10.00: 182.5 + 125 + 36,500 = 36,807.5
    #   200 at  9.50:  91.25 + 237.5 + 34,675 = 35,003.75  <- cheapest
    #  1000 at  9.45:  18.25 + 1,181.25 + 34,492.5 = 35,692
    # SLOW: D = 36.5: 10 at 10: 18.25 + 12.5 + 365 = 395.75; 200 at 9.5: 0.9125 + 237.5
    # + 346.75 = 585.16: the break does not pay.
    breaks = pl.DataFrame(
        {
            "supplier": ["S", "S", None],
            "sku": ["FAST", "FAST", "SLOW"],
            "min_qty": [200.0, 1000.0, 200.0],
            "unit_price": [9.5, 9.45, 9.5],
        }
    )
    out = {r["sku"]: r for r in apply_price_breaks(_priced_lines(), breaks, 5.0, 0.25).to_dicts()}
    assert out["FAST"]["order_qty"] == 200 and out["FAST"]["unit_cost"] == 9.5
    assert out["FAST"]["order_value"] == pytest.approx(1900)
    assert out["FAST"]["reason"] == (
        "r; price break: 200 at 9.5 instead of 100 at 10.0 saves 1803.75 a year after holding"
    )
    assert _translated(out["FAST"]["reason"])
    assert out["SLOW"]["order_qty"] == 10 and out["SLOW"]["unit_cost"] == 10
    assert out["SLOW"]["reason"] == "r"


def test_a_line_without_a_unit_cost_is_not_moved_to_a_price_break():
    # without a cost at its own 100 there is no TC(100) to beat: the line keeps its
    # quantity, its unknown value and its reason; one at 200 pays the table's 9.5
    lines = _priced_lines().with_columns(
        pl.Series("order_qty", [100.0, 200.0]),
        pl.lit(None, pl.Float64).alias("unit_cost"),
        pl.lit(None, pl.Float64).alias("order_value"),
    )
    breaks = pl.DataFrame(
        {"supplier": ["S", "S"], "sku": ["FAST", "SLOW"], "min_qty": [200.0, 200.0]}
    ).with_columns(pl.lit(9.5).alias("unit_price"))
    out = {r["sku"]: r for r in apply_price_breaks(lines, breaks, 5.0, 0.25).to_dicts()}
    assert out["FAST"]["order_qty"] == 100 and out["FAST"]["unit_cost"] is None
    assert out["FAST"]["order_value"] is None and out["FAST"]["reason"] == "r"
    assert out["SLOW"]["order_qty"] == 200 and out["SLOW"]["order_value"] == pytest.approx(1900)
    assert out["SLOW"]["reason"] == "r; unit cost 9.5 from the price break table"


def test_the_final_quantity_pays_its_own_break_price():
    # FAST was moved to the 200 break (9.5) but the budget cut it to 100: back to the
    # product's 10.0. SLOW was topped up from 10 to 250, across the 200 break: 9.5.
    lines = _priced_lines().with_columns(
        pl.Series("order_qty", [100.0, 250.0]), pl.Series("unit_cost", [9.5, 10.0])
    )
    breaks = pl.DataFrame(
        {"supplier": ["S", None], "sku": ["FAST", "SLOW"], "min_qty": [200.0, 200.0]}
    ).with_columns(pl.lit(9.5).alias("unit_price"))
    base = pl.DataFrame({"sku": ["FAST", "SLOW"], "unit_cost": [10.0, 10.0]})
    out = reprice(lines, breaks, base)
    assert out["unit_cost"].to_list() == [10.0, 9.5]
    assert out["order_value"].to_list() == [1000.0, 2375.0]


# --- minimum order value ---------------------------------------------------------------


def _line(sku, qty, position, rate, supplier="S", pack=100.0):
    """A plan row with L = 14, R = 7, `rate` a day, no safety stock (order-up-to = reorder
    point = 21 x rate), unit cost 1, price 2, packs of `pack`, policy (R, S)."""
    return {
        "sku": sku,
        "location": "W",
        "supplier": supplier,
        "order_qty": float(qty),
        "unit_cost": 1.0,
        "order_value": float(qty),
        "pack_size": pack,
        "moq": None,
        "max_order": None,
        "inventory_position": float(position),
        "reorder_point": 21.0 * rate,
        "safety_stock": 0.0,
        "order_up_to": 21.0 * rate,
        "sigma_lead_time_demand": 0.0,
        "lead_time_days": 14.0,
        "review_days": 7.0,
        "forecast_per_day": float(rate),
        "policy_type": "rs",
        "demand_pattern": "smooth",
        "reason": "r",
    }


LIMITS = ("order_up_to_cap", "excess_qty")
"""A line dict may carry these: they go to the demand rows, as `rule_rows` puts them."""


def _frames(lines: list[dict]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(order rows, demand rows: price 2, 14 days of demand in the lead time, and the
    LIMITS the lines carry, null where a line has none)."""
    rows = [{k: v for k, v in line.items() if k not in LIMITS} for line in lines]
    frame = pl.DataFrame(rows, schema_overrides={"moq": pl.Float64, "max_order": pl.Float64})
    demand = frame.select(
        "sku",
        "location",
        pl.lit(2.0).alias("unit_price"),
        (pl.col("forecast_per_day") * 14).alias("demand_lead_time"),
    )
    if any(k in line for line in lines for k in LIMITS):
        demand = demand.with_columns(
            pl.Series(k, [line.get(k) for line in lines], pl.Float64) for k in LIMITS
        )
    return frame, demand


def _minimum(lines: list[dict], minimum: float, action: str = "cheapest"):
    frame, demand = _frames(lines)
    suppliers = pl.DataFrame({"supplier": ["S", "T"], "moq_value": [minimum, 0.0]})
    orders, table = meet_minimum_order_value(
        frame,
        demand,
        suppliers,
        action=action,
        holding_rate=0.25,
        review_days=7.0,
        discrete_patterns=[],
    )
    decision = table.row(0, named=True) if table.height else None
    return {r["sku"]: r for r in orders.to_dicts()}, decision


# X sells 10 a day from position 190: 140 go in the lead time, 50 are left when the
# order lands on day 14, the window to day 21 needs 70: the order of 100 saves 20 sales
# at price 2 = 40. Waiting a cycle loses them: defer costs 40.
X = ("X", 100, 190, 10)


def test_below_minimum_value_tops_up_when_holding_the_extra_costs_less_than_waiting():
    # minimum 500, X orders 100: gap 400 = 4 packs of X (nothing else to buy from S).
    # Holding: c = d R = 70 units a cycle; E = 400 = 5 cycles + 50:
    # 70 x 5 x 6 / 2 + 50 x 6 = 1,350 unit-reviews; 0.25 x 1 x 7 / 365 x 1,350 = 6.47.
    # X's next review would not order (190 + 100 - 70 = 220 >= 210): nothing to bring forward.
    orders, decision = _minimum([_line(*X)], 500.0)
    assert decision["minimum_action"] == "top_up"
    assert decision["top_up_cost"] == pytest.approx(0.25 * 7 / 365 * 1350)
    assert decision["defer_cost"] == pytest.approx(40.0)
    assert decision["bring_forward_cost"] is None
    assert decision["minimum_action_cost"] == pytest.approx(decision["top_up_cost"])
    assert decision["added_value"] == pytest.approx(400.0)
    assert orders["X"]["order_qty"] == 500 and orders["X"]["order_value"] == 500
    assert orders["X"]["reason"].endswith(
        "topped up by 400 to reach the supplier's minimum order value 500"
    )
    assert _translated(orders["X"]["reason"])


def test_below_minimum_value_defers_when_waiting_costs_less_than_topping_up():
    # minimum 2,000: gap 1,900 = 27 cycles of 70 + 10: 70 x 27 x 28 / 2 + 10 x 28 = 26,740
    # unit-reviews -> 0.25 x 7 / 365 x 26,740 = 128.2 > the 40 of sales waiting risks.
    orders, decision = _minimum([_line(*X)], 2000.0)
    assert decision["top_up_cost"] == pytest.approx(0.25 * 7 / 365 * 26740)
    assert decision["minimum_action"] == "defer"
    assert decision["minimum_action_cost"] == pytest.approx(40.0)
    assert orders["X"]["order_qty"] == 0 and orders["X"]["order_value"] == 0
    assert (
        "deferred 100: the supplier's total is below its minimum order value 2000"
        in (orders["X"]["reason"])
    )


def test_below_minimum_value_brings_the_next_cycle_forward_when_that_reaches_it():
    # Y sells 100 a day from position 2,500 (above S = 2,100: no order now); at the next
    # review it will stand at 1,800 and order 300 (3 packs). Minimum 400, gap 300: bringing
    # Y's 300 forward pays them 7 days early: 0.25 x 300 x 7 / 365 = 1.44.
    orders, decision = _minimum([_line(*X), _line("Y", 0, 2500, 100)], 400.0)
    assert decision["minimum_action"] == "bring_forward"
    assert decision["bring_forward_cost"] == pytest.approx(0.25 * 300 * 7 / 365)
    assert orders["Y"]["order_qty"] == 300 and orders["X"]["order_qty"] == 100
    assert orders["Y"]["reason"].endswith(
        "300 brought forward from the next cycle to reach the supplier's minimum order value 400"
    )
    assert _translated(orders["Y"]["reason"])


def test_a_top_up_is_held_over_the_lines_own_review_period():
    # X from a supplier ordered every 28 days (`suppliers.review_days`; the rules' default
    # is the policy's 7): S = 10 x (14 + 28) = 420, c = d R = 280 units a cycle; the gap 400
    # is 1 cycle + 120: 280 x 1 x 2 / 2 + 120 x 2 = 520 unit-reviews of 28 days each,
    # 0.25 x 28 / 365 x 520 = 9.97 (6.47 at 7 days, the first test above)
    line = _line(*X) | {"review_days": 28.0, "order_up_to": 420.0, "reorder_point": 420.0}
    orders, decision = _minimum([line], 500.0)
    assert decision["top_up_cost"] == pytest.approx(0.25 * 28 / 365 * 520)
    assert decision["minimum_action"] == "top_up" and orders["X"]["order_qty"] == 500


def test_forced_defer_and_flag_only_are_honoured():
    orders, decision = _minimum([_line(*X)], 500.0, action="defer")
    assert decision["minimum_action"] == "defer" and orders["X"]["order_qty"] == 0
    orders, decision = _minimum([_line(*X)], 500.0, action="flag")
    assert orders["X"]["order_qty"] == 100 and decision is None


# A line without a unit cost: its value is unknown, never 0 (README, "a missing cost is
# never 0"). X alone (value 100) is below a minimum of 2,000, but the cost-less U may take
# the supplier's order above it: the minimum cannot be judged, so nothing is deferred,
# topped up or brought forward, and every order line of the supplier says why.
NO_COST_CLAUSE = (
    "minimum order value 2000 not checked: no unit cost on 1 of the supplier's order lines"
)


def _no_cost(sku: str, qty: float, position: float, rate: float, supplier: str = "S") -> dict:
    return {**_line(sku, qty, position, rate, supplier), "unit_cost": None, "order_value": None}


@pytest.mark.parametrize("action", ["cheapest", "defer", "top_up", "bring_forward", "flag"])
def test_a_minimum_is_not_judged_while_an_order_line_has_no_unit_cost(action):
    lines = [_line(*X), _no_cost("U", 100, 190, 10)]
    orders, decision = _minimum(lines, 2000.0, action=action)
    # the orders stay as planned: X 100 at cost 1, U 100 without a value
    assert orders["X"]["order_qty"] == 100 and orders["X"]["order_value"] == 100
    assert orders["U"]["order_qty"] == 100 and orders["U"]["order_value"] is None
    for sku in ("X", "U"):
        assert orders[sku]["reason"] == f"r; {NO_COST_CLAUSE}"
        assert _translated(orders[sku]["reason"])
    assert render_reason(NO_COST_CLAUSE, "zh") == (
        "未核对起订金额 2000：该供应商有 1 行采购缺单位成本"
    )
    assert decision["minimum_action"] == "unknown_cost"
    assert decision["minimum_action_cost"] is None and decision["defer_cost"] is None
    assert decision["top_up_cost"] is None and decision["added_value"] == 0.0


def test_a_supplier_with_every_cost_known_keeps_its_minimum_decision_beside_one_without():
    # S (X and the cost-less U) is not judged; T has X alone at cost 1, 100 below its
    # minimum of 2,000: deferred as in the test above (top up 128.2 > waiting 40).
    lines = [_line(*X), _no_cost("U", 100, 190, 10), _line("V", 100, 190, 10, supplier="T")]
    frame, demand = _frames(lines)
    suppliers = pl.DataFrame({"supplier": ["S", "T"], "moq_value": [2000.0, 2000.0]})
    out, table = meet_minimum_order_value(
        frame,
        demand,
        suppliers,
        action="cheapest",
        holding_rate=0.25,
        review_days=7.0,
        discrete_patterns=[],
    )
    orders = {r["sku"]: r for r in out.to_dicts()}
    decided = {r["supplier"]: r for r in table.to_dicts()}
    assert decided["S"]["minimum_action"] == "unknown_cost"
    assert decided["T"]["minimum_action"] == "defer"
    assert decided["T"]["defer_cost"] == pytest.approx(40.0)
    assert decided["T"]["top_up_cost"] == pytest.approx(0.25 * 7 / 365 * 26740)
    assert orders["V"]["order_qty"] == 0 and "deferred 100" in orders["V"]["reason"]
    assert NO_COST_CLAUSE not in orders["V"]["reason"]
    assert orders["X"]["order_qty"] == 100 and orders["U"]["order_qty"] == 100


def test_a_supplier_whose_known_costs_reach_its_minimum_is_met_whatever_the_lines_without():
    # X alone is 100 >= a minimum of 100: the cost-less U can only add to it.
    orders, decision = _minimum([_line(*X), _no_cost("U", 100, 190, 10)], 100.0)
    assert decision is None
    assert orders["X"]["reason"] == "r" and orders["U"]["reason"] == "r"


def test_a_second_pass_does_not_say_the_unchecked_minimum_twice():
    # the strict budget's defer pass runs the rule again on the orders the first left
    frame, demand = _frames([_line(*X), _no_cost("U", 100, 190, 10)])
    suppliers = pl.DataFrame({"supplier": ["S"], "moq_value": [2000.0]})
    rules = {"holding_rate": 0.25, "review_days": 7.0, "discrete_patterns": []}
    once, _ = meet_minimum_order_value(frame, demand, suppliers, action="cheapest", **rules)
    twice, again = meet_minimum_order_value(once, demand, suppliers, action="defer", **rules)
    assert twice["reason"].to_list() == [f"r; {NO_COST_CLAUSE}"] * 2
    assert again["minimum_action"].to_list() == ["unknown_cost"]


def test_supplier_orders_leave_meets_minimum_unknown_when_a_line_has_no_cost():
    frame, _ = _frames(
        [_line(*X), _no_cost("U", 100, 190, 10), _line("V", 100, 190, 10, supplier="T")]
    )
    frame = frame.with_columns(
        pl.lit(D(2026, 3, 2)).alias("order_date"), pl.lit(D(2026, 3, 16)).alias("expected_arrival")
    )
    suppliers = pl.DataFrame({"supplier": ["S", "T"], "moq_value": [2000.0, 2000.0]})
    summary = {r["supplier"]: r for r in supplier_orders(frame, suppliers).to_dicts()}
    # S: known 100 of an unknown total, T: 100 of 100, below 2,000
    assert summary["S"]["order_value"] == 100 and summary["S"]["meets_minimum"] is None
    assert summary["T"]["meets_minimum"] is False
    # U alone: no line with a cost, so no value at all (not 0)
    alone = supplier_orders(frame.filter(pl.col("sku") == "U"), suppliers).row(0, named=True)
    assert alone["order_value"] is None and alone["meets_minimum"] is None
    flagged = flag_minimum_order_value(frame, supplier_orders(frame, suppliers))
    said = dict(zip(flagged["sku"], flagged["reason"], strict=True))
    assert said["X"] == "r" and said["U"] == "r"
    assert said["V"] == "r; supplier total 100.0 is below its minimum order value 2000.0"


def test_the_plan_note_names_the_suppliers_whose_minimum_was_not_checked_in_both_languages():
    decisions = pl.DataFrame(
        {
            "supplier": ["Huadong Foods", "Acme"],
            "min_order_value": [2000.0, 500.0],
            "minimum_action": ["unknown_cost", "top_up"],
            "no_cost_lines": [44, None],
            "order_lines": [44, None],
        }
    )
    note = unknown_cost_note(decisions)
    assert note == (
        "suppliers: minimum order value not checked for 1 supplier whose order lines lack a "
        "unit cost, their orders kept as planned: Huadong Foods (minimum 2,000.00, 44 of 44 "
        "lines without a cost); add unit_cost to products or stock"
    )
    assert render_note(note, "zh", "CNY") == (
        "供应商：1 个供应商的采购行缺单位成本，未核对起订金额，订单按计划保留："
        "Huadong Foods（起订金额 2,000.00 元，44 行中 44 行缺成本）；"
        "请在商品档案或库存表中补充单位成本（unit_cost）"
    )
    assert unknown_cost_note(decisions.filter(pl.col("supplier") == "Acme")) is None


# --- container loads -------------------------------------------------------------------


def _loads(lines: list[dict], volume: list[float], full: str, round_up: bool = True):
    frame, demand = _frames(lines)
    products = pl.DataFrame({"sku": frame["sku"], "volume_m3": volume})
    suppliers = pl.DataFrame({"supplier": ["S"], "container_m3": [10.0], "full_loads": [full]})
    orders, table = round_to_loads(
        frame,
        demand,
        suppliers,
        products,
        holding_rate=0.25,
        review_days=7.0,
        discrete_patterns=[],
        round_up=round_up,
    )
    return {r["sku"]: r for r in orders.to_dicts()}, table.row(0, named=True)


def test_container_fill_is_reported_and_a_part_load_is_rounded_up_when_cheaper():
    # X: 100 units of 0.025 m3 = 2.5 m3 in a 10 m3 container: 0.25 loads, 25 % full.
    # Not required full: reported only.
    orders, loads = _loads([_line(*X)], [0.025], "no")
    assert loads["loads"] == pytest.approx(0.25) and loads["load_fill"] == pytest.approx(0.25)
    assert loads["load_action"] == "none" and orders["X"]["order_qty"] == 100
    # Required full and no whole load to round down to: filled up with 3 more packs
    # (0.75 loads = 300 units), the last load full.
    orders, loads = _loads([_line(*X)], [0.025], "是")
    assert loads["load_action"] == "up" and orders["X"]["order_qty"] == 400
    assert loads["loads"] == pytest.approx(1.0) and loads["load_fill"] == pytest.approx(1.0)
    assert orders["X"]["reason"].endswith("raised by 300 to fill whole container loads")
    assert _translated(orders["X"]["reason"])


def test_a_part_load_is_cut_to_whole_loads_when_its_units_protect_less_than_holding_more():
    # X orders 500 units of 0.025 m3 = 12.5 m3 = 1.25 loads. Down: drop the least
    # protective 100 units (1 pack, 0.25 loads): X's order protects only its first 20
    # units (20 x 2 = 40), the last pack protects nothing -> cost 0. Up: 3 more packs would
    # be held for cycles to come (cost > 0). Cut to 400 = 1 full load.
    orders, loads = _loads([_line("X", 500, 190, 10)], [0.025], "true")
    assert loads["load_action"] == "down"
    assert orders["X"]["order_qty"] == 400
    assert loads["loads"] == pytest.approx(1.0)
    assert orders["X"]["reason"].endswith("cut by 100 to whole container loads")
    assert _translated(orders["X"]["reason"])


def test_under_a_strict_budget_loads_are_only_rounded_down():
    # the budget spent the money: 0.25 loads is not raised to a full one (it was: 400 units)
    orders, loads = _loads([_line(*X)], [0.025], "是", round_up=False)
    assert loads["load_action"] == "none" and orders["X"]["order_qty"] == 100
    # 1.75 loads (700 units) are still rounded down to one load, 400 units
    orders, loads = _loads([_line("X", 700, 190, 10)], [0.025], "true", round_up=False)
    assert loads["load_action"] == "down" and orders["X"]["order_qty"] == 400


def test_every_new_supplier_sheet_and_order_column_has_a_chinese_header():
    from stockplan.reorder import CALENDAR_DEFAULTS

    columns = [*SUPPLIER_ORDER_EXTRA, *CALENDAR_DEFAULTS, "order_by"]
    assert [c for c in columns if header(c, "zh") == c] == []


# --- end to end: the plan, its sheets and explain --------------------------------------


def _add_input(config_path, name: str, file: str) -> None:
    import yaml

    config = yaml.safe_load(config_path.read_text())
    config["inputs"][name] = file
    config_path.write_text(yaml.safe_dump(config))


def _open_day(day: dt.date, closed: set[dt.date]) -> bool:
    return day not in closed


def _add_factory_move(small_shop) -> None:
    (small_shop.parent / "closures.csv").write_text(
        "供应商,开始日期,结束日期,备注\nAcme,2025-10-20,2025-10-26,factory move\n", encoding="utf-8"
    )
    _add_input(small_shop, "closures", "closures.csv")


def test_plan_counts_lead_times_through_closures_and_dates_every_line(small_shop):
    import stockplan

    _add_factory_move(small_shop)
    config, inputs = stockplan.load(small_shop)
    planned = stockplan.plan(inputs, config)
    orders, risk = planned.orders, planned.risk
    row = orders.filter((pl.col("sku") == "A-100") & (pl.col("location") == "WH1")).row(
        0, named=True
    )
    # as_of 13 Oct 2025, L = 14 open days: 13..19 Oct (7), closed 20..26, 27 Oct..2 Nov (7)
    assert row["open_lead_time_days"] == 14 and row["lead_time_days"] == 21
    assert row["expected_arrival"] == D(2025, 11, 3)
    assert row["closure_days"] == 7 and row["closure_note"] == "factory move"
    assert "supplier closed 7 days (factory move) before arrival" in row["reason"]
    # order_by by hand: count 14 open days back from the projected stockout, skipping the
    # closure and 国庆节 2025 (1..8 Oct, in the default holiday set)
    closed = {D(2025, 10, 20) + dt.timedelta(days=i) for i in range(7)}
    closed |= {D(2025, 10, 1) + dt.timedelta(days=i) for i in range(8)}
    ordered = orders.filter(pl.col("order_qty") > 0)
    assert ordered.height > 0
    for line in ordered.iter_rows(named=True):
        stockout = risk.filter(
            (pl.col("sku") == line["sku"]) & (pl.col("location") == line["location"])
        )["stockout_date"][0]
        assert stockout is not None
        day, counted = stockout, 0
        while counted < 14:
            day -= dt.timedelta(days=1)
            counted += day not in closed
        assert line["order_by"] == day, line["sku"]
    supplier = planned.supplier_orders.row(0, named=True)
    assert supplier["minimum_action"] == "none"


def test_plan_writes_and_explain_shows_the_closure_in_english_and_chinese(small_shop, tmp_path):
    """The command-line wiring: plan writes the closure columns, explain prints the order-by
    date and the closure in the language asked for."""
    from typer.testing import CliRunner

    import stockplan
    from stockplan.cli import app

    _add_factory_move(small_shop)
    config, inputs = stockplan.load(small_shop)
    row = (
        stockplan.plan(inputs, config)
        .orders.filter((pl.col("sku") == "A-100") & (pl.col("location") == "WH1"))
        .row(0, named=True)
    )
    out = tmp_path / "out"
    runner = CliRunner()
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-o", str(out), "--all", "-q"])
    assert result.exit_code == 0, result.output
    written = pl.read_csv(
        out / "orders.csv", schema_overrides={"sku": pl.String}, try_parse_dates=True
    ).filter((pl.col("sku") == "A-100") & (pl.col("location") == "WH1"))
    assert written["expected_arrival"].to_list() == [D(2025, 11, 3)]
    assert written["closure_note"].to_list() == ["factory move"]
    explain = ["explain", "A-100", "-l", "WH1", "-c", str(small_shop), "-q", "--no-chart"]
    shown = runner.invoke(app, explain)
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.replace("│", " ").split())
    assert f"order by {row['order_by']}" in text
    assert "supplier closed 7 days (factory move) before arrival" in text
    zh = runner.invoke(app, [*explain, "--lang", "zh"])
    assert zh.exit_code == 0, zh.output
    zh_text = "".join(zh.output.replace("│", " ").split())
    assert "供应商到货前停工7天（factorymove）" in zh_text and "最晚下单日期" in zh_text


def test_a_supplier_below_its_minimum_value_gets_a_costed_choice_on_the_supplier_sheet(
    small_shop,
):
    import stockplan

    folder = small_shop.parent
    (folder / "suppliers.csv").write_text(
        "supplier,lead_time_days,lead_time_std_days,moq_value\nAcme,14,2.0,20000\n"
    )
    config, inputs = stockplan.load(small_shop)
    planned = stockplan.plan(inputs, config)
    supplier = planned.supplier_orders.row(0, named=True)
    costs = {
        "top_up": supplier["top_up_cost"],
        "bring_forward": supplier["bring_forward_cost"],
        "defer": supplier["defer_cost"],
    }
    known = {k: v for k, v in costs.items() if v is not None}
    assert supplier["minimum_action"] == min(known, key=known.get)
    assert supplier["minimum_action_cost"] == pytest.approx(min(known.values()))
    orders = planned.order_lines  # the lines a buyer sees
    if supplier["minimum_action"] == "defer":
        assert supplier["lines"] == 0 and (orders["order_qty"] == 0).all()
        assert orders["reason"].str.contains("deferred").all()
    else:
        assert orders["order_value"].sum() == pytest.approx(supplier["order_value"])
        assert supplier["order_value"] >= 20000 - 1e-6


def test_a_closure_that_ends_before_it_starts_is_refused_naming_file_and_row(small_shop):
    from typer.testing import CliRunner

    from stockplan.cli import app

    (small_shop.parent / "closures.csv").write_text(
        "supplier,from,to\nAcme,2025-10-20,2025-10-26\nAcme,2025-11-05,2025-11-01\n"
    )
    _add_input(small_shop, "closures", "closures.csv")
    result = CliRunner().invoke(app, ["plan", "-c", str(small_shop), "-o", "-"])
    assert result.exit_code == 1
    assert "closures.csv, row 3, column 'to': 2025-11-01 is before 'from' 2025-11-05" in (
        result.output
    )
    assert "Traceback" not in result.output


def test_the_order_before_a_shutdown_covers_until_the_delayed_next_order_arrives(small_shop):
    import stockplan

    def a100_at_wh1() -> dict:
        config, inputs = stockplan.load(small_shop)
        orders = stockplan.plan(inputs, config).orders
        return orders.filter((pl.col("sku") == "A-100") & (pl.col("location") == "WH1")).row(
            0, named=True
        )

    before = a100_at_wh1()
    # closed 27 Oct..2 Nov: this order (13 Oct, 14 open days) lands 27 Oct as before, but
    # the next one (20 Oct) loses 7 days: 20..26 Oct, then 3..9 Nov -> 10 Nov, not 3 Nov.
    (small_shop.parent / "closures.csv").write_text(
        "supplier,from,to,note\nAcme,2025-10-27,2025-11-02,annual shutdown\n"
    )
    _add_input(small_shop, "closures", "closures.csv")
    after = a100_at_wh1()
    assert after["lead_time_days"] == before["lead_time_days"] == 14
    assert after["closure_cover_days"] == 7 and before["closure_cover_days"] == 0
    assert after["review_days"] == 14 and before["review_days"] == 7
    # the window L + R grows from 21 to 28 days: ~10 a day more x 7 days on order-up-to
    grown = after["order_up_to"] - before["order_up_to"]
    assert 7 * 0.8 * before["forecast_per_day"] < grown
    assert "covers 7 more days: the supplier's closure delays the next order" in after["reason"]
    assert unknown_clauses(after["reason"]) == []


def test_init_recognises_closures_and_price_break_exports(tmp_path):
    from stockplan.io.inspect import guess_file

    closures = tmp_path / "supplier_closures.csv"
    closures.write_text("供应商,开始日期,结束日期,备注\nAcme,2026-02-10,2026-02-25,春节\n")
    breaks = tmp_path / "阶梯价.csv"
    breaks.write_text("供应商,商品编码,阶梯数量,采购单价\nAcme,A-100,400,12\n")
    products = tmp_path / "products.csv"
    products.write_text("商品编码,起订量,单价,体积,重量\nA-100,24,25,0.02,1.5\n")
    assert guess_file(closures).table == "closures"
    assert guess_file(breaks).table == "price_breaks"
    guess = guess_file(products)
    assert guess.table == "products"
    assert guess.mapping["volume_m3"] == "体积" and guess.mapping["weight_kg"] == "重量"


def test_a_fractional_lead_time_keeps_its_fraction_and_gains_only_the_closed_days():
    # L = 13.6 days from PO history: without a closure in reach it stays 13.6; across
    # 春节 2026 (9 closed days, ordered 9 Feb) it becomes 22.6.
    holidays = supplier_closures(None, "cn")
    quiet = calendar_lead_times(_lead("S", 13.6), holidays, D(2026, 3, 9), 7, 91)
    assert quiet["lead_time_days"][0] == pytest.approx(13.6)
    spring = calendar_lead_times(_lead("S", 13.6), holidays, D(2026, 2, 9), 7, 91)
    assert spring["lead_time_days"][0] == pytest.approx(22.6)


def test_an_inactive_item_is_never_topped_up_and_no_top_up_means_defer():
    # X is at its max_order and S's only other line is inactive: nothing can be added, so
    # no top up is possible (not a free one) and, nothing due next cycle, the order waits.
    capped = _line(*X) | {"max_order": 100.0}
    inactive = _line("OLD", 0, 0, 10) | {"reason": "no order: product status is inactive"}
    orders, decision = _minimum([capped, inactive], 500.0)
    assert decision["top_up_cost"] is None and decision["bring_forward_cost"] is None
    assert decision["minimum_action"] == "defer"
    assert orders["OLD"]["order_qty"] == 0 and orders["X"]["order_qty"] == 0


def test_filling_a_load_stops_at_the_line_max_order():
    # as above, but X may order at most 200: one more pack, 0.5 loads, not a full one
    orders, loads = _loads([_line(*X) | {"max_order": 200.0}], [0.025], "yes")
    assert orders["X"]["order_qty"] == 200
    assert loads["loads"] == pytest.approx(0.5)


def test_a_top_up_never_orders_below_the_moq_when_no_pack_fits_under_max_order():
    # Z has no order and sells 10 a day; MOQ 100 in packs of 12 is 108, above its
    # max_order 107: the only quantities under 107 (up to 96) are below the MOQ, so Z
    # cannot be topped up. X alone then cannot reach the minimum: no top up.
    z = _line("Z", 0, 150, 10, pack=12.0) | {"moq": 100.0, "max_order": 107.0}
    orders, decision = _minimum([_line(*X) | {"max_order": 100.0}, z], 500.0, "top_up")
    assert decision["top_up_cost"] is None
    assert orders["Z"]["order_qty"] == 0


def test_bringing_the_next_cycle_forward_stops_at_the_line_max_order():
    # W sells 10 a day, orders 100 now from position 100 (packs of 10, max_order 150); at
    # the next review it stands at 100 + 100 - 70 = 130 and would order 80 more, but only
    # 50 fit under its max_order. Y (100 a day, position 2,500) would order 300 then.
    # Minimum 450, gap 350: W's 50 (most urgent) and Y's 300 reach it. Cost: 350 units,
    # each line within one cycle of its demand: 0.25 x 350 x 7 / 365.
    w = _line("W", 100, 100, 10, pack=10.0) | {"max_order": 150.0}
    orders, decision = _minimum([w, _line("Y", 0, 2500, 100)], 450.0, "bring_forward")
    assert decision["minimum_action"] == "bring_forward"
    assert orders["W"]["order_qty"] == 150 and orders["Y"]["order_qty"] == 300
    assert decision["bring_forward_cost"] == pytest.approx(0.25 * 350 * 7 / 365)
    assert orders["W"]["reason"].endswith(
        "50 brought forward from the next cycle to reach the supplier's minimum order value 450"
    )
    # at its max_order already: nothing of W's next cycle comes forward, Y's 300 alone
    at_max = _line("W", 100, 100, 10) | {"max_order": 100.0}
    orders, decision = _minimum([at_max, _line("Y", 0, 2500, 100)], 300.0, "bring_forward")
    assert orders["W"]["order_qty"] == 100 and orders["Y"]["order_qty"] == 300
    assert decision["bring_forward_cost"] == pytest.approx(0.25 * 300 * 7 / 365)


def test_filling_a_load_adds_only_whole_packs_under_the_line_max_order():
    # X orders 100 in packs of 100 and may order at most 150: the 50 under its max_order
    # are half a pack, so nothing is added (it stays 0.25 loads)
    orders, loads = _loads([_line(*X) | {"max_order": 150.0}], [0.025], "yes")
    assert orders["X"]["order_qty"] == 100
    assert loads["loads"] == pytest.approx(0.25)


# --- a line with no policy order that a later rule orders on ----------------------------

# Z sells 10 a day from position 215, above S = 210: the policy orders nothing
Z_REASON = "no order: position 215 not below reorder point 210"


def _z(**changes) -> dict:
    return _line("Z", 0, 215, 10) | {"reason": Z_REASON} | changes


def test_a_line_topped_up_from_no_order_keeps_the_finding_without_no_order():
    # X is at its max_order 100; the gap of 400 to the minimum 500 is Z's: 4 packs
    orders, decision = _minimum([_line(*X) | {"max_order": 100.0}, _z()], 500.0, "top_up")
    assert decision["minimum_action"] == "top_up" and orders["Z"]["order_qty"] == 400
    reason = orders["Z"]["reason"]
    assert reason == (
        "position 215 not below reorder point 210; topped up by 400 to reach the supplier's "
        "minimum order value 500"
    )
    assert unknown_clauses(reason) == []
    assert render_reason(reason, "zh") == (
        "库存位置 215 不低于再订货点 210；为达到供应商起订金额 500 补足 400"
    )
    # with the plan's currency the amount carries its unit, the quantity does not
    assert render_reason(reason, "zh", "CNY") == (
        "库存位置 215 不低于再订货点 210；为达到供应商起订金额 500 元 补足 400"
    )


def test_a_line_brought_forward_from_no_order_keeps_the_finding_without_no_order():
    # Y has no order now (position 2,500 above S = 2,100) and 300 due next cycle
    y = _line("Y", 0, 2500, 100) | {
        "reason": "no order: position 2500 not below reorder point 2100"
    }
    orders, _ = _minimum([_line(*X), y], 400.0, "bring_forward")
    assert orders["Y"]["order_qty"] == 300
    assert orders["Y"]["reason"] == (
        "position 2500 not below reorder point 2100; 300 brought forward from the next cycle "
        "to reach the supplier's minimum order value 400"
    )
    assert unknown_clauses(orders["Y"]["reason"]) == []


def test_a_line_raised_from_no_order_to_fill_a_load_keeps_the_finding_without_no_order():
    # X fills 0.25 of a load; neither X's nor Z's extra units protect a sale, so the
    # blocks reaching the fewest days of demand come first: Z's first pack (up to 100
    # units = 10 days), then X's next (to 200 = 20 days) and Z's second (to 200 = 20
    # days). 0.75 loads = 300 units: Z orders 200, X 100 more.
    under_half = "no order: position 215 is only 0.4 below order-up-to 215.4, under half a unit"
    for finding in (Z_REASON, under_half):
        orders, loads = _loads([_line(*X), _z(reason=finding)], [0.025, 0.025], "yes")
        assert loads["load_action"] == "up"
        assert orders["X"]["order_qty"] == 200 and orders["Z"]["order_qty"] == 200
        reason = orders["Z"]["reason"]
        assert reason == (
            f"{finding.removeprefix('no order: ')}; raised by 200 to fill whole container loads"
        )
        assert orders["X"]["reason"] == "r; raised by 100 to fill whole container loads"
        assert unknown_clauses(reason) == [] and not render_reason(reason, "zh").startswith(
            "不订货"
        )


def test_a_replaced_item_or_a_kit_is_never_topped_up():
    # as the top up above, but Z is an old item past its switch date, or a kit: no rule
    # orders on it, so nothing can close the gap
    for stop in (
        "no order: replaced by NEW from 2025-10-01",
        "no order: a kit, bought as its components",
    ):
        orders, decision = _minimum(
            [_line(*X) | {"max_order": 100.0}, _z(reason=stop)], 500.0, "top_up"
        )
        assert decision["top_up_cost"] is None
        assert orders["Z"]["order_qty"] == 0 and orders["Z"]["reason"] == stop


def test_a_plan_topped_up_to_the_minimum_never_orders_on_a_no_order_reason(small_shop, tmp_path):
    """A-100 at WH2 holds 500 and the policy orders nothing there; a minimum of 20,000 a
    top up must reach buys on it after all: its written reason gives the policy's finding
    and the top up, never "no order". With transfers on, WH2 sends its surplus to WH1 and
    is not topped up: a warehouse that gives stock away buys none of it."""
    import yaml
    from typer.testing import CliRunner

    from stockplan.cli import app

    (small_shop.parent / "suppliers.csv").write_text(
        "supplier,lead_time_days,lead_time_std_days,moq_value\nAcme,14,2.0,20000\n"
    )
    config = yaml.safe_load(small_shop.read_text())
    config["purchasing"] = {"minimum_order_value": "top_up"}
    config["transfers"] = {"enabled": False}  # WH2 would send WH1 its surplus: no top up
    small_shop.write_text(yaml.safe_dump(config))
    out = tmp_path / "orders.csv"
    result = CliRunner().invoke(app, ["plan", "-c", str(small_shop), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    orders = pl.read_csv(out, schema_overrides={"sku": pl.String})
    assert orders.filter(pl.col("reason").str.starts_with("no order")).height == 0
    wh2 = orders.filter((pl.col("sku") == "A-100") & (pl.col("location") == "WH2")).row(
        0, named=True
    )
    assert wh2["order_qty"] > 0
    assert wh2["reason"].startswith("position ") and " not below reorder point " in wh2["reason"]
    assert wh2["reason"].endswith(
        f"; topped up by {wh2['order_qty']:g} to reach the supplier's minimum order value 20000"
    )
    for reason in orders["reason"]:
        assert unknown_clauses(reason) == [], reason
        assert not render_reason(reason, "zh").startswith("不订货"), reason


@pytest.mark.parametrize(
    ("lead", "arrival"),
    [
        # ordered Monday 23 Nov 2026 with L = 41.5 open days, rounded half up to 42: open
        # days 0..38 are 23 Nov..31 Dec, 1 Jan 2027 is 元旦, 2, 3, 4 Jan are 39..41 ->
        # arrives 5 Jan (calendar days 42.5: round half to even said 4 Jan)
        (41.5, D(2027, 1, 5)),
        # L = 40.5 is 41 open days: the 41st is 3 Jan -> 4 Jan (half to even: 40 days to
        # the calendar, 3 Jan, but 41.5 calendar days to the line, 4 Jan)
        (40.5, D(2027, 1, 4)),
    ],
)
def test_a_half_day_lead_time_across_a_holiday_arrives_when_the_calendar_says(lead, arrival):
    from plan_rows import NULLABLE_NUMBERS, plan_row

    from stockplan.config import Policy
    from stockplan.reorder import plan_orders

    as_of = D(2026, 11, 23)
    holidays = supplier_closures(None, "cn")
    timed = calendar_lead_times(_lead("S", lead), holidays, as_of, 7, 91).row(0, named=True)
    assert timed["open_lead_time_days"] == lead and timed["lead_time_days"] == lead + 1
    assert timed["closure_days"] == 1 and timed["closure_note"] == "元旦"
    calendar = open_days(holidays, pl.Series(["S"]), as_of, D(2027, 3, 31))
    need = pl.DataFrame({"supplier": ["S"], "need_by": [arrival], "lead": [lead]})
    # the last day to order and still arrive by `arrival` is today
    assert order_by_dates(need, calendar, "need_by", "lead", "by")["by"][0] == as_of
    row = plan_row(**{k: v for k, v in timed.items() if k not in ("sku", "location")})
    planned = plan_orders(
        pl.DataFrame([row], schema_overrides=NULLABLE_NUMBERS), Policy(), as_of, 7
    )
    assert planned["expected_arrival"][0] == arrival


def test_a_whole_moq_block_cut_past_the_load_is_filled_again():
    # X: 350 units, each protecting a sale (position 840, 60 a day: the window's 420 are
    # all short); Y: its MOQ of 200 as one block protecting nothing (position 300, 10 a
    # day: 160 left when it lands, above the window's 70). 550 units of 0.025 m3 = 1.375
    # loads of 10 m3: cutting Y costs nothing, so the order is cut to one load, which
    # drops Y's whole block (0.5 loads) and leaves 0.875 loads; the 0.125 left is filled
    # with one more pack of X (50 units), the most protective: one full load.
    lines = [_line("X", 350, 840, 60, pack=50.0), {**_line("Y", 200, 300, 10), "moq": 200.0}]
    orders, loads = _loads(lines, [0.025, 0.025], "true")
    assert (orders["X"]["order_qty"], orders["Y"]["order_qty"]) == (400, 0)
    assert loads["load_action"] == "down" and loads["loads"] == pytest.approx(1.0)
    assert orders["X"]["reason"] == "r; raised by 50 to fill whole container loads"
    assert orders["Y"]["reason"] == "r; cut by 200 to whole container loads"


def test_a_warehouse_that_sends_its_surplus_away_is_not_topped_up(small_shop, tmp_path):
    # WH2 sends A-100 to WH1 (a transfer out): the top up to Acme's minimum buys elsewhere
    import yaml
    from typer.testing import CliRunner

    from stockplan.cli import app

    (small_shop.parent / "suppliers.csv").write_text(
        "supplier,lead_time_days,lead_time_std_days,moq_value\nAcme,14,2.0,20000\n"
    )
    config = yaml.safe_load(small_shop.read_text())
    config["purchasing"] = {"minimum_order_value": "top_up"}
    small_shop.write_text(yaml.safe_dump(config))
    out = tmp_path / "orders.csv"
    result = CliRunner().invoke(app, ["plan", "-c", str(small_shop), "-o", str(out), "--all"])
    assert result.exit_code == 0, result.output
    orders = pl.read_csv(out, schema_overrides={"sku": pl.String})
    wh2 = orders.filter((pl.col("sku") == "A-100") & (pl.col("location") == "WH2")).row(
        0, named=True
    )
    assert wh2["transfer_qty"] < 0 and wh2["order_qty"] == 0
    assert orders.filter(pl.col("reason").str.contains("topped up")).height > 0


def test_a_cut_that_leaves_a_part_load_below_the_aim_is_kept():
    # 500 units of 0.021 m3 = 1.05 loads, packs of 100 (0.21 loads): the cut drops one
    # pack to 0.84 loads, still one container as aimed; no pack fits the 0.16 left, and
    # that is no reason to round up to nearly two loads (it ordered 900)
    orders, loads = _loads([_line("X", 500, 190, 10)], [0.021], "true")
    assert loads["load_action"] == "down" and orders["X"]["order_qty"] == 400


def test_a_cut_that_cannot_land_on_a_whole_load_rounds_up_instead():
    # Y alone, its MOQ of 520 units of 0.025 m3 = 1.3 loads: rounding down would drop the
    # whole block and leave nothing (the load table lost the supplier); no pack lands on
    # one load, so the order is rounded up: 2 loads, the raise in whole MOQ terms
    lone = {**_line("Y", 520, 300, 10, pack=20.0), "moq": 520.0}
    orders, loads = _loads([lone], [0.025], "true")
    assert loads["load_action"] == "up" and loads["loads"] == pytest.approx(2.0)
    assert orders["Y"]["order_qty"] == 800
    # X 280 (packs of 20, every unit protective) and Y's MOQ block of 600 protecting
    # nothing: 880 units = 2.2 loads. Down drops Y (1.5 loads) to 0.7, the fill gets X
    # back to 1.0, one load short of the 2 it aimed at: rounded up from 2.2 instead
    pair = [_line("X", 280, 840, 60, pack=20.0), {**_line("Y", 600, 300, 10), "moq": 600.0}]
    orders, loads = _loads(pair, [0.025, 0.025], "true")
    assert loads["load_action"] == "up" and loads["loads"] == pytest.approx(3.0)
    assert orders["X"]["order_qty"] + orders["Y"]["order_qty"] == 1200


@pytest.mark.parametrize(
    ("position", "action", "expected"),
    [
        # 3 lines of 100 units of 0.025 m3, each protecting its first 20 units alike: 0.75
        # loads, filled up with one pack (0.25 loads), which goes to the first line by sku
        (190, "up", {"A": 200, "B": 100, "C": 100}),
        # 5 such lines protecting nothing (position 300 above S = 210): 1.25 loads, cut
        # by one pack; the first line by sku gives it up
        (300, "down", {"A": 0, "B": 100, "C": 100, "D": 100, "E": 100}),
    ],
)
def test_equally_protective_lines_are_rounded_to_loads_by_sku_whatever_the_row_order(
    position, action, expected
):
    skus = sorted(expected)
    plans = []
    for order in (skus, skus[::-1], [*skus[1:], skus[0]]):
        lines = [_line(sku, 100, position, 10) for sku in order]
        orders, loads = _loads(lines, [0.025] * len(order), "true")
        assert loads["load_action"] == action
        plans.append({sku: (row["order_qty"], row["reason"]) for sku, row in orders.items()})
    assert {sku: qty for sku, (qty, _) in plans[0].items()} == expected
    assert plans[1] == plans[0] and plans[2] == plans[0]


def test_loads_are_measured_before_rounding_and_again_only_after_a_quantity_changed(
    monkeypatch,
):
    # before rounding, then once after each change of quantities (it was 3, 3, 4 and 7)
    import stockplan.supplier_rules as rules

    measured = []
    measure = rules._loads
    monkeypatch.setattr(rules, "_loads", lambda *a: measured.append(1) or measure(*a))
    refill = [_line("X", 350, 840, 60, pack=50.0), {**_line("Y", 200, 300, 10), "moq": 200.0}]
    cases = [
        ([_line(*X)], "no", "none", 1),  # nothing to round: the first measure is the table
        ([_line(*X)], "true", "up", 2),  # filled up: measured again after
        ([_line("X", 500, 190, 10)], "true", "down", 2),  # cut: measured again after
        # cut past the load, then filled again: before, after the cut, the second pass's
        # own measure before it fills, and after the fill
        (refill, "true", "down", 4),
    ]
    for lines, full, action, times in cases:
        measured.clear()
        _, loads = _loads(lines, [0.025] * len(lines), full)
        assert (loads["load_action"], len(measured)) == (action, times)


def test_a_top_up_never_passes_an_order_up_to_capped_by_shelf_life(small_shop, tmp_path):
    # A-100 keeps 3 sellable days: its order-up-to is capped at 169.8 (WH1) and 172.5
    # (WH2); the top up to Acme's minimum of 20,000 bought 612 and 744 more of it, units
    # that expire before they sell. Now only 007 is topped up.
    import yaml
    from typer.testing import CliRunner

    from stockplan.cli import app

    products = small_shop.parent / "products.csv"
    pl.read_csv(products, schema_overrides={"sku": pl.String}).with_columns(
        shelf_life_days=pl.Series([3, None])
    ).write_csv(products)
    (small_shop.parent / "suppliers.csv").write_text(
        "supplier,lead_time_days,lead_time_std_days,moq_value\nAcme,14,2.0,20000\n"
    )
    config = yaml.safe_load(small_shop.read_text())
    config["purchasing"] = {"minimum_order_value": "top_up"}
    config["transfers"] = {"enabled": False}
    small_shop.write_text(yaml.safe_dump(config))
    out = tmp_path / "orders.csv"
    result = CliRunner().invoke(app, ["plan", "-c", str(small_shop), "-o", str(out), "--all"])
    assert result.exit_code == 0, result.output
    orders = {
        (r["sku"], r["location"]): r
        for r in pl.read_csv(out, schema_overrides={"sku": pl.String}).to_dicts()
    }
    wh1, wh2 = orders[("A-100", "WH1")], orders[("A-100", "WH2")]
    assert "capped at 169.8 by shelf life" in wh1["reason"] and "topped up" not in wh1["reason"]
    assert wh1["order_qty"] == 96  # 86.8 to the cap, in packs of 12
    assert wh2["order_qty"] == 0 and "topped up" not in wh2["reason"]
    assert "topped up" in orders[("007", "WH1")]["reason"]


def test_words_about_a_cap_in_a_reason_do_not_stop_a_top_up():
    # X orders 100 below a minimum of 500: a top up buys 400 more; a planner's reason
    # quoting the words of a cap is no cap (a cap is the line's order_up_to_cap)
    quoted = {
        **_line(*X),
        "reason": "r; forecast x 1 for 2025-10-13 to 2025-10-19 by Li "
        "(order-up-to capped at 500 by the buyer)",
    }
    orders, _ = _minimum([quoted], 500.0, action="top_up")
    assert orders["X"]["order_qty"] == 500


# --- no raise past a line's order-up-to cap, none on a line holding excess ---------------
# X (above) sells 10 a day from position 190 and orders 100; its order-up-to S is 210. A
# shelf life of 28 sellable days caps it at d x (L + 28) = 10 x 42 = 420, above S: the cap
# did not lower S, yet more than 420 - 190 - 100 = 130 units would expire unsold.


def test_a_top_up_keeps_a_line_under_its_order_up_to_cap_even_when_the_cap_is_above_s():
    # forced top up to 500 (gap 400): X may take 130 more, one whole pack of 100
    # (position after 390; a second pack would make 490 > 420). It bought 400 (to 690).
    orders, decision = _minimum([_line(*X) | {"order_up_to_cap": 420.0}], 500.0, "top_up")
    assert orders["X"]["order_qty"] == 200
    assert orders["X"]["reason"].endswith(
        "topped up by 100 to reach the supplier's minimum order value 500"
    )
    # 100 added of the 400 missing: no top up reaches the minimum, so cheapest defers
    assert decision["top_up_cost"] is None
    orders, decision = _minimum([_line(*X) | {"order_up_to_cap": 420.0}], 500.0)
    assert decision["minimum_action"] == "defer" and orders["X"]["order_qty"] == 0


def test_a_top_up_goes_to_other_lines_when_a_cap_leaves_no_room():
    # X capped at 300 (room 300 - 190 - 100 = 10, less than a pack); Z (position 215, no
    # order, no cap) takes the whole gap of 400: 4 packs. Before, X took 200 of it (to 490
    # on a cap of 300) and Z 200: no extra pack protects a sale, so the packs reaching the
    # fewest days of demand went first (Z's first 10 days, X's next 20, Z's 20, X's 30).
    orders, decision = _minimum([_line(*X) | {"order_up_to_cap": 300.0}, _z()], 500.0, "top_up")
    assert (orders["X"]["order_qty"], orders["Z"]["order_qty"]) == (100, 400)
    assert decision["minimum_action"] == "top_up" and decision["added_value"] == 400


def test_bringing_forward_stops_at_the_order_up_to_cap():
    # Y sells 100 a day from 2,500 (S = 2,100) and would order 300 at the next review;
    # capped at 2,750 it may take 250, 2 packs. X (capped at 290: no room) orders 100 of
    # the minimum 400: the 200 Y may bring do not reach the gap of 300, nor does a top up
    # (Y's 200 again), so the order waits (defer: 40, the sales X's order protects).
    # Before, Y's 300 were brought forward, to 2,800 on a cap of 2,750.
    y = _line("Y", 0, 2500, 100) | {"order_up_to_cap": 2750.0}
    capped_x = _line(*X) | {"order_up_to_cap": 290.0}
    orders, decision = _minimum([capped_x, y], 400.0)
    assert decision["bring_forward_cost"] is None and decision["top_up_cost"] is None
    assert decision["minimum_action"] == "defer"
    assert (orders["X"]["order_qty"], orders["Y"]["order_qty"]) == (0, 0)
    # forced to bring forward, it brings what fits under the cap: 200 (position 2,700)
    orders, _ = _minimum([capped_x, y], 400.0, "bring_forward")
    assert orders["Y"]["order_qty"] == 200 and orders["X"]["order_qty"] == 100


def test_filling_a_load_keeps_each_line_under_its_order_up_to_cap():
    # X alone fills 0.25 of a 10 m3 container (100 units of 0.025 m3); capped at 420 it
    # may take one more pack (0.5 loads), not the 300 to a full load (to 590 on 420)
    orders, loads = _loads([_line(*X) | {"order_up_to_cap": 420.0}], [0.025], "yes")
    assert orders["X"]["order_qty"] == 200
    assert loads["loads"] == pytest.approx(0.5)
    assert orders["X"]["reason"] == "r; raised by 100 to fill whole container loads"
    # with Z beside it, the load is filled from Z: X capped at 300 takes nothing, Z 300
    # (it was X 200, Z 200: X's second pack reached 20 days of demand, as Z's)
    orders, loads = _loads([_line(*X) | {"order_up_to_cap": 300.0}, _z()], [0.025, 0.025], "yes")
    assert (orders["X"]["order_qty"], orders["Z"]["order_qty"]) == (100, 300)
    assert loads["loads"] == pytest.approx(1.0)


def test_a_line_holding_excess_is_never_raised_to_fill_a_load_or_top_up():
    from stockplan.supplier_rules import rule_rows

    # E sells 10 a day and holds 600: S = 210, and with 30 days of buffer the excess
    # sheet lists floor(600 - 210 - 30 x 10) = 90 of it as excess
    e = _line("E", 0, 600, 10) | {"on_hand": 600.0, "transfer_qty": 0.0}  # a plan row's
    row = pl.DataFrame([e]).with_columns(
        pl.lit(1.0).alias("unit_price"), pl.lit(140.0).alias("demand_lead_time")
    )
    limits = rule_rows(row, row, pl.DataFrame(), 30.0)
    assert limits["excess_qty"].to_list() == [90.0]
    assert limits["order_up_to_cap"].to_list() == [None]
    e["excess_qty"] = 90.0
    # the load X leaves (0.75 of it) goes to X, not to E: E's first pack reached only
    # 10 days of demand (units / d, X's next pack 20), so E got 200 of it before
    orders, loads = _loads([_line(*X), e], [0.025, 0.025], "yes")
    assert (orders["X"]["order_qty"], orders["E"]["order_qty"]) == (400, 0)
    # nor is E topped up: X takes the gap of 400 to the minimum of 500 (E took 200 before)
    orders, _ = _minimum([_line(*X), e], 500.0, "top_up")
    assert (orders["X"]["order_qty"], orders["E"]["order_qty"]) == (500, 0)


def test_a_part_load_the_capped_lines_cannot_fill_carries_a_load_note_and_a_plan_note():
    from stockplan.i18n import render_note
    from stockplan.supplier_rules import part_load_note

    # X capped at 420 by shelf life: raised by one pack to 200 (position 390; the next
    # pack would reach 490 > 420), 200 x 0.025 = 5 m3 = 0.5 of the 10 m3 container; the
    # 5 m3 left would hold two packs of X, but X may take none: the note says so
    orders, loads = _loads([_line(*X) | {"order_up_to_cap": 420.0}], [0.025], "yes")
    assert orders["X"]["order_qty"] == 200 and loads["load_action"] == "up"
    assert loads["load_note"] == (
        "part load 0.5 of a container could not be filled; "
        "1 line capped by shelf life or a successor's switch date"
    )
    assert _translated(loads["load_note"])
    assert render_reason(loads["load_note"], "zh") == (
        "最后一柜只装到 0.5，无法凑满；1 行已到保质期或替代品切换日期的上限"
    )
    table = pl.DataFrame([loads])
    note = part_load_note(table)
    assert note == (
        "containers: 1 supplier with full loads stays at a part load no line can fill "
        "(S 0.50); load_note in supplier_orders says why"
    )
    assert render_note(note, "zh") == (
        "整柜：1 个要求整柜的供应商仍有凑不满的非整柜（S 0.50）；原因见供应商订单的整柜说明"
    )


def test_a_part_load_nothing_could_raise_says_none_and_why():
    # X capped at 300 (position 190 + order 100 = 290: room 10, less than a pack of 100)
    # and E holding excess: no line may take more, the 0.25 load stays as it was; it said
    # load_action "up" with no clause on any line and no note
    e = _line("E", 0, 600, 10) | {"excess_qty": 90.0}
    capped = _line(*X) | {"order_up_to_cap": 300.0}
    orders, loads = _loads([capped, e], [0.025, 0.025], "yes")
    assert (orders["X"]["order_qty"], orders["E"]["order_qty"]) == (100, 0)
    assert (orders["X"]["reason"], orders["E"]["reason"]) == ("r", "r")
    assert loads["loads"] == pytest.approx(0.25)
    assert loads["load_action"] == "none"
    assert loads["load_note"] == (
        "part load 0.25 of a container could not be filled; "
        "1 line capped by shelf life or a successor's switch date; 1 line holding excess"
    )


def test_a_load_filled_or_cut_to_whole_loads_has_no_load_note():
    from stockplan.supplier_rules import part_load_note

    # X and Z fill the container whole (X capped at 300 takes nothing, Z 300)
    both = [_line(*X) | {"order_up_to_cap": 300.0}, _z()]
    _, loads = _loads(both, [0.025, 0.025], "yes")
    assert loads["loads"] == pytest.approx(1.0) and loads["load_note"] is None
    assert part_load_note(pl.DataFrame([loads])) is None


def _shop_without_a_cost(small_shop, purchasing: dict):
    """The small shop with Acme's minimum 20,000, transfers off (A-100 orders at WH1 at
    12.50) and 007 without a unit cost; planned with `purchasing`."""
    import yaml

    import stockplan

    folder = small_shop.parent
    (folder / "suppliers.csv").write_text(
        "supplier,lead_time_days,lead_time_std_days,moq_value\nAcme,14,2.0,20000\n"
    )
    products = pl.read_csv(folder / "products.csv", schema_overrides={"sku": pl.String})
    products.with_columns(
        pl.when(pl.col("sku") == "007").then(None).otherwise(pl.col("unit_cost")).alias("unit_cost")
    ).write_csv(folder / "products.csv")
    config = yaml.safe_load(small_shop.read_text())
    config["purchasing"] = purchasing
    config["transfers"] = {"enabled": False}
    small_shop.write_text(yaml.safe_dump(config))
    return stockplan.plan(*reversed(stockplan.load(small_shop)))


@pytest.fixture(scope="module")
def unconstrained_order_qty(tmp_path_factory):
    """order_qty by (sku, location) of `_shop_without_a_cost`'s shop with no minimum order
    value, given a budget or none: the plan each way of meeting a minimum must leave as it
    is when the minimum cannot be checked. Planned once per budget for the module."""
    import yaml

    import stockplan

    planned: dict[float | None, list[float]] = {}

    def order_qty(budget: float | None) -> list[float]:
        if budget not in planned:
            config = make_small_shop(tmp_path_factory.mktemp("no_minimum"))
            folder = config.parent
            (folder / "suppliers.csv").write_text(
                "supplier,lead_time_days,lead_time_std_days\nAcme,14,2.0\n"
            )
            products = pl.read_csv(folder / "products.csv", schema_overrides={"sku": pl.String})
            products.with_columns(
                pl.when(pl.col("sku") == "007").then(None).otherwise(pl.col("unit_cost"))
            ).write_csv(folder / "products.csv")
            settings = yaml.safe_load(config.read_text())
            settings["purchasing"] = {} if budget is None else {"budget": budget}
            settings["transfers"] = {"enabled": False}
            config.write_text(yaml.safe_dump(settings))
            result = stockplan.plan(*reversed(stockplan.load(config)))
            orders = result.tables["orders"].sort("sku", "location")
            planned[budget] = orders["order_qty"].to_list()
        return planned[budget]

    return order_qty


@pytest.mark.parametrize(
    "purchasing",
    [
        {"minimum_order_value": "cheapest"},
        {"minimum_order_value": "defer"},
        {"minimum_order_value": "top_up"},
        {"minimum_order_value": "bring_forward"},
        {"minimum_order_value": "defer", "budget": 10000.0},  # strict: held, defer again
    ],
    ids=["cheapest", "defer", "top_up", "bring_forward", "strict budget"],
)
def test_a_plan_keeps_the_orders_of_a_supplier_whose_minimum_has_a_line_without_a_cost(
    small_shop, purchasing, unconstrained_order_qty
):
    """A-100 at WH1 orders at 12.50 a unit, 007 has no cost: Acme's known total is far
    below 20,000 but its total is unknown. Nothing is deferred, topped up or brought
    forward: the lines order what they order with no minimum at all (the budget aside)."""
    planned = _shop_without_a_cost(small_shop, purchasing)
    orders = planned.tables["orders"].sort("sku", "location")
    # the plan of the same shop with no minimum (and the same budget), as the lines would
    # be planned
    assert unconstrained_order_qty(purchasing.get("budget")) == orders["order_qty"].to_list()
    buying = orders.filter(pl.col("order_qty") > 0)
    assert set(buying["sku"]) == {"A-100", "007"} and buying.height == 2
    clause = (
        "minimum order value 20000 not checked: no unit cost on 1 of the supplier's order lines"
    )
    for reason in buying["reason"]:
        assert reason.count(clause) == 1, reason
        assert unknown_clauses(reason) == [], reason
    acme = planned.supplier_orders.row(0, named=True)
    assert acme["lines"] == 2 and acme["meets_minimum"] is None
    assert acme["minimum_action"] == "unknown_cost" and acme["defer_cost"] is None
    note = (
        "suppliers: minimum order value not checked for 1 supplier whose order lines lack a "
        "unit cost, their orders kept as planned: Acme (minimum 20,000.00, 1 of 2 lines "
        "without a cost); add unit_cost to products or stock"
    )
    assert note in planned.notes


def test_a_plan_with_every_cost_known_still_decides_the_minimum(small_shop):
    # the same shop with 007's cost of 40: Acme's total is known and below 20,000
    import yaml

    import stockplan

    folder = small_shop.parent
    (folder / "suppliers.csv").write_text(
        "supplier,lead_time_days,lead_time_std_days,moq_value\nAcme,14,2.0,20000\n"
    )
    config = yaml.safe_load(small_shop.read_text())
    config["purchasing"] = {"minimum_order_value": "defer"}
    config["transfers"] = {"enabled": False}
    small_shop.write_text(yaml.safe_dump(config))
    planned = stockplan.plan(*reversed(stockplan.load(small_shop)))
    acme = planned.supplier_orders.row(0, named=True)
    assert acme["minimum_action"] == "defer" and acme["meets_minimum"] is False
    assert (planned.tables["orders"]["order_qty"] == 0).all()
    assert not any("not checked" in note for note in planned.notes)


@pytest.mark.parametrize("minimum", [5000, 20000])
def test_a_minimum_not_checked_that_full_loads_then_reach_is_met_and_no_longer_said(
    small_shop, minimum
):
    """Acme: A-100 at 12.50, 007 without a cost, 0.01 m3 a unit, full loads of 10 m3;
    transfers off. A-100 at WH1 orders 168 (14 packs of 12): known 2,100 is below the
    minimum, so the minimum is not checked. The full load then raises A-100 at WH1 by 432
    to 600 and orders 384 at WH2: 600 + 384 + 10 = 994 units, 0.994 of the load (the next
    pack of 12 does not fit); known 984 x 12.50 = 12,300."""
    import yaml

    import stockplan

    folder = small_shop.parent
    (folder / "suppliers.csv").write_text(
        "supplier,lead_time_days,lead_time_std_days,moq_value,container_m3,full_loads\n"
        f"Acme,14,2.0,{minimum},10,yes\n"
    )
    products = pl.read_csv(folder / "products.csv", schema_overrides={"sku": pl.String})
    products.with_columns(
        pl.when(pl.col("sku") == "007")
        .then(None)
        .otherwise(pl.col("unit_cost"))
        .alias("unit_cost"),
        pl.lit(0.01).alias("volume_m3"),
    ).write_csv(folder / "products.csv")
    config = yaml.safe_load(small_shop.read_text())
    config["purchasing"] = {"minimum_order_value": "cheapest"}
    config["transfers"] = {"enabled": False}
    small_shop.write_text(yaml.safe_dump(config))
    planned = stockplan.plan(*reversed(stockplan.load(small_shop)))
    orders = {(r["sku"], r["location"]): r for r in planned.orders.to_dicts()}
    assert orders[("A-100", "WH1")]["order_qty"] == 600
    assert orders[("A-100", "WH2")]["order_qty"] == 384
    assert orders[("007", "WH1")]["order_qty"] == 10
    acme = planned.supplier_orders.row(0, named=True)
    assert (acme["lines"], acme["order_value"], acme["loads"]) == (3, 12300.0, pytest.approx(0.994))
    said = [r["reason"] for r in orders.values() if r["order_qty"] > 0]
    notes = [n for n in planned.notes if n.startswith("suppliers: minimum order value")]
    if minimum == 5000:  # 12,300 of known costs reach it: met, nothing left unchecked
        assert acme["meets_minimum"] is True and acme["minimum_action"] == "none"
        assert not any("not checked" in reason for reason in said), said
        assert notes == []
    else:  # 12,300 is still below 20,000: not checked, on the 3 lines now ordered
        assert acme["meets_minimum"] is None and acme["minimum_action"] == "unknown_cost"
        assert all(reason.count("minimum order value 20000 not checked") == 1 for reason in said)
        assert notes == [
            "suppliers: minimum order value not checked for 1 supplier whose order lines lack "
            "a unit cost, their orders kept as planned: Acme (minimum 20,000.00, 1 of 3 lines "
            "without a cost); add unit_cost to products or stock"
        ]


def test_a_price_break_never_raises_a_line_past_its_order_up_to_cap():
    # FAST as above (200 at 9.5 saves 1,803.75 a year) but its shelf life caps the
    # order-up-to at 160 with 30 in position: room 160 - 30 - 100 = 30, so 200 (100 more)
    # would leave 70 units that expire before they sell: it stays 100 at 10. Without a
    # cap, or with a cap of 400 (room 270), it moves to 200.
    breaks = pl.DataFrame(
        {"supplier": ["S"], "sku": ["FAST"], "min_qty": [200.0], "unit_price": [9.5]}
    )
    lines = _priced_lines().with_columns(pl.lit(30.0).alias("inventory_position"))
    caps = pl.DataFrame(
        {"sku": ["FAST"], "location": ["W"], "order_up_to_cap": [160.0], "cap_clause": ["c"]}
    )
    out = apply_price_breaks(lines, breaks, 5.0, 0.25, caps).row(0, named=True)
    assert (out["order_qty"], out["unit_cost"], out["reason"]) == (100, 10.0, "r")
    wide = caps.with_columns(pl.lit(400.0).alias("order_up_to_cap"))
    out = apply_price_breaks(lines, breaks, 5.0, 0.25, wide).row(0, named=True)
    assert (out["order_qty"], out["unit_cost"]) == (200, 9.5)


def test_a_minimum_order_past_the_shelf_life_cap_says_how_many_units_will_not_sell():
    # cap 68.8, position 10, MOQ 240 ordered: 10 + 240 - 68.8 = 181.2 -> 181 units sell
    # after expiry; a successor's cap says the units beyond it; a line under its cap and
    # one with no order say nothing
    from stockplan.caps import beyond_cap_clause

    lines = pl.DataFrame(
        {
            "sku": ["A", "B", "C", "D"],
            "location": ["W"] * 4,
            "order_qty": [240.0, 50.0, 20.0, 0.0],
            "inventory_position": [10.0, 0.0, 5.0, 90.0],
            "reason": ["r"] * 4,
        }
    )
    caps = pl.DataFrame(
        {
            "sku": ["A", "B", "C", "D"],
            "location": ["W"] * 4,
            "order_up_to_cap": [68.8, 20.0, 30.0, 10.0],
            "cap_clause": [
                "order-up-to capped at 68.8 by shelf life: 1.1 a day over lead time 2 + 60 "
                "sellable days",
                "order-up-to capped at 20: demand until N replaces it on 2026-12-01",
                "order-up-to capped at 30 by shelf life: x",
                "order-up-to capped at 10 by shelf life: x",
            ],
        }
    )
    out = beyond_cap_clause(lines, caps)["reason"].to_list()
    assert out == [
        "r; 181 units beyond what sells before expiry (cap 68.8)",
        "r; 30 units beyond the cap 20",
        "r",
        "r",
    ]
    assert _translated(out[0]) and _translated(out[1])
    assert render_reason(out[0], "zh") == "r; 181 件到期前卖不完（上限 68.8）"


def test_line_values_are_in_cents_and_totals_are_their_sum():
    # three lines of 1 x 5.082 (5.08 each) and one of 5 x 0.126 (0.63): the lines show
    # 5.08, 5.08, 5.08, 0.63, the supplier total is their sum 15.87 (not 15.876 -> 15.88),
    # and the unit costs are written as they are (0.126, 5.082; not 0.13, 5.08)
    from stockplan.io.writers import presentable

    lines = pl.DataFrame(
        {
            "sku": ["A", "A", "A", "B"],
            "location": ["W1", "W2", "W3", "W1"],
            "supplier": ["S"] * 4,
            "order_qty": [1.0, 1.0, 1.0, 5.0],
            "unit_cost": [5.082, 5.082, 5.082, 0.126],
            "order_value": [None] * 4,
            "forecast_per_day": [1.0] * 4,
            "moq": [None] * 4,
            "pack_size": [None] * 4,
            "max_order": [None] * 4,
            "reason": ["r"] * 4,
        },
        schema_overrides={c: pl.Float64 for c in ("order_value", "moq", "pack_size", "max_order")},
    )
    other = pl.DataFrame({"supplier": ["S"], "sku": ["Z"], "min_qty": [9.0], "unit_price": [1.0]})
    priced = apply_price_breaks(lines, other, 5.0, 0.25)
    assert priced["order_value"].to_list() == [5.08, 5.08, 5.08, 0.63]
    dated = priced.with_columns(
        pl.lit(D(2026, 3, 2)).alias("order_date"), pl.lit(D(2026, 3, 16)).alias("expected_arrival")
    )
    assert supplier_orders(dated, None)["order_value"].to_list() == [pytest.approx(15.87)]
    shown = presentable(priced)
    assert shown["unit_cost"].to_list() == [5.082, 5.082, 5.082, 0.126]
    assert shown["order_value"].to_list() == [5.08, 5.08, 5.08, 0.63]


_STRICT_DEFER = {
    "action": "defer",
    "strict": True,
    "price": lambda lines: lines,
    "holding_rate": 0.25,
    "review_days": 7.0,
    "discrete_patterns": [],
}
"""`budget_after_deferrals` under a strict budget deferring minimums, no price breaks."""


def test_a_deferred_suppliers_budget_funds_the_next_lines():
    # budget 300, packs of 100 at 1. T (minimum 2,000) asks A 300, S (no minimum) B 100
    # and C 100. The budget gives A 200 and B 100 (C does not fit); T's 200 is below its
    # 2,000: deferred, A 0. Spent so far 100 of 300; the 200 A held goes back to the
    # budget, which now funds B 100 and C 100 by the same priority: 200 spent.
    from stockplan.i18n import render_note
    from stockplan.purchasing import budget_note
    from stockplan.supplier_rules import budget_after_deferrals

    frame, demand = _frames(
        [_line("A", 300, 0, 30, supplier="T"), _line("B", 100, 0, 10), _line("C", 100, 0, 10)]
    )
    suppliers = pl.DataFrame({"supplier": ["S", "T"], "moq_value": [0.0, 2000.0]})
    budgeted, funded, decisions, _, deferred = budget_after_deferrals(
        frame, demand, suppliers, None, 300.0, **_STRICT_DEFER
    )
    assert dict(zip(funded["sku"], funded["order_qty"], strict=True)) == {
        "A": 0,
        "B": 100,
        "C": 100,
    }
    assert funded["order_value"].sum() == 200
    assert "deferred 200" in funded.filter(pl.col("sku") == "A")["reason"][0]
    assert decisions.row(0, named=True)["minimum_action"] == "defer"
    assert deferred.rows() == [("T", 200.0)]
    note = budget_note(frame, budgeted, funded, 300.0, deferred)
    assert note == (
        "budget 300.00: orders 200.00 on 2 lines, 500.00 asked; 0 lines cut, 1 not funded "
        "(the reason column says why); T (200.00) deferred below their minimum order value, "
        "the budget they held funded other lines"
    )
    assert render_note(note, "zh", "CNY").endswith(
        "；T (200.00) 未达起订金额，推迟下单，其占用的预算改为资助其他行"
    )


def test_a_supplier_deferred_at_the_strict_budgets_final_cut_frees_its_money_too():
    # budget 400, packs of 100 at 1, price 2. T (minimum 250, full container loads of 10
    # m3, A 0.05 m3 a unit: 200 units a load) asks A 300; S (no minimum, no container)
    # asks B 100 and C 100. A sells 50 a day from position 0: the window L..L+R needs 350,
    # so each of A's packs protects 100 sales (priority 100 x 2 / 100 = 2); B and C sell
    # 10 a day: a pack protects 70 (1.4). The budget funds A 300 and B 100 (400), C does
    # not fit; T's 300 reaches its 250. Full loads: A's 300 units are 1.5 loads, rounded
    # down (a strict budget never rounds up) to 200 = 1 load, T's 200 is below its 250:
    # deferred at the final cut, A 0. Its 200 goes back to the budget, which now funds B
    # 100 and C 100: 200 spent of 400 (before: B 100 alone, 100 spent).
    from stockplan.purchasing import budget_note
    from stockplan.supplier_rules import budget_after_deferrals

    frame, demand = _frames(
        [_line("A", 300, 0, 50, supplier="T"), _line("B", 100, 0, 10), _line("C", 100, 0, 10)]
    )
    suppliers = pl.DataFrame(
        {
            "supplier": ["S", "T"],
            "moq_value": [0.0, 250.0],
            "container_m3": [None, 10.0],
            "full_loads": ["no", "yes"],
        }
    )
    products = pl.DataFrame({"sku": ["A", "B", "C"], "volume_m3": [0.05, 0.01, 0.01]})
    bought = budget_after_deferrals(frame, demand, suppliers, products, 400.0, **_STRICT_DEFER)
    funded = bought.funded
    assert dict(zip(funded["sku"], funded["order_qty"], strict=True)) == {
        "A": 0,
        "B": 100,
        "C": 100,
    }
    # within the budget, the total is the sum of its lines
    assert funded["order_value"].to_list() == [0.0, 100.0, 100.0]
    assert funded["order_value"].sum() == 200 <= 400
    a = funded.filter(pl.col("sku") == "A")["reason"][0]
    assert "cut by 100 to whole container loads" in a and "deferred 200" in a
    t = bought.decisions.filter(pl.col("supplier") == "T").row(0, named=True)
    assert t["minimum_action"] == "defer" and t["added_value"] == -200
    assert bought.deferred.rows() == [("T", 200.0)]
    totals = supplier_orders(
        funded.with_columns(
            pl.lit(D(2026, 3, 2)).alias("order_date"),
            pl.lit(D(2026, 3, 16)).alias("expected_arrival"),
        ),
        suppliers,
    )
    assert totals.select("supplier", "lines", "order_value").rows() == [("S", 2, 200.0)]
    note = budget_note(frame, bought.budgeted, funded, 400.0, bought.deferred)
    assert note == (
        "budget 400.00: orders 200.00 on 2 lines, 500.00 asked; 0 lines cut, 1 not funded "
        "(the reason column says why); T (200.00) deferred below their minimum order value, "
        "the budget they held funded other lines"
    )
