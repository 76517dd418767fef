"""Customer restock notices, first come first served, checked by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl

from stockplan.notices import NOTICE_COLUMNS, restock_notices

AS_OF = dt.date(2025, 3, 3)


def _day(n: int) -> dt.date:
    return AS_OF + dt.timedelta(days=n)


def test_backlog_is_filled_from_stock_then_pos_then_the_suggested_order():
    orders = pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["W"],
            "on_hand": [5.0],
            "allocated": [1.0],  # 4 free today
            "order_qty": [20.0],
            "expected_arrival": [_day(14)],
        }
    )
    open_po = pl.DataFrame(
        {"sku": ["A"], "location": ["W"], "po_id": ["P9"], "quantity": [10.0], "arrival": [_day(3)]}
    )
    backlog = pl.DataFrame(
        {
            "order_id": ["O4", "O3", "O2", "O1"],
            "customer": ["d", "c", "b", "a"],
            "sku": ["A"] * 4,
            "location": ["W"] * 4,
            "quantity": [30.0, 10.0, 5.0, 3.0],
            "order_date": [_day(-1), _day(-5), _day(-3), _day(-4)],
            "promised_date": [None, None, _day(2), _day(1)],
        }
    )
    notices = restock_notices(backlog, orders, open_po, AS_OF)
    assert notices.columns == NOTICE_COLUMNS
    rows = {r["order_id"]: r for r in notices.to_dicts()}
    # O1 (3, promised first) ships from the 4 free today: no notice
    assert set(rows) == {"O2", "O3", "O4"}
    # O2: 3 + 5 = 8 > 4 -> the PO of 10 on day 3 (cumulative 14); promised day 2: 1 day late
    assert rows["O2"]["expected_fill_date"] == _day(3) and rows["O2"]["days_late"] == 1
    assert rows["O2"]["filled_from"] == "purchase order P9"
    assert rows["O2"]["message"] == "Order O2: 5 x A is expected to ship on 2025-03-06"
    # O3 (no promise, ordered before O4): 18 > 14 -> the suggested order (cumulative 34)
    assert rows["O3"]["expected_fill_date"] == _day(14)
    assert rows["O3"]["filled_from"] == "this week's suggested order"
    # O4: 48 > 34: nothing planned covers it yet
    assert rows["O4"]["expected_fill_date"] is None
    assert rows["O4"]["filled_from"] == "not covered yet"
    assert "not covered" in rows["O4"]["message"]


def test_stock_allocated_to_the_open_orders_ships_them_when_the_allocation_is_theirs():
    # 30 on hand, 30 allocated, one open order of 30 and nothing else coming
    orders = pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["W"],
            "on_hand": [30.0],
            "allocated": [30.0],
            "order_qty": [0.0],
            "expected_arrival": [_day(14)],
        }
    )
    open_po = pl.DataFrame(
        schema={"sku": pl.String, "location": pl.String, "quantity": pl.Float64, "arrival": pl.Date}
    )
    backlog = pl.DataFrame(
        {"order_id": ["O1"], "sku": ["A"], "location": ["W"], "quantity": [30.0]}
    )
    # separate allocation: 30 - 30 = 0 free, the order waits with no supply in sight
    (waiting,) = restock_notices(backlog, orders, open_po, AS_OF).to_dicts()
    assert waiting["filled_from"] == "not covered yet"
    # the 30 allocated are this order's reservation: it ships today, no notice
    reserved = restock_notices(
        backlog, orders, open_po, AS_OF, allocated_includes_customer_orders=True
    )
    assert reserved.height == 0


def test_a_transfer_in_fills_the_backlog_before_the_suggested_order_and_only_once():
    # W2 has nothing; this run moves 41 from W1 (on hand 50) to W2 and orders 240 for W2
    # arriving on day 5. W2's orders: O1 7 (promised day -5), O2 40; W1's own order O9 12.
    orders = pl.DataFrame(
        {
            "sku": ["A", "A"],
            "location": ["W1", "W2"],
            "on_hand": [50.0, 0.0],
            "allocated": [0.0, 0.0],
            "order_qty": [0.0, 240.0],
            "expected_arrival": [_day(30), _day(5)],
        }
    )
    open_po = pl.DataFrame(
        schema={"sku": pl.String, "location": pl.String, "quantity": pl.Float64, "arrival": pl.Date}
    )
    transfers = pl.DataFrame(
        {"sku": ["A"], "from_location": ["W1"], "to_location": ["W2"], "quantity": [41.0]}
        | {"reason": ["W2 is below its reorder point"]}
    )
    backlog = pl.DataFrame(
        {
            "order_id": ["O1", "O2", "O9"],
            "sku": ["A"] * 3,
            "location": ["W2", "W2", "W1"],
            "quantity": [7.0, 40.0, 12.0],
            "order_date": [_day(-9), _day(-2), _day(-1)],
            "promised_date": [_day(-5), None, None],
        }
    )
    notices = restock_notices(backlog, orders, open_po, AS_OF, transfers=transfers)
    rows = {r["order_id"]: r for r in notices.to_dicts()}
    # O1: 7 <= 41 moved in today: from the transfer, today, 5 days after its promise
    assert rows["O1"]["filled_from"] == "transfer from W1"
    assert rows["O1"]["expected_fill_date"] == AS_OF and rows["O1"]["days_late"] == 5
    # O2: 7 + 40 = 47 > 41: the suggested order on day 5
    assert rows["O2"]["filled_from"] == "this week's suggested order"
    assert rows["O2"]["expected_fill_date"] == _day(5)
    # O9: W1 keeps 50 - 41 = 9 < 12, and nothing else comes to W1: the 41 are not promised twice
    assert rows["O9"]["filled_from"] == "not covered yet"
    # without the transfer, O1 waits for the suggested order and O9 ships from stock
    before = restock_notices(backlog, orders, open_po, AS_OF)
    assert set(before["order_id"]) == {"O1", "O2"}
    assert before.filter(pl.col("order_id") == "O1")["expected_fill_date"].item() == _day(5)


def test_a_name_too_long_for_the_notice_quoting_it_is_refused_where_it_is_read(
    small_shop, tmp_path
):
    # A-100's name has 32,760 characters: it fits a cell (32,767) alone, but the notice to
    # the customer waiting for A-100 ("Order SO1: A-100 <name> x 300, expected ...") does
    # not. Refused on reading, naming the products file, row and column; nothing written.
    from conftest import add_customer_order
    from typer.testing import CliRunner

    from stockplan.cli import app

    folder = small_shop.parent
    products = pl.read_csv(folder / "products.csv", schema_overrides={"sku": pl.String})
    products.with_columns(
        name=pl.when(pl.col("sku") == "A-100").then(pl.lit("N" * 32_760)).otherwise("name")
    ).write_csv(folder / "products.csv")
    add_customer_order(small_shop, "A-100", 300)
    target = tmp_path / "plan.xlsx"
    result = CliRunner().invoke(app, ["plan", "-c", str(small_shop), "-o", str(target), "-q"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        f"stockplan: error: {folder / 'products.csv'}, row 2, column 'name': 'NNN"
    )
    assert result.stderr.endswith(
        "' is longer than 31,767 characters: a notice or reason quoting it would not fit the "
        "32,767 characters a spreadsheet cell holds\n"
    )
    assert not target.exists()
    # 1,000 characters shorter it fits, notice and all
    products.with_columns(
        name=pl.when(pl.col("sku") == "A-100").then(pl.lit("N" * 31_767)).otherwise("name")
    ).write_csv(folder / "products.csv")
    result = CliRunner().invoke(app, ["plan", "-c", str(small_shop), "-o", str(target), "-q"])
    assert result.exit_code == 0, result.output
    import openpyxl

    notices = openpyxl.load_workbook(target, read_only=True)["notices"]
    messages = [row[11] for row in notices.iter_rows(min_row=2, values_only=True)]
    assert any(m and "N" * 31_767 in m for m in messages)
