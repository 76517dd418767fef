"""stockplan command line: parse options, load config, run the pipeline, hand frames to a writer.

Heavy modules (polars, statsforecast, scipy) are imported inside the commands so that
`stockplan --help` answers at once. Exit codes: 0 ok, 1 user error, 2 usage error,
3 `--fail-on-risk` threshold reached, 4 internal error (a bug: please report it),
5 the plan was written but a `--notify` message could not be sent, 6 `verify`: not
reproduced, 7 `verify`: every number matches but a database input cannot be proven unchanged.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from stockplan import __version__
from stockplan.errors import StockplanError

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
EXIT_USER_ERROR = 1
EXIT_RISK = 3
EXIT_INTERNAL = 4
EXIT_NOTIFY = 5

app = typer.Typer(
    name="stockplan",
    help="Replenishment planner: what to buy, from whom, how much, and what will run out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
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
        cfg.notify.language,
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


class Console:
    """Messages for the user, always on stderr so stdout stays clean for pipes."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def info(self, message: str) -> None:
        if not self.quiet:
            sys.stderr.write(f"stockplan: {message}\n")

    def warn(self, message: str) -> None:
        if not self.quiet:
            sys.stderr.write(f"stockplan: warning: {message}\n")


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
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
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
        sys.stderr.write(f"stockplan: error: {exc}\n")
        raise typer.Exit(EXIT_USER_ERROR) from None
    except KeyboardInterrupt:
        sys.stderr.write("stockplan: interrupted\n")
        raise typer.Exit(130) from None
    except OSError as exc:
        if not _broken_pipe(exc):
            raise _internal(exc, debug) from None
        # the reader went away (`stockplan plan -o - | head`): not an error of ours
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:  # a bug: still one line, no traceback unless asked
        raise _internal(exc, debug) from None
    if code:
        raise typer.Exit(code)


def _load(config_path: Path, console: Console) -> tuple[Config, dict[str, pl.DataFrame]]:
    from stockplan.config import load_config
    from stockplan.io.prepare import prepare_inputs
    from stockplan.io.readers import load_inputs

    config = load_config(config_path)
    tables = load_inputs(config)
    prepared = prepare_inputs(tables, config)
    for warning in prepared.warnings:
        console.warn(warning)
    counts = ", ".join(f"{name} {frame.height:,}" for name, frame in prepared.tables.items())
    console.info(f"loaded {counts} rows")
    return config, prepared.tables


