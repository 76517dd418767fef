"""Cells that are valid numbers and dates but cannot be meant: a sale in a later century, a
promotion that ends before it starts or lifts demand below zero, a planning date years
after the last sale. Each is refused naming file, row and column (exit 1, no output), or
kept with a warning where it may be meant."""

from __future__ import annotations

import datetime as dt
import warnings
import zipfile
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from stockplan.cli import app
from stockplan.config import load_config
from stockplan.io.prepare import future_sales

runner = CliRunner()


def _plan(config: Path, target: Path, *extra: str):
    return runner.invoke(app, ["plan", "-c", str(config), "-o", str(target), *extra])


def _with_promotions(config: Path, rows: str) -> None:
    _add(config, "promotions", "promotions.csv", "sku,start,end,uplift\n" + rows)


def _without_planning_date(config: Path) -> None:
    settings = yaml.safe_load(config.read_text())
    settings["planning"].pop("as_of", None)
    config.write_text(yaml.safe_dump(settings))


def test_a_sale_dated_after_today_is_refused_naming_its_row(small_shop: Path, tmp_path: Path):
    _without_planning_date(small_shop)  # the plan is made the day after the last sale
    sales = small_shop.parent / "sales.csv"
    lines = sales.read_text().splitlines()
    lines[-1] = "2099" + lines[-1][4:]  # a mistyped year on the last line
    sales.write_text("\n".join(lines) + "\n")
    target = tmp_path / "plan.xlsx"
    result = _plan(small_shop, target)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"stockplan: error: {sales}, row {len(lines)}, column 'date': "
        f"2099{lines[-1][4:10]} is after today ({dt.date.today()}; 1 such line): the plan would "
        "be made as of the day after it; correct the date, or set planning.as_of"
    ]
    assert not target.exists()
    # with a planning date the line is ignored, as every sale on or after it is
    result = _plan(small_shop, target, "--as-of", "2025-10-13")
    assert result.exit_code == 0, result.output
    assert "are ignored" in result.stderr


def test_the_check_uses_the_day_it_runs_and_allows_one_day_for_time_zones(small_shop: Path):
    _without_planning_date(small_shop)
    config = load_config(small_shop)
    sales = pl.DataFrame({"date": [dt.date(2026, 11, 27)], "source_row": [2]})
    future_sales(sales, config, today=dt.date(2026, 11, 26))  # tomorrow: a time zone apart
    with pytest.raises(Exception, match="row 2, column 'date': 2026-11-28 is after today"):
        later = sales.with_columns(pl.lit(dt.date(2026, 11, 28)).alias("date"))
        future_sales(later, config, today=dt.date(2026, 11, 26))


SNAPSHOTS = (
    "date,sku,location,on_hand,allocated\n"
    "2025-10-05,A-100,WH1,100,0\n2025-10-05,A-100,WH2,560,0\n2025-10-05,007,WH1,6,0\n"
    "2025-10-12,A-100,WH1,40,5\n2025-10-12,A-100,WH2,500,0\n{last},007,WH1,3,0\n"
)
"""A weekly stock history whose last row (row 7) is dated `{last}`."""


def _orders(folder: Path) -> dict[tuple[str, str], dict]:
    orders = pl.read_csv(folder / "orders.csv", schema_overrides={"sku": pl.String})
    return {(r["sku"], r["location"]): r for r in orders.iter_rows(named=True)}


@pytest.mark.parametrize("year", ["2052", "2026"])
def test_a_stock_snapshot_dated_after_the_planning_date_is_ignored_and_warned(
    small_shop: Path, tmp_path: Path, year: str
):
    # one row of a weekly history typed 2052 (or 2026) for 2025 made WH1's newest snapshot
    # that year: A-100@WH1, in every real snapshot, was taken as 0 on hand and over-ordered
    stock = small_shop.parent / "stock.csv"
    stock.write_text(SNAPSHOTS.format(last=f"{year}-10-12"))
    out = tmp_path / "out"
    out.mkdir()
    result = _plan(small_shop, out, "--all")
    assert result.exit_code == 0, result.output
    assert (
        f"stockplan: warning: {stock}, row 7, column 'date': 1 row is dated after "
        f"planning.as_of 2025-10-13 (up to {year}-10-12) and ignored: the current stock is "
        "each item's latest snapshot on or before it; check the year"
    ) in result.stderr.splitlines()
    orders = _orders(out)
    assert orders[("A-100", "WH1")]["on_hand"] == 40
    assert orders[("A-100", "WH1")]["allocated"] == 5
    assert orders[("A-100", "WH2")]["on_hand"] == 500
    # 007's real snapshots end on 2025-10-05: missing from WH1's newest, said in the notes
    assert orders[("007", "WH1")]["on_hand"] == 0
    assert "missing from their location's newest snapshot, taken as 0 on hand: 007@WH1" in (
        result.stderr
    )
    result = runner.invoke(app, ["validate", "-c", str(small_shop), "--lang", "zh"])
    assert (
        f"{stock}，第 7 行，列 'date'：1 行库存的日期晚于计划日期 planning.as_of 2025-10-13（至 "
        f"{year}-10-12），已忽略" in result.stderr
    )


