"""CSV files a buyer opens in Excel: codes Excel would change (011491, 1-2, 3/4, a long
number, 1E5, -3) written so it shows them as they are, a warning when a plain CSV file holds
such codes, a code copied from a CSV found by explain, and a UTF-8 BOM by content rather
than by language."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from stockplan.cli import app
from stockplan.io.planfiles import _unescaped
from stockplan.io.writers import write_csv

runner = CliRunner()
BOM = b"\xef\xbb\xbf"
CODES = ["011491", "1-2", "3/4", "1234567890123456789", "1E5", "=1+2", "@SUM(1)", "+86", "-3"]


def _run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _rename_skus(folder: Path, names: dict[str, str]) -> None:
    """The small shop's SKUs under other codes, in every input file."""
    for path in folder.glob("*.csv"):
        frame = pl.read_csv(path, infer_schema=False)
        if "sku" in frame.columns:
            frame.with_columns(pl.col("sku").replace(names)).write_csv(path)


# --- cells -----------------------------------------------------------------------------


def test_csv_for_excel_writes_codes_excel_would_change_as_text_formulas():
    frame = pl.DataFrame(
        {
            "sku": [*CODES, "A-100", '-x, "y"'],
            "order_qty": [-3.0] * (len(CODES) + 2),
        }
    )
    buffer = io.BytesIO()
    write_csv(frame, buffer, for_excel=True)
    lines = buffer.getvalue().decode("utf-8").splitlines()
    # unquoted ="...", the form Excel reads as a formula giving the text itself
    assert lines[1:10] == [f'="{code}",-3' for code in CODES]
    assert lines[10] == "A-100,-3"  # nothing Excel would change: as it is
    assert lines[11] == '"\'-x, ""y""",-3'  # a comma or quote: the plain escape
    # read back as a plan: the codes planned
    back = _unescaped(pl.read_csv(buffer.getvalue(), infer_schema=False))
    assert back["sku"].to_list() == frame["sku"].to_list()
    # a cell holding the private-use character that stands for the quotes keeps it
    odd = io.BytesIO()
    write_csv(pl.DataFrame({"sku": ["011491", "x\ue000y"]}), odd, for_excel=True)
    assert odd.getvalue().decode().splitlines()[1:] == ['="011491"', "x\ue000y"]
    # plain CSV is unchanged
    plain = io.BytesIO()
    write_csv(frame, plain)
    assert plain.getvalue().decode().splitlines()[1:3] == ["011491,-3", "1-2,-3"]
    assert "'-3,-3" in plain.getvalue().decode().splitlines()


def test_a_bom_marks_csv_files_holding_non_ascii_text_whatever_the_language(tmp_path: Path):
    chinese = pl.DataFrame({"sku": ["A-1"], "location": ["广州仓"], "order_qty": [2]})
    ascii_only = pl.DataFrame({"sku": ["A-1"], "location": ["WH1"], "order_qty": [2]})
    for frame, bom, expected in (
        (chinese, None, True),
        (ascii_only, None, False),
        (chinese, False, False),
        (ascii_only, True, True),
    ):
        path = tmp_path / "orders.csv"
        write_csv(frame, path, bom=bom, lang="en")
        data = path.read_bytes()
        assert data.startswith(BOM) is expected, (frame, bom)
        assert pl.read_csv(data)["location"].to_list() == frame["location"].to_list()


# --- the command line ------------------------------------------------------------------


@pytest.fixture
def coded_shop(small_shop: Path) -> Path:
    """The small shop with the codes Excel changes: 011491 (slow) and -3 (steady), and a
    Chinese warehouse name."""
    _rename_skus(small_shop.parent, {"007": "011491", "A-100": "-3"})
    for path in small_shop.parent.glob("*.csv"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("WH2", "广州仓"), encoding="utf-8")
    return small_shop


