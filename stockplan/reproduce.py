"""Compare a written plan with its re-run, cell by cell, as both were written.

Both sides are read back by the same reader (`stockplan.io.planfiles.read_plan`) after
going through the same writer, so a match means the files a buyer opens would be the same.
Numbers match when they agree to a relative 1e-9: in the full-precision formats (Parquet)
the last bit of a float may differ with the order of a parallel sum.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from stockplan.demand import SERIES
from stockplan.i18n import both, header, phrase, table_title, value

SHOWN = 3  # differing cells named per table
ROW_KEYS = (*SERIES, "period_start", "date", "from_location", "to_location")
"""Columns that together name a row, where a table has them (sku and location for the
orders and risk, with the period for the forecast, the two ends for a transfer)."""


def _unique(frame: pl.DataFrame, keys: list[str]) -> bool:
    return frame.select(pl.struct(keys).is_unique().all()).item()


RELATIVE_TOLERANCE = 1e-9


def _text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every cell as text; whole floats without `.0`, as a buyer reads them; an empty text
    as an empty cell (a CSV's `""`, which a spreadsheet saves as nothing)."""
    text = frame.select(
        pl.col(c).cast(pl.String).str.replace(r"\.0$", "") if t == pl.Float64 else pl.col(c)
        for c, t in frame.schema.items()
    ).select(pl.all().cast(pl.String))
    return text.select(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in text.columns)


_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00(?:\.0+)?$")


def _table(name: str) -> dict[str, str]:
    return {"en": name, "zh": table_title(name, "zh")}


def _shown(column: str, cell: str | None) -> dict[str, str]:
    """A cell as the plan's sheet shows it in each language: word values (risk level, ...)
    in the language, a date without a midnight time, an empty cell as `empty`."""
    if cell is None:
        return both("verify.empty")
    cell = _MIDNIGHT.sub(r"\1", cell)  # a date read back from a sheet: no time
    return {"en": cell, "zh": value(column, cell, "zh") or cell}


def _row_name(keys: tuple) -> str:
    """A row named by its key cells as the sheet shows them: a date without its time."""
    return " ".join(_MIDNIGHT.sub(r"\1", str(k)) for k in keys)


def _joined(parts: list[dict[str, str]]) -> dict[str, str]:
    return {"en": "; ".join(p["en"] for p in parts), "zh": "；".join(p["zh"] for p in parts)}


def _differs(left: pl.Series, right: pl.Series) -> pl.Series:
    """Per cell: text that differs, or numbers further apart than the tolerance."""
    a, b = left.cast(pl.Float64, strict=False), right.cast(pl.Float64, strict=False)
    numbers = a.is_not_null() & b.is_not_null()
    scale = pl.max_horizontal(pl.lit(1.0), a.abs(), b.abs())
    apart = pl.select(((a - b).abs() > RELATIVE_TOLERANCE * scale).alias("apart"))["apart"]
    return (numbers & apart) | (~numbers & left.ne_missing(right))


def _column_names(columns: list[str]) -> dict[str, str]:
    return {
        "en": ", ".join(columns),
        "zh": "、".join(header(c, "zh") for c in columns),
    }


def compare_table(name: str, plan: pl.DataFrame, rerun: pl.DataFrame) -> list[str]:
    """Lines naming how `rerun` differs from `plan` (empty: every cell matches); each line
    a phrase (`i18n.phrase`) the command line says in the plan's language. Columns are
    matched by name, so a plan whose columns a buyer moved is the same plan; a column the
    plan lacks (deleted or renamed) is a difference, and one only the plan has (a buyer's
    notes) is not compared here (`added_columns` names it)."""
    table = _table(name)
    lines = []
    gone = [c for c in rerun.columns if c not in plan.columns]
    if gone:
        lines.append(
            phrase(
                "verify.columns_differ",
                table=table,
                detail=both("verify.columns_gone", columns=_column_names(gone)),
            )
        )
    rerun = rerun.select(c for c in rerun.columns if c in plan.columns)
    plan = plan.select(rerun.columns)
    keys = [c for c in ROW_KEYS if c in plan.columns]
    left, right = _text(plan), _text(rerun)
    if keys and _unique(left, keys) and _unique(right, keys):
        # rows matched by their key, not their place: an item whose risk moved up the
        # list is the same row, and an item only one side has is named as such
        only = [
            (side, frame.join(other, on=keys, how="anti", nulls_equal=True))
            for side, frame, other in (("plan", left, right), ("rerun", right, left))
        ]
        lines += [
            phrase(
                f"verify.only_in_{side}",
                table=table,
                count=rows.height,
                rows="; ".join(_row_name(r) for r in rows.select(keys).head(SHOWN).rows()),
            )
            for side, rows in only
            if rows.height
        ]
        # the rows both have, compared cell by cell in the same order
        left = left.join(right.select(keys), on=keys, how="semi", nulls_equal=True).sort(keys)
        right = right.join(left.select(keys), on=keys, how="semi", nulls_equal=True).sort(keys)
    elif plan.height != rerun.height:
        return [
            *lines,
            phrase("verify.row_counts", table=table, plan=plan.height, rerun=rerun.height),
        ]
    for column in plan.columns:
        differs = _differs(left[column], right[column])
        count = int(differs.sum())
        if not count:
            continue
        rows = differs.arg_true().head(SHOWN).to_list()
        cells = []
        for row in rows:  # at most SHOWN cells per column: a message, not a hot path
            key = _row_name(tuple(left[k][row] for k in keys))
            cells.append(
                both(
                    "verify.cell",
                    row=key or both("verify.row", row=row + 1),
                    plan=_shown(column, left[column][row]),
                    rerun=_shown(column, right[column][row]),
                )
            )
        label = {"en": column, "zh": header(column, "zh")}
        lines.append(
            phrase(
                "verify.cells_differ", table=table, column=label, count=count, cells=_joined(cells)
            )
        )
    return lines