def test_a_stock_snapshot_dated_after_today_is_refused_without_a_planning_date(
    small_shop: Path, tmp_path: Path
):
    _without_planning_date(small_shop)
    stock = small_shop.parent / "stock.csv"
    stock.write_text(SNAPSHOTS.format(last="2052-10-12"))
    assert _refused(small_shop, tmp_path) == (
        f"stockplan: error: {stock}, row 7, column 'date': snapshot date 2052-10-12 is after "
        f"today ({dt.date.today()}; 1 row is dated after it): it would be taken as the current "
        "stock; correct the date, or set planning.as_of"
    )
    result = runner.invoke(app, ["validate", "-c", str(small_shop), "--lang", "zh"])
    assert result.exit_code == 1
    assert f"{stock}，第 7 行，列 'date'：库存快照日期 2052-10-12 晚于今天" in result.stderr


def test_a_stock_file_dated_wholly_after_the_planning_date_is_refused(
    small_shop: Path, tmp_path: Path
):
    # ignoring every row would plan with nothing in stock
    stock = small_shop.parent / "stock.csv"
    stock.write_text(
        "盘点日期,sku,location,on_hand\n"
        "2025-10-20,A-100,WH1,40\n2025-10-20,A-100,WH2,500\n2025-10-20,007,WH1,3\n",
        encoding="utf-8",
    )
    assert _refused(small_shop, tmp_path) == (
        f"stockplan: error: {stock}, row 2, column '盘点日期' (date): every stock row is dated "
        "after planning.as_of 2025-10-13 (the first 2025-10-20): the plan would start with "
        "nothing in stock; set planning.as_of to the snapshot's day or later, or correct the "
        "dates"
    )


def test_stock_snapshots_after_the_planning_date_are_told_over_every_partition(
    small_shop: Path,
):
    """A cluster's tasks read their own stock slices: each drops its rows dated after
    planning.as_of, and the driver names the earliest over every part file."""
    from stockplan.io.prepare import check_read_facts, prepare_items_slice

    config = load_config(small_shop)
    slices = [
        pl.DataFrame(
            {
                "source_file": [part] * 2,
                "source_row": [2, 3],
                "date": [dt.date(2025, 10, 12), dt.date(year, 10, 12)],
                "sku": [sku, sku],
                "location": ["WH1", "WH1"],
                "on_hand": [40.0, 3.0],
            }
        )
        for part, sku, year in (("b.parquet", "A-100", 2052), ("a.parquet", "007", 2026))
    ]
    prepared = [prepare_items_slice({"stock": s}, {"stock"}, "WH1", config) for s in slices]
    assert [t["stock"]["date"].to_list() for t, _ in prepared] == [[dt.date(2025, 10, 12)]] * 2
    warnings = check_read_facts([f for _, f in prepared], {}, config, None)
    assert (
        "a.parquet, row 3, column 'date': 2 rows are dated after planning.as_of 2025-10-13 "
        "(up to 2052-10-12) and ignored"
    ) in warnings[0]


def test_a_planning_date_long_after_the_last_sale_is_warned(small_shop: Path, tmp_path: Path):
    result = _plan(small_shop, tmp_path / "plan.xlsx", "--as-of", "2030-01-01")
    assert result.exit_code == 0, result.output
    last = pl.read_csv(small_shop.parent / "sales.csv", try_parse_dates=True)["date"].max()
    days = (dt.date(2030, 1, 1) - last).days
    assert (
        f"the last sale is {last}, {days} days before the planning date 2030-01-01: every item "
        "looks dead (no sale in 91 days)"
    ) in result.stderr


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "A-100,2025-11-20,2025-11-10,0.5",
            "row 2, column 'end': 2025-11-10 is before 'start' 2025-11-20",
        ),
        (
            "A-100,2025-11-10,2025-11-20,-5",
            "row 2, column 'uplift': -5 is not a lift: the promotion's demand is forecast x "
            "(1 + uplift), so it must be above -1 (e.g. 0.3 for +30 %)",
        ),
        ("A-100,2025-11-10,2025-11-20,-1", "column 'uplift': -1 is not a lift"),
    ],
)
def test_an_impossible_promotion_is_refused(
    small_shop: Path, tmp_path: Path, row: str, message: str
):
    _with_promotions(small_shop, row + "\n")
    target = tmp_path / "plan.xlsx"
    result = _plan(small_shop, target)
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"stockplan: error: {small_shop.parent / 'promotions.csv'}, ")
    assert message in line
    assert not target.exists()


