"""How the command line shows things: messages on stderr, stage progress, the error guard
every command runs under, and tables sent to a terminal, stdout or files.

Nothing here computes a plan; the commands (`stockplan.cli`) hand it frames to show.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import os
import sys
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from stockplan.errors import StockplanError, safe_text

if TYPE_CHECKING:
    import polars as pl
    from rich.console import Console as RichConsole

    from stockplan.api import Explanation
    from stockplan.config import Config

EXIT_USER_ERROR = 1
EXIT_INTERNAL = 4


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    xlsx = "xlsx"
    json = "json"
    parquet = "parquet"


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


def shell_word(text: str) -> str:
    """`text` quoted for the shell it would be pasted into (`'my data/x.yaml'`; cmd.exe's
    double quotes on Windows), as is when it needs none."""
    if os.name == "nt":
        import subprocess

        return subprocess.list2cmdline([text])
    import shlex

    return shlex.quote(text)


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
        _STATE["chosen"] = self.lang_option or ""
        self.limit = limit
        self.sort = sort
        self.columns = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
        self.headers = headers
        self.as_of = as_of.date() if as_of else None

    def configure(self, config: Config) -> Config:
        """The config with --lang and --as-of applied; sets the language of messages. The
        planning section is validated again, so the options get the checks their keys get
        (`model_copy` alone would take a date the config refuses)."""
        self.lang = self.lang_option or config.planning.language
        update: dict[str, object] = {"language": self.lang}
        if self.as_of is not None:
            update["as_of"] = self.as_of
        planning = type(config.planning).model_validate(config.planning.model_dump() | update)
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
                    message("usage.sort_order", sort=self.sort), param_hint="'--sort'"
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
                        message("usage.unknown_column", column=name, columns=", ".join(known)),
                        param_hint=f"'{option}'",
                    )


_STATE: dict[str, str] = {"lang": "en", "chosen": ""}


def lang_now() -> str:
    """The language of this run's messages."""
    return _STATE["lang"]


def set_lang(lang: str, *, chosen: bool = True) -> None:
    """Messages from here on in `lang`; `chosen` (--lang, or the language a plan was written
    in): also for an error in a config, rather than the config's planning.language."""
    _STATE["lang"] = lang
    _STATE["chosen"] = lang if chosen else ""


class Console:
    """Messages for the user, always on stderr so stdout stays clean for pipes."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        if quiet:  # and the cluster engines' own logs (Dask, Ray, Spark)
            from stockplan.engines import silence

            silence()

    def info(self, message: str) -> None:
        if not self.quiet:
            sys.stderr.write(f"stockplan: {safe_text(message)}\n")

    def warn(self, message: str) -> None:
        from stockplan.i18n import message as text
        from stockplan.i18n import say

        if not self.quiet:  # a catalogue phrase in the language, other text phrase by phrase
            lang = _STATE["lang"]
            sys.stderr.write(
                f"stockplan: {text('warning', lang)}: {safe_text(say(message, lang))}\n"
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


def reader_gone() -> None:
    """The reader of stdout went away (`| head`): what is left to print goes to devnull,
    and the command carries on (its exit code, `--fail-on-risk`, alerts, other files)."""
    with contextlib.suppress(OSError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def stdout_console() -> RichConsole:
    """A rich console on stdout whose closed pipe (`| head`) is the reader gone
    (`reader_gone`); rich's own handler exits 1 without a word, skipping the rest."""
    from rich.console import Console as RichConsole

    class PipedConsole(RichConsole):
        def on_broken_pipe(self) -> None:
            self.quiet = True  # nothing more to write: the reader has gone
            reader_gone()

    return PipedConsole()


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
        from stockplan.io.writers import reset_run_inputs

        reset_run_inputs()
        try:
            _guard(bool(kwargs.get("debug")), lambda: command(*args, **kwargs))
        finally:
            reset_run_inputs()

    return run


