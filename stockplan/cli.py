"""stockplan command line: parse options, load config, run the pipeline, hand frames to a writer.

Heavy modules (polars, statsforecast, scipy) are imported inside the commands so that
`stockplan --help` answers at once. Exit codes: 0 ok, 1 user error, 2 usage error,
3 `--fail-on-risk` threshold reached, 4 internal error (a bug: please report it),
5 the plan was written but a `--notify` message could not be sent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import click
import typer

from stockplan import __version__
from stockplan.errors import StockplanError, safe_text

if TYPE_CHECKING:
    import polars as pl

    from stockplan.config import Config

TABLES = (
    "orders",
    "risk",
    "transfers",
    "excess",
    "supplier_orders",
    "forecast",
    "classes",
    "suppliers",
    "notices",
)
OUTPUT_SUFFIXES = (".csv", ".xlsx", ".json", ".parquet")
EXIT_USER_ERROR = 1
EXIT_RISK = 3
EXIT_INTERNAL = 4
EXIT_NOTIFY = 5

app = typer.Typer(
    name="stockplan",
    help="Replenishment planner: what to buy, from whom, how much, and what will run out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    rich_markup_mode=None,  # plain click help: rendering it with rich costs ~0.1 s
)


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    xlsx = "xlsx"
    json = "json"
    parquet = "parquet"


class RiskLevel(StrEnum):
    high = "high"
    medium = "medium"


TableName = StrEnum("TableName", {name: name for name in TABLES})  # type: ignore[misc]


class Lang(StrEnum):
    en = "en"
    zh = "zh"


class Headers(StrEnum):
    language = "language"
    canonical = "canonical"


def message(key: str, lang: str = "en", **fields: object) -> str:
    """stockplan.i18n.message, imported on first use (the catalogue is not needed for --help)."""
    from stockplan.i18n import message as text

    return text(key, lang, **fields)


def _check_output(value: str | None) -> str | None:
    """`-o` names a .csv / .xlsx / .json / .parquet file, a folder or - (checked at once)."""
    if value is None or value == "-":
        return value
    path = Path(value)
    if path.suffix and path.suffix.lower() not in OUTPUT_SUFFIXES and not path.is_dir():
        raise typer.BadParameter(
            f"unknown output type '{path.suffix}' (choose from {', '.join(OUTPUT_SUFFIXES)}, "
            "a folder, or - for CSV on stdout)"
        )
    return value


def _check_target(output: str | None, fmt: OutputFormat | None) -> None:
    """A format that cannot go where -o points is a usage error, before any work."""
    if fmt is None or fmt == OutputFormat.table:
        return
    if output is None or output == "-":
        if fmt != OutputFormat.csv:
            raise typer.BadParameter(
                f"{fmt.value} cannot go to stdout (choose csv, or -o FILE.{fmt.value})",
                param_hint="'--format'",
            )
        return
    suffix = Path(output).suffix.lower()
    if suffix in OUTPUT_SUFFIXES and suffix != f".{fmt.value}":
        raise typer.BadParameter(
            f"{fmt.value} does not match the file suffix {suffix} of {output}",
            param_hint="'--format'",
        )


ConfigOption = Annotated[
    Path,
    typer.Option(
        "--config", "-c", help="YAML config (see config.example.yaml).", show_default=True
    ),
]
OutputOption = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        callback=_check_output,
        help="Where to write: FILE.xlsx (all tables), FILE.csv/.json/.parquet (one table), "
        "a folder (one file per table), or - for CSV on stdout. Default: a table on a "
        "terminal, CSV when piped.",
    ),
]
FormatOption = Annotated[
    OutputFormat | None,
    typer.Option("--format", "-f", help="Output format for a folder or stdout."),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress or warnings (for cron).")
]
BomOption = Annotated[
    bool, typer.Option("--bom", help="Start CSV files with a UTF-8 BOM (Excel on Windows).")
]
DebugOption = Annotated[
    bool, typer.Option("--debug", help="Show the traceback of an internal error.")
]
NotifyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--notify",
        metavar="CHANNEL",
        help="After writing, send the high-risk items to this channel of the config's "
        "notify.channels (repeatable). Exit 5 when a message fails; the plan is kept.",
    ),
]
LangOption = Annotated[
    Lang | None,
    typer.Option(
        "--lang",
        help="Language of headers, reasons and messages (default: planning.language, en).",
    ),
]
AsOfOption = Annotated[
    dt.datetime | None,
    typer.Option(
        "--as-of",
        formats=["%Y-%m-%d"],
        help="Planning date YYYY-MM-DD (default: planning.as_of, else the day after the "
        "last sale).",
    ),
]
NoCacheOption = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        help="Recompute even when the inputs, config and version are unchanged (the cache "
        "is .stockplan-cache beside the config, or $STOCKPLAN_CACHE_DIR; safe to delete).",
    ),
]
LimitOption = Annotated[
    int, typer.Option("--limit", min=1, help="Rows in the terminal table (the rest counted).")
]
SortOption = Annotated[
    str | None,
    typer.Option(
        "--sort",
        help="Sort by COLUMN or COLUMN:desc instead of urgency (risk, then order-by date).",
    ),
]
ColumnsOption = Annotated[
    str | None,
    typer.Option(
        "--columns",
        help="Comma-separated columns to show or write (terminal, stdout, one-table files).",
    ),
]
HeadersOption = Annotated[
    Headers,
    typer.Option(
        "--headers",
        help="CSV headers in the language, or the canonical English names for scripts.",
    ),
]


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
) -> int:
    """Send the alert to each `--notify` channel after the plan is written; 5 on a failure."""
    if not channels:
        return 0
    from stockplan.notify import build_alert, send

    alert = build_alert(
        result.tables["risk"],
        result.tables.get("orders"),
        tables.get("products"),
        result.as_of,
        _plan_location(output),
        cfg.notify.top,
        cfg.notify.language,
    )
    if alert.high_risk == 0 and not cfg.notify.always:
        console.info("no item at high stockout risk: no alert sent (notify.always: true sends one)")
        return 0
    failed = 0
    for name in dict.fromkeys(channels):
        try:
            send(cfg.notify, name, alert)
            console.info(f"notified {name}")
        except StockplanError as exc:  # one line; the plan is already written
            sys.stderr.write(f"stockplan: error: {exc}\n")
            failed += 1
    return EXIT_NOTIFY if failed else 0


class View:
    """How one command shows its table: language, rows, order and columns."""

    def __init__(
        self,
        lang: Lang | None = None,
        limit: int = 20,
        sort: str | None = None,
        columns: str | None = None,
        headers: Headers = Headers.language,
        as_of: dt.datetime | None = None,
    ) -> None:
        self.lang_option = lang.value if lang else None
        self.lang = self.lang_option or "en"
        _STATE["lang"] = self.lang  # until the config is read
        self.limit = limit
        self.sort = sort
        self.columns = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
        self.headers = headers
        self.as_of = as_of.date() if as_of else None

    def configure(self, config: Config) -> Config:
        """The config with --lang and --as-of applied; sets the language of messages."""
        self.lang = self.lang_option or config.planning.language
        update = {"language": self.lang}
        if self.as_of is not None:
            update["as_of"] = self.as_of
        planning = config.planning.model_copy(update=update)
        _STATE["lang"] = self.lang
        return config.model_copy(update={"planning": planning})

    def check_columns(self, known: list[str] | None) -> None:
        """--sort and --columns name columns of the table (canonical or translated)."""
        from stockplan.i18n import canonical_column

        if self.columns:
            self.columns = [canonical_column(c) for c in self.columns]
        if self.sort:
            name, _, direction = self.sort.partition(":")
            if direction not in ("", "asc", "desc"):
                raise typer.BadParameter(
                    f"'{self.sort}': order must be asc or desc", param_hint="'--sort'"
                )
            self.sort = f"{canonical_column(name)}:{direction or 'asc'}"
        if known is None:
            return
        for option, names in (
            ("--columns", self.columns or []),
            ("--sort", [self.sort.partition(":")[0]] if self.sort else []),
        ):
            for name in names:
                if name not in known:
                    raise typer.BadParameter(
                        f"unknown column '{name}' (choose from {', '.join(known)})",
                        param_hint=f"'{option}'",
                    )


_STATE: dict[str, str] = {"lang": "en"}


def lang_now() -> str:
    """The language of this run's messages."""
    return _STATE["lang"]


