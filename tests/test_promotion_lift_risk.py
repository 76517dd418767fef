"""Promotion lift risk: a lift neither given nor measured is planned from the categories
measured (`promotions.unmeasured_uplift: pooled`) and its error raises safety stock
(`promotions.lift_risk`); a catalogue without promotions plans exactly as before."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from stockplan.config import Config, Promotions
from stockplan.promotions import (
    LIFT_RISK,
    lift_risk_stock,
    unmeasured_lift_error,
    unmeasured_uplift,
)
from stockplan.replay import planned_promotions

ORIGIN = dt.date(2026, 3, 2)  # a Monday
LATER = dt.date(2026, 3, 9)
BASE = {"inputs": {"sales": "s.csv", "stock": "t.csv"}}


def _days(first: dt.date, count: int) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range(count)]


def _config(**promotions) -> Config:
    return Config.model_validate(
        BASE | {"promotions": promotions, "simulate": {"plan_promotions": True}}
    )


@pytest.fixture
def two_promotions():
    """sku A (category x) sells 10 a day, 15 a day in its first promotion (the week of
    Feb 16) and has a second one after the origin (the week of Mar 9); sku B (category y)
    has its category's first promotion the same week."""
    past = _days(dt.date(2026, 2, 16), 7)
    days = _days(dt.date(2026, 1, 5), 56)
    sales = pl.DataFrame(
        {"date": days * 2, "sku": ["A"] * 56 + ["B"] * 56, "location": "MAIN"}
    ).with_columns(pl.Series("quantity", [15.0 if d in past else 10.0 for d in days] + [10.0] * 56))
    promotions = pl.DataFrame(
        {
            "category": ["x", "x", "y"],
            "start": [dt.date(2026, 2, 16), LATER, LATER],
            "end": [dt.date(2026, 2, 22), dt.date(2026, 3, 15), dt.date(2026, 3, 15)],
            "uplift": [None, None, None],
        },
        schema_overrides={"uplift": pl.Float64},
    )
    products = pl.DataFrame({"sku": ["A", "B"], "category": ["x", "y"]})
    promo_days = pl.DataFrame({"sku": "A", "location": "MAIN", "date": past, "reason": "promotion"})
    weeks = days[::7]  # the promotion-free baseline: 70 a week
    history = pl.DataFrame(
        {"sku": ["A"] * 8 + ["B"] * 8, "location": "MAIN", "period_start": weeks * 2}
    ).with_columns(pl.lit(70.0).alias("demand"))
    forecast = pl.DataFrame(
        {
            "sku": ["A", "A", "B", "B"],
            "location": "MAIN",
            "period_start": [ORIGIN, LATER] * 2,
            "forecast": 70.0,
            "lo": 50.0,
            "hi": 90.0,
        }
    )
    tables = {"sales": sales, "promotions": promotions, "products": products}
    return forecast, tables, sales, promo_days, history


def _by_key(frame: pl.DataFrame) -> dict:
    return {(r["sku"], r["period_start"]): r for r in frame.iter_rows(named=True)}


def test_second_promotion_takes_the_first_ones_measured_lift_and_no_lift_risk(two_promotions):
    forecast, tables, sales, promo_days, history = two_promotions
    out = planned_promotions(
        forecast, tables, sales, promo_days, history, ORIGIN, _config(lift_risk=True)
    )
    got = _by_key(out)
    # A's first promotion: 7 x 15 = 105 units on a baseline of 70: lift 105 / 70 - 1 = 0.5,
    # used for its second: 70 x 1.5 = 105, measured, so taken as exact (no lift risk)
    assert got[("A", LATER)]["forecast"] == pytest.approx(105.0)
    assert got[("A", LATER)][LIFT_RISK] == 0.0
    # B: its category's first promotion, default 0.3: 70 x 1.3 = 91; the lift's error
    # sqrt((0.3^2 + (0.5 - 0.3)^2) / 2) (category x measured 0.5, the default as one prior
    # observation) over its 7 days of the 7-day bucket: 70 x 0.254951 = 17.8466
    assert got[("B", LATER)]["forecast"] == pytest.approx(91.0)
    assert got[("B", LATER)][LIFT_RISK] == pytest.approx(70.0 * math.sqrt(0.13 / 2))
    assert got[("B", ORIGIN)][LIFT_RISK] == 0.0 and got[("A", ORIGIN)][LIFT_RISK] == 0.0


