"""stockplan command line: parse options, call the Python API (`stockplan.api`), write.

What is shown and how (messages, progress, tables to a terminal, stdout or files) is in
`stockplan.cli.display`, the options shared by the commands in `stockplan.cli.options`; the
commands here hold no planning logic.

Heavy modules (polars, statsforecast, scipy) are imported inside the commands so that
`stockplan --help` answers at once. Exit codes: 0 ok, 1 user error, 2 usage error,
3 `--fail-on-risk` threshold reached, 4 internal error (a bug: please report it),
5 the plan was written but a `--notify` message could not be sent, 6 `verify`: not
reproduced, 7 `verify`: every number matches but a database input cannot be proven unchanged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import inspect
import os
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from stockplan import __version__
from stockplan.cli.display import (
    Console,
    Headers,
    Lang,
    OutputFormat,
    StageProgress,
    View,
    emit,
    guarded,
    lang_now,
    message,
    set_lang,
    shell_word,
    stage_progress,
)
from stockplan.cli.options import (
    NEWS_LEVELS,
    TABLES,
    AsOfOption,
    Baseline,
    BomOption,
    ColumnsOption,
    ConfigOption,
    DebugOption,
    ExcelOption,
    FormatOption,
    HeadersOption,
    LangOption,
    LimitOption,
    NoCacheNeverCachedOption,
    NoCacheOption,
    NotifyOption,
    OutputOption,
    PreviousOption,
    QuietOption,
    RiskLevel,
    RiskOption,
    SortOption,
    SupplierForecastOption,
    TableName,
    check_news,
    check_plot,
    check_report,
    check_target,
    expand_home,
)
from stockplan.cli.usage import StockplanGroup, command_group
from stockplan.errors import StockplanError, safe_text

if TYPE_CHECKING:
    import polars as pl

    from stockplan.config import Config

EXIT_RISK = 3
EXIT_NOTIFY = 5
EXIT_NOT_REPRODUCED = 6
EXIT_UNPROVABLE = 7

app = typer.Typer(
    cls=StockplanGroup,  # usage errors in the user's language
    name="stockplan",
    help="Replenishment planner: what to buy, from whom, how much, and what will run out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    rich_markup_mode=None,  # plain click help: rendering it with rich costs ~0.1 s
)


def _read_config(config_path: Path) -> Config:
    """The config; it and every input file it names become files no output may replace."""
    from stockplan.config import load_config
    from stockplan.io.writers import add_config_inputs

    config = load_config(config_path)
    add_config_inputs(config_path, config)
    return config


def _previous_risk(previous: Path | None) -> tuple[pl.DataFrame | None, str | None]:
    """(risk table, planning date) of the `--previous` plan (`check_news` comes first)."""
    if previous is None:
        return None, None
    from stockplan.io.planfiles import previous_risk

    return previous_risk(previous)


def _check_previous_codes(
    previous_risk: pl.DataFrame | None, risk: pl.DataFrame, previous: Path | None
) -> None:
    """A `--previous` plan whose SKU codes a spreadsheet re-spelled (`7` for this run's
    `007`) is refused before anything is written: each such item would be news."""
    if previous_risk is None or previous is None:
        return
    from stockplan.i18n import both
    from stockplan.io.planfiles import same_code_spelling

    this_run = both("reading.this_run_risk")
    same_code_spelling((previous_risk, risk), (previous, this_run), lost_in_first=True)


def _plan_location(output: str | None) -> str:
    """Where the plan went, for the alert: an absolute path, or stdout / the terminal."""
    if output is None:
        return "terminal" if sys.stdout.isatty() else "standard output"
    return "standard output" if output == "-" else str(Path(output).resolve())


def _notify(
    channels: list[str] | None,
    cfg: Config,
    result: Any,
    tables: dict[str, pl.DataFrame],
    output: str | None,
    console: Console,
    previous: tuple[pl.DataFrame | None, str | None] = (None, None),
) -> int:
    """Send the alert to each `--notify` channel after the plan is written; 5 on a failure."""
    if not channels:
        return 0
    from stockplan.notify import build_alert, send

    # every order row, also the ones not shown without --all (cut to 0 by the budget or
    # deferred): the alert says why an item at high risk gets no order
    orders = result.plan_rows if result.plan_rows is not None else result.tables.get("orders")
    alert = build_alert(
        result.tables["risk"],
        orders,
        tables.get("products"),
        result.as_of,
        _plan_location(output),
        cfg.notify.top,
        cfg.notify.language or cfg.planning.language,
        previous=previous[0],
        previous_as_of=previous[1],
    )
    if alert.high_risk == 0 and not cfg.notify.always:
        console.say("notify.none_new" if previous[0] is not None else "notify.none")
        return 0
    failed = 0
    for name in dict.fromkeys(channels):
        try:
            send(cfg.notify, name, alert)
            console.say("notify.sent", name=name)
        except StockplanError as exc:  # one line; the plan is already written
            from stockplan.i18n import error_text

            lang = lang_now()
            sys.stderr.write(f"stockplan: {message('error', lang)}: {error_text(exc, lang)}\n")
            failed += 1
    return EXIT_NOTIFY if failed else 0


# tables made from one optional input alone: without it in the config there is no table
_NEEDED_INPUT = {
    "notices": "customer_orders",
    "suppliers": "purchase_orders",
    "overrides": "overrides",
}


def _check_needed_input(config: Config, table: str, lang: str) -> None:
    """A table made from an optional input the config does not name is refused in one
    line, before any input is read."""
    needed = _NEEDED_INPUT.get(table)
    if needed is None or getattr(config.inputs, needed, None) is not None:
        return
    if table == "overrides":
        raise StockplanError(message("no_overrides", lang))
    raise _no_table(table, lang)


def _no_table(table: str, lang: str) -> StockplanError:
    """The table needs an input the config does not name: the one line that says which."""
    from stockplan.i18n import TABLES

    name = TABLES.get(table, {}).get(lang, table)
    input_key = _NEEDED_INPUT.get(table, "customer_orders")
    return StockplanError(message("no_table", lang, table=name, input=input_key))


def _load(
    config_path: Path,
    console: Console,
    view: View | None = None,
    table: str | None = None,
    forecasts: bool = False,
) -> tuple[Config, dict[str, pl.DataFrame]]:
    """Config and every input table; a `table` that needs an input the config does not
    name is refused first. `forecasts`: the command forecasts in this process, whose
    forecasting imports then overlap reading the inputs (`preload.start`, as `plan`)."""
    view = view or View()
    config = view.configure(_read_config(config_path))
    if table is not None:
        _check_needed_input(config, table, view.lang)
    if forecasts:
        from stockplan import preload

        preload.start(local=True, freeze=True)
    tables, warnings = _read_inputs(config)
    _loaded(console, tables, warnings)
    return config, tables


def _read_inputs(
    config: Config, for_plan: bool = False
) -> tuple[dict[str, pl.DataFrame], list[str]]:
    """Every input table, prepared, and the warnings about them (`for_plan`: a sales
    dataset is left to a cluster engine's tasks, `api.read_inputs`)."""
    from stockplan.api import read_inputs

    inputs = read_inputs(config, for_plan=for_plan)
    return inputs.tables, inputs.warnings


def _say_notes(console: Console, notes: list[str], lang: str, currency: str | None = None) -> None:
    """The plan's notes for the buyer, in `lang` (amounts in `currency`)."""
    from stockplan.i18n import render_note

    for note in notes:
        console.info(render_note(note, lang, currency))


def _options(view: View, all_rows: bool, table: str) -> dict[str, object]:
    """The command-line options a run record keeps (what `verify` and `diff` read back);
    `columns` only when --columns trimmed the table, for `verify` to trim its re-run alike."""
    options: dict[str, object] = {
        "all": all_rows,
        "table": table,
        "lang": view.lang,
        "headers": view.headers.value,
    }
    if view.columns:
        options["columns"] = list(view.columns)
    return options


def _recorded(kind: type[Lang] | type[Headers], value: object, default=None):
    """A run record's option as `kind` (its enum), `default` when absent or unknown."""
    return kind(value) if value in tuple(kind) else default


def _loaded(console: Console, tables: dict[str, pl.DataFrame], warnings: list[str]) -> None:
    for warning in warnings:
        console.warn(warning)
    from stockplan.config import TABLES
    from stockplan.i18n import input_name

    lang = lang_now()
    # the input tables, not the rows a cluster's tasks check later (`io.prepare`)
    read = {name: frame for name, frame in tables.items() if name in TABLES}
    counts = (
        "，".join(f"{input_name(name, lang)}{f.height:,} 行" for name, f in read.items())
        if lang == "zh"
        else ", ".join(f"{input_name(name, lang)} {frame.height:,}" for name, frame in read.items())
    )
    console.say("loaded", counts=counts)


def _planned(
    config_path: Path,
    console: Console,
    view: View,
    use_cache: bool,
    notify: list[str] | None = None,
    table: str | None = None,
) -> tuple[Config, dict[str, pl.DataFrame], Any]:
    """Config, inputs and the whole plan (every row, as `--all`), from the cache when the
    inputs, config and version are unchanged (stockplan.cache); else computed and kept.
    A `table` that needs an input the config does not name is refused first."""
    from stockplan import cache

    config = view.configure(_read_config(config_path))
    if table is not None:
        _check_needed_input(config, table, view.lang)
    if notify:
        from stockplan.notify import check_channels

        check_channels(config.notify, notify)
    key = cache.cache_key(config) if use_cache else None
    folder = cache.cache_folder(config_path)
    hit = cache.load(folder, key, config.planning.language) if key else None
    if hit is not None:
        tables, warnings, result, extra = hit
        _loaded(console, tables, warnings)
        console.say("cache.reused", folder=folder)
        result.tables["orders_shown"] = extra["orders_shown"]
        return config, tables, result
    from stockplan import preload
    from stockplan.api import Inputs, plan
    from stockplan.io.parts import parts_written

    # imports overlap reading the inputs; the command's process ends after it: freeze them
    preload.start(config.forecast.engine == "local", freeze=True)
    tables, warnings = _read_inputs(config, for_plan=True)
    _loaded(console, tables, warnings)
    # a plan cache miss can still reuse the forecast when only stock, orders, suppliers or
    # policy changed (`cache.ForecastCache`, keyed on the demand history it forecasts)
    reuse = cache.ForecastCache(folder) if key else None
    result = plan(Inputs(tables, warnings), config, progress=stage_progress(console), reuse=reuse)
    StageProgress.close_all()
    if reuse is not None and reuse.reused:
        console.say("cache.forecast_reused", folder=folder)
    shown = result.order_lines
    if key and not parts_written():  # a plan without its forecast rows is not kept
        failed = cache.store(
            folder, key, tables, warnings, result, {"orders_shown": shown}, config.planning.language
        )
        if failed is not None:  # each run would take the full time again, unsaid
            problem = failed.strerror or str(failed)
            console.warn(message("cache.not_kept", lang_now(), folder=folder, problem=problem))
    result.tables["orders_shown"] = shown
    return config, tables, result


def _known_columns(table: str) -> list[str] | None:
    from stockplan.tables import known_columns

    return known_columns(table)


def _run_info(config_path: Path, config: Config, as_of: dt.date) -> dict[str, Any]:
    from stockplan.io.runrecord import run_info

    return run_info(config_path, config, as_of)


def _recorder(
    config_path: Path, cfg: Config, as_of: Any, command: str, options: dict
) -> Callable[[], dict]:
    """The run record, built only when files are written (it reads every input to hash it)."""

    def build() -> dict:
        from stockplan.io.runrecord import run_record

        return run_record(config_path, cfg, as_of, command, options)

    return build


def _version(value: bool) -> None:
    if value:
        typer.echo(f"stockplan {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Replenishment planner: what to buy, from whom, how much, and what will run out.

    Typical weekly run:  stockplan plan -c stockplan.yaml -o plan.xlsx
    """


def _supplier_forecast_files(
    result: Any, cfg: Config, tables: dict[str, pl.DataFrame], folder: Path
) -> dict | None:
    """Project each supplier's orders (stockplan.supplier_forecast): the workbooks to write,
    checked against the inputs before the plan itself is written; None when none."""
    from stockplan.api import supplier_forecast
    from stockplan.io.supplier_workbooks import supplier_workbooks
    from stockplan.io.writers import check_not_inputs
    from stockplan.supplier_projection import supplier_summary

    projection = supplier_forecast(result, cfg)
    if projection.height == 0:
        return None
    from stockplan.items import item_names

    files = supplier_workbooks(
        projection, supplier_summary(projection), folder, result.as_of, item_names(tables)
    )
    check_not_inputs(files)
    return files


def _write_supplier_forecast(
    files: dict | None, cfg: Config, folder: Path, console: Console, written: bool
) -> None:
    """Write the supplier workbooks (`_supplier_forecast_files`) unless they were `written`
    with the plan's files."""
    from stockplan.io.writers import write_files

    if files is None:
        console.say("supplier_forecast.none")
        return
    if not written:
        folder.mkdir(exist_ok=True)
        write_files(files, lang=cfg.planning.language)  # in the buyer's language
    console.say("supplier_forecast.wrote", count=len(files), folder=folder)


def _check_output_writable(output: str | Path | None, *, file: bool = False) -> None:
    """Refuse, before any work, an output that cannot be written: a folder named like a
    file, a file (`file`, or a table suffix) whose folder does not exist or that is a
    folder, a folder that takes no new file. A folder output still to be made is made
    when written."""
    from stockplan.io.writers import (
        SUFFIX_FORMAT,
        check_file_target,
        check_not_folder,
        check_writable,
    )

    if output is not None and output != "-":
        path = Path(output)
        check_not_folder(path)
        if file or path.suffix.lower() in SUFFIX_FORMAT:
            check_file_target(path)
        check_writable(path)


def _view_options(
    lang: Lang | None,
    as_of: dt.datetime | None,
    limit: int = 20,
    sort: str | None = None,
    columns: str | None = None,
    headers: Headers = Headers.language,
) -> View:
    return View(lang, limit, sort, columns, headers, as_of)


@app.command()
@guarded
def plan(
    config: ConfigOption = Path("stockplan.yaml"),
    output: OutputOption = None,
    format: FormatOption = None,
    table: Annotated[
        TableName,
        typer.Option(
            "--table",
            "-t",
            help="Table for one-file output, stdout or the terminal (notices needs "
            "inputs.customer_orders, suppliers inputs.purchase_orders).",
        ),
    ] = TableName.orders,
    all_rows: Annotated[
        bool, typer.Option("--all", help="Include sku x location rows with nothing to order.")
    ] = False,
    fail_on_risk: RiskOption = None,
    previous: PreviousOption = None,
    lang: LangOption = None,
    as_of: AsOfOption = None,
    limit: LimitOption = 20,
    sort: SortOption = None,
    columns: ColumnsOption = None,
    headers: HeadersOption = Headers.language,
    quiet: QuietOption = False,
    bom: BomOption = None,
    csv_for_excel: ExcelOption = None,
    debug: DebugOption = False,
    notify: NotifyOption = None,
    supplier_forecast: SupplierForecastOption = None,
    no_cache: NoCacheOption = False,
) -> int:
    """Write purchase suggestions (orders) and stockout risk for every sku x location."""
    name = table.value
    view = _view_options(lang, as_of, limit, sort, columns, headers)
    check_target(output, format, view.columns, several=True)
    check_news(fail_on_risk, previous)
    view.check_columns(_known_columns(name) if view.sort or view.columns else None)

    from stockplan.i18n import currency_word
    from stockplan.items import for_people, item_names

    console = Console(quiet)
    _check_output_writable(output)
    if supplier_forecast is not None:
        from stockplan.io.supplier_workbooks import check_supplier_folder

        check_supplier_folder(supplier_forecast)
    earlier = _previous_risk(previous)
    from stockplan.io.parts import offering, parts_target

    # a cluster plan may write its per-series tables as part files (io.parquet_parts);
    # the risk alerts, --supplier-forecast and the forecast table need them on the driver
    needs_rows = supplier_forecast or name == "forecast" or notify or fail_on_risk or previous
    parts = None if needs_rows else parts_target(output, format, all_rows)
    # -t picks the table of one-file output, stdout or the terminal; a workbook or a
    # folder holds every table, so a table without its input is no reason to refuse
    one_table = output in (None, "-") or Path(str(output)).suffix.lower() in (
        ".csv",
        ".json",
        ".parquet",
    )
    with offering(parts):
        cfg, tables, result = _planned(
            config, console, view, not no_cache, notify, name if one_table else None
        )
    if parts is not None and parts.used:
        from stockplan.io.parts import PART_TABLES

        for written in (*PART_TABLES, "orders_shown"):
            result.tables.pop(written, None)
    result.tables = result.output_tables(all_rows) if "orders" in result.tables else result.tables
    if name == "expiry_risk" and name not in result.tables:
        raise StockplanError(message("no_expiry", view.lang))
    if name not in result.tables and not (parts is not None and parts.used):
        raise _no_table(name, view.lang)
    _say_notes(console, result.notes, view.lang, cfg.planning.currency)
    if result.totals is not None:  # the order lines and risk rows are part files
        lines, value, high = (result.totals[k] for k in ("lines", "value", "high"))
        missing = result.totals.get("missing_cost", 0)  # lines without a unit cost
        risk = None  # not offered with --fail-on-risk: no alert reads it
    else:
        orders, risk = result.tables["orders"], result.tables["risk"]
        buying = orders.filter(orders["order_qty"] > 0)
        lines, value = buying.height, buying["order_value"].sum()
        missing = buying["order_value"].null_count()
        high = risk.filter(risk["risk_level"] == "high").height
        _check_previous_codes(earlier[0], risk, previous)
    uncosted = "plan_summary_no_cost" if missing == lines else "plan_summary_missing_cost"
    console.say(  # a value without any cost is missing, never 0
        uncosted if missing else "plan_summary",
        as_of=result.as_of,
        lines=lines,
        value=f"{value:,.2f}",
        currency=currency_word(cfg.planning.currency, view.lang),
        high=high,
        missing=missing,
    )
    supplier_files = (
        _supplier_forecast_files(result, cfg, tables, supplier_forecast)
        if supplier_forecast is not None
        else None
    )
    folders = parts.staged_folders() if parts is not None else {}
    if folders:  # the part-file tables replace whole folders, in the plan's own write
        from stockplan.io.writers import check_folders_not_inputs

        check_folders_not_inputs(folders)
    # the supplier workbooks go in the same all-or-nothing write as the plan's files
    made = supplier_files is not None and not supplier_forecast.exists()
    if made:
        supplier_forecast.mkdir()
    try:
        to_files = emit(
            for_people(result.tables, item_names(tables), result.as_of),
            name if name in result.tables else "supplier_orders",
            output,
            format,
            bom,
            console,
            message(f"title.{name}", view.lang, as_of=result.as_of),
            view,
            _run_info(config, cfg, result.as_of),
            cfg.io.csv_escape_formulas,
            record=_recorder(
                config,
                cfg,
                result.as_of,
                "plan",
                _options(view, all_rows, name),
            ),
            for_excel=csv_for_excel,
            for_excel_files=cfg.io.csv_for_excel,
            also=None if supplier_files is None else (supplier_files, cfg.planning.language),
            plan_tables=TABLES,
            folders=folders,
        )
    except BaseException:
        if made:  # nothing was written into it
            with contextlib.suppress(OSError):
                supplier_forecast.rmdir()
        raise
    if parts is not None:
        parts.discard()  # the staging folder, emptied by the write
    if supplier_forecast is not None:
        _write_supplier_forecast(supplier_files, cfg, supplier_forecast, console, to_files)
    code = _risk_exit(risk, fail_on_risk, console, earlier[0])
    return _notify(notify, cfg, result, tables, output, console, earlier) or code


def _risk_exit(
    risk: pl.DataFrame,
    level: RiskLevel | None,
    console: Console,
    previous: pl.DataFrame | None = None,
) -> int:
    if level is None:
        return 0
    if level in NEWS_LEVELS and previous is not None:
        from stockplan.diff import risk_news

        news = risk_news(risk, previous, NEWS_LEVELS[level])
        if news.height:
            key = "risk.news_high" if level == RiskLevel.new_high else "risk.news_higher"
            console.say(key, count=news.height, code=EXIT_RISK)
            return EXIT_RISK
        return 0
    levels = ["high"] if level == RiskLevel.high else ["high", "medium"]
    hits = risk.filter(risk["risk_level"].is_in(levels)).height
    if hits:
        from stockplan.i18n import value

        console.say(
            "risk_exit",
            hits=hits,
            level=value("risk_level", level.value, lang_now()),
            code=EXIT_RISK,
        )
        return EXIT_RISK
    return 0


def _single_table_command(
    name: str,
    config: Path,
    output: str | None,
    format: OutputFormat | None,
    quiet: bool,
    bom: bool | None,
    debug: bool,
    view: View,
    extra: Callable[[Any, Console, pl.DataFrame | None], int] | None = None,
    notify: list[str] | None = None,
    previous: Path | None = None,
    fail_on_risk: RiskLevel | None = None,
    no_cache: bool = False,
    for_excel: bool | None = None,
) -> int:
    check_target(output, format, view.columns)
    check_news(fail_on_risk, previous)
    view.check_columns(_known_columns(name) if view.sort or view.columns else None)

    from stockplan.items import for_people, item_names

    console = Console(quiet)
    _check_output_writable(output)
    earlier = _previous_risk(previous)
    if name in _LEAN_TABLES:
        cfg, tables, frame, as_of = _LEAN_TABLES[name](config, console, view, not no_cache)
        result = None
    else:
        cfg, tables, result = _planned(config, console, view, not no_cache, notify, name)
        result.tables = result.output_tables(all_rows=True)
        _say_notes(console, result.notes, view.lang, cfg.planning.currency)
        if name == "expiry_risk" and name not in result.tables:
            raise StockplanError(message("no_expiry", view.lang))
        if name not in result.tables:
            raise _no_table(name, view.lang)
        frame, as_of = result.tables[name], result.as_of
    if name == "risk":
        _check_previous_codes(earlier[0], frame, previous)
    shown = for_people({name: frame}, item_names(tables), as_of)
    emit(
        shown,
        name,
        output,
        format,
        bom,
        console,
        message(f"title.{name}", view.lang, as_of=as_of),
        view,
        _run_info(config, cfg, as_of),
        cfg.io.csv_escape_formulas,
        record=_recorder(config, cfg, as_of, name, _options(view, True, name)),
        for_excel=for_excel,
        for_excel_files=cfg.io.csv_for_excel,
    )
    code = extra(frame, console, earlier[0]) if extra else 0
    if result is None:
        return code
    return _notify(notify, cfg, result, tables, output, console, earlier) or code


@app.command()
@guarded
def risk(
    config: ConfigOption = Path("stockplan.yaml"),
    output: OutputOption = None,
    format: FormatOption = None,
    fail_on_risk: RiskOption = None,
    previous: PreviousOption = None,
    lang: LangOption = None,
    as_of: AsOfOption = None,
    limit: LimitOption = 20,
    sort: SortOption = None,
    columns: ColumnsOption = None,
    headers: HeadersOption = Headers.language,
    quiet: QuietOption = False,
    bom: BomOption = None,
    csv_for_excel: ExcelOption = None,
    debug: DebugOption = False,
    notify: NotifyOption = None,
    no_cache: NoCacheOption = False,
) -> int:
    """Stockout risk for every sku x location, most urgent first."""
    return _single_table_command(
        "risk",
        config,
        output,
        format,
        quiet,
        bom,
        debug,
        _view_options(lang, as_of, limit, sort, columns, headers),
        extra=lambda frame, console, earlier: _risk_exit(frame, fail_on_risk, console, earlier),
        notify=notify,
        previous=previous,
        fail_on_risk=fail_on_risk,
        no_cache=no_cache,
        for_excel=csv_for_excel,
    )


def _classes_only(
    config_path: Path, console: Console, view: View, use_cache: bool
) -> tuple[Config, dict[str, pl.DataFrame], pl.DataFrame, dt.date]:
    """`classify`: the plan's classes from the cache, else demand history and classes
    alone (no forecast, no policy)."""
    from stockplan import cache
    from stockplan.api import Inputs, classify, planning_date

    config = view.configure(_read_config(config_path))
    key = cache.cache_key(config) if use_cache else None
    hit = cache.load(cache.cache_folder(config_path), key) if key else None
    if hit is not None:
        tables, warnings, result, _ = hit
        _loaded(console, tables, warnings)
        return config, tables, result.tables["classes"], result.as_of
    tables, warnings = _read_inputs(config)
    _loaded(console, tables, warnings)
    inputs = Inputs(tables, warnings)
    return config, tables, classify(inputs, config), planning_date(inputs, config)


def _suppliers_only(
    config_path: Path, console: Console, view: View, use_cache: bool
) -> tuple[Config, dict[str, pl.DataFrame], pl.DataFrame, dt.date]:
    """`suppliers`: the scorecard from the purchase-order file (and, for lines without a
    supplier, the products file's suppliers); nothing else is read."""
    from stockplan.api import planning_date, read_purchase_orders, suppliers

    config = view.configure(_read_config(config_path))
    _check_needed_input(config, "suppliers", view.lang)
    inputs = read_purchase_orders(config)
    _loaded(console, inputs.tables, inputs.warnings)
    return config, inputs.tables, suppliers(inputs, config), planning_date(inputs, config)


_LEAN_TABLES: dict[str, Callable[..., Any]] = {
    "classes": _classes_only,
    "suppliers": _suppliers_only,
}


def _table_command(name: str, table: str, doc: str) -> None:
    """Register a command that runs the plan and writes one of its tables (`suppliers`
    reads the purchase orders alone: its `--no-cache` says it never caches)."""

    @guarded
    def command(
        config: ConfigOption = Path("stockplan.yaml"),
        output: OutputOption = None,
        format: FormatOption = None,
        lang: LangOption = None,
        as_of: AsOfOption = None,
        limit: LimitOption = 20,
        sort: SortOption = None,
        columns: ColumnsOption = None,
        headers: HeadersOption = Headers.language,
        quiet: QuietOption = False,
        bom: BomOption = None,
        csv_for_excel: ExcelOption = None,
        debug: DebugOption = False,
        no_cache: NoCacheOption = False,
    ) -> int:
        return _single_table_command(
            table,
            config,
            output,
            format,
            quiet,
            bom,
            debug,
            _view_options(lang, as_of, limit, sort, columns, headers),
            no_cache=no_cache,
            for_excel=csv_for_excel,
        )

    command.__doc__ = doc
    if name == "suppliers":
        command.__annotations__["no_cache"] = NoCacheNeverCachedOption
    app.command(name=name)(command)


_table_command(
    "forecast",
    "forecast",
    "Demand forecast per sku x location and future bucket, with interval and model.",
)
_table_command(
    "classify",
    "classes",
    "ABC / XYZ class and demand pattern (smooth, erratic, intermittent, lumpy, new, dead).",
)
_table_command(
    "notices",
    "notices",
    "Open customer orders that stock on hand cannot fill today, with the expected ship date "
    "and a message for the customer (needs inputs.customer_orders).",
)
_table_command(
    "suppliers",
    "suppliers",
    "Supplier scorecard from purchase-order history: lead time, on-time rate, fill (needs "
    "inputs.purchase_orders).",
)
_table_command(
    "large-orders",
    "large_orders",
    "Order lines far above the item's usual line (policy.large_order_factor x its median) "
    "and whether the stock target covers them or sets them aside as make-to-order.",
)


_table_command(
    "expiry",
    "expiry_risk",
    "Stock lots that will pass their sell-by point unsold at the forecast rate, soonest "
    "first (needs stock.expiry_date).",
)


@app.command()
@guarded
def overrides(
    config: ConfigOption = Path("stockplan.yaml"),
    output: OutputOption = None,
    format: FormatOption = None,
    lang: LangOption = None,
    as_of: AsOfOption = None,
    limit: LimitOption = 20,
    sort: SortOption = None,
    columns: ColumnsOption = None,
    headers: HeadersOption = Headers.language,
    quiet: QuietOption = False,
    bom: BomOption = None,
    csv_for_excel: ExcelOption = None,
    debug: DebugOption = False,
) -> int:
    """Score every past forecast override against the statistical forecast on what actually
    sold (forecast value added)."""
    view = _view_options(lang, as_of, limit, sort, columns, headers)
    check_target(output, format, view.columns)
    view.check_columns(_known_columns("overrides") if view.sort or view.columns else None)

    from stockplan.api import Inputs, planning_date, score_overrides
    from stockplan.items import for_people, item_names

    console = Console(quiet)
    _check_output_writable(output)
    cfg, tables = _load(config, console, view, "overrides")
    scores = score_overrides(Inputs(tables), cfg, progress=stage_progress(console))
    planned_as_of = planning_date(tables, cfg)
    StageProgress.close_all()
    shown = for_people({"overrides": scores}, item_names(tables), planned_as_of)
    emit(
        shown,
        "overrides",
        output,
        format,
        bom,
        console,
        message("title.overrides", view.lang, as_of=planned_as_of),
        view,
        _run_info(config, cfg, planned_as_of),
        cfg.io.csv_escape_formulas,
        for_excel=csv_for_excel,
        for_excel_files=cfg.io.csv_for_excel,
    )
    return 0


@app.command()
@guarded
def explain(
    sku: Annotated[str, typer.Argument(help="SKU code, exactly as in your exports.")],
    location: Annotated[
        str | None,
        typer.Option("--location", "-l", help="Only this location (default: every one)."),
    ] = None,
    config: ConfigOption = Path("stockplan.yaml"),
    history_periods: Annotated[
        int, typer.Option("--history", help="Buckets of history in the chart.", min=4)
    ] = 52,
    chart: Annotated[
        bool, typer.Option("--chart/--no-chart", help="Draw the terminal chart.")
    ] = True,
    lang: LangOption = None,
    as_of: AsOfOption = None,
    quiet: QuietOption = False,
    debug: DebugOption = False,
    no_cache: NoCacheOption = False,
) -> int:
    """Show the numbers behind one SKU's order: position, demand, safety stock, reason, chart."""
    view = _view_options(lang, as_of)

    import polars as pl

    from stockplan.api import explain as api_explain
    from stockplan.cli.display import show_explanation
    from stockplan.items import item_names

    console = Console(quiet)
    # the whole plan (kept from the last run on these inputs when unchanged), so these
    # are the plan's own rows (after promotions, transfers, backup supplier and budget)
    cfg, tables, result = _planned(config, console, view, not no_cache)
    result.tables = result.output_tables(all_rows=True)
    StageProgress.close_all()  # no spinner inside the panels below
    shown = api_explain(result, sku, location, history_periods=history_periods, lang=view.lang)
    if shown.kit_components:
        parts = ", ".join(shown.kit_components)
        typer.echo(message("explain.kit_only", view.lang, sku=shown.sku, parts=parts))
        return 0
    names = item_names(tables).filter(pl.col("sku") == shown.sku)["name"].to_list()
    show_explanation(shown, names, cfg, view.lang, chart)
    return 0


@app.command()
@guarded
def simulate(
    config: ConfigOption = Path("stockplan.yaml"),
    output: OutputOption = None,
    format: FormatOption = None,
    plot_name: Annotated[
        str | None,
        typer.Option(
            "--plot",
            callback=check_plot,
            help="Write the service-vs-inventory chart to this PNG file.",
        ),
    ] = None,
    lang: LangOption = None,
    as_of: AsOfOption = None,
    limit: LimitOption = 20,
    sort: SortOption = None,
    columns: ColumnsOption = None,
    headers: HeadersOption = Headers.language,
    baseline: Annotated[
        list[Baseline] | None,
        typer.Option(
            "--baseline",
            metavar="rule|history",
            help="What the policy is compared with (repeatable): rule, the rule-of-thumb "
            "(default); history, your buyers' actual purchase orders replayed on the same days.",
        ),
    ] = None,
    quiet: QuietOption = False,
    bom: BomOption = None,
    csv_for_excel: ExcelOption = None,
    debug: DebugOption = False,
) -> int:
    """Replay history with the policy (each target in simulate.targets) and a rule-of-thumb
    baseline; report fill rate, cycle service level, stockout days, inventory and orders."""
    view = _view_options(lang, as_of, limit, sort, columns, headers)
    check_target(output, format, view.columns, several=True)
    plot = Path(plot_name) if plot_name is not None else None
    if plot is not None and plot.suffix.lower() != ".png":
        raise typer.BadParameter(message("usage.plot_png", plot=plot), param_hint="'--plot'")
    view.check_columns(_known_columns("simulation") if view.sort or view.columns else None)

    from stockplan.api import Inputs
    from stockplan.api import simulate as api_simulate
    from stockplan.i18n import currency_word, value

    console = Console(quiet)
    _check_output_writable(output)
    _check_output_writable(plot, file=True)
    cfg, tables = _load(config, console, view, forecasts=True)

    def replaying(start: dt.date, days: int, series: int) -> None:
        StageProgress.close_all()
        console.say("replaying", days=days, start=start, series=series)

    run = api_simulate(
        Inputs(tables),
        cfg,
        baselines=[b.value for b in baseline or [Baseline.rule]],
        progress=stage_progress(console),
        replaying=replaying,
    )
    StageProgress.close_all()
    planning_date, tables_out, simulation = run.as_of, run.tables, run.simulation
    for row in simulation.drop_nulls("policy_inventory_at_same_fill").iter_rows(named=True):
        console.say(
            "simulate_line",
            policy=value("policy", row["policy"], view.lang),
            fill=row["fill_rate"],
            value=row["avg_inventory_value"],
            currency=currency_word(cfg.planning.currency, view.lang),
            policy_value=row["policy_inventory_at_same_fill"],
        )
    png = None
    if plot is not None:
        from stockplan.charts import chinese_font, tradeoff_png

        if view.lang != "en" and chinese_font() is None:
            console.warn(message("chart.no_chinese_font", view.lang, path=plot))
        png = tradeoff_png(simulation, cfg.planning.currency, cfg.policy.service_measure, view.lang)
        from stockplan.io.writers import check_not_inputs

        check_not_inputs([plot])  # before the tables are written
    from stockplan.report import simulate_pattern_lines, simulate_waste_lines

    for line in simulate_pattern_lines(
        tables_out["simulation_by_pattern"], view.lang, cfg.planning.currency
    ):
        console.info(line)
    for line in simulate_waste_lines(
        simulation, tables_out["simulation_by_pattern"], view.lang, cfg.planning.currency
    ):
        console.info(line)
    if run.set_aside_units:
        console.say("simulate.set_aside", units=f"{run.set_aside_units:,.0f}")
    emit(
        run.output_tables(),
        "simulation",
        output,
        format,
        bom,
        console,
        message(
            "title.simulation",
            view.lang,
            as_of=planning_date,
            measure=message(f"measure.{cfg.policy.service_measure}", view.lang),
            unmet=message(f"unmet.{cfg.simulate.unmet_demand}", view.lang),
        ),
        view,
        _run_info(config, cfg, planning_date),
        cfg.io.csv_escape_formulas,
        for_excel=csv_for_excel,
        for_excel_files=cfg.io.csv_for_excel,
    )
    if plot is not None and png is not None:
        from stockplan.io.writers import write_bytes

        write_bytes(plot, png)
        console.say("wrote", paths=str(plot))
    return 0


@app.command()
@guarded
def report(
    output_name: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            callback=check_report,
            help="The HTML file to write, e.g. report.html.",
        ),
    ],
    config: ConfigOption = Path("stockplan.yaml"),
    with_simulation: Annotated[
        bool,
        typer.Option(
            "--simulate",
            help="Also replay history (as `stockplan simulate`, slower) and chart the trade-off.",
        ),
    ] = False,
    lang: LangOption = None,
    as_of: AsOfOption = None,
    quiet: QuietOption = False,
    debug: DebugOption = False,
    no_cache: NoCacheOption = False,
) -> int:
    """Write a one-page visual report (self-contained HTML, works offline): value at risk,
    stockout dates, cover by ABC class, excess and dead stock, suppliers, simulation."""
    view = _view_options(lang, as_of)
    output = Path(output_name)

    from stockplan.io.writers import write_bytes
    from stockplan.report_html import html_report

    console = Console(quiet)
    _check_output_writable(output, file=True)
    cfg, tables, result = _planned(config, console, view, not no_cache)
    result.tables = result.output_tables(all_rows=True)
    simulation = None
    if with_simulation:
        from stockplan.api import Inputs, simulate

        simulation = simulate(Inputs(tables), cfg, progress=stage_progress(console)).simulation
    StageProgress.close_all()
    page = html_report(
        result.tables,
        result.plan_rows,
        result.as_of,
        cfg.planning.currency,
        cfg.report.top_items,
        simulation,
        view.lang,
    )
    write_bytes(output, page.encode("utf-8"))
    console.say("wrote", paths=output)
    return 0


