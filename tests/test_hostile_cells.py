"""Hostile cells in otherwise good inputs: each is refused in one line naming file, row and
column (exit 1, no output), in English and Chinese, never read as something else."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from stockplan.cli import app

runner = CliRunner()


def _add_promotions(config: Path, text: str) -> Path:
    path = config.parent / "promotions.csv"
    path.write_text(text, encoding="utf-8")
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["inputs"]["promotions"] = "promotions.csv"
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("header", "first", "column"),
    [
        ("sku,category", "A-100,", "category"),
        ("category", "toys", "category"),
        ("sku", "A-100", "sku"),
    ],
)
def test_a_promotion_for_no_sku_and_no_category_is_refused(
    small_shop: Path, tmp_path: Path, header: str, first: str, column: str
):
    # row 3 names nothing: it lifted no item, and the planned promotion was lost unsaid
    blank = "," * header.count(",") + " "
    dates = "2025-11-10,2025-11-20,0.5"
    path = _add_promotions(
        small_shop, f"{header},start,end,uplift\n{first},{dates}\n{blank},{dates}\n"
    )
    target = tmp_path / "out" / "plan.xlsx"
    target.parent.mkdir()
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-o", str(target)])
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [
        f"stockplan: error: {path}, row 3, column '{column}': a promotion needs a sku or a "
        "category; this row has neither"
    ]
    assert list(target.parent.iterdir()) == []

    result = runner.invoke(app, ["validate", "-c", str(small_shop), "--lang", "zh"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"stockplan: 错误: {path}，第 3 行，列 '{column}'：促销须填商品编码（sku）或类别"
        "（category），此行两者都没有"
    ]


@pytest.mark.parametrize("days", ["1e9", "40000"])
def test_a_lead_time_of_more_than_ten_years_is_refused(small_shop: Path, tmp_path: Path, days: str):
    # 1e9 days ran the supply calendar past the year 9999 (an internal error); 40000 days
    # planned orders of a century of demand, due in 2135, without a word
    suppliers = small_shop.parent / "suppliers.csv"
    suppliers.write_text(f"supplier,lead_time_days,lead_time_std_days\nAcme,{days},2.0\n")
    target = tmp_path / "out" / "plan.xlsx"
    target.parent.mkdir()
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-o", str(target)])
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [
        f"stockplan: error: {suppliers}, row 2, column 'lead_time_days': '{days}' days is "
        "more than ten years (3,660 days)"
    ]
    assert list(target.parent.iterdir()) == []


def test_a_lead_time_spread_of_more_than_ten_years_is_refused_in_chinese(small_shop: Path):
    suppliers = small_shop.parent / "suppliers.csv"
    suppliers.write_text("supplier,lead_time_days,lead_time_std_days\nAcme,14,3661\n")
    result = runner.invoke(app, ["validate", "-c", str(small_shop), "--lang", "zh"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"stockplan: 错误: {suppliers}，第 2 行，列 'lead_time_std_days'：'3661' 天超过十年"
        "（3,660 天）"
    ]


@pytest.mark.parametrize(("days", "exit_code"), [("3661", 1), ("3660", 0)])
def test_a_product_lead_time_is_refused_above_ten_years_under_its_own_header(
    small_shop: Path, days: str, exit_code: int
):
    products = small_shop.parent / "products.csv"
    lines = products.read_text().splitlines()
    lines = [lines[0] + ",提前期", lines[1] + f",{days}", lines[2] + ",7"]
    products.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", "-c", str(small_shop)])
    assert result.exit_code == exit_code, result.output
    if exit_code:
        assert result.stderr.strip().splitlines() == [
            f"stockplan: error: {products}, row 2, column '提前期' (lead_time_days): '3661' "
            "days is more than ten years (3,660 days)"
        ]


def test_an_item_sold_in_units_of_1e_11_is_planned_and_written(small_shop: Path, tmp_path: Path):
    # its days of cover, 1e11 on hand over a demand of about 1e-11 a day, are 1e22, beyond
    # a whole number (int64), which the workbook writer cast them to and stopped on (an
    # internal error); sold in units of 1e-300 (4e301 days) it is now read as selling 0
    sales = small_shop.parent / "sales.csv"
    rows = [line.split(",") for line in sales.read_text().splitlines()]
    for row in rows:
        if row[1:3] == ["A-100", "WH1"]:
            row[3] = "1e-11"
    sales.write_text("\n".join(",".join(row) for row in rows) + "\n")
    stock = small_shop.parent / "stock.csv"
    stock.write_text(stock.read_text().replace("A-100,WH1,40,", "A-100,WH1,100000000000,"))
    target = tmp_path / "plan.xlsx"
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-o", str(target), "-q"])
    assert result.exit_code == 0, result.output
    risk = pl.read_excel(target, sheet_name="risk").filter(
        (pl.col("sku") == "A-100") & (pl.col("location") == "WH1")
    )
    assert risk["days_of_cover"][0] > 1e20


def test_a_product_supplier_the_suppliers_table_lacks_is_warned(small_shop: Path):
    # products say 'Acme', the suppliers table 'Acme Ltd' with 30 days and an order
    # minimum of 5,000: the plan fell back to 14 days and no minimum (10 units ordered
    # where 350 are due) without a word
    result = runner.invoke(app, ["validate", "-c", str(small_shop)])
    assert result.exit_code == 0, result.output
    assert "suppliers table" not in result.stderr
    suppliers = small_shop.parent / "suppliers.csv"
    suppliers.write_text(
        "supplier,lead_time_days,lead_time_std_days,moq_value\nAcme Ltd,30,2.0,5000\n"
    )
    products = small_shop.parent / "products.csv"
    products.write_text(
        products.read_text().replace("Steady item,12.5,25.0,Acme", "Steady item,12.5,25.0,Acme Ltd")
    )
    result = runner.invoke(app, ["validate", "-c", str(small_shop)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "suppliers table" in line]
    assert warnings == [
        f"stockplan: warning: {products}, row 3, column 'supplier': 'Acme' is not in the "
        "suppliers table (1 supplier unknown): its items are planned without the lead time "
        "and minimum order value that table gives; use its spelling"
    ]
    result = runner.invoke(app, ["validate", "-c", str(small_shop), "--lang", "zh"])
    assert f"{products}，第 3 行，列 'supplier'：'Acme' 不在供应商档案中（共 1 个未知供应商）" in (
        result.stderr
    )


def test_a_suppliers_own_review_period_is_planned_and_simulated_without_a_warning(
    small_shop: Path,
):
    # a supplier ordered every 14 days: the plan protects its items' L + 14 days, and
    # simulate replays them on their own 14 days (`replay`), so neither warns
    suppliers = small_shop.parent / "suppliers.csv"
    suppliers.write_text("supplier,lead_time_days,review_days\nAcme,14,14\nOther,10,\n")
    result = runner.invoke(app, ["validate", "-c", str(small_shop)])
    assert result.exit_code == 0, result.output
    assert "review_days" not in result.stderr
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-o", "-", "--all", "-q"])
    assert result.exit_code == 0, result.output
    orders = pl.read_csv(result.stdout.encode(), infer_schema_length=0)
    assert set(orders["review_days"].to_list()) >= {"14"}
    assert "7" not in set(orders["review_days"].to_list())
    settings = yaml.safe_load(small_shop.read_text())
    settings["simulate"] = {"periods": 6, "refit_every": 6, "targets": [0.95]}
    small_shop.write_text(yaml.safe_dump(settings))
    result = runner.invoke(app, ["simulate", "-c", str(small_shop), "-o", "-"])
    assert result.exit_code == 0, result.output
    assert "review_days" not in result.stderr, result.stderr
    assert "warning" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("location", "hint", "hint_zh"),
    [
        ("WH11", " (a typo of WH1?)", "（是否为 WH1 的笔误？）"),
        ("Chengdu-Store", "", ""),
        # WH-1, ＷＨ１ or wh2 beside WH1 and WH2 are one warehouse spelled two ways, refused
        # (test_input_spellings.py)
        ("WH3", " (a typo of WH2?)", "（是否为 WH2 的笔误？）"),
    ],
)
def test_a_sales_location_no_stock_row_has_is_warned_with_the_nearest_known_one(
    small_shop: Path, location: str, hint: str, hint_zh: str
):
    # a location only the sales have was planned as a warehouse with nothing on hand,
    # orders and transfers into it, without a word: right for a new shop, wrong for a typo
    result = runner.invoke(app, ["validate", "-c", str(small_shop)])
    assert result.exit_code == 0, result.output
    assert "stock file" not in result.stderr
    sales = small_shop.parent / "sales.csv"
    lines = sales.read_text().splitlines()
    sales.write_text("\n".join([*lines, f"2025-10-10,A-100,{location},13,25.0"]) + "\n")
    row = len(lines) + 1  # the file's line, its header line 1
    result = runner.invoke(app, ["validate", "-c", str(small_shop)])
    assert result.exit_code == 0, result.output
    assert [line for line in result.stderr.splitlines() if "stock file" in line] == [
        f"stockplan: warning: {sales}, row {row}, column 'warehouse' (location): location "
        f"{location} is in no row of the stock file: it is planned as a warehouse with "
        f"nothing on hand{hint}; if it is one, give its stock, else correct or map the "
        "sales' location"
    ]
    result = runner.invoke(app, ["validate", "-c", str(small_shop), "--lang", "zh"])
    assert (
        f"仓库 {location} 不在库存文件的任何一行中：按现存量为零的仓库计划{hint_zh}；"
        in result.stderr
    )
    # two such locations: the first by file and row is named, the other counted
    sales.write_text(sales.read_text() + "2025-10-11,A-100,WH-9,13,25.0\n")
    result = runner.invoke(app, ["validate", "-c", str(small_shop)])
    assert f"location {location} is in no row of the stock file (nor is 1 more of the " in (
        result.stderr
    )


def test_a_promotion_whose_sku_or_category_matches_no_item_is_warned(small_shop: Path):
    # a planned promotion for 'A-1OO' (letter O for zero) or for a category no product
    # carries lifted nothing and kept no day out of any baseline, without a word
    products = small_shop.parent / "products.csv"
    products.write_text(
        products.read_text()
        .replace("sku,name,", "sku,category,name,")
        .replace("A-100,Steady", "A-100,toys,Steady")
        .replace("007,Slow", "007,,Slow")
    )
    path = _add_promotions(
        small_shop,
        "sku,category,start,end,uplift\n"
        "A-100,,2025-11-10,2025-11-20,0.5\n"  # matches A-100
        ",toys,2025-12-01,2025-12-10,0.5\n"  # matches A-100 by its category
        "007,games,2025-12-01,2025-12-10,0.5\n",  # a sku wins over the category: matches
    )
    result = runner.invoke(app, ["validate", "-c", str(small_shop)])
    assert result.exit_code == 0, result.output
    assert "matches no item" not in result.stderr
    path.write_text(
        path.read_text() + "A-1OO,,2025-11-10,2025-11-20,0.5\n,Toys,2025-12-01,2025-12-10,0.3\n"
    )
    result = runner.invoke(app, ["validate", "-c", str(small_shop)])
    assert result.exit_code == 0, result.output
    assert [line for line in result.stderr.splitlines() if "matches no item" in line] == [
        f"stockplan: warning: {path}, row 5, column 'sku': 'A-1OO' matches no item (nor does "
        "1 more of its rows): the promotion lifts no forecast and keeps no day out of a "
        "baseline; use an item's code, or a category of the products table"
    ]
    path.write_text("category,start,end\nToys,2025-12-01,2025-12-10\n")
    result = runner.invoke(app, ["validate", "-c", str(small_shop), "--lang", "zh"])
    assert result.exit_code == 0, result.output
    assert (
        f"{path}，第 2 行，列 'category'：'Toys' 不对应任何商品：该促销不会提高任何预测，"
        "也不会从基线中剔除促销日" in result.stderr
    )


def test_negative_stock_is_warned_naming_its_first_row_value_and_count(small_shop: Path):
    """An ERP that lets stock go below zero (sold before the receipt was booked) exports
    -3: counted as a backorder. The warning said only 'stock.csv: 2 rows have negative
    on_hand', naming no row to check."""
    stock = small_shop.parent / "stock.csv"
    stock.write_text(
        stock.read_text().replace("A-100,WH2,500,", "A-100,WH2,-3,").replace(",3,0", ",-1.5,0")
    )
    result = runner.invoke(app, ["validate", "-c", str(small_shop)])
    assert result.exit_code == 0, result.output
    assert [line for line in result.stderr.splitlines() if "below zero" in line] == [
        f"stockplan: warning: {stock}, row 3, column 'on_hand': on hand -3 is below zero "
        "(2 rows below zero in all); counted as backorders with on hand 0"
    ]
    chinese = runner.invoke(app, ["validate", "-c", str(small_shop), "--lang", "zh"])
    assert (
        f"{stock}，第 3 行，列 'on_hand'：现存量 -3 小于零（共 2 行）；按欠货计，现存量记为 0"
        in (chinese.stderr)
    )


