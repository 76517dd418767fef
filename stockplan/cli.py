"""stockplan command line: parse options, load config, run the pipeline, hand frames to a writer.

Heavy modules (polars, statsforecast, scipy) are imported inside the commands so that
`stockplan --help` answers at once. Exit codes: 0 ok, 1 user error, 2 usage error,
3 `--fail-on-risk` threshold reached, 4 internal error (a bug: please report it).
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
    "large_orders",
)
EXIT_USER_ERROR = 1
EXIT_RISK = 3
EXIT_INTERNAL = 4

app = typer.Typer(
    name="stockplan",
    help="Replenishment planner: what to buy, from whom, how much, and what will run out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
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
) -> None:
    """Send tables to a terminal table, stdout CSV or files."""
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
    written = write_files(output_plan(tables, Path(output), file_format, primary), bom=bom)
    console.info("wrote " + ", ".join(str(p) for p in written))


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
    fail_on_risk: Annotated[
        RiskLevel | None,
        typer.Option("--fail-on-risk", help="Exit 3 when any item is at this risk level or worse."),
    ] = None,
    quiet: QuietOption = False,
    bom: BomOption = False,
    debug: DebugOption = False,
) -> None:
    """Write purchase suggestions (orders) and stockout risk for every sku x location."""

    def action() -> int:
        from stockplan.pipeline import run_plan

        console = Console(quiet)
        cfg, tables = _load(config, console)
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
        )
        return _risk_exit(risk, fail_on_risk, console)

    _guard(debug, action)


def _risk_exit(risk: pl.DataFrame, level: RiskLevel | None, console: Console) -> int:
    if level is None:
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
    extra: Callable[[Any, Console], int] | None = None,
) -> None:
    def action() -> int:
        from stockplan.pipeline import run_plan

        console = Console(quiet)
        cfg, tables = _load(config, console)
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
        )
        return extra(result.tables[name], console) if extra else 0

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
    quiet: QuietOption = False,
    bom: BomOption = False,
    debug: DebugOption = False,
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
        extra=lambda frame, console: _risk_exit(frame, fail_on_risk, console),
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
_table_command(
    "large-orders",
    "large_orders",
    "Large one-off order lines",
    "Order lines far above the item's usual line (policy.large_order_factor x its median) "
    "and whether the stock target covers them or sets them aside as make-to-order.",
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
            replay_policies,
        )

        console = Console(quiet)
        if plot is not None and plot.suffix.lower() != ".png":
            raise StockplanError(f"--plot {plot}: the chart is a PNG file (use a .png name)")
        cfg, tables = _load(config, console)
        replay = prepare_replay(tables, cfg, progress=_progress(console))
        StageProgress.close_all()
        console.info(
            f"replaying {replay.demand.shape[1] - BASELINE_HISTORY_DAYS} days from {replay.start} "
            f"for {replay.series.height} series"
        )
        tables_out = replay_policies(replay, cfg)
        simulation = tables_out["simulation"]
        StageProgress.close_all()
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
        by_pattern = tables_out["simulation_by_pattern"]
        if "policy_inventory_at_same_fill" in by_pattern.columns:
            for row in by_pattern.drop_nulls("policy_inventory_at_same_fill").iter_rows(named=True):
                console.info(
                    f"{row['demand_pattern']}, {row['policy']}: fill rate "
                    f"{row['fill_rate']:.1%} with {row['avg_inventory_value']:,.0f}; the policy "
                    f"reaches it with {row['policy_inventory_at_same_fill']:,.0f}"
                )
        if replay.set_aside_units:
            console.info(
                f"{replay.set_aside_units:,.0f} units of large one-off order lines were "
                "replayed as make-to-order demand, not served from stock"
            )
        _emit(
            tables_out,
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


def main() -> None:
    """Console entry point."""
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")
    app()


if __name__ == "__main__":
    main()