def _interrupted_with_workers(guard_pid: int) -> Callable[..., None]:
    """The SIGINT handler a command runs under. Ctrl-C while worker processes run (the
    forecast's statsforecast pool) ends the workers and the command at once, exit 130 and
    one line: the pool's own cleanup on KeyboardInterrupt replaces workers the Ctrl-C
    ended and then waits for a queue lock an idle new one holds, so the command and its
    workers hung. Without workers it is KeyboardInterrupt, as before. A worker (a fork of
    this process) ignores it: its parent ends it, and it prints no traceback."""

    def handler(signum: int, frame: object) -> None:
        if os.getpid() != guard_pid:
            return
        _end_with_workers()
        raise KeyboardInterrupt

    return handler


_CHILDREN_BEFORE: set[int] = set()
"""The multiprocessing children alive when the running command started."""


def _children() -> set[int]:
    """The pids of this process's live multiprocessing children (none before the module
    is imported: nothing started one)."""
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is None:
        return set()
    return {w.pid for w in multiprocessing.active_children() if w.pid}


def _end_with_workers() -> None:
    """With worker processes alive that this command started (a pool, or one a Ctrl-C left
    half started): say interrupted, kill them and exit 130 at once, past the pool's
    cleanup and the exit handlers, which would wait on a lock a killed or idle worker
    holds. Without: return. Children the process had before the command (a program that
    runs the command line in-process, with its own pool or cluster) are not ours to end."""
    import signal

    workers = sorted(_children() - _CHILDREN_BEFORE)
    if not workers:
        return
    with contextlib.suppress(Exception):
        StageProgress.close_all()
    with contextlib.suppress(OSError):
        sys.stderr.write(f"stockplan: {message('interrupted', _STATE['lang'])}\n")
        sys.stderr.flush()
    # from here on no other thread runs (no switch, no call that releases the GIL), so
    # the pool cannot start a worker for one killed: kill them all, then exit at once
    sys.setswitchinterval(1e6)
    for pid in workers:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    os._exit(130)


@contextlib.contextmanager
def _interrupt_guard() -> Iterator[None]:
    """`_interrupted_with_workers` as the SIGINT handler while a command runs (main thread)."""
    import signal

    _CHILDREN_BEFORE.clear()
    _CHILDREN_BEFORE.update(_children())
    try:
        before = signal.signal(signal.SIGINT, _interrupted_with_workers(os.getpid()))
    except ValueError:  # not the main thread: leave signals as they are
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def _guard(debug: bool, action: Callable[[], int | None]) -> None:
    """Run a command; turn user errors into one line on stderr and an exit code."""
    try:
        try:
            with _interrupt_guard():
                code = action() or 0
        finally:
            StageProgress.close_all()
    except StockplanError as exc:
        from stockplan.i18n import error_text

        lang = _STATE["lang"]
        if exc.language and not _STATE["chosen"]:  # as the config (or plan) itself asks
            lang = exc.language
        sys.stderr.write(f"stockplan: {message('error', lang)}: {error_text(exc, lang)}\n")
        raise typer.Exit(EXIT_USER_ERROR) from None
    except KeyboardInterrupt:
        _end_with_workers()  # a pool the Ctrl-C cut short while it started its workers
        sys.stderr.write(f"stockplan: {message('interrupted', _STATE['lang'])}\n")
        raise typer.Exit(130) from None
    except OSError as exc:
        if not _broken_pipe(exc):  # the machine refused (disk, permissions): not a bug
            error = message("error", _STATE["lang"])
            sys.stderr.write(f"stockplan: {error}: {safe_text(str(exc))[:300]}\n")
            raise typer.Exit(EXIT_USER_ERROR) from None
        # the reader went away (`stockplan plan -o - | head`): not an error of ours
        reader_gone()
        raise typer.Exit(0) from None
    except (typer.Exit, typer.Abort, typer.TyperException):  # typer's own exit paths
        raise
    except Exception as exc:  # a bug: still one line, no traceback unless asked
        if isinstance(exc.__context__, KeyboardInterrupt):  # Ctrl-C inside an import's
            # module lock (another thread importing too) surfaces as importlib's KeyError
            sys.stderr.write(f"stockplan: {message('interrupted', _STATE['lang'])}\n")
            raise typer.Exit(130) from None
        raise _internal(exc, debug) from None
    if code:
        raise typer.Exit(code)