def test_an_uplift_that_reads_like_a_percentage_is_kept_and_warned(
    small_shop: Path, tmp_path: Path
):
    _with_promotions(small_shop, "A-100,2025-10-20,2025-10-26,100\n")
    target = tmp_path / "forecast.csv"
    result = _plan(small_shop, target, "--table", "forecast", "--headers", "canonical")
    assert result.exit_code == 0, result.output
    assert (
        "row 2, column 'uplift': 100 multiplies the promotion's forecast by 101; if it is a "
        "percentage, write 1"
    ) in result.stderr
    forecast = pl.read_csv(target)
    assert (forecast["forecast"] >= 0).all() and (forecast["lo"] <= forecast["hi"]).all()


def test_a_line_larger_than_a_year_of_the_items_sales_is_told(small_shop: Path, tmp_path: Path):
    """A-100 at WH1 sells about 10 a day (about 3,650 in the year before the planning
    date); one sales line of 100,000 and one open customer order of 50,000 are each more
    than that year: the plan still runs (they may be real) but says so."""
    sales = small_shop.parent / "sales.csv"
    frame = pl.read_csv(sales, try_parse_dates=True)
    last = frame.filter((pl.col("sku") == "A-100") & (pl.col("warehouse") == "WH1"))["date"].max()
    year = frame.filter(
        (pl.col("sku") == "A-100")
        & (pl.col("warehouse") == "WH1")
        & (pl.col("date") >= dt.date(2025, 10, 13) - dt.timedelta(days=365))
    )["qty"].sum()
    day = frame.filter(
        (pl.col("sku") == "A-100") & (pl.col("warehouse") == "WH1") & (pl.col("date") == last)
    )["qty"].sum()  # a day without order numbers is one line: the large one and the rest
    with sales.open("a") as out:
        out.write(f"{last},A-100,WH1,100000,25.0\n")
    _add(
        small_shop,
        "customer_orders",
        "customer_orders.csv",
        "order_no,customer,sku,warehouse,qty,order_date\nSO1,C1,A-100,WH1,50000,2025-10-10\n",
    )
    result = _plan(small_shop, tmp_path / "plan.xlsx")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert (
        "stockplan: sales: 1 line each larger than a year of the item's other sales (largest: "
        f"A-100 @ WH1, {100000 + day:,.0f} on {last}, against {year - day:,.0f}); the stock "
        "target covers them (policy.large_orders: cover): check them, or set "
        "policy.large_orders: make_to_order"
    ) in lines
    # the customer order is smaller than that year's sales with the large line in them
    assert not any(line.startswith("stockplan: customer_orders:") for line in lines)
    chinese = _plan(small_shop, tmp_path / "plan_zh.xlsx", "--lang", "zh")
    said = (
        f"销售（sales）：1 行各自超过该商品一年的其他销量（最大：A-100 @ WH1，{100000 + day:,.0f}"
    )
    assert said in chinese.stderr
    # without the large line the open customer order is more than the item's year
    sales.write_text("".join(sales.read_text().splitlines(keepends=True)[:-1]))
    lines = _plan(small_shop, tmp_path / "plain.xlsx").stderr.splitlines()
    assert not any(line.startswith("stockplan: sales:") for line in lines)
    assert (
        "stockplan: customer_orders: 1 line each larger than a year of the item's sales "
        f"(largest: A-100 @ WH1, 50,000, against {year:,.0f}); the plan orders or moves "
        "stock for them: check them"
    ) in lines


def test_a_unit_cost_of_zero_is_kept_and_warned(small_shop: Path, tmp_path: Path):
    products = small_shop.parent / "products.csv"
    products.write_text(
        products.read_text().replace("A-100,Steady item,12.5", "A-100,Steady item,0")
    )
    target = tmp_path / "orders.csv"
    result = _plan(small_shop, target, "--headers", "canonical", "--all")
    assert result.exit_code == 0, result.output
    assert (
        f"stockplan: warning: {products}, row 2, column 'unit_cost': 0 (1 item): their orders "
        "are valued at 0; leave the cell empty where the cost is unknown"
    ) in result.stderr.splitlines()
    orders = pl.read_csv(target)
    assert (orders.filter(pl.col("sku") == "A-100")["order_value"].fill_null(0) == 0).all()


