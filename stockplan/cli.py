"""stockplan command line: parse options, load config, run the pipeline, hand frames to a writer.

Heavy modules (polars, statsforecast, scipy) are imported inside the commands so that
`stockplan --help` answers at once. Exit codes: 0 ok, 1 user error, 2 usage error,
3 `--fail-on-risk` threshold reached, 4 internal error (a bug: please report it),
5 the plan was written but a `--notify` message could not be sent, 6 `verify`: not
reproduced, 7 `verify`: every number matches but a database input cannot be proven unchanged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
    "expiry_risk",
    "large_orders",
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


class Baseline(StrEnum):
    rule = "rule"
    history = "history"


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    xlsx = "xlsx"
    json = "json"
    parquet = "parquet"


class RiskLevel(StrEnum):
    high = "high"
    medium = "medium"
    new_high = "new-high"
    worse = "worse"


NEWS_LEVELS = {RiskLevel.new_high: ["high"], RiskLevel.worse: ["high", "medium"]}
EXIT_NOT_REPRODUCED = 6
EXIT_UNPROVABLE = 7


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


PreviousOption = Annotated[
    Path | None,
    typer.Option(
        "--previous",
        metavar="PLAN",
        help="An earlier plan (.xlsx, folder or risk file): --fail-on-risk new-high / worse "
        "and --notify then speak only of items whose risk is new or worse than in it.",
    ),
]
RiskOption = Annotated[
    RiskLevel | None,
    typer.Option(
        "--fail-on-risk",
        help="Exit 3 when any item is at this risk level or worse; new-high: only items newly "
        "at high risk since --previous; worse: only items at a higher level than in it.",
    ),
]


def _previous_risk(
    previous: Path | None, level: RiskLevel | None
) -> tuple[pl.DataFrame | None, str | None]:
    """(risk table, planning date) of the `--previous` plan; checks the options first."""
    if level in NEWS_LEVELS and previous is None:
        raise StockplanError(f"--fail-on-risk {level.value} needs --previous PLAN")
    if previous is None:
        return None, None
    from stockplan.io.planfiles import plan_table, read_plan

    tables, record = read_plan(previous)
    risk = plan_table(tables, "risk", previous)
    if "risk_level" not in risk.columns:
        raise StockplanError(f"{previous}: the risk table has no risk_level column")
    return risk, (record or {}).get("planning_date")


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

    alert = build_alert(
        result.tables["risk"],
        result.tables.get("orders"),
        tables.get("products"),
        result.as_of,
        _plan_location(output),
        cfg.notify.top,
        cfg.notify.language or cfg.planning.language,
        previous=previous[0],
        previous_as_of=previous[1],
    )
    if alert.high_risk == 0 and not cfg.notify.always:
        what = "newly at" if previous[0] is not None else "at"
        console.info(
            f"no item {what} high stockout risk: no alert sent (notify.always: true sends one)"
        )
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


def guarded(command: Callable[..., int | None]) -> Callable[..., None]:
    """A command whose body runs under `_guard`: user errors as one line and exit 1, bugs as
    one line and exit 4 (the traceback with its `--debug`), its return value the exit code."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        _guard(bool(kwargs.get("debug")), lambda: command(*args, **kwargs))

    return run


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
    except (typer.Exit, typer.Abort, typer.TyperException):  # typer's own exit paths
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
    from stockplan.api import read_inputs

    inputs = read_inputs(config)
    return inputs.tables, inputs.warnings


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
    from stockplan.api import Inputs, plan

    tables, warnings = _read_inputs(config)
    _loaded(console, tables, warnings)
    result = plan(Inputs(tables, warnings), config, progress=_progress(console))
    StageProgress.close_all()
    shown = result.order_lines
    if key:
        cache.store(folder, key, tables, warnings, result, {"orders_shown": shown})
    result.tables["orders_shown"] = shown
    return config, tables, result


