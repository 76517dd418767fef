"""Loading ERP exports: encodings, delimiters, aliases, dates, Excel and Parquet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from stockplan.config import InputFile
from stockplan.errors import StockplanError
from stockplan.i18n import error_text
from stockplan.io.readers import read_table


def _read(
    path: Path, table: str = "sales", overrides: dict[str, str] | None = None, **spec
) -> pl.DataFrame:
    return read_table(table, InputFile(path=path, **spec), overrides or {})


def test_gb18030_chinese_headers_and_leading_zero_skus(tmp_path: Path):
    path = tmp_path / "stock.csv"
    path.write_bytes(
        "商品编码,仓库名称,结存数量\n000123,上海仓,12\n 0456 ,北京仓,3.5\n".encode("gbk")
    )
    frame = _read(path, "stock")
    assert frame.columns == ["source_row", "sku", "location", "on_hand"]
    assert frame["sku"].to_list() == ["000123", "0456"]  # kept as text, spaces trimmed
    assert frame["location"].to_list() == ["上海仓", "北京仓"]
    assert frame["on_hand"].to_list() == [12.0, 3.5]


def test_utf8_bom_semicolon_and_number_formats(tmp_path: Path):
    path = tmp_path / "sales.csv"
    text = (
        "\ufeffDatum;Item;Qty;Warehouse\n"
        "2025-01-05;A;12,5;W\n2025-01-06;A;1.234;W\n2025-01-07;A;¥8;W\n"
    )
    path.write_bytes(text.encode("utf-8"))
    # 'Datum' is not an alias: map it in the config
    frame = _read(path, overrides={"Datum": "date"})
    assert frame["date"].to_list() == [
        dt.date(2025, 1, 5),
        dt.date(2025, 1, 6),
        dt.date(2025, 1, 7),
    ]
    # decimal comma (12,5), so the dot in 1.234 groups thousands; currency sign
    assert frame["quantity"].to_list() == [12.5, 1234.0, 8.0]


def test_a_number_with_both_marks_reads_the_last_as_the_decimal_and_garble_is_refused(
    tmp_path: Path,
):
    path = tmp_path / "sales.csv"
    path.write_bytes(b"date;sku;qty\n2025-01-05;A;1.234,5\n")
    assert _read(path)["quantity"].to_list() == [1234.5]
    path.write_bytes(b"date;sku;qty\n2025-01-05;A;1,2,3\n")
    with pytest.raises(
        StockplanError, match=r"row 2, column 'qty' \(quantity\): '1,2,3' is not a number"
    ):
        _read(path)


def test_date_formats_including_chinese_and_excel_serials(tmp_path: Path):
    path = tmp_path / "sales.csv"
    path.write_text(
        "日期,商品编码,数量\n"
        "2024-01-05,A,1\n2024/1/5,A,1\n2024年1月5日,A,1\n45296,A,1\n20240105,A,1\n"
        "2024-01-05 13:45:00,A,1\n2024-01-05T13:45:00+08:00,A,1\n",
        encoding="utf-8",
    )
    frame = _read(path)
    assert set(frame["date"].to_list()) == {dt.date(2024, 1, 5)}


def test_unparseable_date_names_file_row_and_column(tmp_path: Path):
    path = tmp_path / "sales.csv"
    path.write_text("date,sku,quantity\n2024-01-05,A,1\n2024-13-45,A,1\n", encoding="utf-8")
    with pytest.raises(StockplanError) as error:
        _read(path)
    assert str(error.value) == (
        f"{path}, row 3, column 'date': '2024-13-45' is not a date I can read (use YYYY-MM-DD)"
    )


def test_text_in_quantity_names_file_row_and_column(tmp_path: Path):
    path = tmp_path / "sales.csv"
    path.write_text("date,sku,数量\n2024-01-05,A,1\n2024-01-06,A,abc\n", encoding="utf-8")
    with pytest.raises(
        StockplanError, match=r"row 3, column '数量' \(quantity\): 'abc' is not a number"
    ):
        _read(path)


def test_missing_required_column_lists_what_was_found(tmp_path: Path):
    path = tmp_path / "sales.csv"
    path.write_text("date,sku,amount\n2024-01-05,A,1\n", encoding="utf-8")
    with pytest.raises(
        StockplanError,
        match=r"missing required column 'quantity' \(found 'date', 'sku', 'amount'\)",
    ):
        _read(path)


def test_two_columns_matching_one_name_is_an_error(tmp_path: Path):
    path = tmp_path / "sales.csv"
    path.write_text("date,sku,qty,数量\n2024-01-05,A,1,1\n", encoding="utf-8")
    with pytest.raises(StockplanError, match="columns 'qty' and '数量' both look like 'quantity'"):
        _read(path)


def test_excel_with_dates_and_sheet_choice(tmp_path: Path):
    path = tmp_path / "sales.xlsx"
    import xlsxwriter

    with xlsxwriter.Workbook(str(path)) as workbook:
        workbook.add_worksheet("notes").write(0, 0, "ignore me")
        sheet = workbook.add_worksheet("销售")
        date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
        for col, header in enumerate(["单据日期", "存货编码", "销售数量"]):
            sheet.write(0, col, header)
        sheet.write_datetime(1, 0, dt.datetime(2024, 3, 1), date_format)
        sheet.write_string(1, 1, "00042")
        sheet.write_number(1, 2, 7)
        sheet.write_number(2, 0, 45353)  # Excel serial for 2024-03-02 (45296 = 2024-01-05)
        sheet.write_string(2, 1, "00042")
        sheet.write_number(2, 2, 3)
    frame = _read(path, sheet="销售")
    assert frame["date"].to_list() == [dt.date(2024, 3, 1), dt.date(2024, 3, 2)]
    assert frame["sku"].to_list() == ["00042", "00042"]
    assert frame["quantity"].to_list() == [7.0, 3.0]


def test_parquet_with_typed_columns(tmp_path: Path):
    path = tmp_path / "sales.parquet"
    pl.DataFrame(
        {"date": [dt.date(2024, 1, 1)], "sku": ["A"], "quantity": [4], "location": ["W"]}
    ).write_parquet(path)
    frame = _read(path)
    assert frame.select("date", "sku", "quantity", "location").row(0) == (
        dt.date(2024, 1, 1),
        "A",
        4.0,
        "W",
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        (b"date,sku,quantity\n", "has a header but no data rows"),
        (
            b"date,sku,quantity\n2024-01-05,,1\n",
            "row 2, column 'sku': empty value in a required column",
        ),
        (
            b"date,sku,quantity\n2024-01-05,A,NaN\n",
            "row 2, column 'quantity': 'NaN' is not a finite number",
        ),
        (
            b"date,sku,quantity\n2024-01-05,A,1e300\n",
            "row 2, column 'quantity': '1e300' is implausibly large",
        ),
    ],
)
def test_broken_files_give_one_line_errors(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "sales.csv"
    path.write_bytes(content)
    with pytest.raises(StockplanError) as error:
        _read(path)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_file(tmp_path: Path):
    with pytest.raises(StockplanError, match="file not found"):
        _read(tmp_path / "nope.csv")


def test_totals_and_subtotal_rows_are_dropped_with_a_note_naming_file_and_rows(tmp_path: Path):
    path = tmp_path / "sales.csv"
    path.write_text(
        "date,sku,location,qty\n"
        "2025-01-06,A,W1,5\n2025-01-06,B,W1,3\n合 计,,,8\n"  # label in the date column
        "2025-01-07,A,W2,4\nSub-total,,,4\n"  # English, with a hyphen
        ",Grand Total,,12\n",
        encoding="utf-8",
    )
    notes: list[str] = []
    frame = read_table("sales", InputFile(path=path), {}, notes)
    assert frame["sku"].to_list() == ["A", "B", "A"]
    assert frame["quantity"].sum() == 12  # not 12 + 8 + 4 + 12
    assert notes == [
        f"{path}, rows 4, 6, 7: 3 totals rows (Grand Total, Sub-total, 合 计) dropped, "
        "not read as items or demand"
    ]


def test_keyless_row_that_sums_the_rows_above_is_a_totals_row(tmp_path: Path):
    path = tmp_path / "stock.csv"
    # per-warehouse subtotals without a label, then the grand total of all rows
    path.write_text(
        "sku,location,on_hand\nA,W1,5\nB,W1,7\n,,12\nA,W2,1\n,,1\n,,13\n", encoding="utf-8"
    )
    notes: list[str] = []
    frame = read_table("stock", InputFile(path=path), {}, notes)
    assert frame["on_hand"].to_list() == [5.0, 7.0, 1.0]
    assert notes == [
        f"{path}, rows 4, 6, 7: 3 totals rows (sum of the rows above) dropped, "
        "not read as items or demand"
    ]


def test_keyless_row_that_is_no_sum_is_still_an_empty_sku(tmp_path: Path):
    path = tmp_path / "stock.csv"
    path.write_text("sku,location,on_hand\nA,W1,5\nB,W1,7\n,W1,3\n", encoding="utf-8")
    with pytest.raises(StockplanError, match=r"row 4, column 'sku': empty value"):
        _read(path, "stock")


def test_an_sku_that_merely_contains_total_is_an_item(tmp_path: Path):
    path = tmp_path / "stock.csv"
    path.write_text("sku,name,on_hand\nTOTAL-1,Total care,5\n小计本,notebook,2\n", encoding="utf-8")
    assert _read(path, "stock")["sku"].to_list() == ["TOTAL-1", "小计本"]


def test_implausible_dates_are_refused_with_file_row_and_column(tmp_path: Path):
    path = tmp_path / "sales.csv"
    path.write_text("date,sku,qty\n2025-01-06,A,1\n1900-01-01,A,1\n", encoding="utf-8")
    with pytest.raises(StockplanError) as error:
        _read(path)
    assert str(error.value) == (
        f"{path}, row 3, column 'date': '1900-01-01' is not a plausible date "
        "(outside 1980-01-01 .. 2099-12-31; a placeholder for no date?)"
    )


def test_erp_header_spellings_and_units_in_brackets(tmp_path: Path):
    path = tmp_path / "sales.csv"
    path.write_text("出库日期,物料编码,实发数量（箱）\n2025-01-06,A,2\n", encoding="utf-8")
    assert _read(path).columns == ["source_row", "date", "sku", "quantity"]
    stock = tmp_path / "stock.csv"
    stock.write_text("存货编码,现存数量(件)\nA,2\n", encoding="utf-8")
    assert _read(stock, "stock")["on_hand"].to_list() == [2.0]
    stock.write_text("物料编码,库存量(基本单位)\nA,3\n", encoding="utf-8")
    assert _read(stock, "stock")["on_hand"].to_list() == [3.0]
    path.write_text("单据日期,物料编码,基本单位数量\n2025-01-06,A,4\n", encoding="utf-8")
    assert _read(path)["quantity"].to_list() == [4.0]
    # typed in full width: ＳＫＵ and ＱＴＹ were not recognised, and a required column missed
    path.write_text("日期,ＳＫＵ,ＱＴＹ（件）\n2025-01-06,A,5\n", encoding="utf-8")
    assert _read(path).select("sku", "quantity").rows() == [("A", 5.0)]


def test_config_larger_than_a_megabyte_is_refused_unread(tmp_path: Path):
    from stockplan.config import load_config

    path = tmp_path / "big.yaml"
    path.write_text("inputs: {sales: s.csv, stock: t.csv}\n" + "# padding\n" * 120_000)
    with pytest.raises(StockplanError, match="config is larger than 1,000,000 bytes"):
        load_config(path)


def test_first_visible_sheet_is_read_when_no_sheet_is_set(tmp_path: Path):
    import xlsxwriter

    path = tmp_path / "stock.xlsx"
    with xlsxwriter.Workbook(path) as book:
        stale, real = book.add_worksheet("stale"), book.add_worksheet("now")
        for sheet, qty in ((stale, 999), (real, 4)):
            sheet.write_row(0, 0, ["sku", "on_hand"])
            sheet.write_row(1, 0, ["A", qty])
        real.activate()
        stale.hide()
    notes: list[str] = []
    frame = read_table("stock", InputFile(path=path), {}, notes)
    assert frame["on_hand"].to_list() == [4.0]
    assert "reading sheet 'now', the first visible one (hidden: 'stale')" in notes[0]
    assert _read(path, "stock", sheet="stale")["on_hand"].to_list() == [999.0]  # asked for


def test_a_chart_sheet_or_an_empty_sheet_first_is_passed_over_quietly(tmp_path: Path, capfd):
    # a chart sheet or an empty Sheet1 in front of the data was "not an Excel workbook
    # (empty Excel sheet)", after a line the Excel library printed itself for the chart
    import xlsxwriter

    path = tmp_path / "stock.xlsx"
    with xlsxwriter.Workbook(path) as book:
        chart_sheet = book.add_chartsheet("chart")
        book.add_worksheet("Sheet1")  # visible, no cell
        data = book.add_worksheet("data")
        data.write_row(0, 0, ["sku", "on_hand"])
        data.write_row(1, 0, ["A", 4])
        chart = book.add_chart({"type": "column"})
        chart.add_series({"values": "=data!$B$2:$B$2"})
        chart_sheet.set_chart(chart)
    notes: list[str] = []
    frame = read_table("stock", InputFile(path=path), {}, notes)
    assert frame["on_hand"].to_list() == [4.0]
    assert notes == [
        f"{path}: reading sheet 'data', the first visible one with cells (empty: 'chart', "
        "'Sheet1'); set `sheet:` to choose another"
    ]
    assert capfd.readouterr().err == ""  # nothing printed beside stockplan's own lines


def test_init_reads_each_file_once_and_finds_a_header_below_a_title_line(
    tmp_path: Path, monkeypatch
):
    from stockplan.config import load_config
    from stockplan.io import inspect, readers

    (tmp_path / "销售.csv").write_text(
        "销售明细表,,\n日期,商品编码,数量\n2025-01-06,A,2\n", encoding="utf-8"
    )
    (tmp_path / "库存.csv").write_text("商品编码,现存量\nA,4\n", encoding="utf-8")
    (tmp_path / "商品.csv").write_text("商品编码,商品名称\nA,x\n", encoding="utf-8")
    (tmp_path / "商品2.csv").write_text("商品编码,规格\nA,y\n", encoding="utf-8")
    reads: list[str] = []
    original = readers.read_top_rows

    def counted(path, notes=None):
        reads.append(path.name)
        return original(path, notes)

    monkeypatch.setattr(inspect, "read_top_rows", counted)
    guesses = inspect.inspect_folder(tmp_path)
    assert sorted(reads) == sorted(p.name for p in tmp_path.iterdir())  # once per file
    assert {g.path.name: g.table for g in guesses}["销售.csv"] == "sales"

    text = inspect.starter_config(guesses, tmp_path)
    (tmp_path / "stockplan.yaml").write_text(text, encoding="utf-8")
    assert text.count("products:") == 1 + text.count("#   products:")  # one real block
    config = load_config(tmp_path / "stockplan.yaml")
    assert config.inputs.products is not None
    assert config.inputs.products.path.name in ("商品.csv", "商品2.csv")
    assert config.inputs.sales.path.name == "销售.csv"


def test_config_alias_bomb_is_refused_at_once(tmp_path: Path):
    import time

    from stockplan.config import load_config

    levels = "".join(f"    l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]\n" for n in range(1, 12))
    path = tmp_path / "bomb.yaml"
    path.write_text(
        "inputs: {sales: s.csv, stock: t.csv}\npolicy:\n  skus:\n    l0: &l0 [a, b]\n" + levels,
        encoding="utf-8",
    )
    started = time.perf_counter()
    with pytest.raises(StockplanError, match="expands to more than 100,000 values"):
        load_config(path)
    assert time.perf_counter() - started < 2.0


def test_config_that_is_a_fifo_is_refused(tmp_path: Path):
    import os

    from stockplan.config import load_config

    fifo = tmp_path / "stockplan.yaml"
    os.mkfifo(fifo)
    with pytest.raises(StockplanError, match="not a regular file"):
        load_config(fifo)


def test_out_of_domain_value_quoted_in_an_error_is_bounded(tmp_path: Path):
    from stockplan.config import load_config

    path = tmp_path / "c.yaml"
    path.write_text(
        "inputs: {sales: s.csv, stock: t.csv}\nforecast: {season_length: '" + "x" * 5000 + "'}\n",
        encoding="utf-8",
    )
    with pytest.raises(StockplanError) as error:
        load_config(path)
    assert "forecast.season_length" in str(error.value)
    assert len(str(error.value)) < 400


@pytest.mark.parametrize("cell", ["B ", "\u3000B", "2025-01-06 "])
def test_one_untrimmed_cell_in_a_clean_file_is_still_trimmed(tmp_path: Path, cell: str):
    """A clean file skips trimming its text: one code or date with a space at one end (an
    ideographic one too), on line 4 of a file whose other cells are clean, is enough to
    trim the column."""
    path = tmp_path / "sales.csv"
    last = f"{cell},B,3" if cell.startswith("2025") else f"2025-01-06,{cell},3"
    lines = ["date,sku,qty", "2025-01-05,A,1", "2025-01-05,B,2", last]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = _read(path)
    assert frame["sku"].to_list() == ["A", "B", "B"]
    assert frame["date"].to_list() == [dt.date(2025, 1, 5)] * 2 + [dt.date(2025, 1, 6)]


def test_a_totals_label_beside_filled_keys_is_dropped_in_an_otherwise_clean_file(tmp_path: Path):
    """A totals row whose key cells are filled (a date beside 合计) is found by its label
    alone: the clean-file pass must not skip the totals search for it."""
    path = tmp_path / "sales.csv"
    lines = ["date,sku,qty", "2025-01-05,A,1", "2025-01-05,B,2", "2025-01-05,-合计,3"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    notes: list[str] = []
    frame = read_table("sales", InputFile(path=path), {}, notes)
    assert frame["sku"].to_list() == ["A", "B"]
    assert frame["source_row"].to_list() == [2, 3]
    assert any("row 4" in note for note in notes)


def test_an_empty_sheet_a_missing_sheet_and_a_sheet_by_position_in_a_workbook(tmp_path: Path):
    """The sheet is read from the open workbook: an empty one is refused as Polars refused
    it, a name or position the workbook lacks gets Polars' words naming what it has, and a
    position reads that sheet."""
    import xlsxwriter

    path = tmp_path / "stock.xlsx"
    with xlsxwriter.Workbook(path) as book:
        book.add_worksheet("empty")
        book.add_worksheet("now").write_row(0, 0, ["sku", "on_hand"])
        book.get_worksheet_by_name("now").write_row(1, 0, ["A", 4])
    with pytest.raises(StockplanError) as empty:
        _read(path, "stock", sheet="empty")
    assert str(empty.value) == f"{path}: cannot read as an Excel workbook (empty Excel sheet)"
    with pytest.raises(StockplanError) as missing:
        _read(path, "stock", sheet="nowhere")
    # Polars said `sheet_id is 3` for `sheet: 2` (counted from 1), in English only
    assert str(missing.value) == (
        f"{path}: inputs.stock.sheet: 'nowhere' names no sheet of the workbook; its 2 sheets "
        "are 'empty', 'now' (a number counts them from 0)"
    )
    with pytest.raises(StockplanError) as beyond:
        _read(path, "stock", sheet=2)
    assert str(beyond.value) == (
        f"{path}: inputs.stock.sheet: 2 names no sheet of the workbook; its 2 sheets are "
        "'empty', 'now' (a number counts them from 0)"
    )
    assert error_text(beyond.value, "zh") == (
        f"{path}：inputs.stock.sheet：2 不是工作簿中的工作表；它的 2 个工作表是 'empty', 'now'"
        "（数字从 0 开始数）"
    )
    assert _read(path, "stock", sheet=1)["on_hand"].to_list() == [4.0]


def test_a_sheet_number_that_is_a_sheet_name_reads_that_sheet_or_says_which(tmp_path: Path):
    import xlsxwriter

    path = tmp_path / "stock.xlsx"
    with xlsxwriter.Workbook(path) as book:
        book.add_worksheet("readme").write_row(0, 0, ["notes"])
        book.add_worksheet("2024").write_row(0, 0, ["sku", "on_hand"])
        book.get_worksheet_by_name("2024").write_row(1, 0, ["A", 4])
        book.add_worksheet("1").write_row(0, 0, ["sku", "on_hand"])
    # YAML reads `sheet: 2024` as a number: there is no sheet 2024 by position, so the
    # sheet named 2024 is meant (Polars looked for a 2025th sheet)
    assert _read(path, "stock", sheet=2024)["on_hand"].to_list() == [4.0]
    assert _read(path, "stock", sheet="2024")["on_hand"].to_list() == [4.0]
    with pytest.raises(StockplanError) as both_ways:
        _read(path, "stock", sheet=1)
    assert str(both_ways.value) == (
        f"{path}: inputs.stock.sheet: 1 is both the sheet at position 1 (from 0), '2024', and "
        "the sheet named '1'; write sheet: '1' (in quotes) for the one named so, or the "
        "other sheet's name"
    )


@pytest.mark.parametrize(
    "header", ["累计入库数量", "入库数量", "实收数量", "已收货数量", "已入库数量"]
)
def test_a_purchase_orders_received_quantity_reads_from_its_erp_headers(
    tmp_path: Path, header: str
):
    """采购订单执行表 exports name what has arrived 累计入库数量 or 实收数量: not read, a
    half-received line counted its whole quantity as still on order."""
    path = tmp_path / "purchase_orders.csv"
    path.write_text(
        f"采购单号,商品编码,数量,下单日期,{header}\nP1,A,100,2025-01-06,40\n", encoding="utf-8"
    )
    orders = _read(path, "purchase_orders")
    assert orders.select("po_id", "quantity", "received_quantity").rows() == [("P1", 100.0, 40.0)]


def test_the_open_part_of_an_order_line_is_its_backlog_or_its_quantity_on_order(tmp_path: Path):
    """Order-execution exports (订单执行表, 采购订单执行表) list a line's ordered, done and
    open quantity: the ordered 100 was read as the backlog though 60 had shipped, and as
    on order though 70 had arrived."""
    from stockplan.io.prepare import with_open_quantities

    def backlog(text: str) -> list[float]:
        path = tmp_path / "customer_orders.csv"
        path.write_text(text, encoding="utf-8")
        frame = with_open_quantities("customer_orders", _read(path, "customer_orders"))
        assert not {"open_quantity", "shipped_quantity"} & set(frame.columns)
        return frame["quantity"].to_list()

    assert backlog("订单号,商品编码,订单数量,已发货数量,未发货数量\nSO1,A,100,60,40\n") == [40.0]
    assert backlog("订单号,商品编码,订单数量,已发货数量\nSO1,A,100,60\nSO2,A,5,9\n") == [40.0, 0.0]
    assert backlog("订单号,商品编码,订单数量,未发货数量\nSO1,A,100,\n") == [100.0]  # none said
    assert backlog("订单号,商品编码,订单数量\nSO1,A,100\n") == [100.0]

    path = tmp_path / "purchase_orders.csv"
    path.write_text(
        "采购单号,商品编码,数量,下单日期,未入库数量\nP1,A,100,2025-01-06,30\nP2,A,50,2025-01-06,\n",
        encoding="utf-8",
    )
    orders = with_open_quantities("purchase_orders", _read(path, "purchase_orders"))
    assert orders.select("po_id", "received_quantity").rows() == [("P1", 70.0), ("P2", None)]
    assert "open_quantity" not in orders.columns


def test_a_partly_received_order_line_is_its_received_part_and_its_open_part(tmp_path: Path):
    """A 采购订单执行表 line of 100 with 40 received on 10-08 and 未入库数量 60 had a received
    date, so it counted as closed: its 60 open units were on order nowhere."""
    from stockplan.io.prepare import with_open_quantities

    path = tmp_path / "purchase_orders.csv"
    path.write_text(
        "采购单号,商品编码,数量,下单日期,预计到货日期,入库日期,已入库数量,未入库数量\n"
        "P1,A,60,2025-09-20,2025-10-04,2025-10-03,60,0\n"
        "P3,A,100,2025-09-25,2025-10-20,2025-10-08,40,60\n"
        "P4,A,10,2025-09-25,2025-10-20,2025-10-08,,10\n"  # all open despite a date
        "P5,A,50,2025-09-01,2025-09-12,2025-09-12,,\n",  # received, its open cell blank
        encoding="utf-8",
    )
    orders = with_open_quantities("purchase_orders", _read(path, "purchase_orders"))
    assert "open_quantity" not in orders.columns
    lines = orders.select("po_id", "quantity", "received_date", "received_quantity")
    assert sorted(lines.rows(), key=lambda r: (r[0], r[2] is None)) == [
        ("P1", 60.0, dt.date(2025, 10, 3), 60.0),
        ("P3", 40.0, dt.date(2025, 10, 8), 40.0),  # a receipt of what arrived
        ("P3", 60.0, None, None),  # the open part: on order
        ("P4", 10.0, None, None),
        ("P5", 50.0, dt.date(2025, 9, 12), None),  # a receipt, not 50 back on order
    ]
    assert set(orders.filter(pl.col("po_id") == "P3")["expected_date"]) == {dt.date(2025, 10, 20)}


@pytest.mark.parametrize(
    ("expected", "arrival"), [("2025-10-20", "2025-10-20"), ("2025-10-09", "2025-10-13")]
)
def test_a_partly_received_order_line_keeps_its_open_part_on_order(
    small_shop: Path, tmp_path: Path, expected: str, arrival: str
):
    # the open part arrives on the line's expected date; one already past is due now (as_of)
    from typer.testing import CliRunner

    from stockplan.cli import app

    (small_shop.parent / "purchase_orders.csv").write_text(
        "采购单号,商品编码,仓库,供应商,数量,订单日期,预计到货日期,入库日期,未入库数量\n"
        "P1,A-100,WH1,Acme,60,2025-09-20,2025-10-04,2025-10-03,0\n"
        "P2,A-100,WH1,Acme,48,2025-10-01,2025-10-20,,48\n"
        f"P3,007,WH1,Acme,100,2025-09-25,{expected},2025-10-08,60\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(app, ["plan", "-c", str(small_shop), "-o", str(out), "--all"])
    assert result.exit_code == 0, result.output
    schema = {"sku": pl.String, "next_receipt_date": pl.String}
    orders = pl.read_csv(out / "orders.csv", schema_overrides=schema)
    risk = pl.read_csv(out / "risk.csv", schema_overrides=schema)
    item = (pl.col("sku") == "007") & (pl.col("location") == "WH1")
    assert orders.filter(item)["on_order"].item() == 60
    assert orders.filter(item)["inventory_position"].item() == 63  # 3 on hand + 60
    assert risk.filter(item)["next_receipt_date"].item() == arrival
    a100 = (pl.col("sku") == "A-100") & (pl.col("location") == "WH1")
    assert orders.filter(a100)["on_order"].item() == 48  # P2 open, P1 closed


def test_a_plan_counts_only_the_open_part_of_a_customer_order_as_backlog(small_shop: Path):
    import stockplan

    orders = small_shop.parent / "customer_orders.csv"
    orders.write_text(
        "order_id,sku,location,订单数量,已发货数量\nSO1,A-100,WH1,100,90\n", encoding="utf-8"
    )
    import yaml

    settings = yaml.safe_load(small_shop.read_text())
    settings["inputs"]["customer_orders"] = "customer_orders.csv"
    small_shop.write_text(yaml.safe_dump(settings))
    config, inputs = stockplan.load(small_shop)
    assert inputs["customer_orders"]["quantity"].to_list() == [10.0]
    plan = stockplan.plan(inputs, config)
    row = plan.orders.filter((pl.col("sku") == "A-100") & (pl.col("location") == "WH1"))
    assert row["backorders"].item() == 10.0