def test_pooled_unmeasured_uplift_plans_a_first_promotion_like_the_measured_categories(
    two_promotions,
):
    forecast, tables, sales, promo_days, history = two_promotions
    config = _config(lift_risk=True, unmeasured_uplift="pooled")
    got = _by_key(planned_promotions(forecast, tables, sales, promo_days, history, ORIGIN, config))
    # (0.3 + 0.5) / 2 = 0.4: 70 x 1.4 = 98; error sqrt((0.3^2 + (0.5 - 0.4)^2) / 2) = 0.223607
    assert got[("B", LATER)]["forecast"] == pytest.approx(98.0)
    assert got[("B", LATER)][LIFT_RISK] == pytest.approx(70.0 * math.sqrt(0.05))
    assert got[("A", LATER)]["forecast"] == pytest.approx(105.0)  # measured: unchanged


def test_keys_off_leave_the_planned_forecast_as_before(two_promotions):
    forecast, tables, sales, promo_days, history = two_promotions
    out = planned_promotions(forecast, tables, sales, promo_days, history, ORIGIN, _config())
    assert out.columns == forecast.columns
    assert _by_key(out)[("B", LATER)]["forecast"] == pytest.approx(91.0)


def test_unmeasured_lift_and_its_error_by_hand():
    uplift = pl.DataFrame(
        {"sku": ["P", "Q", "R"], "location": "MAIN", "measured_uplift": [0.5, 0.7, 1.2]}
    )
    products = pl.DataFrame({"sku": ["P", "Q", "R", "S"], "category": ["x", "x", "y", "z"]})
    # categories x: (0.5 + 0.7) / 2 = 0.6 and y: 1.2; z never promoted
    default = Promotions()
    assert unmeasured_uplift(uplift, products, default) == 0.3
    # sqrt((0.09 + (0.6 - 0.3)^2 + (1.2 - 0.3)^2) / 3) = sqrt(0.99 / 3)
    assert unmeasured_lift_error(uplift, products, default) == pytest.approx(math.sqrt(0.33))
    pooled = Promotions(unmeasured_uplift="pooled")
    # (0.3 + 0.6 + 1.2) / 3 = 0.7; sqrt((0.09 + 0.1^2 + 0.5^2) / 3) = sqrt(0.35 / 3)
    assert unmeasured_uplift(uplift, products, pooled) == pytest.approx(0.7)
    assert unmeasured_lift_error(uplift, products, pooled) == pytest.approx(math.sqrt(0.35 / 3))
    # nothing measured: the default and, for its error, the default itself
    empty = uplift.clear()
    assert unmeasured_uplift(empty, products, pooled) == 0.3
    assert unmeasured_lift_error(empty, products, pooled) == pytest.approx(0.3)


def test_lift_risk_stock_adds_the_errors_in_quadrature_at_the_targets_z():
    z95, z90 = stats.norm.ppf(0.95), stats.norm.ppf(0.90)
    got = lift_risk_stock(
        np.array([10.0, -5.0, 10.0, 10.0]),
        np.array([8.0, 4.0, 8.0, 0.0]),
        np.array([0.95, 0.90, 0.95, 0.95]),
        np.array([100.0, 100.0, 12.0, 100.0]),
    )
    # 10 and 1.6449 x 8 = 13.159 in quadrature: sqrt(100 + 173.16) = 16.528
    assert got[0] == pytest.approx(math.hypot(10.0, z95 * 8.0))
    # a negative safety stock (fill rate) takes the lift's z r on top: -5 + 1.2816 x 4
    assert got[1] == pytest.approx(-5.0 + z90 * 4.0)
    assert got[2] == 12.0  # not above the cover cap
    assert got[3] == 10.0  # no lift risk: unchanged


def _replay_tables(promoted: bool, uplift: float | None = None) -> dict[str, pl.DataFrame]:
    """1 a day for 78 weeks; with `promoted` a promotion (uplift `uplift`) in the second
    replayed week."""
    start = dt.date(2025, 1, 6)
    days = [start - dt.timedelta(days=70 * 7) + dt.timedelta(days=i) for i in range(78 * 7)]
    week = start + dt.timedelta(weeks=1)
    tables = {
        "sales": pl.DataFrame({"date": days, "sku": "A", "location": "W", "quantity": 1.0}),
        "stock": pl.DataFrame({"sku": ["A"], "location": ["W"], "on_hand": [0.0]}),
        "products": pl.DataFrame({"sku": ["A"], "unit_cost": [1.0], "lead_time_days": [14.0]}),
    }
    if promoted:
        tables["promotions"] = pl.DataFrame(
            {"sku": ["A"], "start": [week], "end": [week + dt.timedelta(days=6)]}
        ).with_columns(pl.lit(uplift, pl.Float64).alias("uplift"))
    return tables


