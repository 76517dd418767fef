"""Failure paths for real: a write that fails part-way, exit codes 1, 3, 4 and 130, --debug.

Each "no partial output" check makes the failure happen after an earlier table was
already written, so a writer that wrote straight to the target, or left its temp files
behind, would be caught.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

import stockplan.pipeline
from stockplan.cli import app
from stockplan.cli.display import guarded
from stockplan.errors import StockplanError
from stockplan.io.writers import output_plan, write_files

runner = CliRunner()
REAL_RUN_PLAN = stockplan.pipeline.run_plan
_CACHE: dict[str, stockplan.pipeline.PlanResult] = {}


def _files(folder: Path) -> dict[str, str]:
    """Every file in `folder` (hidden temp files included) -> its text."""
    return {p.name: p.read_text(errors="replace") for p in folder.iterdir()}


def _folder_with_old_plan(tmp_path: Path) -> Path:
    """An output folder holding last week's orders.csv, which a failed run must not touch."""
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "orders.csv").write_text("sku,order_qty\nLAST-WEEK,1\n")
    return folder


OLD_PLAN = {"orders.csv": "sku,order_qty\nLAST-WEEK,1\n"}


@pytest.fixture
def read_only_folder() -> Iterator[Path]:
    """A read-only output folder holding last week's orders.csv.

    Made with `tempfile` in the system temp folder, so an unprivileged user can reach it
    (pytest's own temp folders are private to the user running the tests)."""
    folder = Path(tempfile.mkdtemp(prefix="stockplan-read-only-"))
    (folder / "orders.csv").write_text(OLD_PLAN["orders.csv"])
    folder.chmod(0o555)
    try:
        yield folder
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


@contextlib.contextmanager
def _unprivileged() -> Iterator[None]:
    """Act as an ordinary user: root writes into read-only folders regardless."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(65534)  # nobody
    try:
        yield
    finally:
        os.seteuid(0)


def _real_plan(tables, config, **kwargs) -> stockplan.pipeline.PlanResult:
    """The real pipeline, run once per test session on the (deterministic) small shop."""
    if "plan" not in _CACHE:
        _CACHE["plan"] = REAL_RUN_PLAN(tables, config, **kwargs)
    return _CACHE["plan"]


def _patch_plan(monkeypatch, change) -> None:
    """Make the CLI's pipeline return the real plan with `change(tables)` applied."""

    def run_plan(tables, config, **kwargs):
        result = _real_plan(tables, config, **kwargs)
        return dataclasses.replace(result, tables=change(dict(result.tables)))

    monkeypatch.setattr(stockplan.pipeline, "run_plan", run_plan)