def _plan_tables(result: Any, all_rows: bool) -> dict[str, pl.DataFrame]:
    """The plan's tables, orders with every row (--all) or the rows to show."""
    tables = {k: v for k, v in result.tables.items() if k != "orders_shown"}
    if not all_rows:
        tables["orders"] = result.tables["orders_shown"]
    return tables


# the columns of the tables that no stage module lists (their stages build them column by
# column); kept here so --sort and --columns are checked before any work
FORECAST_COLUMNS = [
    "sku", "location", "period_start", "forecast", "lo", "hi", "model", "promo_uplift"
]  # fmt: skip
CLASS_COLUMNS = [
    "sku", "location", "demand_pattern", "abc", "xyz", "n_periods", "adi", "cv2", "cv",
    "mean_demand", "annual_value", "stockout_periods", "promo_periods", "measured_uplift",
    "kit_share", "kits", "replaced_by", "replaced_from", "inherits_from",
]  # fmt: skip
SUPPLIER_COLUMNS = [
    "supplier", "receipts", "lead_time_mean_days", "lead_time_std_days", "on_time_rate",
    "fill_rate", "quantity_fill_rate", "quality_rate", "supplier_tier",
]  # fmt: skip
SIMULATION_TABLE_COLUMNS = [
    "policy", "target", "fill_rate", "cycle_service_level", "stockout_days",
    "avg_inventory_value", "orders_placed", "avg_inventory_units", "unmet_units", "series",
    "days", "policy_inventory_at_same_fill", "demand_pattern",
]  # fmt: skip


def _known_columns(table: str) -> list[str] | None:
    """The columns a table is written with, when fixed in advance (for --sort, --columns)."""
    from stockplan.caps import ITEM_COLUMNS
    from stockplan.excess import EXCESS_COLUMNS
    from stockplan.large_orders import LARGE_ORDER_COLUMNS
    from stockplan.notices import NOTICE_COLUMNS
    from stockplan.overrides import SCORE_COLUMNS
    from stockplan.plan import ORDER_COLUMNS, ORDER_DETAIL_COLUMNS
    from stockplan.purchasing import PO_SUMMARY_COLUMNS
    from stockplan.risk import RISK_COLUMNS
    from stockplan.shelf_life import EXPIRY_COLUMNS
    from stockplan.supplier_rules import SUPPLIER_ORDER_EXTRA
    from stockplan.transfers import TRANSFER_COLUMNS

    known = {
        "orders": [*ORDER_COLUMNS, *ORDER_DETAIL_COLUMNS, "name", "risk_level", *ITEM_COLUMNS],
        "risk": [*RISK_COLUMNS, "name"],
        "transfers": [*TRANSFER_COLUMNS, "name"],
        "excess": [*EXCESS_COLUMNS, "name"],
        "supplier_orders": [*PO_SUMMARY_COLUMNS, *SUPPLIER_ORDER_EXTRA],
        "notices": [*NOTICE_COLUMNS, "name"],
        "expiry_risk": [*EXPIRY_COLUMNS, "name"],
        "overrides": [*SCORE_COLUMNS, "name"],
        "large_orders": [*LARGE_ORDER_COLUMNS, "name"],
        "forecast": FORECAST_COLUMNS,
        "classes": CLASS_COLUMNS,
        "suppliers": SUPPLIER_COLUMNS,
        "simulation": SIMULATION_TABLE_COLUMNS,
    }.get(table)
    return [*known, "as_of"] if known else None


