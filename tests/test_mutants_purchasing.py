"""Budget behaviours pinned down by surviving mutants of `stockplan/purchasing.py`.

Expected values are worked out by hand in the comments.
"""

from __future__ import annotations

import math

import polars as pl
import pytest

from stockplan.purchasing import budget_blocks


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
