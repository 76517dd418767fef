"""Workbooks of several sheets, and SKU codes a spreadsheet mangled, as Chinese ERP exports
hold them.

Hand calculation (as in test_erp_exports.py). Every item sells d units every day for 16
weeks up to the day before the planning date, so the weekly forecast is 7d with no error
in the backtest and the spread falls back to the Poisson floor sqrt(7d) per week. Lead
time 14 days plus review 7 days protect L + R = 3 weeks:

    order_up_to = 21 d + z_0.95 * sqrt(21 d),   z_0.95 = 1.6449
    order_qty   = order_up_to - on_hand, rounded half up
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
import xlsxwriter
import yaml
from scipy.stats import norm
from typer.testing import CliRunner

import stockplan
from stockplan.cli import app
from stockplan.config import InputFile
from stockplan.errors import StockplanError
from stockplan.i18n import say
from stockplan.io.readers import read_table

Z95 = norm.ppf(0.95)
AS_OF = dt.date(2025, 10, 13)
DAYS = [AS_OF - dt.timedelta(days=n) for n in range(112, 0, -1)]  # 2025-06-23 .. 10-12
SALES_HEADER = ["日期", "商品编码", "仓库", "数量"]
STOCK_HEADER = ["商品编码", "商品名称", "仓库", "库存数量"]


def _order(per_day: int, on_hand: int) -> int:
    up_to = 21 * per_day + Z95 * math.sqrt(21 * per_day)
    return math.floor(up_to - on_hand + 0.5)


def test_hand_calculation():
    # A001: 105 + 16.86 - 30 = 91.86 -> 92; D01: 84 + 15.08 - 20 = 79.08 -> 79;
    # F01: 105 + 16.86 - 40 = 81.86 -> 82
    assert (_order(5, 30), _order(4, 20), _order(5, 40)) == (92, 79, 82)


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """A workbook of `sheets` (name -> rows); dates written as date cells."""
    book = xlsxwriter.Workbook(path)
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.date):
                    sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), dates)
                elif value is not None:
                    sheet.write(r, c, value)
    book.close()
    return path


def _sales_rows(per_day: dict[str, int], days: list[dt.date]) -> list[list[object]]:
    return [[day, sku, "总仓", qty] for day in days for sku, qty in per_day.items()]


def _by_month(per_day: dict[str, int]) -> dict[str, list[list[object]]]:
    """Sheets 6月 .. 10月, each with the sales header and its month's days."""
    months: dict[str, list[list[object]]] = {}
    for day in DAYS:
        months.setdefault(f"{day.month}月", [SALES_HEADER])
        months[f"{day.month}月"] += _sales_rows(per_day, [day])
    return months


def _config(folder: Path, sales: str, stock: str, **extra: object) -> Path:
    text = {
        "inputs": {"sales": sales, "stock": stock},
        "calendars": {"public_holidays": "none"},
        "planning": {"bucket": "week"},
        **extra,
    }
    path = folder / "stockplan.yaml"
    path.write_text(yaml.safe_dump(text, allow_unicode=True), encoding="utf-8")
    return path


def _orders(config: Path) -> tuple[dict[str, int], dt.date, list[str]]:
    settings, inputs = stockplan.load(config)
    plan = stockplan.plan(inputs, settings)
    orders = {r["sku"]: r["order_qty"] for r in plan.orders.iter_rows(named=True)}
    return orders, plan.as_of, inputs.warnings


# 1. every sheet of a workbook with the same header is read


def test_month_sheets_of_a_sales_workbook_are_all_read(tmp_path: Path):
    """Sales for 6月 .. 10月 on five sheets: only the first (8 days of June) was read, and
    the plan was dated 2025-07-01 with 8 days of history. Now all 112 days: A001 orders
    92 as of 2025-10-13 (hand calculation above)."""
    sheets = _by_month({"A001": 5})
    _workbook(tmp_path / "销售出库.xlsx", sheets)
    _workbook(tmp_path / "库存.xlsx", {"Sheet1": [STOCK_HEADER, ["A001", "杯子", "总仓", 30]]})
    orders, as_of, warnings = _orders(_config(tmp_path, "销售出库.xlsx", "库存.xlsx"))
    assert as_of == AS_OF and orders == {"A001": 92}
    said = [w for w in warnings if "read as one table" in w]
    assert len(said) == 1 and "'6月', '7月', '8月', '9月', '10月'" in said[0]
    assert "合并为一张表读取" in say(said[0], "zh")