def _unwritable_risk(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """A risk table that CSV cannot hold (a nested column): its write fails for real, after
    orders.csv, which comes first, has been written."""
    assert list(tables)[:2] == ["orders", "risk"]
    risk = tables["risk"]
    tables["risk"] = risk.with_columns(pl.Series("nested", [[1.0]] * risk.height))
    return tables


# --- the writers -----------------------------------------------------------------------


def test_folder_output_failing_on_a_later_table_leaves_the_old_files_and_no_temp(
    tmp_path: Path,
):
    folder = _folder_with_old_plan(tmp_path)
    tables = {
        "orders": pl.DataFrame({"sku": ["A"], "order_qty": [24]}),
        "risk": pl.DataFrame({"sku": ["A"], "nested": [[1.0]]}),  # CSV cannot hold a list
    }
    with pytest.raises(pl.exceptions.ComputeError):
        write_files(output_plan(tables, folder, None, "orders"))
    assert _files(folder) == OLD_PLAN


def test_workbook_failing_on_a_later_sheet_leaves_no_file_and_no_temp(tmp_path: Path):
    target = tmp_path / "plan.xlsx"
    tables = {
        "orders": pl.DataFrame({"sku": ["A"], "order_qty": [24]}),
        "risk": pl.DataFrame({"sku": ["A"], "nested": [[1.0]]}),  # no cell holds a list
    }
    with pytest.raises(pl.exceptions.InvalidOperationError):  # once `orders` is written
        write_files(output_plan(tables, target, None, "orders"))
    assert list(tmp_path.iterdir()) == []


def test_read_only_output_folder_is_a_user_error_and_writes_nothing(read_only_folder: Path):
    folder = read_only_folder
    tables = {
        "orders": pl.DataFrame({"sku": ["A"], "order_qty": [24]}),
        "risk": pl.DataFrame({"sku": ["A"], "risk_level": ["high"]}),
    }
    with _unprivileged(), pytest.raises(StockplanError, match="cannot write .*nothing was written"):
        write_files(output_plan(tables, folder, None, "orders"))
    assert _files(folder) == OLD_PLAN


def test_a_later_target_that_cannot_be_replaced_leaves_the_earlier_ones_untouched(
    tmp_path: Path,
):
    # risk.csv is a folder: the run fails, and orders.csv must still be last week's
    folder = _folder_with_old_plan(tmp_path)
    (folder / "risk.csv").mkdir()
    tables = {
        "orders": pl.DataFrame({"sku": ["A"], "order_qty": [24]}),
        "risk": pl.DataFrame({"sku": ["A"], "risk_level": ["high"]}),
    }
    with pytest.raises(StockplanError, match="risk.csv"):
        write_files(output_plan(tables, folder, None, "orders"))
    assert sorted(p.name for p in folder.iterdir()) == ["orders.csv", "risk.csv"]
    assert (folder / "orders.csv").read_text() == OLD_PLAN["orders.csv"]


def test_init_into_a_read_only_folder_is_a_user_error_and_leaves_nothing(
    read_only_folder: Path, tmp_path: Path
):
    # the same exports in a writable folder first: init works there (and everything it
    # imports lazily is loaded before this process drops its privileges)
    shutil.copy(read_only_folder / "orders.csv", tmp_path / "orders.csv")
    assert runner.invoke(app, ["init", str(tmp_path), "-q"]).exit_code == 0
    assert (tmp_path / "stockplan.yaml").exists()
    before = _files(read_only_folder)
    with _unprivileged():
        result = runner.invoke(app, ["init", str(read_only_folder), "-q"])
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("stockplan: error: ") and "stockplan.yaml" in line
    assert _files(read_only_folder) == before


def test_successful_write_replaces_the_old_file_and_leaves_no_temp(tmp_path: Path):
    folder = _folder_with_old_plan(tmp_path)
    tables = {
        "orders": pl.DataFrame({"sku": ["A"], "order_qty": [24]}),
        "risk": pl.DataFrame({"sku": ["A"], "risk_level": ["high"]}),
    }
    write_files(output_plan(tables, folder, None, "orders"))
    assert _files(folder) == {
        "orders.csv": "sku,order_qty\nA,24\n",
        "risk.csv": "sku,risk_level\nA,high\n",
    }


# --- the command line: exit codes and what is left on disk -------------------------------


def test_internal_error_while_writing_exits_4_in_one_line_and_leaves_old_files(
    small_shop: Path, tmp_path: Path, monkeypatch
):
    folder = _folder_with_old_plan(tmp_path)
    _patch_plan(monkeypatch, _unwritable_risk)
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-o", str(folder), "-q"])
    assert result.exit_code == 4, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("stockplan: internal error: ComputeError: ")
    assert "--debug" in line and "Traceback" not in result.output
    assert _files(folder) == OLD_PLAN


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (RuntimeError("planted bug\nsecond line of detail"), "RuntimeError: planted bug"),
        (RuntimeError(), "RuntimeError:"),  # no message: nothing made up in its place
        (RuntimeError("  padded bug \n"), "RuntimeError: padded bug"),
        (RuntimeError("x" * 400), "RuntimeError: " + "x" * 300),  # cut to 300 characters
    ],
)
def test_internal_error_shows_its_type_and_first_line_only(
    small_shop: Path, monkeypatch, error, shown
):
    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(stockplan.pipeline, "run_plan", broken)
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-q"])
    assert result.exit_code == 4
    (line,) = result.stderr.strip().splitlines()
    assert re.fullmatch(
        rf"stockplan: internal error: {re.escape(shown)}\s*\(run with --debug.*\)", line
    ), line


def test_debug_lets_an_internal_error_through_with_its_traceback(
    small_shop: Path, tmp_path: Path, monkeypatch
):
    folder = _folder_with_old_plan(tmp_path)
    _patch_plan(monkeypatch, _unwritable_risk)
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-o", str(folder), "-q", "--debug"])
    assert isinstance(result.exception, pl.exceptions.ComputeError)
    assert result.exc_info is not None and result.exc_info[2] is not None  # the traceback
    assert "internal error" not in result.stderr
    assert _files(folder) == OLD_PLAN


