"""`simulate` with a successor: each item's demand replayed is its own sales, never the
predecessor's lines its history inherits, and until the switch date a successor selling
under its own code is classed and sized at each origin on its own sales, as `plan` is.
Numbers worked out by hand on the small shop."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from conftest import AS_OF, add_selling_successor

from stockplan.replay import BASELINE_HISTORY_DAYS, Replay


def _replayed(small_shop: Path) -> tuple[Replay, pl.DataFrame]:
    """(the replay `stockplan.simulate` runs, the sales as read) on the small shop with 8
    weekly periods replayed and a refit every 4: origins 56 and 28 days before as_of."""
    import stockplan
    from stockplan import replay

    config, inputs = stockplan.load(small_shop)
    config = config.model_copy(
        update={
            "simulate": config.simulate.model_copy(
                update={"periods": 8, "refit_every": 4, "targets": [0.95]}
            )
        }
    )
    seen: list[Replay] = []
    replay_policies = replay.replay_policies

    def capture(case: Replay, settings, per_series: bool = False):
        seen.append(case)
        return replay_policies(case, settings, per_series)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replay, "replay_policies", capture)
        stockplan.simulate(inputs, config)
    return seen[0], inputs.tables["sales"]


def _row(case: Replay, sku: str, location: str) -> int:
    keys = case.series.select("sku", "location").rows()
    return keys.index((sku, location))


def test_the_replay_counts_each_items_own_sales_as_its_demand(small_shop: Path):
    """N-1 replaces A-100 six weeks after as_of and has sold 5 a day at WH1 under its own
    code on the 70 days before as_of. The replay covers the 56 days before as_of and the
    rule's 56 days before those: N-1 at WH1 met 5 x 70 = 350 units in them, 280 inside
    the window; at WH2 it never sold. A-100 keeps its own lines: the demand replayed in all
    is the sum of the sales lines in those 112 days, not more."""
    add_selling_successor(small_shop, [5] * 70)
    case, sales = _replayed(small_shop)
    assert case.start == AS_OF - dt.timedelta(days=56)
    first = case.start - dt.timedelta(days=BASELINE_HISTORY_DAYS)
    window = case.demand[:, BASELINE_HISTORY_DAYS:]
    n1, n1_wh2 = _row(case, "N-1", "WH1"), _row(case, "N-1", "WH2")
    assert case.demand[n1].sum() == pytest.approx(350.0)
    assert window[n1].sum() == pytest.approx(280.0)
    assert case.demand[n1_wh2].sum() == 0.0
    for location in ("WH1", "WH2"):
        sold = sales.filter(
            (pl.col("sku") == "A-100")
            & (pl.col("location") == location)
            & (pl.col("date") >= first)
            & (pl.col("date") < AS_OF)
        )["quantity"].sum()
        assert case.demand[_row(case, "A-100", location)].sum() == pytest.approx(sold)
    in_days = sales.filter((pl.col("date") >= first) & (pl.col("date") < AS_OF))
    assert case.demand.sum() == pytest.approx(in_days["quantity"].sum())


def test_the_replay_sizes_a_successor_on_its_own_sales_before_its_switch(small_shop: Path):
    """At the first origin, 56 days before as_of, N-1 has sold 5 a day at WH1 for 14 days
    (its own lines start 70 days before as_of): as `plan` on that date, it is forecast at
    its own 5 a day (the inherited 10 a day stays A-100's until the switch), so it covers
    L + R = 14 + 7 days with 105 units and starts the replay with them; its spread is its
    own, 0 (sigma_e 0); its ABC class is on its own sales value, 70 x 25 = 1,750: C
    (the inherited history's 10 a day made it A). At WH2, without sales of its own, it
    hands all the inherited demand back until the switch: 0."""
    add_selling_successor(small_shop, [5] * 70)
    case, _ = _replayed(small_shop)
    n1, n1_wh2 = _row(case, "N-1", "WH1"), _row(case, "N-1", "WH2")
    first = case.levels[0].row(n1, named=True)
    assert first["forecast_per_day"] == pytest.approx(5.0)
    assert first["demand_protection"] == pytest.approx(105.0)
    assert case.initial_stock[n1] == 105.0
    assert first["sigma_e"] == pytest.approx(0.0)
    assert first["abc"] == "C"
    assert case.levels[0].row(n1_wh2, named=True)["demand_protection"] == pytest.approx(0.0)
    # every review before the switch: its own rate (the sales since the refit follow it)
    for level in case.levels:
        assert level.row(n1, named=True)["demand_protection"] == pytest.approx(105.0)


def test_each_replay_origin_sizes_the_successor_as_a_plan_on_that_date(small_shop: Path):
    """The levels of the replay's first review at each origin (56 and 28 days before
    as_of) are those of `plan` with as_of on that origin, for the successor at both
    warehouses and for its predecessor."""
    import stockplan

    add_selling_successor(small_shop, [5] * 70)
    case, _ = _replayed(small_shop)
    columns = ["abc", "xyz", "demand_pattern", "model", "sigma_e", "forecast_per_day"]
    for review, origin in ((0, case.start), (4, case.start + dt.timedelta(days=28))):
        config, inputs = stockplan.load(small_shop)
        planning = config.planning.model_copy(update={"as_of": origin})
        planned = stockplan.plan(inputs, config.model_copy(update={"planning": planning}))
        rows = {(r["sku"], r["location"]): r for r in planned.orders.to_dicts()}
        for key in (("N-1", "WH1"), ("N-1", "WH2"), ("A-100", "WH1")):
            replayed = case.levels[review].row(_row(case, *key), named=True)
            for column in columns:
                assert replayed[column] == pytest.approx(rows[key][column]), (origin, key, column)