def test_stock_split_by_category_sheets_counts_every_sheet(tmp_path: Path):
    """Stock on sheets 食品 (F01: 40) and 日用品 (D01: 20): D01 was planned with 0 on hand
    and ordered 99. Now D01 has its 20: 79; F01 82."""
    _workbook(
        tmp_path / "销售.xlsx", {"销售": [SALES_HEADER, *_sales_rows({"F01": 5, "D01": 4}, DAYS)]}
    )
    _workbook(
        tmp_path / "库存.xlsx",
        {
            "食品": [STOCK_HEADER, ["F01", "面包", "总仓", 40]],
            "日用品": [STOCK_HEADER, ["D01", "牙刷", "总仓", 20]],
        },
    )
    orders, _, _ = _orders(_config(tmp_path, "销售.xlsx", "库存.xlsx"))
    assert orders == {"F01": 82, "D01": 79}


def test_a_cover_sheet_before_the_data_is_passed_with_a_note(tmp_path: Path):
    """销售.xlsx: sheet 说明 (a line of text) before 销售明细: the data sheet is read."""
    _workbook(
        tmp_path / "销售.xlsx",
        {
            "说明": [["本报表由 XX ERP 导出"], ["查询条件：日期 2025-06-23 至 2025-10-12"]],
            "销售明细": [SALES_HEADER, *_sales_rows({"A001": 5}, DAYS)],
        },
    )
    _workbook(tmp_path / "库存.xlsx", {"Sheet1": [STOCK_HEADER, ["A001", "杯子", "总仓", 30]]})
    orders, _, warnings = _orders(_config(tmp_path, "销售.xlsx", "库存.xlsx"))
    assert orders == {"A001": 92}
    assert any("reading sheet '销售明细'" in w and "'说明'" in w for w in warnings)


def test_a_sheet_with_another_header_is_left_with_a_note(tmp_path: Path):
    """明细 (date, sku, quantity) and a 汇总 sheet (sku, quantity: no date): only 明细 is
    sales; the note names 汇总 as not read."""
    path = _workbook(
        tmp_path / "销售报表.xlsx",
        {
            "明细": [SALES_HEADER, [dt.date(2025, 10, 1), "A001", "总仓", 5]],
            "汇总": [["商品编码", "数量"], ["A001", 5]],
        },
    )
    notes: list[str] = []
    sales = read_table("sales", InputFile(path=path), {}, notes)
    assert sales["quantity"].to_list() == [5.0] and "source_file" not in sales.columns
    assert any("sheets '汇总' not read" in n for n in notes)


def test_sheet_given_reads_that_sheet_only(tmp_path: Path):
    path = _workbook(tmp_path / "销售.xlsx", _by_month({"A001": 5}))
    sales = read_table("sales", InputFile(path=path, sheet="9月"), {}, [])
    assert sales.height == 30 and sales["date"].min() == dt.date(2025, 9, 1)


def test_an_error_in_a_later_sheet_names_the_sheet_and_its_row(tmp_path: Path):
    sheets = _by_month({"A001": 5})
    sheets["9月"][4][3] = "abc"  # the sheet's row 5
    _workbook(tmp_path / "销售出库.xlsx", sheets)
    _workbook(tmp_path / "库存.xlsx", {"Sheet1": [STOCK_HEADER, ["A001", "杯子", "总仓", 30]]})
    config = _config(tmp_path, "销售出库.xlsx", "库存.xlsx")
    result = CliRunner().invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == 1
    assert "销售出库.xlsx, sheet '9月', row 5, column '数量' (quantity): 'abc'" in result.output
    with pytest.raises(StockplanError) as error:
        read_table("sales", InputFile(path=tmp_path / "销售出库.xlsx"), {}, [])
    assert "销售出库.xlsx，工作表 '9月'，第 5 行，列 '数量'" in say(error.value.phrase, "zh")


# 2. SKU codes a spreadsheet mangled are refused, not planned


def _validate(config: Path, lang: str = "en") -> tuple[int, str]:
    result = CliRunner().invoke(app, ["validate", "-c", str(config), "--lang", lang])
    return result.exit_code, result.output


