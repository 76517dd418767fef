"""Messy exports read right or refused: decimal marks decided per file, Big5 text, old Mac
line ends, Chinese timestamps, headers broken by Alt+Enter."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest

from stockplan.config import InputFile
from stockplan.errors import StockplanError
from stockplan.io.columns import _number_expr, parse_numbers
from stockplan.io.readers import read_table


def _read(path: Path, table: str = "stock", notes: list[str] | None = None) -> pl.DataFrame:
    return read_table(table, InputFile(path=path), {}, notes)


def _write(tmp_path: Path, text: str, name: str = "stock.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- decimal marks ------------------------------------------------------------------------


def test_a_decimal_comma_after_a_lone_zero_is_a_decimal_even_among_decimal_dots(
    tmp_path: Path,
):
    # `0,125` cannot be thousands notation (no group starts with a lone 0): 0.125, not 125.
    # 96 units at 0.125 are worth 12, not 12,000
    path = _write(
        tmp_path,
        'sku,location,on_hand,unit_cost\n010007,WH-BJ,503,"0,125"\n010014,WH-BJ,12,110.9\n',
    )
    frame = _read(path)
    assert frame["unit_cost"].to_list() == [0.125, 110.9]
    assert 96 * frame["unit_cost"][0] == 12.0


def test_a_file_with_decimal_commas_reads_a_dot_group_as_thousands(tmp_path: Path):
    # a European export: `13,95` shows the decimal comma, so the dot in `1.503` groups
    # thousands: 1503 on hand, not 1.503
    path = _write(tmp_path, "sku;location;on_hand;unit_cost\nA;W;1.503;13,95\nB;W;12;110,9\n")
    notes: list[str] = []
    frame = _read(path, notes=notes)
    assert frame["on_hand"].to_list() == [1503.0, 12.0]
    assert frame["unit_cost"].to_list() == [13.95, 110.9]
    assert notes == [
        f"{path}: numbers read with a decimal comma (row 2, column 'unit_cost': '13,95'), "
        "so '1.503' (row 2, column 'on_hand') is 1503"
    ]
    # two dot groups show a decimal comma as well, without a comma anywhere
    other = _write(tmp_path, "sku;on_hand\nA;1.234.567\nB;1.503\n", "other.csv")
    assert _read(other)["on_hand"].to_list() == [1234567.0, 1503.0]


def test_a_file_with_decimal_dots_reads_a_comma_group_as_thousands(tmp_path: Path):
    path = _write(tmp_path, 'sku,on_hand,unit_cost\nA,"1,250",13.95\nB,"1,234,567",2\n')
    frame = _read(path)
    assert frame["on_hand"].to_list() == [1250.0, 1234567.0]
    assert frame["unit_cost"].to_list() == [13.95, 2.0]


def test_a_column_with_a_decimal_comma_reads_its_comma_group_as_a_decimal_too(
    tmp_path: Path,
):
    # `12,5` decides the file's mark: `1,250` is then 1.25 (not 12.5 beside 1250); `1.234,5`
    # carries both marks and reads 1234.5 under either
    path = _write(tmp_path, 'sku,on_hand\nA,"12,5"\nB,"1,250"\nC,"1.234,5"\n')
    notes: list[str] = []
    assert _read(path, notes=notes)["on_hand"].to_list() == [12.5, 1.25, 1234.5]
    assert "so '1,250' (row 3, column 'on_hand') is 1.25" in notes[0]


def test_a_comma_group_in_a_file_that_writes_decimals_both_ways_is_refused(tmp_path: Path):
    path = _write(
        tmp_path,
        'sku,on_hand,unit_cost\nA,"1,250","0,125"\nB,3,13.95\n',
    )
    with pytest.raises(StockplanError) as refused:
        _read(path)
    assert str(refused.value) == (
        f"{path}, row 2, column 'on_hand': '1,250' could be 1250 or 1.25: the file writes "
        "decimals both ways (row 2, column 'unit_cost': '0,125'; row 3, column "
        "'unit_cost': '13.95'); write 1250 or 1.25"
    )


def test_comma_and_dot_groups_with_nothing_else_to_tell_the_mark_are_refused(tmp_path: Path):
    # 1,250 and 1.503 cannot both group thousands: one of them is a decimal, but which?
    path = _write(tmp_path, 'sku,on_hand,allocated\nA,"1,250",1.503\n')
    with pytest.raises(
        StockplanError,
        match=r"row 2, column 'on_hand': '1,250' could be 1250 or 1\.25: nothing in the file "
        r"shows its decimal mark, and row 2, column 'allocated': '1\.503' reads the other "
        r"way round; write 1250 or 1\.25",
    ):
        _read(path)


def test_a_workbooks_typed_numbers_keep_their_dot_beside_text_with_a_decimal_comma(
    tmp_path: Path,
):
    # a typed 1.503 reads as the text "1.503": it is a number, not thousands, even where
    # text cells ("13,95", "1,250") show a decimal comma, which the text "1,250" follows
    import xlsxwriter

    path = tmp_path / "stock.xlsx"
    with xlsxwriter.Workbook(str(path)) as workbook:
        sheet = workbook.add_worksheet()
        sheet.write_row(0, 0, ["sku", "on_hand", "unit_cost"])
        sheet.write_row(1, 0, ["A", 1.503, "13,95"])
        sheet.write_row(2, 0, ["B", "1,250", 0.125])
    frame = _read(path)
    assert frame["on_hand"].to_list() == [1.503, 1.25]
    assert frame["unit_cost"].to_list() == [13.95, 0.125]


def test_a_thousands_separated_export_reads_without_a_note(tmp_path: Path):
    # `1,947.12` shows a decimal dot, and `1,862` is 1862 with or without it: nothing to say
    path = _write(
        tmp_path,
        'date,sku,quantity,revenue\n2026-11-01,A1,"1,862","1,947.12"\n2026-11-02,A1,3,9.5\n',
        "sales.csv",
    )
    notes: list[str] = []
    frame = _read(path, "sales", notes)
    assert frame["quantity"].to_list() == [1862.0, 3.0]
    assert frame["revenue"].to_list() == [1947.12, 9.5]
    assert notes == []


def test_numbers_that_read_one_way_keep_reading_as_before(tmp_path: Path):
    # no evidence for a decimal comma: `1,234` groups thousands as it always did
    path = _write(tmp_path, 'sku,on_hand\nA,1 234\nB,"1,234"\nC,1\'234\nD,+3\nE,¥8\n')
    assert _read(path)["on_hand"].to_list() == [1234.0, 1234.0, 1234.0, 3.0, 8.0]
    assert _read(_write(tmp_path, 'sku,on_hand\nA,"0,5"\n', "b.csv"))["on_hand"][0] == 0.5
    assert _read(_write(tmp_path, "sku,on_hand\nA,1.503\n", "c.csv"))["on_hand"][0] == 1.503


def test_a_thousands_group_spaced_as_a_french_or_russian_excel_writes_it_reads(tmp_path: Path):
    # a no-break space (U+00A0), a narrow no-break space (U+202F) or a thin space (U+2009)
    # between the groups, as spreadsheets set to those locales save `1 000`: one thousand,
    # as with a plain space (it was refused as "not a number", quoting what looked like `1 000`)
    path = _write(tmp_path, "sku,on_hand\nA,1\u00a0000\nB,12\u202f345\nC,2\u2009500\nD,\u00a07\n")
    assert _read(path)["on_hand"].to_list() == [1000.0, 12345.0, 2500.0, 7.0]


def test_a_number_typed_in_full_width_reads_as_the_same_number_and_a_unit_is_refused(
    tmp_path: Path,
):
    """A Chinese input method's full-width mode types `１２`, `１２．５`, `－３`: the same
    numbers in other glyphs, which were refused as not a number. A unit stays refused
    (`test_a_number_written_with_its_unit_...`)."""
    path = _write(
        tmp_path,
        'sku,on_hand\nA,１２\nB,１２．５\nC,－３\nD,"１，２３４"\nE,\u3000７\u3000\nF,\u22122\n',
    )
    assert _read(path)["on_hand"].to_list() == [12.0, 12.5, -3.0, 1234.0, 7.0, -2.0]
    unit = _write(tmp_path, "sku,on_hand\nA,１２件\n", "unit.csv")
    with pytest.raises(
        StockplanError, match="'１２件' is a number with its unit; write the number"
    ):
        _read(unit)


def test_a_date_typed_in_full_width_reads_as_the_same_date():
    from stockplan.io.columns import parse_dates

    typed = [
        "２０２５－０１－０７",
        "２０２５／１／８",
        "２０２５年１月９日",
        "２０２５年１月１０日\u3000１４：３０",
    ]
    assert parse_dates(pl.Series(["2025-01-06", *typed, "soon"])).to_list() == [
        *(dt.date(2025, 1, day) for day in range(6, 11)),
        None,
    ]
    assert parse_dates(pl.Series(typed[:1] * 300)).to_list() == [dt.date(2025, 1, 7)] * 300
    # 号 for 日, as hand-typed sheets write it, with or without a time
    spoken = pl.Series(["2025年1月6号", "2025年1月7号 14:30"])
    assert parse_dates(spoken).to_list() == [dt.date(2025, 1, 6), dt.date(2025, 1, 7)]


@pytest.mark.parametrize(
    ("header", "cell", "said"),
    [
        ("on_hand", "12件", "(12) and name the unit in the column's header, as in 'on_hand (件)'"),
        (
            "现存量（箱）",
            "3 箱",
            "(3) and name the unit in the column's header, as in '现存量 (箱)'",
        ),
        (
            "on_hand",
            "1,200 pcs",
            "(1,200) and name the unit in the column's header, as in 'on_hand (pcs)'",
        ),
    ],
)
def test_a_number_written_with_its_unit_is_refused_saying_to_write_the_number_alone(
    tmp_path: Path, header: str, cell: str, said: str
):
    path = _write(tmp_path, f'sku,{header}\nA,1\nB,"{cell}"\n')
    with pytest.raises(StockplanError) as refused:
        _read(path)
    assert str(refused.value).endswith(
        f"row 3, column '{header}' (on_hand): '{cell}' is a number with its unit; write the "
        f"number alone {said}"
    ) or str(refused.value).endswith(
        f"row 3, column '{header}': '{cell}' is a number with its unit; write the number "
        f"alone {said}"
    ), str(refused.value)
    for other in ("12x3", "95%", "abc"):  # no number-then-unit: said as before
        with pytest.raises(StockplanError, match=f"'{other}' is not a number"):
            _read(_write(tmp_path, f"sku,on_hand\nA,{other}\n", "other.csv"))


def test_a_two_digit_year_is_refused_saying_so_not_as_an_implausible_date(tmp_path: Path):
    """`24-09-02` read as the year 24 and was refused as 'not a plausible date (... a
    placeholder for no date?)', which sent the buyer looking for a placeholder."""
    path = _write(tmp_path, "date,sku,quantity\n2024-09-01,A,1\n24-09-02,A,2\n", "sales.csv")
    with pytest.raises(StockplanError) as refused:
        _read(path, "sales")
    assert str(refused.value) == (
        f"{path}, row 3, column 'date': '24-09-02' has a two-digit year, read as the year 24; "
        "write the year in four digits (format the column as a date in Excel, or export it "
        "as YYYY-MM-DD)"
    )
    placeholder = _write(tmp_path, "date,sku,quantity\n1900-01-01,A,1\n", "old.csv")
    with pytest.raises(StockplanError, match="a placeholder for no date"):
        _read(placeholder, "sales")


