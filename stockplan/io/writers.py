"""Write output tables as CSV, XLSX, JSON or Parquet, atomically and safe to open.

Every file is written to a temporary file in the target folder and renamed into place
only after all of a run's files are written, so a failed run leaves no half sheet; a
temporary file left by a killed run is removed by the next one. A new file gets the mode
the umask gives (as `touch` would), a replaced file keeps its mode.

Cell safety: no NaN or infinity reaches any output (an undefined number is an empty
cell / null); in XLSX every text is written as a string, never a formula or link; in CSV
a text starting with = + - @ TAB or CR is prefixed with `'` (OWASP CSV injection), unless
`io.csv_escape_formulas: false`.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import IO, Literal

import polars as pl

from stockplan.errors import StockplanError, quote

Format = Literal["csv", "xlsx", "json", "parquet"]
FORMATS: tuple[str, ...] = ("csv", "xlsx", "json", "parquet")
SUFFIX_FORMAT = {".csv": "csv", ".xlsx": "xlsx", ".json": "json", ".parquet": "parquet"}

MONEY = "#,##0.00"
QUANTITY = "#,##0.00"
RATE = "0.0%"
COLUMN_FORMATS = {
    "order_value": MONEY,
    "revenue_at_risk": MONEY,
    "annual_value": MONEY,
    "unit_cost": MONEY,
    "stockout_probability": RATE,
    "service_level": RATE,
    "on_time_rate": RATE,
    "fill_rate": RATE,
}


def presentable(frame: pl.DataFrame, decimals: int = 2) -> pl.DataFrame:
    """Round floats for people: 2 decimals, 4 for rates; whole-number columns become integers."""
    fine = {
        "stockout_probability",
        "service_level",
        "on_time_rate",
        "fill_rate",
        "adi",
        "cv2",
        "cv",
    }
    floats = [n for n, t in frame.schema.items() if t in (pl.Float64, pl.Float32)]
    rounded = frame.with_columns(pl.col(n).round(4 if n in fine else decimals) for n in floats)
    whole = rounded.select(
        (pl.col(n).is_null() | (pl.col(n).is_finite() & (pl.col(n) == pl.col(n).round(0)))).all()
        for n in floats
    )
    integral = [n for n in floats if n not in fine and whole[n][0]]
    return rounded.with_columns(pl.col(n).cast(pl.Int64) for n in integral)


FORMULA_START = r"^[=+\-@\t\r]"
"""Text an office suite may run as a formula (OWASP: = + - @ TAB CR)."""
EXCEL_CELL_LIMIT = 32_767
EXCEL_ROW_LIMIT = 1_048_576


def finite(frame: pl.DataFrame) -> pl.DataFrame:
    """NaN and +-inf in float columns become null: an empty cell, never `NaN` or `inf`."""
    floats = [n for n, t in frame.schema.items() if t in (pl.Float64, pl.Float32)]
    if not floats:
        return frame
    return frame.with_columns(
        pl.when(pl.col(n).is_finite()).then(pl.col(n)).otherwise(None).alias(n) for n in floats
    )


def escape_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells starting with = + - @ TAB or CR get a leading `'` (OWASP CSV injection).

    Only text columns: a negative number in a numeric column stays a number.
    """
    texts = [n for n, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(
        pl.when(pl.col(n).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(n))
        .otherwise(pl.col(n))
        .alias(n)
        for n in texts
    )


CONTROL_CHARS = r"[\x00-\x08\x0b-\x1f\x7f-\x9f]"


def escape_controls(frame: pl.DataFrame) -> pl.DataFrame:
    r"""Text with control characters (ESC, BEL, ...) shown escaped (`\x1b`), for a terminal.

    Only columns that hold one are touched, so a clean table costs one scan.
    """
    from stockplan.errors import safe_text

    dirty = [
        n
        for n, t in frame.schema.items()
        if t == pl.String and frame[n].str.contains(CONTROL_CHARS).any()
    ]
    return frame.with_columns(
        pl.col(n).map_elements(safe_text, return_dtype=pl.String) for n in dirty
    )


def write_csv(
    frame: pl.DataFrame,
    target: IO[bytes] | Path,
    *,
    bom: bool = False,
    escape: bool = True,
) -> None:
    """CSV for people and spreadsheets: rounded, finite, formulas neutralised (`escape`)."""
    frame = presentable(finite(frame))
    if escape:
        frame = escape_formulas(frame)
    frame.write_csv(target, include_bom=bom, date_format="%Y-%m-%d")


def _check_fits_excel(name: str, frame: pl.DataFrame) -> None:
    """A sheet holds 1,048,576 rows and a cell 32,767 characters: refuse, never cut."""
    if frame.height + 1 > EXCEL_ROW_LIMIT:
        raise StockplanError(
            f"table {name}: {frame.height:,} rows do not fit an Excel sheet "
            f"({EXCEL_ROW_LIMIT:,}); write CSV or Parquet (-o folder or -o {name}.parquet)"
        )
    for column, dtype in frame.schema.items():
        if dtype != pl.String:
            continue
        long = frame.with_row_index("__row").filter(
            pl.col(column).str.len_chars() > EXCEL_CELL_LIMIT
        )
        if long.height:
            raise StockplanError(
                f"table {name}, row {int(long['__row'][0]) + 2}, column '{column}': a text of "
                f"{long[column].str.len_chars()[0]:,} characters does not fit an Excel cell "
                f"({EXCEL_CELL_LIMIT:,}); write CSV instead"
            )


def _workbook(target: io.BytesIO):  # noqa: ANN202 - xlsxwriter is imported lazily
    """A workbook that writes every text as a string: never a formula, link or number."""
    import xlsxwriter

    return xlsxwriter.Workbook(
        target,
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )


def _write_xlsx(tables: dict[str, pl.DataFrame], path: Path) -> None:
    buffer = io.BytesIO()  # built in memory: a full disk fails in our write, not in zipfile
    with _workbook(buffer) as workbook:
        for name, frame in tables.items():
            frame = presentable(finite(frame))
            _check_fits_excel(name, frame)
            formats = {c: f for c, f in COLUMN_FORMATS.items() if c in frame.columns}
            frame.write_excel(
                workbook,
                worksheet=name[:31],
                autofilter=True,
                freeze_panes=(1, 0),
                autofit=True,
                column_formats=formats or None,
                dtype_formats={pl.Date: "yyyy-mm-dd", pl.Float64: QUANTITY},
                table_style=None,
                header_format={"bold": True, "bg_color": "#DDEBF7", "border": 1},
                float_precision=2,
            )
    path.write_bytes(buffer.getvalue())


def _write_one(frame: pl.DataFrame, path: Path, fmt: Format, bom: bool, escape: bool) -> None:
    """Render in memory, then write the bytes ourselves: polars' `write_json` to a path
    reports no error when the disk fills (a cut file and exit 0), and a plain OSError
    says what went wrong."""
    frame = finite(frame)
    buffer = io.BytesIO()
    if fmt == "csv":
        write_csv(frame, buffer, bom=bom, escape=escape)
    elif fmt == "json":
        presentable(frame).with_columns(
            [pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date]
        ).write_json(buffer)
    elif fmt == "parquet":
        frame.write_parquet(buffer)
    else:
        _write_xlsx({"sheet": frame}, path)
        return
    path.write_bytes(buffer.getvalue())


TEMP_SUFFIX = ".tmp"


def _temp_beside(path: Path) -> Path:
    """`.plan.xlsx.<pid>.<random>.tmp` beside `path`: the pid tells a later run whether the
    writer is still alive."""
    _remove_stale_temps(path)
    handle, name = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=path.parent
    )
    os.close(handle)
    return Path(name)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _remove_stale_temps(path: Path) -> None:
    """Remove temporary files of `path` left by a run that was killed (its pid is gone)."""
    pattern = re.compile(re.escape(f".{path.name}.") + r"(\d+)\.[^.]+" + re.escape(TEMP_SUFFIX))
    with contextlib.suppress(OSError):
        for entry in path.parent.iterdir():
            match = pattern.fullmatch(entry.name)
            if match and int(match.group(1)) != os.getpid() and not _pid_alive(int(match.group(1))):
                with contextlib.suppress(OSError):
                    entry.unlink()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _give_mode(temp: Path, path: Path) -> None:
    """Mode of the file `temp` will replace, or 0666 less the umask for a new file.

    mkstemp creates 0600 files: renamed as they are, a shared folder's plan.xlsx would be
    readable by its owner alone. A share that refuses chmod (SMB) keeps its own modes.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    with contextlib.suppress(PermissionError, NotImplementedError):
        os.chmod(temp, mode)


def _write_failed(exc: Exception, path: Path | None = None) -> StockplanError:
    """One line for a write that the machine refused: disk full, no permission, ..."""
    import errno

    cause = next((a for a in exc.args if isinstance(a, OSError)), None) or exc.__cause__ or exc
    if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
        problem = "the disk is full"
    elif isinstance(cause, OSError) and cause.errno == errno.EFBIG:
        problem = "the file is larger than this system allows"
    else:
        problem = quote(str(cause).strip().splitlines()[0] if str(cause).strip() else "", 200)
        problem = problem or type(cause).__name__
    target = f" {path}" if path is not None else " output"
    return StockplanError(f"cannot write{target}: {problem}; nothing was written")


def write_text(path: Path, text: str, *, overwrite: bool = False) -> None:
    """Write a text file atomically; refuse to replace an existing file unless `overwrite`."""
    write_bytes(path, text.encode("utf-8"), overwrite=overwrite)


def write_bytes(path: Path, content: bytes, *, overwrite: bool = True) -> None:
    """Write a file atomically (temp file, then rename); optionally refuse to replace one."""
    if path.exists() and not overwrite:
        raise StockplanError(f"{path}: already exists (use --force to replace it)")
    _check_target(path)
    temps: list[Path] = []
    try:
        temps.append(_temp_beside(path))
        temps[0].write_bytes(content)
        _give_mode(temps[0], path)
        os.replace(temps[0], path)
    except OSError as exc:
        raise _write_failed(exc, path) from None
    finally:
        for temp in temps:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()


def _check_target(path: Path) -> None:
    if not path.parent.is_dir():
        raise StockplanError(f"{path}: output folder {path.parent} does not exist")
    if path.is_dir():
        raise StockplanError(f"{path}: is an existing folder; give a file name or remove it")


def write_files(
    plan: dict[Path, tuple[dict[str, pl.DataFrame], Format]],
    *,
    bom: bool = False,
    escape: bool = True,
) -> list[Path]:
    """Write each target (path -> tables, format); rename into place only when all succeeded.

    `escape`: neutralise formula-like text in CSV files (see `escape_formulas`).
    """
    from xlsxwriter.exceptions import XlsxWriterException

    temps: dict[Path, Path] = {}
    path: Path | None = None
    try:
        for path, (tables, fmt) in plan.items():
            _check_target(path)
            temp = _temp_beside(path)
            temps[path] = temp
            if fmt == "xlsx":
                _write_xlsx(tables, temp)
            else:
                (frame,) = tables.values()
                _write_one(frame, temp, fmt, bom, escape)
            _give_mode(temp, path)
        for path, temp in temps.items():
            os.replace(temp, path)
    except (OSError, XlsxWriterException, pl.exceptions.PolarsError) as exc:
        raise _write_failed(exc, path) from None
    finally:
        for temp in temps.values():
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
    return list(plan)


def output_plan(
    tables: dict[str, pl.DataFrame], target: Path, fmt: Format | None, table: str
) -> dict[Path, tuple[dict[str, pl.DataFrame], Format]]:
    """Decide the files for `-o target`.

    - `plan.xlsx`: one workbook, one sheet per table.
    - `orders.csv` / `.json` / `.parquet`: the one table `table`.
    - a folder (existing, or a path with no suffix): one file per table in `fmt` (csv).
      An existing folder named like a file (`plan.xlsx/`) is refused, not filled.
    """
    suffix = target.suffix.lower()
    if suffix in SUFFIX_FORMAT and target.is_dir():
        raise StockplanError(
            f"{target}: is an existing folder, not a {suffix} file; remove it or choose "
            "another name"
        )
    if suffix in SUFFIX_FORMAT:
        file_format = SUFFIX_FORMAT[suffix]
        if fmt is not None and fmt != file_format:
            raise StockplanError(
                f"{target}: --format {fmt} does not match the file suffix {suffix}"
            )
        if file_format == "xlsx":
            return {target: (tables, "xlsx")}
        return {target: ({table: tables[table]}, file_format)}
    if suffix and not target.is_dir():
        raise StockplanError(
            f"{target}: unknown output type '{suffix}' "
            "(use .csv, .xlsx, .json, .parquet or a folder)"
        )
    if target.exists() and not target.is_dir():
        raise StockplanError(
            f"{target}: exists and is not a folder; give a file name with a suffix"
        )
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _write_failed(exc, target) from None
    fmt = fmt or "csv"
    if fmt == "xlsx":
        return {target / "stockplan.xlsx": (tables, "xlsx")}
    return {target / f"{name}.{fmt}": ({name: frame}, fmt) for name, frame in tables.items()}