@pytest.mark.parametrize("tiny", ["5e-324", "-1e-310", "1e-160"])
def test_a_quantity_next_to_zero_is_read_as_zero_and_told_in_stockplans_words(
    small_shop: Path, tmp_path: Path, tiny: str
):
    """A-100's sales quantities at 5e-324 (the smallest float) made numpy print `divide by
    zero` on the terminal (and 1e-160 `overflow in square`), no stockplan line; they are
    read as the 0 they stand for, with a note naming the first cell."""
    sales = small_shop.parent / "sales.csv"
    frame = pl.read_csv(sales, infer_schema=False)
    count = frame.filter(pl.col("sku") == "A-100").height
    frame.with_columns(
        pl.when(pl.col("sku") == "A-100").then(pl.lit(tiny)).otherwise(pl.col("qty")).alias("qty")
    ).write_csv(sales)
    target = tmp_path / "orders.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a raw warning fails the run
        result = _plan(small_shop, target, "--headers", "canonical", "--all")
    assert result.exit_code == 0, result.output
    assert (
        f"stockplan: warning: {sales}, row 2, column 'qty' (quantity): '{tiny}' read as 0 "
        f"({count} such cells in the column): no quantity, price or time is so near 0; a "
        "rounding residue or a damaged cell"
    ) in result.stderr.splitlines()
    orders = pl.read_csv(target, schema_overrides={"sku": pl.String})
    a100 = orders.filter(pl.col("sku") == "A-100")
    assert (a100["forecast_per_day"] == 0).all()
    chinese = _plan(small_shop, tmp_path / "plan_zh.xlsx", "--lang", "zh")
    assert (
        f"{sales}，第 2 行，列 'qty'（quantity）：'{tiny}' 按 0 读取"
        f"（该列共 {count} 个这样的单元格）"
    ) in chinese.stderr


def _add(config: Path, name: str, file: str, text: str) -> Path:
    (config.parent / file).write_text(text)
    settings = yaml.safe_load(config.read_text())
    settings["inputs"][name] = file
    config.write_text(yaml.safe_dump(settings))
    return config.parent / file


def _refused(config: Path, tmp_path: Path) -> str:
    target = tmp_path / "plan.xlsx"
    result = _plan(config, target)
    assert result.exit_code == 1, result.output
    assert not target.exists()
    (line,) = result.stderr.strip().splitlines()
    return line


def test_successions_that_go_round_in_a_circle_are_refused(small_shop: Path, tmp_path: Path):
    path = _add(
        small_shop,
        "succession",
        "succession.csv",
        "old_sku,new_sku,date\nA-100,007,2025-10-01\n007,A-100,2025-10-01\n",
    )
    assert _refused(small_shop, tmp_path) == (
        f"stockplan: error: {path}, row 2, column 'new_sku': the successions go round in a "
        "circle: A-100 -> 007 -> A-100"
    )


def test_an_override_for_every_location_overlapping_one_for_a_location_is_refused(
    small_shop: Path, tmp_path: Path
):
    path = _add(
        small_shop,
        "overrides",
        "overrides.csv",
        "sku,location,from,to,multiplier\n"
        "A-100,WH1,2025-10-13,2025-10-26,2\nA-100,,2025-10-20,2025-11-02,3\n",
    )
    assert _refused(small_shop, tmp_path) == (
        f"stockplan: error: {path}, row 3, column 'location': an override of 'A-100' for every "
        "location overlaps one for 'WH1' (row 2)"
    )


def test_a_container_of_zero_is_refused(small_shop: Path, tmp_path: Path):
    suppliers = small_shop.parent / "suppliers.csv"
    suppliers.write_text("supplier,lead_time_days,container_m3,full_loads\nAcme,14,0,true\n")
    assert _refused(small_shop, tmp_path) == (
        f"stockplan: error: {suppliers}, row 2, column 'container_m3': 0 is not a container "
        "size (leave the cell empty for a supplier without containers)"
    )