def _run_info(config_path: Path, config: Config, as_of: dt.date) -> dict[str, Any]:
    """What the XLSX summary sheet says about the run."""
    return {
        "as_of": as_of,
        "version": __version__,
        "config": str(config_path),
        "inputs": {name: str(f.path) for name, f in config.inputs or () if f is not None},
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
    record: Callable[[], dict] | None = None,
) -> None:
    """Send tables to a terminal table, stdout CSV or files (`escape`: io.csv_escape_formulas);
    files carry the run `record`."""
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
    record_file = None
    if record is not None:
        plan, record_file = _with_record(plan, target, record())
    written = write_files(
        plan, bom=bom, lang=view.lang if workbook else file_lang, info=info, escape=escape
    )
    if record_file is not None:
        from stockplan.io.writers import write_text

        write_text(record_file[0], record_file[1], overwrite=True)
        written.append(record_file[0])
    console.say("wrote", paths=", ".join(str(p) for p in written))


def _with_record(files: dict, target: Path, record: dict) -> tuple[dict, tuple[Path, str] | None]:
    """Add the run record: a `run` sheet to a workbook, else `run.json` in a folder or
    `FILE.run.json` beside a single file."""
    import json

    from stockplan.io.planfiles import RUN_JSON, RUN_SHEET, record_beside
    from stockplan.io.runrecord import record_frame

    if any(fmt == "xlsx" for _, fmt in files.values()):
        sheet = {RUN_SHEET: record_frame(record)}
        return {p: ((t | sheet, f) if f == "xlsx" else (t, f)) for p, (t, f) in files.items()}, None
    where = target / RUN_JSON if target.is_dir() else record_beside(target)
    return files, (where, json.dumps(record, indent=2, ensure_ascii=False) + "\n")


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
    from stockplan.items import item_names

    files = supplier_workbooks(
        projection, supplier_summary(projection), folder, result.as_of, item_names(tables)
    )
    folder.mkdir(exist_ok=True)
    written = write_files(files, lang=cfg.planning.language)  # in the buyer's language
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
            "inputs.customer_orders).",
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
    bom: BomOption = False,
    debug: DebugOption = False,
    notify: NotifyOption = None,
    supplier_forecast: SupplierForecastOption = None,
    no_cache: NoCacheOption = False,
) -> int:
    """Write purchase suggestions (orders) and stockout risk for every sku x location."""
    name = table.value
    _check_target(output, format)
    view = _view_options(lang, as_of, limit, sort, columns, headers)
    view.check_columns(_known_columns(name) if view.sort or view.columns else None)

    from stockplan.items import for_people, item_names

    console = Console(quiet)
    if supplier_forecast is not None:
        from stockplan.io.supplier_workbooks import check_supplier_folder

        check_supplier_folder(supplier_forecast)
    earlier = _previous_risk(previous, fail_on_risk)
    cfg, tables, result = _planned(config, console, view, not no_cache, notify)
    result.tables = _plan_tables(result, all_rows)
    if name == "expiry_risk" and name not in result.tables:
        raise StockplanError(message("no_expiry", view.lang))
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
        record=_recorder(
            config,
            cfg,
            result.as_of,
            "plan",
            {"all": all_rows, "table": name, "lang": view.lang},
        ),
    )
    if supplier_forecast is not None:
        _write_supplier_forecast(result, cfg, tables, supplier_forecast, console)
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
            what = (
                "newly at high stockout risk since"
                if level == RiskLevel.new_high
                else "at a higher stockout risk level than in"
            )
            console.info(f"{news.height} items {what} --previous: exit {EXIT_RISK}")
            return EXIT_RISK
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
    extra: Callable[[Any, Console, pl.DataFrame | None], int] | None = None,
    notify: list[str] | None = None,
    previous: Path | None = None,
    fail_on_risk: RiskLevel | None = None,
    no_cache: bool = False,
) -> int:
    _check_target(output, format)
    view.check_columns(_known_columns(name) if view.sort or view.columns else None)

    from stockplan.items import for_people, item_names

    console = Console(quiet)
    earlier = _previous_risk(previous, fail_on_risk)
    if name in _LEAN_TABLES:
        cfg, tables, frame, as_of = _LEAN_TABLES[name](config, console, view, not no_cache)
        result = None
    else:
        cfg, tables, result = _planned(config, console, view, not no_cache, notify)
        result.tables = _plan_tables(result, all_rows=True)
        for note in result.notes:
            console.info(note)
        if name == "expiry_risk" and name not in result.tables:
            raise StockplanError(message("no_expiry", view.lang))
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
        record=_recorder(config, cfg, as_of, name, {"all": True, "table": name, "lang": view.lang}),
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
    bom: BomOption = False,
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
    from stockplan.io.prepare import ROW, check_purchase_orders
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
        check_purchase_orders(orders, getattr(spec, "path", Path("purchase_orders")))
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
        bom: BomOption = False,
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
    bom: BomOption = False,
    debug: DebugOption = False,
) -> int:
    """Score every past forecast override against the statistical forecast on what actually
    sold (forecast value added)."""
    view = _view_options(lang, as_of, limit, sort, columns, headers)
    _check_target(output, format)
    view.check_columns(_known_columns("overrides"))

    from stockplan.items import for_people, item_names
    from stockplan.pipeline import override_scores

    console = Console(quiet)
    cfg, tables = _load(config, console, view)
    if tables.get("overrides") is None:
        raise StockplanError(message("no_overrides", view.lang))
    planned_as_of, scores = override_scores(tables, cfg, progress=_progress(console))
    StageProgress.close_all()
    shown = for_people({"overrides": scores}, item_names(tables), planned_as_of)
    _emit(
        shown,
        "overrides",
        output,
        format,
        bom,
        console,
        message("title.overrides", view.lang, as_of=planned_as_of),
        view,
        _run_info(config, cfg, planned_as_of),
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

    import shutil

    import polars as pl
    from rich.console import Console as RichConsole
    from rich.panel import Panel
    from rich.text import Text

    from stockplan.api import explain as api_explain
    from stockplan.explain import item_lines
    from stockplan.items import item_names
    from stockplan.report import explain_chart, explain_lines

    console = Console(quiet)
    # the whole plan (kept from the last run on these inputs when unchanged), so these
    # are the plan's own rows (after promotions, transfers, backup supplier and budget)
    cfg, tables, result = _planned(config, console, view, not no_cache)
    result.tables = _plan_tables(result, all_rows=True)
    StageProgress.close_all()  # no spinner inside the panels below
    shown = api_explain(result, sku, location, history_periods=history_periods, lang=view.lang)
    if shown.kit_components:
        parts = ", ".join(shown.kit_components)
        typer.echo(message("explain.kit_only", view.lang, sku=sku, parts=parts))
        return 0
    orders, risk, forecast = shown.orders, shown.risk, shown.forecast
    projection, history = shown.projection, shown.history
    names = item_names(tables).filter(pl.col("sku") == sku)["name"].to_list()
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
        ) + item_lines(order, view.lang)
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