class Console:
    """Messages for the user, always on stderr so stdout stays clean for pipes."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def info(self, message: str) -> None:
        if not self.quiet:
            sys.stderr.write(f"stockplan: {safe_text(message)}\n")

    def warn(self, message: str) -> None:
        from stockplan.i18n import message as text
        from stockplan.i18n import render_error

        if not self.quiet:
            lang = _STATE["lang"]
            sys.stderr.write(
                f"stockplan: {text('warning', lang)}: {safe_text(render_error(message, lang))}\n"
            )

    def say(self, key: str, **fields: object) -> None:
        """The catalogue message `key` in the run's language."""
        from stockplan.i18n import message

        self.info(message(key, _STATE["lang"], **fields))


def _broken_pipe(exc: OSError) -> bool:
    return (
        isinstance(exc, BrokenPipeError)
        or exc.errno == errno.EPIPE
        or (
            "Broken pipe" in str(exc)  # polars' writers report EPIPE as a plain OSError
        )
    )


def _internal(exc: Exception, debug: bool) -> typer.Exit:
    """One line for a bug (the traceback only with --debug), exit code 4."""
    if debug:
        raise exc
    detail = safe_text(str(exc).strip().splitlines()[0][:300]) if str(exc).strip() else ""
    sys.stderr.write(
        f"stockplan: internal error: {type(exc).__name__}: {detail} "
        "(run with --debug for the traceback and please report it)\n"
    )
    return typer.Exit(EXIT_INTERNAL)


