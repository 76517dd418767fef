"""A plan run every week recalibrates on every week of its history
(`policy.calibrate_every_review`), not on the one week in four after each origin."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from stockplan.config import Policy
from stockplan.lead_time_demand import PATTERN_KEYS, lead_time_demand_sums

AS_OF = dt.date(2024, 12, 30)
FIRST = AS_OF - dt.timedelta(days=364)  # day 0 of the calibration's daily history
SPIKE = 330  # the one 100-unit day, in days from FIRST


def _sales() -> pl.DataFrame:
    """One item selling 1 a day from a week before FIRST to a week after AS_OF, and 101 on
    day SPIKE."""
    days = np.arange(-7, 372)
    return pl.DataFrame(
        {
            "date": [FIRST + dt.timedelta(days=int(d)) for d in days],
            "sku": ["A"] * days.size,
            "location": ["W"] * days.size,
            "quantity": np.where(days == SPIKE, 101.0, 1.0),
        }
    )


def one_erratic_lead_time() -> pl.DataFrame:
    """Series A at W, erratic, with a fixed lead time of 14 days."""
    return pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["W"],
            "lead_time_days": [14.0],
            "lead_time_std_days": [0.0],
            "demand_pattern": ["erratic"],
        }
    )


def _scored(as_of: dt.date, every_review: bool, forecast_age_days: int = 0) -> tuple[float, float]:
    """(review periods scored, units of review-period demand scored) by the calibration."""
    settings = Policy(calibrate_every_review=every_review)
    pending = lead_time_demand_sums(
        _sales(),
        one_erratic_lead_time(),
        as_of,
        None,
        7,
        settings,
        forecast_age_days=forecast_age_days,
    )
    table = pending.sums["block"]  # [half, measure, level, pattern]: the bootstrap
    erratic = PATTERN_KEYS.index("erratic")
    both = table[0] + table[1]  # the two halves of the origins hold every window once
    return float(both[0, 0, erratic]), float(both[2, 0, erratic])


def test_a_weekly_plan_scores_every_week_between_calibration_origins():
    # L = 14, R = 7, 364 days of history: origins every 4 R = 28 days back from the end,
    # days 336, 308, ..., 28 (12; each needs 28 measured days before it). A fresh plan
    # (age 0) scores the review period [o + 14, o + 21) of each: 12 periods of 7 units.
    # Every review up to the next origin (ages 0, 7, 14, 21) adds the periods
    # [o + 14 + a, o + 21 + a) that end by day 364: 4 each, 2 for origin 336 (357, 364
    # end; 371, 378 do not): 11 x 4 + 2 = 46, every week from day 42 to day 364.
    # The 100 extra units of day 330 fall in [329, 336) = origin 308 at age 7.
    assert _scored(AS_OF, every_review=False) == (12.0, 12 * 7.0)
    assert _scored(AS_OF, every_review=True) == (46.0, 46 * 7.0 + 100.0)


def test_which_weeks_a_fresh_plan_scores_depends_on_its_planning_date_unless_every_review():
    # A week later the origins move with the planning date: the age-0 periods start at
    # day 350 - 28 k + 7 of the first date's days, and [329, 336) is one of them (k = 1):
    # the spike is scored by one plan and not by the next, so their levels differ by
    # what the week sampled held. Scored at every review, both plans see it.
    later = AS_OF + dt.timedelta(days=7)
    assert _scored(AS_OF, every_review=False)[1] == 12 * 7.0
    assert _scored(later, every_review=False)[1] == 12 * 7.0 + 100.0
    assert _scored(AS_OF, every_review=True)[1] == 46 * 7.0 + 100.0
    assert _scored(later, every_review=True)[1] == 46 * 7.0 + 100.0


def test_levels_kept_for_a_quarter_are_scored_as_before_with_every_review():
    # a forecast kept 13 weeks (simulate's default refit) already scores ages 0 .. 12 R,
    # which covers every week between origins: the setting changes nothing there
    aged = 12 * 7
    assert _scored(AS_OF, every_review=True, forecast_age_days=aged) == _scored(
        AS_OF, every_review=False, forecast_age_days=aged
    )
