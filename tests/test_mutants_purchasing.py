"""Budget behaviours pinned down by surviving mutants of `stockplan/purchasing.py`.

Expected values are worked out by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from stockplan.purchasing import (
    apply_budget,
    budget_blocks,
    flag_minimum_order_value,
    supplier_orders,
)


def _line(sku: str, qty: float, rate: float, sigma: float, pattern: str, pack=None, moq=None):
    """One order line with L = 14, R = 7, `rate` a day, no safety stock, position 0,
    unit cost and price 1."""
    return {
        "line": 0,
        "sku": sku,
        "location": "W",
        "supplier": "S",
        "order_qty": float(qty),
        "unit_cost": 1.0,
        "order_value": float(qty),
        "pack_size": pack,
        "moq": moq,
        "inventory_position": 0.0,
        "reorder_point": 21.0 * rate,
        "safety_stock": 0.0,
        "order_up_to": 21.0 * rate,
        "sigma_lead_time_demand": sigma,
        "lead_time_days": 14.0,
        "review_days": 7.0,
        "demand_pattern": pattern,
        "reason": "r",
    }


def _blocks(line: dict, discrete_patterns: list[str]) -> pl.DataFrame:
    orders = pl.DataFrame([line], schema_overrides={"pack_size": pl.Float64, "moq": pl.Float64})
    demand = pl.DataFrame(
        {
            "sku": [line["sku"]],
            "location": ["W"],
            "unit_price": [1.0],
            "demand_lead_time": [line["reorder_point"] * 14 / 21],
        }
    )
    return budget_blocks(orders, demand, discrete_patterns).sort("step")


def test_a_discrete_line_is_priced_by_the_poisson_units_each_block_saves():
    # 1/7 a day: Poisson(2) over L, Poisson(1) over the window R. From position 0 the shelf
    # is empty when the order lands (E[(0 - D_L)^+] = 0). Units short in the window with q
    # on the shelf: E[(D - 0)^+] = 1, E[(D - 1)^+] = e^-1, E[(D - 2)^+] = 3 e^-1 - 1, so the
    # first unit saves 1 - e^-1 = 0.632, the second 1 - 2 e^-1 = 0.264 (price = cost = 1)
    blocks = _blocks(_line("D", 2, 1 / 7, 1.0, "intermittent"), ["intermittent"])
    assert blocks["units_to"].to_list() == [1.0, 2.0]
    assert blocks["priority"].to_list() == pytest.approx(
        [1 - math.exp(-1), 1 - 2 * math.exp(-1)], rel=1e-9
    )


def test_without_an_moq_the_first_budget_block_is_one_pack():
    # pack 12, no MOQ: blocks of 12 units each, the first from 0 to 12
    blocks = _blocks(_line("P", 36, 2.0, 0.0, "smooth", pack=12.0), [])
    assert blocks["units_from"].to_list() == [0.0, 12.0, 24.0]
    assert blocks["units_to"].to_list() == [12.0, 24.0, 36.0]
    assert blocks["cost"].to_list() == [12.0, 12.0, 12.0]


def _budget_line(sku, qty, cost, price, position, moq=None):
    """10 a day, L = 14, R = 7, no spread: from `position`, every unit up to the window's
    shortfall saves one sale."""
    return {
        **_line(sku, qty, 10.0, 0.0, "smooth", moq=moq),
        "unit_cost": float(cost),
        "order_value": float(qty * cost),
        "inventory_position": float(position),
    }


def test_the_cut_reason_gives_the_lines_sales_per_unit_of_money_to_two_decimals():
    # A: leaves 60 of 140 + 70 at arrival, 10 units short in the window, 10 units at cost 10,
    # price 1 -> 10 / 100 = 0.1 per 1 spent; B: 20 short, MOQ 20 at cost 3 -> 20 / 60 = 0.333.
    # Budget 70: B first (60, 10 left), A's first unit (10) still fits: 1 of 10 funded
    orders = pl.DataFrame(
        [_budget_line("A", 10, 10, 1, 200), _budget_line("B", 20, 3, 1, 190, moq=20.0)],
        schema_overrides={"pack_size": pl.Float64, "moq": pl.Float64},
    ).drop("line")
    demand = pl.DataFrame(
        {"sku": ["A", "B"], "location": ["W", "W"], "unit_price": [1.0, 1.0]}
    ).with_columns(pl.lit(140.0).alias("demand_lead_time"))
    out = {r["sku"]: r for r in apply_budget(orders, demand, 70.0).to_dicts()}
    assert out["B"]["order_qty"] == 20 and out["B"]["reason"] == "r"
    assert out["A"]["order_qty"] == 1
    assert out["A"]["reason"] == (
        "r; budget: 1 of 10 funded, the next 1 unit (10.0) did not fit the 0.0 left after "
        "lines protecting more sales per unit of money (this one 0.1 per 1 spent)"
    )
    cut = apply_budget(orders, demand, 50.0).filter(pl.col("sku") == "B")["reason"][0]
    assert cut.endswith(
        "did not fit the 50.0 left after lines protecting more sales per "
        "unit of money (this one 0.33 per 1 spent)"
    )


def test_a_single_unit_line_of_a_supplier_below_its_minimum_is_flagged_and_an_empty_one_not():
    day = dt.date(2025, 3, 3)
    orders = pl.DataFrame(
        {
            "sku": ["A", "B"],
            "location": ["W", "W"],
            "supplier": ["S", "S"],
            "order_qty": [1.0, 0.0],
            "unit_cost": [40.0, 40.0],
            "order_value": [40.0, 0.0],
            "order_date": [day, day],
            "expected_arrival": [day, day],
            "reason": ["r", "r"],
        }
    )
    summary = supplier_orders(orders, pl.DataFrame({"supplier": ["S"], "moq_value": [100.0]}))
    assert summary.select("lines", "order_value", "meets_minimum").row(0) == (1, 40.0, False)
    flagged = {r["sku"]: r["reason"] for r in flag_minimum_order_value(orders, summary).to_dicts()}
    assert flagged == {
        "A": "r; supplier total 40.0 is below its minimum order value 100.0",
        "B": "r",
    }