def _guard(debug: bool, action: Callable[[], int | None]) -> None:
    """Run a command; turn user errors into one line on stderr and an exit code."""
    try:
        try:
            code = action() or 0
        finally:
            StageProgress.close_all()
    except StockplanError as exc:
        from stockplan.i18n import message, render_error

        lang = _STATE["lang"]
        sys.stderr.write(f"stockplan: {message('error', lang)}: {render_error(str(exc), lang)}\n")
        raise typer.Exit(EXIT_USER_ERROR) from None
    except KeyboardInterrupt:
        sys.stderr.write("stockplan: interrupted\n")
        raise typer.Exit(130) from None
    except OSError as exc:
        if not _broken_pipe(exc):  # the machine refused (disk, permissions): not a bug
            sys.stderr.write(f"stockplan: error: {safe_text(str(exc))[:300]}\n")
            raise typer.Exit(EXIT_USER_ERROR) from None
        # the reader went away (`stockplan plan -o - | head`): not an error of ours
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except (typer.Exit, typer.Abort, click.ClickException):
        raise
    except Exception as exc:  # a bug: still one line, no traceback unless asked
        raise _internal(exc, debug) from None
    if code:
        raise typer.Exit(code)


def _load(
    config_path: Path, console: Console, view: View | None = None
) -> tuple[Config, dict[str, pl.DataFrame]]:
    from stockplan.config import load_config

    config = (view or View()).configure(load_config(config_path))
    tables, warnings = _read_inputs(config)
    _loaded(console, tables, warnings)
    return config, tables


def _read_inputs(config: Config) -> tuple[dict[str, pl.DataFrame], list[str]]:
    """Every input table, prepared, and the warnings about them."""
    from stockplan.io.prepare import prepare_inputs
    from stockplan.io.readers import load_inputs

    notes: list[str] = []
    tables = load_inputs(config, notes)
    prepared = prepare_inputs(tables, config)
    return prepared.tables, notes + prepared.warnings


def _loaded(console: Console, tables: dict[str, pl.DataFrame], warnings: list[str]) -> None:
    for warning in warnings:
        console.warn(warning)
    counts = ", ".join(f"{name} {frame.height:,}" for name, frame in tables.items())
    console.say("loaded", counts=counts)


def _planned(
    config_path: Path,
    console: Console,
    view: View,
    use_cache: bool,
    notify: list[str] | None = None,
) -> tuple[Config, dict[str, pl.DataFrame], Any]:
    """Config, inputs and the whole plan (every row, as `--all`), from the cache when the
    inputs, config and version are unchanged (stockplan.cache); else computed and kept."""
    from stockplan import cache
    from stockplan.config import load_config

    config = view.configure(load_config(config_path))
    if notify:
        from stockplan.notify import check_channels

        check_channels(config.notify, notify)
    key = cache.cache_key(config) if use_cache else None
    folder = cache.cache_folder(config_path)
    hit = cache.load(folder, key) if key else None
    if hit is not None:
        tables, warnings, result, extra = hit
        _loaded(console, tables, warnings)
        console.info(f"reused the plan computed earlier on these inputs ({folder})")
        result.tables["orders_shown"] = extra["orders_shown"]
        return config, tables, result
    from stockplan.pipeline import run_plan

    tables, warnings = _read_inputs(config)
    _loaded(console, tables, warnings)
    result = run_plan(tables, config, include_all=True, progress=_progress(console))
    StageProgress.close_all()
    shown = _orders_to_show(result.tables["orders"])
    if key:
        cache.store(folder, key, tables, warnings, result, {"orders_shown": shown})
    result.tables["orders_shown"] = shown
    return config, tables, result


def _orders_to_show(orders: pl.DataFrame) -> pl.DataFrame:
    """Without --all: the lines to order, and those master data keeps from ordering
    (as run_plan(include_all=False))."""
    import polars as pl

    from stockplan.plan import MASTER_DATA_CONFLICT

    return orders.filter(
        (pl.col("order_qty") > 0) | pl.col("reason").str.starts_with(MASTER_DATA_CONFLICT)
    )


def _plan_tables(result: Any, all_rows: bool) -> dict[str, pl.DataFrame]:
    """The plan's tables, orders with every row (--all) or the rows to show."""
    tables = {k: v for k, v in result.tables.items() if k != "orders_shown"}
    if not all_rows:
        tables["orders"] = result.tables["orders_shown"]
    return tables


def _known_columns(table: str) -> list[str] | None:
    """The columns a table is written with, when fixed in advance (for --sort, --columns)."""
    from stockplan.excess import EXCESS_COLUMNS
    from stockplan.notices import NOTICE_COLUMNS
    from stockplan.plan import ORDER_COLUMNS, ORDER_DETAIL_COLUMNS
    from stockplan.purchasing import PO_SUMMARY_COLUMNS
    from stockplan.risk import RISK_COLUMNS
    from stockplan.transfers import TRANSFER_COLUMNS

    known = {
        "orders": [*ORDER_COLUMNS, *ORDER_DETAIL_COLUMNS, "name", "risk_level"],
        "risk": [*RISK_COLUMNS, "name"],
        "transfers": [*TRANSFER_COLUMNS, "name"],
        "excess": [*EXCESS_COLUMNS, "name"],
        "supplier_orders": PO_SUMMARY_COLUMNS,
        "notices": [*NOTICE_COLUMNS, "name"],
    }.get(table)
    return [*known, "as_of"] if known else None