@app.command()
@guarded
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
    bom: BomOption = False,
    debug: DebugOption = False,
) -> int:
    """Replay history with the policy (each target in simulate.targets) and a rule-of-thumb
    baseline; report fill rate, cycle service level, stockout days, inventory and orders."""
    _check_target(output, format)
    if plot is not None and plot.suffix.lower() != ".png":
        raise typer.BadParameter(
            f"{plot}: the chart is a PNG file (use a .png name)", param_hint="'--plot'"
        )
    view = _view_options(lang, as_of, limit, sort, columns, headers)
    view.check_columns(_known_columns("simulation") if view.sort or view.columns else None)

    from stockplan.api import Inputs
    from stockplan.api import simulate as api_simulate

    console = Console(quiet)
    if plot is not None and plot.suffix.lower() != ".png":
        raise StockplanError(f"--plot {plot}: the chart is a PNG file (use a .png name)")
    cfg, tables = _load(config, console, view)

    def replaying(start: dt.date, days: int, series: int) -> None:
        StageProgress.close_all()
        console.say("replaying", days=days, start=start, series=series)

    run = api_simulate(
        Inputs(tables),
        cfg,
        baselines=[b.value for b in baseline or [Baseline.rule]],
        progress=_progress(console),
        replaying=replaying,
    )
    StageProgress.close_all()
    planning_date, tables_out, simulation = run.as_of, run.tables, run.simulation
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
    by_pattern = tables_out["simulation_by_pattern"]
    if "policy_inventory_at_same_fill" in by_pattern.columns:
        for row in by_pattern.drop_nulls("policy_inventory_at_same_fill").iter_rows(named=True):
            console.info(
                f"{row['demand_pattern']}, {row['policy']}: fill rate "
                f"{row['fill_rate']:.1%} with {row['avg_inventory_value']:,.0f}; the policy "
                f"reaches it with {row['policy_inventory_at_same_fill']:,.0f}"
            )
    if run.set_aside_units:
        console.info(
            f"{run.set_aside_units:,.0f} units of large one-off order lines were "
            "replayed as make-to-order demand, not served from stock"
        )
    import polars as pl

    tables_out["simulation"] = simulation
    tables_out = {
        name: frame.with_columns(pl.lit(planning_date).alias("as_of"))
        for name, frame in tables_out.items()
    }
    _emit(
        tables_out,
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


@app.command()
@guarded
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
    lang: LangOption = None,
    as_of: AsOfOption = None,
    quiet: QuietOption = False,
    debug: DebugOption = False,
    no_cache: NoCacheOption = False,
) -> int:
    """Write a one-page visual report (self-contained HTML, works offline): value at risk,
    stockout dates, cover by ABC class, excess and dead stock, suppliers, simulation."""
    view = _view_options(lang, as_of)

    from stockplan.io.writers import write_bytes
    from stockplan.report_html import html_report

    console = Console(quiet)
    if output.suffix.lower() not in (".html", ".htm"):
        raise StockplanError(f"-o {output}: the report is an HTML file (use a .html name)")
    cfg, tables, result = _planned(config, console, view, not no_cache)
    result.tables = _plan_tables(result, all_rows=True)
    simulation = None
    if with_simulation:
        from stockplan.api import Inputs, simulate

        simulation = simulate(Inputs(tables), cfg, progress=_progress(console)).simulation
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
) -> int:
    """Inspect export files, propose a column mapping and write a starter config."""
    _STATE["lang"] = lang.value if lang is not None else "en"

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
        console.warn(message("init.missing", lang_now(), tables=" / ".join(missing), config=target))
    console.say("init.wrote", config=target)
    return 0