def test_barcodes_shortened_to_scientific_form_are_refused(tmp_path: Path):
    """A GBK sales CSV re-saved by Excel shows 6901234567890 and 6901234567891 both as
    `6.90123E+12`: planned as one item 6.90123E+12 (0 on hand, order 122) while both real
    barcodes had 50 on hand and no sales. Refused naming file, row and column."""
    lines = ["日期,商品编号,仓库,数量"]
    lines += [f"{d:%Y/%m/%d},6.90123E+12,总仓,5" for d in DAYS[:3]]
    (tmp_path / "销售明细.csv").write_bytes("\n".join(lines).encode("gbk"))
    stock = "商品编号,仓库,库存数量\n6901234567890,总仓,50\n6901234567891,总仓,50\n"
    (tmp_path / "库存状况.csv").write_bytes(stock.encode("gbk"))
    config = _config(tmp_path, "销售明细.csv", "库存状况.csv")
    code, output = _validate(config)
    assert code == 1
    assert (
        "销售明细.csv, row 2, column '商品编号' (sku): '6.90123E+12' is a code a spreadsheet"
        in output
    )
    assert "only its first 6 digits are left; 3 such cells" in output and output.count("\n") == 1
    code, output = _validate(config, "zh")
    assert code == 1 and "第 2 行" in output and "科学计数法" in output and "重新导出" in output


def test_a_plain_code_in_exponent_form_is_a_code(tmp_path: Path):
    """`1E5` (no decimals, no sign) is a shop's own code: read as written."""
    (tmp_path / "库存.csv").write_text("商品编码,仓库,库存数量\n1E5,总仓,30\n", encoding="utf-8")
    stock = read_table("stock", InputFile(path=tmp_path / "库存.csv"), {}, [])
    assert stock["sku"].to_list() == ["1E5"]


def test_a_code_in_exponent_form_and_the_number_it_equals_are_refused(tmp_path: Path):
    """`1E5` as text in the stock and the number 100000 in the sales workbook (Excel reads
    1E5 typed in a cell as 100000) were two items: stock 30 never sold, sales with 0 on
    hand ordered 122. Refused as two spellings of one code."""
    (tmp_path / "库存.csv").write_text("商品编码,仓库,库存数量\n1E5,总仓,30\n", encoding="utf-8")
    _workbook(tmp_path / "销售.xlsx", {"销售": [SALES_HEADER, *_sales_rows({100000: 5}, DAYS)]})
    code, output = _validate(_config(tmp_path, "销售.xlsx", "库存.csv"))
    assert code == 1
    assert "库存.csv, row 2, column 'sku': '1E5' is '100000' in " in output
    assert "销售.xlsx, row 2" in output and "(1E5 becomes 100000)" in output


def test_a_number_cell_of_more_than_15_digits_in_a_code_column_is_refused(tmp_path: Path):
    """A 17-digit code typed as a number is read back as 69012345678901232 (the double
    nearest 69012345678901234): refused naming the cell. The same digits as text are a
    code; a 13-digit barcode as a number is whole and kept."""
    rows: list[list[object]] = [["日期", "物料编码", "仓库", "数量"]]
    rows.append([dt.date(2025, 10, 1), "69012345678901234", "总仓", 1])  # text: kept
    rows.append([dt.date(2025, 10, 1), 6901234567890, "总仓", 1])  # 13 digits: kept
    rows.append([dt.date(2025, 10, 1), 69012345678901234, "总仓", 1])  # row 4: lost
    path = _workbook(tmp_path / "销售出库.xlsx", {"明细": rows})
    with pytest.raises(StockplanError) as error:
        read_table("sales", InputFile(path=path), {}, [])
    text = str(error.value)
    assert text.startswith(f"{path}, row 4, column '物料编码' (sku): cell B4 holds the number ")
    assert "69012345678901232, longer than the 15 digits" in text
    assert "单元格 B4 是数字 69012345678901232" in say(error.value.phrase, "zh")
    good = _workbook(tmp_path / "ok.xlsx", {"明细": rows[:3]})
    sales = read_table("sales", InputFile(path=good), {}, [])
    assert sales["sku"].to_list() == ["69012345678901234", "6901234567890"]


# 3. and 4. what `init` proposes


def _init(folder: Path) -> tuple[str, dict]:
    result = CliRunner().invoke(app, ["init", str(folder)])
    assert result.exit_code == 0, result.output
    text = (folder / "stockplan.yaml").read_text(encoding="utf-8")
    return result.output, yaml.safe_load(text)


