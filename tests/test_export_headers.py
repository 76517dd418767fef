"""Headers of Chinese ERP exports that say more than their column: a unit that tells two
columns apart, a scale (万元), returns in a column of their own, qualified totals labels.

The shop: one item sold every day from 2025-08-18 to 2025-10-12 at one warehouse 总仓,
planned as of 2025-10-13 with the defaults (lead time 14 days, review 7 days, 95 %).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from conftest import write_config
from typer.testing import CliRunner

import stockplan
from stockplan.cli import app
from stockplan.config import InputFile
from stockplan.errors import StockplanError
from stockplan.i18n import error_text
from stockplan.io.readers import read_table

FIRST, AS_OF = dt.date(2025, 8, 18), dt.date(2025, 10, 13)
DAYS = [FIRST + dt.timedelta(days=i) for i in range((AS_OF - FIRST).days)]  # 56 days


def _shop(folder: Path, sales: str, stock: str, columns: dict | None = None) -> Path:
    """Write sales.csv, stock.csv (UTF-8 with BOM, as exports save it) and the config."""
    (folder / "sales.csv").write_text("\ufeff" + sales, encoding="utf-8")
    (folder / "stock.csv").write_text("\ufeff" + stock, encoding="utf-8")
    return write_config(
        folder,
        inputs={"sales": "sales.csv", "stock": "stock.csv"},
        columns=columns or {},
        planning={"as_of": AS_OF.isoformat()},
    )


def _plan(config: Path) -> tuple[stockplan.Plan, list[str]]:
    settings, inputs = stockplan.load(config)
    return stockplan.plan(inputs, settings), inputs.warnings


def _order(result: stockplan.Plan, sku: str) -> dict:
    return result.orders.filter(pl.col("sku") == sku).row(0, named=True)


# 1. a `columns:` mapping names the header with its unit -------------------------------

BOXES_AND_UNITS = "物料编码,仓库,库存量(箱),库存量(基本单位)\nA001,总仓,5,60\n"
SALES_24 = "日期,物料编码,仓库,实发数量\n" + "".join(f"{d},A001,总仓,24\n" for d in DAYS)


def test_a_mapping_to_a_header_with_its_unit_reads_that_column_not_the_box_column(
    tmp_path: Path,
):
    """5 boxes of 12 are 60 units. Mapped to `库存量(基本单位)`, on hand is 60: the order
    is the order-up-to 540.93 (24 a day over L + R = 21 days, 504, plus safety stock
    36.93) less 60, 480.93 -> 481. Read as the box column it was 540.93 - 5 -> 536."""
    config = _shop(tmp_path, SALES_24, BOXES_AND_UNITS, {"stock": {"库存量(基本单位)": "on_hand"}})
    result, _ = _plan(config)
    row = _order(result, "A001")
    assert row["on_hand"] == 60
    assert row["order_up_to"] == pytest.approx(540.93, abs=0.01)
    assert row["order_qty"] == 481
    # the same mapping written with full-width brackets and spaces names the same header
    full_width = {" 库存量（基本单位） ": "on_hand"}
    stock = read_table("stock", InputFile(path=tmp_path / "stock.csv"), full_width)
    assert stock["on_hand"].to_list() == [60.0]


def test_a_sales_mapping_to_the_base_unit_column_reads_base_units(tmp_path: Path):
    """实发数量(销售单位) 2 (boxes of 12) beside 实发数量(基本单位) 24: 24 sold a day."""
    path = tmp_path / "sales.csv"
    path.write_text(
        "日期,物料编码,实发数量(销售单位),实发数量(基本单位)\n2025-10-01,A001,2,24\n",
        encoding="utf-8",
    )
    sales = read_table("sales", InputFile(path=path), {"实发数量(基本单位)": "quantity"})
    assert sales["quantity"].to_list() == [24.0]
    sales = read_table("sales", InputFile(path=path), {"实发数量(销售单位)": "quantity"})
    assert sales["quantity"].to_list() == [2.0]


def test_a_mapping_without_the_unit_that_names_two_headers_is_refused(tmp_path: Path):
    config = _shop(tmp_path, SALES_24, BOXES_AND_UNITS, {"stock": {"库存量": "on_hand"}})
    with pytest.raises(StockplanError) as refused:
        stockplan.load(config)
    english, chinese = error_text(refused.value), error_text(refused.value, "zh")
    assert english.startswith(f"{tmp_path / 'stock.csv'}: columns.stock maps '库存量' to on_hand")
    assert "'库存量(箱)' and '库存量(基本单位)'" in english
    assert "'库存量(箱)' 和 '库存量(基本单位)'" in chinese
    result = CliRunner().invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == 1 and "two headers" in result.stderr


# 3. a scale in a header's unit: 金额(万元) -------------------------------------------

STOCK_10 = "商品编码,现存数量\nA001,10\n"


def _priced_sales(header: str, amount: str) -> str:
    """A001 sells 5 a day at 50 元 (单价(元)), its amount written as `amount` under `header`."""
    return f"日期,商品编码,数量,单价(元),{header}\n" + "".join(
        f"{d},A001,5,50.00,{amount}\n" for d in DAYS
    )


def test_an_amount_in_ten_thousand_yuan_is_read_in_yuan(tmp_path: Path):
    """5 a day at 50 元 is 250 元 a day, written 0.0250 under 金额(万元). With 10 on hand and
    5 a day over the 14-day lead time (no spread: every day sells 5), the expected shortage
    is 5 x 14 - 10 = 60 units, at 50 元 revenue at risk 3000 (read as 元 it was 0.3); the
    annual value is the 56 days' revenue, 56 x 250 = 14000 (it was 1.4)."""
    config = _shop(tmp_path, _priced_sales("金额(万元)", "0.0250"), STOCK_10)
    result, warnings = _plan(config)
    risk = result.risk.row(0, named=True)
    assert risk["expected_shortage"] == pytest.approx(60)
    assert risk["revenue_at_risk"] == pytest.approx(3000)
    classes = result.classes.row(0, named=True)
    assert classes["annual_value"] == pytest.approx(14000) and classes["abc_basis"] == "value"
    assert any(
        "column '金额(万元)' (revenue): the header's unit 万元 is a scale" in w and "10,000" in w
        for w in warnings
    )
    settings, inputs = stockplan.load(config)
    assert inputs["sales"]["revenue"].to_list() == [250.0] * len(DAYS)