def _run_info(config_path: Path, config: Config, as_of: dt.date) -> dict[str, Any]:
    """What the XLSX summary sheet says about the run."""
    return {
        "as_of": as_of,
        "version": __version__,
        "config": str(config_path),
        "inputs": {name: str(f.path) for name, f in config.inputs if f is not None},
        "currency": config.planning.currency,
    }


def _shape(frame: pl.DataFrame, view: View, table: str) -> pl.DataFrame:
    """--sort and --columns applied to the table shown or written."""
    view.check_columns(frame.columns)
    if view.sort:
        name, _, direction = view.sort.partition(":")
        frame = frame.sort(name, descending=direction == "desc", nulls_last=True)
    return frame


def _emit(
    tables: dict[str, pl.DataFrame],
    primary: str,
    output: str | None,
    fmt: OutputFormat | None,
    bom: bool,
    console: Console,
    title: str,
    view: View | None = None,
    info: dict[str, Any] | None = None,
    escape: bool = True,
) -> None:
    """Send tables to a terminal table, stdout CSV or files (`escape`: io.csv_escape_formulas)."""
    from stockplan.io.writers import output_plan, write_csv, write_files

    view = view or View()
    tables = {**tables, primary: _shape(tables[primary], view, primary)}
    file_lang = "en" if view.headers == Headers.canonical else view.lang
    to_terminal = output is None and (
        fmt == OutputFormat.table or (fmt is None and sys.stdout.isatty())
    )
    if to_terminal:
        from rich.console import Console as RichConsole

        from stockplan.io.writers import escape_controls
        from stockplan.report import terminal_table

        out = RichConsole()
        shown = terminal_table(
            escape_controls(tables[primary]),
            primary,
            title,
            width=out.width,
            limit=view.limit,
            columns=view.columns,
            lang=view.lang,
        )
        out.print(shown.table)
        for note in shown.notes:
            out.print(note, style="dim", highlight=False)
        return
    one = tables[primary]
    if view.columns:
        one = one.select(view.columns)
    if output is None or output == "-":
        write_csv(one, sys.stdout.buffer, bom=bom, table=primary, lang=file_lang, escape=escape)
        sys.stdout.flush()
        return
    file_format = None if fmt in (None, OutputFormat.table) else fmt.value
    target = Path(output)
    plan = output_plan({**tables, primary: one}, target, file_format, primary)
    if any(kind == "xlsx" for _, kind in plan.values()):
        plan = output_plan(tables, target, file_format, primary)
    workbook = any(kind == "xlsx" for _, kind in plan.values())
    written = write_files(
        plan, bom=bom, lang=view.lang if workbook else file_lang, info=info, escape=escape
    )
    console.say("wrote", paths=", ".join(str(p) for p in written))


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


