"""A supplier's minimum order value and its full container loads, judged on the orders as
they are finally placed: at the price paid (price breaks), in every dimension of the
container (volume and weight), and without a rounding to loads undoing a met minimum."""

from __future__ import annotations

import polars as pl
import pytest
from test_supplier_orders import X, _frames, _line, _minimum, _translated

from stockplan.i18n import render_reason
from stockplan.price_breaks import reprice
from stockplan.supplier_rules import budget_after_deferrals, round_to_loads


def _last_clause(reason: str) -> str:
    return reason.split("; ")[-1]


# --- why an order waits a cycle ---------------------------------------------------------


def test_a_forced_defer_says_the_config_asked_for_it_not_that_waiting_is_cheaper():
    # X orders 100 at 1 a unit against a minimum of 500: topping up 400 costs 6.47 of
    # holding, waiting a cycle risks 20 sales x 2 = 40 (test_supplier_orders). `cheapest`
    # tops up; a forced `defer` waits although topping up is cheaper, and must say so.
    orders, decision = _minimum([_line(*X)], 500.0, action="defer")
    assert decision["minimum_action"] == "defer"
    assert decision["top_up_cost"] == pytest.approx(0.25 * 7 / 365 * 1350)  # 6.47 < 40
    assert decision["defer_cost"] == pytest.approx(40.0)
    reason = orders["X"]["reason"]
    assert _last_clause(reason) == (
        "deferred 100: the supplier's total is below its minimum order value 500 and "
        "purchasing.minimum_order_value is defer"
    )
    assert "costs less" not in reason
    assert _translated(reason)
    assert render_reason(reason, "zh", "CNY").endswith(
        "推迟 100：供应商合计低于其起订金额 500 元，"
        "配置 purchasing.minimum_order_value 为 defer（推迟）"
    )


def test_a_cheapest_defer_says_why_it_was_chosen():
    # minimum 2,000: topping up 1,900 costs 128.2 > 40 of sales at risk: waiting is cheaper
    orders, decision = _minimum([_line(*X)], 2000.0)
    assert decision["minimum_action"] == "defer"
    assert _last_clause(orders["X"]["reason"]).endswith(
        "and waiting a cycle costs less than topping up"
    )
    # X at its max_order, S's other line inactive: nothing can be added, nothing is due
    # next cycle: the order waits because no way out reaches the minimum, not by cost
    capped = _line(*X) | {"max_order": 100.0}
    inactive = _line("OLD", 0, 0, 10) | {"reason": "no order: product status is inactive"}
    orders, decision = _minimum([capped, inactive], 500.0)
    assert decision["top_up_cost"] is None and decision["bring_forward_cost"] is None
    reason = orders["X"]["reason"]
    assert _last_clause(reason) == (
        "deferred 100: the supplier's total is below its minimum order value 500 and no top "
        "up or brought-forward order can reach it"
    )
    assert _translated(reason)


# --- full container loads in volume and in weight ----------------------------------------


def _containers(
    lines: list[dict],
    per_unit: dict[str, tuple[float, float]],
    minimum: float | None = None,
    round_up: bool = True,
):
    """`round_to_loads` of `lines` (`_line` rows: 1 a unit, price 2) with (m3, kg) a unit,
    one supplier S with a container of 10 m3 and 1,000 kg, full loads required."""
    frame, demand = _frames(lines)
    products = pl.DataFrame(
        {
            "sku": list(per_unit),
            "volume_m3": [v for v, _ in per_unit.values()],
            "weight_kg": [w for _, w in per_unit.values()],
        }
    )
    suppliers = pl.DataFrame(
        {
            "supplier": ["S"],
            "container_m3": [10.0],
            "container_kg": [1000.0],
            "full_loads": ["true"],
            "moq_value": [minimum],
        },
        schema_overrides={"moq_value": pl.Float64},
    )
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


# A sells 10 a day from position 50: orders 160 (S = 210); B sells 5 a day from 40: 65.
A = ("A", 160, 50, 10)
B = ("B", 65, 40, 5)