@pytest.mark.parametrize(
    ("header", "cell", "read"),
    [
        ("数量(千件)", "1.2", 1200.0),
        ("数量（万件）", "0.0003", 3.0),  # not 2.9999999999999996
        ("数量(千)", "2", 2000.0),
        ("qty (k)", "1.5", 1500.0),
        ("qty ('000)", "3", 3000.0),
        ("数量(件)", "7", 7.0),  # a unit of what is counted: as written
        ("数量(千克)", "7", 7.0),  # kilograms, not thousands
    ],
)
def test_a_quantity_header_with_a_scale_is_multiplied_by_it(
    tmp_path: Path, header: str, cell: str, read: float
):
    path = tmp_path / "sales.csv"
    path.write_text(f"日期,商品编码,{header}\n2025-10-01,A001,{cell}\n", encoding="utf-8")
    notes: list[str] = []
    sales = read_table("sales", InputFile(path=path), {}, notes)
    assert sales["quantity"].to_list() == [read]
    assert any("is a scale" in n for n in notes) == (read != 7.0)


def test_the_sales_unit_price_column_beats_revenue_over_quantity(tmp_path: Path):
    """Sold at 单价(元) 50 with 金额 200 for 5 (a discount, or an amount net of tax): the
    item's price is the one written, 50: revenue at risk 60 x 50 = 3000, not 60 x 40 =
    2400. The annual value is still the revenue, 56 x 200 = 11200."""
    config = _shop(tmp_path, _priced_sales("金额", "200"), STOCK_10)
    result, _ = _plan(config)
    assert result.risk.row(0, named=True)["revenue_at_risk"] == pytest.approx(3000)
    assert result.classes.row(0, named=True)["annual_value"] == pytest.approx(11200)


# 4. totals labels with a qualifier: 本日小计, 小计：总仓, 本页合计 ------------------------


def _two_items_with(subtotal: str) -> str:
    """SP001 sells 3 and SP002 2 a day; under each day the line `subtotal` (a format
    string of the day)."""
    rows = "".join(
        f"{d},SP001,毛巾,总仓,3\n{d},SP002,牙刷,总仓,2\n" + subtotal.format(day=d) for d in DAYS
    )
    return "日期,商品编号,商品名称,仓库,数量\n" + rows