def _shape(frame: pl.DataFrame, view: View, table: str) -> pl.DataFrame:
    """--sort and --columns applied to the table shown or written."""
    view.check_columns(frame.columns)
    if view.sort:
        name, _, direction = view.sort.partition(":")
        frame = frame.sort(name, descending=direction == "desc", nulls_last=True)
    return frame


def emit(
    tables: dict[str, pl.DataFrame],
    primary: str,
    output: str | None,
    fmt: OutputFormat | None,
    bom: bool | None,
    console: Console,
    title: str,
    view: View | None = None,
    info: dict[str, Any] | None = None,
    escape: bool = True,
    record: Callable[[], dict] | None = None,
    for_excel: bool | None = None,
    for_excel_files: bool = False,
    also: tuple[dict, str] | None = None,
    plan_tables: tuple[str, ...] = (),
    folders: dict[Path, Path] | None = None,
) -> bool:
    """Send tables to a terminal table, stdout CSV or files (`escape`: io.csv_escape_formulas);
    files carry the run `record`. `bom` None: CSV files holding any non-ASCII text start with
    a UTF-8 BOM (Excel on Chinese Windows reads BOM-less CSV as GBK), stdout does not.
    `for_excel` (--csv-for-excel / --plain-csv; None: `for_excel_files`, io.csv_for_excel,
    for files and plain CSV on stdout): codes Excel would change written `="011491"`; plain
    CSV files holding such codes get a warning.

    Files: `also` (more files for `write_files`, say the supplier workbooks) and `folders`
    (staged folders moved into place whole, the part files of a cluster plan) go in the same
    all-or-nothing write, and in a plan folder the files of `plan_tables` this run does not
    write are removed in it (`stale_plan_files`). True when files were written."""
    from stockplan.io.writers import check_not_inputs, output_plan, write_csv, write_files

    view = view or View()
    tables = {**tables, primary: _shape(tables[primary], view, primary)}
    file_lang = "en" if view.headers == Headers.canonical else view.lang
    # the planning bucket in per-bucket headers (每周预测量) of Chinese CSV; English CSV
    # is the canonical contract (the sheet and the terminal say "forecast per week")
    bucket = (info or {}).get("bucket") if file_lang != "en" else None
    to_terminal = output is None and (
        fmt == OutputFormat.table or (fmt is None and sys.stdout.isatty())
    )
    if to_terminal:
        from stockplan.io.writers import escape_controls
        from stockplan.report import terminal_table

        out = stdout_console()
        shown = terminal_table(
            escape_controls(tables[primary]),
            primary,
            title,
            width=out.width,
            limit=view.limit,
            columns=view.columns,
            lang=view.lang,
            currency=(info or {}).get("currency"),
            bucket=(info or {}).get("bucket"),
        )
        out.print(shown.table)
        for note in shown.notes:
            out.print(note, style="dim", highlight=False)
        return False
    one = tables[primary]
    if view.columns:
        one = one.select(view.columns)
    if output is None or output == "-":
        try:
            write_csv(
                one,
                sys.stdout.buffer,
                bom=bool(bom),  # a pipe gets no BOM unless asked
                table=primary,
                lang=file_lang,
                escape=escape,
                currency=(info or {}).get("currency"),
                bucket=bucket,
                for_excel=bool(for_excel),  # a pipe gets plain data unless asked
            )
            sys.stdout.flush()
        except OSError as exc:
            if not _broken_pipe(exc):
                raise
            reader_gone()  # `plan -o - | head`: carry on with the exit code and alerts
        return False
    file_format = None if fmt in (None, OutputFormat.table) else fmt.value
    target = Path(output)
    plan = output_plan({**tables, primary: one}, target, file_format, primary)
    if any(kind == "xlsx" for _, kind in plan.values()):
        plan = output_plan(tables, target, file_format, primary)
    workbook = any(kind == "xlsx" for _, kind in plan.values())
    texts: dict[Path, str] = {}
    if record is not None:
        plan, record_file = _with_record(plan, target, record())
        texts = dict([record_file]) if record_file else {}
    check_not_inputs([*plan, *texts, *(also[0] if also else {})])  # before any write
    excel = for_excel_files if for_excel is None else for_excel
    stale: list[Path] = []
    if plan_tables and target.is_dir():
        from stockplan.io.planfiles import stale_plan_files

        stale = stale_plan_files(target, [*plan, *texts], plan_tables)
    written = write_files(
        plan,
        bom=bom,
        lang=view.lang if workbook else file_lang,
        info=info if workbook or bucket else {**(info or {}), "bucket": None},
        escape=escape,
        for_excel=excel,
        texts=texts,
        remove=stale,
        also=also,
        folders=folders,
    )
    if not excel:
        _warn_excel_codes(plan, console, file_lang, escape)
    console.say("wrote", paths=", ".join(str(p) for p in [*written, *(folders or {})]))
    if stale:
        console.say("removed_stale", paths=", ".join(p.name for p in stale), folder=target)
    return True


