"""Policy maths against textbook numbers."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from stockplan.config import Policy
from stockplan.policy import (
    conformal_factor,
    discrete_quantile,
    economic_order_quantity,
    inverse_normal_loss,
    lead_time_demand_sigma,
    normal_loss,
    protection_levels,
    round_order_quantity,
    z_value,
)


def test_safety_stock_with_lead_time_variability():
    # d = 50/day, sigma_d = 5, L = 6 days, sigma_L = 2 days, CSL 90 %:
    # sigma_DL = sqrt(6 * 25 + 50^2 * 4) = sqrt(10150) = 100.75; SS = 1.2816 * 100.75 = 129.1
    sigma = lead_time_demand_sigma(
        np.array([5.0]), np.array([50.0]), np.array([6.0]), np.array([2.0])
    )
    assert sigma[0] == pytest.approx(100.75, abs=0.01)
    assert z_value(0.90) == pytest.approx(1.2816, abs=1e-4)  # standard normal table
    assert (1.2816 * sigma)[0] == pytest.approx(129.1, abs=0.1)


def test_safety_stock_and_reorder_point_continuous_review():
    # Weekly D = 2500, sigma = 500, L = 2 weeks, CSL 0.90: SS = 1.2816 * 500 * sqrt(2) = 906,
    # ROP = 2 * 2500 + 906 = 5906 (Snyder & Shen, Fundamentals of Supply Chain Theory, 4.3).
    sigma = lead_time_demand_sigma(
        np.array([500.0]), np.array([2500.0]), np.array([2.0]), np.array([0.0])
    )
    safety = 1.2816 * sigma  # z for 90 % from the standard normal table
    assert safety[0] == pytest.approx(906.2, abs=0.5)
    assert (2 * 2500 + safety)[0] == pytest.approx(5906, abs=0.5)


def test_economic_order_quantity_textbook():
    # K = 8, h = 0.225, D = 1300 -> Q* = sqrt(2 * 8 * 1300 / 0.225) = 304.05 (Snyder & Shen ex. 3.1)
    q = economic_order_quantity(np.array([1300.0]), 8.0, 0.225, np.array([1.0]))
    assert q[0] == pytest.approx(304.05, abs=0.01)
    assert np.isnan(economic_order_quantity(np.array([1300.0]), 8.0, 0.225, np.array([np.nan]))[0])


def test_normal_loss_and_its_inverse():
    # Standard table: G(0) = 0.3989, G(1) = 0.0833, G(2) = 0.0085
    assert normal_loss(0.0) == pytest.approx(0.3989, abs=1e-4)
    assert normal_loss(1.0) == pytest.approx(0.0833, abs=1e-4)
    assert inverse_normal_loss(0.0833) == pytest.approx(1.0, abs=2e-3)
    assert inverse_normal_loss(0.0085) == pytest.approx(2.0, abs=5e-3)


def test_discrete_quantiles():
    # Poisson(2): P(D<=3) = 0.857, P(D<=4) = 0.947, so the 90 % quantile is 4.
    assert discrete_quantile(np.array([0.9]), np.array([2.0]), np.array([2.0]))[0] == 4
    # Over-dispersed: negative binomial with the same mean has a heavier tail.
    assert discrete_quantile(np.array([0.9]), np.array([2.0]), np.array([8.0]))[0] > 4


def _series(**overrides: object) -> pl.DataFrame:
    row = {
        "forecast_per_day": 10.0,
        "demand_protection": 210.0,  # 10 / day over L + R = 14 + 7
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


def test_periodic_review_order_up_to_level():
    # sigma_LTD = 3 * sqrt(21) = 13.748; SS = 1.6449 * 13.748 = 22.61; S = 210 + 22.61
    out = protection_levels(_series(), Policy())
    assert out["sigma_lead_time_demand"][0] == pytest.approx(3 * 21**0.5, rel=1e-6)
    assert out["safety_stock"][0] == pytest.approx(22.61, abs=0.01)
    assert out["order_up_to"][0] == pytest.approx(232.61, abs=0.01)
    assert out["reorder_point"][0] == pytest.approx(232.61, abs=0.01)  # rs: s = S


def test_a_series_without_a_demand_pattern_gets_the_normal_safety_stock():
    # a null pattern (a series the classifier could not place) is not a discrete pattern:
    # the same 1.6449 * 3 * sqrt(21) = 22.61 as a smooth series, never an error
    # (beside an intermittent series, so the discrete quantiles are computed at all)
    frame = pl.concat(
        [
            _series(),
            _series().with_columns(pl.lit(None, pl.String).alias("demand_pattern")),
            _series(demand_pattern="intermittent"),
        ]
    )
    out = protection_levels(frame, Policy(discrete_patterns=["intermittent", "lumpy"]))
    assert out["safety_stock"].to_list()[:2] == pytest.approx([22.61, 22.61], abs=0.01)
    assert out["ltd_method"].to_list() == ["normal", "normal", "discrete"]


def test_fill_rate_safety_stock_solves_normal_loss():
    # beta = 0.98, Q = d R = 70, sigma = 13.748: G(k) = 0.02 * 70 / 13.748 = 0.1018 -> k = 0.89
    out = protection_levels(_series(service_level=0.98), Policy(service_measure="fill_rate"))
    sigma = 3 * 21**0.5
    k = out["safety_stock"][0] / sigma
    loss = stats.norm.pdf(k) - k * stats.norm.sf(k)  # G(k) = phi(k) - k (1 - Phi(k))
    assert loss == pytest.approx(0.02 * 70 / sigma, abs=1e-3)
    assert k == pytest.approx(0.89, abs=0.01)


def test_min_max_adds_order_cycle_above_reorder_point():
    # EOQ = sqrt(2 * 50 * 3650 / (0.25 * 10)) = 382.1 > d R = 70
    out = protection_levels(_series(), Policy(type="ss"))
    assert out["eoq"][0] == pytest.approx((2 * 50 * 3650 / 2.5) ** 0.5, rel=1e-6)
    assert out["order_up_to"][0] - out["reorder_point"][0] == pytest.approx(382.1, abs=0.1)


def test_intermittent_items_use_discrete_quantile():
    # mean 2 over L + R with sigma^2 <= mean: Poisson(2) 95 % quantile is 5, so SS = 3
    frame = _series(
        demand_pattern="intermittent", forecast_per_day=2 / 21, demand_protection=2.0, sigma_day=0.1
    )
    out = protection_levels(frame, Policy())
    assert out["safety_stock"][0] == pytest.approx(3.0)
    assert out["order_up_to"][0] == pytest.approx(5.0)


def test_no_demand_means_no_safety_stock():
    out = protection_levels(_series(forecast_per_day=0.0, demand_protection=0.0), Policy())
    assert out["safety_stock"][0] == 0.0


@pytest.mark.parametrize(
    ("raw", "moq", "pack", "max_order", "expected"),
    [
        (7.7, None, 24, None, 24),  # one pack
        (130, 100, 12, None, 132),  # 130 -> 11 packs of 12
        (50, 100, 12, None, 108),  # MOQ 100 -> 9 packs of 12
        (500, None, 12, 100, 96),  # capped at the largest pack multiple <= 100
        (50, 100, 12, 107, 0),  # MOQ 100 is 108 in packs of 12, above max 107: no order
        (5, None, 12, 10, 0),  # one pack is above the max
        (0, 100, 12, None, 0),  # no need, no order even with an MOQ
        (-5, None, None, None, 0),
        (3.2, None, None, None, 3),  # whole units, half up
        (3.5, None, None, None, 4),
        (0.4, None, 24, None, 0),  # less than half a unit short: no order line
        (0.6, 100, 12, None, 108),
    ],
)
def test_order_rounding(raw, moq, pack, max_order, expected):
    frame = pl.DataFrame(
        {"raw": [float(raw)], "moq": [moq], "pack": [pack], "max": [max_order]},
        schema={"raw": pl.Float64, "moq": pl.Float64, "pack": pl.Float64, "max": pl.Float64},
    )
    out = frame.select(
        round_order_quantity(pl.col("raw"), pl.col("moq"), pl.col("pack"), pl.col("max"))
    )
    assert out.item() == expected


def test_conformal_factor_is_the_finite_sample_quantile():
    # 99 scores 0.1 .. 9.9, alpha 0.9: level ceil(100 x 0.9) / 99 = 90 / 99; numpy's
    # "higher" quantile at 0.909 of 99 sorted values is the 91st: 9.1
    scores = np.arange(1, 100) / 10
    assert conformal_factor(scores, np.array([0.9]))[0] == pytest.approx(9.1)
    # never above the largest score, even for alpha close to 1
    assert conformal_factor(scores, np.array([0.999]))[0] == pytest.approx(9.9)


def test_conformal_safety_stock_uses_the_pattern_scores():
    frame = _series(service_level=0.9)
    scores = {"smooth": np.arange(1, 100) / 10, "erratic": np.zeros(5)}
    sigma = 3 * 21**0.5
    normal = protection_levels(frame, Policy(), scores)  # quantile_method normal: ignored
    assert normal["safety_stock"][0] == pytest.approx(stats.norm.ppf(0.9) * sigma)
    conformal = protection_levels(frame, Policy(quantile_method="conformal"), scores)
    assert conformal["safety_stock"][0] == pytest.approx(9.1 * sigma)
    # too few scores for the pattern (5 < 20): back to the normal quantile
    erratic = protection_levels(
        _series(service_level=0.9, demand_pattern="erratic"),
        Policy(quantile_method="conformal"),
        scores,
    )
    assert erratic["safety_stock"][0] == pytest.approx(stats.norm.ppf(0.9) * sigma)