STOCK_30 = "商品编号,仓库,库存数量\nSP001,总仓,30\nSP002,总仓,30\n"


def test_a_dated_daily_subtotal_under_the_sku_is_not_an_item(tmp_path: Path):
    """`2025-08-18,本日小计,,总仓,5` under each day was planned as an item 本日小计 that
    sells 5 a day (order 122). Dropped, the plan is the two items': SP001 3 a day,
    order-up-to 76.06 (63 over L + R = 21 days plus safety stock 13.06) less 30 on hand ->
    46; SP002 2 a day, 52.66 - 30 -> 23."""
    config = _shop(tmp_path, _two_items_with("{day},本日小计,,总仓,5\n"), STOCK_30)
    result, warnings = _plan(config)
    assert sorted(result.orders["sku"]) == ["SP001", "SP002"]
    assert (_order(result, "SP001")["order_qty"], _order(result, "SP002")["order_qty"]) == (46, 23)
    rows = ", ".join(str(4 + 3 * i) for i in range(10))
    assert f"sales.csv, rows {rows}, ...: 56 totals rows (本日小计) dropped" in "\n".join(warnings)


@pytest.mark.parametrize(
    "line",
    [
        ",本页合计,,总仓,5\n",  # no date: was refused as an empty required value
        "本页合计,,,,5\n",  # the label under the date, no sku
        ",,本日小计,,5\n",  # the label under the name, no sku
        "{day},小计：总仓,,总仓,5\n",
        "{day},合计（总仓）,,总仓,5\n",
        "{day},Subtotal WH1,,总仓,5\n",
        "{day},Total for 总仓,,总仓,5\n",
        "{day},总仓 小计,,总仓,5\n",
    ],
)
def test_qualified_totals_labels_are_dropped(tmp_path: Path, line: str):
    path = tmp_path / "sales.csv"
    path.write_text(_two_items_with(line), encoding="utf-8")
    notes: list[str] = []
    sales = read_table("sales", InputFile(path=path), {}, notes)
    assert sales.height == 2 * len(DAYS) and set(sales["sku"]) == {"SP001", "SP002"}
    assert sales["quantity"].sum() == 5 * len(DAYS)
    assert any("56 totals rows" in n for n in notes)


def test_a_stock_subtotal_per_warehouse_is_not_dead_stock(tmp_path: Path):
    """A stock sheet with `小计：总仓` under each warehouse and `总计：` at the end: the
    subtotals were read as items 小计：总仓 (140 on hand) and 小计：门店一 (10), both
    excess as stock that never sells."""
    stock = (
        "物料编码,物料名称,仓库,库存数量\nSP001,毛巾,总仓,30\nSP002,牙刷,总仓,30\n"
        "小计：总仓,,总仓,60\nSP001,毛巾,门店一,10\n小计：门店一,,门店一,10\n总计：,,,70\n"
    )
    config = _shop(tmp_path, _two_items_with(""), stock)
    settings, inputs = stockplan.load(config)
    assert sorted(inputs["stock"]["sku"]) == ["SP001", "SP001", "SP002"]
    assert inputs["stock"]["on_hand"].sum() == 70
    assert any("3 totals rows (小计：总仓, 小计：门店一, 总计：)" in w for w in inputs.warnings)
    result = stockplan.plan(inputs, settings)
    assert not result.excess["sku"].str.contains("小计").any()


def test_an_item_whose_name_or_code_holds_a_totals_word_stays_an_item(tmp_path: Path):
    """礼盒合计 is the name of SP003 (its sku beside it), TOTAL-1 an item's code, 合计宝
    another's: none of them is a totals row. The name column's 本页合计 beside a dated
    sku is data too."""
    path = tmp_path / "sales.csv"
    path.write_text(
        "日期,商品编号,商品名称,仓库,数量\n2025-10-01,SP003,礼盒合计,总仓,4\n"
        "2025-10-01,TOTAL-1,x,总仓,2\n2025-10-01,合计宝,x,总仓,1\n"
        "2025-10-02,SP004,本页合计,总仓,6\n",
        encoding="utf-8",
    )
    notes: list[str] = []
    sales = read_table("sales", InputFile(path=path), {}, notes)
    assert sales["sku"].to_list() == ["SP003", "TOTAL-1", "合计宝", "SP004"]
    assert sales["quantity"].to_list() == [4.0, 2.0, 1.0, 6.0]
    assert not any("totals row" in n for n in notes)


