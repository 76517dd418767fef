"""`simulate.plan_promotions`: the replay lifts each refit's forecast for the promotions of
the promotions table as `plan` does, with the lift measured before the refit only."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from stockplan.config import Config
from stockplan.replay import planned_promotions

ORIGIN = dt.date(2026, 3, 2)  # a Monday


def _days(first: dt.date, count: int) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range(count)]


@pytest.fixture
def promoted():
    """sku A (category x): 10 a day, 15 a day in its past promotion (the week of Feb 16)
    and 30 a day in a promotion after the origin (the week of Mar 9); sku B (category y)
    has a planned promotion the same week and none before."""
    config = Config.model_validate({"inputs": {"sales": "s.csv", "stock": "t.csv"}})
    past = _days(dt.date(2026, 2, 16), 7)
    later = _days(dt.date(2026, 3, 9), 7)
    days = _days(dt.date(2026, 1, 5), 84)
    quantity = [15.0 if d in past else 30.0 if d in later else 10.0 for d in days]
    sales = pl.DataFrame(
        {"date": days * 2, "sku": ["A"] * 84 + ["B"] * 84, "location": "MAIN"}
    ).with_columns(pl.Series("quantity", quantity + [10.0] * 84))
    promotions = pl.DataFrame(
        {
            "category": ["x", "x", "y"],
            "start": [dt.date(2026, 2, 16), dt.date(2026, 3, 9), dt.date(2026, 3, 9)],
            "end": [dt.date(2026, 2, 22), dt.date(2026, 3, 15), dt.date(2026, 3, 15)],
            "uplift": [None, None, None],
        },
        schema_overrides={"uplift": pl.Float64},
    )
    products = pl.DataFrame({"sku": ["A", "B"], "category": ["x", "y"]})
    promo_days = pl.DataFrame(
        {
            "sku": ["A"] * 14 + ["B"] * 7,
            "location": "MAIN",
            "date": past + later + later,
            "reason": "promotion",
        }
    )
    # the promotion-free baseline the plan measures the lift against: 70 a week
    weeks = _days(dt.date(2026, 1, 5), 56)[::7]
    history = pl.DataFrame(
        {
            "sku": ["A"] * 8 + ["B"] * 8,
            "location": "MAIN",
            "period_start": weeks * 2,
            "demand": 70.0,
        }
    )
    forecast = pl.DataFrame(
        {
            "sku": ["A", "A", "B", "B"],
            "location": "MAIN",
            "period_start": [ORIGIN, dt.date(2026, 3, 9)] * 2,
            "forecast": 70.0,
            "lo": 50.0,
            "hi": 90.0,
        }
    )
    tables = {"sales": sales, "promotions": promotions, "products": products}
    return forecast, tables, sales, promo_days, history, config


def test_refit_forecast_takes_the_lift_measured_before_the_refit(promoted):
    forecast, tables, sales, promo_days, history, config = promoted
    out = planned_promotions(forecast, tables, sales, promo_days, history, ORIGIN, config)
    got = {(r["sku"], r["period_start"]): r for r in out.iter_rows(named=True)}
    # A: lift = 7 x 15 / (7 x 70 / 7) - 1 = 105 / 70 - 1 = 0.5 from the past week alone
    # (with the week after the origin it would be (105 + 210) / 140 - 1 = 1.25): the
    # promoted bucket 70 x 1.5 = 105, its band 50 x 1.5 = 75 and 90 x 1.5 = 135
    promoted_week = got[("A", dt.date(2026, 3, 9))]
    assert promoted_week["forecast"] == pytest.approx(105.0)
    assert (promoted_week["lo"], promoted_week["hi"]) == pytest.approx((75.0, 135.0))
    assert got[("A", ORIGIN)]["forecast"] == pytest.approx(70.0)
    # B never ran a promotion before the origin: promotions.default_uplift, 70 x 1.3 = 91
    assert got[("B", dt.date(2026, 3, 9))]["forecast"] == pytest.approx(91.0)
    assert out.columns == forecast.columns


def test_without_a_promotions_table_the_refit_forecast_is_unchanged(promoted):
    forecast, tables, sales, promo_days, history, config = promoted
    out = planned_promotions(forecast, {"sales": sales}, sales, promo_days, history, ORIGIN, config)
    assert out.equals(forecast)


def test_plan_promotions_is_off_by_default_and_a_documented_key():
    config = Config.model_validate({"inputs": {"sales": "s.csv", "stock": "t.csv"}})
    assert config.simulate.plan_promotions is False
    on = Config.model_validate(
        {"inputs": {"sales": "s.csv", "stock": "t.csv"}, "simulate": {"plan_promotions": True}}
    )
    assert on.simulate.plan_promotions is True


def test_replayed_levels_plan_a_promotion_only_when_plan_promotions_is_set():
    from stockplan.replay import prepare_replay

    # 1 a day for 78 weeks; a promotion with its own uplift 0.5 the second replayed week
    start = dt.date(2025, 1, 6)  # a Monday: weekly buckets start here
    days = [start - dt.timedelta(days=70 * 7) + dt.timedelta(days=i) for i in range(78 * 7)]
    sales = pl.DataFrame({"date": days, "sku": "A", "location": "W", "quantity": 1.0})
    week = start + dt.timedelta(weeks=1)
    tables = {
        "sales": sales,
        "stock": pl.DataFrame({"sku": ["A"], "location": ["W"], "on_hand": [0.0]}),
        "products": pl.DataFrame({"sku": ["A"], "unit_cost": [1.0], "lead_time_days": [14.0]}),
        "promotions": pl.DataFrame(
            {"sku": ["A"], "start": [week], "end": [week + dt.timedelta(days=6)], "uplift": [0.5]}
        ),
    }
    settings = {
        "inputs": {"sales": "s.csv", "stock": "k.csv"},
        "planning": {"as_of": start + dt.timedelta(weeks=8)},
        "calendars": {"public_holidays": "none"},
        "policy": {"lead_time_demand": "parametric"},
    }
    replay = {"periods": 8, "refit_every": 8, "level_alpha": 0.0}
    off = Config.model_validate(settings | {"simulate": replay})
    on = Config.model_validate(settings | {"simulate": replay | {"plan_promotions": True}})
    ignored = [f["demand_protection"][0] for f in prepare_replay(tables, off).levels]
    planned = [f["demand_protection"][0] for f in prepare_replay(tables, on).levels]
    # L + R = 21 days, three weekly buckets of 7 from each review's week on: reviews 0 and
    # 1 hold the promoted week, 7 x 1.5 = 10.5, so 7 + 10.5 + 7 = 24.5; the others 21
    assert ignored == pytest.approx([21.0] * 8)
    assert planned == pytest.approx([24.5, 24.5] + [21.0] * 6)
