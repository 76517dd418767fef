"""Plans a buyer edited by hand, and files that are not stockplan's own, read by `diff`,
`verify` and `init`: one line naming the file (row and column where there is one), never
a traceback, and no answer that the edit made wrong."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from stockplan.cli import app

runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, list(args))


def _record(config_file: Path, **entries: object) -> dict:
    record = {
        "stockplan_version": "0.1.0",
        "command": "plan",
        "options": {"all": True, "table": "orders", "lang": "en"},
        "planning_date": "2025-11-03",
        "config": {"path": str(config_file), "size_bytes": 1, "sha256": "0"},
        "inputs": {},
    }
    return {k: v for k, v in (record | entries).items() if v is not None}


@pytest.mark.parametrize(
    ("entries", "key", "problem", "zh"),
    [
        ({"planning_date": None}, "planning_date", "missing", "缺失"),
        (
            {"planning_date": "23.11.2025"},
            "planning_date",
            "'23.11.2025' is not a date",
            "不是日期",
        ),
        ({"config": {"size_bytes": 1}}, "config.path", "missing", "缺失"),
    ],
)
def test_a_run_record_with_an_entry_deleted_or_retyped_is_named_not_a_crash(
    small_shop: Path, tmp_path: Path, entries: dict, key: str, problem: str, zh: str
):
    plan = tmp_path / "orders.csv"
    pl.DataFrame({"sku": ["A-100"], "location": ["WH1"], "order_qty": [24]}).write_csv(plan)
    record = _record(small_shop, **entries)
    (tmp_path / "orders.csv.run.json").write_text(json.dumps(record), encoding="utf-8")
    result = _invoke("verify", str(plan))
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"stockplan: error: {plan}: run record, {key}: {problem}")
    result = _invoke("verify", str(plan), "--lang", "zh")
    assert result.exit_code == 1 and f"运行记录的 {key}：" in result.stderr and zh in result.stderr


def test_a_planning_date_excel_saved_as_a_date_cell_is_read_as_that_date(
    small_shop: Path, tmp_path: Path
):
    """Retyped in the run sheet, 2025-11-03 becomes a date cell: the same planning date."""
    book = openpyxl.Workbook()
    orders = book.active
    orders.title = "orders"
    orders.append(["sku", "location", "order_qty"])
    orders.append(["A-100", "WH1", 24])
    run = book.create_sheet("run")
    run.append(["key", "value"])
    for key, value in (
        ("command", "plan"),
        ("options.table", "orders"),
        ("planning_date", dt.datetime(2025, 11, 3)),
        ("config.path", str(small_shop)),
        ("config.sha256", "0"),
    ):
        run.append([key, value])
    plan = tmp_path / "plan.xlsx"
    book.save(plan)
    result = _invoke("verify", str(plan), "-q")
    # re-run as of 2025-11-03: the config changed (its checksum) and the cells differ,
    # said as such, not an internal error
    assert result.exit_code == 6, result.output
    assert "internal error" not in result.stderr
    assert "input changed: config" in result.stderr