def test_filling_the_last_load_by_weight_never_overflows_its_volume():
    # A: 0.045 m3, 1 kg; B: 0.001 m3, 11 kg, max_order 68. Before: 160 x 0.045 + 65 x
    # 0.001 = 7.265 m3, 160 + 65 x 11 = 875 kg: 0.875 loads, weight binds. Room in the
    # container: 2.735 m3 and 125 kg. B may take 3 (68 - 65: 0.003 m3, 33 kg); A at most
    # 2.735 / 0.045 = 60.8 -> 60 by volume (125 by weight alone). Filled: A 220, B 68 =
    # 9.968 m3 and 968 kg, one container (measuring weight alone A took 87 more: 11.18 m3,
    # two containers).
    orders, loads = _containers(
        [_line(*A, pack=1.0), _line(*B, pack=1.0) | {"max_order": 68.0}],
        {"A": (0.045, 1.0), "B": (0.001, 11.0)},
    )
    assert orders["A"]["order_qty"] == 220 and orders["B"]["order_qty"] == 68
    assert loads["load_action"] == "up"
    assert loads["volume_m3"] == pytest.approx(9.968)
    assert loads["weight_kg"] == pytest.approx(968.0)
    assert loads["loads"] == pytest.approx(0.9968) and loads["loads"] <= 1.0


def test_filling_the_last_load_skips_a_block_that_does_not_fit_and_goes_on():
    # A: 0.04 m3, 1 kg; B: 0.001 m3, 10 kg. Before: 6.465 m3, 810 kg (0.81 loads): room
    # 3.535 m3 and 190 kg. B's extra units come first (they reach fewer days of its
    # demand) and take 18 (180 kg); the 10 kg left take 10 of A's 1-kg packs (0.4 m3).
    # Filled: A 170, B 83 = 170 + 830 = 1,000 kg and 6.8 + 0.083 = 6.883 m3. The fill
    # stopped at A's first block (5 packs, 5 kg) not fitting 8 kg: 992 kg.
    orders, loads = _containers(
        [_line(*A, pack=1.0), _line(*B, pack=1.0)],
        {"A": (0.04, 1.0), "B": (0.001, 10.0)},
    )
    assert orders["B"]["order_qty"] == 83 and orders["A"]["order_qty"] == 170
    assert loads["weight_kg"] == pytest.approx(1000.0)
    assert loads["volume_m3"] == pytest.approx(6.883)
    assert loads["load_fill"] == pytest.approx(1.0) and loads["load_note"] is None


def test_a_cut_to_whole_loads_ends_within_them_in_volume_and_in_weight():
    # V (bulky: 0.05 m3, 0.1 kg) sells 10 a day from 190: 140 go in the lead time, 50 are
    # left, the window needs 70: its first 20 units protect sales, it orders 210. W
    # (dense: 0.001 m3, 10 kg) sells 10 a day from 100: 40 short before arrival, nothing
    # left, its first 70 units protect, it orders 102. Together 10.602 m3 (1.06 loads)
    # and 1,041 kg (1.04 loads); a strict budget only cuts. The least protective blocks
    # go first: V's beyond 21 (its blocks are 1 unit, then 5: 1, 6, ..., 21 ends the last
    # block that still protects), 189 units = 9.45 m3 and 18.9 kg, enough volume but
    # 22.1 kg short of 1,000; then W's top blocks (1, then 3: ..., 97, 100, 102): 102 ->
    # 100 -> 97, 50 kg. V 21 + W 97 = 1.147 m3, 972.1 kg: one container. Cutting by
    # volume alone stopped at V 196 (0.7 m3 dropped) with 1,039.6 kg: still two.
    orders, loads = _containers(
        [_line("V", 210, 190, 10, pack=1.0), _line("W", 102, 100, 10, pack=1.0)],
        {"V": (0.05, 0.1), "W": (0.001, 10.0)},
        round_up=False,
    )
    assert loads["load_action"] == "down"
    assert orders["V"]["order_qty"] == 21 and orders["W"]["order_qty"] == 97
    assert loads["volume_m3"] == pytest.approx(1.147)
    assert loads["weight_kg"] == pytest.approx(972.1)
    assert loads["loads"] <= 1.0


