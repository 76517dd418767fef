"""The policy's stock against the rule of thumb's curve at the same fill rate, by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from stockplan.cli import app
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


def test_simulate_writes_the_policy_stock_over_the_rule_per_pattern(
    small_shop: Path, tmp_path: Path
):
    config = yaml.safe_load(small_shop.read_text())
    config.setdefault("policy", {})["service_measure"] = "fill_rate"
    config["simulate"] = {"periods": 8, "targets": [0.9, 0.98], "baseline_scales": [0.5, 1, 4]}
    small_shop.write_text(yaml.safe_dump(config))
    folder = tmp_path / "out"
    folder.mkdir()
    result = CliRunner().invoke(app, ["simulate", "-c", str(small_shop), "-o", f"{folder}/"])
    assert result.exit_code == 0, result.output
    by_pattern = pl.read_csv(next(folder.glob("simulation_by_pattern*.csv")))
    compared = 0
    for pattern in by_pattern["demand_pattern"].unique():
        part = by_pattern.filter(pl.col("demand_pattern") == pattern)
        rule = part.filter(pl.col("policy").str.starts_with("baseline")).sort("fill_rate")
        fill, stock = rule["fill_rate"].to_list(), rule["avg_inventory_value"].to_list()
        # the least stock of any rule point serving at least as much, from the top down
        least = [min(stock[i:]) for i in range(len(stock))]
        for row in part.filter(pl.col("policy") == "stockplan").iter_rows(named=True):
            if row["fill_rate"] < fill[0]:
                assert row["inventory_vs_rule"] is None
                continue
            if row["fill_rate"] > fill[-1]:
                expected_fill, expected = fill[-1], least[-1]
            else:
                expected_fill = row["fill_rate"]
                expected = float(np.interp(row["fill_rate"], fill, least))
            assert row["rule_fill_rate_compared"] == pytest.approx(expected_fill, abs=1e-4)
            assert row["rule_inventory_at_same_fill"] == pytest.approx(expected, rel=1e-3)
            ratio = row["avg_inventory_value"] / expected
            assert row["inventory_vs_rule"] == pytest.approx(ratio, rel=1e-3, abs=1e-4)
            compared += 1
    assert compared >= 1
    assert "x the rule of thumb's stock at" in result.output