@app.command()
@guarded
def diff(
    old: Annotated[
        Path, typer.Argument(help="The earlier plan: .xlsx, output folder or orders file.")
    ],
    new: Annotated[Path, typer.Argument(help="The later plan, written the same way.")],
    output: OutputOption = None,
    format: FormatOption = None,
    all_rows: Annotated[
        bool, typer.Option("--all", help="Also list lines whose order quantity is unchanged.")
    ] = False,
    quiet: QuietOption = False,
    bom: BomOption = False,
    debug: DebugOption = False,
) -> int:
    """Order lines that appeared, vanished or changed between two plans, and why.

    Each change is split into the parts due to config, demand, lead time, safety stock,
    stock position and constraints; they add up to the change. Plans written with --all
    give every line its causes."""

    from stockplan.diff import plan_diff
    from stockplan.io.planfiles import plan_table, read_plan

    console = Console(quiet)
    old_tables, old_record = read_plan(old)
    new_tables, new_record = read_plan(new)
    changes = plan_diff(
        plan_table(old_tables, "orders", old), plan_table(new_tables, "orders", new), all_rows
    )
    for path, record in ((old, old_record), (new, new_record)):
        if record and not (record.get("options") or {}).get("all", True):
            console.warn(
                f"{path} was written without --all: its lines with nothing to order are "
                "missing, so a line that appears or vanishes there has no causes"
            )
    dates = [(r or {}).get("planning_date") or "?" for r in (old_record, new_record)]
    configs = [((r or {}).get("config") or {}).get("sha256") for r in (old_record, new_record)]
    if None not in configs:
        same = "the same config" if configs[0] == configs[1] else "a changed config"
        console.info(f"plans as of {dates[0]} and {dates[1]}, with {same}")
    console.info(
        ", ".join(
            f"{(changes['change'] == kind).sum()} {kind}"
            for kind in ("appeared", "vanished", "changed")
        )
        + " order lines"
    )
    _emit(
        {"diff": changes},
        "diff",
        output,
        format,
        bom,
        console,
        f"Plan changes {dates[0]} -> {dates[1]}",
    )
    return 0