def test_plain_csv_files_warn_of_codes_excel_changes_and_csv_for_excel_keeps_them(
    coded_shop: Path, tmp_path: Path
):
    plain, excel = tmp_path / "plain", tmp_path / "excel"
    result = _run("plan", "-c", str(coded_shop), "-o", str(plain), "--all", "--lang", "en")
    assert result.exit_code == 0, result.output
    warning = [line for line in result.stderr.splitlines() if "Excel changes codes" in line]
    assert len(warning) == 1, result.stderr
    assert "column sku" in warning[0] and "'011491'" in warning[0]
    assert "--csv-for-excel" in warning[0] and ".xlsx" in warning[0]
    assert "\n011491," in (plain / "orders.csv").read_text(encoding="utf-8-sig")

    result = _run(
        "plan", "-c", str(coded_shop), "-o", str(excel), "--all", "--lang", "en",
        "--csv-for-excel",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Excel changes codes" not in result.stderr
    text = (excel / "orders.csv").read_text(encoding="utf-8-sig")
    assert '\n="011491",' in text and '\n="-3",' in text and "'-3" not in text
    # diff reads both ways of writing as the same plan
    same = _run("diff", str(plain / "orders.csv"), str(excel / "orders.csv"), "-o", "-")
    assert same.exit_code == 0, same.output
    assert pl.read_csv(same.stdout_bytes).height == 0


def test_csv_for_excel_from_the_config_leaves_stdout_plain_data(coded_shop: Path, tmp_path: Path):
    config = yaml.safe_load(coded_shop.read_text(encoding="utf-8"))
    config["io"] = {"csv_for_excel": True}
    coded_shop.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "orders.csv"
    assert _run("plan", "-c", str(coded_shop), "-o", str(out), "--all", "-q").exit_code == 0
    assert '\n="011491",' in out.read_text(encoding="utf-8-sig")
    piped = _run("plan", "-c", str(coded_shop), "-o", "-", "--all")
    assert piped.exit_code == 0, piped.output
    assert not piped.stdout_bytes.startswith(BOM)
    skus = pl.read_csv(piped.stdout_bytes, infer_schema=False)["sku"].to_list()
    assert "011491" in skus and '="011491"' not in skus
    assert "Excel" not in piped.stderr  # no warning about data for a program
    asked = _run("plan", "-c", str(coded_shop), "-o", "-", "--all", "-q", "--csv-for-excel")
    assert '\n="011491",' in asked.stdout_bytes.decode()


def test_csv_files_with_chinese_text_get_a_bom_in_english_and_with_canonical_headers(
    coded_shop: Path, tmp_path: Path
):
    for folder, options in (
        (tmp_path / "en", ["--lang", "en"]),
        (tmp_path / "canonical", ["--lang", "zh", "--headers", "canonical"]),
    ):
        result = _run("plan", "-c", str(coded_shop), "-o", str(folder), "--all", "-q", *options)
        assert result.exit_code == 0, result.output
        data = (folder / "orders.csv").read_bytes()
        assert data.startswith(BOM + b"sku,"), folder
        assert "广州仓" in data.decode("utf-8-sig")
    piped = _run("plan", "-c", str(coded_shop), "-o", "-", "--all", "-q", "--lang", "en")
    assert not piped.stdout_bytes.startswith(BOM)
    kept_off = tmp_path / "off.csv"
    result = _run("plan", "-c", str(coded_shop), "-o", str(kept_off), "--all", "-q", "--no-bom")
    assert result.exit_code == 0 and not kept_off.read_bytes().startswith(BOM)


def test_explain_finds_a_code_copied_from_a_csv_as_written(coded_shop: Path):
    for written in ("'-3", '="011491"'):
        result = _run("explain", written, "-c", str(coded_shop), "--no-chart", "-q")
        assert result.exit_code == 0, result.output
        code = written.strip("'=\"")
        assert f"{code} @ WH1" in result.stdout, result.stdout