def _warn_excel_codes(plan: dict, console: Console, file_lang: str, escape: bool) -> None:
    """One warning when a plain CSV file holds codes Excel would change on opening it
    (`011491` -> 11491, `1-2` -> a date), naming the file, the column and one code."""
    from stockplan.i18n import header
    from stockplan.io.writers import excel_would_change

    for path, (tables, fmt) in plan.items():
        if fmt != "csv":
            continue
        for frame in tables.values():
            found = excel_would_change(frame, escape)
            if found is not None:
                column, example = found
                console.warn(
                    message(
                        "csv_excel_codes",
                        _STATE["lang"],
                        file=path.name,
                        column=header(column, file_lang),
                        example=example,
                    )
                )
                return


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


def stage_progress(console: Console) -> Callable[[str], None]:
    return StageProgress(console)


def show_explanation(
    shown: Explanation, names: list[str], config: Config, lang: str, chart: bool
) -> None:
    """One panel per location with the numbers behind the order (titled with the item's
    name from `names`, when it has one), and its terminal chart."""
    import polars as pl
    from rich.panel import Panel
    from rich.text import Text

    from stockplan.errors import escape_unsafe
    from stockplan.projection import item_lines, transfer_lines
    from stockplan.report import explain_chart, explain_lines

    out = stdout_console()
    # the panel's own width (the terminal's, else COLUMNS, else 80 when piped), one rule
    width = min(out.width, 120)
    for order in shown.orders.iter_rows(named=True):
        key = (pl.col("sku") == order["sku"]) & (pl.col("location") == order["location"])
        risk_rows = shown.risk.filter(key).to_dicts()
        lines = explain_lines(
            order,
            risk_rows[0] if risk_rows else None,
            config.policy.service_measure,
            config.planning.currency,
            lang,
            bucket=config.planning.bucket,
        ) + item_lines(order, lang)
        lines += transfer_lines(shown.transfers, order, lang)
        title = message(
            "explain.panel",
            lang,
            sku=order["sku"],
            location=order["location"],
            as_of=shown.as_of,
            name=f": {names[0]}" if names else "",
        )
        out.print(  # Text, not markup, and controls escaped: names and reasons are data
            Panel(
                Text(escape_unsafe("\n".join(lines))),
                title=Text(safe_text(title)),
                expand=False,
            ),
            highlight=False,
            markup=False,
        )
        if chart:  # each chart's caption in the language above it, the canvas in ASCII
            for captions, drawing in explain_chart(
                shown.history.filter(key),
                shown.projection.filter(key),
                shown.forecast.filter(key),
                order,
                width,
                config.planning.bucket,
                lang,
            ):
                out.print(Text(captions[0], style="bold"), highlight=False)
                out.print(Text(captions[1], style="dim"), highlight=False)
                out.print(Text.from_ansi(drawing))
