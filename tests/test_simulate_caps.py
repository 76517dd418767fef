"""`simulate` caps each review's order-up-to as `plan` does (`item_rules.item_caps`): an
item never replayed above what sells before it expires, a predecessor ordering nothing
from its successor's switch date. Numbers worked out by hand on the small shop."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from conftest import AS_OF, add_daily_sales, add_selling_successor

from stockplan.replay import Replay, policy_at_target, replay_policy, review_orders


def _replay(small_shop: Path) -> tuple[Replay, object]:
    """(the replay of the small shop, its config): 8 weekly periods, a refit every 4,
    origins 56 and 28 days before as_of, reviews every 7 days."""
    import stockplan
    from stockplan.replay import prepare_replay

    config, inputs = stockplan.load(small_shop)
    config = config.model_copy(
        update={
            "simulate": config.simulate.model_copy(
                update={"periods": 8, "refit_every": 4, "targets": [0.95]}
            )
        }
    )
    return prepare_replay(inputs.tables, config), config


def _row(case: Replay, sku: str, location: str) -> int:
    return case.series.select("sku", "location").rows().index((sku, location))


def _replayed_orders(case: Replay, config) -> list[pl.DataFrame]:
    """Every review's order rows as the policy replays them (target 95%), with the
    position they were placed on."""
    policy = policy_at_target(config, 0.95)
    seen: list[pl.DataFrame] = []

    def decide(review: int, day: int, position: np.ndarray) -> np.ndarray:
        orders = review_orders(case, policy, config, review, day, position)
        seen.append(orders.with_columns(pl.lit(day).alias("day")))
        return orders["order_qty"].to_numpy()

    replay_policy(case, decide, backorder=False, sellable_position=True)
    return seen


def _add_perishable(small_shop: Path) -> None:
    """F-1 sells exactly 6 a day at WH1 over the shop's weeks; shelf life 5 days, sold
    until 2 days before expiry (`shelf_life.sell_by_days`); supplier Acme (14 days)."""
    folder = small_shop.parent
    add_daily_sales(folder, "F-1", 6, 4.0)
    products = pl.read_csv(folder / "products.csv", schema_overrides={"sku": pl.String})
    fresh = {"sku": ["F-1"], "name": ["Fresh"], "unit_cost": [2.0], "unit_price": [4.0]}
    fresh |= {"supplier": ["Acme"], "pack_size": [1], "moq": [0], "shelf_life_days": [5]}
    pl.concat(
        [
            products.with_columns(pl.lit(None, pl.Int64).alias("shelf_life_days")),
            pl.DataFrame(fresh),
        ],
        how="vertical_relaxed",
    ).write_csv(folder / "products.csv")
    config = yaml.safe_load(small_shop.read_text())
    config["shelf_life"] = {"sell_by_days": 2}
    small_shop.write_text(yaml.safe_dump(config))


def test_a_perishable_item_is_never_replayed_above_what_sells_before_expiry(small_shop: Path):
    """F-1 sells 6 a day with 5 - 2 = 3 sellable days after a 14-day lead time: `plan` caps
    its order-up-to at 6 x (14 + 3) = 102, below the 6 x (14 + 7) = 126 it covers over
    L + R. The replay starts it with 102 units (not 126), every review sets its level at
    102, and no order ever takes its position past 102."""
    _add_perishable(small_shop)
    case, config = _replay(small_shop)
    f1 = _row(case, "F-1", "WH1")
    level = case.levels[0].row(f1, named=True)
    assert level["forecast_per_day"] == pytest.approx(6.0)
    assert level["lead_time_days"] == pytest.approx(14.0)
    assert level["demand_protection"] == pytest.approx(126.0)
    assert case.initial_stock[f1] == 102.0
    orders = _replayed_orders(case, config)
    assert len(orders) == 8
    for placed in orders:
        row = placed.row(f1, named=True)
        assert row["order_up_to"] == pytest.approx(102.0), row["day"]
        assert row["inventory_position"] + row["order_qty"] <= 102.0 + 1e-9, row["day"]
        if row["order_qty"] > 0:
            assert "by shelf life" in row["reason"]
    # A-100 has no shelf life: not capped
    a100 = orders[0].row(_row(case, "A-100", "WH1"), named=True)
    assert "capped" not in a100["reason"]


def test_a_predecessor_orders_nothing_in_the_replay_from_its_successors_switch(
    small_shop: Path,
):
    """N-1 replaces A-100 21 days before as_of, on day 35 of the 56 replayed; A-100's lead
    time is 14 days. The reviews on days 35, 42 and 49 order no A-100 at either warehouse
    ("no order: replaced by N-1"), whatever its position; nor do those on days 21 and 28,
    whose orders would land on days 35 and 42, on or after the switch: none of it would
    sell as A-100 (`plan` the same). On day 14 an order lands on day 28 and sells only
    the 7 days to the switch: the level is capped at the forecast over [day 14, day 35),
    about 21 x its forecast per day, and on a position of 0 (sold out before the order
    lands) at max(0, 0) + the 7 days' demand, about 70, not the 21 days' 200."""
    add_selling_successor(small_shop, [5] * 70)
    switch = AS_OF - dt.timedelta(days=21)
    pl.DataFrame(
        {"old_sku": ["A-100"], "new_sku": ["N-1"], "date": [switch.isoformat()]}
    ).write_csv(small_shop.parent / "succession.csv")
    case, config = _replay(small_shop)
    assert case.start + dt.timedelta(days=35) == switch
    orders = _replayed_orders(case, config)
    assert [o["day"][0] for o in orders] == [0, 7, 14, 21, 28, 35, 42, 49]
    for location in ("WH1", "WH2"):
        row = _row(case, "A-100", location)
        assert case.levels[2].row(row, named=True)["lead_time_days"] == 14.0
        for placed in orders[5:]:
            line = placed.row(row, named=True)
            assert line["order_qty"] == 0.0
            assert line["reason"] == f"no order: replaced by N-1 from {switch}"
        for placed in orders[3:5]:
            line = placed.row(row, named=True)
            arrival = case.start + dt.timedelta(days=line["day"] + 14)
            assert line["order_qty"] == 0.0
            assert line["reason"] == (
                f"no order: an order today would arrive on {arrival}, on or after N-1 "
                f"replaces it on {switch}"
            )
        before = orders[2].row(row, named=True)
        per_day = case.levels[2].row(row, named=True)["forecast_per_day"]
        assert before["order_up_to"] == pytest.approx(21 * per_day, rel=0.03)
        assert f"demand until N-1 replaces it on {switch}" in before["reason"]
        # earlier, the 35 days to the switch sell more than L + R + safety stock: no cap
        assert "capped" not in orders[0].row(row, named=True)["reason"]
    # day 14 on a position of 0: S' = max(0, 0) + the demand of days 28 to 35
    policy = policy_at_target(config, 0.95)
    empty = review_orders(case, policy, config, 2, 14, np.zeros(case.series.height))
    arrival = case.start + dt.timedelta(days=28)
    for location in ("WH1", "WH2"):
        row = _row(case, "A-100", location)
        line = empty.row(row, named=True)
        week = 7 * case.levels[2].row(row, named=True)["forecast_per_day"]
        assert line["order_up_to"] == pytest.approx(week, rel=0.03)
        assert line["order_qty"] == 12 * -(-line["order_up_to"] // 12)  # packs of 12
        assert (
            f"order-up-to capped at {line['order_up_to']:.1f}: position 0 runs out before "
            f"an order arrives on {arrival}, which sells only {line['order_up_to']:.1f} "
            f"until N-1 replaces it on {switch}"
        ) in line["reason"]
