"""Write the broken / hostile input corpus next to this file (deterministic).

    python tests/bad_inputs/make_corpus.py

Each file replaces one table of the `small_shop` test fixture (SKUs A-100 and 007 in
warehouses WH1 and WH2); `cases.yaml` says what each must produce.
"""

from __future__ import annotations

import io
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent

SALES_HEADER = "date,sku,location,qty\n"
SALES_ROWS = "2025-09-01,A-100,WH1,10\n2025-09-02,A-100,WH1,12\n2025-09-03,007,WH1,2\n"

TEXT_FILES: dict[str, str] = {
    # --- errors -------------------------------------------------------------------------
    "empty.csv": "",
    "header_only.csv": SALES_HEADER,
    "colon_delimited.csv": "date:sku:qty\n2025-09-01:A-100:10\n",
    "missing_quantity.csv": "date,sku,location\n2025-09-01,A-100,WH1\n",
    "text_in_quantity.csv": SALES_HEADER + "2025-09-01,A-100,WH1,10\n2025-09-02,A-100,WH1,twelve\n",
    "nan_quantity.csv": SALES_HEADER + "2025-09-01,A-100,WH1,NaN\n",
    "huge_number.csv": SALES_HEADER + "2025-09-01,A-100,WH1,1e300\n",
    "impossible_date.csv": SALES_HEADER + "2025-02-30,A-100,WH1,1\n",
    "ambiguous_date.csv": SALES_HEADER + "05/01/2025,A-100,WH1,1\n",
    "empty_sku.csv": SALES_HEADER + "2025-09-01,A-100,WH1,1\n2025-09-02,,WH1,1\n",
    "ragged_row.csv": SALES_HEADER + "2025-09-01,A-100,WH1,1\n2025-09-02,A-100,WH1,1,9\n",
    "duplicate_header.csv": "date,sku,sku,qty\n2025-09-01,A-100,007,1\n",
    "two_quantity_columns.csv": "date,sku,qty,数量\n2025-09-01,A-100,1,1\n",
    "unknown_sku_stock.csv": "sku,location,on_hand\nA-100,WH1,40\nZZ-9,WH1,1\n",
    # a kit's component, a successor and a price break name items of the products table
    "unknown_component_bom.csv": "kit_sku,component_sku,quantity\n007,A-100,2\n007,ZZ-C,1\n",
    "unknown_successor.csv": "old_sku,new_sku,date\nA-100,A-1OO,2025-11-03\n",
    "unknown_sku_price_breaks.csv": "sku,min_qty,unit_price\nA-100,100,11\nA-1000,200,10\n",
    "duplicate_stock_rows.csv": "sku,location,on_hand\nA-100,WH1,40\n007,WH1,3\nA-100,WH1,41\n",
    "duplicate_products.csv": "sku,unit_cost\nA-100,12.5\n007,40\nA-100,13\n",
    "negative_unit_cost.csv": "sku,unit_cost\nA-100,-12.5\n007,40\n",
    "service_level_out_of_range.csv": "sku,service_level\nA-100,150\n007,0.9\n",
    "received_before_ordered.csv": (
        "sku,location,quantity,order_date,received_date\nA-100,WH1,10,2025-09-10,2025-09-01\n"
    ),
    "unknown_location_po.csv": "sku,location,quantity,order_date\nA-100,WH9,10,2025-10-01\n",
    "negative_po_quantity.csv": "sku,location,quantity,order_date\nA-100,WH1,-10,2025-10-01\n",
    "config_typo.yaml": "inputs: {sales: sales.csv, stock: stock.csv}\nplaning: {bucket: week}\n",
    "config_bad_yaml.yaml": "inputs:\n  sales: sales.csv\n  stock: [stock.csv\n",
    "config_missing_sales.yaml": "inputs: {stock: stock.csv}\n",
    "config_bad_value.yaml": "inputs: {sales: sales.csv, stock: stock.csv}\nplanning: {bucket: month}\n",
    "config_missing_file.yaml": "inputs: {sales: no_such_sales.csv, stock: stock.csv}\n",
    # --- corrected ----------------------------------------------------------------------
    "tab_delimited.tsv": SALES_HEADER.replace(",", "\t") + SALES_ROWS.replace(",", "\t"),
    "semicolon_decimal_comma.csv": "date;sku;location;qty\n2025-09-01;A-100;WH1;12,5\n",
    "mixed_dates.csv": SALES_HEADER
    + "2025-09-01,A-100,WH1,1\n2025/9/2,A-100,WH1,1\n2025年9月3日,A-100,WH1,1\n20250904,A-100,WH1,1\n",
    "excel_serial_dates.csv": SALES_HEADER + "45901,A-100,WH1,1\n45902,A-100,WH1,1\n",
    "utf8_bom.csv": "\ufeff" + SALES_HEADER + SALES_ROWS,
    "leading_zeros.csv": "sku,location,on_hand\nA-100,WH1,40\nA-100,WH2,500\n007,WH1,3\n",
    "trailing_spaces.csv": " date , sku ,location, qty \n2025-09-01, A-100 ,WH1 , 10 \n",
    "title_rows.csv": "销售明细表\n导出日期,2025-10-13\n\n" + SALES_HEADER + SALES_ROWS,
    "negative_stock.csv": "sku,location,on_hand\nA-100,WH1,-4\nA-100,WH2,500\n007,WH1,3\n",
    # the sales fixture's own lines (007 sells 2 at WH1 every 4th day) as the stock file
    "sales_export_as_stock.csv": "date,sku,location,quantity\n2025-01-06,007,WH1,2\n"
    "2025-01-10,007,WH1,2\n",
    # 007's stock typed under 'wh1': a second warehouse beside WH1, refused
    "location_case_stock.csv": "sku,location,on_hand\nA-100,WH1,40\nA-100,WH2,500\n007,wh1,3\n",
    # an ERP's PO execution list: 40 of the 100 received, 60 still open despite the date
    "po_partly_received.csv": "采购单号,商品编码,仓库,数量,订单日期,预计到货日期,入库日期,"
    "未入库数量\nP3,007,WH1,100,2025-09-25,2025-10-20,2025-10-08,60\n",
    # a snapshot history with one year mistyped: that row is no stock of the planning date
    "stock_snapshot_after_as_of.csv": "date,sku,location,on_hand\n2025-10-12,A-100,WH1,40\n"
    "2025-10-12,A-100,WH2,500\n2025-10-12,007,WH1,3\n2052-10-12,A-100,WH1,0\n",
    "blank_lines.csv": SALES_HEADER + "2025-09-01,A-100,WH1,10\n\n,,,\n2025-09-02,A-100,WH1,12\n\n",
    "duplicate_sales_lines.csv": SALES_HEADER
    + "2025-09-01,A-100,WH1,10\n2025-09-01,A-100,WH1,10\n",
    "thousands_separator.csv": SALES_HEADER + '2025-09-01,A-100,WH1,"1,234"\n',
    "service_level_percent.csv": "sku,service_level\nA-100,99\n007,90\n",
    "sales_after_as_of.csv": SALES_HEADER + "2025-09-01,A-100,WH1,10\n2025-12-01,A-100,WH1,99\n",
    "returns_only.csv": SALES_HEADER + "2025-09-01,A-100,WH1,10\n2025-09-02,007,WH1,-2\n",
    "no_location_column.csv": "date,sku,qty\n2025-09-01,A-100,10\n2025-09-02,007,2\n",
    "one_location_stock.csv": "sku,location,on_hand\nA-100,WH1,40\n007,WH1,3\n",
    # --- real exports: totals rows, ERP headers (corrected) ------------------------------
    "totals_row_sales.csv": SALES_HEADER
    + "2025-09-01,A-100,WH1,10\n2025-09-08,A-100,WH1,10\n,合计,,20\n",
    "subtotal_rows_stock.csv": "sku,location,on_hand\nA-100,WH1,40\n007,WH1,3\n小计,,43\n"
    "A-100,WH2,500\n小计,,500\n总计,,543\n",
    "spaced_total_label.csv": "sku,location,on_hand\nA-100,WH1,40\nA-100,WH2,500\n007,WH1,3\n"
    "合 计,,543\n",
    "english_total_rows.csv": SALES_HEADER
    + "2025-09-01,A-100,WH1,10\nSubtotal:,,,10\n2025-09-08,A-100,WH1,10\nGrand Total,,,20\n",
    "unlabelled_sum_row.csv": "sku,location,on_hand\nA-100,WH1,40\nA-100,WH2,500\n007,WH1,3\n,,543\n",
    "totals_row_products.csv": "sku,name,pack_size\nA-100,Steady,12\n007,Slow,1\nTotal,,13\n",
    "formula_text_products.csv": "sku,name,supplier\nA-100,\"=cmd|' /C calc'!A0\","
    '"=HYPERLINK(""http://x"",""click"")"\n007,@SUM(1+1),-Acme\n',
    "unit_in_brackets_sales.csv": "日期,商品编码,仓库,数量(件)\n2025-09-01,A-100,WH1,10\n"
    "2025-09-08,A-100,WH1,10\n",
    "kingdee_stock_headers.csv": "物料编码,物料名称,仓库,库存量(基本单位)\nA-100,Steady,WH1,40\n"
    "A-100,Steady,WH2,500\n007,Slow,WH1,3\n",
    "u8_code_and_name_stock.csv": "仓库编码,仓库名称,存货编码,现存数量\n01,WH1,A-100,40\n"
    "02,WH2,A-100,500\n01,WH1,007,3\n",
    "jiandaoyun_out_date.csv": "出库日期,产品编号,仓库,实发数量\n2025-09-01,A-100,WH1,10\n"
    "2025-09-08,A-100,WH1,10\n",
    # --- refused: implausible values, hostile text, config out of domain -----------------
    "date_9999.csv": SALES_HEADER + "2025-09-01,A-100,WH1,10\n9999-12-31,A-100,WH1,10\n",
    "date_1900.csv": SALES_HEADER + "1900-01-01,A-100,WH1,10\n2025-09-01,A-100,WH1,10\n",
    "po_expected_9999.csv": "sku,location,quantity,order_date,expected_date\n"
    "A-100,WH1,10,2025-10-01,9999-12-31\n",
    "long_text_sku.csv": "sku,location,on_hand\nA-100,WH1,40\n" + "X" * 40_000 + ",WH1,1\n",
    "control_chars_sku.csv": "sku,location,on_hand\nA-100,WH1,40\n\x1b]0;pwned\x07A\x1b[2J,WH1,1\n",
    "two_units_same_column.csv": "日期,商品编码,数量(件),数量（箱）\n2025-09-01,A-100,10,1\n",
    "only_totals_sales.csv": SALES_HEADER + ",合计,,0\n",
    "html_saved_as.xls": "<html><body><table><tr><td>商品编码</td><td>现存量</td></tr>"
    "<tr><td>A-100</td><td>40</td></tr></table></body></html>\n",
    "config_n_jobs_zero.yaml": "inputs: {sales: sales.csv, stock: stock.csv}\nforecast: {n_jobs: 0}\n",
    "config_season_zero.yaml": "inputs: {sales: sales.csv, stock: stock.csv}\n"
    "forecast: {season_length: 0}\n",
    "config_infinite_cost.yaml": "inputs: {sales: sales.csv, stock: stock.csv}\n"
    "policy: {ordering_cost: .inf}\n",
    "config_nan_budget.yaml": "inputs: {sales: sales.csv, stock: stock.csv}\n"
    "purchasing: {budget: .nan}\n",
    "config_xyz_unordered.yaml": "inputs: {sales: sales.csv, stock: stock.csv}\n"
    "classify: {xyz_cutoffs: [1.0, 0.5]}\n",
    "config_as_of_9999.yaml": "inputs: {sales: sales.csv, stock: stock.csv}\n"
    "planning: {as_of: 9999-12-31}\n",
    "config_dead_days_huge.yaml": "inputs: {sales: sales.csv, stock: stock.csv}\n"
    "classify: {dead_item_days: 100000}\n",
    "config_negative_seed.yaml": "inputs: {sales: sales.csv, stock: stock.csv}\nsimulate: {seed: -5}\n",
    "config_negative_sheet.yaml": "inputs: {sales: {path: sales.csv, sheet: -1}, stock: stock.csv}\n",
    "config_alias_bomb.yaml": "inputs: {sales: sales.csv, stock: stock.csv}\npolicy:\n  types:\n"
    + "    l0: &l0 [rs, rs, rs, rs, rs, rs, rs, rs, rs, rs]\n"
    + "".join(f"    l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]\n" for n in range(1, 9)),
}