def compare_plans(plan: dict[str, pl.DataFrame], rerun: dict[str, pl.DataFrame]) -> list[str]:
    """Every table of `plan` against the re-run's table of the same name; a table the re-run
    writes that the plan lacks (its sheet or file deleted or renamed) is a difference."""
    lines: list[str] = []
    for name, frame in plan.items():
        if name not in rerun:
            lines.append(phrase("verify.no_table", table=_table(name)))
            continue
        lines += compare_table(name, frame, rerun[name])
    lines += [phrase("verify.table_gone", table=_table(n)) for n in rerun if n not in plan]
    return lines


def added_columns(plan: dict[str, pl.DataFrame], rerun: dict[str, pl.DataFrame]) -> list[str]:
    """A line per table of `plan` with columns the re-run does not write (a buyer's notes or
    check marks): not stockplan's numbers, so not compared and no difference, but named, so
    that `reproduced` is not read as covering them. (`diff` reads only its own columns.)"""
    return [
        phrase(
            "verify.columns_added",
            table=_table(name),
            columns=_column_names([c for c in frame.columns if c not in rerun[name].columns]),
        )
        for name, frame in plan.items()
        if name in rerun and set(frame.columns) - set(rerun[name].columns)
    ]


@dataclass
class RecordedRun:
    """A written plan read back with its run record, and what of its inputs changed since."""

    path: Path
    tables: dict[str, pl.DataFrame]
    record: dict[str, Any]
    changed: list[str]  # inputs whose size or checksum differs from the record
    unprovable: list[str]  # database inputs: no checksum to compare

    @property
    def version(self) -> str | None:
        return self.record.get("stockplan_version")

    @property
    def config_path(self) -> Path:
        return Path(self.record["config"]["path"])


def recorded_run(plan_path: Path) -> RecordedRun:
    """The plan at `plan_path` (.xlsx or folder), its run record, and the inputs changed."""
    from stockplan.errors import StockplanError
    from stockplan.io.planfiles import read_plan, written_language
    from stockplan.io.runrecord import changed_inputs

    tables, record = read_plan(plan_path)
    if not isinstance(record, dict) or "config" not in record:
        error = StockplanError(phrase("error.no_run_record", path=str(plan_path)))
        error.language = written_language(plan_path)  # no record to say the plan's language
        raise error
    record = _checked_record(record, plan_path)
    changed, unprovable = changed_inputs(record)
    return RecordedRun(plan_path, tables, record, changed, unprovable)


def _checked_record(record: dict[str, Any], plan_path: Path) -> dict[str, Any]:
    """`record` with what a re-run needs: the config's path and the planning date, which a
    spreadsheet saves as a date cell (`2026-11-23 00:00:00`, read back as the date). An entry
    deleted or retyped in the `run` sheet or `run.json` is an error naming it."""
    import datetime as dt

    from stockplan.errors import StockplanError, quote

    def refuse(key: str, problem: dict[str, str]) -> StockplanError:
        return StockplanError(
            phrase("error.run_record_entry", path=str(plan_path), entry=key, problem=problem)
        )

    config = record.get("config")
    if not isinstance(config, dict) or not str(config.get("path") or "").strip():
        raise refuse("config.path", both("error.run_record_missing"))
    groups = {"options": record.get("options"), "inputs": record.get("inputs")}
    for key, group in groups.items():
        if group is not None and not isinstance(group, dict):
            raise refuse(key, both("error.run_record_not_group", value=quote(group)))
    columns = (groups["options"] or {}).get("columns")
    if columns is not None and not (
        isinstance(columns, list) and all(isinstance(c, str) for c in columns)
    ):
        raise refuse("options.columns", both("error.run_record_not_columns", value=quote(columns)))
    for name, entry in (groups["inputs"] or {}).items():
        if not isinstance(entry, dict):
            raise refuse(f"inputs.{name}", both("error.run_record_not_group", value=quote(entry)))
    date = record.get("planning_date")
    if date is None or not str(date).strip():
        raise refuse("planning_date", both("error.run_record_missing"))
    text = _MIDNIGHT.sub(r"\1", str(date).strip())
    try:
        day = dt.date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        day = None
    if day is None:
        raise refuse("planning_date", both("error.run_record_not_date", value=str(date)))
    return record | {"planning_date": day.isoformat()}
