"""Speed work keeps the same answers: one-pass date parsing, sampled column widths, lean
commands."""

from __future__ import annotations

import ast
import datetime as dt
import math
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from stockplan.cli import app
from stockplan.io.columns import _number_expr, parse_numbers
from stockplan.io.readers import _head_lines, parse_dates
from stockplan.io.writers import column_widths

runner = CliRunner()


def test_a_column_mixing_date_formats_reads_every_row():
    values = ["2024-01-05"] * 300 + ["2024/1/6", "2024年1月7日", "45300", "5.1.2024", None, " "]
    parsed = parse_dates(pl.Series(values)).to_list()
    excel_serial = dt.date(1899, 12, 30) + dt.timedelta(days=45300)  # Excel's 1900 system
    assert parsed[:300] == [dt.date(2024, 1, 5)] * 300
    assert parsed[300:] == [
        dt.date(2024, 1, 6),
        dt.date(2024, 1, 7),
        excel_serial,
        dt.date(2024, 1, 5),
        None,
        None,
    ]


def test_timestamps_keep_their_date_and_an_unreadable_date_stays_empty():
    parsed = parse_dates(pl.Series(["2024-01-05 10:00:00", "2024-01-06T08:30", "soon"]))
    assert parsed.to_list() == [dt.date(2024, 1, 5), dt.date(2024, 1, 6), None]


def test_numbers_read_in_one_cast_equal_the_general_reading_on_every_kind_of_cell():
    # by hand: separators and currency signs go, a lone comma is a decimal comma, spaces
    # are trimmed, empty is missing; the plain cast's values stay as they are
    cells = ["17", "-3.5", "+5", ".5", "1e3", "1,234.5", "1 234", "1'234", "12,5", "¥8"]
    cells += ["8€", " 3 ", "3\u3000", "", "  ", None, "abc", "1.2.3", "0x10", "nan"]
    expected = [17.0, -3.5, 5.0, 0.5, 1000.0, 1234.5, 1234.0, 1234.0, 12.5, 8.0]
    expected += [8.0, 3.0, 3.0, None, None, None, None, None, None]
    values = pl.Series(cells * 30)  # 600 cells: plain ones and the rest mixed
    fast = parse_numbers(values).to_list()
    general = values.to_frame("t").select(_number_expr(pl.col("t"))).to_series().to_list()
    assert fast[:19] == expected and math.isnan(fast[19])
    same = [a == b or (a != a and b != b) for a, b in zip(fast, general, strict=True)]
    assert all(same)


def test_the_header_search_reads_the_same_first_lines_without_splitting_the_whole_file():
    # a title line of 65,535 characters whose CR LF straddles the first 64 KiB read, a
    # form feed and a Unicode line separator (both line ends for Python), and a file
    # shorter than the lines asked for
    title = "t" * ((1 << 16) - 1) + "\r\n"
    text = title + "a\x0cb\u2028c\n" + "".join(f"{i},x\r\n" for i in range(100_000))
    assert _head_lines(text, 20) == ["t" * 65535, "a", "b", "c"] + [f"{i},x" for i in range(16)]
    assert _head_lines("h\n1\n", 20) == ["h", "1"]


def test_a_bad_date_among_hundreds_is_refused_with_file_row_and_column(small_shop: Path):
    sales = small_shop.parent / "sales.csv"
    lines = sales.read_text().splitlines()
    assert lines[500].startswith("2025-")
    lines[500] = "2025-02-30" + lines[500][10:]
    sales.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["validate", "-c", str(small_shop)])
    assert result.exit_code == 1
    assert "sales.csv, row 501" in result.stderr and "2025-02-30" in result.stderr
    assert "date" in result.stderr


def test_column_widths_fit_the_longest_sampled_value_and_count_cjk_twice():
    frame = pl.DataFrame({"sku": ["A", "ABCDEFGHIJ"], "名称": ["短", "很长的名字"]})
    widths = column_widths(frame)
    # 10 characters + 3 of margin, 7 pixels each + 5
    assert widths["sku"] == (10 + 3) * 7 + 5
    # 5 CJK characters are 10 columns wide
    assert widths["名称"] == (10 + 3) * 7 + 5


