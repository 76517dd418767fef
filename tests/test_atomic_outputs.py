"""A run's output files are replaced all together or not at all, every output folder is
checked before any work, and a plan folder holds one plan (no tables of an earlier run)."""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from stockplan.cli import app
from stockplan.io import writers

runner = CliRunner()


def _plan(config: Path, *args: str):
    return runner.invoke(app, ["plan", "-c", str(config), *args])


def _digests(folder: Path) -> dict[str, str]:
    """Every entry of `folder` (hidden temps and backups too) with the MD5 of its bytes."""
    return {
        p.name: hashlib.md5(p.read_bytes()).hexdigest() if p.is_file() else "folder"
        for p in sorted(folder.iterdir())
    }


def _refuse_replacing(monkeypatch, refused: set[str], restore_refused: set[str] = frozenset()):
    """os.replace refuses to put a new file over any name in `refused` (as Windows does
    with a file open in Excel) and to put a backup back over any in `restore_refused`."""
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        name, source = Path(dst).name, Path(src).name
        if name in refused and source.endswith(writers.TEMP_SUFFIX):
            raise PermissionError(errno.EACCES, "Permission denied", str(dst))
        if name in restore_refused and source.endswith(writers.BACKUP_SUFFIX):
            raise PermissionError(errno.EACCES, "Permission denied", str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


def test_a_refused_replace_puts_back_the_files_already_replaced(
    shared_small_shop: Path, tmp_path: Path, monkeypatch
):
    folder = tmp_path / "plan"
    assert _plan(shared_small_shop, "-o", str(folder), "-q").exit_code == 0
    before = _digests(folder)
    assert "orders.csv" in before and "risk.csv" in before
    _refuse_replacing(monkeypatch, {"risk.csv"})
    result = _plan(shared_small_shop, "-o", str(folder), "-q", "--lang", "zh")  # other headers
    assert result.exit_code == 1
    orders = folder / "orders.csv"
    assert result.stderr.splitlines() == [
        f"stockplan: 错误: 无法写入 {folder / 'risk.csv'}：Permission denied；已放置的 {orders} "
        "已撤销：所有文件都与之前相同"
    ]
    assert _digests(folder) == before  # every file as before, no temp or backup left
    assert pl.read_csv(orders).columns[0] == "sku"  # the English table, not the Chinese

    result = _plan(shared_small_shop, "-o", str(folder), "-q", "--lang", "zh")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"stockplan: 错误: 无法写入 {folder / 'risk.csv'}")
    monkeypatch.undo()
    result = _plan(shared_small_shop, "-o", str(folder), "-q", "--lang", "zh")
    assert result.exit_code == 0, result.stderr
    after = _digests(folder)
    assert sorted(after) == sorted(before)
    assert all(after[name] != before[name] for name in ("orders.csv", "risk.csv", "run.json"))


def test_a_file_that_cannot_be_put_back_is_named_with_its_backup(
    shared_small_shop: Path, tmp_path: Path, monkeypatch
):
    folder = tmp_path / "plan"
    assert _plan(shared_small_shop, "-o", str(folder), "-q").exit_code == 0
    before = _digests(folder)
    _refuse_replacing(monkeypatch, {"risk.csv"}, restore_refused={"orders.csv"})
    result = _plan(shared_small_shop, "-o", str(folder), "-q", "--lang", "zh")
    assert result.exit_code == 1
    (backup,) = [p for p in folder.iterdir() if p.name.endswith(writers.BACKUP_SUFFIX)]
    assert backup.name.startswith(".orders.csv.")
    assert result.stderr.splitlines() == [
        f"stockplan: 错误: 无法写入 {folder / 'risk.csv'}：Permission denied；"
        f"{folder / 'orders.csv'} 无法撤销（原来的文件保存在 {backup}）；其余文件都与之前相同"
    ]
    assert hashlib.md5(backup.read_bytes()).hexdigest() == before["orders.csv"]
    after = _digests(folder)
    assert after["orders.csv"] != before["orders.csv"]  # this run's, as the message says
    assert {n: d for n, d in after.items() if n not in ("orders.csv", backup.name)} == {
        n: d for n, d in before.items() if n != "orders.csv"
    }