def test_a_database_blob_or_a_column_named_twice_is_one_line(small_shop: Path, tmp_path: Path):
    import sqlite3

    database = small_shop.parent / "shop.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE stock (sku TEXT, location TEXT, on_hand)")
        connection.executemany(
            "INSERT INTO stock VALUES (?, ?, ?)",
            [("A-100", "WH1", 40.0), ("A-100", "WH2", b"\x00\xff"), ("007", "WH1", 3)],
        )
    settings = yaml.safe_load(small_shop.read_text())
    settings["inputs"]["stock"] = {"url": f"sqlite:///{database}", "table": "stock"}
    small_shop.write_text(yaml.safe_dump(settings))
    assert _refused(small_shop, tmp_path) == (
        f"stockplan: error: inputs.stock (sqlite:///{database}, table stock), row 2, column "
        "'on_hand': a binary value (BLOB) where text or a number belongs"
    )
    query = "SELECT sku, location, on_hand, on_hand AS on_hand FROM stock WHERE sku = '007'"
    settings["inputs"]["stock"] = {"url": f"sqlite:///{database}", "query": query}
    small_shop.write_text(yaml.safe_dump(settings))
    line = _refused(small_shop, tmp_path)
    assert line.endswith("the query returns the column 'on_hand' twice")


def test_a_closure_past_the_calendar_still_delays_the_arrival():
    """Open 2025-12-25..12-31, closed from 2026-01-01 beyond the calendar's end (03-01):
    an order on 12-29 with 5 open days of lead time has 3 of them in December (29, 30,
    31), the other 2 on the first days after the calendar (03-02, 03-03), and arrives the
    day after, 03-04; one of 3 open days on 12-26 arrives 12-29, inside the calendar."""
    from stockplan.calendar import arrival_dates, open_days

    closures = pl.DataFrame(
        {
            "supplier": ["S"],
            "from": [dt.date(2026, 1, 1)],
            "to": [dt.date(2099, 12, 31)],
            "note": ["bankrupt"],
            "except": [[]],
        },
        schema_overrides={"except": pl.List(pl.String)},
    )
    calendar = open_days(closures, pl.Series(["S"]), dt.date(2025, 12, 25), dt.date(2026, 3, 1))
    orders = pl.DataFrame(
        {"supplier": ["S", "S"], "day": [dt.date(2025, 12, 29), dt.date(2025, 12, 26)]}
    ).with_columns(pl.Series("lead", [5.0, 3.0]))
    arrived = arrival_dates(orders, calendar, "day", "lead", "arrival")
    assert arrived["arrival"].to_list() == [dt.date(2026, 3, 4), dt.date(2025, 12, 29)]


def test_a_price_break_at_zero_is_kept_and_warned(small_shop: Path, tmp_path: Path):
    path = _add(
        small_shop,
        "price_breaks",
        "price_breaks.csv",
        "supplier,sku,min_qty,unit_price\nAcme,A-100,1,12.5\nAcme,A-100,100,0\n",
    )
    result = _plan(small_shop, tmp_path / "plan.xlsx")
    assert result.exit_code == 0, result.output
    assert (
        f"stockplan: warning: {path}, row 3, column 'unit_price': 0 (1 row): their orders are "
        "valued at 0; leave the cell empty where the cost is unknown"
    ) in result.stderr.splitlines()


def test_an_item_whose_shelf_life_ends_before_it_can_be_sold_is_not_ordered(
    small_shop: Path, tmp_path: Path
):
    products = small_shop.parent / "products.csv"
    frame = pl.read_csv(products, schema_overrides={"sku": pl.String})
    frame.with_columns(
        pl.when(pl.col("sku") == "A-100").then(20).otherwise(None).alias("shelf_life_days")
    ).write_csv(products)
    settings = yaml.safe_load(small_shop.read_text())
    settings["shelf_life"] = {"sell_by_days": 30}
    small_shop.write_text(yaml.safe_dump(settings))
    target = tmp_path / "orders.csv"
    result = _plan(small_shop, target, "--all", "--headers", "canonical")
    assert result.exit_code == 0, result.output
    orders = pl.read_csv(target, schema_overrides={"sku": pl.String}).filter(
        pl.col("sku") == "A-100"
    )
    assert orders.height == 2 and (orders["order_qty"] == 0).all()
    assert (orders["order_up_to"] == 0).all()
    assert all(
        "order-up-to capped at 0 by shelf life: 20 days is not more than the 30 sell-by days, "
        "so nothing received could be sold" in reason
        for reason in orders["reason"]
    )
    chinese = tmp_path / "orders_zh.csv"
    assert _plan(small_shop, chinese, "--all", "--lang", "zh").exit_code == 0
    shown = pl.read_csv(chinese, schema_overrides={"商品编码": pl.String})
    reasons = shown.filter(pl.col("商品编码") == "A-100")["原因"].to_list()
    assert all("保质期 20 天不超过停售前 30 天，到货后无法销售" in r for r in reasons)