def test_debug_prints_the_traceback_in_a_real_process():
    # a bug while loading; without --debug one line and exit 4, with it the Python
    # traceback (and Python's own exit code 1)
    script = (
        "import sys, stockplan.config\n"
        "def broken(*args, **kwargs):\n"
        "    raise ZeroDivisionError('planted')\n"
        "stockplan.config.load_config = broken\n"
        "from stockplan.cli import main\n"
        "sys.argv = ['stockplan', 'validate', '-q'] + sys.argv[1:]\n"
        "main()\n"
    )

    def run(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", script, *extra], capture_output=True, text=True, timeout=120
        )

    plain = run()
    assert plain.returncode == 4
    (line,) = plain.stderr.strip().splitlines()
    assert line.startswith("stockplan: internal error: ZeroDivisionError: planted")
    assert "--debug" in line
    debug = run("--debug")
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.strip().endswith("ZeroDivisionError: planted")


def test_ctrl_c_during_the_plan_exits_130_and_writes_nothing(
    small_shop: Path, tmp_path: Path, monkeypatch
):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(stockplan.pipeline, "run_plan", interrupted)
    folder = _folder_with_old_plan(tmp_path)
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-o", str(folder)])
    assert result.exit_code == 130
    assert result.stderr.strip().splitlines()[-1] == "stockplan: interrupted"
    assert "Traceback" not in result.output
    assert _files(folder) == OLD_PLAN


def test_ctrl_c_while_writing_a_later_table_exits_130_and_leaves_old_files(
    small_shop: Path, tmp_path: Path, monkeypatch
):
    _patch_plan(monkeypatch, lambda tables: tables)
    real_write_csv = pl.DataFrame.write_csv
    calls = []

    def write_csv(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # orders.csv is written, Ctrl-C arrives during risk.csv
            raise KeyboardInterrupt
        return real_write_csv(self, *args, **kwargs)

    monkeypatch.setattr(pl.DataFrame, "write_csv", write_csv)
    folder = _folder_with_old_plan(tmp_path)
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-o", str(folder), "-q"])
    assert len(calls) == 2
    assert result.exit_code == 130
    assert result.stderr.strip() == "stockplan: interrupted"
    assert _files(folder) == OLD_PLAN


def test_read_only_output_folder_exits_1_in_one_line_and_writes_nothing(
    small_shop: Path, read_only_folder: Path, monkeypatch
):
    folder = read_only_folder
    stack = contextlib.ExitStack()

    def run_plan(tables, config, **kwargs):
        result = _real_plan(tables, config, **kwargs)
        stack.enter_context(_unprivileged())  # the inputs are read; now write as a user
        return result

    monkeypatch.setattr(stockplan.pipeline, "run_plan", run_plan)
    # the run record re-reads the inputs to hash them, which the unprivileged user may not:
    # this test is about the write
    monkeypatch.setattr("stockplan.io.runrecord.run_record", lambda *args: {"run": "record"})
    with stack:
        result = runner.invoke(app, ["plan", "-c", str(small_shop), "-o", str(folder), "-q"])
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"stockplan: error: cannot write {folder}")
    assert "Permission denied" in line and line.endswith("nothing was written")
    assert _files(folder) == OLD_PLAN


# --- --fail-on-risk --------------------------------------------------------------------


def _with_levels(levels: list[str]):
    def change(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        risk = tables["risk"]
        assert risk.height == len(levels)  # A-100 in WH1 and WH2, 007 in WH1
        tables["risk"] = risk.with_columns(pl.Series("risk_level", levels))
        return tables

    return change


@pytest.mark.parametrize("command", ["plan", "risk"])
@pytest.mark.parametrize(
    ("flag", "levels", "exit_code"),
    [
        (None, ["high", "medium", "low"], 0),  # no threshold: never exit 3
        ("high", ["high", "low", "low"], 3),
        ("high", ["medium", "medium", "low"], 0),  # medium is below a high threshold
        ("high", ["low", "low", "low"], 0),
        ("medium", ["medium", "low", "low"], 3),
        ("medium", ["high", "low", "low"], 3),  # high is worse than medium
        ("medium", ["low", "low", "low"], 0),
    ],
)
def test_fail_on_risk_exits_3_at_the_level_or_worse(
    small_shop, tmp_path, monkeypatch, command, flag, levels, exit_code
):
    _patch_plan(monkeypatch, _with_levels(levels))
    target = tmp_path / "risk.csv"
    args = [command, "-c", str(small_shop), "-o", str(target)]
    if command == "plan":
        args += ["--table", "risk"]
    if flag:
        args += ["--fail-on-risk", flag]
    result = runner.invoke(app, args)
    assert result.exit_code == exit_code, result.output
    # the plan is written either way: the buyer still needs it
    written = pl.read_csv(target)
    assert sorted(written["risk_level"].to_list()) == sorted(levels)


def test_fail_on_risk_low_is_a_usage_error(small_shop: Path):
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "--fail-on-risk", "low"])
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("args", "levels", "line"),
    [
        (
            ["--fail-on-risk", "high"],
            ["high", "high", "low"],
            "2 items at high stockout risk or worse: exit 3",
        ),
        (
            ["--fail-on-risk", "medium"],
            ["high", "medium", "low"],
            "2 items at medium stockout risk or worse: exit 3",
        ),
        (
            ["--fail-on-risk", "medium", "--lang", "zh"],
            ["medium", "low", "low"],
            "1 个商品缺货风险为中或更高：退出码 3",
        ),
    ],
)
def test_fail_on_risk_names_the_count_at_the_level_or_worse_and_the_exit_code(
    small_shop, tmp_path, monkeypatch, args, levels, line
):
    _patch_plan(monkeypatch, _with_levels(levels))
    target = tmp_path / "risk.csv"
    result = runner.invoke(app, ["risk", "-c", str(small_shop), "-o", str(target), *args])
    assert result.exit_code == 3, result.output
    assert f"stockplan: {line}" in result.stderr.splitlines()