def _commands_in_one_interpreter(commands: list[list[str]], names: tuple[str, ...]):
    """Run `stockplan` with each of `commands` in turn in one fresh interpreter; for each,
    (its stdout, its stderr, {name: imported once it ended} for `names`).

    One interpreter instead of one per command (each start imports stockplan again): what
    a command imported stays imported, so a name absent after a command was imported by
    none of the commands so far, and one that appears was imported by this command."""
    end = "\n--- the command ended; imported:"
    code = "\n".join(
        [
            "import sys",
            "from stockplan.cli import main",
            f"for argv in {commands!r}:",
            "    sys.argv = ['stockplan', *argv]",
            "    try:",
            "        main()",
            "    except SystemExit as exc:",
            "        assert not exc.code, (argv, exc.code)",
            f"    imported = [name in sys.modules for name in {names!r}]",
            f"    print({end!r}, imported, flush=True)",
            f"    print({end!r}, file=sys.stderr, flush=True)",
        ]
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    stdouts, stderrs = out.stdout.split(end), out.stderr.split(end)
    assert len(stdouts) == len(stderrs) == len(commands) + 1, (out.stdout, out.stderr)
    ran = []
    for index in range(len(commands)):
        flags = stdouts[index + 1].partition("\n")[0]
        seen = dict(zip(names, ast.literal_eval(flags.strip()), strict=True))
        stdout = stdouts[index] if index == 0 else stdouts[index].partition("\n")[2]
        ran.append((stdout, stderrs[index], seen))
    return ran


def test_validate_and_classify_import_no_forecasting_library(small_shop: Path):
    config = ["-c", str(small_shop)]
    expected = [
        (["validate", *config, "-q"], (False, False)),
        (["suppliers", *config, "-q", "-o", "-"], (False, False)),
        # classify imports the pipeline module, but fits no forecast
        (["classify", *config, "-q", "-o", "-", "--no-cache"], (False, True)),
    ]
    names = ("statsforecast", "stockplan.policy")
    ran = _commands_in_one_interpreter([argv for argv, _ in expected], names)
    for (argv, flags), (_, _, seen) in zip(expected, ran, strict=True):
        assert (seen["statsforecast"], seen["stockplan.policy"]) == flags, argv


def test_explain_and_risk_from_a_cached_plan_import_no_maths_library(
    shared_small_shop: Path,
):
    # the plan is kept beside the config: these commands read its rows, so they need
    # neither the forecasting library nor scipy (about 1.5 s of imports) nor numpy
    config = ["-c", str(shared_small_shop)]
    commands = [
        ["explain", "A-100", "-l", "WH1", *config, "--no-chart"],
        ["explain", "007", *config],  # every location, with its chart
        ["risk", *config, "-q", "-o", "-"],
    ]
    names = ("stockplan.pipeline", "statsforecast", "scipy.stats", "scipy.special", "numpy")
    ran = _commands_in_one_interpreter(commands, names)
    for argv, (stdout, stderr, seen) in zip(commands, ran, strict=True):
        assert [name for name in names if seen[name]] == [], argv
        if argv[0] == "explain":  # the plan's own row, read from the cache
            assert f"{argv[1]} @ WH1" in stdout and "safety stock" in stdout
            assert ".stockplan-cache" in stderr


def _cells(path: Path) -> dict[str, list]:
    import openpyxl

    book = openpyxl.load_workbook(path)
    return {
        sheet.title: [
            [(cell.value, cell.data_type, cell.number_format) for cell in row]
            for row in sheet.iter_rows()
        ]
        for sheet in book.worksheets
    }


def test_a_large_sheet_reads_back_exactly_as_the_per_cell_writer_writes_it(
    tmp_path: Path, monkeypatch
):
    from stockplan.io import writers

    frame = pl.DataFrame(
        {
            "sku": ["=1+1", "  lead", "a & b <c>", "bell\x07", "bad\uffffchar", None],
            "order_qty": [1.5, 2.25, None, 1e9, -3.0, 0.0],
            "service_level": [0.95, 0.5, 0.9, 0.99, None, 1.0],
            "receipts": [1, 2, 3, None, 5, 6],
            "order_date": [dt.date(2026, 1, 5), None, dt.date(1999, 12, 31)] * 2,
            "inactive": [True, False, None, True, False, True],
        }
    )
    monkeypatch.setattr(writers, "LARGE_SHEET_CELLS", 10**9)
    writers.write_files({tmp_path / "cells.xlsx": ({"excess": frame}, "xlsx")})
    monkeypatch.setattr(writers, "LARGE_SHEET_CELLS", 0)
    writers.write_files({tmp_path / "rows.xlsx": ({"excess": frame}, "xlsx")})
    per_cell, rows = _cells(tmp_path / "cells.xlsx"), _cells(tmp_path / "rows.xlsx")
    assert rows == per_cell
    sheet = rows["excess"]
    assert sheet[1][0] == ("=1+1", "s", "General")  # text stays text, never a formula
    # a control character is stored as Excel's escape, as xlsxwriter does (openpyxl keeps it)
    assert sheet[4][0][0] == "bell_x0007_"
    assert sheet[3][0][0] == "a & b <c>" and sheet[2][0][0] == "  lead"
    # U+FFFF may not stand in XML: escaped (the sheet was unreadable); a literal _xHHHH_
    # gets its underscore escaped, else Excel shows 'A' for '_x0041_' (openpyxl decodes
    # that escape in shared strings only, so the sheets' XML is compared here)
    assert sheet[5][0][0] == "bad_xFFFF_char"
    literal = pl.DataFrame({"sku": ["_x0041_"] * 3})
    monkeypatch.setattr(writers, "LARGE_SHEET_CELLS", 0)
    writers.write_files({tmp_path / "literal.xlsx": ({"excess": literal}, "xlsx")})
    with zipfile.ZipFile(tmp_path / "literal.xlsx") as book:
        xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert xml.count(">_x005F_x0041_</t>") == 3 and ">_x0041_<" not in xml


def _trend_series(as_of: dt.date):
    import numpy as np

    rng = np.random.default_rng(7)
    y = np.round(10 + 0.8 * np.arange(60) + rng.normal(0, 1.5, 60))  # a trend: ETS / Theta win
    history = pl.DataFrame(
        {
            "sku": "T",
            "location": "W",
            "period_start": [as_of - dt.timedelta(weeks=60 - i) for i in range(60)],
            "demand": y,
            "revenue": y * 10,
        }
    )
    return y, history


@pytest.mark.parametrize("name", ["AutoETS", "AutoTheta"])
def test_an_expensive_model_is_backtested_from_one_fit_and_forecast_as_measured(name, monkeypatch):
    """AutoETS is forecast from its backtest fit, states run on to the end of the history;
    AutoTheta is refitted on the whole history."""
    import numpy as np
    from statsforecast.models import AutoETS, AutoTheta

    from stockplan import forecast as forecast_module
    from stockplan.config import Classify, Forecast
    from stockplan.forecast import forecast_demand
    from stockplan.segmentation import classify_demand

    as_of = dt.date(2025, 3, 3)
    y, history = _trend_series(as_of)
    classes = classify_demand(history, as_of, "week", Classify())
    others = {"AutoETS": ["AutoTheta"], "AutoTheta": ["AutoETS"]}[name]
    real = forecast_module._candidate_models
    monkeypatch.setattr(  # the one expensive model under test against the cheap ones
        forecast_module,
        "_candidate_models",
        lambda family, season: [m for m in real(family, season) if str(m) not in others],
    )
    settings = Forecast(backtest_windows=3, combine_top=1)  # 3 windows of 4 weeks, one model
    forecast, summary = forecast_demand(history, classes, "week", settings, 6)
    assert summary["model"][0] == name
    model = {"AutoETS": lambda: AutoETS(season_length=1), "AutoTheta": lambda: AutoTheta()}[name]
    # backtest: fitted once on the weeks before the first origin (week 48), then the same
    # parameters carried forward to the origins at weeks 52 and 56
    first = model().fit(y[:48])
    predicted = [first.predict(h=4)["mean"]]
    predicted += [first.forward(y=y[:origin], h=4)["mean"] for origin in (52, 56)]
    errors = np.concatenate(predicted) - y[48:60]
    assert summary["backtest_rmse"][0] == pytest.approx(np.sqrt(np.mean(errors**2)), rel=1e-6)
    # the forecast: AutoETS carries the week-48 fit on over all 60 weeks; AutoTheta refits
    if name == "AutoETS":
        expected = first.forward(y=y, h=6)["mean"]
        assert not np.allclose(expected, model().fit(y).predict(h=6)["mean"], rtol=1e-3)
    else:
        expected = model().fit(y).predict(h=6)["mean"]
    assert forecast["forecast"].to_list() == pytest.approx(np.clip(expected, 0, None), rel=1e-6)
    weeks = [as_of - dt.timedelta(weeks=60 - i) for i in range(60, 66)]
    assert forecast["period_start"].to_list() == weeks


def test_only_fits_worth_a_process_start_go_parallel():
    from statsforecast.models import AutoETS, HistoricAverage

    from stockplan.config import Forecast
    from stockplan.forecast import worker_processes

    every_core = Forecast(n_jobs=-1)
    assert worker_processes(every_core, [AutoETS()], 155) == -1  # the sample's class A
    assert worker_processes(every_core, [AutoETS()], 10) == 1
    assert worker_processes(every_core, [HistoricAverage()], 500) == 1  # cheap: ~0.2 s of work
    assert worker_processes(every_core, [HistoricAverage()], 30_000) == -1
    assert worker_processes(Forecast(n_jobs=1), [AutoETS()], 30_000) == 1


def test_a_location_only_an_order_knows_is_refused_one_the_sales_know_is_not(small_shop: Path):
    from stockplan.config import load_config
    from stockplan.errors import StockplanError
    from stockplan.io.prepare import prepare_inputs
    from stockplan.io.readers import load_inputs

    folder = small_shop.parent
    stock = pl.read_csv(folder / "stock.csv")
    stock.filter(pl.col("location") == "WH1").write_csv(folder / "stock.csv")  # WH2: sales only
    orders = pl.read_csv(folder / "purchase_orders.csv")
    orders.with_columns(location=pl.Series(["WH2", "WH1"])).write_csv(
        folder / "purchase_orders.csv"
    )
    config = load_config(small_shop)
    prepared = prepare_inputs(load_inputs(config), config)
    assert sorted(prepared.tables["purchase_orders"]["location"].to_list()) == ["WH1", "WH2"]

    orders.with_columns(location=pl.Series(["WH1", "WH9"])).write_csv(
        folder / "purchase_orders.csv"
    )
    with pytest.raises(StockplanError) as error:
        prepare_inputs(load_inputs(config), config)
    assert "purchase_orders.csv, row 3, column 'location': 'WH9' is in neither" in str(error.value)


def _last_line_of(code: str, shop: Path) -> str:
    """The last line `code` prints in a fresh interpreter, with {config} the shop's config
    and {out} a workbook beside it."""
    source = code.format(config=str(shop), out=str(shop.parent / "p.xlsx"))
    out = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_a_local_plan_skips_the_imports_it_never_uses_and_a_deferred_module_still_works(
    small_shop: Path,
):
    code = (
        "import sys; from stockplan.cli import main\n"
        "sys.argv = ['stockplan', 'plan', '-c', {config!r}, '-o', {out!r}, '-q', '--no-cache']\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "skipped = ['dask.dataframe' in sys.modules, 'statsmodels.discrete' in sys.modules]\n"
        "import statsforecast.arima\n"
        "import statsmodels.api as sm\n"
        "from statsmodels.regression.linear_model import OLS\n"
        "fit = statsforecast.arima.sm.OLS([1.0, 3.0], sm.add_constant([0.0, 1.0])).fit()\n"
        "print(skipped, statsforecast.arima.sm.OLS is OLS, fit.params.round(6).tolist())"
    )
    last_line = _last_line_of(code, small_shop)
    # y = 1 + 2 x through both points: intercept 1, slope 2
    assert last_line == "[False, False] True [1.0, 2.0]"
    assert (small_shop.parent / "p.xlsx").exists()


@pytest.mark.parametrize(
    ("preset", "expected"),
    [(None, "dirty_decay_ms:100,muzzy_decay_ms:0"), ("narenas:1", "narenas:1")],
)
def test_importing_stockplan_sets_polars_allocator_decay_unless_the_user_did(preset, expected):
    # the setting must be in the environment before polars loads its jemalloc; a value
    # the user set is kept as it is
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    if preset is not None:
        env["_RJEM_MALLOC_CONF"] = preset
    code = (
        "import sys, os, stockplan; "
        "assert 'polars' not in sys.modules; "
        "print(os.environ['_RJEM_MALLOC_CONF'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == expected


def test_the_command_line_keeps_the_garbage_collector_off_its_imports_and_the_api_does_not(
    small_shop: Path,
):
    # the API's process lives on: nothing frozen. The command's process ends after it:
    # the modules its import thread loaded are frozen (tens of thousands of objects), the
    # collector is on again afterwards, and the console entry freezes the rest on its way
    # out (so the interpreter's last collection walks nothing)
    # (the API's plan starts the import thread as `preload.start(local=True)` does here)
    code = (
        "import gc, sys\n"
        "from stockplan import preload\n"
        "from stockplan.cli import app, main\n"
        "preload.start(local=True); preload.statsforecast()\n"
        "api = (gc.isenabled(), gc.get_freeze_count())\n"
        "preload._thread.clear(); del sys.modules['statsforecast.models']\n"
        "app(['plan', '-c', {config!r}, '-o', {out!r}, '-q', '--no-cache'],"
        " standalone_mode=False)\n"
        "cli = (gc.isenabled(), gc.get_freeze_count())\n"
        "sys.argv = ['stockplan', '--version']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(api, cli[0], cli[1] > 20000, gc.get_freeze_count() >= cli[1], gc.isenabled())"
    )
    last_line = _last_line_of(code, small_shop)
    assert last_line == "(True, 0) True True True True"


def test_the_commands_annotations_are_evaluated_once_and_each_build_parses_the_same():
    import inspect

    import typer.main

    from stockplan.cli.options import check_output, expand_home

    for info in app.registered_commands:
        annotations = inspect.unwrap(info.callback).__annotations__.values()
        assert not [a for a in annotations if isinstance(a, str)], info.callback.__name__
    assert not [a for a in expand_home.__annotations__.values() if isinstance(a, str)]
    assert not [a for a in check_output.__annotations__.values() if isinstance(a, str)]
    first, second = typer.main.get_command(app), typer.main.get_command(app)
    plan_params = [
        (p.name, p.opts, p.default, str(p.type_descriptor.annotation))
        for p in first.commands["plan"].params
    ]
    assert plan_params == [
        (p.name, p.opts, p.default, str(p.type_descriptor.annotation))
        for p in second.commands["plan"].params
    ]
    assert ("output", ["--output", "-o"]) in [(n, o) for n, o, _, _ in plan_params]
    bad = runner.invoke(app, ["plan", "-o", "plan.txt"])
    assert bad.exit_code == 2 and "unknown output type '.txt'" in bad.output


def _help_in_a_process(argv: list[str]) -> tuple[str, list[str], list[str], str]:
    """`stockplan ARGV` by the console entry point in a fresh interpreter: (its stdout, the
    functions typer read options from, which of stockplan.preload and pydantic it
    imported, the stdout of the same arguments run by `app()`, which builds every command
    first)."""
    end = "--- the command ended; read:"
    names = ["stockplan.preload", "pydantic"]
    code = (
        "import sys, typer.main\n"
        "read = []\n"
        "def params(function, _params=typer.main.get_params_from_function):\n"
        "    read.append(function.__name__)\n"
        "    return _params(function)\n"
        "typer.main.get_params_from_function = params\n"
        "from stockplan.cli import app, main\n"
        "for run in (main, app):\n"
        f"    sys.argv = ['stockplan', *{argv!r}]\n"
        "    try:\n        run()\n    except SystemExit as exc:\n        assert not exc.code\n"
        f"    imported = [name for name in {names!r} if name in sys.modules]\n"
        f"    print({end!r}, sorted(set(read)), imported)\n"
    )
    env = {**os.environ, "COLUMNS": "80"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    text, after, _ = out.stdout.split(end)
    flags, _, full = after.partition("\n")
    read, imported = ast.literal_eval(flags.strip().replace("] [", "], ["))
    return text, read, imported, full


def test_help_builds_only_the_command_it_shows_and_reads_the_same_as_the_full_build():
    # typer reads each command's options from its signature when it builds the command
    # (about 2 ms a command); the list of commands needs their names and help alone; and
    # the options not given convert no value, so pydantic (0.1-0.15 s) is not imported
    group = ["_version", "install_callback", "main_options", "show_callback"]
    top, read, imported, full = _help_in_a_process(["--help"])
    assert read == group and imported == []
    assert top == full
    assert "  explain       Show the numbers behind one SKU's order: position,...\n" in top
    one, read, imported, full = _help_in_a_process(["validate", "--help"])
    assert read == sorted([*group, "expand_home", "validate"]) and imported == []
    assert one == full
    assert "Usage: stockplan validate [OPTIONS]" in one and "--config" in one


def test_an_option_given_is_still_converted_and_checked_by_the_command_line():
    code = (
        "import sys\nfrom stockplan.cli import main\n"
        "sys.argv = ['stockplan', 'risk', '--limit', 'abc', '--lang', 'zh']\nmain()"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.endswith("错误：'--limit' 的值无效：应为整数\n"), out.stderr


def test_the_series_date_key_sorts_as_the_two_columns_do_before_1970_and_on_large_keys():
    from stockplan.demand import series_date_order

    days = [dt.date(2024, 1, 1), dt.date(1900, 1, 1), dt.date(1960, 5, 5), dt.date(2200, 1, 1)]
    frame = pl.DataFrame(
        {
            "series_id": pl.Series([3, 0, 3, 1, 0, 2**31 - 1, 0, 2], dtype=pl.UInt32),
            "date": [*days, dt.date(2024, 1, 2), dt.date(1, 1, 1), dt.date(9999, 12, 31), days[0]],
        }
    )
    ordered = frame.sort(series_date_order())
    assert ordered.equals(frame.sort("series_id", "date"))
    assert ordered.row(0) == (0, dt.date(1900, 1, 1))
    assert ordered.row(-1) == (2**31 - 1, dt.date(1, 1, 1))


def test_the_plain_casts_of_a_tables_number_columns_in_one_pass_equal_each_columns_own():
    from stockplan.io.columns import plain_numbers, plain_numbers_of

    frame = pl.DataFrame(
        {
            "qty": ["3", "1,234.5", None, "¥8", " 2", "x"],
            "price": ["13.95", "12,5", "", "7", None, "1e3"],
        }
    )
    both = plain_numbers_of(frame, ["qty", "price"])
    assert list(both) == ["qty", "price"]
    for column in ("qty", "price"):
        plain, redo = both[column]
        alone_plain, alone_redo = plain_numbers(frame[column])
        assert plain.to_list() == alone_plain.to_list()
        assert redo.to_list() == alone_redo.to_list()
    plain, redo = both["qty"]
    assert plain.to_list() == [3.0, None, None, None, None, None]
    assert redo.to_list() == [False, True, False, True, True, True]
    assert parse_numbers(frame["qty"], cast=both["qty"]).to_list()[:2] == [3.0, 1234.5]