class StageProgress:
    """Stage progress on stderr: a rich spinner with elapsed time per stage on a terminal,
    plain `stockplan: stage ...` lines otherwise, nothing with --quiet.

    A stage that knows its size (`progress(message, total=n)`) gets a count and the time
    remaining; the call returns `advance(k)` for it to tick. Every command stops the
    display (`close_all`) before it prints any output.
    """

    active: list[StageProgress] = []

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = None
        self.task = None
        if not console.quiet and sys.stderr.isatty():
            from rich.console import Console as RichConsole
            from rich.progress import (
                Progress,
                ProgressColumn,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.text import Text

            class Counted(ProgressColumn):
                """`done/total` and the time remaining, only for stages with a size."""

                remaining = TimeRemainingColumn()

                def render(self, task) -> Text:
                    if not task.total or task.total <= 1:
                        return Text("")
                    left = self.remaining.render(task)
                    return Text(f"{int(task.completed):,}/{int(task.total):,} ") + left

            self.progress = Progress(
                SpinnerColumn(finished_text="[green]✓"),
                TextColumn("{task.description}"),
                Counted(),
                TimeElapsedColumn(),
                console=RichConsole(stderr=True),
            )
            self.progress.start()
            StageProgress.active.append(self)

    def __call__(self, message: str, total: int | None = None) -> Callable[[int], None]:
        from stockplan.i18n import render_stage

        message = render_stage(message, _STATE["lang"])
        if self.progress is None:
            self.console.info(message + (f" ({total:,})" if total else "") + " ...")
            return lambda _done=1: None
        self._finish_task()
        task = self.progress.add_task(message, total=total or 1)
        self.task = task
        progress = self.progress
        return lambda done=1: progress.advance(task, done)

    def _finish_task(self) -> None:
        """Tick the stage off; a stage that took under a second is not worth a line."""
        if self.progress is not None and self.task is not None:
            task = next(t for t in self.progress.tasks if t.id == self.task)
            elapsed = task.elapsed or 0.0
            if elapsed < 1.0:
                self.progress.remove_task(self.task)
            else:
                self.progress.update(self.task, completed=task.total)
            self.task = None

    def close(self) -> None:
        if self.progress is not None:
            self._finish_task()
            self.progress.stop()
            self.progress = None

    @classmethod
    def close_all(cls) -> None:
        while cls.active:
            cls.active.pop().close()


def _progress(console: Console) -> Callable[[str], None]:
    return StageProgress(console)


SupplierForecastOption = Annotated[
    Path | None,
    typer.Option(
        "--supplier-forecast",
        help="Also write one workbook per supplier into this folder: the purchase orders "
        "the policy will most likely place over the next supplier_forecast.weeks, with a range.",
    ),
]


def _write_supplier_forecast(
    result: Any, cfg: Config, tables: dict[str, pl.DataFrame], folder: Path, console: Console
) -> None:
    """Project each supplier's orders (stockplan.supplier_forecast) and write the workbooks."""
    from stockplan.io.supplier_workbooks import supplier_workbooks
    from stockplan.io.writers import write_files
    from stockplan.supplier_forecast import project_supplier_orders, supplier_summary

    projection = project_supplier_orders(
        result.plan_rows,
        result.tables["forecast"],
        result.as_of,
        result.bucket_days,
        cfg.supplier_forecast.weeks,
    )
    if projection.height == 0:
        console.info("supplier forecast: no orders projected, no workbook written")
        return
    products = tables.get("products")
    names = (
        products.select("sku", "name")
        if products is not None and "name" in products.columns
        else None
    )
    files = supplier_workbooks(
        projection, supplier_summary(projection), folder, result.as_of, names
    )
    folder.mkdir(exist_ok=True)
    written = write_files(files)
    console.info(f"supplier forecast: wrote {len(written)} workbooks to {folder}")


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
            "inputs.customer_orders).",
        ),
    ] = TableName.orders,
    all_rows: Annotated[
        bool, typer.Option("--all", help="Include sku x location rows with nothing to order.")
    ] = False,
    fail_on_risk: Annotated[
        RiskLevel | None,
        typer.Option("--fail-on-risk", help="Exit 3 when any item is at this risk level or worse."),
    ] = None,
    lang: LangOption = None,
    as_of: AsOfOption = None,
    limit: LimitOption = 20,
    sort: SortOption = None,
    columns: ColumnsOption = None,
    headers: HeadersOption = Headers.language,
    quiet: QuietOption = False,
    bom: BomOption = False,
    debug: DebugOption = False,
    notify: NotifyOption = None,
    supplier_forecast: SupplierForecastOption = None,
    no_cache: NoCacheOption = False,
) -> None:
    """Write purchase suggestions (orders) and stockout risk for every sku x location."""
    name = table.value
    _check_target(output, format)
    view = _view_options(lang, as_of, limit, sort, columns, headers)
    view.check_columns(_known_columns(name) if view.sort or view.columns else None)

    def action() -> int:
        from stockplan.items import for_people, item_names

        console = Console(quiet)
        if supplier_forecast is not None:
            from stockplan.io.supplier_workbooks import check_supplier_folder

            check_supplier_folder(supplier_forecast)
        cfg, tables, result = _planned(config, console, view, not no_cache, notify)
        result.tables = _plan_tables(result, all_rows)
        if name not in result.tables:
            raise StockplanError(message("no_table", view.lang, table=name))
        orders, risk = result.tables["orders"], result.tables["risk"]
        for note in result.notes:
            console.info(note)
        buying = orders.filter(orders["order_qty"] > 0)
        value = buying["order_value"].sum()
        console.say(
            "plan_summary",
            as_of=result.as_of,
            lines=buying.height,
            value=f"{value:,.2f}",
            currency=cfg.planning.currency,
            high=risk.filter(risk["risk_level"] == "high").height,
        )
        _emit(
            for_people(result.tables, item_names(tables), result.as_of),
            name,
            output,
            format,
            bom,
            console,
            message(f"title.{name}", view.lang, as_of=result.as_of),
            view,
            _run_info(config, cfg, result.as_of),
            cfg.io.csv_escape_formulas,
        )
        if supplier_forecast is not None:
            _write_supplier_forecast(result, cfg, tables, supplier_forecast, console)
        code = _risk_exit(risk, fail_on_risk, console)
        return _notify(notify, cfg, result, tables, output, console) or code

    _guard(debug, action)


