"""What reading an input corrected or refused, said in the buyer's language: each note and
refusal is a catalogue phrase, naming the file's own header with the canonical name in
brackets; a GBK export with a user-defined character plans its own warehouses."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from stockplan.cli import app
from stockplan.config import Config, InputFile
from stockplan.errors import StockplanError
from stockplan.i18n import error_text, say
from stockplan.io.readers import read_table

ENGLISH_WORD = re.compile(
    r"\b(?:row|rows|column|line|lines|repeat|repeats|item|items|footer|empty|the|is|read|"
    r"decimal|comma|dot|could|write|spelled|file|stock|none|of|in|SKUs)\b"
)


def _english_left(text: str, *kept: str) -> list[str]:
    """English words in `text` once the file names and values it quotes are taken out."""
    for value in kept:
        text = text.replace(value, "")
    # quoted headers and values, (on_hand), file names
    text = re.sub(r"'[^']*'|（[a-z_]+）|[^\s，：]+\.csv", "", text)
    return ENGLISH_WORD.findall(text)


def _read(path: Path, table: str = "stock", notes: list[str] | None = None) -> pl.DataFrame:
    return read_table(table, InputFile(path=path), {}, notes)


def test_every_reading_phrase_has_both_languages_with_the_same_fields_and_chinese_prose():
    from stockplan.i18n import READING_MESSAGES

    for key, entry in READING_MESSAGES.items():
        fields = {lang: set(re.findall(r"\{(\w+)\}", entry[lang])) for lang in ("en", "zh")}
        assert fields["en"] == fields["zh"], key
        prose = re.sub(r"\{\w+\}", "", entry["zh"])
        assert not re.search(r"[A-Za-z]{3,}", prose.replace("GB18030", "")), key


def test_the_decimal_mark_note_is_said_in_chinese_naming_the_file_s_headers(tmp_path: Path):
    path = tmp_path / "库存.csv"
    path.write_text("商品编码;仓库;现存量;成本价\nA;北京仓;1.503;13,95\n", encoding="utf-8")
    notes: list[str] = []
    assert _read(path, notes=notes)["on_hand"].to_list() == [1503.0]
    assert say(notes[0], "zh") == (
        f"{path}：本文件以逗号作小数点（第 2 行，列 '成本价'（unit_cost）：'13,95'），因此 "
        "'1.503'（第 2 行，列 '现存量'（on_hand））读作 1503"
    )
    assert str(notes[0]) == (
        f"{path}: numbers read with a decimal comma (row 2, column '成本价' (unit_cost): "
        "'13,95'), so '1.503' (row 2, column '现存量' (on_hand)) is 1503"
    )


@pytest.mark.parametrize(
    ("text", "zh_why"),
    [
        # decimals written both ways: `0,125` beside `13.95`
        (
            '商品编码,现存量,成本价\nA,"1,250","0,125"\nB,3,13.95\n',
            "文件中两种小数写法都有（第 2 行，列 '成本价'（unit_cost）：'0,125'；"
            "第 3 行，列 '成本价'（unit_cost）：'13.95'）",
        ),
        # nothing tells the mark, and `1.503` stands beside `1,250`
        (
            '商品编码,现存量,成本价\nA,"1,250",1.503\n',
            "文件中没有能说明小数点的数字，而 第 2 行，列 '成本价'（unit_cost）：'1.503' "
            "的写法正相反",
        ),
    ],
    ids=["both-ways", "unshown"],
)
def test_an_ambiguous_number_is_refused_in_chinese(tmp_path: Path, text: str, zh_why: str):
    path = tmp_path / "stock.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StockplanError) as refused:
        _read(path)
    said = error_text(refused.value, "zh")
    assert said == (
        f"{path}，第 2 行，列 '现存量'（on_hand）：'1,250' 可能是 1250，也可能是 1.25："
        f"{zh_why}；请写成 1250 或 1.25"
    )
    assert "could be 1250 or 1.25" in str(refused.value)


def test_footer_rows_are_said_in_chinese(tmp_path: Path):
    path = tmp_path / "stock.csv"
    path.write_text(
        "商品编码,仓库,现存量\nA,北京仓,3\nB,北京仓,4\n制表人：张三,,\n打印日期：2026-11-20,,\n",
        encoding="utf-8",
    )
    notes: list[str] = []
    assert _read(path, notes=notes)["sku"].to_list() == ["A", "B"]
    assert say(notes[0], "zh") == (
        f"{path}，第 4, 5 行：跳过数据下方的 2 行表尾（'制表人：张三', '打印日期：2026-11-20'），"
        "不计入商品或需求"
    )
    assert str(notes[0]).startswith(f"{path}, rows 4, 5: 2 footer rows under the data (")


def test_a_user_defined_character_note_is_said_in_chinese(tmp_path: Path):
    path = tmp_path / "stock.csv"
    path.write_bytes("商品编码,仓库,现存量,商品名称\nA,北京仓,3,杯".encode("gbk") + b"\xaa\xa1\n")
    notes: list[str] = []
    _read(path, notes=notes)
    assert say(notes[0], "zh") == (
        f"{path}，第 2 行，列 '商品名称'：'杯\\ue000' 含用户自造字（文件中共 1 个），"
        "已按 GB18030 原样读取；如该名称要紧，请核对"
    )


def test_a_sales_file_repeated_whole_is_said_in_english_and_in_chinese():
    from stockplan.io.prepare import repeated_lines

    # two order lines, then the same two again: the whole file twice, one block of 2
    sales = pl.DataFrame(
        {
            "source_row": [2, 3, 4, 5],
            "sku": ["A", "B", "A", "B"],
            "order_id": ["SO1", "SO2", "SO1", "SO2"],
        }
    )
    (warning,) = repeated_lines(sales, "销售.csv", "sales")
    assert str(warning) == (
        "销售.csv, rows 4-5: 2 lines repeat earlier lines exactly, order_id included, in 1 "
        "block of consecutive lines (an export that ran twice?); added up as written: "
        "delete the repeats if they are not real"
    )
    assert say(warning, "zh") == (
        "销售.csv，第 4-5 行：2 行与前面的行完全相同（连 order_id 也相同），连续成 1 段"
        "（导出运行了两次？）；已按原样相加：如不是真实数据，请删除重复行"
    )


def test_a_zero_pack_names_the_file_s_header_in_both_languages(tmp_path: Path):
    from stockplan.io.prepare import zero_packs

    path = tmp_path / "商品.csv"
    path.write_text("商品编码,商品名称,箱规\nA,杯,0\nB,壶,12\nC,盒,0\n", encoding="utf-8")
    (warning,) = zero_packs(_read(path, "products"), path)
    assert str(warning) == (
        f"{path}, row 2, column '箱规' (pack_size): 0 (2 items): read as no pack size, "
        "ordered in single units; leave the cell empty, or give the real pack"
    )
    assert say(warning, "zh") == (
        f"{path}，第 2 行，列 '箱规'（pack_size）：0（2 个商品）：按无箱规处理，按单件订货；"
        "请留空，或填写实际箱规"
    )


@pytest.mark.parametrize(
    ("stocked", "zh"),
    [
        ([], "其中 4 个商品编码都不在库存文件 stock frame 中"),
        (["A"], "其中 4 个商品编码有 3 个（75%）不在库存文件 stock frame 中"),
    ],
)
def test_unmatched_sales_skus_are_said_in_chinese(stocked: list[str], zh: str):
    from stockplan.io.prepare import unmatched_sales_skus

    sales = pl.DataFrame({"sku": ["A", "B", "C", "D", "A"]})
    stock = pl.DataFrame({"sku": ["X", *stocked]}, schema={"sku": pl.String})
    (warning,) = unmatched_sales_skus({"sales": sales, "stock": stock}, Config())
    said = say(warning, "zh")
    assert said.startswith(f"sales frame：{zh}：它们按无库存来计划")
    assert not _english_left(said, "sales frame", "stock frame")


def _run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_a_sku_spelling_clash_and_a_blank_location_are_refused_in_chinese(small_shop: Path):
    folder = small_shop.parent
    stock = folder / "stock.csv"
    original = stock.read_text(encoding="utf-8")
    stock.write_text(original.replace("A-100,WH1", "a-100,WH1").replace("A-100,WH2", "a-100,WH2"))
    result = _run("validate", "-c", str(small_shop), "--lang", "zh")
    assert result.exit_code == 1
    line = " ".join(result.stderr.split())
    # stock is read before products, so the products' spelling is named against it
    assert (
        f"{stock}，第 2 行，列 'sku'：'a-100' 在 {folder / 'products.csv'}，第 2 行 中写作 "
        "'A-100'，只是大小写不同：请在所有文件中用同一种写法（共 3 个编码有两种写法）"
    ) in line
    assert not _english_left(line)

    stock.write_text(original.replace("A-100,WH2", "A-100,"), encoding="utf-8")
    result = _run("validate", "-c", str(small_shop), "--lang", "zh")
    assert result.exit_code == 1
    line = " ".join(result.stderr.split())
    assert (
        f"{stock}，第 3 行，列 'location'：仓库为空，而其他行填了仓库（WH1；1 行为空）："
        "请填写仓库；空单元格不会当作一个单独的仓库来计划"
    ) in line


def test_reading_warnings_are_said_in_chinese_on_the_command_line_also_from_the_cache(
    small_shop: Path, tmp_path: Path
):
    from stockplan import cache

    folder = small_shop.parent
    products = pl.read_csv(folder / "products.csv", schema_overrides={"sku": pl.String})
    products.with_columns(pack_size=pl.lit(0)).write_csv(folder / "products.csv")
    result = _run("validate", "-c", str(small_shop), "--lang", "zh")
    assert result.exit_code == 0, result.output
    expected = (
        f"stockplan: 警告: {folder / 'products.csv'}，第 2 行，列 'pack_size'：0（2 个商品）："
        "按无箱规处理，按单件订货；请留空，或填写实际箱规"
    )
    assert expected in result.stderr.splitlines()
    # a reused plan keeps each warning's phrase, not only its English text
    from stockplan.io.prepare import zero_packs

    (warning,) = zero_packs(pl.DataFrame({"source_row": [2], "pack_size": [0.0]}), "p.csv")
    kept = cache._read_warning(cache._kept_warning(warning))
    assert say(kept, "zh") == say(warning, "zh") != str(warning)


def test_a_gbk_export_with_a_user_defined_character_plans_its_own_warehouses(
    small_shop: Path, tmp_path: Path
):
    # GBK files with Chinese headers; one item name holds a user-defined character (造字).
    # Read as Big5 (cp950 decodes these bytes too) 北京仓 would be another warehouse
    folder = small_shop.parent
    places = {"WH1": "北京仓", "WH2": "上海仓"}
    sales = pl.read_csv(folder / "sales.csv", schema_overrides={"sku": pl.String})
    sales = sales.with_columns(pl.col("warehouse").replace(places)).rename(
        {"date": "日期", "sku": "商品编码", "warehouse": "仓库", "qty": "数量"}
    )
    (folder / "sales.csv").write_bytes(sales.write_csv().encode("gbk"))
    stock = (
        "商品编码,仓库,现存量,已分配,商品名称\n"
        "A-100,北京仓,40,5,保温杯\nA-100,上海仓,500,0,保温杯\n007,北京仓,3,0,茶"
    ).encode("gbk") + b"\xaa\xa1\n"
    assert not re.search("[\ue000-\uf8ff]", stock.decode("cp950"))  # Big5 reads it too
    (folder / "stock.csv").write_bytes(stock)
    orders = folder / "purchase_orders.csv"
    orders.write_text(orders.read_text(encoding="utf-8").replace("WH1", "北京仓"), encoding="utf-8")
    out = tmp_path / "orders.csv"
    args = ["plan", "-c", str(small_shop), "-o", str(out), "--all", "--headers", "canonical"]
    result = _run(*args)
    assert result.exit_code == 0, result.output
    orders = pl.read_csv(out, schema_overrides={"sku": pl.String})
    assert sorted(orders.select("sku", "location").rows()) == [
        ("007", "北京仓"),
        ("A-100", "上海仓"),
        ("A-100", "北京仓"),
    ]
    # the stock read is the file's: 40 - 5 allocated in 北京仓, 500 in 上海仓
    on_hand = dict(zip(orders["location"] + orders["sku"], orders["on_hand"], strict=True))
    assert on_hand["北京仓A-100"] == 40 and on_hand["上海仓A-100"] == 500


def test_a_totals_row_note_is_said_in_chinese_with_chinese_punctuation(tmp_path: Path):
    # a labelled totals row and, under it, one that only sums the rows above
    path = tmp_path / "库存.csv"
    path.write_text("商品编码,仓库,现存量\nA,北京仓,3\nB,北京仓,4\n合计,,7\n", encoding="utf-8")
    notes: list[str] = []
    stock = _read(path, notes=notes)
    assert stock["on_hand"].to_list() == [3, 4]
    assert (
        str(notes[0]) == f"{path}, row 4: 1 totals row (合计) dropped, not read as items or demand"
    )
    assert say(notes[0], "zh") == f"{path}，第 4 行：丢弃 1 行合计行（合计），不计入商品或需求"
