"""Rows as the buyer sees them: sheet row numbers with blank rows, footers under the data,
blank locations, SKU spellings that differ between tables, repeated lines."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from stockplan.config import InputFile
from stockplan.errors import StockplanError
from stockplan.io.readers import read_table


def _sheet(path: Path, rows: list[list[object]]) -> Path:
    """A workbook whose sheet holds `rows` from row 1; `[]` is a blank row."""
    book = openpyxl.Workbook()
    sheet = book.active
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            if value is not None:
                sheet.cell(number, column, value)
    book.save(path)
    return path


STOCK_HEADER = ["商品编码", "仓库", "现存量"]


@pytest.mark.parametrize(
    ("rows", "bad_row"),
    [
        # blank rows in the data: 'abc' sits in C6 (header 1, data 2-3, blanks 4-5)
        ([STOCK_HEADER, ["A", "W", 1], ["B", "W", 2], [], [], ["C", "W", "abc"]], 6),
        # a blank row between the title and the header: 'abc' in C5
        ([["库存报表"], [], STOCK_HEADER, ["A", "W", 1], ["B", "W", "abc"]], 5),
        # blank rows above everything: the sheet's first used row is 3, 'abc' in C5
        ([[], [], STOCK_HEADER, ["A", "W", 1], ["B", "W", "abc"]], 5),
        # all three at once: title in row 2, header in row 4, 'abc' in C9
        (
            [
                [],
                ["库存报表"],
                [],
                STOCK_HEADER,
                ["A", "W", 1],
                [],
                ["B", "W", 2],
                [],
                ["C", "W", "abc"],
            ],
            9,
        ),
    ],
)
def test_xlsx_errors_name_the_sheet_row_excel_shows_despite_blank_rows(
    tmp_path: Path, rows: list[list[object]], bad_row: int
):
    path = _sheet(tmp_path / "stock.xlsx", rows)
    with pytest.raises(StockplanError) as caught:
        read_table("stock", InputFile(path=path), {})
    assert str(caught.value) == (
        f"{path}, row {bad_row}, column '现存量' (on_hand): 'abc' is not a number"
    )


def test_xlsx_rows_and_totals_note_count_blank_rows(tmp_path: Path):
    rows = [[], ["库存报表"], [], STOCK_HEADER, ["A", "W", 1], [], ["B", "W", 2], ["合计", None, 3]]
    path = _sheet(tmp_path / "stock.xlsx", rows)
    notes: list[str] = []
    frame = read_table("stock", InputFile(path=path), {}, notes)
    assert frame["source_row"].to_list() == [5, 7]  # A in row 5, B in row 7
    assert frame["on_hand"].to_list() == [1.0, 2.0]
    assert notes == [f"{path}, row 8: 1 totals row (合计) dropped, not read as items or demand"]


def test_xlsx_formula_without_a_result_below_blank_rows_names_its_real_row(tmp_path: Path):
    # openpyxl writes the formula without a saved result; blank rows above the header and
    # in the data must not move it into the header's row or out of the 现存量 column
    rows = [[], [], STOCK_HEADER, ["A", "W", 1], [], ["B", "W", "=1+1"]]
    path = _sheet(tmp_path / "stock.xlsx", rows)
    with pytest.raises(
        StockplanError, match=r"row 6, column '现存量': a formula without a saved value \(cell C6\)"
    ):
        read_table("stock", InputFile(path=path), {})


def test_xlsx_formula_in_a_totals_row_below_blank_rows_is_the_totals_row(tmp_path: Path):
    # the =SUM in row 7 is the totals row's (dropped), not a data cell left without a value
    rows = [[], [], STOCK_HEADER, ["A", "W", 1], [], ["B", "W", 2], ["合计", None, "=SUM(C4:C6)"]]
    path = _sheet(tmp_path / "stock.xlsx", rows)
    notes: list[str] = []
    frame = read_table("stock", InputFile(path=path), {}, notes)
    assert frame["on_hand"].to_list() == [1.0, 2.0]
    assert notes == [f"{path}, row 7: 1 totals row (合计) dropped, not read as items or demand"]


def test_init_reads_the_header_of_a_sheet_with_blank_rows_on_top(tmp_path: Path):
    from stockplan.io.readers import read_top_rows

    rows = [[], [], ["库存报表"], [], STOCK_HEADER, ["A", "W", 1]]
    path = _sheet(tmp_path / "stock.xlsx", rows)
    top = read_top_rows(path)
    assert top[0][0] == "库存报表" and top[1] == STOCK_HEADER and top[2][:2] == ["A", "W"]


SALES_HEADER = "date,sku,location,qty\n"


def test_report_footer_under_csv_data_is_skipped_with_a_note(tmp_path: Path):
    path = tmp_path / "sales.csv"
    path.write_text(
        SALES_HEADER + "2025-01-06,A,W1,5\n2025-01-07,B,W1,3\n"
        "制表人：张三,,,\n打印日期：2026-11-20,,,\n审核人: 李四,,,\n第 1 页 共 3 页,,,\n",
        encoding="utf-8",
    )
    notes: list[str] = []
    frame = read_table("sales", InputFile(path=path), {}, notes)
    assert frame["sku"].to_list() == ["A", "B"]
    assert frame["quantity"].sum() == 8  # 5 + 3: the footer is no demand
    assert notes == [
        f"{path}, rows 4, 5, 6, 7: 4 footer rows under the data ('制表人：张三', "
        "'打印日期：2026-11-20', '审核人: 李四', ...) skipped, not read as items or demand"
    ]


def test_xlsx_footer_after_a_blank_row_and_a_totals_row_names_its_sheet_rows(tmp_path: Path):
    # the label may also stand in the number column ('打印时间: ...' in C), as ERPs lay
    # their footers out over the page; sku A row 2, B row 3, 合计 row 4, blank 5, footers 6-8
    rows = [
        STOCK_HEADER,
        ["A", "W", 1],
        ["B", "W", 2],
        ["合计", None, 3],
        [],
        ["制单人：王五", None, "打印时间: 2026-11-20 10:00"],
        ["操作员", 45678],
        ["页码：1/1"],
    ]
    path = _sheet(tmp_path / "stock.xlsx", rows)
    notes: list[str] = []
    frame = read_table("stock", InputFile(path=path), {}, notes)
    assert frame["sku"].to_list() == ["A", "B"] and frame["on_hand"].sum() == 3
    assert notes[1] == (
        f"{path}, rows 6, 7, 8: 3 footer rows under the data ('制单人：王五', '操作员', "
        "'页码：1/1') skipped, not read as items or demand"
    )


def test_footer_looking_row_between_data_rows_is_refused(tmp_path: Path):
    path = tmp_path / "sales.csv"
    path.write_text(
        SALES_HEADER + "2025-01-06,A,W1,5\n制表人：张三,,,\n2025-01-07,B,W1,3\n", encoding="utf-8"
    )
    with pytest.raises(
        StockplanError, match=r"row 3, column 'date': '制表人：张三' is not a date I can read"
    ):
        read_table("sales", InputFile(path=path), {})


def test_footer_label_beside_a_quantity_is_data_and_refused(tmp_path: Path):
    # a quantity in the row makes it a line, not a footer: the label is a bad date
    path = tmp_path / "sales.csv"
    path.write_text(SALES_HEADER + "2025-01-06,A,W1,5\n操作员：李四,A,W1,7\n", encoding="utf-8")
    with pytest.raises(StockplanError, match=r"row 3, column 'date': '操作员：李四'"):
        read_table("sales", InputFile(path=path), {})