def _png_bytes() -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"


def _merged_title_workbook() -> bytes:
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer) as workbook:
        sheet = workbook.add_worksheet("商品资料")
        sheet.merge_range(
            "A1:D1", "商品资料 (导出 2025-10-13)", workbook.add_format({"bold": True})
        )
        for col, header in enumerate(["商品编码", "商品名称", "成本价", "箱规"]):
            sheet.write(1, col, header)
        for row, values in enumerate(
            [("A-100", "Steady", 12.5, 12), ("007", "Slow", 40, 1)], start=2
        ):
            for col, value in enumerate(values):
                sheet.write(row, col, value)
    return buffer.getvalue()


def _hidden_first_sheet_workbook() -> bytes:
    """Products with a stale hidden first sheet (pack 99) before the real one (pack 12)."""
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer) as workbook:
        stale = workbook.add_worksheet("old")
        real = workbook.add_worksheet("商品资料")
        for sheet, pack in ((stale, 99), (real, 12)):
            for col, header in enumerate(["商品编码", "箱规"]):
                sheet.write(0, col, header)
            sheet.write(1, 0, "A-100")
            sheet.write(1, 1, pack)
            sheet.write(2, 0, "007")
            sheet.write(2, 1, 1)
        real.activate()
        stale.hide()
    return buffer.getvalue()


