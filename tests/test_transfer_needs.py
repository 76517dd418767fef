"""What a transfer covers: a move below `transfers.min_qty` takes nothing off a need, a
location owing customers with no forecast of its own is covered, and the summary counts
every high-risk line of a location. Numbers worked out by hand in each test."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from conftest import write_shop_config
from typer.testing import CliRunner

from stockplan.cli import app
from stockplan.config import Transfers
from stockplan.transfers import plan_transfers

AS_OF = dt.date(2025, 10, 13)


def _cells(on_hand: dict[str, float], order_up_to: float = 210.0) -> pl.DataFrame:
    """One item at each location of `on_hand`, no backorders, nothing on order: position =
    on hand; reorder point = order-up-to (an (R, S) item)."""
    return pl.DataFrame(
        {
            "sku": ["M-1"] * len(on_hand),
            "location": list(on_hand),
            "on_hand": list(on_hand.values()),
            "allocated": [0.0] * len(on_hand),
            "backorders": [0.0] * len(on_hand),
            "inventory_position": list(on_hand.values()),
            "reorder_point": [order_up_to] * len(on_hand),
            "order_up_to": [order_up_to] * len(on_hand),
            "forecast_per_day": [10.0] * len(on_hand),
        }
    )


def _moves(frame: pl.DataFrame) -> list[tuple]:
    return sorted(frame.select("from_location", "to_location", "quantity").rows())


def test_a_move_below_min_qty_takes_nothing_off_the_need_and_the_receiver_asks_the_next_donor():
    # S = 210 everywhere. Surplus: A 315 - 210 = 105, B 270 - 210 = 60; need: C 210 - 110 =
    # 100, D 210 - 160 = 50. Turn 1 both ask A (largest surplus), C first (largest need):
    # C takes 100, D would take A's last 5 < min_qty 10: not made, D still needs 50.
    # Turn 2: D asks B, which gives 50 (B keeps 10 above S). Nothing is left to buy.
    rows = _cells({"WH-A": 315.0, "WH-B": 270.0, "WH-C": 110.0, "WH-D": 160.0})
    moves = plan_transfers(rows, Transfers(min_qty=10), AS_OF)
    assert _moves(moves) == [("WH-A", "WH-C", 100.0), ("WH-B", "WH-D", 50.0)]
    # with min_qty 1 the 5 is a move: D takes 5 from A, then 45 from B (the same 150 moved)
    assert _moves(plan_transfers(rows, Transfers(min_qty=1), AS_OF)) == [
        ("WH-A", "WH-C", 100.0),
        ("WH-A", "WH-D", 5.0),
        ("WH-B", "WH-D", 45.0),
    ]


def test_a_need_below_min_qty_keeps_no_donor_stock_from_a_receiver_after_it():
    # S = 100. Surplus: A 130 - 100 = 30, B 115 - 100 = 15. Needs: C 100 - 94 = 6 (below
    # min_qty 10), D 100 - 75 = 25. A new order lands in 5 days; B's lane to C takes 9, so
    # C reaches only A and asks it before D (fewest donors first). C's 6 moves nothing, so
    # it must leave A's 30 to D: D takes 25 from A. (Counting C's 6 first left D 24 from A
    # and a 1 from B under min_qty: D bought for the 1 unit.)
    rows = _cells({"WH-A": 130.0, "WH-B": 115.0, "WH-C": 94.0, "WH-D": 75.0}, 100.0)
    rows = rows.with_columns(expected_arrival=pl.lit(AS_OF + dt.timedelta(days=5)))
    lanes = Transfers(min_qty=10, transit_days_between={"WH-B": {"WH-C": 9}})
    assert _moves(plan_transfers(rows, lanes, AS_OF)) == [("WH-A", "WH-D", 25.0)]


def _write_even_seller(folder: Path, on_hand: dict[str, int], moq: int) -> None:
    """M-1 selling exactly 10 a day at every location of `on_hand` for the 26 weeks before
    AS_OF; 14-day lead time without spread, so S = 10 x (14 + 7) = 210 with no safety stock
    (no forecast error)."""
    start = AS_OF - dt.timedelta(weeks=26)
    days = [start + dt.timedelta(days=i) for i in range((AS_OF - start).days)]
    pl.DataFrame(
        {
            "date": [d for d in days for _ in on_hand],
            "sku": "M-1",
            "location": [loc for _ in days for loc in on_hand],
            "quantity": 10,
        }
    ).write_csv(folder / "sales.csv")
    pl.DataFrame(
        {"sku": "M-1", "location": list(on_hand), "on_hand": list(on_hand.values())}
    ).write_csv(folder / "stock.csv")
    (folder / "products.csv").write_text(
        f"sku,unit_cost,unit_price,supplier,pack_size,moq\nM-1,10,20,S1,1,{moq}\n"
    )
    (folder / "suppliers.csv").write_text("supplier,lead_time_days,lead_time_std_days\nS1,14,0\n")


def test_the_plan_moves_the_next_donors_stock_instead_of_buying_the_moq(tmp_path: Path):
    # as the first test, through a plan: before, D took 5 from A (dropped as < 10) and 45 from
    # B, and bought the MOQ of 50 for the 5 it still lacked while B kept 15 above its S
    _write_even_seller(tmp_path, {"WH-A": 315, "WH-B": 270, "WH-C": 110, "WH-D": 160}, moq=50)
    config = write_shop_config(
        tmp_path, AS_OF, ["sales", "stock", "products", "suppliers"], transfers={"min_qty": 10}
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["plan", "-c", str(config), "-o", str(out), "--all", "-q"])
    assert result.exit_code == 0, result.output
    orders = pl.read_csv(out / "orders.csv")
    assert orders.filter(pl.col("order_up_to") != 210).height == 0  # the hand calculation
    assert _moves(pl.read_csv(out / "transfers.csv")) == [
        ("WH-A", "WH-C", 100.0),
        ("WH-B", "WH-D", 50.0),
    ]
    assert orders["order_qty"].sum() == 0
    d = orders.filter(pl.col("location") == "WH-D").row(0, named=True)
    assert d["reason"] == "no order: a transfer in of 50 lifts position to 210 (reorder point 210)"


def _owing_web_shop(folder: Path, store_on_hand: int, moq: int = 0) -> Path:
    """K-1 sells 10 a day at STORE for the 13 weeks before AS_OF (S about 234 with a 14-day
    lead time and R = 7); WEB has 0 on hand, no sales, and one open customer order of 12
    promised 2025-10-14; POPUP has 0 on hand, no sales and no order. Returns the config."""
    start = AS_OF - dt.timedelta(weeks=13)
    pl.DataFrame(
        {
            "date": [start + dt.timedelta(days=i) for i in range((AS_OF - start).days)],
            "sku": "K-1",
            "location": "STORE",
            "quantity": 10,
        }
    ).write_csv(folder / "sales.csv")
    (folder / "stock.csv").write_text(
        f"sku,location,on_hand\nK-1,STORE,{store_on_hand}\nK-1,WEB,0\nK-1,POPUP,0\n"
    )
    (folder / "products.csv").write_text(
        f"sku,unit_cost,unit_price,supplier,pack_size,moq\nK-1,10,20,S1,1,{moq}\n"
    )
    (folder / "suppliers.csv").write_text("supplier,lead_time_days,lead_time_std_days\nS1,14,0\n")
    (folder / "customer_orders.csv").write_text(
        "order_id,sku,location,quantity,order_date,promised_date\n"
        "C1,K-1,WEB,12,2025-10-10,2025-10-14\n"
    )
    tables = ["sales", "stock", "products", "suppliers", "customer_orders"]
    return write_shop_config(folder, AS_OF, tables)


def _plan(config: Path, out: Path, *extra: str) -> tuple[pl.DataFrame, pl.DataFrame, object]:
    """(orders, transfers, the run's result) of `stockplan plan --all` into `out`."""
    result = CliRunner().invoke(app, ["plan", "-c", str(config), "-o", str(out), "--all", *extra])
    assert result.exit_code == 0, result.output
    orders = pl.read_csv(out / "orders.csv")
    return orders, pl.read_csv(out / "transfers.csv"), result


def _row(orders: pl.DataFrame, location: str) -> dict:
    return orders.filter(pl.col("location") == location).row(0, named=True)


def test_open_customer_orders_without_a_forecast_are_covered_by_a_transfer(tmp_path: Path):
    # WEB: position = 0 on hand - 12 backorders = -12, no forecast: it lacks 12. STORE holds
    # 600 against S about 234: it sends the 12 (a move lands today), WEB buys nothing and the
    # order ships today. Before: no transfer, no order, and the notice said "not covered".
    out = tmp_path / "out"
    orders, transfers, result = _plan(_owing_web_shop(tmp_path, 600), out)
    web = _row(orders, "WEB")
    assert (web["forecast_per_day"], web["backorders"], web["order_qty"]) == (0, 12, 0)
    assert web["inventory_position"] == 0  # -12 + the 12 moved in
    assert web["reason"] == (
        "no order: a transfer in of 12 covers the open customer orders, no forecast demand "
        "(position 0)"
    )
    (move,) = transfers.rows(named=True)
    assert (move["from_location"], move["to_location"], move["quantity"]) == ("STORE", "WEB", 12)
    assert move["reason"].startswith(
        "WEB owes open customer orders with no forecast demand (position -12); STORE holds "
    )
    store = _row(orders, "STORE")
    assert store["transfer_qty"] == -12 and store["inventory_position"] == 588
    # POPUP has neither demand nor customer orders: it orders and receives nothing, as before
    popup = _row(orders, "POPUP")
    assert (popup["order_qty"], popup["transfer_qty"]) == (0, 0)
    assert popup["reason"] == "no order: no forecast demand"
    (notice,) = pl.read_csv(out / "notices.csv").rows(named=True)
    assert notice["filled_from"] == "transfer from STORE"
    assert notice["expected_fill_date"] == "2025-10-13"
    assert "the plan orders or moves stock for them: check them" in result.output


def test_open_customer_orders_without_a_forecast_are_bought_where_no_stock_is_spare(
    tmp_path: Path,
):
    # STORE holds 200, under its own S: no donor. WEB lacks 12 and buys them, raised to
    # the MOQ of 50; they arrive 14 days on (2025-10-27), the notice's fill date.
    config = _owing_web_shop(tmp_path, 200, moq=50)
    out = tmp_path / "out"
    orders, transfers, _ = _plan(config, out)
    assert transfers.height == 0
    web = _row(orders, "WEB")
    assert (web["inventory_position"], web["order_qty"], web["order_value"]) == (-12, 50, 500)
    assert web["expected_arrival"] == "2025-10-27"
    assert web["reason"].endswith(
        "position -12 below 0 for open customer orders, no forecast demand: need 12 to cover "
        "them; raised to MOQ 50"
    )
    assert _row(orders, "POPUP")["order_qty"] == 0
    (notice,) = pl.read_csv(out / "notices.csv").rows(named=True)
    assert notice["filled_from"] == "this week's suggested order"
    assert notice["expected_fill_date"] == "2025-10-27"
    # in Chinese, the reason in the buyer's words
    zh, _, _ = _plan(config, tmp_path / "zh", "--lang", "zh", "-q")
    reason = zh.filter(pl.col("仓库") == "WEB")["原因"].item()
    assert reason.endswith(
        "库存位置 -12 因未发客户订单低于 0，无预测需求：需 12 满足这些订单；按最小起订量提高到 50"
    )


def test_the_summary_per_location_counts_every_high_risk_line_as_the_headline():
    # orders: W1 buys A (high risk) and B (low); W2 buys nothing. Risk: A@W1 high, C@W2 and
    # D@W2 high (their transfer lands after they run out), B@W1 low: headline 3 high.
    orders = pl.DataFrame(
        {
            "sku": ["A", "B"],
            "location": ["W1", "W1"],
            "supplier": ["S", "S"],
            "order_qty": [10.0, 5.0],
            "order_value": [100.0, 50.0],
            "risk_level": ["high", "low"],
        }
    )
    risk = pl.DataFrame(
        {
            "sku": ["A", "B", "C", "D"],
            "location": ["W1", "W1", "W2", "W2"],
            "risk_level": ["high", "low", "high", "high"],
        }
    )
    from stockplan.io.writers import summary_sheet

    for lang, title in (("en", "orders per location"), ("zh", "按仓库汇总")):
        lines, blocks = summary_sheet({"orders": orders, "risk": risk}, {"as_of": "x"}, lang)
        headline = dict(line[:2] for line in lines)
        block = dict(blocks)[title]
        # location, lines, order_qty, order_value, high_risk; W2: no line, 0 value, 2 high
        assert block.rows() == [("W1", 2, 15.0, 150.0, 1), ("W2", 0, 0.0, 0.0, 2)]
        high = "items at high stockout risk" if lang == "en" else "高缺货风险商品数"
        assert headline[high] == 3 == sum(row[-1] for row in block.rows())
        # the supplier block still counts its order lines
        assert dict(blocks)[blocks[0][0]].rows() == [("S", 2, 15.0, 150.0, 1)]


def test_a_location_whose_transfers_land_too_late_shows_in_the_workbooks_summary(
    tmp_path: Path,
):
    # P-1 and P-2 sell 10 a day at D and R; D holds 1,000 of each, R none. A transfer takes
    # 10 days, a new order 14: R's need comes from D, so R orders nothing, but R has nothing
    # for 10 days: both R lines are at high risk with no order line at all.
    import openpyxl

    from stockplan.io.writers import sheet_name

    start = AS_OF - dt.timedelta(weeks=13)
    days = [start + dt.timedelta(days=i) for i in range((AS_OF - start).days)]
    cells = [(sku, loc) for sku in ("P-1", "P-2") for loc in ("D", "R")]
    pl.DataFrame(
        {
            "date": [d for d in days for _ in cells],
            "sku": [sku for _ in days for sku, _ in cells],
            "location": [loc for _ in days for _, loc in cells],
            "quantity": 10,
        }
    ).write_csv(tmp_path / "sales.csv")
    (tmp_path / "stock.csv").write_text(
        "sku,location,on_hand\nP-1,D,1000\nP-1,R,0\nP-2,D,1000\nP-2,R,0\n"
    )
    (tmp_path / "products.csv").write_text(
        "sku,unit_cost,unit_price,supplier\nP-1,10,20,S1\nP-2,10,20,S1\n"
    )
    (tmp_path / "suppliers.csv").write_text("supplier,lead_time_days,lead_time_std_days\nS1,14,0\n")
    config = write_shop_config(
        tmp_path,
        AS_OF,
        ["sales", "stock", "products", "suppliers"],
        transfers={"transit_days": 10},
    )
    for lang in ("en", "zh"):
        target = tmp_path / f"plan_{lang}.xlsx"
        argv = ["plan", "-c", str(config), "-o", str(target), "--lang", lang, "-q"]
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == 0, result.output
        book = openpyxl.load_workbook(target)
        risk = pl.read_excel(target, sheet_name=sheet_name("risk", lang))
        assert risk.height == 4  # D: low, R: high, for each item
        moves = pl.read_excel(target, sheet_name=sheet_name("transfers", lang))
        # D -> R of each item, landing on day 10, and the totals row
        assert moves.to_series(0).to_list()[:2] == ["P-1", "P-2"] and moves.height == 3
        summary = [
            [c for c in row if c is not None]
            for row in book.worksheets[0].iter_rows(values_only=True)
        ]
        high = "items at high stockout risk" if lang == "en" else "高缺货风险商品数"
        (headline,) = [row[1] for row in summary if row and row[0] == high]
        assert headline == 2
        title = "orders per location" if lang == "en" else "按仓库汇总"
        at = summary.index([title])
        # the block: its header, then R: 0 lines, 0 units, 0 value, 2 high-risk items
        assert summary[at + 2] == ["R", 0, 0, 0, 2]