def test_a_refused_write_of_a_new_file_leaves_no_file(tmp_path: Path, monkeypatch):
    frame = pl.DataFrame({"sku": ["A"], "order_qty": [3]})
    files = {tmp_path / f"{name}.csv": ({name: frame}, "csv") for name in ("orders", "risk")}
    _refuse_replacing(monkeypatch, {"risk.csv"})
    with pytest.raises(writers.StockplanError) as refused:
        writers.write_files(files)
    assert str(refused.value) == (
        f"cannot write {tmp_path / 'risk.csv'}: Permission denied; {tmp_path / 'orders.csv'} "
        "had already been put in place and were undone: every file is as before"
    )
    assert list(tmp_path.iterdir()) == []


def _read_only(monkeypatch, folder: Path) -> None:
    """Creating a file in `folder` fails as on a read-only mount (root ignores modes)."""
    real = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):  # noqa: A002 (tempfile's own name)
        if dir is not None and Path(dir) == folder:
            raise OSError(errno.EROFS, "Read-only file system")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "stockplan: error: cannot write {sf}: Read-only file system; nothing was written"),
        ("zh", "stockplan: 错误: 无法写入 {sf}：Read-only file system；没有写入任何内容"),
    ],
)
def test_a_read_only_supplier_forecast_folder_is_refused_before_the_plan_is_written(
    shared_small_shop: Path, tmp_path: Path, monkeypatch, lang: str, said: str
):
    sf = tmp_path / "sf"
    sf.mkdir()
    _read_only(monkeypatch, sf)
    target = tmp_path / "plan.xlsx"
    result = _plan(
        shared_small_shop, "-o", str(target), "--supplier-forecast", str(sf), "--lang", lang
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [said.format(sf=sf)]
    assert not target.exists() and list(sf.iterdir()) == []

    new = sf / "next week"  # a folder still to be made is named, its parent is probed
    result = _plan(
        shared_small_shop, "-o", str(target), "--supplier-forecast", str(new), "--lang", lang
    )
    assert result.stderr.splitlines() == [said.format(sf=new)]
    assert not target.exists() and not new.exists()


def test_a_read_only_output_folder_is_refused_before_any_work(
    small_shop: Path, tmp_path: Path, monkeypatch
):
    out = tmp_path / "out"
    out.mkdir()
    _read_only(monkeypatch, out)
    result = _plan(small_shop, "-o", str(out / "plan.xlsx"))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"stockplan: error: cannot write {out / 'plan.xlsx'}: Read-only file system; nothing "
        "was written"
    ]
    assert not (small_shop.parent / ".stockplan-cache").exists()  # no plan was computed


def test_the_supplier_workbooks_and_the_plan_are_one_write(
    shared_small_shop: Path, tmp_path: Path, monkeypatch
):
    target, sf = tmp_path / "plan.xlsx", tmp_path / "sf"
    args = ["-o", str(target), "--supplier-forecast", str(sf), "-q"]
    assert _plan(shared_small_shop, *args).exit_code == 0
    (workbook,) = [p.name for p in sf.iterdir()]
    plan_before, sf_before = hashlib.md5(target.read_bytes()).hexdigest(), _digests(sf)
    listing = _digests(tmp_path)
    _refuse_replacing(monkeypatch, {workbook})
    result = _plan(shared_small_shop, *args, "--lang", "zh")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"stockplan: 错误: 无法写入 {sf / workbook}：Permission")
    assert f"已放置的 {target} 已撤销" in result.stderr
    assert hashlib.md5(target.read_bytes()).hexdigest() == plan_before
    assert _digests(sf) == sf_before and _digests(tmp_path) == listing

    monkeypatch.undo()
    fresh = tmp_path / "fresh"  # a folder the run makes is taken away again on a refusal
    _refuse_replacing(monkeypatch, {workbook})
    result = _plan(
        shared_small_shop, "-o", str(tmp_path / "p2.xlsx"), "--supplier-forecast", str(fresh)
    )
    assert result.exit_code == 1
    assert not fresh.exists() and not (tmp_path / "p2.xlsx").exists()


