"""`simulate`'s policy sees, at each review, the position `plan` would: the units held that
will be written off before they sell at the review's forecast rate are left out
(`shelf_life.lot_sales`: oldest first, a lot of age a with U - a selling days left, U =
shelf_life_days - sell_by_days). Numbers worked out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from test_simulate_caps import _add_perishable, _replay, _row

import stockplan.replay as replay_module
from stockplan.replay import Replay, replay_policies, replay_policy
from stockplan.shelf_life import expiring_stock

START = dt.date(2025, 1, 6)


def _case(
    on_hand: float, demand: float, days: int, lead: int, rates: list[float], usable: float | None
) -> Replay:
    """One item selling `demand` a day, reviewed every 7 days with forecast `rates[i]` a
    day at review i; `usable`: shelf life less sell-by days (None: no shelf life)."""
    return Replay(
        series=pl.DataFrame({"sku": ["A"], "location": ["W"], "unit_cost": [2.0]}).with_columns(
            pl.lit(None, pl.Float64).alias(c) for c in ("moq", "pack_size", "max_order")
        ),
        start=START,
        demand=np.hstack([np.full((1, 56), demand), np.full((1, days), demand)]),
        review_days=7,
        lead_draws=np.full((1, days // 7 + 1), lead),
        initial_stock=np.array([on_hand]),
        levels=[pl.DataFrame({"forecast_per_day": [rate]}) for rate in rates],
        usable_days=None if usable is None else np.array([usable]),
    )


def _order_up_to(level: float, seen: list[float], orders: list[float]):
    """A policy ordering up to `level`, recording the positions it sees and its orders."""

    def decide(review: int, day: int, position: np.ndarray) -> np.ndarray:
        seen.append(float(position[0]))
        orders.append(max(level - float(position[0]), 0.0))
        return np.array([orders[-1]])

    return decide


def _plan_lots(received: list[tuple[int, float]], as_of_day: int, rate: float) -> pl.DataFrame:
    """`plan`'s own count (`expiring_stock`, sell-by 0) of lots received on the given days
    with a 10-day shelf life, on day `as_of_day` at `rate` a day."""
    lots = pl.DataFrame(
        {
            "sku": ["A"] * len(received),
            "location": ["W"] * len(received),
            "expiry_date": [START + dt.timedelta(days=day + 10) for day, _ in received],
            "lot_qty": [qty for _, qty in received],
        }
    )
    rates = pl.DataFrame({"sku": ["A"], "location": ["W"], "forecast_per_day": [rate]})
    return expiring_stock(lots, rates, START + dt.timedelta(days=as_of_day), 0.0)


def test_units_that_expire_before_they_sell_are_not_in_the_position_by_hand():
    # shelf life 10, sell-by 0: U = 10. 60 on hand received on day 0, forecast 3 a day.
    # plan: the lot's sell-by point is 10 days away, 3 x 10 = 30 sell, 30 expire unsold.
    plan = _plan_lots([(0, 60.0)], 0, 3.0)
    assert plan["expected_sold"].to_list() == [30.0]
    assert plan["expiring_qty"].to_list() == [30.0]
    # the replay, 3 sold a day, an order up to 100 at each review (lead time 10):
    # day 0: position 60 - 30 = 30 -> order 70.
    # day 7: the lot holds 60 - 21 = 39 with 3 days left: 9 sell, 30 do not; position
    # 39 - 30 + 70 on order = 79 -> order 21.
    seen: list[float] = []
    orders: list[float] = []
    case = _case(60.0, 3.0, 14, 10, [3.0, 3.0], usable=10)
    replay_policy(case, _order_up_to(100.0, seen, orders), False, sellable_position=True)
    assert seen == [30.0, 79.0]
    assert orders == [70.0, 21.0]
    # all sellable: at 6 a day the 60 units sell in 10 days; position 60 -> order 40,
    # and then 60 - 21 = 39 (6 x 3 = 18 sell, 21 do not) + 40 on order = 58 -> order 42
    seen, orders = [], []
    case = _case(60.0, 3.0, 14, 10, [6.0, 6.0], usable=10)
    replay_policy(case, _order_up_to(100.0, seen, orders), False, sellable_position=True)
    assert seen == [60.0, 58.0] and orders == [40.0, 42.0]
    # the same stock without a shelf life, or for the rule of thumb (every unit counts)
    for usable, sellable in ((None, True), (10, False)):
        seen, orders = [], []
        case = _case(60.0, 3.0, 14, 10, [3.0, 3.0], usable=usable)
        replay_policy(case, _order_up_to(100.0, seen, orders), False, sellable_position=sellable)
        assert seen == [60.0, 39.0 + 40.0] and orders == [40.0, 21.0]


def test_the_oldest_lot_sells_first_when_the_position_is_counted():
    # U = 10; 20 on hand from day 0, 40 ordered on day 0 arrive on day 3 (lead 3); 1 sold
    # a day, taken from the older lot: on day 7 it holds 13 (3 days left), the new lot 40
    # (6 days left). Forecast 3 a day: 9 sell by the old lot's sell-by day, all from it
    # (4 of its 13 expire); 18 by the new lot's, 9 of them left for it (31 of 40 expire).
    # Position 53 - 35 = 18. (Counting each lot on its own: 9 + 18 sell, position 27.)
    plan = _plan_lots([(0, 13.0), (3, 40.0)], 7, 3.0)
    assert plan["expected_sold"].to_list() == [9.0, 9.0]
    assert plan["expiring_qty"].to_list() == [4.0, 31.0]
    orders = iter([np.array([40.0]), np.array([0.0])])
    seen: list[float] = []

    def decide(review: int, day: int, position: np.ndarray) -> np.ndarray:
        seen.append(float(position[0]))
        return next(orders)

    case = _case(20.0, 1.0, 14, 3, [3.0, 3.0], usable=10)
    replay_policy(case, decide, False, sellable_position=True)
    # day 0: 3 x 10 = 30 would sell, more than the 20 held: all 20 count
    assert seen == [20.0, 18.0]


def test_the_replayed_policy_orders_for_what_sells_before_expiry(
    small_shop: Path, monkeypatch: pytest.MonkeyPatch
):
    """F-1 sells 6 a day, 5 - 2 = 3 sellable days, capped at 6 x (14 + 3) = 102: the replay
    starts it with 102 units received on its first day, of which 6 x 3 = 18 sell before
    they are written off. The first review sees a position of 18 (not 102) and orders the
    84 up to its cap, where it used to order nothing."""
    _add_perishable(small_shop)
    case, config = _replay(small_shop)
    f1 = _row(case, "F-1", "WH1")
    assert case.initial_stock[f1] == 102.0
    assert case.levels[0]["forecast_per_day"][f1] == pytest.approx(6.0)
    placed: list[pl.DataFrame] = []
    review_orders = replay_module.review_orders

    def recorded(*args, **kwargs) -> pl.DataFrame:
        placed.append(review_orders(*args, **kwargs))
        return placed[-1]

    monkeypatch.setattr(replay_module, "review_orders", recorded)
    replay_policies(case, config)
    first = placed[0].row(f1, named=True)
    assert first["inventory_position"] == pytest.approx(18.0)
    assert first["order_up_to"] == pytest.approx(102.0)
    assert first["order_qty"] == 84.0
    # A-100 has no shelf life: its position is all its stock
    a100 = _row(case, "A-100", "WH1")
    assert placed[0]["inventory_position"][a100] == pytest.approx(case.initial_stock[a100])