@app.command()
@guarded
def validate(
    config: ConfigOption = Path("stockplan.yaml"),
    lang: LangOption = None,
    as_of: AsOfOption = None,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> int:
    """Check the config and every input file; write nothing."""
    view = _view_options(lang, as_of)

    console = Console(quiet)
    _load(config, console, view)
    console.say("valid", config=config)
    return 0


@app.command()
@guarded
def init(
    folder: Annotated[
        Path,
        typer.Argument(
            callback=expand_home,
            help="Folder holding your ERP / shop exports (and its subfolders, 3 levels deep; "
            "a folder of Parquet part files is one table).",
        ),
    ],
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            callback=expand_home,
            help="Config to write (default: FOLDER/stockplan.yaml).",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing config.")] = False,
    lang: Annotated[
        Lang | None,
        typer.Option(
            "--lang",
            help="planning.language to write (default: zh when the headers are Chinese).",
        ),
    ] = None,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> int:
    """Inspect export files, propose a column mapping and write a starter config."""
    set_lang(lang.value if lang is not None else "en", chosen=lang is not None)

    from stockplan.i18n import input_name, say
    from stockplan.io.inspect import inspect_folder, starter_config
    from stockplan.io.planfiles import RUN_JSON, record_beside
    from stockplan.io.writers import write_text

    console = Console(quiet)
    target = config or folder / "stockplan.yaml"
    guesses = inspect_folder(folder)
    from stockplan.io.writers import add_run_inputs

    add_run_inputs(*(guess.path for guess in guesses))
    tables: dict[str, str] = {}
    for guess in guesses:
        # sub/销售.xlsx from a subfolder, parts/ for a folder of Parquet part files
        shown = guess.path.relative_to(folder).as_posix() + ("/" if guess.path.is_dir() else "")
        if guess.own_output:
            record = RUN_JSON
            if guess.path.is_file() and not record_beside(guess.path).is_file():
                record = message("init.run_sheet", lang_now())  # a workbook's own sheet
            console.warn(message("init.own_output", lang_now(), file=shown, record=record))
            continue
        if guess.table is None:
            console.warn(
                message(
                    "init.unknown",
                    lang_now(),
                    file=shown,
                    problem=say(guess.problem or "", lang_now()),
                )
            )
            continue
        if guess.table in tables:
            console.warn(
                message(
                    "init.twice",
                    lang_now(),
                    file=shown,
                    table=input_name(guess.table, lang_now()),
                    used=tables[guess.table],
                )
            )
            continue
        tables[guess.table] = shown
        mapped = ", ".join(
            name if src == name else f"{src} -> {name}" for name, src in guess.mapping.items()
        )
        table = input_name(guess.table, lang_now())
        console.say("init.file", file=shown, table=table, mapped=mapped)
        if guess.unmapped:
            console.say("init.unmapped", headers=", ".join(guess.unmapped))
        if guess.sheet:
            console.say("init.sheet", sheet=guess.sheet)
        for name, others in guess.clashes.items():
            console.warn(
                message(
                    "init.clash",
                    lang_now(),
                    others=", ".join(others),
                    name=name,
                    chosen=guess.mapping[name],
                )
            )
    text = starter_config(guesses, target.parent, lang.value if lang else None)
    write_text(target, text, overwrite=force)
    missing = [t for t in ("sales", "stock") if t not in tables]
    if missing:
        names = " / ".join(input_name(t, lang_now()) for t in missing)
        console.warn(message("init.missing", lang_now(), tables=names, config=target))
    console.say("init.wrote", config=target, command=shell_word(str(target)))
    return 0


@app.command()
@guarded
def diff(
    old: Annotated[
        Path,
        typer.Argument(
            callback=expand_home, help="The earlier plan: .xlsx, output folder or orders file."
        ),
    ],
    new: Annotated[
        Path,
        typer.Argument(callback=expand_home, help="The later plan, written the same way."),
    ],
    output: OutputOption = None,
    format: FormatOption = None,
    all_rows: Annotated[
        bool, typer.Option("--all", help="Also list lines whose order quantity is unchanged.")
    ] = False,
    quiet: QuietOption = False,
    bom: BomOption = None,
    csv_for_excel: ExcelOption = None,
    lang: Annotated[
        Lang | None,
        typer.Option(
            "--lang",
            help="Language of headers, causes and messages (default: the language the "
            "later plan was written in, else en).",
        ),
    ] = None,
    headers: Annotated[
        Headers | None,
        typer.Option(
            "--headers",
            help="CSV headers in the language, or the canonical English names for scripts "
            "(default: as the later plan was written).",
        ),
    ] = None,
    limit: LimitOption = 20,
    sort: SortOption = None,
    columns: ColumnsOption = None,
    debug: DebugOption = False,
) -> int:
    """Order lines that appeared, vanished or changed between two plans, and why.

    Each change is split into the parts due to config, demand, lead time, safety stock,
    stock position and constraints; they add up to the change. Plans written with --all
    give every line its causes."""

    # errors reading the plans: in the language asked
    view = View(lang, limit, sort, columns, headers or Headers.language)
    check_target(output, format, view.columns)
    view.check_columns(_known_columns("diff") if view.sort or view.columns else None)

    from stockplan.api import diff_plans
    from stockplan.io.writers import add_plan_inputs

    add_plan_inputs(old, new)
    console = Console(quiet)
    _check_output_writable(output)
    try:
        compared = diff_plans(old, new, all_rows=all_rows)
    except StockplanError as exc:  # without --lang: the language the later plan speaks
        if exc.language is None:
            from stockplan.io.planfiles import written_language

            exc.language = written_language(new)
        raise
    records = compared.records()
    written = (records[1] or {}).get("options") or {}
    recorded_lang, recorded_headers = written.get("lang"), written.get("headers")
    view.lang = (lang or _recorded(Lang, recorded_lang, Lang.en)).value
    view.headers = headers or _recorded(Headers, recorded_headers, Headers.language)
    set_lang(view.lang)
    changes = compared.changes
    for path, record in zip((old, new), records, strict=True):
        if record and not (record.get("options") or {}).get("all", True):
            console.warn(message("diff.without_all", view.lang, path=path))
    dates = compared.planning_dates()
    same = compared.same_config()
    if same is not None:
        config_note = message("diff.same_config" if same else "diff.changed_config", view.lang)
        console.say("diff.dates", old=dates[0], new=dates[1], config=config_note)
    counts = {kind: int((changes["change"] == kind).sum()) for kind in ("appeared", "vanished")}
    console.say("diff.counts", changed=int((changes["change"] == "changed").sum()), **counts)
    emit(
        {"diff": changes},
        "diff",
        output,
        format,
        bom,
        console,
        message("title.diff", view.lang, old=dates[0], new=dates[1]),
        view,
        for_excel=csv_for_excel,
    )
    return 0


@app.command()
@guarded
def verify(
    plan_path: Annotated[
        Path,
        typer.Argument(
            metavar="PLAN",
            callback=expand_home,
            help="A plan written by stockplan plan -o: .xlsx, folder, or one table file "
            "with its FILE.run.json beside it.",
        ),
    ],
    quiet: QuietOption = False,
    lang: Annotated[
        Lang | None,
        typer.Option(
            "--lang",
            help="Language of the messages (default: the language the plan was written in).",
        ),
    ] = None,
    debug: DebugOption = False,
) -> int:
    """Re-run a plan from its run record: do the inputs and every number match?

    Exit 0: reproduced; 6: an input changed or a number differs; 7: every number matches
    but a database input cannot be proven unchanged."""

    from stockplan.api import rerun_differences
    from stockplan.i18n import say
    from stockplan.reproduce import recorded_run

    # errors reading the plan: in the language asked
    set_lang(lang.value if lang else "en", chosen=lang is not None)
    console = Console(quiet)
    run = recorded_run(plan_path)
    written = (run.record.get("options") or {}).get("lang")
    language = (lang or _recorded(Lang, written, Lang.en)).value
    set_lang(language)

    def always(key: str, line: str) -> None:  # said even with --quiet
        detail = safe_text(say(line, language))
        sys.stderr.write(f"stockplan: {message(key, language, line=detail)}\n")

    for line in run.changed:
        always("verify.changed", line)
    if run.version != __version__:
        console.warn(message("verify.version", language, old=run.version, new=__version__))
    if not run.config_path.is_file():
        console.say("verify.config_gone", path=plan_path, code=EXIT_NOT_REPRODUCED)
        return EXIT_NOT_REPRODUCED
    differences, added = rerun_differences(run, progress=stage_progress(console))
    StageProgress.close_all()
    for line in differences:
        always("verify.differs", line)
    for line in added:
        console.say("verify.added", line=safe_text(say(line, language)))
    for line in run.unprovable:
        always("verify.unprovable", line)
    if run.changed or differences:
        console.say("verify.not_reproduced", path=plan_path, code=EXIT_NOT_REPRODUCED)
        return EXIT_NOT_REPRODUCED
    if run.unprovable:
        console.say("verify.unprovable_exit", path=plan_path, code=EXIT_UNPROVABLE)
        return EXIT_UNPROVABLE
    console.say("verify.reproduced", path=plan_path)
    return 0


def resolve_annotations(typer_app: typer.Typer) -> None:
    """Evaluate once the annotations of `typer_app`'s commands and of their options'
    callbacks, written as text (`from __future__ import annotations`), in place.

    typer builds the click command anew each time the app is called (every
    `CliRunner().invoke(app, ...)`, each run of a long-lived process) and evaluated every
    annotation of every command again each time: about 0.15 s a build, more than a small
    shop's plan spends on its forecast. Evaluated here, a build reads them as they are."""
    infos = [*typer_app.registered_commands, typer_app.registered_callback]
    functions = [info.callback for info in infos if info is not None and info.callback]
    done: set[int] = set()
    while functions:
        function = inspect.unwrap(functions.pop())
        if id(function) in done:
            continue
        done.add(id(function))
        hints = typing.get_type_hints(function, include_extras=True)
        function.__annotations__.update(hints)  # also the `guarded` wrapper's: one dict
        for hint in hints.values():
            for info in getattr(hint, "__metadata__", ()):
                hooks = (getattr(info, name, None) for name in ("callback", "parser"))
                functions.extend(hook for hook in hooks if callable(hook))


resolve_annotations(app)


def end_failed_run(code: object) -> None:
    """End a command that failed with exit `code` at once when its forecasting imports still
    run on their thread (`preload.start`, begun to overlap reading the inputs): Python
    would wait for them at exit, about 2 s of CPU on a slow machine that a failed `plan`
    has no use for. By then its one-line message is written and its writers have removed
    their files; what is left is flushed, a cluster plan's unpublished staging folder
    removed (`parts.remove_staging`), and the process ends. Returns when no import runs
    or the code is not a number."""
    if not isinstance(code, int) or code == 0 or "stockplan.preload" not in sys.modules:
        return  # (no preload imported: none started)
    from stockplan import preload

    if not preload.running():
        return
    from stockplan.io.parts import remove_staging

    remove_staging()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def main() -> None:
    """Console entry point."""
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")
    try:
        command_group(app)()  # app() would build every command's options first
    except SystemExit as done:
        end_failed_run(done.code)
        raise
    finally:
        # the process ends here: without this, Python's last garbage collection walks
        # every object of every imported module (about 0.3 s of CPU after a plan)
        gc.freeze()


if __name__ == "__main__":
    main()
