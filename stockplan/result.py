"""The plan's result: its output tables and what explain, charts and projections read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl


@dataclass
class PlanResult:
    as_of: dt.date
    tables: dict[str, pl.DataFrame]
    notes: list[str] = field(default_factory=list)
    history: pl.DataFrame | None = None  # demand per bucket, for explain and charts
    open_po: pl.DataFrame | None = None
    bucket_days: int = 7
    plan_rows: pl.DataFrame | None = None  # every sku x location's order row, for projections