# 2. returns in a column of their own, or as lines of a return document type --------------


def _returns_in_a_column(returned: str = "7") -> str:
    """SP001 sells 3 a day and has `returned` units returned every 7th day (8 times);
    SP002 sells 2 a day, nothing returned."""
    header = "日期,商品编号,商品名称,仓库,销售数量,销售金额,退货数量,退货金额\n"
    rows = "".join(
        f"{d:%Y/%m/%d},SP001,毛巾,总仓,3,30,{returned if i % 7 == 6 else 0},"
        f"{'70' if i % 7 == 6 else 0}\n{d:%Y/%m/%d},SP002,牙刷,总仓,2,20,0,0\n"
        for i, d in enumerate(DAYS)
    )
    return header + rows


def test_a_returns_column_is_netted_from_the_quantity_sold(tmp_path: Path):
    """SP001: 3 a day less 7 returned a week is 14 a week, 2 a day, as SP002 sells: both
    order the order-up-to 52.66 (42 over L + R = 21 days plus safety stock 10.66) less 30
    on hand -> 23. With the returns ignored SP001 was 3 a day and ordered 46. The file is
    GBK, as the export saved it."""
    (tmp_path / "sales.csv").write_bytes(_returns_in_a_column().encode("gbk"))
    (tmp_path / "stock.csv").write_bytes(STOCK_30.encode("gbk"))
    config = write_config(
        tmp_path,
        inputs={"sales": "sales.csv", "stock": "stock.csv"},
        planning={"as_of": AS_OF.isoformat()},
    )
    result, warnings = _plan(config)
    for sku in ("SP001", "SP002"):
        assert _order(result, sku)["forecast_per_day"] == pytest.approx(2)
        assert _order(result, sku)["order_qty"] == 23
    said = "\n".join(warnings)
    assert "column '退货数量' (returned_quantity): returns subtracted from quantity" in said
    assert "(8 rows, 56 in all)" in said
    settings, inputs = stockplan.load(config)
    sales = inputs["sales"].filter(pl.col("sku") == "SP001")
    assert sales["quantity"].sum() == 3 * 56 - 7 * 8 and sales["revenue"].sum() == 30 * 56 - 70 * 8
    assert "returned_quantity" not in inputs["sales"].columns


def test_a_negative_returns_cell_is_refused_naming_its_row(tmp_path: Path):
    path = tmp_path / "sales.csv"
    path.write_text(_returns_in_a_column("-7"), encoding="utf-8")
    with pytest.raises(StockplanError) as refused:
        read_table("sales", InputFile(path=path), {})
    assert error_text(refused.value).startswith(
        f"{path}, row 14, column '退货数量' (returned_quantity): "
    )


def _returns_by_document_type(returned: str) -> str:
    """The same sales with each return a line of its own under 单据类型 销售退货."""
    rows = "".join(
        f"{d},销售出库,SP001,总仓,3\n{d},销售出库,SP002,总仓,2\n"
        + (f"{d},销售退货,SP001,总仓,{returned}\n" if i % 7 == 6 else "")
        for i, d in enumerate(DAYS)
    )
    return "日期,单据类型,商品编号,仓库,数量\n" + rows


def test_return_lines_with_a_positive_quantity_are_read_as_returns(tmp_path: Path):
    """A 销售退货 line of 7 is a return of 7, as a line of -7 is: SP001 nets 2 a day and
    orders 23, not 46 (the 7 read as a sale would make it 4 a day)."""
    config = _shop(tmp_path, _returns_by_document_type("7"), STOCK_30)
    result, warnings = _plan(config)
    assert _order(result, "SP001")["forecast_per_day"] == pytest.approx(2)
    assert _order(result, "SP001")["order_qty"] == 23
    assert any(
        "sales.csv, row 16, column '单据类型' (document_type): 8 lines of type '销售退货' with a "
        "positive quantity read as returns" in w
        for w in warnings
    )
    # written negative already, the lines are returns as they are: no note, the same plan
    config = _shop(tmp_path, _returns_by_document_type("-7"), STOCK_30)
    result, warnings = _plan(config)
    assert _order(result, "SP001")["order_qty"] == 23
    assert not any("document_type" in w for w in warnings)