def test_an_override_that_reads_like_a_typo_is_kept_and_warned(small_shop: Path, tmp_path: Path):
    # 007 sold 2 units every 4th day for 40 weeks: 140 in all; x 50 reads like +50 %
    path = _add(
        small_shop,
        "overrides",
        "overrides.csv",
        "sku,location,from,to,quantity,multiplier\n"
        "007,WH1,2025-10-13,2025-10-19,90000000,\n"
        "A-100,WH1,2025-10-13,2025-10-19,,50\n",
    )
    target = tmp_path / "plan.csv"
    result = _plan(small_shop, target, "--all")
    assert result.exit_code == 0, result.output
    warnings = result.stderr.splitlines()
    assert (
        f"stockplan: warning: {path}, row 3, column 'multiplier': 50 multiplies the forecast "
        "by 50; if +50 % is meant, write 1.5"
    ) in warnings
    assert (
        f"stockplan: warning: {path}, row 2, column 'quantity': 90,000,000 from 2025-10-13 to "
        "2025-10-19 is more than '007' sold in the whole sales file (140); the plan orders "
        "for it"
    ) in warnings
    # kept: the plan orders for the override, as the warning says
    plan = pl.read_csv(target, schema_overrides={"sku": pl.String})
    assert plan.filter(pl.col("sku") == "007")["order_qty"][0] > 80_000_000
    chinese = _plan(small_shop, tmp_path / "plan_zh.csv", "--lang", "zh")
    assert (
        f"{path}, 第 2 行, 列 'quantity'：2025-10-13 至 2025-10-19 调整为 90,000,000，超过 '007' "
        "在整个销售文件中的销量（140）；计划会按此订货"
    ) in chinese.stderr


def test_a_closure_longer_than_half_a_year_is_kept_and_warned(small_shop: Path, tmp_path: Path):
    path = _add(
        small_shop,
        "closures",
        "closures.csv",
        "supplier,from,to\nAcme,2025-10-20,2026-12-20\nAcme,2026-01-26,2026-02-08\n",
    )
    result = _plan(small_shop, tmp_path / "plan.csv", "--all")
    assert result.exit_code == 0, result.output
    assert (
        f"stockplan: warning: {path}, row 2, column 'to': closed 427 days (2025-10-20 to "
        "2026-12-20): the orders to this supplier wait for the end of it; check the year"
    ) in result.stderr.splitlines()
    assert "row 3" not in result.stderr  # two weeks around the New Year: a holiday
    # a closures file without supplier (every supplier) and note columns plans too
    path.write_text("from,to\n2026-01-26,2026-02-08\n")
    result = _plan(small_shop, tmp_path / "plan.csv", "--all")
    assert result.exit_code == 0, result.output


def test_a_container_larger_than_any_truck_is_kept_and_warned(small_shop: Path, tmp_path: Path):
    suppliers = small_shop.parent / "suppliers.csv"
    suppliers.write_text("supplier,lead_time_days,container_m3,container_kg\nAcme,14,76000,26500\n")
    result = _plan(small_shop, tmp_path / "plan.csv")
    assert result.exit_code == 0, result.output
    assert (
        f"stockplan: warning: {suppliers}, row 2, column 'container_m3': 76,000 m³ is more than "
        "any container or truck carries (a 40-foot high cube: 76 m³, about 26,500 kg); check "
        "the unit"
    ) in result.stderr.splitlines()
    assert "container_kg" not in result.stderr  # 26,500 kg is a container's


def test_customer_orders_with_chinese_headers_and_no_order_id_name_their_line(
    small_shop: Path, tmp_path: Path
):
    # 订单编号 / 订单日期 are the usual Chinese headers; an order without an id is named by
    # its line in the file (it read 'Order line: ...', the number lost on the way)
    _add(
        small_shop,
        "customer_orders",
        "customer_orders.csv",
        "订单编号,客户,商品编码,仓库,数量,订单日期,承诺日期\n"
        "SO-17,Ms Li,007,WH1,30,2025-10-01,2025-10-14\n"
        ",Mr Wang,007,WH1,20,2025-10-02,2025-10-15\n",
    )
    target = tmp_path / "notices.csv"
    result = runner.invoke(app, ["notices", "-c", str(small_shop), "-o", str(target)])
    assert result.exit_code == 0, result.output
    notices = pl.read_csv(target, schema_overrides={"sku": pl.String}).sort("order_date")
    assert notices["order_id"].to_list() == ["SO-17", None]
    assert notices["order_date"].to_list() == ["2025-10-01", "2025-10-02"]
    assert notices["message"][1].startswith("Order line 3:"), notices["message"][1]


