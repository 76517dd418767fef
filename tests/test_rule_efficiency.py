"""The policy's stock against the rule of thumb's curve at the same fill rate, by hand."""

from __future__ import annotations

import polars as pl
import pytest

from stockplan.config import Simulate
from stockplan.replay import rule_curve, rule_inventory_at, with_rule_comparison


def _simulation() -> pl.DataFrame:
    """Four rule points (one beaten on both fill and stock), two policy targets and the
    buyers' own purchase history, which is not part of the rule's curve."""
    return pl.DataFrame(
        {
            "policy": [
                "baseline: reorder at 1 weeks, up to 2 weeks",
                "baseline: reorder at 2 weeks, up to 4 weeks",
                "baseline: reorder at 4 weeks, up to 8 weeks",
                "baseline: reorder at 3 weeks, up to 6 weeks",
                "stockplan",
                "stockplan",
                "your buyers (purchase history)",
            ],
            "target": [None, None, None, None, 0.9, 0.98, None],
            "fill_rate": [0.60, 0.80, 0.85, 0.90, 0.70, 0.95, 0.99],
            "avg_inventory_value": [100.0, 300.0, 600.0, 500.0, 150.0, 400.0, 50.0],
        }
    )


def test_rule_curve_keeps_for_each_fill_rate_the_least_stock_that_reaches_it():
    fill, stock = rule_curve(_simulation())
    # sorted by fill: 0.60/100, 0.80/300, 0.85/600, 0.90/500; the 0.85 point is beaten by
    # the 0.90 point (more fill, less stock), so reaching 0.85 costs 500, not 600
    assert fill.tolist() == [0.60, 0.80, 0.85, 0.90]
    assert stock.tolist() == [100.0, 300.0, 500.0, 500.0]


def test_rule_stock_is_interpolated_at_the_policy_fill_rate():
    # 0.70 lies halfway between 0.60 (100) and 0.80 (300): 200
    assert rule_inventory_at(_simulation(), 0.70) == pytest.approx((0.70, 200.0))
    # between the 0.85 and 0.90 points, both 500 on the curve
    assert rule_inventory_at(_simulation(), 0.875) == pytest.approx((0.875, 500.0))


def test_above_the_rule_curve_the_comparison_is_with_its_best_point_below_it_none():
    # the rule never served 0.95: compared with its best point (0.90, 500)
    assert rule_inventory_at(_simulation(), 0.95) == pytest.approx((0.90, 500.0))
    assert rule_inventory_at(_simulation(), 0.55) is None
    no_rule = _simulation().filter(pl.col("policy") == "stockplan")
    assert rule_inventory_at(no_rule, 0.70) is None


def test_policy_rows_get_the_stock_ratio_against_the_rule_and_the_fill_compared():
    out = with_rule_comparison(_simulation())
    policy = out.filter(pl.col("policy") == "stockplan")
    # target 0.90: 150 against 200 at fill 0.70 -> 0.75 (a quarter less stock)
    # target 0.98: 400 against the rule's best point, 500 at 0.90 -> at most 0.8
    assert policy["rule_inventory_at_same_fill"].to_list() == pytest.approx([200.0, 500.0])
    assert policy["inventory_vs_rule"].to_list() == pytest.approx([0.75, 0.8])
    assert policy["rule_fill_rate_compared"].to_list() == pytest.approx([0.70, 0.90])
    # rule rows and the buyers' row carry no comparison of their own
    others = out.filter(pl.col("policy") != "stockplan")
    assert others["inventory_vs_rule"].null_count() == others.height


def test_default_rule_curve_runs_up_to_24_weeks_reorder_point_and_48_weeks_order_up_to():
    settings = Simulate()
    assert settings.baseline_reorder_weeks * max(settings.baseline_scales) == 24
    assert settings.baseline_up_to_weeks * max(settings.baseline_scales) == 48
    assert settings.baseline_scales == sorted(settings.baseline_scales)