def test_numbers_read_in_one_cast_equal_the_general_reading_under_a_decimal_comma():
    # by hand, under a decimal comma: dots, spaces and apostrophes group thousands
    cells = ["1.503", "-1.503", "13,95", "1,250", "1 234,5", "1.234.567", "17", "0,125", ""]
    expected = [1503.0, -1503.0, 13.95, 1.25, 1234.5, 1234567.0, 17.0, 0.125, None]
    values = pl.Series(cells * 20)
    fast = parse_numbers(values, ",").to_list()
    general = values.to_frame("t").select(_number_expr(pl.col("t"), ",")).to_series()
    assert fast[:9] == expected
    assert fast == general.to_list()


# --- encodings and line ends --------------------------------------------------------------


def test_a_big5_file_is_read_as_big5_not_as_gb18030_garble(tmp_path: Path):
    # GB18030 decodes these bytes too, into wrong characters and private-use signs
    raw = "sku,location,on_hand\n010007,台北倉,503\n010014,高雄倉,12\n".encode("big5")
    assert "台北倉" not in raw.decode("gb18030")
    path = tmp_path / "stock.csv"
    path.write_bytes(raw)
    frame = _read(path)
    assert frame["location"].to_list() == ["台北倉", "高雄倉"]
    assert frame["on_hand"].to_list() == [503.0, 12.0]


