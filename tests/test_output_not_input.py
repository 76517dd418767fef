"""No command writes over one of its own inputs or its config."""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from stockplan.cli import app

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_an_output_folder_that_holds_the_inputs_is_refused_and_nothing_is_written(
    small_shop: Path,
):
    folder = small_shop.parent
    before = _contents(folder)
    result = _run("plan", "-c", str(small_shop), "-o", str(folder), "-q")
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    # the first table written into the folder that is also an input: suppliers.csv
    assert "suppliers.csv: would write over the input " in lines[0]
    assert lines[0].endswith("suppliers.csv; choose another output")
    assert _contents(folder) == before  # no scorecard over suppliers.csv, no orders.csv


def test_a_file_output_that_is_an_input_under_another_name_is_refused(small_shop: Path):
    folder = small_shop.parent
    link = folder / "same_as_stock.csv"
    os.link(folder / "stock.csv", link)  # one file, two names: compared as files
    stock = (folder / "stock.csv").read_bytes()
    result = _run("plan", "-c", str(small_shop), "-o", str(link), "-q")
    assert result.exit_code == 1, result.output
    assert f"{link}: would write over the input {folder / 'stock.csv'}" in result.stderr
    assert (folder / "stock.csv").read_bytes() == stock
    assert not (folder / "same_as_stock.csv.run.json").exists()
    # a path that reaches the input through `..` is the input too
    around = folder / "sub" / ".." / "sales.csv"
    (folder / "sub").mkdir()
    result = _run("plan", "-c", str(small_shop), "-o", str(around), "-t", "risk", "-q")
    assert result.exit_code == 1, result.output
    assert "would write over the input" in result.stderr


def test_init_does_not_write_its_config_over_an_export(tmp_path: Path):
    sales = tmp_path / "sales.csv"
    sales.write_text("date,sku,quantity\n2025-01-06,A,3\n", encoding="utf-8")
    stock = tmp_path / "stock.csv"
    stock.write_text("sku,on_hand\nA,5\n", encoding="utf-8")
    before = _contents(tmp_path)
    result = _run("init", str(tmp_path), "-c", str(sales), "--force", "-q")
    assert result.exit_code == 1, result.output
    assert f"{sales}: would write over the input {sales}" in result.stderr
    assert _contents(tmp_path) == before


def test_the_check_compares_files_not_spellings(tmp_path: Path):
    """Both exist: the file system decides (a case-insensitive volume, a link); otherwise
    the normalised absolute paths are compared."""
    from stockplan.io.writers import _same_file

    one = tmp_path / "a.csv"
    one.write_text("x", encoding="utf-8")
    assert _same_file(tmp_path / "." / "a.csv", one)
    assert not _same_file(tmp_path / "b.csv", one)
    assert _same_file(tmp_path / "new" / ".." / "c.csv", tmp_path / "c.csv")


def test_a_part_file_table_folder_that_holds_an_input_is_refused(tmp_path: Path):
    """`-o FOLDER -f parquet` on a cluster replaces FOLDER/orders/ and the like whole: an
    input inside one (a sales dataset in FOLDER/history/) is refused, not moved away."""
    import pytest

    from stockplan.errors import StockplanError
    from stockplan.io.writers import add_run_inputs, check_folders_not_inputs, reset_run_inputs

    history = tmp_path / "out" / "history"
    history.mkdir(parents=True)
    (history / "part-0.parquet").write_bytes(b"PAR1")
    reset_run_inputs()
    try:
        add_run_inputs(history)  # a dataset folder: each of its files is an input
        check_folders_not_inputs([tmp_path / "out" / "orders"])  # another folder: fine
        with pytest.raises(StockplanError, match="would write over the input .*part-0.parquet"):
            check_folders_not_inputs([tmp_path / "out" / "history"])
    finally:
        reset_run_inputs()


def test_diff_may_write_its_changes_into_a_plan_folder_again_but_not_over_its_orders(
    small_shop: Path, tmp_path: Path
):
    import shutil

    week1, week2 = tmp_path / "w1", tmp_path / "w2"
    assert _run("plan", "-c", str(small_shop), "-o", f"{week1}/", "-q").exit_code == 0
    shutil.copytree(week1, week2)
    changes = week2 / "changes.csv"
    # the weekly `diff last/ this/ -o this/changes.csv`, run twice: the second was refused
    # as writing over an input, though diff compares only the orders and the run record
    for _ in range(2):
        assert _run("diff", str(week1), str(week2), "-o", str(changes), "-q").exit_code == 0
    before = (week2 / "orders.csv").read_bytes()
    refused = _run("diff", str(week1), str(week2), "-o", str(week2 / "orders.csv"), "-q")
    assert refused.exit_code == 1
    assert "would write over the input" in refused.stderr
    assert (week2 / "orders.csv").read_bytes() == before


def test_a_plan_written_into_an_input_dataset_folder_is_refused(tmp_path: Path):
    """`inputs.sales: ds/sales/` with `-o ds/sales/ -f parquet`: the new orders.parquet
    and run.json landed among the sales parts, and the next run read them as sales (or
    refused the folder)."""
    import pytest

    from stockplan.errors import StockplanError
    from stockplan.io.writers import add_run_inputs, check_not_inputs, reset_run_inputs

    sales = tmp_path / "ds" / "sales"
    sales.mkdir(parents=True)
    (sales / "2026.parquet").write_bytes(b"PAR1")
    (tmp_path / "out").mkdir()
    reset_run_inputs()
    try:
        add_run_inputs(sales)
        check_not_inputs([tmp_path / "out" / "orders.parquet", tmp_path / "ds" / "orders.csv"])
        with pytest.raises(StockplanError, match="would write into the input dataset folder"):
            check_not_inputs([sales / "orders.parquet"])
    finally:
        reset_run_inputs()
