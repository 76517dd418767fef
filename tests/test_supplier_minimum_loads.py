"""A supplier's minimum order value and its full container loads, judged on the orders as
they are finally placed: at the price paid (price breaks), in every dimension of the
container (volume and weight), and without a rounding to loads undoing a met minimum."""

from __future__ import annotations

import pytest
from test_supplier_orders import X, _line, _minimum, _translated

from stockplan.i18n import render_reason


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
