"""Fill-rate targets: the loss the levels are set by, and min-max items per replenishment cycle.

Every expected number is worked out by hand in the comments (or taken from scipy).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import optimize, stats

from stockplan.config import Policy
from stockplan.lead_time_demand import (
    LeadTimeDemand,
    cycle_fill_rate,
    fill_rate_stock,
    replenishment_fill_level,
)
from stockplan.policy import inverse_normal_loss, protection_levels

# four equally likely draws of (D_L, D_R): T = 2, 4, 6, 8, E[D_R] = 2
LEAD = np.array([[0.0, 2.0, 4.0, 6.0]])
REVIEW = np.array([[2.0, 2.0, 2.0, 2.0]])


def test_fill_rate_level_per_review_for_an_order_of_several_reviews():
    # beta 0.98, Q = 14 units per cycle, E[D_R] = 7: a cycle may lose 0.02 x 14 = 0.28
    # units, all in the review period at the reorder point: fill per review 1 - 0.28 / 7
    assert replenishment_fill_level(0.98, 14.0, 7.0) == pytest.approx(0.96)
    assert cycle_fill_rate(0.96, 14.0, 7.0) == pytest.approx(0.98)
    # Q = E[D_R] (an (R, S) series) keeps the target; Q = 10 E[D_R] at 0.90 allows a whole
    # review period's demand short per cycle: level 0
    assert replenishment_fill_level(0.9, 7.0, 7.0) == pytest.approx(0.9)
    assert replenishment_fill_level(0.9, 70.0, 7.0) == pytest.approx(0.0, abs=1e-12)
    assert replenishment_fill_level(0.9, 140.0, 7.0) == 0.0
    # no demand or no order: the target itself
    assert replenishment_fill_level(0.9, 0.0, 7.0) == 0.9
    assert cycle_fill_rate(0.5, 10.0, 0.0) == 0.5


def test_per_cycle_level_is_the_textbook_normal_fill_rate_reorder_point():
    # (s, Q) with normal lead-time demand: G(k) = (1 - beta) Q / sigma (Silver, Pyke &
    # Thomas 2017, ch. 6). The per-review level beta_R = 1 - (1 - beta) Q / E[D_R] set with
    # the per-review loss sigma G(k) = (1 - beta_R) E[D_R] gives the same k.
    beta, qty, per_review, sigma = 0.95, 40.0, 10.0, 12.0
    level = replenishment_fill_level(beta, qty, per_review)
    k_review = inverse_normal_loss((1 - level) * per_review / sigma)
    k_book = inverse_normal_loss((1 - beta) * qty / sigma)
    assert k_review == pytest.approx(k_book, abs=1e-9)
    loss = stats.norm.pdf(k_book) - k_book * stats.norm.sf(k_book)
    assert 1 - sigma * loss / qty == pytest.approx(beta, abs=1e-3)


def _row(kind: str) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "sku": "A",
                "location": "W",
                "forecast_per_day": 1.0,
                "demand_protection": 5.0,
                "sigma_day": 1.0,
                "lead_time_days": 3.0,
                "lead_time_std_days": 0.0,
                "review_days": 2.0,
                "service_level": 0.9,
                "demand_pattern": "lumpy",
                "unit_cost": 1.0,
                "policy_type": kind,
            }
        ]
    )


def _draws() -> LeadTimeDemand:
    return LeadTimeDemand(
        keys=pl.DataFrame({"sku": ["A"], "location": ["W"]}),
        lead=LEAD.astype(np.float32),
        review=REVIEW.astype(np.float32),
        mean_day=np.array([1.0]),
        days=np.array([100]),
        methods={"lumpy": "bootstrap_block"},
        backorder=True,
    )


def test_min_max_fill_rate_reorder_point_protects_the_replenishment_cycle():
    # EOQ = sqrt(2 x 0.032 x 365 / 0.365) = 8 units a cycle, E[D_R] = 2. (R, S) at fill 0.90
    # needs E[short] <= 0.2: short (T - S)^+ - (D_L - S)^+ for T = 2, 4, 6, 8 is 0, 0, 0,
    # 8 - S at S >= 6: S = 7.2, rounded up to 8. Min-max: a cycle of 8 may lose 0.8.
    # Per review period at s: beta_R = 1 - 0.1 x 8 / 2 = 0.6, E[short_R] <= 0.8: 0, 0,
    # 6 - s, 2 at s in [4, 6] -> s = 4.8. But the cycle also loses the lead time's demand
    # beyond s: E[(T - s)^+] = (6 - s + 8 - s) / 4 <= 0.8 -> s = 5.4, rounded up to 6.
    settings = Policy(service_measure="fill_rate", ordering_cost=0.032, holding_cost_rate=0.365)
    rs = protection_levels(_row("rs"), settings, None, _draws())
    ss = protection_levels(_row("ss"), settings, None, _draws())
    assert rs["reorder_point"][0] == pytest.approx(8.0)
    assert ss["order_cycle_qty"][0] == pytest.approx(8.0)
    assert fill_rate_stock(LEAD, REVIEW, np.array([0.6]), True)[0] == pytest.approx(4.8, abs=0.02)
    assert ss["reorder_point"][0] == pytest.approx(6.0)
    assert ss["order_up_to"][0] == pytest.approx(14.0)
    # at s = 6 a review period loses (0 + 0 + 0 + 2) / 4 = 0.5 of its 2: per cycle of 8,
    # fill 1 - 0.5 / 8 = 0.9375 >= 0.90, so the target is promised
    assert ss["promised_service"][0] == pytest.approx(0.9)


def test_min_max_normal_floor_is_the_textbook_fill_rate_reorder_point():
    # no draws: normal lead-time demand over L + R, sigma_LTD = sigma_d sqrt(L + R) =
    # sqrt(5); the reorder point solves sigma G(k) = (1 - beta) Q (Q = 8): k from scipy
    settings = Policy(service_measure="fill_rate", ordering_cost=0.032, holding_cost_rate=0.365)
    out = protection_levels(_row("ss").with_columns(demand_pattern=pl.lit("smooth")), settings)
    sigma = 5**0.5
    k = optimize.brentq(
        lambda k: sigma * (stats.norm.pdf(k) - k * stats.norm.sf(k)) - 0.1 * 8, -4, 6
    )
    assert out["reorder_point"][0] == pytest.approx(5 + max(k, 0.0) * sigma, abs=2e-3)


def test_per_series_table_lists_every_series_and_the_unreachable_table_only_the_short():
    import datetime as dt

    from stockplan.replay import BASELINE_HISTORY_DAYS, Replay, unreachable_items

    series = pl.DataFrame(
        {"sku": ["A", "B"], "location": ["W", "W"], "demand_pattern": ["lumpy", "smooth"]}
    )
    demand = np.zeros((2, BASELINE_HISTORY_DAYS + 14))
    demand[:, BASELINE_HISTORY_DAYS:] = [[0, 30] + [0] * 12, [2] * 14]
    replay = Replay(
        series=series,
        start=dt.date(2025, 1, 6),
        demand=demand,
        review_days=7,
        lead_draws=np.full((2, 2), 3),
        initial_stock=np.zeros(2),
        levels=[],
    )
    # A was promised 0.6 of a 0.9 target (not reachable), sold 30 and served 12; B was
    # promised its target, sold 28 and served 28
    totals = {
        "reachable": np.array([0.0, 1.0]),
        "promised_own": np.array([0.6, 0.9]),
        "demand": np.array([30.0, 28.0]),
        "served": np.array([12.0, 28.0]),
        "unmet": np.array([18.0, 0.0]),
        "cycles": np.array([1.0, 2.0]),
        "cycles_ok": np.array([0.0, 2.0]),
    }
    runs = [("stockplan", 0.9, totals)]
    short = unreachable_items(replay, runs, "fill_rate")
    every = unreachable_items(replay, runs, "fill_rate", every=True)
    assert short["sku"].to_list() == ["A"]
    assert every.sort("sku")["sku"].to_list() == ["A", "B"]
    row = every.filter(pl.col("sku") == "A").row(0, named=True)
    assert row["fill_rate"] == pytest.approx(12 / 30)
    assert row["largest_day_units"] == 30.0 and row["promised_service"] == 0.6
    assert every.filter(pl.col("sku") == "B")["fill_rate"][0] == 1.0
    # every series also carries its counted cycles (the bench's standard error weights)
    assert every.sort("sku")["cycles"].to_list() == [1.0, 2.0]
    assert "cycles" not in short.columns


def test_normal_fill_rate_level_lies_below_the_mean_when_the_order_alone_serves_more():
    # (R, S), no draws: d = 10 a day, R = 7, L = 7: mu = 140, Q = d R = 70, sigma_LTD =
    # 2 sqrt(14) = 7.483. At beta 0.90 a cycle may lose 7 units: G(k) = 7 / 7.483 = 0.935
    # > G(0) = 0.399, so k < 0 (Silver, Pyke & Thomas ch. 6): S = mu + k sigma below mu;
    # k from scipy, not from the grid the code interpolates
    row = _row("rs").with_columns(
        forecast_per_day=pl.lit(10.0),
        demand_protection=pl.lit(140.0),
        sigma_day=pl.lit(2.0),
        lead_time_days=pl.lit(7.0),
        review_days=pl.lit(7.0),
        demand_pattern=pl.lit("smooth"),
    )
    sigma = 2 * 14**0.5
    k = optimize.brentq(
        lambda k: sigma * (stats.norm.pdf(k) - k * stats.norm.sf(k)) - 0.1 * 70, -4, 6
    )
    assert k < -0.5
    out = protection_levels(row, Policy(service_measure="fill_rate"))
    assert out["safety_stock"][0] == pytest.approx(k * sigma, abs=0.01)
    assert out["reorder_point"][0] == pytest.approx(140 + k * sigma, abs=0.01)
    # that level promises the target: 1 - sigma G(k) / Q = 0.90
    assert out["promised_service"][0] == pytest.approx(0.9)
    # cycle service keeps z = Phi^-1(alpha) clipped at zero safety stock
    low = protection_levels(row.with_columns(service_level=pl.lit(0.4)), Policy())
    assert low["safety_stock"][0] == 0.0


def _replay_bench():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import replay_real

    return replay_real


def test_replay_bench_groups_series_by_how_far_their_demand_rose_after_the_start():
    # A sells 1 a day before and during (ratio 1), B 1 a day before and 3 during (ratio 3,
    # 60 of its 300 units unmet), C 1 a day before and 0.1 during (ratio 0.1). Demand 380
    # in all: shares 10 / 380 (C), 70 / 380 (A), 300 / 380 (B); B holds every unmet unit
    series = pl.DataFrame(
        {
            "sku": ["A", "B", "C"],
            "location": ["W"] * 3,
            "demand_pattern": ["intermittent"] * 3,
            "target": [0.9] * 3,
            "demand_units": [70.0, 300.0, 10.0],
            "unmet_units": [0.0, 60.0, 0.0],
            "days_counted": [70.0, 100.0, 100.0],
            "units_before": [70, 10, 100],
            "days_before": [70, 10, 100],
            "selling_days_before": [30, 5, 25],
        }
    )
    out = _replay_bench().ramp_split(series, "fill_rate", 20)
    assert out["during_vs_before"].to_list() == ["a: <= 0.8", "b: 0.8-1.25", "d: > 2"]
    assert out["met_rule_before"].to_list() == [1, 1, 0]
    assert out["achieved"].to_list() == [1.0, 1.0, 0.8]
    assert out["demand_share"].to_list() == [
        round(10 / 380, 3),
        round(70 / 380, 3),
        round(300 / 380, 3),
    ]
    assert out["unmet_share"].to_list() == [0.0, 0.0, 1.0]


def test_replay_bench_standard_error_resamples_the_patterns_series():
    # Two lumpy series, one served 10 of 10 and one 0 of 10: a resample of two series is
    # (A, A) 1.0, (A, B) or (B, A) 0.5, (B, B) 0.0 with probability 1/4, 1/2, 1/4, so the
    # ratio's standard deviation is sqrt(1/4 + 1/8 - 1/4) = sqrt(1/8). Two smooth series
    # served alike (18 of 20, 9 of 10) have no spread. Cycle service weights each series
    # by its cycles: 3 of 3 and 0 of 1 give (3k) / (3k + (2 - k)) for k copies of A.
    series = pl.DataFrame(
        {
            "sku": ["A", "B", "C", "D"],
            "demand_pattern": ["lumpy", "lumpy", "smooth", "smooth"],
            "target": [0.9] * 4,
            "demand_units": [10.0, 10.0, 20.0, 10.0],
            "unmet_units": [0.0, 10.0, 2.0, 1.0],
            "cycle_service_level": [1.0, 0.0, 1.0, 1.0],
            "cycles": [3.0, 1.0, 4.0, 2.0],
        }
    )
    bench = _replay_bench()
    fill = bench.achieved_standard_error(series, "fill_rate").sort("pattern")
    assert fill["pattern"].to_list() == ["lumpy", "smooth"]
    assert fill["achieved_se"][0] == pytest.approx(np.sqrt(1 / 8), rel=0.05)
    assert fill["achieved_se"][1] == pytest.approx(0.0, abs=1e-12)
    cycle = bench.achieved_standard_error(series, "cycle").sort("pattern")
    values = np.array([0.0, 3 / 4, 1.0])  # k = 0, 1, 2 copies of A
    weights = np.array([0.25, 0.5, 0.25])
    expected = np.sqrt(weights @ values**2 - (weights @ values) ** 2)
    assert cycle["achieved_se"][0] == pytest.approx(expected, rel=0.05)


def test_replay_bench_reports_the_top_of_each_refits_calibration_curve():
    from types import SimpleNamespace

    from stockplan.lead_time_demand import CALIBRATION_GRID

    # fill rate 0.5 at the grid's first level rising by 0.45 / 14 a level: 0.725 at level
    # 0.90 (the 8th), 0.95 at the top; a dip at level 0.99 does not lower the curve there
    fill = 0.5 + 0.45 / 14 * np.arange(15)
    fill[12] = 0.2
    ltd = LeadTimeDemand(
        keys=pl.DataFrame({"sku": ["A"], "location": ["W"]}),
        lead=LEAD,
        review=REVIEW,
        mean_day=np.array([1.0]),
        days=np.array([100]),
        methods={"smooth": "parametric"},
        calibration={"smooth": (np.linspace(0.3, 0.99, 15), fill)},
    )
    prepared = SimpleNamespace(lead_time_demand=[ltd, ltd, None])
    out = _replay_bench().calibration_ceiling(prepared, "fill_rate")
    assert out.height == 1  # one refit, reused at two reviews
    row = out.row(0, named=True)
    assert CALIBRATION_GRID[7] == 0.9 and CALIBRATION_GRID[12] == 0.99
    assert row["at_0.9"] == round(0.5 + 0.45 / 14 * 7, 3)
    assert row["at_0.99"] == round(0.5 + 0.45 / 14 * 11, 3)
    assert row["at_0.999"] == 0.95


def test_replay_bench_sets_each_patterns_promise_against_what_it_achieved():
    # A promised 0.8, served 90 of 100 at the level it had before (ratio 1); B promised 0.9,
    # served 150 of 300 at three times it (ratio 3). Fill rate, weighted by demand: promised
    # (80 + 270) / 400 = 0.875, achieved 240 / 400 = 0.6, gap -27.5 points; A alone +10
    # (a quarter of the demand), B alone -40. Two series resampled: gap +10 (A, A), -40
    # (B, B), -27.5 (A, B) with probability 1/4, 1/4, 1/2: mean -21.25, E[x^2] = 803.125,
    # standard error sqrt(803.125 - 21.25^2) = 18.75 points
    series = pl.DataFrame(
        {
            "sku": ["A", "B"],
            "demand_pattern": ["lumpy", "lumpy"],
            "target": [0.9, 0.9],
            "promised_service": [0.8, 0.9],
            "demand_units": [100.0, 300.0],
            "unmet_units": [10.0, 150.0],
            "cycle_service_level": [0.5, 1.0],
            "cycles": [4.0, 1.0],
            "days_counted": [100.0, 100.0],
            "units_before": [100, 100],
            "days_before": [100, 100],
        }
    )
    bench = _replay_bench()
    fill = bench.promise_calibration(series, "fill_rate")
    assert fill["during_vs_before"].to_list() == ["<= 2", "> 2", "all"]
    assert fill["promised"].to_list() == [0.8, 0.9, 0.875]
    assert fill["achieved"].to_list() == [0.9, 0.5, 0.6]
    assert fill["gap_points"].to_list() == [10.0, -40.0, -27.5]
    assert fill["weight_share"].to_list() == [0.25, 0.75, 1.0]
    assert fill["gap_se_points"][:2].to_list() == [0.0, 0.0]
    assert fill["gap_se_points"][2] == pytest.approx(18.75, rel=0.1)
    # cycle service weighted by cycles: promised (0.8 x 4 + 0.9) / 5 = 0.82, achieved
    # (0.5 x 4 + 1) / 5 = 0.6
    cycle = bench.promise_calibration(series, "cycle").filter(pl.col("during_vs_before") == "all")
    assert cycle["promised"][0] == pytest.approx(0.82)
    assert cycle["achieved"][0] == pytest.approx(0.6)
    assert cycle["gap_points"][0] == pytest.approx(-22.0)
    # by promise less target: A at -10 points (-9.999... in floating point: "-10 to -5"),
    # B at 0 ("-2 to +2"); each group its own series' figures
    by_promise = bench.promise_calibration(series, "fill_rate", split="promise")
    assert by_promise["promise_vs_target"].to_list() == ["-10 to -5", "-2 to +2", "all"]
    assert by_promise["achieved"].to_list() == [0.9, 0.5, 0.6]
    assert by_promise["weight_share"].to_list() == [0.25, 0.75, 1.0]
    # served below the target: A 0.9 (on it), B 0.5 (40 points below: 300 of 400 units);
    # by cycles A 0.5 and B 1.0: A 40 points below, 4 of 5 cycles
    below = bench.served_below_target(series, "fill_rate").row(0, named=True)
    assert (below["series_below_5"], below["share_below_5"]) == (1, 0.75)
    assert (below["series_below_10"], below["share_below_10"]) == (1, 0.75)
    below = bench.served_below_target(series, "cycle").row(0, named=True)
    assert (below["series"], below["series_below_10"], below["share_below_10"]) == (2, 1, 0.8)


def test_replay_bench_puts_an_item_at_the_floor_in_the_bucket_its_label_names():
    # the fill-rate allocation's floor: the target less 5 points, 0.85 at 0.90 and 0.90 at
    # 0.95; 100 (0.85 - 0.90) is -5.000000000000004 in floating point, and a promise at the
    # floor differs in its last bits from run to run. Each bucket runs from its lower edge
    # up to the next: exactly -5 points is "-5 to -2", a promise a millionth of a point
    # lower is "-10 to -5"
    promised = [0.85, 0.9, 0.85 - 1e-10, 0.85 - 1e-8]
    series = pl.DataFrame(
        {
            "sku": ["A", "B", "C", "D"],
            "demand_pattern": ["smooth"] * 4,
            "target": [0.9, 0.95, 0.9, 0.9],
            "promised_service": promised,
            "demand_units": [100.0] * 4,
            "unmet_units": [10.0] * 4,
            "cycle_service_level": [1.0] * 4,
            "cycles": [1.0] * 4,
            "days_counted": [100.0] * 4,
            "units_before": [100] * 4,
            "days_before": [100] * 4,
        }
    )
    by_promise = _replay_bench().promise_calibration(series, "fill_rate", split="promise")
    counts = {
        (row["target"], row["promise_vs_target"]): row["series"]
        for row in by_promise.iter_rows(named=True)
    }
    assert counts == {
        (0.9, "-5 to -2"): 2,  # A, and C a ten-billionth below the floor
        (0.9, "-10 to -5"): 1,  # D, a millionth of a point below
        (0.9, "all"): 3,
        (0.95, "-5 to -2"): 1,  # B
        (0.95, "all"): 1,
    }


def test_replay_bench_counts_the_cells_within_two_points_on_both_populations():
    bench = _replay_bench()
    # every series: 0.915 at 0.90 (+1.5) and 0.928 at 0.95 (-2.2) -> 1 of 2; the series
    # selected before the start: 0.920 at 0.90 (+2.0, within) and 0.975 at 0.95 (+2.5)
    summary = pl.DataFrame({"target": [0.9, 0.95], "achieved": [0.915, 0.928]})
    split = pl.DataFrame(
        {
            "selected_by_sales": ["before start", "later", "before start", "later"],
            "target": [0.9, 0.9, 0.95, 0.95],
            "achieved": [0.920, 0.5, 0.975, 0.95],
        }
    )
    assert bench.cells_within(summary) == 1
    assert bench.cells_line(summary, split) == (
        "cells within 2 points of the target: 1 of 2 on every series, 1 of 2 on the series "
        "selected before the start"
    )