def _risk_exit(risk: pl.DataFrame, level: RiskLevel | None, console: Console) -> int:
    if level is None:
        return 0
    levels = ["high"] if level == RiskLevel.high else ["high", "medium"]
    hits = risk.filter(risk["risk_level"].is_in(levels)).height
    if hits:
        from stockplan.i18n import value

        console.say(
            "risk_exit",
            hits=hits,
            level=value("risk_level", level.value, _STATE["lang"]),
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
    bom: bool,
    debug: bool,
    view: View,
    extra: Callable[[Any, Console], int] | None = None,
    notify: list[str] | None = None,
    no_cache: bool = False,
) -> None:
    _check_target(output, format)
    view.check_columns(_known_columns(name) if view.sort or view.columns else None)

    def action() -> int:
        from stockplan.items import for_people, item_names

        console = Console(quiet)
        if name in _LEAN_TABLES:
            cfg, tables, frame, as_of = _LEAN_TABLES[name](config, console, view, not no_cache)
            result = None
        else:
            cfg, tables, result = _planned(config, console, view, not no_cache, notify)
            result.tables = _plan_tables(result, all_rows=True)
            for note in result.notes:
                console.info(note)
            if name not in result.tables:
                raise StockplanError(message("no_table", view.lang, table=name))
            frame, as_of = result.tables[name], result.as_of
        shown = for_people({name: frame}, item_names(tables), as_of)
        _emit(
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
        )
        code = extra(frame, console) if extra else 0
        if result is None:
            return code
        return _notify(notify, cfg, result, tables, output, console) or code

    _guard(debug, action)


@app.command()
def risk(
    config: ConfigOption = Path("stockplan.yaml"),
    output: OutputOption = None,
    format: FormatOption = None,
    fail_on_risk: Annotated[
        RiskLevel | None,
        typer.Option("--fail-on-risk", help="Exit 3 when any item is at this risk level or worse."),
    ] = None,
    lang: LangOption = None,
    as_of: AsOfOption = None,
    limit: LimitOption = 20,
    sort: SortOption = None,
    columns: ColumnsOption = None,
    headers: HeadersOption = Headers.language,
    quiet: QuietOption = False,
    bom: BomOption = False,
    debug: DebugOption = False,
    notify: NotifyOption = None,
    no_cache: NoCacheOption = False,
) -> None:
    """Stockout risk for every sku x location, most urgent first."""
    _single_table_command(
        "risk",
        config,
        output,
        format,
        quiet,
        bom,
        debug,
        _view_options(lang, as_of, limit, sort, columns, headers),
        extra=lambda frame, console: _risk_exit(frame, fail_on_risk, console),
        notify=notify,
        no_cache=no_cache,
    )


def _classes_only(
    config_path: Path, console: Console, view: View, use_cache: bool
) -> tuple[Config, dict[str, pl.DataFrame], pl.DataFrame, dt.date]:
    """`classify`: the plan's classes from the cache, else demand history and classes
    alone (no forecast, no policy)."""
    from stockplan import cache
    from stockplan.config import load_config
    from stockplan.pipeline import run_classify

    config = view.configure(load_config(config_path))
    key = cache.cache_key(config) if use_cache else None
    hit = cache.load(cache.cache_folder(config_path), key) if key else None
    if hit is not None:
        tables, warnings, result, _ = hit
        _loaded(console, tables, warnings)
        return config, tables, result.tables["classes"], result.as_of
    tables, warnings = _read_inputs(config)
    _loaded(console, tables, warnings)
    as_of, classes = run_classify(tables, config)
    return config, tables, classes, as_of


def _suppliers_only(
    config_path: Path, console: Console, view: View, use_cache: bool
) -> tuple[Config, dict[str, pl.DataFrame], pl.DataFrame, dt.date]:
    """`suppliers`: the scorecard from the purchase-order file alone (nothing else is read)."""
    from stockplan.config import load_config
    from stockplan.io.prepare import ROW, _check_purchase_orders
    from stockplan.io.readers import read_table
    from stockplan.leadtime import supplier_scorecard

    config = view.configure(load_config(config_path))
    spec = config.inputs.purchase_orders
    tables: dict[str, pl.DataFrame] = {}
    notes: list[str] = []
    if spec is not None:
        orders = read_table(
            "purchase_orders",
            spec,
            config.columns.get("purchase_orders", {}),
            notes,
            config.io.identify_by,
        )
        _check_purchase_orders(orders, getattr(spec, "path", Path("purchase_orders")))
        tables["purchase_orders"] = orders.drop(ROW)
    _loaded(console, tables, notes)
    as_of = config.planning.as_of or _day_after_last_po_event(tables.get("purchase_orders"))
    scorecard = supplier_scorecard(tables.get("purchase_orders"), config.supplier_tiers)
    return config, tables, scorecard, as_of


def _day_after_last_po_event(orders: pl.DataFrame | None) -> dt.date:
    """The scorecard's date without the sales file: the day after the newest order or
    receipt (today without purchase orders)."""
    dates = [
        d
        for d in (
            orders[c].max() if orders is not None and c in orders.columns else None
            for c in ("order_date", "received_date")
        )
        if d is not None
    ]
    return max(dates) + dt.timedelta(days=1) if dates else dt.date.today()


