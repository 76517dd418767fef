"""An old item is bought only for the demand its order can still meet before its successor
takes over: an order landing on or after the switch date buys nothing, and one landing
before it at most the demand between its arrival and the switch. Numbers by hand on a
one-warehouse shop."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import polars as pl
from conftest import write_shop_config
from typer.testing import CliRunner

from stockplan.cli import app

AS_OF = dt.date(2025, 10, 13)
SWITCH = AS_OF + dt.timedelta(days=14)


def _shop(folder: Path, on_hand: int, lead_time_days: int, **sections: object) -> Path:
    """A sells 9 and 11 on alternate days (10 a day) at WH1 from 2025-01-06, `on_hand`
    in stock; B, not sold yet, replaces it 14 days after as_of; both from Acme with
    `lead_time_days`, no MOQ, packs of 1; more config `sections` as given."""
    days = (AS_OF - dt.date(2025, 1, 6)).days
    pl.DataFrame(
        {
            "date": [dt.date(2025, 1, 6) + dt.timedelta(days=i) for i in range(days)],
            "sku": "A",
            "warehouse": "WH1",
            "qty": [9 if i % 2 == 0 else 11 for i in range(days)],
            "price": 20.0,
        }
    ).write_csv(folder / "sales.csv")
    pl.DataFrame(
        {"sku": ["A", "B"], "location": "WH1", "on_hand": [on_hand, 0], "allocated": 0}
    ).write_csv(folder / "stock.csv")
    pl.DataFrame(
        {
            "sku": ["A", "B"],
            "name": ["Old", "New"],
            "unit_cost": 10.0,
            "unit_price": 20.0,
            "supplier": "Acme",
            "pack_size": 1,
            "moq": 0,
        }
    ).write_csv(folder / "products.csv")
    pl.DataFrame(
        {"supplier": ["Acme"], "lead_time_days": [lead_time_days], "lead_time_std_days": [0]}
    ).write_csv(folder / "suppliers.csv")
    pl.DataFrame(
        {"old_sku": ["A"], "new_sku": ["B"], "date": [SWITCH.isoformat()], "share": [1]}
    ).write_csv(folder / "succession.csv")
    return write_shop_config(
        folder,
        AS_OF,
        ["sales", "stock", "products", "suppliers", "succession"],
        calendars={"public_holidays": "none"},
        **sections,
    )


def _old_item_line(config: Path) -> dict:
    result = CliRunner().invoke(
        app,
        ["plan", "-c", str(config), "-o", "-", "-q", "--no-cache", "--all"]
        + ["--columns", "sku,order_qty,expected_arrival,order_up_to_cap,reason"],
    )
    assert result.exit_code == 0, result.output
    rows = pl.read_csv(io.StringIO(result.stdout), infer_schema_length=0)
    return rows.filter(pl.col("sku") == "A").row(0, named=True)


def test_an_old_item_whose_order_lands_after_the_switch_is_not_ordered(tmp_path: Path):
    """Lead time 28 days: an order placed today lands on 2025-11-10, two weeks after B
    replaces A on 2025-10-27; none of it sells as A, so A orders 0 (it ordered 90, up to
    the 140 A sells until the switch), cap 0, and the reason says why."""
    line = _old_item_line(_shop(tmp_path, on_hand=50, lead_time_days=28))
    assert line["order_qty"] == "0"
    assert line["expected_arrival"] == "2025-11-10"
    assert line["order_up_to_cap"] == "0"
    assert line["reason"] == (
        "no order: an order today would arrive on 2025-11-10, on or after B replaces it "
        "on 2025-10-27"
    )


def test_an_old_item_that_sells_out_before_its_order_lands_buys_only_what_sells_after(
    tmp_path: Path,
):
    """Lead time 7 days: the order lands on 2025-10-20, 7 days before the switch. The
    50 on hand sell out on day 5 (days 5-7 are lost sales, not owed), so the order sells
    only days 7-14, 7 x 10 = 70: A orders 70 up to 50 + 70 = 120, not the 140 A sells
    until the switch, which bought 90 and left 20 over at the switch."""
    line = _old_item_line(_shop(tmp_path, on_hand=50, lead_time_days=7))
    assert (line["order_qty"], line["order_up_to_cap"]) == ("70", "120")
    assert line["reason"].endswith(
        "order-up-to capped at 120: position 50 runs out before an order arrives on "
        "2025-10-20, which sells only 70 until B replaces it on 2025-10-27; need 70 to "
        "reach the cap 120"
    )


def test_an_old_item_still_stocked_at_the_arrival_is_capped_at_the_demand_until_the_switch(
    tmp_path: Path,
):
    """Lead time 7 days, 100 on hand: 30 are left when the order lands on day 7, so it
    needs 70 - 30 = 40 for days 7-14, i.e. up to the 140 A sells until the switch (the
    order's own limit, 100 + 70 = 170, is looser)."""
    line = _old_item_line(_shop(tmp_path, on_hand=100, lead_time_days=7))
    assert (line["order_qty"], line["order_up_to_cap"]) == ("40", "140")
    assert "order-up-to capped at 140: demand until B replaces it on 2025-10-27" in line["reason"]


def test_a_top_up_to_the_suppliers_minimum_stays_under_the_old_items_order_limit(
    tmp_path: Path,
):
    """As above (50 on hand, lead time 7 days: A orders 70 up to 120), Acme's minimum order
    value 5000 and `minimum_order_value: top_up`: the top up may not take A past 120 (it
    took it to the 140 sold until the switch, 90 units, 20 of them left at the switch)."""
    config = _shop(
        tmp_path,
        on_hand=50,
        lead_time_days=7,
        purchasing={"minimum_order_value": "top_up"},
    )
    suppliers = pl.read_csv(tmp_path / "suppliers.csv")
    suppliers.with_columns(pl.lit(5000.0).alias("moq_value")).write_csv(tmp_path / "suppliers.csv")
    line = _old_item_line(config)
    assert (line["order_qty"], line["order_up_to_cap"]) == ("70", "120")
    assert "topped up" not in line["reason"]