def test_a_cut_to_whole_loads_never_takes_a_met_minimum_below_it():
    # X orders 500 units of 0.025 m3 (1 a unit): 12.5 m3, 1.25 loads. Alone, the cut to
    # 400 (one load) wins: its last pack protects nothing (test_supplier_orders). With a
    # minimum of 450 the 500 meet it and 400 would not: the cut is not taken, the order is
    # rounded up instead, 3 packs to 800 = 2 loads (800 >= 450).
    orders, loads = _containers([_line("X", 500, 190, 10)], {"X": (0.025, 0.0)})
    assert loads["load_action"] == "down" and orders["X"]["order_qty"] == 400
    orders, loads = _containers([_line("X", 500, 190, 10)], {"X": (0.025, 0.0)}, 450.0)
    assert loads["load_action"] == "up" and orders["X"]["order_qty"] == 800
    assert loads["loads"] == pytest.approx(2.0)
    # X at its max_order of 500: rounding up adds nothing, the part load stays, and the
    # supplier's row says why
    capped = _line("X", 500, 190, 10) | {"max_order": 500.0}
    orders, loads = _containers([capped], {"X": (0.025, 0.0)}, 450.0)
    assert loads["load_action"] == "none" and orders["X"]["order_qty"] == 500
    note = (
        "not cut to 1 whole loads: the cut would take the order below the supplier's "
        "minimum order value 450"
    )
    assert loads["load_note"] == note
    assert render_reason(note, "zh", "CNY") == (
        "未减到 1 整柜：减量会使订单低于供应商起订金额 450 元"
    )
    # a strict budget never rounds up: it still cuts, and its final check defers or flags
    # the supplier below its minimum as the config asks (test_supplier_orders)
    orders, loads = _containers(
        [_line("X", 500, 190, 10)], {"X": (0.025, 0.0)}, 450.0, round_up=False
    )
    assert loads["load_action"] == "down" and orders["X"]["order_qty"] == 400
    # a minimum the cut still meets does not stop it
    orders, loads = _containers([_line("X", 500, 190, 10)], {"X": (0.025, 0.0)}, 400.0)
    assert loads["load_action"] == "down" and orders["X"]["order_qty"] == 400


# --- the minimum at the price paid ----------------------------------------------------


def _bought(line: dict, minimum: float, action: str, budget: float | None = None):
    """`budget_after_deferrals` of one line of A (S's price break: 2,000 or more at 9.9,
    else the product's 10) against S's minimum; returns (A's row, S's decision)."""
    frame, demand = _frames([line])
    breaks = pl.DataFrame(
        {"supplier": ["S"], "sku": ["A"], "min_qty": [2000.0], "unit_price": [9.9]}
    )
    suppliers = pl.DataFrame({"supplier": ["S"], "moq_value": [minimum]})
    bought = budget_after_deferrals(
        frame,
        demand,
        suppliers,
        None,
        budget,
        action=action,
        strict=False,
        price=lambda lines: reprice(
            lines, breaks, pl.DataFrame({"sku": ["A"], "unit_cost": [10.0]})
        ),
        holding_rate=0.25,
        review_days=7.0,
        discrete_patterns=[],
    )
    decisions = bought.decisions.filter(pl.col("supplier") == "S")
    return bought.funded.row(0, named=True), (
        decisions.row(0, named=True) if decisions.height else None
    )


def test_a_top_up_across_a_price_break_reaches_the_minimum_at_the_price_paid():
    # A orders 160 at 10 (1,600) against a minimum of 20,000: the gap 18,400 is 1,840
    # units at 10, taking A past 2,000, where every unit pays 9.9: the supplier would pay
    # 2,000 x 9.9 = 19,800 < 20,000. Topped up at the price paid: 20,000 / 9.9 = 2,020.2
    # -> 2,021 units, 2,021 x 9.9 = 20,007.90; added 20,007.90 - 1,600 = 18,407.90.
    line = _line("A", 160, 50, 10, pack=1.0) | {"unit_cost": 10.0, "order_value": 1600.0}
    row, decision = _bought(line, 20000.0, "top_up")
    assert row["order_qty"] == 2021 and row["unit_cost"] == 9.9
    assert row["order_value"] == pytest.approx(20007.9)
    assert decision["minimum_action"] == "top_up"
    assert decision["added_value"] == pytest.approx(18407.9)
    assert "is below its minimum" not in row["reason"]