def _last_week(folder: Path, levels: list[str]) -> Path:
    """Last week's risk table: A-100 in WH1 and WH2, 007 in WH1 at `levels`."""
    path = folder / "last_week.csv"
    pl.DataFrame(
        {"sku": ["A-100", "A-100", "007"], "location": ["WH1", "WH2", "WH1"], "risk_level": levels}
    ).write_csv(path)
    return path


@pytest.mark.parametrize(
    ("flag", "now", "before", "line"),
    [
        # two items were below high last week: both are news
        (
            "new-high",
            "high",
            ["high", "medium", "low"],
            "2 items newly at high stockout risk since --previous: exit 3",
        ),
        # A-100 @ WH1 was high and is medium now: better is not news; the two others rose
        (
            "worse",
            "medium",
            ["high", "low", "low"],
            "2 items at a higher stockout risk level than in --previous: exit 3",
        ),
        ("new-high", "high", ["high", "high", "high"], None),  # high before: no news
        ("worse", "medium", ["medium", "medium", "high"], None),  # none rose: no news
    ],
)
def test_fail_on_risk_against_the_previous_plan_counts_only_the_news(
    small_shop, tmp_path, monkeypatch, flag, now, before, line
):
    _patch_plan(monkeypatch, _with_levels([now] * 3))
    previous = _last_week(tmp_path, before)
    target = tmp_path / "risk.csv"
    args = ["risk", "-c", str(small_shop), "-o", str(target), "--fail-on-risk", flag]
    result = runner.invoke(app, [*args, "--previous", str(previous)])
    if line is None:
        assert result.exit_code == 0, result.output
        assert "stockout risk" not in result.stderr
    else:
        assert result.exit_code == 3, result.output
        assert f"stockplan: {line}" in result.stderr.splitlines()


def test_fail_on_risk_high_with_a_previous_plan_still_counts_every_high_item(
    small_shop, tmp_path, monkeypatch
):
    # --previous only changes what new-high and worse count: high counts all items at high
    _patch_plan(monkeypatch, _with_levels(["high", "high", "low"]))
    previous = _last_week(tmp_path, ["high", "high", "high"])
    target = tmp_path / "risk.csv"
    args = ["risk", "-c", str(small_shop), "-o", str(target), "--fail-on-risk", "high"]
    result = runner.invoke(app, [*args, "--previous", str(previous)])
    assert result.exit_code == 3, result.output
    assert "stockplan: 2 items at high stockout risk or worse: exit 3" in result.stderr.splitlines()


# --- the machine refuses: broken pipes and other OS errors -------------------------------