def _emit(
    tables: dict[str, pl.DataFrame],
    primary: str,
    output: str | None,
    fmt: OutputFormat | None,
    bom: bool,
    console: Console,
    title: str,
    record: Callable[[], dict] | None = None,
) -> None:
    """Send tables to a terminal table, stdout CSV or files; files carry the run `record`."""
    from stockplan.io.writers import output_plan, write_csv, write_files

    to_terminal = output is None and (
        fmt == OutputFormat.table or (fmt is None and sys.stdout.isatty())
    )
    if to_terminal:
        from rich.console import Console as RichConsole

        from stockplan.report import rich_table

        RichConsole().print(rich_table(tables[primary], title, primary))
        return
    if output is None or output == "-":
        if fmt not in (None, OutputFormat.csv, OutputFormat.table):
            raise StockplanError(f"--format {fmt.value} cannot go to stdout; use -o FILE")
        write_csv(tables[primary], sys.stdout.buffer, bom=bom)
        sys.stdout.flush()
        return
    file_format = None if fmt in (None, OutputFormat.table) else fmt.value
    files = output_plan(tables, Path(output), file_format, primary)
    record_file = None
    if record is not None:
        files, record_file = _with_record(files, Path(output), record())
    written = write_files(files, bom=bom)
    if record_file is not None:
        from stockplan.io.writers import write_text

        write_text(record_file[0], record_file[1], overwrite=True)
        written.append(record_file[0])
    console.info("wrote " + ", ".join(str(p) for p in written))


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
    plain `stockplan: stage ...` lines otherwise, nothing with --quiet."""

    active: list[StageProgress] = []

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = None
        self.task = None
        if not console.quiet and sys.stderr.isatty():
            from rich.console import Console as RichConsole
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                SpinnerColumn(finished_text="[green]✓"),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=RichConsole(stderr=True),
            )
            self.progress.start()
            StageProgress.active.append(self)

    def __call__(self, message: str) -> None:
        if self.progress is None:
            self.console.info(message + " ...")
            return
        self._finish_task()
        self.task = self.progress.add_task(message, total=1)

    def _finish_task(self) -> None:
        """Tick the stage off; a stage that took under a second is not worth a line."""
        if self.progress is not None and self.task is not None:
            task = next(t for t in self.progress.tasks if t.id == self.task)
            elapsed = task.elapsed or 0.0
            if elapsed < 1.0:
                self.progress.remove_task(self.task)
            else:
                self.progress.update(self.task, completed=1)
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


@app.command()
def plan(
    config: ConfigOption = Path("stockplan.yaml"),
    output: OutputOption = None,
    format: FormatOption = None,
    table: Annotated[
        str,
        typer.Option(
            "--table",
            "-t",
            help="Table for one-file output or stdout: orders, risk, transfers, excess, "
            "supplier_orders, forecast, classes, suppliers, notices (with customer_orders).",
        ),
    ] = "orders",
    all_rows: Annotated[
        bool, typer.Option("--all", help="Include sku x location rows with nothing to order.")
    ] = False,
    fail_on_risk: RiskOption = None,
    previous: PreviousOption = None,
    quiet: QuietOption = False,
    bom: BomOption = False,
    debug: DebugOption = False,
    notify: NotifyOption = None,
) -> None:
    """Write purchase suggestions (orders) and stockout risk for every sku x location."""

    def action() -> int:
        from stockplan.pipeline import run_plan

        console = Console(quiet)
        earlier = _previous_risk(previous, fail_on_risk)
        cfg, tables = _load(config, console)
        if notify:
            from stockplan.notify import check_channels

            check_channels(cfg.notify, notify)
        if table not in TABLES:
            raise StockplanError(f"--table: unknown table '{table}' ({', '.join(TABLES)})")
        result = run_plan(tables, cfg, include_all=all_rows, progress=_progress(console))
        StageProgress.close_all()
        if table not in result.tables:
            raise StockplanError(
                f"--table {table}: there is no {table} table without inputs.customer_orders"
            )
        orders, risk = result.tables["orders"], result.tables["risk"]
        value = orders["order_value"].sum()
        console.info(
            f"plan as of {result.as_of}: {(orders['order_qty'] > 0).sum()} order lines, "
            f"value {value:,.2f} {cfg.planning.currency}; "
            f"{risk.filter(risk['risk_level'] == 'high').height} items at high stockout risk"
        )
        _emit(
            result.tables,
            table,
            output,
            format,
            bom,
            console,
            f"Purchase suggestions as of {result.as_of}",
            record=_recorder(config, cfg, result.as_of, "plan", {"all": all_rows, "table": table}),
        )
        code = _risk_exit(risk, fail_on_risk, console, earlier[0])
        return _notify(notify, cfg, result, tables, output, console, earlier) or code

    _guard(debug, action)


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
        console.info(f"{hits} items at {level.value} stockout risk or worse: exit {EXIT_RISK}")
        return EXIT_RISK
    return 0


def _single_table_command(
    name: str,
    title: str,
    config: Path,
    output: str | None,
    format: OutputFormat | None,
    quiet: bool,
    bom: bool,
    debug: bool,
    extra: Callable[[Any, Console, pl.DataFrame | None], int] | None = None,
    notify: list[str] | None = None,
    previous: Path | None = None,
    fail_on_risk: RiskLevel | None = None,
) -> None:
    def action() -> int:
        from stockplan.pipeline import run_plan

        console = Console(quiet)
        earlier = _previous_risk(previous, fail_on_risk)
        cfg, tables = _load(config, console)
        if notify:
            from stockplan.notify import check_channels

            check_channels(cfg.notify, notify)
        result = run_plan(tables, cfg, include_all=True, progress=_progress(console))
        StageProgress.close_all()
        if name not in result.tables:
            raise StockplanError(f"there is no {name} table without inputs.customer_orders")
        _emit(
            {name: result.tables[name]},
            name,
            output,
            format,
            bom,
            console,
            f"{title} as of {result.as_of}",
            record=_recorder(config, cfg, result.as_of, name, {"all": True, "table": name}),
        )
        code = extra(result.tables[name], console, earlier[0]) if extra else 0
        return _notify(notify, cfg, result, tables, output, console, earlier) or code

    _guard(debug, action)


@app.command()
def risk(
    config: ConfigOption = Path("stockplan.yaml"),
    output: OutputOption = None,
    format: FormatOption = None,
    fail_on_risk: RiskOption = None,
    previous: PreviousOption = None,
    quiet: QuietOption = False,
    bom: BomOption = False,
    debug: DebugOption = False,
    notify: NotifyOption = None,
) -> None:
    """Stockout risk for every sku x location, highest first."""
    _single_table_command(
        "risk",
        "Stockout risk",
        config,
        output,
        format,
        quiet,
        bom,
        debug,
        extra=lambda frame, console, earlier: _risk_exit(frame, fail_on_risk, console, earlier),
        notify=notify,
        previous=previous,
        fail_on_risk=fail_on_risk,
    )


def _table_command(name: str, table: str, title: str, doc: str) -> None:
    """Register a command that runs the plan and writes one of its tables."""

    def command(
        config: ConfigOption = Path("stockplan.yaml"),
        output: OutputOption = None,
        format: FormatOption = None,
        quiet: QuietOption = False,
        bom: BomOption = False,
        debug: DebugOption = False,
    ) -> None:
        _single_table_command(table, title, config, output, format, quiet, bom, debug)

    command.__doc__ = doc
    app.command(name=name)(command)


_table_command(
    "forecast",
    "forecast",
    "Forecast",
    "Demand forecast per sku x location and future bucket, with interval and model.",
)
_table_command(
    "classify",
    "classes",
    "Demand classes",
    "ABC / XYZ class and demand pattern (smooth, erratic, intermittent, lumpy, new, dead).",
)
_table_command(
    "notices",
    "notices",
    "Customer restock notices",
    "Open customer orders that stock on hand cannot fill today, with the expected ship date "
    "and a message for the customer (needs inputs.customer_orders).",
)
_table_command(
    "suppliers",
    "suppliers",
    "Suppliers",
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
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Show the numbers behind one SKU's order: position, demand, safety stock, reason, chart."""

    def action() -> int:
        import shutil

        import polars as pl
        from rich.console import Console as RichConsole
        from rich.panel import Panel
        from rich.text import Text

        from stockplan.explain import recent_history, stock_projection
        from stockplan.pipeline import run_plan
        from stockplan.report import explain_chart, explain_lines

        console = Console(quiet)
        cfg, tables = _load(config, console)
        known = tables["stock"]["sku"].to_list() + tables["sales"]["sku"].to_list()
        if sku not in set(known):
            raise StockplanError(f"SKU '{sku}' is in neither the sales nor the stock file")
        result = run_plan(tables, cfg, include_all=True, progress=_progress(console), skus=[sku])
        orders = result.tables["orders"]
        if location is not None:
            orders = orders.filter(pl.col("location") == location)
            if orders.height == 0:
                raise StockplanError(f"SKU '{sku}' has no stock or sales at location '{location}'")
        risk = result.tables["risk"]
        forecast = result.tables["forecast"]
        projection = stock_projection(orders, forecast, result.open_po, result.bucket_days)
        history = recent_history(result.history, result.as_of, history_periods)
        out = RichConsole()
        width = min(shutil.get_terminal_size((100, 30)).columns, 120)
        if cfg.purchasing.budget is not None:
            console.warn(
                "purchasing.budget is applied across the whole plan, so these rows are "
                "before any budget cut; `stockplan plan` shows the cut lines"
            )
        for order in orders.iter_rows(named=True):
            key = (pl.col("sku") == order["sku"]) & (pl.col("location") == order["location"])
            risk_rows = risk.filter(key).to_dicts()
            lines = explain_lines(
                order,
                risk_rows[0] if risk_rows else None,
                cfg.policy.service_measure,
                cfg.planning.currency,
            )
            out.print(
                Panel(
                    "\n".join(lines),
                    title=f"{order['sku']} @ {order['location']} as of {result.as_of}",
                    expand=False,
                )
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
) -> None:
    """Replay history with the policy (each target in simulate.targets) and a rule-of-thumb
    baseline; report fill rate, cycle service level, stockout days, inventory and orders."""

    def action() -> int:
        from stockplan.simulate import (
            BASELINE_HISTORY_DAYS,
            prepare_replay,
            simulate_policies,
        )

        console = Console(quiet)
        if plot is not None and plot.suffix.lower() != ".png":
            raise StockplanError(f"--plot {plot}: the chart is a PNG file (use a .png name)")
        cfg, tables = _load(config, console)
        if Baseline.history in (baseline or []):
            from stockplan.history_replay import check_history

            check_history(tables.get("purchase_orders"))
        replay = prepare_replay(tables, cfg, progress=_progress(console))
        StageProgress.close_all()
        console.info(
            f"replaying {replay.demand.shape[1] - BASELINE_HISTORY_DAYS} days from {replay.start} "
            f"for {replay.series.height} series"
        )
        simulation = simulate_policies(replay, cfg)
        StageProgress.close_all()
        simulation = _with_baselines(simulation, replay, tables, cfg, baseline or [Baseline.rule])
        for row in simulation.drop_nulls("policy_inventory_at_same_fill").iter_rows(named=True):
            console.info(
                f"{row['policy']}: fill rate {row['fill_rate']:.1%} with "
                f"{row['avg_inventory_value']:,.0f} {cfg.planning.currency} of stock; the policy "
                f"reaches it with {row['policy_inventory_at_same_fill']:,.0f}"
            )
        png = None
        if plot is not None:
            from stockplan.charts import tradeoff_png

            if not plot.parent.exists():
                raise StockplanError(f"{plot}: output folder {plot.parent} does not exist")
            png = tradeoff_png(simulation, cfg.planning.currency, cfg.policy.service_measure)
        _emit(
            {"simulation": simulation},
            "simulation",
            output,
            format,
            bom,
            console,
            f"Policy simulation ({cfg.policy.service_measure} targets), "
            f"{cfg.simulate.unmet_demand} sales",
        )
        if plot is not None and png is not None:
            from stockplan.io.writers import write_bytes

            write_bytes(plot, png)
            console.info(f"wrote {plot}")
        return 0

    _guard(debug, action)


