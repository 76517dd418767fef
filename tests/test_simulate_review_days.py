"""`simulate` reviews each item on its own R (`suppliers.review_days`, else
`policy.review_days`), as `plan` orders it: an item bought every 28 days orders on days 0
and 28 of the replay only, with the levels `plan` sets for L + 28 days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import make_small_shop

import stockplan
from stockplan.replay import Replay, policy_at_target, prepare_replay, replay_policy, review_orders


def _shop(folder: Path) -> Path:
    """The small shop with A-100 bought from Monthly (L 10 days, sigma_L 1, R 28 days) and
    007 from Acme (R blank: policy.review_days, 7), normal levels, no public holidays;
    8 weekly periods replayed, a refit every 4, no warm-up."""
    config = make_small_shop(folder)
    products = folder / "products.csv"
    products.write_text(
        products.read_text().replace("Steady item,12.5,25.0,Acme", "Steady item,12.5,25.0,Monthly")
    )
    (folder / "suppliers.csv").write_text(
        "supplier,lead_time_days,lead_time_std_days,review_days\nAcme,14,2.0,\nMonthly,10,1.0,28\n"
    )
    settings = yaml.safe_load(config.read_text())
    settings["policy"] = {"lead_time_demand": "parametric"}
    settings["calendars"] = {"public_holidays": "none"}
    settings["simulate"] = {"periods": 8, "refit_every": 4, "targets": [0.95], "warmup": False}
    config.write_text(yaml.safe_dump(settings))
    return config


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Replay, object, Path]:
    path = _shop(tmp_path_factory.mktemp("monthly"))
    config, inputs = stockplan.load(path)
    return prepare_replay(inputs.tables, config), config, path


def _row(case: Replay, sku: str, location: str) -> int:
    return case.series.select("sku", "location").rows().index((sku, location))


def test_the_28_day_item_is_ordered_only_every_28_days_the_others_weekly(replayed):
    """56 days replayed: reviews on days 0, 7, ..., 49 (the weekly items'); an order asked
    for at every review is placed for A-100 (R 28) on days 0 and 28 only, for 007 (R 7) on
    each of the 8 days."""
    case, _, _ = replayed
    a100 = [_row(case, "A-100", "WH1"), _row(case, "A-100", "WH2")]
    slow = _row(case, "007", "WH1")
    placed_on: dict[int, list[int]] = {}
    for day in range(0, 56, 7):

        def on_that_day(review: int, today: int, position: np.ndarray, day: int = day):
            return np.full(position.size, 1.0 if today == day else 0.0)

        orders = replay_policy(case, on_that_day, backorder=False)["orders"]
        placed_on[day] = orders.astype(int).tolist()
    for row in a100:
        assert [d for d, n in placed_on.items() if n[row]] == [0, 28]
    assert [d for d, n in placed_on.items() if n[slow]] == [0, 7, 14, 21, 28, 35, 42, 49]
    every = replay_policy(case, lambda review, today, position: np.ones(position.size), False)
    assert every["orders"][a100].tolist() == [2, 2]
    assert every["orders"][slow] == 8
    assert case.review_schedule().tolist() == [0, 7, 14, 21, 28, 35, 42, 49]


def test_the_28_day_items_levels_at_a_review_are_the_plans_on_that_day(replayed):
    """At the reviews on the two refit origins (days 0 and 28), A-100's review_days is 28
    and its safety stock and order-up-to are those of `plan` with as_of on that day; its
    starting stock is the expected demand over L + 28 days."""
    case, config, path = replayed
    policy = policy_at_target(config, 0.95)
    for review, day in ((0, 0), (4, 28)):
        origin = case.start + dt.timedelta(days=day)
        cfg, inputs = stockplan.load(path)
        planning = cfg.planning.model_copy(update={"as_of": origin})
        planned = stockplan.plan(inputs, cfg.model_copy(update={"planning": planning}))
        rows = {(r["sku"], r["location"]): r for r in planned.orders.to_dicts()}
        position = np.zeros(case.series.height)
        replayed_orders = review_orders(case, policy, config, review, day, position)
        for location in ("WH1", "WH2"):
            line = replayed_orders.row(_row(case, "A-100", location), named=True)
            plan = rows[("A-100", location)]
            assert line["review_days"] == plan["review_days"] == 28.0, (day, location)
            for column in ("safety_stock", "reorder_point", "order_up_to"):
                assert line[column] == pytest.approx(plan[column]), (day, location, column)
    first = case.levels[0].row(_row(case, "A-100", "WH1"), named=True)
    assert first["demand_protection"] == pytest.approx(first["forecast_per_day"] * (10 + 28))
    assert case.initial_stock[_row(case, "A-100", "WH1")] == round(first["demand_protection"])