@app.command()
@guarded
def verify(
    plan_path: Annotated[
        Path, typer.Argument(metavar="PLAN", help="A plan written by stockplan (.xlsx, folder).")
    ],
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> int:
    """Re-run a plan from its run record: do the inputs and every number match?

    Exit 0: reproduced; 6: an input changed or a number differs; 7: every number matches
    but a database input cannot be proven unchanged."""

    import datetime as dt

    from stockplan.config import load_config
    from stockplan.io.planfiles import read_plan, written_like
    from stockplan.io.prepare import prepare_inputs
    from stockplan.io.readers import load_inputs
    from stockplan.io.runrecord import changed_inputs
    from stockplan.pipeline import run_plan
    from stockplan.reproduce import compare_plans

    console = Console(quiet)
    tables, record = read_plan(plan_path)
    if not record or "config" not in record:
        raise StockplanError(
            f"{plan_path}: no run record (plans written to .xlsx or a folder carry one)"
        )
    changed, unprovable = changed_inputs(record)
    for line in changed:
        sys.stderr.write(f"stockplan: input changed: {line}\n")
    if record.get("stockplan_version") != __version__:
        console.warn(
            f"written by stockplan {record.get('stockplan_version')}, re-run with {__version__}"
        )
    config_path = Path(record["config"]["path"])
    if not config_path.is_file():
        console.info(f"{plan_path}: NOT reproduced (its config is gone): exit 6")
        return EXIT_NOT_REPRODUCED
    cfg = load_config(config_path)
    as_of = dt.date.fromisoformat(record["planning_date"])
    cfg = cfg.model_copy(update={"planning": cfg.planning.model_copy(update={"as_of": as_of})})
    prepared = prepare_inputs(load_inputs(cfg), cfg)
    options = record.get("options") or {}
    command, table = record.get("command", "plan"), options.get("table") or "orders"
    result = run_plan(
        prepared.tables,
        cfg,
        include_all=bool(options.get("all")),
        progress=_progress(console),
    )
    StageProgress.close_all()
    from stockplan.items import for_people, item_names

    people = for_people(result.tables, item_names(prepared.tables), result.as_of)
    rerun = people if command == "plan" else {table: people[table]}
    lang = options.get("lang") or cfg.planning.language
    again = written_like(plan_path, rerun, table, lang)
    differences = compare_plans(tables, again)
    for line in differences:
        sys.stderr.write(f"stockplan: differs: {line}\n")
    for line in unprovable:
        sys.stderr.write(f"stockplan: cannot be proven unchanged (a database): {line}\n")
    if changed or differences:
        console.info(f"{plan_path}: NOT reproduced: exit {EXIT_NOT_REPRODUCED}")
        return EXIT_NOT_REPRODUCED
    if unprovable:
        console.info(
            f"{plan_path}: every number matches, but a database input cannot be proven "
            f"unchanged: exit {EXIT_UNPROVABLE}"
        )
        return EXIT_UNPROVABLE
    console.info(f"{plan_path}: reproduced: same inputs, every number matches")
    return 0


def main() -> None:
    """Console entry point."""
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")
    app()


if __name__ == "__main__":
    main()
