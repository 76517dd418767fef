"""Classification behaviours pinned down by surviving mutants of `stockplan/segmentation.py`."""

from __future__ import annotations

import datetime as dt

import polars as pl

from stockplan.config import Classify
from stockplan.segmentation import classify_demand

AS_OF = dt.date(2025, 3, 3)


def test_equal_values_at_the_abc_cut_go_by_code_then_location_ascending():
    # 52 weeks: P worth 75 a week, X 10 a week in both W1 and W2, Q 5: total 100 a week.
    # Value before each, as a share: P 0 -> A, X@W1 0.75 -> A, X@W2 0.85 -> B, Q 0.95 -> C.
    # X@W1 and X@W2 tie on value; the tie goes by sku, then location, both ascending.
    rows = [("P", "W1", 75.0), ("X", "W2", 10.0), ("X", "W1", 10.0), ("Q", "W1", 5.0)]
    weeks = [AS_OF - dt.timedelta(weeks=52 - i) for i in range(52)]
    history = pl.DataFrame(
        [(sku, loc, week, 1.0, value) for sku, loc, value in rows for week in weeks],
        schema=["sku", "location", "period_start", "demand", "revenue"],
        orient="row",
    )
    classes = classify_demand(history, AS_OF, "week", Classify())
    abc = {(s, loc): c for s, loc, c in classes.select("sku", "location", "abc").iter_rows()}
    assert abc == {("P", "W1"): "A", ("X", "W1"): "A", ("X", "W2"): "B", ("Q", "W1"): "C"}


def test_values_equal_but_for_the_sums_last_bits_rank_by_code():
    # Two items worth 323.6 a year each, one summed to a value 1e-13 above the other (a
    # multi-threaded sum adds in no fixed order): they tie, and the tie goes by code, so
    # the classes table and the ABC cut do not move from run to run.
    from stockplan.segmentation import abc_by_value

    values = pl.DataFrame(
        {
            "sku": ["22044", "85170C", "10002"],
            "location": ["UK"] * 3,
            "annual_value": [323.6, 323.6 + 1e-13, 1000.0],
        }
    )
    ranked = abc_by_value(values, Classify())
    assert ranked["sku"].to_list() == ["10002", "22044", "85170C"]
    assert abc_by_value(values.reverse(), Classify())["sku"].to_list() == [
        "10002",
        "22044",
        "85170C",
    ]
