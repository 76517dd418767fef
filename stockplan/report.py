"""Rich terminal tables for output frames (built here, printed by the CLI)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from rich.table import Table

from stockplan.io.writers import presentable
from stockplan.risk import RISK_COLUMNS

TERMINAL_COLUMNS = {
    "orders": [
        "sku",
        "location",
        "supplier",
        "order_qty",
        "order_value",
        "expected_arrival",
        "inventory_position",
        "reorder_point",
        "order_up_to",
        "safety_stock",
        "abc",
        "demand_pattern",
        "model",
    ],
    "risk": RISK_COLUMNS,
}
RISK_STYLE = {"high": "bold red", "medium": "yellow", "low": "green"}


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1e15 else f"{value:.3g}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def rich_table(frame: pl.DataFrame, title: str, name: str, limit: int = 40) -> Table:
    """The first `limit` rows of `frame` as a rich Table, with the table's key columns."""
    columns = [c for c in TERMINAL_COLUMNS.get(name, frame.columns) if c in frame.columns]
    shown = presentable(frame.select(columns).head(limit))
    more = frame.height - shown.height
    caption = f"{more} more rows: write them with -o FILE" if more > 0 else None
    table = Table(title=title, caption=caption, header_style="bold", show_lines=False)
    for column in columns:
        numeric = frame.schema[column].is_numeric()
        table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    for row in shown.iter_rows(named=True):
        style = RISK_STYLE.get(str(row.get("risk_level"))) if name == "risk" else None
        table.add_row(*[_cell(row[c]) for c in columns], style=style)
    return table