def test_text_that_no_encoding_reads_cleanly_is_refused_naming_row_and_column(tmp_path: Path):
    # 0xA1 0x80 is a private-use sign in GB18030 and not Big5 at all; every non-ASCII
    # character of the file is one, so it is no GBK export with a few user-defined ones
    path = tmp_path / "stock.csv"
    path.write_bytes(b"sku,location,on_hand\n010007,WH-BJ,3\n010014,A\xa1\x80\xa1\x80,5\n")
    with pytest.raises(StockplanError) as refused:
        _read(path)
    assert str(refused.value) == (
        f"{path}, row 3, column 'location': 'A\\ue505\\ue505' is not UTF-8, GB18030 or Big5 "
        "text (read as GB18030 it holds private-use or undefined characters); save the file "
        "as UTF-8, or set inputs.<table>.encoding"
    )


# a GBK export may hold a user-defined character (造字, e.g. a rare surname) at AAA1-AFFE:
# GB18030 reads it as a private-use character; the rest of a simplified text often also
# decodes as cp950 (Big5), into other characters: 北京仓 -> 控儔累
USER_DEFINED = b"\xaa\xa1"


@pytest.mark.parametrize(
    ("header", "odd"),
    [("商品编码,仓库,现存量,商品名称", 1), ("sku,location,on_hand,name", 2)],
    ids=["chinese-headers-one", "english-headers-two"],
)
def test_a_gbk_file_with_a_few_user_defined_characters_stays_gbk(
    tmp_path: Path, header: str, odd: int
):
    raw = (
        f"{header}\nA001,北京仓,12,保温杯\nA002,上海仓,5,毛巾\nA003,上海仓,7,牙刷".encode("gbk")
        + USER_DEFINED * odd
        + b"\n"
    )
    big5 = raw.decode("cp950")  # decodes cleanly as Big5, but as nonsense
    assert "北京仓" not in big5 and not re.search("[\ue000-\uf8ff]", big5)
    path = tmp_path / "stock.csv"
    path.write_bytes(raw)
    notes: list[str] = []
    frame = _read(path, notes=notes)
    assert frame["location"].to_list() == ["北京仓", "上海仓", "上海仓"]
    assert frame["name"].to_list() == ["保温杯", "毛巾", "牙刷" + "\ue000" * odd]
    assert frame["on_hand"].to_list() == [12.0, 5.0, 7.0]
    column = header.split(",")[3]
    cell = "牙刷" + "\\ue000" * odd
    assert notes == [
        f"{path}, row 4, column '{column}': '{cell}' holds a user-defined character (造字; "
        f"{odd} in the file), kept as GB18030 reads it: check the name if it matters"
    ]