_LEAN_TABLES: dict[str, Callable[..., Any]] = {
    "classes": _classes_only,
    "suppliers": _suppliers_only,
}


def _table_command(name: str, table: str, doc: str) -> None:
    """Register a command that runs the plan and writes one of its tables."""

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
        bom: BomOption = False,
        debug: DebugOption = False,
        no_cache: NoCacheOption = False,
    ) -> None:
        _single_table_command(
            table,
            config,
            output,
            format,
            quiet,
            bom,
            debug,
            _view_options(lang, as_of, limit, sort, columns, headers),
            no_cache=no_cache,
        )

    command.__doc__ = doc
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
    "Supplier scorecard from purchase-order history: lead time, on-time rate, fill.",
)


@app.command()
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
) -> None:
    """Show the numbers behind one SKU's order: position, demand, safety stock, reason, chart."""
    view = _view_options(lang, as_of)

    def action() -> int:
        import shutil

        import polars as pl
        from rich.console import Console as RichConsole
        from rich.panel import Panel
        from rich.text import Text

        from stockplan.explain import recent_history, stock_projection
        from stockplan.items import item_names
        from stockplan.report import explain_chart, explain_lines

        console = Console(quiet)
        # the whole plan (kept from the last run on these inputs when unchanged), so these
        # are the plan's own rows (after promotions, transfers, backup supplier and budget)
        cfg, tables, result = _planned(config, console, view, not no_cache)
        result.tables = _plan_tables(result, all_rows=True)
        known = pl.concat([tables["stock"].select("sku"), tables["sales"].select("sku")])
        if not known.filter(pl.col("sku") == sku).height:
            raise StockplanError(message("unknown_sku", view.lang, sku=sku))
        StageProgress.close_all()  # no spinner inside the panels below
        orders = result.tables["orders"].filter(pl.col("sku") == sku)
        if location is not None:
            orders = orders.filter(pl.col("location") == location)
            if orders.height == 0:
                raise StockplanError(
                    message("unknown_location", view.lang, sku=sku, location=location)
                )
        names = item_names(tables).filter(pl.col("sku") == sku)["name"].to_list()
        risk = result.tables["risk"]
        forecast = result.tables["forecast"]
        projection = stock_projection(
            orders, forecast, result.open_po, result.bucket_days, result.as_of
        )
        history = recent_history(result.history, result.as_of, history_periods)
        out = RichConsole()
        width = min(shutil.get_terminal_size((100, 30)).columns, 120)
        for order in orders.iter_rows(named=True):
            key = (pl.col("sku") == order["sku"]) & (pl.col("location") == order["location"])
            risk_rows = risk.filter(key).to_dicts()
            lines = explain_lines(
                order,
                risk_rows[0] if risk_rows else None,
                cfg.policy.service_measure,
                cfg.planning.currency,
                view.lang,
            )
            out.print(
                Panel(
                    "\n".join(lines),
                    title=message(
                        "explain.panel",
                        view.lang,
                        sku=order["sku"],
                        location=order["location"],
                        as_of=result.as_of,
                        name=f": {names[0]}" if names else "",
                    ),
                    expand=False,
                ),
                highlight=False,
                markup=False,
            )
            if chart:
                drawing = explain_chart(
                    history.filter(key),
                    projection.filter(key),
                    forecast.filter(key),
                    order,
                    width,
                    cfg.planning.bucket,
                )
                out.print(Text.from_ansi(drawing))
        return 0

    _guard(debug, action)


@app.command()
def simulate(
    config: ConfigOption = Path("stockplan.yaml"),
    output: OutputOption = None,
    format: FormatOption = None,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Write the service-vs-inventory chart to this PNG file."),
    ] = None,
    lang: LangOption = None,
    as_of: AsOfOption = None,
    limit: LimitOption = 20,
    sort: SortOption = None,
    columns: ColumnsOption = None,
    headers: HeadersOption = Headers.language,
    quiet: QuietOption = False,
    bom: BomOption = False,
    debug: DebugOption = False,
) -> None:
    """Replay history with the policy (each target in simulate.targets) and a rule-of-thumb
    baseline; report fill rate, cycle service level, stockout days, inventory and orders."""
    _check_target(output, format)
    if plot is not None and plot.suffix.lower() != ".png":
        raise typer.BadParameter(
            f"{plot}: the chart is a PNG file (use a .png name)", param_hint="'--plot'"
        )
    view = _view_options(lang, as_of, limit, sort, columns, headers)
    view.check_columns(None)

    def action() -> int:
        from stockplan.demand import default_as_of
        from stockplan.simulate import (
            BASELINE_HISTORY_DAYS,
            prepare_replay,
            simulate_policies,
        )

        console = Console(quiet)
        cfg, tables = _load(config, console, view)
        planning_date = cfg.planning.as_of or default_as_of(tables["sales"])
        replay = prepare_replay(tables, cfg, progress=_progress(console))
        StageProgress.close_all()
        console.say(
            "replaying",
            days=replay.demand.shape[1] - BASELINE_HISTORY_DAYS,
            start=replay.start,
            series=replay.series.height,
        )
        simulation = simulate_policies(replay, cfg)
        StageProgress.close_all()
        for row in simulation.drop_nulls("policy_inventory_at_same_fill").iter_rows(named=True):
            console.say(
                "simulate_line",
                policy=row["policy"],
                fill=row["fill_rate"],
                value=row["avg_inventory_value"],
                currency=cfg.planning.currency,
                policy_value=row["policy_inventory_at_same_fill"],
            )
        png = None
        if plot is not None:
            from stockplan.charts import tradeoff_png

            if not plot.parent.exists():
                raise StockplanError(f"{plot}: output folder {plot.parent} does not exist")
            png = tradeoff_png(simulation, cfg.planning.currency, cfg.policy.service_measure)
        import polars as pl

        _emit(
            {"simulation": simulation.with_columns(pl.lit(planning_date).alias("as_of"))},
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
                unmet=cfg.simulate.unmet_demand,
            ),
            view,
            _run_info(config, cfg, planning_date),
            cfg.io.csv_escape_formulas,
        )
        if plot is not None and png is not None:
            from stockplan.io.writers import write_bytes

            write_bytes(plot, png)
            console.say("wrote", paths=str(plot))
        return 0

    _guard(debug, action)


