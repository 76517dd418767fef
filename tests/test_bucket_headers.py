"""The forecast column names its planning bucket where people read it: 每周预测量 in a
Chinese sheet, CSV and terminal table, "forecast per week" in an English sheet and table;
canonical CSV, JSON and Parquet keep `forecast`."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from stockplan import i18n
from stockplan.cli import app

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _header_row(path: Path, sheet: str) -> list[str]:
    return [c.value for c in openpyxl.load_workbook(path)[sheet][1]]


def _with_bucket(config: Path, bucket: str) -> Path:
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["planning"]["bucket"] = bucket
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return config


@pytest.mark.parametrize(
    ("bucket", "zh", "en"),
    [("week", "每周预测量", "forecast per week"), ("day", "每天预测量", "forecast per day")],
)
def test_the_forecast_sheet_header_names_the_configured_bucket(
    small_shop: Path, tmp_path: Path, bucket: str, zh: str, en: str
):
    config = _with_bucket(small_shop, bucket)
    for lang, sheet, label in (("zh", "需求预测", zh), ("en", "forecast", en)):
        book = tmp_path / f"f-{lang}.xlsx"
        assert (
            _run("forecast", "-c", str(config), "--lang", lang, "-q", "-o", str(book)).exit_code
            == 0
        )
        header = _header_row(book, sheet)
        assert label in header and "forecast" not in header and "每期预测量" not in header
        assert i18n.canonical_column(label) == "forecast"  # a plan read back (--previous)


def test_chinese_csv_and_terminal_say_per_week_while_canonical_csv_keeps_forecast(
    small_shop: Path, tmp_path: Path
):
    config = str(small_shop)
    chinese = tmp_path / "zh.csv"
    assert _run("forecast", "-c", config, "--lang", "zh", "-q", "-o", str(chinese)).exit_code == 0
    assert "每周预测量" in pl.read_csv(chinese).columns
    canonical = tmp_path / "canonical.csv"
    args = ("forecast", "-c", config, "--lang", "zh", "-q", "--headers", "canonical")
    assert _run(*args, "-o", str(canonical)).exit_code == 0
    assert pl.read_csv(canonical).columns[:4] == ["sku", "location", "period_start", "forecast"]
    english = tmp_path / "en.csv"  # English CSV is the machine contract
    assert _run("forecast", "-c", config, "-q", "-o", str(english)).exit_code == 0
    assert "forecast" in pl.read_csv(english).columns
    for lang, label in (("zh", "每周预测量"), ("en", "forecast per week")):
        shown = runner.invoke(
            app,
            ["forecast", "-c", config, "--lang", lang, "-q", "-f", "table"],
            env={"COLUMNS": "200"},  # the header on one line
        )
        assert shown.exit_code == 0
        assert label in shown.output and "每期预测量" not in shown.output


def test_without_a_bucket_the_header_stays_per_period():
    assert i18n.header("forecast", "zh") == "每期预测量"
    assert i18n.header("forecast", "zh", "month") == "每月预测量"
    assert i18n.header("lo", "zh", "week") == i18n.header("lo", "zh")  # not per bucket
