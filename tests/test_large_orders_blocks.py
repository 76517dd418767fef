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


def test_two_large_lines_of_one_item_on_one_day_come_out_in_order_id_order_whatever_the_input():
    """The table is sorted by item and date, and lines of one item and day by order id,
    customer and quantity: a sort on item and date alone left such ties in the order of a
    hash join, which Polars seeds anew in every process, so the same plan wrote the
    table's rows in another order from run to run."""
    usual = _lines("A", "W", [2, 3, 3, 4, 3, 2, 3, 4, 3, 2])
    day = dt.date(2025, 2, 1)
    large = [  # three lines of A at W on one day, each over 10 times the usual 3
        {"sku": "A", "location": "W", "date": day, "quantity": q, "order_id": o, "customer": c}
        for q, o, c in [(60.0, "O-3", "c3"), (40.0, "O-1", "c1"), (50.0, "O-2", "c2")]
    ]
    tables = []
    for rows in (usual + large, large[::-1] + usual[::-1], large[1:] + usual + large[:1]):
        for _ in range(3):  # a fresh frame each time: each join hashes anew
            tables.append(large_order_lines(pl.DataFrame(rows), dt.date(2025, 3, 1), Policy()))
    for table in tables:
        assert table.select("order_id", "customer", "quantity").rows() == [
            ("O-1", "c1", 40.0),
            ("O-2", "c2", 50.0),
            ("O-3", "c3", 60.0),
        ]


def test_the_note_names_the_same_largest_line_whatever_the_order_of_equal_lines():
    """Two open orders of 500, each over a year of their item's sales: the note's example is
    the first by item and location, not whichever came first in the file."""
    from stockplan.large_orders import outsized_lines, outsized_note

    sales = pl.DataFrame(
        {
            "sku": ["A", "B"],
            "location": ["W", "W"],
            "date": [dt.date(2025, 1, 10)] * 2,
            "quantity": [5.0, 5.0],
        }
    )
    open_lines = pl.DataFrame({"sku": ["B", "A"], "location": ["W", "W"], "quantity": [500.0] * 2})
    notes = {
        outsized_note(
            outsized_lines(lines, sales, dt.date(2025, 3, 1), dated=False),
            "customer_orders",
            covered=False,
        )
        for lines in (open_lines, open_lines.reverse())
    }
    assert notes == {
        "customer_orders: 2 lines each larger than a year of the item's sales (largest: "
        "A @ W, 500, against 5); the plan orders or moves stock for them: check them"
    }
