"""The backtest's lost-sales path with the orders `simulate` places
(`policy.calibrate_lost_sales: replayed`): each order after its own drawn lead time and
rounded to packs and MOQ as the plan rounds it."""

from __future__ import annotations

import numpy as np
import pytest
from calibration_windows import one_origin_windows

from stockplan.config import Policy
from stockplan.lead_time_demand import (
    _lead_time_draws,
    _lost_sales_path,
    lost_sales_scoring,
    replayed_orders,
    rounded_orders,
    scored_lead_times,
)
from stockplan.random_streams import substreams


def test_replayed_setting_scores_both_targets_on_the_path_with_replayed_orders():
    for measure in ("cycle", "fill_rate"):
        replayed = Policy(calibrate_lost_sales="replayed", service_measure=measure)
        assert lost_sales_scoring(replayed) and replayed_orders(replayed)
    default = Policy(service_measure="fill_rate")
    assert not lost_sales_scoring(default) and not replayed_orders(default)
    assert not replayed_orders(Policy(calibrate_lost_sales=True))


def test_replayed_fill_rate_setting_replays_orders_for_fill_rate_targets_only():
    # cycle targets stay on the lost-sales path of 'cycle' (whole S, the order's own lead
    # time not drawn); fill-rate targets get the replayed orders of 'replayed'
    cycle = Policy(calibrate_lost_sales="replayed_fill_rate", service_measure="cycle")
    assert lost_sales_scoring(cycle) and not replayed_orders(cycle)
    fill = Policy(calibrate_lost_sales="replayed_fill_rate", service_measure="fill_rate")
    assert lost_sales_scoring(fill) and replayed_orders(fill)


def test_orders_are_rounded_to_whole_units_moq_packs_and_max_order():
    # rows: pack 4; MOQ 10 with pack 4 (ceil(10 / 4) x 4 = 12); max order 8 with pack 4;
    # no constraint at all (whole units, half up: 0.3 is no order, 6.5 is 7)
    rounding = np.array(
        [[np.nan, 4.0, np.nan], [10.0, 4.0, np.nan], [np.nan, 4.0, 8.0], [np.nan] * 3]
    )
    raw = np.array([[6.0, 0.3], [3.0, 13.0], [21.0, 5.0], [6.5, 0.3]])
    assert rounded_orders(raw, rounding).tolist() == [[8, 0], [12, 16], [8, 8], [7, 0]]


def test_lost_sales_path_rounds_each_order_to_packs_and_lets_a_late_order_arrive_late():
    # 3 a day from the origin (day 4, nothing sold before), R = 2, L = 1, S = 8 at each of
    # three reviews (days 0, 2, 4 after the origin); review a's period is days
    # [1 + 2a, 3 + 2a). Unrounded: day 0 orders 0 (8 on hand), on hand 5, 2; day 2 orders
    # 8 - 2 = 6 (due day 3), sells 2 of 3 (1 short, period 0); day 3: 6, sells 3; day 4
    # orders 8 - 3 = 5 (due day 5), sells 3; day 5: 5 - 3 = 2; day 6: 2 of 3 (1 short,
    # period 2). Short 1 / 0 / 1.
    demand = np.concatenate([np.zeros(4), np.full(12, 3.0)])[None, :]
    stocks = [np.array([[8.0]])] * 3
    lead = np.array([1])
    out, short = _lost_sales_path(demand, 4, stocks, lead, 2)
    assert short[:, 0, 0].tolist() == [1.0, 0.0, 1.0]
    assert out[:, 0, 0].tolist() == [True, False, True]
    # packs of 4: day 2 orders 6 -> 8 (day 3: 8, 5 after the day), day 4 orders 8 - 5 = 3
    # -> 4 (day 4: 2 left; day 5: 6, 3; day 6: 0): short 1 / 0 / 0
    packs = np.array([[np.nan, 4.0, np.nan]])
    out, short = _lost_sales_path(demand, 4, stocks, lead, 2, rounding=packs)
    assert short[:, 0, 0].tolist() == [1.0, 0.0, 0.0]
    assert out[:, 0, 0].tolist() == [True, False, False]
    # the same with the order of day 4 taking 3 days (due day 7): day 5 sells the 2 left
    # (1 short), day 6 sells nothing (3 short): period 2 is 4 short
    late = np.array([[1, 1, 3]])
    out, short = _lost_sales_path(demand, 4, stocks, lead, 2, order_lead=late, rounding=packs)
    assert short[:, 0, 0].tolist() == [1.0, 0.0, 4.0]
    assert out[:, 0, 0].tolist() == [True, False, True]