@pytest.mark.parametrize(
    "closed",
    [
        BrokenPipeError(errno.EPIPE, "Broken pipe"),
        OSError(errno.EPIPE, "Broken pipe"),
        OSError("failed to write: Broken pipe"),  # how polars' writers report EPIPE
    ],
)
def test_a_reader_gone_before_the_csv_is_written_exits_0_with_nothing_on_stderr(
    small_shop: Path, monkeypatch, closed
):
    # `stockplan plan -o - | head -0` in this process: writing to stdout meets a closed pipe
    _patch_plan(monkeypatch, lambda tables: tables)

    def write_csv(self, *args, **kwargs):
        raise closed

    monkeypatch.setattr(pl.DataFrame, "write_csv", write_csv)
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-o", "-", "-q"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_after_a_broken_pipe_stdout_points_at_devnull_so_the_last_flush_cannot_fail(monkeypatch):
    # Python flushes stdout once more on exit: on the closed pipe that would print
    # "Exception ignored ... BrokenPipeError" and exit 120, so stdout is sent to /dev/null
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone
    stdout = os.fdopen(write_end, "w")
    monkeypatch.setattr(sys, "stdout", stdout)

    @guarded
    def command(debug: bool = False) -> None:
        os.write(write_end, b"sku,order_qty\n")

    try:
        with pytest.raises(typer.Exit) as stopped:
            command(debug=False)
        assert stopped.value.exit_code == 0
        assert os.path.samestat(os.fstat(write_end), os.stat(os.devnull))
    finally:
        stdout.close()


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (
            "/shop/.stockplan-cache/plan.parquet",
            "[Errno 13] Permission denied: '/shop/.stockplan-cache/plan.parquet'",
        ),
        # a deep path: the message is cut to 300 characters, still on one line
        ("/" + "folder/" * 60, ("[Errno 13] Permission denied: '/" + "folder/" * 60)[:300]),
    ],
)
def test_an_os_error_that_is_not_a_broken_pipe_exits_1_with_one_line_naming_the_file(
    small_shop: Path, monkeypatch, path, shown
):
    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", path)

    monkeypatch.setattr(stockplan.pipeline, "run_plan", refused)
    result = runner.invoke(app, ["plan", "-c", str(small_shop), "-q"])
    assert result.exit_code == 1, result.output
    assert result.stderr == f"stockplan: error: {shown}\n"


@pytest.mark.parametrize(
    ("lang", "line"),
    [
        (
            "en",
            "stockplan: error: {path}: config file not found (write one from your exports with "
            "`stockplan init FOLDER`, or plan the sample with -c config.example.yaml)",
        ),
        (
            "zh",
            "stockplan: 错误: {path}: 找不到配置文件（可用 `stockplan init 文件夹` 由导出文件生成，"
            "或用 -c config.example.yaml 试算示例数据）",
        ),
    ],
)
def test_a_user_error_is_one_line_in_the_chosen_language_and_exits_1(tmp_path: Path, lang, line):
    path = tmp_path / "missing.yaml"
    result = runner.invoke(app, ["plan", "-c", str(path), "--lang", lang])
    assert result.exit_code == 1, result.output
    assert result.stderr == line.format(path=path) + "\n"


def test_a_failed_run_ends_at_once_while_its_forecasting_imports_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    # `plan` begins its forecasting imports on a thread while it reads the inputs; a run
    # that fails meanwhile ends with its exit code at once (its message out, an unpublished
    # staging folder of a cluster plan removed) instead of waiting for imports it never uses
    import gc

    from stockplan import cli, preload
    from stockplan.io.parts import PartsOutput

    class Ended(Exception):
        pass

    ended: list[int] = []

    def end(code: int) -> None:
        ended.append(code)
        raise Ended

    staging = PartsOutput(tmp_path / "plan").stage()
    monkeypatch.setattr(gc, "freeze", lambda: None)  # main's, for a process about to end
    monkeypatch.setattr(cli.os, "_exit", end)
    monkeypatch.setattr(preload, "running", lambda: True)
    missing = tmp_path / "missing.yaml"
    monkeypatch.setattr(sys, "argv", ["stockplan", "plan", "-c", str(missing), "-q"])
    with pytest.raises(Ended):
        cli.main()
    assert ended == [1] and not staging.exists()
    err = capsys.readouterr().err
    assert err.startswith("stockplan: error: ") and err.count("\n") == 1 and "missing" in err
    # a run that ends well exits as Python does, imports running or not
    monkeypatch.setattr(sys, "argv", ["stockplan", "--version"])
    with pytest.raises(SystemExit) as done:
        cli.main()
    assert done.value.code in (0, None) and ended == [1]
    # and so does a failed run with no import running (nothing to wait for)
    monkeypatch.setattr(preload, "running", lambda: False)
    monkeypatch.setattr(sys, "argv", ["stockplan", "plan", "-c", str(missing), "-q"])
    with pytest.raises(SystemExit) as done:
        cli.main()
    assert done.value.code == 1 and ended == [1]


def test_preload_running_is_true_only_while_its_thread_imports(monkeypatch):
    import threading

    from stockplan import preload

    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    monkeypatch.setattr(preload, "_thread", [thread])
    thread.start()
    assert preload.running()
    release.set()
    thread.join()
    assert not preload.running()
    monkeypatch.setattr(preload, "_thread", [])
    assert not preload.running()