def _replay_config(promotions: dict, measure: str = "cycle") -> Config:
    return Config.model_validate(
        {
            "inputs": {"sales": "s.csv", "stock": "k.csv"},
            "planning": {"as_of": dt.date(2025, 3, 3)},
            "calendars": {"public_holidays": "none"},
            "policy": {"lead_time_demand": "parametric", "service_measure": measure},
            "promotions": promotions,
            "simulate": {
                "periods": 8,
                "refit_every": 8,
                "level_alpha": 0.0,
                "plan_promotions": True,
            },
        }
    )


def test_replayed_levels_carry_the_lift_risk_and_raise_the_order_up_to_level():
    from stockplan.replay import policy_at_target, prepare_replay, review_orders

    tables = _replay_tables(promoted=True)  # no uplift given, no past promotion
    exact = _replay_config({})
    risky = _replay_config({"lift_risk": True})
    off, on = prepare_replay(tables, exact), prepare_replay(tables, risky)
    # L + R = 21 days: reviews 0 and 1 hold the promoted week, 7 x 1.3 = 9.1 units, so
    # 7 + 9.1 + 7 = 23.1; its lift's error, the default 0.3 (no category measured), is
    # 7 x 0.3 = 2.1 units
    assert [f["demand_protection"][0] for f in on.levels] == pytest.approx([23.1] * 2 + [21.0] * 6)
    assert [f[LIFT_RISK][0] for f in on.levels] == pytest.approx([2.1] * 2 + [0.0] * 6)
    assert all(LIFT_RISK not in f.columns for f in off.levels)
    position = np.zeros(1)
    for target in (0.90, 0.98):
        policy = policy_at_target(risky, target)
        before = review_orders(off, policy, exact, 0, 0, position).row(0, named=True)
        after = review_orders(on, policy, risky, 0, 0, position).row(0, named=True)
        z = stats.norm.ppf(target)
        safety = before["safety_stock"]
        raised = safety + math.sqrt(max(safety, 0.0) ** 2 + (z * 2.1) ** 2) - max(safety, 0.0)
        assert after["safety_stock"] == pytest.approx(raised)
        assert after["order_up_to"] - before["order_up_to"] == pytest.approx(raised - safety)
        assert after["order_up_to"] > before["order_up_to"]
        # the review without a promotion in its window plans as before
        later = review_orders(on, policy, risky, 4, 28, position).row(0, named=True)
        same = review_orders(off, policy, exact, 4, 28, position).row(0, named=True)
        assert later["order_up_to"] == same["order_up_to"]


def test_a_catalogue_without_promotions_plans_exactly_as_before():
    import stockplan
    from stockplan.replay import policy_at_target, prepare_replay, review_orders

    tables = _replay_tables(promoted=False)
    keys = {"lift_risk": True, "unmeasured_uplift": "pooled"}
    before, after = _replay_config({}), _replay_config(keys)
    off, on = prepare_replay(tables, before), prepare_replay(tables, after)
    for a, b in zip(off.levels, on.levels, strict=True):
        assert a.equals(b)
    for target in (0.90, 0.98):
        policy = policy_at_target(after, target)
        for review in range(8):
            first = review_orders(off, policy, before, review, 7 * review, np.zeros(1))
            assert first.equals(review_orders(on, policy, after, review, 7 * review, np.zeros(1)))
    plain = stockplan.plan(tables, _replay_config({}, "fill_rate")).orders
    keyed = stockplan.plan(tables, _replay_config(keys, "fill_rate")).orders
    assert plain.equals(keyed)


def test_plan_raises_the_order_up_to_level_by_the_lift_risk_of_a_planned_promotion():
    import stockplan

    tables = _replay_tables(promoted=True)  # promoted the week after 2025-01-06
    settings = _replay_config({}, "fill_rate").model_dump(exclude_unset=True)
    settings["planning"] = {"as_of": dt.date(2025, 1, 6)}
    exact = Config.model_validate(settings)
    risky = Config.model_validate(settings | {"promotions": {"lift_risk": True}})
    before = stockplan.plan(tables, exact).orders.row(0, named=True)
    after = stockplan.plan(tables, risky).orders.row(0, named=True)
    # the promoted week lies in L + R = 21 days from as_of: 7 x 0.3 = 2.1 units of lift
    # error at the item's target (fill rate, class A: 0.98 in the default service levels)
    z = stats.norm.ppf(before["service_level"])
    safety = before["safety_stock"]
    raised = safety + math.sqrt(max(safety, 0.0) ** 2 + (z * 2.1) ** 2) - max(safety, 0.0)
    assert after["safety_stock"] == pytest.approx(raised)
    assert after["order_up_to"] - before["order_up_to"] == pytest.approx(raised - safety)
