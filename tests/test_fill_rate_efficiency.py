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


def test_lost_sales_path_runs_short_while_a_late_order_is_on_its_way():
    from stockplan.lead_time_demand import _lost_sales_path

    # 2 a day, R = 7, L = 14, S = 35 at reviews 0 and 1 after the origin (day 28), as in
    # tests/test_replenishment_cycles.py: review 0's period (days 42-48) is 7 short, review
    # 1's (days 49-55) is covered exactly by the 14 ordered on day 35, due on day 49. If
    # that order takes 16 days it arrives on day 51: days 49 and 50 lose 2 each (4 short),
    # and the 14 then cover days 51-57.
    demand = np.full((1, 60), 2.0)
    stocks = [np.array([[35.0]]), np.array([[35.0]])]
    on_time, short_on_time = _lost_sales_path(demand, 28, stocks, np.array([14]), 7)
    late, short_late = _lost_sales_path(
        demand, 28, stocks, np.array([14]), 7, order_lead=np.array([[14, 16]])
    )
    assert on_time[:, 0, 0].tolist() == [True, False]
    assert short_on_time[:, 0, 0].tolist() == [7.0, 0.0]
    assert late[:, 0, 0].tolist() == [True, True]
    assert short_late[:, 0, 0].tolist() == [7.0, 4.0]


def test_scored_lead_times_vary_as_the_replay_draws_them():
    from stockplan.lead_time_demand import _lead_time_draws, scored_lead_times
    from stockplan.random_streams import substreams

    streams = np.array([11, 12, 13], dtype=np.uint64)
    fixed = scored_lead_times(
        streams, 700, np.array([14, 0, 5]), np.array([14.0, 0.0, 5.0]), np.zeros(3), 4
    )
    assert fixed.tolist() == [[14] * 4, [0] * 4, [5] * 4]  # sigma_L = 0: the mean, as before
    drawn = scored_lead_times(
        streams[:1], 700, np.array([14]), np.array([14.0]), np.array([3.0]), 20_000
    )
    # round(Normal(14, 3)), at least 1: mean 14, variance 9 + 1/12 (rounding)
    assert drawn.min() >= 1
    assert drawn.mean() == pytest.approx(14.0, abs=0.1)
    assert drawn.std() == pytest.approx((9 + 1 / 12) ** 0.5, abs=0.1)
    again = scored_lead_times(streams[:1], 700, [14], [14.0], [3.0], 20_000)
    np.testing.assert_array_equal(drawn, again)  # the series' own stream: reproducible
    # not the lead times its bootstrap draws take at the same origin
    draws = _lead_time_draws(substreams(streams[:1], 700), [14.0], [3.0], 20_000)
    assert (drawn != draws).mean() > 0.5


def test_backtest_scores_the_levels_against_lead_times_that_vary():
    import datetime as dt

    from stockplan.lead_time_demand import CALIBRATION_GRID, backtest_calibration

    # 2,000 series selling exactly 2 a day, forecast 2 a day with no error, L = 14 days
    # with sigma_L = 3, R = 7: sigma_LTD = d sigma_L = 6 and S = 42 + 6 z at quantile level
    # q. An order that takes L' days leaves T = 2 (L' + 7) to cover: S covers it when L' <=
    # 14 + 3 z, L' = round(Normal(14, 3)): P = Phi((floor(14 + 3 z) + 0.5 - 14) / 3).
    # q = 0.3 (z = -0.524): L' <= 12, Phi(-0.5) = 0.309; q = 0.5: L' <= 14, Phi(1 / 6) =
    # 0.566; q = 0.9 (z = 1.282): L' <= 17, Phi(3.5 / 3) = 0.878. Scored at L = 14 alone,
    # T = 42 <= S at every level from 0.5 up: the backtest would take the protection back.
    first, n = dt.date(2024, 1, 1), 2000
    keys = pl.DataFrame(
        {"sku": [str(i) for i in range(n)], "location": ["W"] * n, "demand_pattern": ["smooth"] * n}
    )
    windows = pl.DataFrame(
        {
            "sku": [str(i) for i in range(n)],
            "location": ["W"] * n,
            "origin": [first + dt.timedelta(days=400)] * n,
            "rate_per_day": [2.0] * n,
        }
    )
    args = (keys, np.full((n, 450), 2.0), first, windows, np.full(n, 14.0))
    varied, _ = backtest_calibration(*args, np.full(n, 3.0), 7, 364, sigma_day=np.zeros(n))
    cycle = dict(zip(CALIBRATION_GRID, varied["parametric"]["smooth"][0], strict=True))
    expected = {0.3: stats.norm.cdf(-0.5), 0.5: stats.norm.cdf(1 / 6), 0.9: stats.norm.cdf(3.5 / 3)}
    for level, share in expected.items():
        assert cycle[level] == pytest.approx(share, abs=0.035)
    steady, _ = backtest_calibration(*args, np.zeros(n), 7, 364, sigma_day=np.zeros(n))
    assert steady["parametric"]["smooth"][0][CALIBRATION_GRID >= 0.5].min() == 1.0