@app.command()
def report(
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="The HTML file to write, e.g. report.html."),
    ],
    config: ConfigOption = Path("stockplan.yaml"),
    with_simulation: Annotated[
        bool,
        typer.Option(
            "--simulate",
            help="Also replay history (as `stockplan simulate`, slower) and chart the trade-off.",
        ),
    ] = False,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Write a one-page visual report (self-contained HTML, works offline): value at risk,
    stockout dates, cover by ABC class, excess and dead stock, suppliers, simulation."""

    def action() -> int:
        from stockplan.io.writers import write_bytes
        from stockplan.report_html import html_report

        console = Console(quiet)
        if output.suffix.lower() not in (".html", ".htm"):
            raise StockplanError(f"-o {output}: the report is an HTML file (use a .html name)")
        cfg, tables, result = _planned(config, console, View(), True)
        result.tables = _plan_tables(result, all_rows=True)
        simulation = None
        if with_simulation:
            from stockplan.simulate import prepare_replay, simulate_policies

            replay = prepare_replay(tables, cfg, progress=_progress(console))
            simulation = simulate_policies(replay, cfg)
        StageProgress.close_all()
        page = html_report(
            result.tables,
            result.plan_rows,
            result.as_of,
            cfg.planning.currency,
            cfg.report.top_items,
            simulation,
        )
        write_bytes(output, page.encode("utf-8"))
        console.info(f"wrote {output}")
        return 0

    _guard(debug, action)


@app.command()
def validate(
    config: ConfigOption = Path("stockplan.yaml"),
    lang: LangOption = None,
    as_of: AsOfOption = None,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Check the config and every input file; write nothing."""
    view = _view_options(lang, as_of)

    def action() -> int:
        console = Console(quiet)
        _load(config, console, view)
        console.say("valid", config=config)
        return 0

    _guard(debug, action)


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Folder holding your ERP / shop exports.")],
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Config to write (default: FOLDER/stockplan.yaml)."),
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
) -> None:
    """Inspect export files, propose a column mapping and write a starter config."""
    _STATE["lang"] = lang.value if lang is not None else "en"

    def action() -> int:
        from stockplan.io.inspect import inspect_folder, starter_config
        from stockplan.io.writers import write_text

        console = Console(quiet)
        target = config or folder / "stockplan.yaml"
        guesses = inspect_folder(folder)
        tables: dict[str, str] = {}
        for guess in guesses:
            if guess.table is None:
                console.warn(
                    message("init.unknown", lang_now(), file=guess.path.name, problem=guess.problem)
                )
                continue
            if guess.table in tables:
                console.warn(
                    message(
                        "init.twice",
                        lang_now(),
                        file=guess.path.name,
                        table=guess.table,
                        used=tables[guess.table],
                    )
                )
                continue
            tables[guess.table] = guess.path.name
            mapped = ", ".join(
                name if src == name else f"{src} -> {name}" for name, src in guess.mapping.items()
            )
            console.say("init.file", file=guess.path.name, table=guess.table, mapped=mapped)
            if guess.unmapped:
                console.say("init.unmapped", headers=", ".join(guess.unmapped))
        text = starter_config(guesses, target.parent, lang.value if lang else None)
        write_text(target, text, overwrite=force)
        missing = [t for t in ("sales", "stock") if t not in tables]
        if missing:
            console.warn(
                message("init.missing", lang_now(), tables=" / ".join(missing), config=target)
            )
        console.say("init.wrote", config=target)
        return 0

    _guard(debug, action)


def main() -> None:
    """Console entry point."""
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")
    app()


if __name__ == "__main__":
    main()
