"""Workbook behaviours pinned down by surviving mutants of `stockplan/io/writers.py`.

Expected values are the input rows themselves, read back with openpyxl.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from stockplan.errors import StockplanError
from stockplan.io import writers


def _orders(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": [f"S{i:05d}" for i in range(n)],
            "location": ["W1" if i % 2 else "W2" for i in range(n)],
            "supplier": ["Acme" if i % 3 else "Bolt & <Co>" for i in range(n)],
            "order_qty": [float(i % 7) for i in range(n)],
            "order_value": [float(i % 7) * 2.5 for i in range(n)],
            "risk_level": ["high" if i % 5 == 0 else "low" for i in range(n)],
        }
    )


def _first_sheet(path: Path):
    import openpyxl

    return openpyxl.load_workbook(path).worksheets[0]


def test_a_sheet_above_the_large_cell_count_reads_back_cell_for_cell_with_a_filter(
    tmp_path: Path,
):
    # 3,500 rows x 6 columns = 21,000 cells > 20,000: the fast XML path
    frame = _orders(3500)
    target = tmp_path / "plan.xlsx"
    writers.write_files({target: ({"orders": frame}, "xlsx")})
    sheet = _first_sheet(target)
    # as polars.write_excel does: a bold header, whole units with a thousands separator
    assert [(c.value, c.font.b) for c in sheet[1]][3] == ("order_qty", True)
    assert all(c.font.b for c in sheet[1])
    assert sheet["D2"].number_format == "#,##0;[Red]-#,##0"
    rows = list(sheet.iter_rows(min_row=2, max_row=3501, values_only=True))
    assert len(rows) == 3500
    by_sku = {r[0]: r for r in rows}
    for i in (0, 1, 2, 1749, 3499):
        row = frame.row(i, named=True)
        cells = set(by_sku[row["sku"]])
        assert {row["location"], row["supplier"], row["risk_level"]} <= cells
        assert row["order_value"] in cells or (row["order_value"] == 0 and 0 in cells)
    # the filter buttons are the Excel table's, as on a small sheet: header and 3,500 rows,
    # six columns (A to F), the totals row below it
    (table,) = sheet.tables.values()
    assert table.ref == table.autoFilter.ref == "A1:F3501"
    # the sheet's recorded size: header, 3,500 rows and the totals row, columns A to F
    import openpyxl

    lazy = openpyxl.load_workbook(target, read_only=True).worksheets[0]
    assert lazy.calculate_dimension() == "A1:F3502"


def test_the_order_sheet_has_a_totals_row_with_the_sum_of_the_order_value(tmp_path: Path):
    # order values 0, 2.5, 5, 7.5, 10: total 25
    target = tmp_path / "plan.xlsx"
    writers.write_files({target: ({"orders": _orders(5)}, "xlsx")})
    sheet = _first_sheet(target)
    last = [c.value for c in sheet[sheet.max_row]]
    assert 25.0 in last
    assert 0.0 + 1 + 2 + 3 + 4 in last  # order_qty total: 10


def test_the_summary_counts_high_risk_order_lines_per_supplier_and_location():
    # rows 0..9 with order_qty > 0: 1-6, 8, 9; high risk: rows 0, 5 -> only 5 orders
    lines, blocks = writers.summary_sheet({"orders": _orders(10)}, {"as_of": "x"}, "en")
    (supplier_block, location_block) = (blocks[0][1], blocks[1][1])
    assert supplier_block.width == 5  # supplier, lines, order_qty, order_value, high_risk
    high = {r[0]: r[-1] for r in supplier_block.iter_rows()}
    # suppliers: i % 3 == 0 -> "Bolt & <Co>" (3, 6, 9), else Acme (1, 2, 4, 5, 8)
    assert high == {"Acme": 1, "Bolt & <Co>": 0}
    # a location counts every high-risk line, ordered or not: W1 row 5, W2 row 0 (no order)
    assert {r[0]: r[-1] for r in location_block.iter_rows()} == {"W1": 1, "W2": 1}


def test_each_file_is_written_to_a_temp_file_beside_it_then_renamed(tmp_path, monkeypatch):
    # beside it: same folder, same file system, so the rename is atomic
    import os

    renames = []
    real_replace = os.replace

    def spy(source, target):
        renames.append((Path(source), Path(target)))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", spy)
    target = tmp_path / "orders.csv"
    writers.write_files({target: ({"orders": _orders(3)}, "csv")})
    ((source, renamed),) = renames
    assert renamed == target
    assert source.parent == tmp_path and source.name.startswith(".orders.csv.")
    assert [p.name for p in tmp_path.iterdir()] == ["orders.csv"]


def test_rates_keep_four_decimals_while_other_numbers_keep_two():
    frame = pl.DataFrame({"fill_rate": [0.987654], "order_value": [1.23456]})
    assert writers.presentable(frame).row(0) == (0.9877, 1.23)


def test_a_purchase_order_source_in_chinese_keeps_the_order_number_as_written():
    frame = pl.DataFrame({"filled_from": ["purchase order PO-17", "stock on hand"]})
    shown = writers.localise(frame, None, "zh")
    assert shown.columns == ["货源"]
    assert shown["货源"].to_list() == ["采购单 PO-17", "现有库存"]


def test_sheet_names_are_in_the_buyers_language():
    assert writers.sheet_name("orders", "zh") == "采购建议"
    assert writers.sheet_name("orders", "en") == "orders"


def test_the_totals_row_of_a_chinese_workbook_is_labelled_in_chinese(tmp_path: Path):
    target = tmp_path / "plan.xlsx"
    writers.write_files({target: ({"orders": _orders(5)}, "xlsx")}, lang="zh")
    sheet = _first_sheet(target)
    assert sheet.cell(sheet.max_row, 1).value == "合计"


def test_an_output_folder_that_cannot_be_made_is_a_user_error_naming_it(tmp_path: Path):
    (tmp_path / "plans").write_text("a file, not a folder")
    target = tmp_path / "plans" / "week-48"
    with pytest.raises(StockplanError, match=r"^cannot write .*week-48: .*; nothing was written$"):
        writers.output_plan({"orders": _orders(2)}, target, None, "orders")
    assert not target.exists()


def test_detail_columns_are_a_hidden_group_with_its_plus_button_collapsed(tmp_path: Path):
    # reorder_point is not a buyer column: it goes after them, hidden, in a collapsed group
    frame = _orders(3).with_columns(pl.lit(5.0).alias("reorder_point"))
    target = tmp_path / "plan.xlsx"
    writers.write_files({target: ({"orders": frame}, "xlsx")})
    columns = _first_sheet(target).column_dimensions
    assert (columns["G"].outline_level, columns["G"].hidden) == (1, True)
    assert columns["H"].collapsed  # the column after the group carries the collapsed mark
    assert not columns["F"].hidden and not columns["F"].collapsed


def test_the_planning_date_on_the_summary_is_a_date_cell(tmp_path: Path):
    import datetime as dt

    target = tmp_path / "plan.xlsx"
    writers.write_files(
        {target: ({"orders": _orders(3)}, "xlsx")}, info={"as_of": dt.date(2025, 10, 13)}
    )
    summary = _first_sheet(target)
    assert summary.title == "summary"
    dates = [c for row in summary.iter_rows() for c in row if c.value == dt.datetime(2025, 10, 13)]
    assert [c.number_format for c in dates] == ["yyyy-mm-dd"]


def test_columns_are_as_wide_as_their_header_or_longest_value_and_cjk_counts_twice(
    tmp_path: Path,
):
    # width in characters = max(header + 2, longest value + 3), at most 50; a CJK character
    # is two. Excel stores it with xlsxwriter's 0.7109375 character of padding:
    # sku: max(3 + 2, 2 + 3) = 5; location: 8 + 2 = 10; supplier: 40 + 3 = 43;
    # name: 5 CJK characters = 10 + 3 = 13 (header 4 + 2 = 6); note: 80 characters -> 50.
    # (`large_orders` has no grouped detail columns that would set widths of their own)
    import openpyxl
    from openpyxl.utils import get_column_letter

    frame = pl.DataFrame(
        {
            "sku": ["S1", "S2"],
            "location": ["W1", "W2"],
            "supplier": ["A" * 40, "B"],
            "name": ["义乌小商品", "x"],
            "note": ["r" * 80, "y"],
        }
    )
    target = tmp_path / "plan.xlsx"
    writers.write_files({target: ({"large_orders": frame}, "xlsx")})
    sheet = openpyxl.load_workbook(target).worksheets[0]
    widths = {
        sheet.cell(1, i).value: sheet.column_dimensions[get_column_letter(i)].width
        for i in range(1, 6)
    }
    padding = 0.7109375
    assert widths == pytest.approx(
        {
            "sku": 5 + padding,
            "location": 10 + padding,
            "supplier": 43 + padding,
            "name": 13 + padding,
            "note": 50 + padding,
        }
    )


def test_a_purchase_order_source_reads_in_chinese_with_its_order_number():
    frame = pl.DataFrame({"filled_from": ["purchase order PO-17", "stock on hand"]})
    localised = writers.localise(frame, "notices", "zh")
    assert localised.columns == ["货源"]
    assert localised["货源"].to_list() == ["采购单 PO-17", "现有库存"]
    assert writers.localise(frame, "notices", "en").equals(frame)