def test_a_formula_without_a_saved_value_is_refused_naming_its_cell(
    small_shop: Path, tmp_path: Path
):
    # openpyxl (as many exporters) writes '=240' without calculating it: the cell read as
    # empty, and the MOQ of 240 silently became none. The table starts at column B under
    # a title line whose date is a formula, and ends with a totals row summing by formula:
    # neither is data, neither is refused
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "products"
    sheet["B1"] = "=TODAY()"
    rows = [
        ["sku", "name", "unit_cost", "supplier", "pack_size", "moq", "note"],
        ["A-100", "Steady item", 12.5, "Acme", 12, "=240", "=1+1"],
        ["007", "Slow item", 40, "Acme", 1, 0, "=2+2"],
        ["合计", None, "=SUM(D3:D4)", None, None, None, None],
    ]
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=2):
            sheet.cell(r, c, value)
    path = small_shop.parent / "products.xlsx"
    book.save(path)
    settings = yaml.safe_load(small_shop.read_text())
    settings["inputs"]["products"] = "products.xlsx"
    small_shop.write_text(yaml.safe_dump(settings))
    assert _refused(small_shop, tmp_path) == (
        f"stockplan: error: {path}, row 3, column 'moq': a formula without a saved value "
        "(cell G3): the program that wrote the file did not calculate it, so it reads as "
        "empty; open and save the file in Excel or WPS, or paste the values"
    )
    # an Excel error in a column read is refused the same way
    sheet["G3"] = 240
    sheet["D4"] = "#DIV/0!"
    book.save(path)
    with zipfile.ZipFile(path) as packed:  # openpyxl writes it as text: make it an error
        parts = {name: packed.read(name) for name in packed.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    start = xml.index('<c r="D4"')
    cell = xml[start : xml.index("</c>", start) + 4]
    parts["xl/worksheets/sheet1.xml"] = xml.replace(
        cell, '<c r="D4" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
    ).encode()
    with zipfile.ZipFile(path, "w") as packed:
        for name, data in parts.items():
            packed.writestr(name, data)
    assert _refused(small_shop, tmp_path) == (
        f"stockplan: error: {path}, row 4, column 'unit_cost': the Excel error #DIV/0! "
        "(cell D4) reads as empty; correct the formula or the cell"
    )
    # with the values saved, formulas only above the header, in the totals row and in a
    # column stockplan does not read: planned
    sheet["D4"] = 40
    book.save(path)
    result = _plan(small_shop, tmp_path / "plan.csv", "--all")
    assert result.exit_code == 0, result.output
    assert "totals" in result.stderr


MINIMAL_TABLES = {  # each optional table with its required columns only (location where
    # the stock has two warehouses); a closures file without a note column crashed the plan
    "products": "sku\nA-100\n007\nKIT\n008\n",  # the kit and the successor are items too
    "suppliers": "supplier\nAcme\n",
    "purchase_orders": "sku,location,quantity,order_date\nA-100,WH1,48,2025-10-01\n",
    "customer_orders": "sku,location,quantity\n007,WH1,5\n",
    "promotions": "sku,start,end\nA-100,2025-10-20,2025-10-26\n",
    "closures": "from,to\n2025-12-24,2025-12-26\n",
    "price_breaks": "sku,min_qty,unit_price\nA-100,100,11\n",
    "bom": "kit_sku,component_sku,quantity\nKIT,007,2\n",
    "succession": "old_sku,new_sku,date\n007,008,2025-11-01\n",
    "overrides": "sku,start,end,quantity\nA-100,2025-10-20,2025-10-26,300\n",
}


def test_every_optional_table_with_only_its_required_columns_plans(
    small_shop: Path, tmp_path: Path
):
    for name, text in MINIMAL_TABLES.items():
        _add(small_shop, name, f"{name}.csv", text)
    target = tmp_path / "plan.csv"
    result = _plan(small_shop, target, "--all")
    assert result.exit_code == 0, result.output
    plan = pl.read_csv(target, schema_overrides={"sku": pl.String})
    assert {"A-100", "007"} <= set(plan["sku"])
    shown = runner.invoke(app, ["explain", "A-100", "-c", str(small_shop), "--no-chart"])
    assert shown.exit_code == 0, shown.output
    notices = runner.invoke(app, ["notices", "-c", str(small_shop), "-o", str(tmp_path / "n.csv")])
    assert notices.exit_code == 0, notices.output


@pytest.mark.parametrize(
    "header, expected",
    [
        ("订单号,订单编号,商品编码,仓库,数量", ("SO-1", None)),  # 订单号 is the id, as before
        ("商品编码,仓库,数量,订单日期,日期", (None, "2025-10-03")),  # 日期 is the date
    ],
)
def test_a_newer_header_name_gives_way_to_an_older_one_beside_it(
    small_shop: Path, tmp_path: Path, header: str, expected: tuple
):
    # exports that planned before 订单编号 and 订单日期 were read must still plan
    row = {
        "订单号": "SO-1",
        "订单编号": "X-9",
        "商品编码": "007",
        "仓库": "WH1",
        "数量": "5",
        "订单日期": "2025-10-01",
        "日期": "2025-10-03",
    }
    columns = header.split(",")
    _add(
        small_shop,
        "customer_orders",
        "customer_orders.csv",
        header + "\n" + ",".join(row[c] for c in columns) + "\n",
    )
    target = tmp_path / "notices.csv"
    result = runner.invoke(app, ["notices", "-c", str(small_shop), "-o", str(target)])
    assert result.exit_code == 0, result.output
    notice = pl.read_csv(target, schema_overrides={"sku": pl.String}).row(0, named=True)
    order_id, order_date = expected
    if order_id:
        assert notice["order_id"] == order_id
    if order_date:
        assert notice["order_date"] == order_date


def test_a_fallback_header_is_read_when_the_config_maps_it_and_init_agrees():
    from stockplan.io.columns import map_headers
    from stockplan.io.inspect import _score
    from stockplan.io.schema import SCHEMAS

    schema = SCHEMAS["customer_orders"]
    for headers in (
        ["订单号", "订单编号", "sku", "quantity"],
        ["订单编号", "订单号", "sku", "quantity"],
    ):
        frame = pl.DataFrame({h: [] for h in headers})
        assert map_headers(frame, schema, {}, Path("co.csv"))["order_id"] == "订单号"
        mapped = map_headers(frame, schema, {"订单编号": "order_id"}, Path("co.csv"))
        assert mapped["order_id"] == "订单编号"  # the config says so: it wins
        assert _score(headers, "customer_orders")[2]["order_id"] == "订单号"  # as read


def test_a_sales_export_named_as_the_stock_is_refused(small_shop: Path, tmp_path: Path):
    # a copy of the sales lines as the stock file: each item's last day of sales was read
    # as its stock on hand (and the file's 'quantity' as on_hand), with exit 0
    folder = small_shop.parent
    lines = (folder / "sales.csv").read_text().splitlines()
    stock = folder / "stock.csv"
    stock.write_text("\n".join(["date,sku,location,quantity,price", *lines[1:]]) + "\n")
    days = len({line.split(",")[0] for line in lines[1:]})
    assert _refused(small_shop, tmp_path) == (
        f"stockplan: error: {stock}: every row is a line of the sales file {folder / 'sales.csv'} "
        f"(the same date, sku, location and quantity; {len(lines) - 1} rows over {days} "
        "days): read as stock, a day's sales would be the stock on hand; name the stock "
        "snapshot export for inputs.stock"
    )


def test_a_stock_history_whose_figures_are_not_all_sales_lines_is_stock(
    small_shop: Path, tmp_path: Path
):
    # one snapshot day whose figures equal that day's sales, or two such days but for one
    # row: stock, planned as ever
    folder = small_shop.parent
    sales = pl.read_csv(folder / "sales.csv", schema_overrides={"sku": pl.String})

    def snapshot(*days: str) -> pl.DataFrame:
        return sales.filter(pl.col("date").is_in(days)).select(
            "date", "sku", pl.col("warehouse").alias("location"), pl.col("qty").alias("on_hand")
        )

    stock = folder / "stock.csv"
    snapshot("2025-10-06").write_csv(stock)
    result = _plan(small_shop, tmp_path / "one.xlsx")
    assert result.exit_code == 0, result.output
    two_days = snapshot("2025-10-06", "2025-10-07")
    two_days.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(999).otherwise("on_hand").alias("on_hand")
    ).write_csv(stock)
    result = _plan(small_shop, tmp_path / "two.xlsx")
    assert result.exit_code == 0, result.output
    two_days.write_csv(stock)  # every row a sales line: refused
    assert "every row is a line of the sales file" in _refused(small_shop, tmp_path)