def test_tables_of_an_earlier_plan_are_removed_from_a_plan_folder(
    shared_small_shop: Path, tmp_path: Path
):
    folder = tmp_path / "plan"
    assert _plan(shared_small_shop, "-o", str(folder), "-q").exit_code == 0
    produced = sorted(p.name for p in folder.iterdir())
    assert "notices.csv" not in produced and "run.json" in produced
    last_week = "customer,sku,qty\nC1,A-100,5\n"
    (folder / "notices.csv").write_text(last_week)  # last week's config read customer orders
    (folder / "orders.parquet").write_text("last week's orders in another format")
    (folder / "my notes.csv").write_text("kept\n")  # not a name stockplan writes
    (folder / "notices").mkdir()  # nor a folder
    result = _plan(shared_small_shop, "-o", str(folder))
    assert result.exit_code == 0, result.stderr
    assert (
        f"stockplan: removed notices.csv, orders.parquet from {folder}: tables of an earlier "
        "plan that this run does not write (they would be read as this plan's)"
    ) in result.stderr.splitlines()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*produced, "my notes.csv", "notices"]
    )

    (folder / "notices.csv").write_text(last_week)
    result = _plan(shared_small_shop, "-o", str(folder), "--lang", "zh")
    assert (
        f"stockplan: 已从 {folder} 删除 notices.csv：这些是之前计划的表，本次运行不再写出"
        "（留着会被当作本次计划的表）"
    ) in result.stderr.splitlines()
    assert not (folder / "notices.csv").exists()

    other = tmp_path / "mine"  # no run.json: not a plan folder, nothing removed
    other.mkdir()
    (other / "notices.csv").write_text(last_week)
    assert _plan(shared_small_shop, "-o", str(other), "-q").exit_code == 0
    assert (other / "notices.csv").read_text() == last_week