def test_lost_sales_path_runs_short_while_a_late_order_is_on_its_way():
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
    streams = np.array([11, 12, 13], dtype=np.uint64)
    fixed = scored_lead_times(
        streams, 700, np.array([14, 0, 5]), np.array([14.0, 0.0, 5.0]), np.zeros(3), 4
    )
    assert fixed.tolist() == [[14] * 4, [0] * 4, [5] * 4]  # sigma_L = 0: the mean
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


@pytest.mark.parametrize(
    "setting, measure, joined",
    [
        ("replayed", "cycle", True),
        ("cycle", "cycle", False),
        ("replayed_fill_rate", "fill_rate", True),
        ("replayed_fill_rate", "cycle", False),
    ],
)
def test_the_items_packs_and_moq_reach_the_calibration_only_when_replayed(
    monkeypatch, setting, measure, joined
):
    import datetime as dt

    import polars as pl

    from stockplan import series
    from stockplan.config import Config

    seen = {}
    monkeypatch.setattr(
        series, "lead_time_demand_sums", lambda sales, frame, *a, **k: seen.setdefault("f", frame)
    )
    lead_times = pl.DataFrame(
        {"sku": ["A", "B"], "location": ["W", "W"], "lead_time_days": [14.0, 7.0]}
    )
    classes = pl.DataFrame(
        {"sku": ["A", "B"], "location": ["W", "W"], "demand_pattern": ["smooth", "lumpy"]}
    )
    attributes = pl.DataFrame(
        {"sku": ["B", "A"], "moq": [10.0, None], "pack_size": [6.0, 12.0], "max_order": [None] * 2}
    )
    config = Config(policy={"calibrate_lost_sales": setting, "service_measure": measure})
    series.lead_time_demand_pending(
        pl.DataFrame(), lead_times, classes, dt.date(2024, 1, 1), None, 7, config, None, attributes
    )
    frame = seen["f"].sort("sku")
    if joined:
        assert frame["pack_size"].to_list() == [12.0, 6.0]
        assert frame["moq"].to_list() == [None, 10.0]
    else:
        assert "pack_size" not in frame.columns


def test_replayed_backtest_scores_the_orders_as_the_plan_rounds_them():
    import datetime as dt

    from stockplan.lead_time_demand import backtest_calibration

    # As in tests/test_cycle_calibration.py: 30 series, forecast 5/3 a day with sigma 0 (S
    # = 35 at every level), L = 14, R = 7, origin day 400, reviews at ages 0 and 7. Even
    # series sell 2 a day: review 0's period (days 14-20 after the origin) runs 7 short;
    # the order of day 7 is 35 - 21 = 14 units, due on day 21. Exact units cover review 1's
    # 14; rounded as the plan rounds it with pack 4 and max order 10 it is ceil(14 / 4) x 4
    # = 16, capped at floor(10 / 4) x 4 = 8: review 1 runs 14 - 8 = 6 short. Odd series
    # sell 5/3 a day, exactly S over L + R, no constraints (orders of 35 - 23.33 = 11.67
    # -> 12 whole units): never short. Cycles: exact 15 / 30 + 30 / 30, rounded 0 / 30 +
    # 30 / 30.
    first, n = dt.date(2024, 1, 1), 30
    keys, windows = one_origin_windows(n, first + dt.timedelta(days=400), 5 / 3)
    even = np.arange(n) % 2 == 0
    daily = np.where(even[:, None], 2.0, 5 / 3) * np.ones((n, 428))
    rounding = np.where(even[:, None], [[np.nan, 4.0, 10.0]], [[np.nan] * 3])
    args = (keys, daily, first, windows, np.full(n, 14.0), np.zeros(n), 7, 364)
    kwargs = {"sigma_day": np.zeros(n), "forecast_age_days": 7, "lost_sales_path": True}
    demand = 15 * 28 + 15 * 2 * 7 * 5 / 3
    exact, _ = backtest_calibration(*args, **kwargs)
    cycle, fill = exact["parametric"]["smooth"]
    np.testing.assert_allclose(cycle, 45 / 60)
    np.testing.assert_allclose(fill, 1 - 15 * 7 / demand)
    rounded, _ = backtest_calibration(*args, **kwargs, replayed=True, order_rounding=rounding)
    cycle, fill = rounded["parametric"]["smooth"]
    np.testing.assert_allclose(cycle, 30 / 60)
    np.testing.assert_allclose(fill, 1 - 15 * (7 + 6) / demand)
