"""Policy behaviours pinned down by surviving mutants of `stockplan/policy.py`.

Expected values come from scipy directly or are worked out by hand in the comments.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import optimize, stats

from stockplan.config import Policy
from stockplan.policy import discrete_quantile, protection_levels


def _series(**overrides: object) -> pl.DataFrame:
    """One smooth series: 10 a day, sigma_d 3, L = 14, R = 7, unit cost 10."""
    row = {
        "forecast_per_day": 10.0,
        "demand_protection": 210.0,
        "sigma_day": 3.0,
        "lead_time_days": 14.0,
        "lead_time_std_days": 0.0,
        "review_days": 7.0,
        "service_level": 0.95,
        "demand_pattern": "smooth",
        "unit_cost": 10.0,
    }
    row.update(overrides)
    return pl.DataFrame([row])


def test_a_poisson_mean_below_one_keeps_its_own_quantile():
    # Poisson(0.5): P(0) = 0.607, P(<= 1) = 0.910, so the 90 % quantile is 1
    # (Poisson(1) would give 2: P(<= 1) = 0.736, P(<= 2) = 0.920)
    quantile = discrete_quantile(np.array([0.9]), np.array([0.5]), np.array([0.5]))
    assert quantile[0] == stats.poisson.ppf(0.9, 0.5) == 1.0


def test_half_again_the_mean_as_variance_is_negative_binomial_not_poisson():
    # mean 2, variance 3.5: NB with n = mean^2 / (var - mean) = 8 / 3, p = mean / var = 4 / 7;
    # its 95 % quantile is 6 where the Poisson(2) one is 5
    quantile = discrete_quantile(np.array([0.95]), np.array([2.0]), np.array([3.5]))
    assert quantile[0] == stats.nbinom.ppf(0.95, 8 / 3, 4 / 7) == 6.0
    assert stats.poisson.ppf(0.95, 2.0) == 5.0


def test_negative_binomial_has_the_mean_and_variance_of_the_lead_time_demand():
    # mean 3, variance 7.5: n = 9 / 4.5 = 2, p = 3 / 7.5 = 0.4 (mean n(1-p)/p = 3,
    # variance n(1-p)/p^2 = 7.5); its 90 % quantile is 7, the Poisson(3) one 5
    quantile = discrete_quantile(np.array([0.9]), np.array([3.0]), np.array([7.5]))
    assert quantile[0] == stats.nbinom.ppf(0.9, 2.0, 0.4) == 7.0


def test_safety_stock_beyond_max_cover_days_is_capped_there_and_says_so():
    # d = 1 a day, sigma_d = 100: sigma_LTD = 100 sqrt(21) = 458.3, z(95 %) = 1.645, so the
    # target needs 753.8 units, 754 days of demand; the cap is 182 days = 182 units
    out = protection_levels(
        _series(forecast_per_day=1.0, demand_protection=21.0, sigma_day=100.0), Policy()
    )
    assert out["safety_stock"][0] == pytest.approx(182.0)
    assert out["reorder_point"][0] == pytest.approx(21.0 + 182.0)
    assert "capped at 182 days" in out["service_note"][0]
    uncapped = protection_levels(_series(), Policy(max_cover_days=30.0))
    assert uncapped["safety_stock"][0] == pytest.approx(1.6449 * 3 * 21**0.5, abs=0.01)
    assert uncapped["service_note"][0] == ""


def test_a_smaller_max_cover_days_caps_lower():
    # uncapped SS = 22.61 (see above); 2 days of 10 a day = 20 units is below it
    out = protection_levels(_series(), Policy(max_cover_days=2.0))
    assert out["safety_stock"][0] == pytest.approx(20.0)
    assert "capped at 2 days" in out["service_note"][0]


def test_lead_time_spread_adds_d_squared_sigma_l_squared_to_the_variance():
    # sigma_LTD = sqrt(21 * 3^2 + 10^2 * 2^2) = sqrt(589) = 24.27; SS = 1.6449 * 24.27 = 39.92
    out = protection_levels(_series(lead_time_std_days=2.0), Policy())
    assert out["sigma_lead_time_demand"][0] == pytest.approx(589**0.5, rel=1e-9)
    assert out["safety_stock"][0] == pytest.approx(1.6449 * 589**0.5, abs=0.01)


def test_fill_rate_without_demand_spread_needs_no_safety_stock():
    out = protection_levels(_series(sigma_day=0.0), Policy(service_measure="fill_rate"))
    assert out["safety_stock"][0] == 0.0
    assert out["order_up_to"][0] == pytest.approx(210.0)


def test_fill_rate_for_min_max_uses_the_eoq_as_order_quantity():
    # EOQ = sqrt(2 * 50 * 3650 / 2.5) = 382.1: G(k) = 0.02 * 382.1 / 13.748 = 0.556 -> k < 0
    # (the order alone serves more than 0.98; Silver, Pyke & Thomas ch. 6): safety stock
    # k sigma below zero, k from scipy's root finder; S = s + EOQ
    out = protection_levels(
        _series(service_level=0.98), Policy(type="ss", service_measure="fill_rate")
    )
    eoq = (2 * 50 * 3650 / 2.5) ** 0.5
    sigma = 3.0 * 21**0.5
    k = optimize.brentq(
        lambda k: stats.norm.pdf(k) - k * stats.norm.sf(k) - 0.02 * eoq / sigma, -4, 6
    )
    assert k < 0
    assert out["order_cycle_qty"][0] == pytest.approx(eoq)
    assert out["safety_stock"][0] == pytest.approx(k * sigma, abs=0.01)
    assert out["order_up_to"][0] == pytest.approx(210.0 + k * sigma + eoq, abs=0.01)


def test_eoq_follows_the_ordering_cost_and_holding_rate_of_the_config():
    # K = 20, h = 0.5 x 10 = 5, D = 3650: EOQ = sqrt(2 * 20 * 3650 / 5) = 170.9 > d R = 70
    out = protection_levels(_series(), Policy(type="sq", ordering_cost=20.0, holding_cost_rate=0.5))
    assert out["eoq"][0] == pytest.approx((2 * 20 * 3650 / 5) ** 0.5)
    assert out["order_up_to"][0] - out["reorder_point"][0] == pytest.approx(170.88, abs=0.01)


def test_min_max_without_a_unit_cost_orders_a_review_periods_demand():
    # no cost, no EOQ: Q = d R = 10 x 7 = 70
    out = protection_levels(_series(unit_cost=None), Policy(type="ss"))
    assert np.isnan(out["eoq"][0])
    assert out["order_cycle_qty"][0] == pytest.approx(70.0)
    assert out["order_up_to"][0] - out["reorder_point"][0] == pytest.approx(70.0)


def test_a_policy_type_column_overrides_the_configured_type_per_row():
    frame = pl.concat([_series(), _series()]).with_columns(pl.Series("policy_type", ["rs", "ss"]))
    out = protection_levels(frame, Policy(type="ss"))
    eoq = (2 * 50 * 3650 / 2.5) ** 0.5
    assert out["order_up_to"][0] == pytest.approx(out["reorder_point"][0])  # rs: S = s
    assert out["order_cycle_qty"][0] == pytest.approx(70.0)  # rs: d R
    assert out["order_up_to"][1] - out["reorder_point"][1] == pytest.approx(eoq)


def test_discrete_patterns_are_labelled_and_follow_the_configured_list():
    # Poisson(2) 95 % quantile 5 -> SS 3 for the discrete row; the smooth row stays normal
    frame = pl.concat(
        [
            _series(),
            _series(
                demand_pattern="lumpy",
                forecast_per_day=2 / 21,
                demand_protection=2.0,
                sigma_day=0.1,
            ),
        ]
    )
    out = protection_levels(frame, Policy())
    assert out["ltd_method"].to_list() == ["normal", "discrete"]
    assert out["safety_stock"][1] == pytest.approx(stats.poisson.ppf(0.95, 2.0) - 2.0)
    normal_only = protection_levels(frame, Policy(discrete_patterns=["intermittent"]))
    assert normal_only["ltd_method"].to_list() == ["normal", "normal"]


def test_fill_rate_keeps_the_normal_loss_for_discrete_patterns():
    # fill rate 98 %, d = 2 a day, sigma_d 1: sigma = sqrt(21) = 4.583, Q = d R = 14;
    # G(k) = 0.02 x 14 / 4.583 = 0.0611 -> k = 1.16 by the standard loss table (not Poisson)
    frame = _series(
        demand_pattern="intermittent",
        forecast_per_day=2.0,
        demand_protection=42.0,
        sigma_day=1.0,
        service_level=0.98,
    )
    out = protection_levels(frame, Policy(service_measure="fill_rate"))
    k = out["safety_stock"][0] / 21**0.5
    assert stats.norm.pdf(k) - k * stats.norm.sf(k) == pytest.approx(0.02 * 14 / 21**0.5, abs=1e-3)


def test_a_discrete_quantile_below_the_mean_gives_no_negative_safety_stock():
    # Poisson(2): the 30 % quantile is 1 (P(<= 0) = 0.135, P(<= 1) = 0.406), below the mean
    # 2, and the median is 2: safety stock 0 in both cases, the reorder point the mean
    for level in (0.3, 0.5):
        frame = _series(
            demand_pattern="intermittent",
            forecast_per_day=2 / 21,
            demand_protection=2.0,
            sigma_day=0.1,
            service_level=level,
        )
        out = protection_levels(frame, Policy())
        assert stats.poisson.ppf(level, 2.0) <= 2.0
        assert out["safety_stock"][0] == 0.0
        assert out["reorder_point"][0] == pytest.approx(2.0)


def test_a_backtest_recalibrated_parametric_level_sets_the_safety_stock():
    # The backtest of erratic and intermittent items achieved 90 % cycle service at the
    # 0.95 quantile level (and 95 % at 0.98): a 90 % target is planned at 0.95.
    # erratic (normal): SS = z(0.95) sigma = 1.6449 x 3 sqrt(21) = 22.61 (z(0.90) would
    # give 17.62); intermittent (Poisson(2)): the 0.95 quantile 5, SS = 3 (0.90: 4, SS 2).
    # The smooth item has no calibration and keeps z(0.90).
    from stockplan.lead_time_demand import CALIBRATION_GRID, LeadTimeDemand

    grid = list(CALIBRATION_GRID)
    assert grid[9] == 0.95 and grid[11] == 0.98
    achieved = np.array(
        [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.90, 0.93, 0.95, 0.97, 0.98, 0.99]
    )
    assert np.all(np.diff(achieved) > 0) and achieved[9] == 0.90
    frame = pl.concat(
        [
            _series(service_level=0.9, demand_pattern="erratic"),
            _series(
                service_level=0.9,
                demand_pattern="intermittent",
                forecast_per_day=2 / 21,
                demand_protection=2.0,
                sigma_day=0.1,
            ),
            _series(service_level=0.9),
        ]
    ).with_columns(pl.Series("sku", ["E", "I", "S"]), pl.lit("W").alias("location"))
    ltd = LeadTimeDemand(
        keys=frame.select("sku", "location"),
        lead=np.full((3, 4), 10.0),
        review=np.full((3, 4), 5.0),
        mean_day=np.array([10.0, 2 / 21, 10.0]),
        days=np.array([364, 364, 364]),
        methods={"erratic": "parametric", "intermittent": "parametric"},
        calibration={p: (achieved, achieved) for p in ("erratic", "intermittent")},
    )
    out = protection_levels(frame, Policy(), lead_time_demand=ltd)
    sigma = 3 * 21**0.5
    assert out["safety_stock"][0] == pytest.approx(stats.norm.ppf(0.95) * sigma, rel=1e-9)
    assert out["safety_stock"][1] == pytest.approx(stats.poisson.ppf(0.95, 2.0) - 2.0)
    assert out["safety_stock"][1] == 3.0
    assert out["safety_stock"][2] == pytest.approx(stats.norm.ppf(0.90) * sigma, rel=1e-9)
    assert out["ltd_method"].to_list() == ["parametric", "parametric", "normal"]