def test_a_user_defined_character_in_a_column_not_read_does_not_refuse_the_file(
    tmp_path: Path,
):
    # cp950 cannot read this file at all; the old reading refused it for one customer name
    raw = "date,sku,quantity,location,customer\n2026-11-01,A001,3,北京仓,张三\n".encode("gbk")
    raw += "2026-11-02,A002,5,北京仓,李".encode("gbk") + USER_DEFINED + b"\n"
    path = tmp_path / "sales.csv"
    path.write_bytes(raw)
    frame = _read(path, "sales")
    assert frame["location"].to_list() == ["北京仓", "北京仓"]
    assert frame["quantity"].to_list() == [3.0, 5.0]


def test_a_big5_file_of_traditional_names_is_read_as_big5(tmp_path: Path):
    text = (
        "sku,location,on_hand,name,供應商\n"
        "A001,台北倉,12,保溫杯,台灣國際貿易有限公司\n"
        "A002,高雄倉,5,不鏽鋼便當盒,興達實業股份有限公司\n"
        "A003,台中倉,7,運動水壺,長榮企業\n"
    )
    raw = text.encode("big5")
    garbled = raw.decode("gb18030")
    odd = len(re.findall("[\ue000-\uf8ff]", garbled))
    wide = sum(ord(c) > 127 for c in garbled)
    assert odd / wide > 0.25  # about a third of Big5 text is private-use read as GB18030
    path = tmp_path / "stock.csv"
    path.write_bytes(raw)
    frame = _read(path)
    assert frame["location"].to_list() == ["台北倉", "高雄倉", "台中倉"]
    assert frame["name"].to_list() == ["保溫杯", "不鏽鋼便當盒", "運動水壺"]
    assert frame["on_hand"].to_list() == [12.0, 5.0, 7.0]


