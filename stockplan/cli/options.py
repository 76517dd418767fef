"""The command line's options, declared once and shared by the commands, and the checks
that run on them before any work (a bad option is a usage error, exit 2)."""

from __future__ import annotations

import datetime as dt
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from stockplan.cli.display import Headers, Lang, OutputFormat, message

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


class Baseline(StrEnum):
    rule = "rule"
    history = "history"


class RiskLevel(StrEnum):
    high = "high"
    medium = "medium"
    new_high = "new-high"
    worse = "worse"


NEWS_LEVELS = {RiskLevel.new_high: ["high"], RiskLevel.worse: ["high", "medium"]}
TableName = StrEnum("TableName", {name: name for name in TABLES})  # type: ignore[misc]


FOLDER_ENDS = tuple(sep for sep in ("/", os.sep, os.altsep) if sep)


def expand_home(value: Path | str | None) -> Path | str | None:
    """`~` at the start of a path option is the home folder, as a shell makes it of an
    unquoted one (`-o '~/plan.xlsx'`, `--output=~/plan.xlsx`, Windows' cmd)."""
    if isinstance(value, Path) and value.parts and value.parts[0].startswith("~"):
        return value.expanduser()
    if isinstance(value, str) and value.startswith("~"):
        return os.path.expanduser(value)
    return value


def check_file_name(value: str, suffixes: tuple[str, ...]) -> None:
    """A name ending with / is a folder: one that also has a file suffix (`plan.xlsx/`) is
    refused, not taken for the file nor made a folder."""
    suffix = Path(value).suffix.lower()
    if value.endswith(FOLDER_ENDS) and suffix in suffixes:
        raise typer.BadParameter(message("usage.folder_with_suffix", value=value, suffix=suffix))


def check_output(value: str | None) -> str | None:
    """`-o` names a .csv / .xlsx / .json / .parquet file, a folder or - (checked at once)."""
    if value is None or value == "-":
        return value
    value = str(expand_home(value))
    check_file_name(value, OUTPUT_SUFFIXES)
    path = Path(value)
    if path.suffix and path.suffix.lower() not in OUTPUT_SUFFIXES and not path.is_dir():
        suffixes = ", ".join(OUTPUT_SUFFIXES)
        raise typer.BadParameter(
            message("usage.output_type", suffix=path.suffix, suffixes=suffixes)
        )
    return value


def check_report(value: str) -> str:
    """`report -o` names an HTML file, not a folder (checked at once)."""
    value = str(expand_home(value))
    check_file_name(value, (".html", ".htm"))
    if Path(value).suffix.lower() not in (".html", ".htm"):
        raise typer.BadParameter(message("usage.report_html", output=value))
    return value


def check_plot(value: str | None) -> str | None:
    """`--plot` names a PNG file, not a folder (checked at once)."""
    if value is not None:
        value = str(expand_home(value))
        check_file_name(value, (".png",))
    return value


def check_target(
    output: str | None,
    fmt: OutputFormat | None,
    columns: list[str] | None = None,
    several: bool = False,
) -> None:
    """A format that cannot go where -o points is a usage error, before any work; so is
    `--columns` with an output that holds tables whole (`check_columns_target`)."""
    check_columns_target(output, fmt, columns, several)
    if fmt is None or fmt == OutputFormat.table:
        return
    if output is None or output == "-":
        if fmt != OutputFormat.csv:
            raise typer.BadParameter(
                message("usage.not_to_stdout", format=fmt.value), param_hint="'--format'"
            )
        return
    suffix = Path(output).suffix.lower()
    if suffix in OUTPUT_SUFFIXES and suffix != f".{fmt.value}":
        raise typer.BadParameter(
            message("usage.format_suffix", format=fmt.value, suffix=suffix, output=output),
            param_hint="'--format'",
        )