def _with_baselines(
    simulation: pl.DataFrame, replay: Any, tables: dict, cfg: Config, baselines: list[Baseline]
) -> pl.DataFrame:
    """Keep the rule-of-thumb rows only when asked; add your buyers' row for `history`."""
    import polars as pl

    from stockplan.simulate import inventory_at_fill_rate

    if Baseline.rule not in baselines:
        simulation = simulation.filter(pl.col("policy") == "stockplan")
    if Baseline.history not in baselines:
        return simulation
    from stockplan.history_replay import history_baseline

    backorder = cfg.simulate.unmet_demand == "backorder"
    row = history_baseline(replay, tables.get("purchase_orders"), backorder)
    row["policy_inventory_at_same_fill"] = inventory_at_fill_rate(simulation, row["fill_rate"])
    buyers = pl.DataFrame([row], schema=simulation.schema)
    return pl.concat([simulation, buyers.select(simulation.columns)])


@app.command()
def validate(
    config: ConfigOption = Path("stockplan.yaml"),
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Check the config and every input file; write nothing."""

    def action() -> int:
        console = Console(quiet)
        _load(config, console)
        if not quiet:
            sys.stderr.write(f"stockplan: {config}: config and inputs are valid\n")
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
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Inspect export files, propose a column mapping and write a starter config."""

    def action() -> int:
        from stockplan.io.inspect import inspect_folder, starter_config
        from stockplan.io.writers import write_text

        console = Console(quiet)
        target = config or folder / "stockplan.yaml"
        guesses = inspect_folder(folder)
        tables: dict[str, str] = {}
        for guess in guesses:
            if guess.table is None:
                console.warn(f"{guess.path.name}: not recognised ({guess.problem})")
                continue
            if guess.table in tables:
                console.warn(
                    f"{guess.path.name}: also looks like {guess.table}; using {tables[guess.table]}"
                )
                continue
            tables[guess.table] = guess.path.name
            mapped = ", ".join(
                name if src == name else f"{src} -> {name}" for name, src in guess.mapping.items()
            )
            console.info(f"{guess.path.name}: {guess.table} ({mapped})")
            if guess.unmapped:
                console.info(f"  not recognised: {', '.join(guess.unmapped)}")
        write_text(target, starter_config(guesses, target.parent), overwrite=force)
        missing = [t for t in ("sales", "stock") if t not in tables]
        if missing:
            console.warn(f"no {' or '.join(missing)} file found: add it to {target}")
        console.info(f"wrote {target}; check it, then: stockplan validate -c {target}")
        return 0

    _guard(debug, action)


@app.command()
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
) -> None:
    """Order lines that appeared, vanished or changed between two plans, and why.

    Each change is split into the parts due to config, demand, lead time, safety stock,
    stock position and constraints; they add up to the change. Plans written with --all
    give every line its causes."""

    def action() -> int:
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

    _guard(debug, action)


@app.command()
def verify(
    plan_path: Annotated[
        Path, typer.Argument(metavar="PLAN", help="A plan written by stockplan (.xlsx, folder).")
    ],
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Re-run a plan from its run record: do the inputs and every number match?

    Exit 0: reproduced; 6: an input changed or a number differs; 7: every number matches
    but a database input cannot be proven unchanged."""

    def action() -> int:
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
        rerun = result.tables if command == "plan" else {table: result.tables[table]}
        again = written_like(plan_path, rerun, table)
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

    _guard(debug, action)


def main() -> None:
    """Console entry point."""
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")
    app()


if __name__ == "__main__":
    main()