BINARY_FILES: dict[str, bytes] = {
    "binary.csv": _png_bytes(),
    "corrupt.xlsx": b"PK\x03\x04 this is not really a zip archive" * 3,
    "encrypted.xlsx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    + bytes(504),  # OLE header, as Excel writes
    "tsv_saved_as.xls": "商品编码\t仓库\t现存量\nA-100\tWH1\t40\nA-100\tWH2\t500\n007\tWH1\t3\n".encode(
        "gbk"
    ),
    "gbk_no_declaration.csv": "商品编码,仓库名称,现存量\nA-100,WH1,40\nA-100,WH2,500\n007,WH1,3\n".encode(
        "gbk"
    ),
    "utf16_unicode_text.txt": ("\ufeff" + (SALES_HEADER + SALES_ROWS).replace(",", "\t")).encode(
        "utf-16-le"
    ),
    "merged_title.xlsx": _merged_title_workbook(),
    "hidden_first_sheet.xlsx": _hidden_first_sheet_workbook(),
}


def main() -> None:
    for name, text in TEXT_FILES.items():
        (HERE / name).write_bytes(text.encode("utf-8"))
    for name, content in BINARY_FILES.items():
        (HERE / name).write_bytes(content)
    print(f"wrote {len(TEXT_FILES) + len(BINARY_FILES)} files")


if __name__ == "__main__":
    main()