def test_last_weeks_workbook_in_a_plan_folder_is_removed_and_verify_reads_this_week(
    small_shop: Path, tmp_path: Path
):
    """`-f xlsx` into a folder writes only stockplan.xlsx (its run record a sheet, no
    run.json); next week's CSV plan into the folder left it there, and `verify`, `diff`
    and `--previous` read last week's workbook before this week's tables (a plan that
    verified as 'not reproduced' against its own inputs)."""
    folder = tmp_path / "plan"
    assert _plan(small_shop, "-o", str(folder), "-f", "xlsx", "-q").exit_code == 0
    assert sorted(p.name for p in folder.iterdir()) == ["stockplan.xlsx"]
    stock = small_shop.parent / "stock.csv"
    stock.write_text(stock.read_text().replace("A-100,WH1,40", "A-100,WH1,400"))
    result = _plan(small_shop, "-o", str(folder))
    assert result.exit_code == 0, result.stderr
    assert (
        f"stockplan: removed stockplan.xlsx from {folder}: tables of an earlier plan that this "
        "run does not write (they would be read as this plan's)"
    ) in result.stderr.splitlines()
    assert not (folder / "stockplan.xlsx").exists() and (folder / "run.json").exists()
    result = runner.invoke(app, ["verify", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-1].endswith("reproduced: same inputs, every number matches")

    mine = tmp_path / "mine"  # a workbook of the buyer's own, no run sheet: left alone
    mine.mkdir()
    import xlsxwriter

    with xlsxwriter.Workbook(mine / "stockplan.xlsx") as workbook:
        workbook.add_worksheet("notes").write(0, 0, "my notes")
    before = (mine / "stockplan.xlsx").read_bytes()
    assert _plan(small_shop, "-o", str(mine), "-q").exit_code == 0
    assert (mine / "stockplan.xlsx").read_bytes() == before


def test_a_stale_table_is_kept_when_the_write_is_refused(
    shared_small_shop: Path, tmp_path: Path, monkeypatch
):
    folder = tmp_path / "plan"
    assert _plan(shared_small_shop, "-o", str(folder), "-q").exit_code == 0
    (folder / "notices.csv").write_text("customer,sku,qty\nC1,A-100,5\n")
    before = _digests(folder)
    _refuse_replacing(monkeypatch, {"run.json"})
    result = _plan(shared_small_shop, "-o", str(folder), "-q", "--lang", "zh")
    assert result.exit_code == 1
    assert _digests(folder) == before


@pytest.mark.parametrize(
    "error",
    [
        OSError("No space left on device (os error 28)"),  # polars' Rust writers
        pl.exceptions.ComputeError(
            "parquet: File out of specification: underlying IO error: No space left on device "
            "(os error 28)"
        ),
        OSError(errno.ENOSPC, "No space left on device"),
    ],
)
def test_a_full_disk_is_said_naming_the_file(
    shared_small_shop: Path, tmp_path: Path, monkeypatch, error: Exception
):
    def full(*args, **kwargs):
        raise error

    monkeypatch.setattr(pl.DataFrame, "write_parquet", full)
    out = tmp_path / "out"
    for lang, said in (
        ("en", "stockplan: error: cannot write {f}: the disk is full; nothing was written"),
        ("zh", "stockplan: 错误: 无法写入 {f}：磁盘已满；没有写入任何内容"),
    ):
        out.mkdir(exist_ok=True)
        result = _plan(shared_small_shop, "-o", str(out / "orders.parquet"), "--lang", lang, "-q")
        assert result.exit_code == 1
        assert result.stderr.splitlines() == [said.format(f=out / "orders.parquet")]
        assert list(out.iterdir()) == []


def _earlier_plan_with_parts(folder: Path) -> Path:
    """An output folder as an earlier cluster plan left it (orders.csv, forecast/part-a)
    and a staging folder beside it holding this run's forecast/part-b; returns the staged
    forecast folder."""
    (folder / "forecast").mkdir(parents=True)
    pl.DataFrame({"sku": ["OLD"]}).write_csv(folder / "orders.csv")
    pl.DataFrame({"sku": ["OLD"]}).write_parquet(folder / "forecast" / "part-a.parquet")
    staged = folder.parent / ".plan.parts-1" / "forecast"
    staged.mkdir(parents=True)
    pl.DataFrame({"sku": ["NEW"]}).write_parquet(staged / "part-b.parquet")
    return staged


def _refuse_renaming(monkeypatch, refused: Path) -> None:
    """os.rename refuses to move `refused` (a folder or file held open elsewhere)."""
    real = os.rename

    def rename(src, dst, *args, **kwargs):
        if Path(src) == refused:
            raise PermissionError(errno.EACCES, "Permission denied", str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", rename)


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_part_file_folders_are_moved_in_the_same_write_as_the_plan_files(tmp_path: Path):
    folder = tmp_path / "plan"
    staged = _earlier_plan_with_parts(folder)
    orders = pl.DataFrame({"sku": ["NEW"]})
    writers.write_files(
        {folder / "orders.csv": ({"orders": orders}, "csv")},
        folders={folder / "forecast": staged},
    )
    # the earlier run's part file went with its folder; no backup left beside them
    assert _tree(folder) == ["forecast", "forecast/part-b.parquet", "orders.csv"]
    assert pl.read_csv(folder / "orders.csv")["sku"].to_list() == ["NEW"]
    assert not staged.exists()


def test_a_refused_folder_move_puts_back_the_plan_files_already_replaced(
    tmp_path: Path, monkeypatch
):
    folder = tmp_path / "plan"
    staged = _earlier_plan_with_parts(folder)
    _refuse_renaming(monkeypatch, staged)
    with pytest.raises(writers.StockplanError, match="Permission denied") as refused:
        writers.write_files(
            {folder / "orders.csv": ({"orders": pl.DataFrame({"sku": ["NEW"]})}, "csv")},
            folders={folder / "forecast": staged},
        )
    assert "orders.csv" in str(refused.value)  # named as put back
    assert _tree(folder) == ["forecast", "forecast/part-a.parquet", "orders.csv"]
    assert pl.read_csv(folder / "orders.csv")["sku"].to_list() == ["OLD"]
    assert pl.read_parquet(folder / "forecast" / "part-a.parquet")["sku"].to_list() == ["OLD"]


def test_a_refused_step_after_the_folder_move_puts_the_earlier_folder_back(
    tmp_path: Path, monkeypatch
):
    folder = tmp_path / "plan"
    staged = _earlier_plan_with_parts(folder)
    stale = folder / "classes.csv"  # a table of the earlier plan this run removes
    pl.DataFrame({"sku": ["OLD"]}).write_csv(stale)
    _refuse_renaming(monkeypatch, stale)
    with pytest.raises(writers.StockplanError, match="Permission denied"):
        writers.write_files(
            {folder / "orders.csv": ({"orders": pl.DataFrame({"sku": ["NEW"]})}, "csv")},
            folders={folder / "forecast": staged},
            remove=[stale],
        )
    assert _tree(folder) == [
        "classes.csv",
        "forecast",
        "forecast/part-a.parquet",
        "orders.csv",
    ]
    assert pl.read_parquet(folder / "forecast" / "part-a.parquet")["sku"].to_list() == ["OLD"]
    assert pl.read_csv(folder / "orders.csv")["sku"].to_list() == ["OLD"]


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "-o", "{out}/plan.xlsx"],
        ["plan", "-o", "{out}/orders.csv"],
        ["forecast", "-o", "{out}/forecast.parquet"],
        ["classify", "-o", "{out}/classes.json"],
        ["overrides", "-o", "{out}/overrides.csv"],
        ["simulate", "-o", "{out}/simulation.xlsx"],
        ["simulate", "--plot", "{out}/tradeoff.png"],
        ["report", "-o", "{out}/report.html"],
        ["diff", "{shop}/old.xlsx", "{shop}/new.xlsx", "-o", "{out}/diff.csv"],
    ],
)
@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "stockplan: error: {target}: output folder {out} does not exist"),
        ("zh", "stockplan: 错误: {target}：输出文件夹 {out} 不存在"),
    ],
    ids=["en", "zh"],
)
def test_a_file_in_a_missing_folder_is_refused_before_anything_is_read(
    small_shop: Path, monkeypatch, args: list[str], lang: str, said: str
):
    """A file's folder is never made: `-o missing/plan.xlsx` was refused only when the
    plan, computed in full, was written."""
    import stockplan.cli

    def read_config(path: Path):
        raise AssertionError(f"{path} read before the output was checked")

    monkeypatch.setattr(stockplan.cli, "_read_config", read_config)
    out = small_shop.parent / "missing"
    args = [a.format(out=out, shop=small_shop.parent) for a in args]
    config = [] if args[0] == "diff" else ["-c", str(small_shop)]
    result = runner.invoke(app, [*args, *config, "--lang", lang])
    assert result.exit_code == 1
    target = args[args.index("--plot") + 1] if "--plot" in args else args[-1]
    assert result.stderr.splitlines() == [said.format(target=target, out=out)]
    assert not out.exists()
    assert not (small_shop.parent / ".stockplan-cache").exists()


@pytest.mark.parametrize("option", [["report", "-o"], ["simulate", "--plot"]])
def test_a_report_or_chart_named_like_an_existing_folder_is_refused_before_anything_is_read(
    small_shop: Path, monkeypatch, option: list[str]
):
    """`report -o r.html` naming a folder was refused only once the plan was computed."""
    import stockplan.cli

    def read_config(path: Path):
        raise AssertionError(f"{path} read before the output was checked")

    monkeypatch.setattr(stockplan.cli, "_read_config", read_config)
    folder = small_shop.parent / ("r.html" if option[0] == "report" else "chart.png")
    folder.mkdir()
    result = runner.invoke(app, [*option, str(folder), "-c", str(small_shop)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"stockplan: error: {folder}: is an existing folder; give a file name or remove it"
    ]
    assert list(folder.iterdir()) == []
