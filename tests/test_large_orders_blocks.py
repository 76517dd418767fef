"""The large-order rule on integer series keys, run in blocks of series, finds the same
lines with the same order and customer as judged line by line."""

import datetime as dt

import polars as pl
import pytest

from stockplan import demand, large_orders
from stockplan.config import Policy
from stockplan.large_orders import large_order_lines


def _lines(sku: str, location: str, quantities: list[float]) -> list[dict]:
    return [
        {
            "sku": sku,
            "location": location,
            "date": dt.date(2025, 1, 1) + dt.timedelta(days=i),
            "quantity": q,
            "order_id": f"{sku}{location}{i}",
            "customer": "c1",
        }
        for i, q in enumerate(quantities)
    ]


def _sales() -> pl.DataFrame:
    rows = [
        # A at W: lines 2, 3, 3, 4, 40, 31 -> median 3.5; k = 10 -> only the 40 is large.
        # The 40 is one order line booked as two rows, 25 then 15, by two customers:
        # the line is 40 units and keeps the first row's customer.
        *_lines("A", "W", [2, 3, 3, 4]),
        {**_lines("A", "W", [0] * 5)[4], "quantity": 25.0, "customer": "first"},
        {**_lines("A", "W", [0] * 5)[4], "quantity": 15.0, "customer": "second"},
        *_lines("A", "W", [0] * 5 + [31])[5:],
        # B at W: lines 1, 1, 1, 1, 1, 12 -> median 1; 12 > 10 x 1 is large
        *_lines("B", "W", [1, 1, 1, 1, 1, 12]),
        # A at X: all lines 5 -> none above 50
        *_lines("A", "X", [5] * 6),
    ]
    return pl.DataFrame(rows)


@pytest.mark.parametrize("lines_per_block", [1, 7, 2_000_000])
def test_large_lines_are_the_same_whatever_the_block_size(monkeypatch, lines_per_block):
    monkeypatch.setattr(demand, "LINES_PER_BLOCK", lines_per_block)
    large = large_order_lines(_sales(), dt.date(2025, 2, 1), Policy())
    assert large.select("sku", "location", "date", "order_id", "customer").rows() == [
        ("A", "W", dt.date(2025, 1, 5), "AW4", "first"),
        ("B", "W", dt.date(2025, 1, 6), "BW5", "c1"),
    ]
    assert large["quantity"].to_list() == [40.0, 12.0]
    assert large["usual_line_qty"].to_list() == [3.5, 1.0]
    assert large["times_usual"].to_list() == [round(40 / 3.5, 1), 12.0]


def test_large_lines_without_order_or_customer_columns_have_empty_ones():
    sales = _sales().drop("order_id", "customer")
    large = large_order_lines(sales, dt.date(2025, 2, 1), Policy())
    # without order_id a line is the item's day: A/W's day 5 is 25 + 15 = 40
    assert large["quantity"].to_list() == [40.0, 12.0]
    assert large["order_id"].to_list() == [None, None]
    assert large["customer"].to_list() == [None, None]
    assert large.columns == large_orders.LARGE_ORDER_COLUMNS


def test_no_sales_gives_no_large_lines():
    empty = _sales().clear()
    large = large_order_lines(empty, dt.date(2025, 2, 1), Policy())
    assert large.height == 0
    assert large.columns == large_orders.LARGE_ORDER_COLUMNS
