"""Cells of an .xlsx a reader takes wrongly (`io.xlsx_formulas`), on sheet XML written by
hand as the writers seen in the wild write it."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from stockplan.io.xlsx_formulas import column_number, misread_cells

WORKBOOK = (
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="data" sheetId="1" r:id="rId1"/></sheets>{calc}</workbook>'
)
RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="worksheet" Target="{target}"/></Relationships>'
)


def _book(tmp_path: Path, rows: str, calc: str = "", target: str = "worksheets/sheet1.xml"):
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("xl/workbook.xml", WORKBOOK.format(calc=calc))
        book.writestr("xl/_rels/workbook.xml.rels", RELS.format(target=target))
        book.writestr(
            "xl/" + target.lstrip("/").removeprefix("xl/"),
            f'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f"<sheetData>{rows}</sheetData></worksheet>",
        )
    return path


def test_column_letters_count_from_one():
    assert [column_number(c) for c in ("A", "Z", "AA", "AZ", "BA")] == [1, 26, 27, 52, 53]


@pytest.mark.parametrize(
    "cell",
    [
        '<c r="F2"><f>240</f></c>',  # openpyxl: the formula alone
        '<c r="F2"><f>240</f><v /></c>',  # openpyxl: an empty result
        '<x:c r="F2"><x:f>240</x:f></x:c>',  # a namespace prefix
        '<c\nr="F2"\ns="1"><f>240</f></c>',  # line breaks inside the tag
        "<c r='F2'><f>240</f></c>",  # single quotes
        '<c r="F2"><f t="shared" si="0"/></c>',  # a shared formula's other cells
    ],
)
def test_a_formula_without_a_saved_result_is_found(tmp_path: Path, cell: str):
    rows = (
        f'<row r="1"><c r="B1" t="inlineStr"><is><t>moq</t></is></c></row><row r="2">{cell}</row>'
    )
    found = misread_cells(_book(tmp_path, rows), "data")
    assert found.found == [("F", 2, "formula")] and found.origin == (1, 2)


def test_saved_results_and_text_results_are_read_as_they_are(tmp_path: Path):
    rows = (
        '<row r="2"><c r="A2"><f>1+1</f><v>2</v></c>'
        '<c r="B2" t="str"><f>IF(A2&gt;5,"x","")</f><v></v></c>'  # a formula that gave ""
        '<c r="C2" t="b"><f>TRUE()</f><v>1</v></c></row>'
    )
    assert misread_cells(_book(tmp_path, rows), "data").found == []


def test_errors_and_placeholder_results_are_found(tmp_path: Path):
    rows = (
        '<row r="3"><c r="C3" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
        '<c r="D3"><f>A3*2</f><v>0</v></c><c r="E3"><f>A3*3</f><v>6</v></c></row>'
    )
    # the placeholder 0 counts only when the workbook asks to be calculated on opening
    # (xlsxwriter writes 0 for every formula it does not know the result of)
    plain = misread_cells(_book(tmp_path, rows), 0)
    assert plain.found == [("C", 3, "#DIV/0!")]
    flagged = misread_cells(_book(tmp_path, rows, '<calcPr fullCalcOnLoad="1"/>'), 0)
    assert flagged.found == [("C", 3, "#DIV/0!"), ("D", 3, "formula")]
    assert flagged.origin == (3, 3)


def test_an_absolute_target_and_an_unknown_sheet(tmp_path: Path):
    rows = '<row r="1"><c r="A1"><f>1</f></c></row>'
    book = _book(tmp_path, rows, target="/xl/worksheets/sheet1.xml")
    assert misread_cells(book, "data").found == [("A", 1, "formula")]
    assert misread_cells(book, "other").found == [] and misread_cells(book, 3).found == []


@pytest.mark.parametrize(
    "english, chinese",
    [
        (
            "a formula without a saved value (cell G3; 2 such cells): the program that wrote "
            "the file did not calculate it, so it reads as empty; open and save the file in "
            "Excel or WPS, or paste the values",
            "公式没有保存计算结果（单元格 G3，共 2 处）：写出该文件的程序没有计算公式，读出为空；"
            "请用 Excel 或 WPS 打开并保存该文件，或粘贴为数值",
        ),
        (
            "the Excel error #DIV/0! (cell D4) reads as empty; correct the formula or the cell",
            "Excel 错误值 #DIV/0!（单元格 D4）读出为空；请更正公式或单元格",
        ),
    ],
)
def test_the_refusals_read_in_chinese(english: str, chinese: str):
    from stockplan.i18n import render_error

    text = f"p.xlsx, row 3, column 'moq': {english}"
    assert render_error(text, "zh") == f"p.xlsx, 第 3 行, 列 'moq'：{chinese}"