def test_a_big5_file_with_few_private_use_characters_is_read_as_big5(tmp_path: Path):
    # traditional grocery names whose Big5 lead bytes leave only 5 of 42 characters
    # private-use read as GB18030 (12 %, under the 15 % share): it was kept as GB18030 and
    # 燕麥 read 縋沉, with a note calling it user-defined characters. Half of the characters
    # GB18030 reads lie outside GB2312, which no simplified export does.
    names = "醬油 礦泉水 衛生紙 餅乾 鹽 糖 麵條 雞蛋 豬肉 牛奶 蘋果 香蕉 雞精 燕麥 醋 咖啡豆 泡麵"
    names = names.split() + ["洗衣精", "沐浴乳", "面膜"]
    text = "sku,location,on_hand,name\n" + "".join(
        f"A{i:03d},WH1,{i + 1},{name}\n" for i, name in enumerate(names)
    )
    raw = text.encode("big5")
    garbled = raw.decode("gb18030")
    odd = len(re.findall("[\ue000-\uf8ff]", garbled))
    wide = sum(ord(c) > 127 for c in garbled)
    assert (odd, wide) == (5, 42)
    path = tmp_path / "stock.csv"
    path.write_bytes(raw)
    notes: list[str] = []
    frame = read_table("stock", InputFile(path=path), {}, notes)
    assert frame["name"].to_list() == names
    assert notes == []


# a GBK export with a row pasted from a UTF-8 one: GB18030 reads 缺货 and 北京 in UTF-8 as
# other Chinese characters, so that row's name and location came out silently wrong
GBK_ROWS = "sku,location,on_hand,name\nA001,北京仓,12,茅台\nA002,上海仓,5,缺失 元\n"


def test_a_gbk_file_with_a_row_pasted_in_utf8_is_refused_naming_the_row(tmp_path: Path):
    pasted = "A003,北京,7,缺货\n".encode()
    assert pasted.decode("gb18030") == "A003,鍖椾含,7,缂鸿揣\n"  # read as GB18030: no error
    path = tmp_path / "stock.csv"
    path.write_bytes(GBK_ROWS.encode("gbk") + pasted)
    with pytest.raises(StockplanError) as refused:
        _read(path)
    assert str(refused.value) == (
        f"{path}, row 4: this row is UTF-8 text, row 2 is not (GBK / GB18030): the file mixes "
        "two encodings (two exports joined?) and either reading garbles one part; save the "
        "whole file in one encoding"
    )
    from stockplan.i18n import say

    assert say(refused.value.phrase, "zh") == (
        f"{path}，第 4 行：此行是 UTF-8 文本，第 2 行却不是（GBK / GB18030）：文件混有两种编码"
        "（两份导出拼接？），按哪一种读都会把另一部分读成乱码；请把整个文件存为同一种编码"
    )
    # a UTF-8 export with a GBK row (北京仓 in GBK reads as UTF-8 nowhere)
    path.write_bytes(GBK_ROWS.encode() + "A003,广州仓,7,缺货\n".encode("gbk"))
    with pytest.raises(StockplanError, match=r"row 4: this row is not UTF-8 .* row 2 is UTF-8"):
        _read(path)


