"""Write output tables as CSV, XLSX, JSON or Parquet, atomically.

Every file is written to a temporary file in the target folder and renamed into place
only after all of a run's files are written, so a failed run leaves no half sheet.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Literal

import polars as pl

from stockplan.errors import StockplanError

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


def write_csv(frame: pl.DataFrame, target: IO[bytes] | Path, *, bom: bool = False) -> None:
    presentable(frame).write_csv(target, include_bom=bom, date_format="%Y-%m-%d")


def _write_xlsx(tables: dict[str, pl.DataFrame], path: Path) -> None:
    import xlsxwriter

    with xlsxwriter.Workbook(str(path)) as workbook:
        for name, frame in tables.items():
            frame = presentable(frame)
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


def _write_one(frame: pl.DataFrame, path: Path, fmt: Format, bom: bool) -> None:
    if fmt == "csv":
        write_csv(frame, path, bom=bom)
    elif fmt == "json":
        presentable(frame).with_columns(
            [pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date]
        ).write_json(path)
    elif fmt == "parquet":
        frame.write_parquet(path)
    else:
        _write_xlsx({"sheet": frame}, path)


def _temp_beside(path: Path) -> Path:
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    return Path(name)


def write_text(path: Path, text: str, *, overwrite: bool = False) -> None:
    """Write a text file atomically; refuse to replace an existing file unless `overwrite`."""
    write_bytes(path, text.encode("utf-8"), overwrite=overwrite)


def write_bytes(path: Path, content: bytes, *, overwrite: bool = True) -> None:
    """Write a file atomically (temp file, then rename); optionally refuse to replace one."""
    if path.exists() and not overwrite:
        raise StockplanError(f"{path}: already exists (use --force to replace it)")
    if not path.parent.exists():
        raise StockplanError(f"{path}: output folder {path.parent} does not exist")
    temp: Path | None = None
    try:
        temp = _temp_beside(path)  # fails in a read-only folder: the user's to fix
        temp.write_bytes(content)
        os.replace(temp, path)
    except OSError as exc:
        raise StockplanError(f"cannot write {path}: {exc}") from None
    finally:
        if temp is not None:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()


def write_files(
    plan: dict[Path, tuple[dict[str, pl.DataFrame], Format]], *, bom: bool = False
) -> list[Path]:
    """Write each target (path -> tables, format); rename into place only when all succeeded."""
    temps: dict[Path, Path] = {}
    try:
        for path, (tables, fmt) in plan.items():
            if not path.parent.exists():
                raise StockplanError(f"{path}: output folder {path.parent} does not exist")
            if path.is_dir():  # found before any rename, not after the first one
                raise StockplanError(f"{path}: is a folder, not a file")
            temp = _temp_beside(path)
            temps[path] = temp
            if fmt == "xlsx":
                _write_xlsx(tables, temp)
            else:
                (frame,) = tables.values()
                _write_one(frame, temp, fmt, bom)
        for path, temp in temps.items():
            os.replace(temp, path)
    except OSError as exc:
        raise StockplanError(f"cannot write output: {exc}") from None
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
    """
    suffix = target.suffix.lower()
    if suffix in SUFFIX_FORMAT and not target.is_dir():
        file_format = SUFFIX_FORMAT[suffix]
        if fmt is not None and fmt != file_format:
            raise StockplanError(
                f"{target}: --format {fmt} does not match the file suffix {suffix}"
            )
        if file_format == "xlsx":
            return {target: (tables, "xlsx")}
        return {target: ({table: tables[table]}, file_format)}
    if suffix:
        raise StockplanError(
            f"{target}: unknown output type '{suffix}' "
            "(use .csv, .xlsx, .json, .parquet or a folder)"
        )
    target.mkdir(parents=True, exist_ok=True)
    fmt = fmt or "csv"
    if fmt == "xlsx":
        return {target / "stockplan.xlsx": (tables, "xlsx")}
    return {target / f"{name}.{fmt}": ({name: frame}, fmt) for name, frame in tables.items()}
