"""Budget cap, supplier minimum order value, excess stock and transfers on hand-built rows."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from plan_rows import NULLABLE_NUMBERS, plan_row

from stockplan.config import Policy, SkuPolicy, Transfers, parse_config
from stockplan.errors import StockplanError
from stockplan.excess import excess_stock
from stockplan.purchasing import (
    apply_budget,
    budget_note,
    flag_minimum_order_value,
    supplier_orders,
)
from stockplan.reorder import plan_orders, switch_to_backup
from stockplan.transfers import plan_transfers

AS_OF = dt.date(2025, 3, 3)


def _orders() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["A", "B", "C"],
            "location": ["W"] * 3,
            "supplier": ["S1", "S1", "S2"],
            "order_qty": [10.0, 24.0, 5.0],
            "unit_cost": [10.0, 5.0, 20.0],
            "order_value": [100.0, 120.0, 100.0],
            "order_date": [AS_OF] * 3,
            "expected_arrival": [AS_OF + dt.timedelta(days=7)] * 3,
            "reason": ["r"] * 3,
        }
    )


def _line(sku, qty, cost, price, position, rate=10.0, sigma=0.0, pack=None, moq=None):
    """One plan row with L = 14, R = 7 and `rate` units a day (mu_L = 14 rate, mu_L+R = 21 rate);
    safety stock 0, so the reorder point is the mean demand over L + R."""
    return {
        "sku": sku,
        "location": "W",
        "supplier": "S",
        "order_qty": float(qty),
        "unit_cost": float(cost),
        "order_value": float(qty * cost),
        "pack_size": pack,
        "moq": moq,
        "inventory_position": float(position),
        "reorder_point": 21.0 * rate,
        "safety_stock": 0.0,
        "order_up_to": 21.0 * rate,
        "sigma_lead_time_demand": sigma,
        "lead_time_days": 14.0,
        "review_days": 7.0,
        "demand_pattern": "smooth",
        "reason": "r",
        "unit_price": float(price),
        "demand_lead_time": 14.0 * rate,
    }


def _budget(lines: list[dict], budget: float | None) -> dict[str, dict]:
    frame = pl.DataFrame(lines, schema_overrides={"pack_size": pl.Float64, "moq": pl.Float64})
    orders = frame.drop("unit_price", "demand_lead_time")
    demand = frame.select("sku", "location", "unit_price", "demand_lead_time")
    return {r["sku"]: r for r in apply_budget(orders, demand, budget).to_dicts()}


def test_budget_funds_the_stockout_after_the_lead_time_first():
    # X: 10 / day, position 190: it lasts to day 19, after today's order lands (day 14) and
    # before the next one (day 21). Shortage before L is 0 (the old "revenue at risk"), but
    # its 20 units each save a sale in the window: 20 x 2 / (20 x 1) = 2.0 per 1 spent.
    # Y: position 50 is gone by day 5; the 90 units short before day 14 are lost whatever
    # we buy, the window's 70 units are saveable: 7 packs of 10 at 2.0, the 9 other packs
    # at 0. Budget 100: X 20 (2.0), Y 70 (2.0), then 10 more of Y at priority 0.
    out = _budget(
        [_line("X", 20, 1, 2, 190), _line("Y", 160, 1, 2, 50, pack=10.0)],
        100.0,
    )
    assert out["X"]["order_qty"] == 20 and out["X"]["reason"] == "r"
    assert out["Y"]["order_qty"] == 80 and out["Y"]["order_value"] == 80
    assert out["Y"]["reason"].startswith("r; budget: 80 of 160 funded, the next 10 units (10.0)")


def test_a_line_that_does_not_fit_is_skipped_and_later_ones_are_still_funded():
    # sigma 0, every unit avoids one unit short. Priorities (sales per 1 spent):
    # A 20 / 10 = 2.0 (10 units, 100); B MOQ 20 as one block 12 / 10 = 1.2 (200);
    # C 5 / 5 = 1.0 (10 units, 50). Budget 250: A (150 left), B does not fit, C (100 left).
    out = _budget(
        [
            _line("A", 10, 10, 20, 200),
            _line("B", 20, 10, 12, 190, moq=20.0),
            _line("C", 10, 5, 5, 200),
        ],
        250.0,
    )
    assert [out[s]["order_qty"] for s in "ABC"] == [10, 0, 10]
    assert sum(r["order_value"] for r in out.values()) == 150
    assert out["B"]["reason"] == (
        "r; not funded by the budget: the next 20 units (200.0) did not fit the 150.0 left "
        "after lines protecting more sales per unit of money (this one 1.2 per 1 spent)"
    )


def test_a_budget_equal_to_the_lines_values_in_cents_funds_every_line():
    # 3 x 3.334 is a line of 10.00 (10.002 rounded to the cent at the line), so two such
    # lines are 20.00 on the orders sheet: a budget of 20.00 funds both whole (the units'
    # own costs add up to 20.004, which cut the last unit). Likewise three lines of 1 x
    # 5.082 (5.08 each) and one of 5 x 0.126 (0.63) are 15.87, the budget.
    out = _budget([_line("E1", 3, 3.334, 5, 0), _line("E2", 3, 3.334, 5, 0)], 20.0)
    assert [(out[s]["order_qty"], out[s]["order_value"]) for s in ("E1", "E2")] == [
        (3, 10.0),
        (3, 10.0),
    ]
    assert [out[s]["reason"] for s in ("E1", "E2")] == ["r", "r"]
    lines = [_line(s, 1, 5.082, 9, 0) for s in ("D1", "D2", "D3")] + [_line("D4", 5, 0.126, 1, 0)]
    out = _budget(lines, 15.87)
    assert [out[s]["order_qty"] for s in ("D1", "D2", "D3", "D4")] == [1, 1, 1, 5]
    assert sum(r["order_value"] for r in out.values()) == pytest.approx(15.87, abs=1e-9)
    # a cent less and a line goes: D4's units protect 1 / 0.126 = 7.9 sales per unit of
    # money, D1-D3's 9 / 5.082 = 1.8 each (the first listed first); after D4 (0.63), D1
    # and D2 (5.08 each) 5.07 is left for D3's 5.08
    out = _budget(lines, 15.86)
    assert [out[s]["order_qty"] for s in ("D1", "D2", "D3", "D4")] == [1, 1, 0, 5]
    assert out["D3"]["reason"].startswith(
        "r; not funded by the budget: the next 1 unit (5.08) did not fit the 5.07 left"
    )


def test_budget_ties_go_to_the_line_listed_first():
    # two identical lines, each MOQ 10 as one block of 10 units x 10 = 100 avoiding 10 sales
    # (priority 10 x 2 / 100 = 0.2 both); a budget of 150 funds one block: the earlier line
    # (the plan lists the most urgent first), whichever of the two that is
    lines = [_line(s, 10, 10, 2, 200, moq=10.0) for s in ("M", "N")]
    first = _budget(lines, 150.0)
    assert (first["M"]["order_qty"], first["N"]["order_qty"]) == (10, 0)
    swapped = _budget(lines[::-1], 150.0)
    assert (swapped["N"]["order_qty"], swapped["M"]["order_qty"]) == (10, 0)


def test_budget_note_reports_funded_value_and_cut_lines():
    lines = [
        _line("A", 10, 10, 20, 200),
        _line("B", 20, 10, 12, 190, moq=20.0),
        _line("C", 10, 5, 5, 200),
        _line("D", 10, 10, 10, 205),  # 5 units avoid a sale each (to 210), then nothing
    ]
    frame = pl.DataFrame(lines, schema_overrides={"pack_size": pl.Float64, "moq": pl.Float64})
    orders = frame.drop("unit_price", "demand_lead_time")
    funded = apply_budget(
        orders, frame.select("sku", "location", "unit_price", "demand_lead_time"), 260.0
    )
    # A 100 (2.0) -> 160 left; B's 200 do not fit; C 50 (1.0, first of the tie by line
    # order) -> 110; D's 5 useful units 50 (1.0) -> 60; D's last 5 (0 each) 50 -> 10 left
    assert dict(zip(funded["sku"], funded["order_qty"], strict=True)) == {
        "A": 10,
        "B": 0,
        "C": 10,
        "D": 10,
    }
    assert budget_note(orders, funded, funded, 260.0) == (
        "budget 260.00: orders 250.00 on 3 lines, 450.00 asked; 0 lines cut, "
        "1 not funded (the reason column says why)"
    )


def _lines(qty: dict[str, float], cost: float = 10.0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": list(qty),
            "location": ["W"] * len(qty),
            "order_qty": list(qty.values()),
            "order_value": [q * cost for q in qty.values()],
        }
    )


def test_the_budget_note_gives_the_orders_as_placed_and_what_came_after_the_budget():
    # A asks 10 and B 20 (300 at 10 each), C nothing. The budget of 250 funds A's 10 and
    # B's first 10. A top up then buys B 20 more (to 30) and C 10: the orders sheet holds
    # 3 lines, 10 + 30 + 10 = 50 units = 500, 250 above the budget; 300 of it (B's 20, C's
    # 10) on 2 lines, 1 from no order, came after the budget. No line that asked ends
    # below what it asked (B 30 of 20 asked). It said "funded 400.00 ... on 2 lines" and
    # 150 above: C, raised from no order, was left out.
    asked = _lines({"A": 10, "B": 20, "C": 0})
    budgeted = _lines({"A": 10, "B": 10, "C": 0})
    placed = _lines({"A": 10, "B": 30, "C": 10})
    note = budget_note(asked, budgeted, placed, 250.0)
    assert note == (
        "budget 250.00: orders 500.00 on 3 lines, 300.00 asked; 0 lines cut, 0 not funded "
        "(the reason column says why); 300.00 on 2 lines (1 of them from no order) added "
        "after the budget by top ups, brought-forward orders or full loads; 250.00 above "
        "the budget (top ups, brought-forward orders, full loads or price breaks the cut "
        "lost: purchasing.minimum_order_value)"
    )
    from stockplan.i18n import render_note

    assert render_note(note, "zh") == (
        "预算 250.00：订单合计 500.00，共 3 行，申请 300.00；0 行被削减，0 行未获预算"
        "（原因列有说明）；预算之后补足、提前订货或整柜在 2 行上增加 300.00（其中 1 行原本"
        "不订货）；超出预算 250.00（补足、提前订货、整柜或削减后失去的价格折扣："
        "purchasing.minimum_order_value）"
    )
    # a full load cut after the budget (B to 10 of its 20 asked, C not funded) is a cut
    # line; the added part is priced as paid: C's 10 units at 12 (a break lost) = 120
    cut = _lines({"A": 10, "B": 10, "C": 0}).vstack(_lines({"D": 10}, 12.0))
    note = budget_note(
        asked.vstack(_lines({"D": 0})), budgeted.vstack(_lines({"D": 0})), cut, 250.0
    )
    assert note.startswith(
        "budget 250.00: orders 320.00 on 3 lines, 300.00 asked; 1 line cut, 0 not funded "
        "(the reason column says why); 120.00 on 1 line (1 of them from no order) added"
    )


def test_budget_ranks_packs_by_the_normal_loss_they_remove():
    # Two lines, window demand over R = 7 days: mean 70, sigma = 21 sqrt(7/21) for P and
    # 3 sqrt(7/21) for Q; both start the window with about 50 on the shelf (position 190,
    # lead-time demand 140 with sigma 21 sqrt(14/21)). Packs of 10 at cost 1, price 1.
    from scipy import stats

    def loss(mu, sigma, stock):
        z = (stock - mu) / sigma
        return sigma * (stats.norm.pdf(z) - z * stats.norm.sf(z))

    def at_arrival(sigma_total):
        s = sigma_total * (14 / 21) ** 0.5
        return 190 - 140 + loss(140, s, 190)

    def gain(sigma_total, packs_before):
        e, s = at_arrival(sigma_total), sigma_total * (7 / 21) ** 0.5
        return loss(70, s, e + 10 * packs_before) - loss(70, s, e + 10 * (packs_before + 1))

    # rank every pack of both lines by avoided units per 1 spent, fund the best 4
    packs = sorted(
        [(gain(21.0, k) / 10, "P") for k in range(4)]
        + [(gain(3.0, k) / 10, "Q") for k in range(4)],
        reverse=True,
    )[:4]
    expected = {name: 10 * sum(1 for _, n in packs if n == name) for name in "PQ"}
    out = _budget(
        [
            _line("P", 40, 1, 1, 190, sigma=21.0, pack=10.0),
            _line("Q", 40, 1, 1, 190, sigma=3.0, pack=10.0),
        ],
        40.0,
    )
    assert {name: out[name]["order_qty"] for name in "PQ"} == expected
    # by hand: Q's packs avoid 10.0, 9.31, 0.69, 0 units; P's 8.85, 6.56, 3.44, 1.14
    assert expected == {"P": 20, "Q": 20}


def test_supplier_below_minimum_order_value_is_flagged_not_inflated():
    suppliers = pl.DataFrame({"supplier": ["S1", "S2"], "moq_value": [200.0, 500.0]})
    summary = supplier_orders(_orders(), suppliers)
    rows = {r["supplier"]: r for r in summary.to_dicts()}
    assert (rows["S1"]["lines"], rows["S1"]["order_value"], rows["S1"]["meets_minimum"]) == (
        2,
        220.0,
        True,
    )
    assert rows["S2"]["meets_minimum"] is False
    flagged = flag_minimum_order_value(_orders(), summary)
    c = flagged.filter(pl.col("sku") == "C").row(0, named=True)
    assert c["order_qty"] == 5
    assert c["reason"].endswith("supplier total 100.0 is below its minimum order value 500.0")
    assert flagged.filter(pl.col("sku") == "A")["reason"][0] == "r"


def test_excess_and_dead_stock():
    rows = pl.DataFrame(
        {
            "sku": ["A", "B", "C"],
            "location": ["W"] * 3,
            "on_hand": [600.0, 50.0, 80.0],
            "on_order": [0.0] * 3,
            "allocated": [40.0, 0.0, 0.0],
            "backorders": [10.0, 0.0, 0.0],
            "transfer_qty": [-50.0, 0.0, 0.0],  # A sends 50 to another warehouse
            "inventory_position": [500.0, 50.0, 80.0],
            "order_up_to": [200.0, 100.0, 0.0],
            "forecast_per_day": [5.0, 5.0, 0.0],
            "unit_cost": [2.0, 2.0, 3.0],
            "demand_pattern": ["smooth", "smooth", "dead"],
        }
    )
    last_sale = pl.DataFrame(
        {
            "sku": ["A", "C"],
            "location": ["W", "W"],
            "last_sale_date": [AS_OF, AS_OF - dt.timedelta(days=120)],
        }
    )
    out = {r["sku"]: r for r in excess_stock(rows, last_sale, 30, AS_OF).to_dicts()}
    # A: 500 - (200 + 30 * 5) = 150 excess, 300 tied up; B is short, not excess
    assert (out["A"]["excess_qty"], out["A"]["excess_value"]) == (150.0, 300.0)
    # A's cover as the risk table counts it: (600 on hand - 40 allocated - 10 owed - 50
    # sent away) / 5 a day = 100 days, not 600 / 5; C sells nothing: no cover figure
    assert out["A"]["days_of_cover"] == 100.0
    assert out["C"]["days_of_cover"] is None
    assert "B" not in out
    # C: no sale for 120 days, all 80 on hand are dead stock
    assert (out["C"]["excess_qty"], out["C"]["excess_value"]) == (80.0, 240.0)
    assert out["C"]["reason"] == "dead stock: no sale for 120 days"


def test_transfers_match_several_donors_and_receivers():
    rows = pl.DataFrame(
        {
            "sku": ["A"] * 4,
            "location": ["D1", "D2", "R1", "R2"],
            "on_hand": [130.0, 60.0, 0.0, 10.0],
            "allocated": [0.0] * 4,
            "backorders": [0.0] * 4,
            "inventory_position": [130.0, 60.0, 0.0, 10.0],
            "reorder_point": [50.0, 50.0, 50.0, 50.0],
            "order_up_to": [50.0, 50.0, 70.0, 40.0],
            "forecast_per_day": [1.0] * 4,
        }
    )
    # surplus: D1 80, D2 10 (total 90); need: R1 70, R2 30 (total 100)
    # R1 takes 70 from D1; R2 takes D1's last 10 and D2's 10 -> 20 of its 30
    moves = plan_transfers(rows, Transfers(), AS_OF).select(
        "from_location", "to_location", "quantity"
    )
    assert sorted(moves.rows()) == [("D1", "R1", 70.0), ("D1", "R2", 10.0), ("D2", "R2", 10.0)]
    # min 15: D2's 10 is no donor and D1 -> R2 would move 10: only D1 -> R1 stays
    big = plan_transfers(rows, Transfers(min_qty=15), AS_OF).select("from_location", "to_location")
    assert big.rows() == [("D1", "R1")]
    assert plan_transfers(rows, Transfers(enabled=False), AS_OF).height == 0


@pytest.mark.parametrize("budget", [0.5, 1e9])
def test_budget_extremes(budget):
    # nothing fits half a unit of money; a huge budget funds all 10 + 20 units at 10
    lines = [_line("A", 10, 10, 20, 200), _line("B", 20, 10, 12, 190, moq=20.0)]
    out = _budget(lines, budget)
    assert sum(r["order_value"] for r in out.values()) == (0 if budget < 1 else 300)
    assert _budget(lines, None)["B"]["order_qty"] == 20


def _plan_rows() -> pl.DataFrame:
    """Three series, each 10 / day over L + R = 21 days, position 100, sigma 0."""
    rows = [
        plan_row(sku=sku, abc=abc, xyz=xyz)
        for sku, abc, xyz in (("P1", "A", "X"), ("P2", "C", "Z"), ("P3", "C", "X"))
    ]
    return pl.DataFrame(rows, schema_overrides=NULLABLE_NUMBERS)


def test_policy_type_and_service_level_by_class_and_sku():
    # EOQ = sqrt(2 * 50 * 3650 / (0.25 * 10)) = 382.1; d R = 70
    policy = Policy(
        types={"C": "sq", "CZ": "ss"},
        service_levels={"C": 0.9},
        skus={"P3": SkuPolicy(service_level=0.99)},
    )
    out = plan_orders(_plan_rows(), policy, AS_OF, 7).sort("sku")
    kinds = dict(zip(out["sku"], out["policy_type"], strict=True))
    assert kinds == {"P1": "rs", "P2": "ss", "P3": "sq"}  # pair class beats ABC class
    levels = dict(zip(out["sku"], out["service_level"], strict=True))
    assert levels == {"P1": 0.95, "P2": 0.9, "P3": 0.99}
    qty = dict(zip(out["sku"], out["order_qty"], strict=True))
    assert qty["P1"] == 110  # rs: S = 210 (sigma 0) - 100
    assert qty["P2"] == round(210 + 382.1 - 100)  # ss: up to s + EOQ
    assert qty["P3"] == 382  # sq: one EOQ lifts 100 above s = 210


def test_sku_codes_must_be_quoted_in_yaml():
    with pytest.raises(StockplanError, match="must be quoted"):
        parse_config(
            {"inputs": {"sales": "s.csv", "stock": "k.csv"}, "policy": {"skus": {10000: {}}}}
        )


def test_backup_supplier_when_the_preferred_one_delivers_after_the_stockout():
    orders = pl.DataFrame(
        {
            "sku": ["F", "G"],
            "location": ["W", "W"],
            "supplier": ["Slow", "Slow"],
            "order_qty": [50.0, 50.0],
            "lead_time_days": [42.0, 42.0],
            "expected_arrival": [AS_OF + dt.timedelta(days=42)] * 2,
        }
    )
    risk = pl.DataFrame(
        {
            "sku": ["F", "G"],
            "location": ["W", "W"],
            # F runs out in 10 days, before Slow can deliver; G lasts past day 42
            "stockout_date": [AS_OF + dt.timedelta(days=10), AS_OF + dt.timedelta(days=60)],
        }
    )
    backups = pl.DataFrame(
        {
            "sku": ["F", "G"],
            "location": ["W", "W"],
            "supplier": ["Fast", "Fast"],
            "lead_time_days": [7.0, 7.0],
        }
    )
    late = switch_to_backup(orders, risk, backups, AS_OF)
    assert late["sku"].to_list() == ["F"]
    assert late["preferred_supplier"][0] == "Slow"


def test_a_cut_that_loses_a_price_break_is_paid_for_within_the_budget():
    # X pays the break price 1.0 for its 20 units (1.5 below 20); Y 10 units at 1.0; every
    # unit avoids a sale of 2 (sigma 0). Budget 15: Y's 10 (priority 2, listed first),
    # then 5 of X at 1.0 = 15. But 5 units pay 1.5: 17.5, over the cap. Held: the budget
    # cuts again at 1.5 (X 2 / 1.5 = 1.33 per 1 spent, after Y): 5 left buy 3 units of X
    # (4.5): 14.5 in all.
    from stockplan.price_breaks import reprice
    from stockplan.purchasing import hold_budget

    lines = [_line("Y", 10, 1.0, 2, 200), _line("X", 20, 1.0, 2, 190)]
    frame = pl.DataFrame(lines, schema_overrides={"pack_size": pl.Float64, "moq": pl.Float64})
    orders = frame.drop("unit_price", "demand_lead_time")
    demand = frame.select("sku", "location", "unit_price", "demand_lead_time")
    breaks = pl.DataFrame({"supplier": ["S"], "sku": ["X"], "min_qty": [20.0], "unit_price": [1.0]})
    base = pl.DataFrame({"sku": ["X", "Y"], "unit_cost": [1.5, 1.0]})
    cut = apply_budget(orders, demand, 15.0)
    assert reprice(cut, breaks, base)["order_value"].sum() == 17.5  # what the plan paid
    held = {
        r["sku"]: r
        for r in hold_budget(
            cut, demand, 15.0, [], lambda lines: reprice(lines, breaks, base)
        ).to_dicts()
    }
    assert (held["Y"]["order_qty"], held["X"]["order_qty"]) == (10, 3)
    assert (held["X"]["unit_cost"], held["X"]["order_value"]) == (1.5, 4.5)
    assert held["X"]["reason"].startswith(
        "r; budget: 5 of 20 funded, the next 1 unit (1.0) did not fit the 0.0 left after "
    )
    assert (
        "; pays 1.5 a unit for 5: the break price 1.0 needs more; budget: 3 of 5 funded"
        in (held["X"]["reason"])
    )
    # without a budget nothing is cut again: the lines are priced
    assert (
        hold_budget(cut, demand, None, [], lambda f: reprice(f, breaks, base))["order_value"].sum()
        == 17.5
    )


def test_a_total_above_the_budget_is_told_in_the_note():
    from stockplan.i18n import render_note
    from stockplan.purchasing import budget_note_from

    sums = pl.DataFrame(
        {
            "cut": [2],
            "dropped": [1],
            "lines": [5],
            "value": [1_050.0],
            "asked": [2_000.0],
            "added": [0.0],
            "added_lines": [0],
            "from_none": [0],
        }
    )
    note = budget_note_from(sums, 1_000.0)
    assert note == (
        "budget 1,000.00: orders 1,050.00 on 5 lines, 2,000.00 asked; 2 lines cut, 1 not "
        "funded (the reason column says why); 50.00 above the budget (top ups, "
        "brought-forward orders, full loads or price breaks the cut lost: "
        "purchasing.minimum_order_value)"
    )
    assert render_note(note, "zh").endswith(
        "（原因列有说明）；超出预算 50.00（补足、提前订货、整柜或削减后失去的价格折扣："
        "purchasing.minimum_order_value）"
    )
    # with the plan's currency every amount carries its unit, the counts do not
    assert render_note(note, "zh", "CNY") == (
        "预算 1,000.00 元：订单合计 1,050.00 元，共 5 行，申请 2,000.00 元；2 行被削减，"
        "1 行未获预算（原因列有说明）；超出预算 50.00 元（补足、提前订货、整柜或削减后失去的"
        "价格折扣：purchasing.minimum_order_value）"
    )
    within = sums.with_columns(value=pl.lit(1_000.0))
    assert "above the budget" not in budget_note_from(within, 1_000.0)


def test_every_budget_clause_reads_in_chinese():
    from stockplan.i18n import render_reason, unknown_clauses

    out = _budget(
        [
            _line("A", 10, 10, 20, 200),
            _line("B", 20, 10, 12, 190, moq=20.0),
            _line("C", 10, 5, 5, 200),
            _line("D", 10, 10, 10, 205),
        ],
        245.0,  # D: 5 of 10 funded; B: not funded
    )
    reasons = [r["reason"] for r in out.values() if r["reason"] != "r"]
    assert any("; budget: " in r for r in reasons) and any("not funded" in r for r in reasons)
    assert [unknown_clauses(r) for r in reasons] == [["r"]] * len(reasons)  # only the stub
    assert all("预算" in render_reason(r, "zh") for r in reasons)
