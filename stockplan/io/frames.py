"""Input tables handed in as frames (Polars or pandas) from Python, checked like files.

A frame goes through the same header mapping and typing as a file or a database table
(`columns.map_headers`, `columns.type_table`), then the same cross-table checks
(`prepare.prepare_inputs`), so a bad frame fails with the one-line `StockplanError` a bad
file gets, naming the table (`sales frame`), the row (first data row = 1) and the column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from stockplan.config import Config
from stockplan.errors import StockplanError
from stockplan.io.columns import map_headers, type_table
from stockplan.io.prepare import PreparedInputs, prepare_inputs
from stockplan.io.schema import SCHEMAS

REQUIRED_TABLES = ("sales", "stock")


def as_polars(frame: Any, label: str) -> pl.DataFrame:
    """A Polars frame from a Polars or pandas frame (pandas is imported only by its caller)."""
    if isinstance(frame, pl.DataFrame):
        return frame
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    if type(frame).__module__.startswith("pandas"):
        try:
            return pl.from_pandas(frame.reset_index(drop=True))
        except Exception as exc:  # pyarrow's conversion errors name no column we can trust
            raise StockplanError(f"{label}: cannot read this pandas frame ({exc})") from None
    raise StockplanError(
        f"{label}: expected a Polars or pandas DataFrame, got {type(frame).__name__}"
    )


def check_frame(
    name: str, frame: Any, config: Config, notes: list[str] | None = None
) -> pl.DataFrame:
    """One input table from a frame: canonical columns and types plus `source_row` (a
    number read as 0 is told in `notes`, as for a file)."""
    if name not in SCHEMAS:
        raise StockplanError(
            f"unknown input table '{name}' (expected one of: {', '.join(SCHEMAS)})"
        )
    label = str(config.source(name))
    raw = as_polars(frame, label)
    schema = SCHEMAS[name]
    overrides = config.columns.get(name, {})
    mapping = map_headers(raw, schema, overrides, label, config.io.identify_by)  # type: ignore[arg-type]
    typed = type_table(raw, schema, mapping, label, header_row=0, notes=notes)  # type: ignore[arg-type]
    if typed.height == 0 and schema.need_rows:
        raise StockplanError(f"{label}: has no rows")
    return typed


def frames_to_inputs(frames: Mapping[str, Any], config: Config) -> PreparedInputs:
    """Every frame checked and typed, then the cross-table checks files get."""
    for name in REQUIRED_TABLES:
        if frames.get(name) is None:
            raise StockplanError(f"missing input table '{name}' (give a {name} frame)")
    notes: list[str] = []
    tables = {
        name: check_frame(name, frame, config, notes)
        for name, frame in frames.items()
        if frame is not None
    }
    prepared = prepare_inputs(tables, config)
    return PreparedInputs(prepared.tables, notes + prepared.warnings)