def check_columns_target(
    output: str | None, fmt: OutputFormat | None, columns: list[str] | None, several: bool
) -> None:
    """`--columns` trims the one table shown or written alone: the terminal, stdout or a
    .csv / .json / .parquet file. A workbook holds every table whole (it was ignored), and
    so does a folder when the command writes `several` tables (it trimmed one of them, and
    `verify` and `diff` then refused the plan): a usage error, before any work."""
    if not columns or output in (None, "-"):
        return
    path = Path(output)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".json", ".parquet"):
        return
    if suffix == ".xlsx" or fmt == OutputFormat.xlsx:
        workbook = path if suffix == ".xlsx" else path / "stockplan.xlsx"
        key, output = "usage.columns_workbook", str(workbook)
    elif several:
        key = "usage.columns_folder"
    else:
        return  # a folder of the command's one table: trimmed as a one-table file
    raise typer.BadParameter(message(key, output=output), param_hint="'--columns'")


def check_news(level: RiskLevel | None, previous: Path | None) -> None:
    """`--fail-on-risk new-high` / `worse` compare with an earlier plan: without
    `--previous` it is a usage error, before any work."""
    if level in NEWS_LEVELS and previous is None:
        raise typer.BadParameter(
            message("usage.needs_previous", level=level.value), param_hint="'--fail-on-risk'"
        )


ConfigOption = Annotated[
    Path,
    typer.Option(
        "--config",
        "-c",
        callback=expand_home,
        help="YAML config (see config.example.yaml).",
        show_default=True,
    ),
]
OutputOption = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        callback=check_output,
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
    bool | None,
    typer.Option(
        "--bom/--no-bom",
        help="Start CSV files with a UTF-8 BOM (Excel on Windows). Default: on for CSV files "
        "holding any non-ASCII text (Chinese names, headers), off for plain ASCII and stdout.",
    ),
]
ExcelOption = Annotated[
    bool | None,
    typer.Option(
        "--csv-for-excel/--plain-csv",
        help="CSV for Excel: codes Excel would turn into numbers or dates (011491, 1-2, "
        '1E5) written ="011491", which it shows as written. Default: io.csv_for_excel for '
        "files, plain CSV on stdout.",
    ),
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
AS_OF_FORMATS = "'%Y-%m-%d', '%Y/%m/%d', '%Y.%m.%d', '%Y年%m月%d日'"
"""The forms of `--as-of` its usage error names (`config.written_date` reads them, and
`号` for `日` and spaces between the parts, as `planning.as_of` does)."""


def _as_of(text: str) -> dt.datetime:
    """`--as-of` read and checked as `planning.as_of` is (`config.written_date`,
    `config.plausible_date`): a text that is no such date or a day the calendar lacks is a
    usage error naming the forms, a date outside 1980-2099 (`9999-12-31`, an ERP's "no
    date") one naming the range, before any work."""
    from stockplan.config import plausible_date, written_date  # `--help` never imports it

    try:
        day = written_date(text)
    except ValueError:
        day = None
    if day is None:
        raise ValueError(f"{text!r} does not match the formats {AS_OF_FORMATS}.")
    try:
        plausible_date(day)
    except ValueError as exc:
        raise ValueError(f"{text!r} {exc}.") from None
    return dt.datetime.combine(day, dt.time())


AsOfOption = Annotated[
    dt.datetime | None,
    typer.Option(
        "--as-of",
        parser=_as_of,
        metavar="DATE",
        help="Planning date YYYY-MM-DD (or 2025/10/13, 2025年10月13日; default: "
        "planning.as_of, else the day after the last sale).",
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
NoCacheNeverCachedOption = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        help="Accepted as by every table command; this one reads only the purchase orders "
        "and never uses or keeps the plan cache.",
    ),
]
LimitOption = Annotated[
    int, typer.Option("--limit", min=1, help="Rows in the terminal table (the rest counted).")
]
SortOption = Annotated[
    str | None,
    typer.Option(
        "--sort",
        help="Sort by COLUMN or COLUMN:desc instead of the table's own order (orders and "
        "risk: most urgent first).",
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
        callback=expand_home,
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


SupplierForecastOption = Annotated[
    Path | None,
    typer.Option(
        "--supplier-forecast",
        callback=expand_home,
        help="Also write one workbook per supplier into this folder: the purchase orders "
        "the policy will most likely place over the next supplier_forecast.weeks, with a range.",
    ),
]