def test_negative_stock_over_partitions_names_the_first_part_file_and_sums_the_rows():
    from stockplan.config import Config
    from stockplan.io.prepare import negative_stock_note

    def first(file: str, row: int, on_hand: float, count: int) -> pl.DataFrame:
        return pl.DataFrame(
            {"source_file": [file], "source_row": [row], "on_hand": [on_hand], "count": [count]}
        )

    partitions = [
        first("stock/part-1.parquet", 2, -7.0, 3),
        first("stock/part-0.parquet", 9, -2.5, 1),
    ]
    empty = first("stock/part-2.parquet", 1, 0.0, 0).clear()
    config = Config.model_validate({"inputs": {"sales": "s.csv", "stock": "stock/"}})
    (note,) = negative_stock_note(config, [partitions[0], empty, partitions[1]])
    assert note == (
        "stock/part-0.parquet, row 9, column 'on_hand': on hand -2.5 is below zero (4 rows "
        "below zero in all); counted as backorders with on hand 0"
    )
    assert negative_stock_note(config, [empty]) == []


def test_a_status_stockplan_does_not_know_is_warned_and_common_chinese_ones_are_known(
    small_shop: Path,
):
    """`已停用` (an ERP's 'disabled') was not a word for inactive: the discontinued item was
    reordered without a word. Unknown words (`审核中`) are planned as active and said."""
    import stockplan

    products = small_shop.parent / "products.csv"
    frame = pl.read_csv(products).with_columns(status=pl.Series(["已停用", "审核中"]))
    frame.write_csv(products)
    result = runner.invoke(app, ["validate", "-c", str(small_shop)])
    assert result.exit_code == 0, result.output
    assert [line for line in result.stderr.splitlines() if "neither an active" in line] == [
        f"stockplan: warning: {products}, row 3, column 'status': status '审核中' is neither "
        "an active nor an inactive word stockplan knows (1 item with such a status): planned "
        "as active; write 停用 or inactive for an item no longer ordered, 正常 or active for "
        "one that is"
    ]
    plan = stockplan.plan(*reversed(stockplan.load(small_shop)))
    inactive = plan.orders.filter(pl.col("sku") == "A-100")
    assert (inactive["order_qty"] == 0).all()
    assert set(inactive["reason"]) == {"no order: product status is inactive"}
    for word in ("正常", "在售", "Active", " 启用 ", None):
        frame.with_columns(status=pl.Series([word, "已下架"])).write_csv(products)
        said = runner.invoke(app, ["validate", "-c", str(small_shop)]).stderr
        assert "neither an active" not in said, word