def test_gbk_words_that_happen_to_be_valid_utf8_keep_a_gbk_file_gbk(tmp_path: Path):
    # 茅台 and 缺失 元 in GBK are valid UTF-8 (as Latin and Cyrillic letters, not Chinese)
    for word in ("茅台", "缺失 元"):
        word.encode("gbk").decode("utf-8")
    path = tmp_path / "stock.csv"
    for raw in (GBK_ROWS.encode("gbk"), GBK_ROWS.encode(), GBK_ROWS.encode("utf-8-sig")):
        path.write_bytes(raw)
        frame = _read(path)
        assert frame["location"].to_list() == ["北京仓", "上海仓"]
        assert frame["name"].to_list() == ["茅台", "缺失 元"]


def test_a_lone_cr_inside_a_field_of_a_crlf_or_lf_file_stays_in_its_field(tmp_path: Path):
    for end in ("\r\n", "\n"):
        path = tmp_path / "stock.csv"
        path.write_bytes(
            f"sku,location,on_hand,name{end}A001,BJ,12,cup\rX{end}A002,BJ,3,towel{end}".encode()
        )
        frame = _read(path)
        assert frame["sku"].to_list() == ["A001", "A002"], end
        assert frame["name"].to_list() == ["cup\rX", "towel"], end
        assert frame["on_hand"].to_list() == [12.0, 3.0], end


def test_text_saved_as_xls_follows_its_decimal_comma_as_the_same_csv_does(tmp_path: Path):
    text = "sku;location;on_hand;unit_cost\nA1;BJ;1.503;13,95\n"
    as_csv, as_xls = _write(tmp_path, text, "tx.csv"), _write(tmp_path, text, "tx.xls")
    # `13,95` shows a decimal comma, so the dot in `1.503` groups thousands: 1503 units
    assert _read(as_csv)["on_hand"].to_list() == [1503.0]
    notes: list[str] = []
    frame = _read(as_xls, notes=notes)
    assert frame["on_hand"].to_list() == [1503.0]
    assert frame["unit_cost"].to_list() == [13.95]
    assert notes[0] == f"{as_xls}: is text saved with an .xls name; read as delimited text"
    assert "so '1.503' (row 2, column 'on_hand') is 1503" in notes[1]


def test_old_mac_line_ends_are_read_as_lines(tmp_path: Path):
    path = tmp_path / "stock.csv"
    path.write_bytes(b"sku,location,on_hand\rA,WH-BJ,503\rB,WH-GZ,12\r")
    frame = _read(path)
    assert frame["sku"].to_list() == ["A", "B"]
    assert frame["on_hand"].to_list() == [503.0, 12.0]
    assert frame["source_row"].to_list() == [2, 3]


# --- dates and headers --------------------------------------------------------------------


def test_a_chinese_date_with_a_time_keeps_its_date(tmp_path: Path):
    path = _write(
        tmp_path,
        "日期,商品编码,数量\n2026-11-06,A,1\n2026年11月7日 14:30,A,2\n2026年11月8日14:30,A,3\n",
        "sales.csv",
    )
    frame = _read(path, "sales")
    assert frame["date"].to_list() == [
        dt.date(2026, 11, 6),
        dt.date(2026, 11, 7),
        dt.date(2026, 11, 8),
    ]


def test_a_header_broken_inside_a_chinese_word_is_recognised(tmp_path: Path):
    import xlsxwriter

    path = tmp_path / "stock.xlsx"
    with xlsxwriter.Workbook(str(path)) as workbook:
        sheet = workbook.add_worksheet()
        for column, header in enumerate(["商品\n编码", "仓库\u3000", "现存量\n(基本单位)"]):
            sheet.write(0, column, header)
        sheet.write_row(1, 0, ["010007", "北京仓", 503])
    frame = _read(path)
    assert frame["sku"].to_list() == ["010007"]
    assert frame["location"].to_list() == ["北京仓"]
    assert frame["on_hand"].to_list() == [503.0]