def _two_on_hand(tmp_path: Path, header: str, values: str) -> None:
    (tmp_path / "stock.csv").write_text(f"{header}\nA001,总仓,{values}\n", encoding="utf-8")
    lines = ["日期,物料编码,仓库,实发数量"] + [f"{d},A001,总仓,5" for d in DAYS]
    (tmp_path / "sales.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_init_writes_on_hand_over_available_under_columns(tmp_path: Path):
    """A Shopify inventory export with `Available` (on hand less committed) and `On hand`:
    init said `Available -> on_hand` and validate refused the pair. Now `On hand` is
    written under `columns:` with `Available` named, and the stock read is 30, not 25."""
    _two_on_hand(tmp_path, "SKU,Location,Available,On hand", "25,30")
    output, written = _init(tmp_path)
    assert "Available also looks like on_hand: On hand written under columns:" in output
    assert written["columns"] == {"stock": {"On hand": "on_hand"}}
    text = (tmp_path / "stockplan.yaml").read_text(encoding="utf-8")
    assert '"On hand": on_hand   # "Available" 也像是 on_hand' in text
    code, said = _validate(tmp_path / "stockplan.yaml")
    assert code == 0, said
    assert stockplan.load(tmp_path / "stockplan.yaml")[1].tables["stock"]["on_hand"][0] == 30


def test_init_maps_one_of_two_on_hand_columns_differing_only_in_unit(tmp_path: Path):
    """库存量(箱) and 库存量(基本单位): init said `库存量(箱) -> on_hand` and never named the
    other. A `columns:` key names its header exactly, unit and all, so init writes the
    base-unit column under columns: with a comment naming the box column, and the config
    validates reading 30 pieces, not 3 boxes."""
    _two_on_hand(tmp_path, "物料编码,仓库,库存量(箱),库存量(基本单位)", "3,30")
    output, written = _init(tmp_path)
    assert "库存量(箱) also looks like on_hand: 库存量(基本单位) written under columns:" in output
    assert written["columns"] == {"stock": {"库存量(基本单位)": "on_hand"}}
    text = (tmp_path / "stockplan.yaml").read_text(encoding="utf-8")
    assert '# "库存量(箱)" 也像是 on_hand' in text
    code, said = _validate(tmp_path / "stockplan.yaml")
    assert code == 0, said
    assert stockplan.load(tmp_path / "stockplan.yaml")[1].tables["stock"]["on_hand"][0] == 30


def test_init_does_not_take_a_returns_document_or_a_summary_for_the_products(tmp_path: Path):
    """销售退货单.xlsx (日期, 单据编号, 物料编码, 仓库, 实退数量) was proposed as products; a
    sales report whose first sheet is a 汇总 summary (sku, name, quantity, amount: no date)
    too. Now the returns are not recognised, saying why, and the report is sales, read
    from its 明细 sheet."""
    _workbook(
        tmp_path / "销售退货单.xlsx",
        {
            "Sheet1": [
                ["日期", "单据编号", "物料编码", "仓库", "实退数量"],
                [DAYS[0], "XT0", "A001", "总仓", 2],
            ]
        },
    )
    _workbook(
        tmp_path / "销售报表.xlsx",
        {
            "汇总": [
                ["销售汇总表"],
                ["商品编码", "商品名称", "数量", "金额"],
                ["A001", "杯", 560, 5600],
            ],
            "明细": [[*SALES_HEADER, "金额"], *[[*r, 50] for r in _sales_rows({"A001": 5}, DAYS)]],
        },
    )
    _workbook(tmp_path / "库存.xlsx", {"Sheet1": [STOCK_HEADER, ["A001", "杯子", "总仓", 30]]})
    output, written = _init(tmp_path)
    assert written["inputs"] == {"stock": "库存.xlsx", "sales": "销售报表.xlsx"}
    assert "销售退货单.xlsx: not recognised (only its SKU column fits the products" in output
    assert "read from sheet '明细'" in output
    orders, _, _ = _orders(_config(tmp_path, "销售报表.xlsx", "库存.xlsx"))
    assert orders == {"A001": 92}  # all 112 days of 明细, not the summary


def test_a_two_row_header_is_named_by_init_and_refused_naming_its_row(tmp_path: Path):
    """本期销售 / 本期退货 over 数量, 金额: init proposed products ("not recognised: 日期,
    仓库"), and read as sales it said "the header '' appears twice" with no row."""
    text = "日期,商品编号,商品名称,仓库,本期销售,,本期退货,\n,,,,数量,金额,数量,金额\n"
    text += "2025/08/18,SP001,毛巾,总仓,3,30,0,0\n"
    (tmp_path / "销售明细.csv").write_bytes(text.encode("gbk"))
    (tmp_path / "库存.csv").write_text("商品编号,仓库,库存数量\nSP001,总仓,30\n", encoding="utf-8")
    output, written = _init(tmp_path)
    assert "products" not in written["inputs"]
    assert "the header takes two rows, row 2 under it ('本期销售' over '数量', '金额')" in output
    code, said = _validate(_config(tmp_path, "销售明细.csv", "库存.csv"))
    assert code == 1
    assert "销售明细.csv, row 2: the header takes two rows ('本期销售' over '数量', '金额')" in said
