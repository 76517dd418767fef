"""Rows as the buyer sees them: sheet row numbers with blank rows, footers under the data,
blank locations, SKU and location spellings that differ, repeated lines."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import polars as pl
import pytest

from stockplan.config import InputFile
from stockplan.errors import StockplanError
from stockplan.io.readers import read_table


def _fill(sheet, rows: list[list[object]]) -> None:
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            if value is not None:
                sheet.cell(number, column, value)


def _sheet(path: Path, rows: list[list[object]]) -> Path:
    """A workbook whose sheet holds `rows` from row 1; `[]` is a blank row."""
    book = openpyxl.Workbook()
    _fill(book.active, rows)
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


@pytest.mark.parametrize(
    ("table", "text", "row", "header"),
    [
        ("stock", "sku,warehouse,on_hand\nA,WH-BJ,10\nB,,503\nC,WH-GZ,4\n", 3, "warehouse"),
        ("sales", SALES_HEADER + "2025-01-06,A,W1,5\n2025-01-07,A,,50\n", 3, "location"),
        (
            "purchase_orders",
            "sku,仓库,quantity,order_date\nA,,6,2025-01-02\nA,W1,4,2025-01-03\n",
            2,
            "仓库",
        ),
        ("customer_orders", "sku,location,quantity\nA,W1,2\nB,W2,1\nC, ,9\n", 4, "location"),
    ],
)
def test_blank_location_among_named_ones_is_refused_naming_file_row_and_column(
    tmp_path: Path, table: str, text: str, row: int, header: str
):
    path = tmp_path / f"{table}.csv"
    path.write_text(text, encoding="utf-8")
    suffix = "" if header == "location" else " \\(location\\)"
    with pytest.raises(
        StockplanError,
        match=rf"^{path}, row {row}, column '{header}'{suffix}: empty location while other rows",
    ):
        read_table(table, InputFile(path=path), {})


def test_a_location_column_left_blank_throughout_keeps_the_default_location(tmp_path: Path):
    path = tmp_path / "stock.csv"
    path.write_text("sku,location,on_hand\nA,,10\nB,,3\n", encoding="utf-8")
    frame = read_table("stock", InputFile(path=path), {})
    assert frame["location"].null_count() == 2  # filled with the default later, as before


def test_a_promotion_without_a_location_is_for_every_location(tmp_path: Path):
    path = tmp_path / "promotions.csv"
    path.write_text(
        "sku,location,start,end,uplift\nA,W1,2025-02-01,2025-02-07,0.5\n"
        "B,,2025-02-01,2025-02-07,0.3\n",
        encoding="utf-8",
    )
    frame = read_table("promotions", InputFile(path=path), {})
    assert frame["location"].to_list() == ["W1", None]


def test_plan_with_a_blank_stock_location_exits_1_and_writes_nothing(
    small_shop: Path, tmp_path: Path
):
    from typer.testing import CliRunner

    from stockplan.cli import app

    # 500 units of A-100 without a warehouse: filled as MAIN they were moved to WH1
    stock = small_shop.parent / "stock.csv"
    stock.write_text("sku,location,on_hand,allocated\nA-100,WH1,40,5\nA-100,,500,0\n007,WH1,3,0\n")
    out = tmp_path / "out.xlsx"
    result = CliRunner().invoke(app, ["plan", "-c", str(small_shop), "-o", str(out), "--all"])
    assert result.exit_code == 1
    assert f"{stock}, row 3, column 'location': empty location" in result.output
    assert not out.exists()


def _shop_without_products(config: Path) -> Path:
    import yaml

    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["inputs"] = {"sales": "sales.csv", "stock": "stock.csv"}
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return config


def _plan(config: Path, out: Path, *options: str):
    from typer.testing import CliRunner

    from stockplan.cli import app

    return CliRunner().invoke(app, ["plan", "-c", str(config), "-o", str(out), "--all", *options])


def test_sku_that_lost_its_leading_zeros_in_xlsx_is_refused_without_products(
    small_shop: Path, tmp_path: Path
):
    import polars as pl
    import yaml

    # the sales re-saved as .xlsx with the SKU column as numbers: '007' became 7, which
    # without a products table planned a phantom item 7 beside a stocked 007 that never sold
    config = _shop_without_products(small_shop)
    folder = small_shop.parent
    sales = pl.read_csv(folder / "sales.csv", schema_overrides={"sku": pl.String})
    first_007 = sales["sku"].to_list().index("007")  # 0-based among the data rows
    rows = [sales.columns] + [
        [int(v) if k == 1 and v == "007" else v for k, v in enumerate(r)] for r in sales.rows()
    ]
    _sheet(folder / "sales.xlsx", rows)
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["inputs"]["sales"] = "sales.xlsx"
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    out = tmp_path / "out.xlsx"
    result = _plan(config, out)
    assert result.exit_code == 1 and not out.exists()
    # header in row 1: the first 007 line is sheet row first_007 + 2; stock's 007 is row 4
    message = " ".join(result.output.split())
    assert (
        f"{folder / 'sales.xlsx'}, row {first_007 + 2}, column 'sku': '7' is '007' in "
        f"{folder / 'stock.csv'}, row 4, with its leading zeros" in message
    )
    assert "format the SKU column as text" in message


@pytest.mark.parametrize(
    ("stocked", "typed", "read"), [("1.10", 1.1, "1.1"), ("1.50", 1.5, "1.5"), ("10.0", 10.0, "10")]
)
def test_sku_a_workbook_held_as_a_number_without_its_decimal_zeros_is_refused(
    small_shop: Path, tmp_path: Path, stocked: str, typed: float, read: str
):
    import polars as pl
    import yaml

    # `1.10` typed into a General cell is the number 1.1: the plan ordered 318 of an
    # item '1.1' with nothing on hand while the stocked '1.10' got nothing, without a word
    config = _shop_without_products(small_shop)
    folder = small_shop.parent
    stock = pl.read_csv(folder / "stock.csv", schema_overrides={"sku": pl.String})
    stock.with_columns(pl.col("sku").replace("007", stocked)).write_csv(folder / "stock.csv")
    sales = pl.read_csv(folder / "sales.csv", schema_overrides={"sku": pl.String})
    first_007 = sales["sku"].to_list().index("007")
    rows = [sales.columns] + [
        [typed if k == 1 and v == "007" else v for k, v in enumerate(r)] for r in sales.rows()
    ]
    _sheet(folder / "sales.xlsx", rows)
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["inputs"]["sales"] = "sales.xlsx"
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    out = tmp_path / "out.xlsx"
    result = _plan(config, out)
    assert result.exit_code == 1 and not out.exists(), result.output
    assert result.output.startswith(
        f"stockplan: error: {folder / 'sales.xlsx'}, row {first_007 + 2}, column 'sku': "
        f"'{read}' is '{stocked}' in {folder / 'stock.csv'}, row 4, the same number: a "
        "spreadsheet held the code as a number, which drops the zeros at the end of its "
        "decimals"
    ), result.output
    assert len(result.output.strip().splitlines()) == 1
    # in Chinese too
    result = _plan(config, out, "--lang", "zh")
    assert result.exit_code == 1 and "数值相同：电子表格把编码当成了数字" in result.output


def test_a_table_holding_both_decimal_spellings_knows_two_items():
    import polars as pl

    from stockplan.config import Config
    from stockplan.io.prepare import check_sku_spellings

    # stock knows 1.1 and 1.10 as two items; 100 is no spelling of 1 or 10
    stock = pl.DataFrame({"source_row": [2, 3, 4], "sku": ["1.1", "1.10", "100"]})
    sales = pl.DataFrame({"source_row": [2, 3, 4], "sku": ["1.1", "1.10", "10"]})
    check_sku_spellings({"stock": stock, "sales": sales}, Config())  # no error


@pytest.mark.parametrize("hidden", ["\u200b", "\u200c", "\u2060", "\ufeff", "\u00ad"])
def test_an_sku_with_an_invisible_character_is_refused_naming_both_rows(
    small_shop: Path, tmp_path: Path, hidden: str
):
    # a zero-width space copied with the stock's code made a second item that looks the
    # same: 007's sales planned apart from its 3 units on hand, without a word
    config = _shop_without_products(small_shop)
    stock = small_shop.parent / "stock.csv"
    stock.write_text(
        f"sku,location,on_hand\nA-100,WH1,40\nA-100,WH2,500\n007{hidden},WH1,3\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.xlsx"
    result = _plan(config, out)
    assert result.exit_code == 1 and not out.exists()
    shown = hidden.encode("unicode_escape").decode()
    # the spelling with the hidden character is named, though the stock is compared first
    sales = small_shop.parent / "sales.csv"
    first_007 = pl.read_csv(sales, schema_overrides={"sku": pl.String})["sku"].to_list()
    assert result.stderr.strip().splitlines() == [
        f"stockplan: error: {stock}, row 4, column 'sku': '007{shown}' is '007' in {sales}, "
        f"row {first_007.index('007') + 2}, but for an invisible character (shown escaped, "
        "copied with the code): delete it and use one spelling in every file"
    ]
    result = _plan(config, out, "--lang", "zh")
    assert "只差一个不可见字符" in result.stderr


def test_sku_spelled_in_other_case_is_refused_naming_both_spellings(
    small_shop: Path, tmp_path: Path
):
    config = _shop_without_products(small_shop)
    stock = small_shop.parent / "stock.csv"
    stock.write_text("sku,location,on_hand\na-100,WH1,40\na-100,WH2,500\n007,WH1,3\n")
    result = _plan(config, tmp_path / "out.xlsx")
    assert result.exit_code == 1
    # stock is the reference table: the sales (later) spelling 'A-100' is named, at row 2
    assert (
        f"{small_shop.parent / 'sales.csv'}, row 2, column 'sku': 'A-100' is 'a-100' in "
        f"{stock}, row 2, in other letter case: use one spelling in every file"
    ) in " ".join(result.output.split())


def _with_item_table(config: Path, name: str, text: str) -> Path:
    import yaml

    (config.parent / f"{name}.csv").write_text(text, encoding="utf-8")
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["inputs"][name] = f"{name}.csv"
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return config.parent / f"{name}.csv"


@pytest.mark.parametrize(
    ("name", "text", "column", "sku", "other", "fix"),
    [
        # the kit's demand went to an item 7 nothing stocks; 007 planned without it
        ("bom", "kit_sku,component_sku,quantity\nA-100,7,2\n", "component_sku", "7", "007", 0),
        # the successor inherited nothing, and 007 was ordered past its switch date
        ("succession", "old_sku,new_sku,date\n7,A-100,2025-03-01\n", "old_sku", "7", "007", 0),
        (
            "succession",
            "old_sku,new_sku,date\n007,a-100,2025-03-01\n",
            "new_sku",
            "a-100",
            "A-100",
            1,
        ),
    ],
)
def test_a_kit_or_succession_sku_spelled_another_way_is_refused_and_nothing_written(
    small_shop: Path,
    tmp_path: Path,
    name: str,
    text: str,
    column: str,
    sku: str,
    other: str,
    fix: int,
):
    table = _with_item_table(small_shop, name, text)
    out = tmp_path / "out.xlsx"
    result = _plan(small_shop, out)
    assert result.exit_code == 1 and not out.exists()
    # products is the first table that knows the other spelling: 007 in its row 3
    row = 3 if other == "007" else 2
    fixes = ("with its leading zeros: a spreadsheet read", "in other letter case: use one")
    assert result.output.startswith(
        f"stockplan: error: {table}, row 2, column '{column}': '{sku}' is '{other}' in "
        f"{small_shop.parent / 'products.csv'}, row {row}, {fixes[fix]}"
    ), result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_component_that_lost_its_zeros_is_refused_in_chinese(small_shop: Path, tmp_path: Path):
    table = _with_item_table(small_shop, "bom", "套件编码,组件编码,用量\nA-100,7,2\n")
    out = tmp_path / "out.xlsx"
    result = _plan(small_shop, out, "--lang", "zh")
    assert result.exit_code == 1 and not out.exists()
    assert result.output.startswith(
        f"stockplan: 错误: {table}，第 2 行，列 'component_sku'：'7' 在 "
        f"{small_shop.parent / 'products.csv'}，第 3 行 中写作 '007'，带前导零："
        "电子表格把编码当成了数字"
    ), result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_dataset_part_file_with_only_blank_locations_beside_named_ones_is_refused(
    small_shop: Path, tmp_path: Path
):
    import yaml

    # every row of part-1 without a warehouse: its 500 units of A-100 were stock at a
    # made-up MAIN, moved to WH1 and WH2; each part file passed the rule on its own
    folder = small_shop.parent / "stock"
    folder.mkdir()
    pl.DataFrame(
        {"sku": ["A-100", "A-100", "007"], "仓库": ["WH1", "WH2", "WH1"], "on_hand": [40, 10, 3]}
    ).write_parquet(folder / "part-0.parquet")
    pl.DataFrame(
        {"sku": ["A-100", "007"], "仓库": [None, None], "on_hand": [500, 7]},
        schema={"sku": pl.String, "仓库": pl.String, "on_hand": pl.Int64},
    ).write_parquet(folder / "part-1.parquet")
    settings = yaml.safe_load(small_shop.read_text(encoding="utf-8"))
    settings["inputs"]["stock"] = "stock"
    small_shop.write_text(yaml.safe_dump(settings), encoding="utf-8")
    out = tmp_path / "out.xlsx"
    result = _plan(small_shop, out)
    assert result.exit_code == 1 and not out.exists()
    assert result.output.startswith(
        f"stockplan: error: {folder / 'part-1.parquet'}, row 2, column '仓库' (location): empty "
        "location while other rows name one (WH1, WH2; 2 empty)"
    ), result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_table_holding_both_spellings_is_not_a_spelling_clash():
    import polars as pl

    from stockplan.config import Config
    from stockplan.io.prepare import check_sku_spellings

    # stock knows 7 and 007 as two items, so sales' 7 is the stocked 7, not a lost 007
    stock = pl.DataFrame({"source_row": [2, 3], "sku": ["7", "007"]})
    sales = pl.DataFrame({"source_row": [2], "sku": ["7"]})
    check_sku_spellings({"stock": stock, "sales": sales}, Config())  # no error


def test_an_sku_typed_in_full_width_is_refused_as_the_same_code_spelled_two_ways():
    import polars as pl

    from stockplan.config import Config
    from stockplan.errors import StockplanError
    from stockplan.i18n import error_text
    from stockplan.io.prepare import check_sku_spellings

    # sales typed in an input method's full-width mode: planned apart from the stock's
    # 010007, as an item without stock, it was refused only as an unknown sku
    stock = pl.DataFrame({"source_row": [2, 3], "sku": ["010007", "A-2"]})
    sales = pl.DataFrame({"source_row": [2, 3, 4], "sku": ["A-2", "０１０００７", "０１０００７"]})
    with pytest.raises(StockplanError) as refused:
        check_sku_spellings({"stock": stock, "sales": sales}, Config())
    assert error_text(refused.value, "en") == (
        "sales frame, row 3, column 'sku': '０１０００７' is '010007' in stock frame, row 2, "
        "in full-width characters: use one spelling in every file (half width, as ERPs "
        "export codes)"
    )
    assert error_text(refused.value, "zh").endswith(
        "只是全角与半角不同：请在所有文件中用同一种写法（半角，与系统导出的编码一致）"
    )
    # a table that knows both spellings knows two items
    both = pl.DataFrame({"source_row": [2, 3], "sku": ["010007", "０１０００７"]})
    check_sku_spellings({"stock": both, "sales": sales}, Config())  # no error


def test_a_key_some_table_spells_two_ways_is_two_items_in_every_table():
    import polars as pl

    from stockplan.config import Config
    from stockplan.errors import StockplanError
    from stockplan.io.prepare import check_sku_spellings

    # products knows 123 and 0123 as two real items: sales' 123 beside stock's 0123 is
    # each its own item, not a code that lost its zero
    products = pl.DataFrame({"source_row": [2, 3], "sku": ["123", "0123"]})
    stock = pl.DataFrame({"source_row": [2], "sku": ["0123"]})
    sales = pl.DataFrame({"source_row": [2], "sku": ["123"]})
    tables = {"products": products, "stock": stock, "sales": sales}
    check_sku_spellings(tables, Config())  # no error
    # without the products table that knows both, the same pair is a clash
    with pytest.raises(StockplanError, match="'123' is '0123' in stock frame"):
        check_sku_spellings({"stock": stock, "sales": sales}, Config())


LOCATION_TAIL = (
    ": one warehouse spelled two ways is planned as two, its stock, sales and orders split "
    "between them; use one spelling in every file"
)


@pytest.mark.parametrize(
    ("spelled", "how"),
    [
        ("wh1", "letter case"),
        ("ＷＨ１", "full or half width"),
        ("WH-1", "spaces, dashes, underscores or dots"),
        ("wh 1", "letter case and spaces, dashes, underscores or dots"),
    ],
)
def test_a_warehouse_spelled_two_ways_in_the_stock_is_refused_naming_both_rows(
    small_shop: Path, tmp_path: Path, spelled: str, how: str
):
    # 007's 30 units sat in 'wh1', a warehouse of their own: 007@WH1 was planned with
    # nothing on hand (or a transfer between the two), without a word
    stock = small_shop.parent / "stock.csv"
    stock.write_text(
        f"sku,location,on_hand,allocated\nA-100,WH1,40,5\nA-100,WH2,500,0\n007,{spelled},30,0\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    out.mkdir()
    result = _plan(small_shop, out)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"stockplan: error: {stock}, row 4, column 'location': location '{spelled}' is written "
        f"'WH1' in {stock}, row 2 (they differ only in {how}){LOCATION_TAIL}"
    ]
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("hidden", ["\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad"])
def test_a_warehouse_with_an_invisible_character_is_refused_naming_both_rows(
    small_shop: Path, tmp_path: Path, hidden: str
):
    # 'WH1' with a zero-width space copied along was a second, invisible warehouse: 007's
    # 30 units sat in it while 007@WH1 was planned with nothing on hand
    stock = small_shop.parent / "stock.csv"
    stock.write_text(
        f"sku,location,on_hand,allocated\nA-100,WH1,40,5\nA-100,WH2,500,0\n007,WH{hidden}1,30,0\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    out.mkdir()
    result = _plan(small_shop, out)
    assert result.exit_code == 1
    shown = hidden.encode("unicode_escape").decode()
    assert result.stderr.strip().splitlines() == [
        f"stockplan: error: {stock}, row 4, column 'location': location 'WH{shown}1' is written "
        f"'WH1' in {stock}, row 2 (they differ only in invisible characters)"
        f"{LOCATION_TAIL}"
    ]
    assert list(out.iterdir()) == []


def test_a_purchase_order_for_a_warehouse_spelled_another_way_names_the_spelling(
    small_shop: Path, tmp_path: Path
):
    # 'wh2' was refused as a location in neither the stock nor the sales: now the message
    # says which warehouse it is, in both languages
    orders = small_shop.parent / "purchase_orders.csv"
    orders.write_text(
        "po_id,sku,仓库,quantity,order_date\nP1,A-100,WH1,60,2025-09-20\nP2,A-100,wh2,48,2025-10-01\n"
    )
    result = _plan(small_shop, tmp_path / "out.xlsx")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"stockplan: error: {orders}, row 3, column '仓库' (location): location 'wh2' is written "
        f"'WH2' in {small_shop.parent / 'stock.csv'}, row 3 (they differ only in letter case)"
        f"{LOCATION_TAIL}"
    )
    result = _plan(small_shop, tmp_path / "out.xlsx", "--lang", "zh")
    assert result.stderr.strip().endswith(
        f"仓库 'wh2' 在 {small_shop.parent / 'stock.csv'}，第 3 行 中写作 'WH2'（只是大小写不同）："
        "同一仓库的两种写法会被当作两个仓库来计划，库存、销售和订单被拆到两处；请在所有文件中用同一种写法"
    )


def test_the_spelling_most_rows_use_is_taken_as_meant_and_others_are_counted():
    import polars as pl

    from stockplan.config import Config
    from stockplan.errors import StockplanError
    from stockplan.io.prepare import check_location_spellings

    # warehouse codes a spreadsheet read as numbers lose their zeros: 1 for 01
    stock = pl.DataFrame({"source_row": [2, 3, 4], "location": ["01", "02", "Main"]})
    sales = pl.DataFrame(
        {"source_row": [2, 3, 4, 5], "location": ["1", "1", "MAIN", None]}  # blank: no name
    )
    with pytest.raises(StockplanError) as refused:
        check_location_spellings({"stock": stock, "sales": sales}, Config())
    assert str(refused.value) == (
        "stock frame, row 2, column 'location': location '01' is written '1' in sales frame, "
        f"row 2 (they differ only in leading zeros){LOCATION_TAIL} (2 locations spelled two ways)"
    )
    # distinct names that merely look alike are distinct warehouses
    apart = pl.DataFrame(
        {"source_row": [2, 3, 4, 5], "location": ["WH1", "WH11", "WH-BJ", "WH-SH"]}
    )
    check_location_spellings({"stock": apart, "sales": apart}, Config())  # no error


def test_a_warehouse_spelled_two_ways_across_partitions_is_refused():
    """A cluster's tasks read their stock and sales slices: the names each wrote are
    compared over every partition and with the tables read on the driver."""
    import datetime as dt

    import polars as pl

    from stockplan.config import Config
    from stockplan.io.prepare import check_read_facts, prepare_items_slice, prepare_sales_slice

    config = Config()
    stock = pl.DataFrame(
        {"source_file": ["s.parquet"], "source_row": [2], "sku": ["A"], "location": ["WH1"]}
        | {"on_hand": [4.0]}
    )
    _, items = prepare_items_slice({"stock": stock}, {"stock"}, "WH1", config)
    sales = pl.DataFrame(
        {"source_file": ["b.parquet"], "source_row": [7], "date": [dt.date(2025, 1, 6)]}
        | {"sku": ["A"], "location": ["ｗｈ１"], "quantity": [1.0]}
    )
    _, sold = prepare_sales_slice(sales, ["WH1"], None, config)
    with pytest.raises(StockplanError) as refused:
        check_read_facts([items, sold], {}, config, None)
    assert str(refused.value).startswith(
        "b.parquet, row 7, column 'location': location 'ｗｈ１' is written 'WH1' in s.parquet, "
        "row 2 (they differ only in letter case and full or half width)"
    )


@pytest.mark.parametrize(
    ("stocked", "warned"),
    [
        ([], "none of the 4 SKUs in it is in the stock file"),
        (["A"], "3 of the 4 SKUs in it (75%) are not in the stock file"),
        (["A", "B"], None),  # 2 of 4 = 50 %: not more than half, no warning
    ],
)
def test_sales_skus_mostly_missing_from_stock_are_warned_about(
    stocked: list[str], warned: str | None
):
    import polars as pl

    from stockplan.config import Config
    from stockplan.io.prepare import unmatched_sales_skus

    sales = pl.DataFrame({"sku": ["A", "B", "C", "D", "A"]})
    stock = pl.DataFrame({"sku": ["X", *stocked]}, schema={"sku": pl.String})
    warnings = unmatched_sales_skus({"sales": sales, "stock": stock}, Config())
    if warned is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and warnings[0].startswith(f"sales frame: {warned}")


def test_a_sales_file_repeated_whole_with_its_order_ids_is_warned_about():
    import polars as pl

    from stockplan.config import Config
    from stockplan.io.prepare import prepare_inputs

    # rows 5-7 repeat rows 2-4 exactly, order ids included: the whole file twice, an
    # export run twice. Row 4 has row 2's values under another order id: a real sale
    sales = pl.DataFrame(
        {
            "source_row": [2, 3, 4, 5, 6, 7],
            "date": ["2025-01-06"] * 6,
            "sku": ["A", "B", "A", "A", "B", "A"],
            "location": ["W"] * 6,
            "quantity": [5.0, 3.0, 5.0, 5.0, 3.0, 5.0],
            "order_id": ["SO1", "SO2", "SO3", "SO1", "SO2", "SO3"],
        }
    ).with_columns(pl.col("date").str.to_date())
    stock = pl.DataFrame({"source_row": [2, 3], "sku": ["A", "B"], "location": ["W", "W"]})
    stock = stock.with_columns(on_hand=pl.lit(1.0))
    prepared = prepare_inputs({"sales": sales, "stock": stock}, Config())
    assert (
        "sales frame, rows 5-7: 3 lines repeat earlier lines exactly, order_id included, in 1 "
        "block of consecutive lines (an export that ran twice?); added up as written: delete "
        "the repeats if they are not real"
    ) in prepared.warnings
    # 5 + 3 + 5, twice: summed as written
    assert prepared.tables["sales"]["quantity"].sum() == 26


def _invoices(lines: int) -> pl.DataFrame:
    """`lines` invoice lines, ten to an invoice, each item once: no line repeats."""
    import polars as pl

    return pl.DataFrame(
        {
            "source_row": list(range(2, lines + 2)),
            "sku": [f"S{i % 37}" for i in range(lines)],
            "quantity": [float(1 + i % 5) for i in range(lines)],
            "order_id": [f"INV{i // 10}" for i in range(lines)],
        }
    )


def test_items_scanned_twice_inside_invoices_are_ordinary_lines_not_a_double_export():
    import polars as pl

    from stockplan.io.prepare import repeated_lines

    lines = _invoices(200)
    # lines scanned again right after them, in 6 invoices, up to 6 in a row (a run of 6
    # repeated lines: the longest the real UCI Online Retail invoices show)
    last = lines["source_row"]
    again = pl.concat(
        [
            lines.slice(at, n).with_columns(
                source_row=last[at + n - 1] + 0.5 + pl.int_range(n, dtype=pl.Int64) / 100
            )
            for at, n in ((3, 1), (25, 2), (61, 6), (99, 1), (140, 3), (177, 1))
        ]
    )
    scanned = (
        pl.concat([lines, again], how="vertical_relaxed")
        .sort("source_row")
        .with_columns(source_row=pl.int_range(2, pl.len() + 2))
    )
    assert scanned.height == 214
    assert repeated_lines(scanned, "sales.csv", "sales") == []


def test_the_last_lines_of_a_file_appended_again_are_warned_about_naming_their_rows():
    import polars as pl

    from stockplan.io.prepare import repeated_lines

    lines = _invoices(200)
    appended = lines.tail(30).with_columns(source_row=pl.int_range(202, 232))
    warned = repeated_lines(pl.concat([lines, appended]), "sales.csv", "sales")
    assert warned == [
        "sales.csv, rows 202-231: 30 lines repeat earlier lines exactly, order_id included, in "
        "1 block of consecutive lines (an export that ran twice?); added up as written: "
        "delete the repeats if they are not real"
    ]
    from stockplan.i18n import say

    assert say(warned[0], "zh") == (
        "sales.csv，第 202-231 行：30 行与前面的行完全相同（连 order_id 也相同），连续成 1 段"
        "（导出运行了两次？）；已按原样相加：如不是真实数据，请删除重复行"
    )
    # 19 lines appended again stay under the block of 20
    short = lines.tail(19).with_columns(source_row=pl.int_range(202, 221))
    assert repeated_lines(pl.concat([lines, short]), "sales.csv", "sales") == []


def test_equal_sales_lines_without_an_order_id_are_not_warned_about():
    import polars as pl

    from stockplan.io.prepare import repeated_lines

    sales = pl.DataFrame({"source_row": [2, 3], "sku": ["A", "A"], "quantity": [1.0, 1.0]})
    assert repeated_lines(sales, "sales.csv", "sales") == []


def test_pack_size_zero_is_read_as_no_pack_and_said_once_with_the_count(
    small_shop: Path, tmp_path: Path
):
    import polars as pl

    folder = small_shop.parent
    products = pl.read_csv(folder / "products.csv", schema_overrides={"sku": pl.String})
    products.with_columns(pack_size=pl.lit(0)).write_csv(folder / "products.csv")
    out = tmp_path / "orders.csv"
    result = _plan(small_shop, out)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert text.count("column 'pack_size'") == 1
    assert (
        f"{folder / 'products.csv'}, row 2, column 'pack_size': 0 (2 items): read as no "
        "pack size, ordered in single units"
    ) in text
    orders = pl.read_csv(out, schema_overrides={"sku": pl.String})
    a100 = orders.filter(pl.col("sku") == "A-100", pl.col("order_qty") > 0)
    # no pack: A-100 (pack 12 before) may now order a quantity that is no multiple of 12;
    # every order is still whole units and at least the MOQ of 24
    assert (a100["order_qty"] >= 24).all() and (a100["order_qty"] % 1 == 0).all()


def test_footer_under_a_typed_parquet_table_is_skipped_and_typed_cells_are_never_labels(
    tmp_path: Path,
):
    import polars as pl

    path = tmp_path / "stock.parquet"
    pl.DataFrame(
        {
            "sku": ["A", "B", "制表人：张三"],
            "location": ["W", "W", None],
            "on_hand": [1.0, 2.0, None],
            "tags": [[1], [2], None],  # a list column: no text, never a label
        }
    ).write_parquet(path)
    notes: list[str] = []
    frame = read_table("stock", InputFile(path=path), {}, notes)
    assert frame["sku"].to_list() == ["A", "B"]
    assert notes == [
        f"{path}, row 4: 1 footer row under the data ('制表人：张三') skipped, "
        "not read as items or demand"
    ]


def test_plan_workbook_read_back_names_the_sheet_row_despite_blank_rows(tmp_path: Path):
    from stockplan.io.planfiles import read_plan

    # title in row 2, header in row 4, orders in rows 5 and 7 (row 6 left blank by an edit)
    rows = [
        [],
        ["Purchase suggestions"],
        [],
        ["sku", "location", "order_qty"],
        ["007", "W1", 24],
        [],
        ["A", "W1", 12],
    ]
    book = openpyxl.Workbook()
    book.active.title = "orders"
    _fill(book.active, rows)
    book.save(tmp_path / "plan.xlsx")
    tables, _ = read_plan(tmp_path / "plan.xlsx")
    assert tables["orders"].rows() == [("007", "W1", 24.0), ("A", "W1", 12.0)]
    rows[6][2] = "abc"
    _fill(book.active, rows)
    book.save(tmp_path / "plan.xlsx")
    with pytest.raises(StockplanError, match=r"row 7, column 'order_qty': 'abc' is not a number"):
        read_plan(tmp_path / "plan.xlsx")


def test_an_item_code_like_page1_in_the_last_products_row_is_an_item(tmp_path: Path):
    path = tmp_path / "products.csv"
    path.write_text("sku,name\nA,Apple\nPAGE1,Page marker\nPage 2 of 2,\n", encoding="utf-8")
    notes: list[str] = []
    frame = read_table("products", InputFile(path=path), {}, notes)
    assert frame["sku"].to_list() == ["A", "PAGE1"]  # 'Page 2 of 2' is the footer
    assert notes == [
        f"{path}, row 4: 1 footer row under the data ('Page 2 of 2') skipped, "
        "not read as items or demand"
    ]


def test_stock_by_batch_sums_each_items_batches_and_refuses_a_batch_twice(small_shop: Path):
    """An ERP's 即时库存 by 批号 lists an item once per batch at a location: refused as a
    duplicate stock record, the buyer had to add the batches up by hand."""
    import stockplan

    stock = small_shop.parent / "stock.csv"
    stock.write_text(
        "商品编码,仓库,现存量,已分配,批号\n"
        "A-100,WH1,30,5,B2501\n"
        "A-100,WH1,10,0,B2502\n"
        "A-100,WH2,500,0,B2501\n"
        "007,WH1,3,0,\n",
        encoding="utf-8",
    )
    config, inputs = stockplan.load(small_shop)
    assert inputs["stock"].height == 4  # as read: one row per batch
    plan = stockplan.plan(inputs, config)
    on_hand = plan.orders.sort("sku", "location").select("sku", "location", "on_hand", "allocated")
    # 30 + 10 at WH1, allocated 5 + 0: the same position as the one-row stock of small_shop
    assert on_hand.rows() == [
        ("007", "WH1", 3.0, 0.0),
        ("A-100", "WH1", 40.0, 5.0),
        ("A-100", "WH2", 500.0, 0.0),
    ]
    stock.write_text(stock.read_text(encoding="utf-8") + "A-100,WH1,7,0,B2502\n", encoding="utf-8")
    with pytest.raises(StockplanError) as refused:
        stockplan.load(small_shop)
    assert str(refused.value) == (
        f"{stock}, row 6, column 'sku': stock record sku='A-100', location='WH1', "
        "batch='B2502' appears again (first at row 3)"
    )


def test_timestamps_with_a_time_zone_keep_their_own_date_in_parquet_and_text(tmp_path: Path):
    import datetime as dt

    # midnight in Shanghai is 16:00 UTC the day before: a typed Parquet timestamp was read
    # on the UTC date, a day before the same value written as text
    local = [dt.datetime(2025, 6, 2), dt.datetime(2025, 6, 2, 23, 59)]
    typed = pl.Series("date", local).dt.replace_time_zone("Asia/Shanghai")
    frame = pl.DataFrame({"date": typed, "sku": ["A", "B"], "quantity": [10, 3]})
    frame.write_parquet(tmp_path / "sales.parquet")
    texts = ["2025-06-02T00:00:00+08:00", "2025-06-02 23:59:00 +0800"]
    frame.with_columns(date=pl.Series(texts)).write_csv(tmp_path / "sales.csv")
    for name in ("sales.parquet", "sales.csv"):
        sales = read_table("sales", InputFile(path=tmp_path / name), {})
        assert sales["date"].to_list() == [dt.date(2025, 6, 2)] * 2, name
