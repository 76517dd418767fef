"""Lead-time-demand calibration with series the classifier left without a pattern."""

import datetime as dt

import numpy as np
import polars as pl

from stockplan.config import Policy
from stockplan.lead_time_demand import history_lead_time_demand


def test_a_series_without_a_demand_pattern_is_calibrated_as_not_discrete():
    # two series selling 2 a day for 400 days, lead time 14 days, weekly review; B has no
    # demand pattern (null). Both draw lead-time demand T = 2 x (14 + 7) = 42 every time:
    # the calibration runs (a null pattern is not in policy.discrete_patterns, A's is) and B's
    # draws are the same as A's.
    as_of = dt.date(2025, 3, 1)
    days = [as_of - dt.timedelta(days=d) for d in range(1, 401)]
    sales = pl.DataFrame(
        {
            "sku": ["A"] * 400 + ["B"] * 400,
            "location": "W",
            "date": days + days,
            "quantity": 2.0,
        }
    )
    lead_times = pl.DataFrame(
        {
            "sku": ["A", "B"],
            "location": ["W", "W"],
            "lead_time_days": [14.0, 14.0],
            "lead_time_std_days": [0.0, 0.0],
            "demand_pattern": ["smooth", None],
        }
    )
    # the forecast summary gives a spread (0 here), so the parametric method is scored
    # too, with A's smooth series flagged discrete
    summary = pl.DataFrame({"sku": ["A", "B"], "location": ["W", "W"], "sigma_e": [0.0, 0.0]})
    settings = Policy(discrete_patterns=["smooth"])
    ltd = history_lead_time_demand(sales, lead_times, as_of, None, 7.0, settings, summary)
    total = ltd.lead + ltd.review
    assert np.allclose(total, 42.0)
