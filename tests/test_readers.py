"""Loading ERP exports: encodings, delimiters, aliases, dates, Excel and Parquet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from stockplan.config import InputFile
from stockplan.errors import StockplanError
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
        "2025-01-05;A;12,5;W\n2025-01-06;A;1,234;W\n2025-01-07;A;¥8;W\n"
    )
    path.write_bytes(text.encode("utf-8"))
    # 'Datum' is not an alias: map it in the config
    frame = _read(path, overrides={"Datum": "date"})
    assert frame["date"].to_list() == [
        dt.date(2025, 1, 5),
        dt.date(2025, 1, 6),
        dt.date(2025, 1, 7),
    ]
    # decimal comma, thousands separator, currency sign
    assert frame["quantity"].to_list() == [12.5, 1234.0, 8.0]


def test_ambiguous_number_is_refused_not_guessed(tmp_path: Path):
    path = tmp_path / "sales.csv"
    path.write_bytes(b"date;sku;qty\n2025-01-05;A;1.234,5\n")
    with pytest.raises(
        StockplanError, match=r"row 2, column 'qty' \(quantity\): '1.234,5' is not a number"
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
