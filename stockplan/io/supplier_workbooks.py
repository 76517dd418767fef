"""One workbook per supplier with its projected purchase orders, ready to send.

Each workbook has a `summary` sheet (per order date: lines, quantity, range, value, and
the lines without a cost the value leaves out when there are any) and a
`lines` sheet (per sku x location x order date). File names are the supplier's name with
characters that files cannot hold replaced by `_`. Sheet names, headers and the status
words follow the buyer's language when written (`write_files(..., lang=...)`).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl

from stockplan.errors import StockplanError
from stockplan.io.writers import Format

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]+')
"""Characters a file name cannot hold, controls, and the bidi overrides that would make a
name read backwards in a file browser (`invoice\u202excod.xlsx` shows as `...docx`)."""
NAME_BYTES = 150
"""Longest file name stem in UTF-8 bytes: file systems allow 255 bytes (not characters:
85 Chinese characters fill them), with room for `-2`, `.xlsx` and the temporary file's
prefix and suffix."""


def supplier_file_name(supplier: str) -> str:
    """A file name for a supplier: unsafe characters to `_`, never empty or hidden, at most
    `NAME_BYTES` bytes (cut at a whole character)."""
    name = _UNSAFE.sub("_", supplier).strip(" .")
    name = name.encode()[:NAME_BYTES].decode(errors="ignore").rstrip(" .")
    return name or "supplier"


def check_supplier_folder(folder: Path) -> None:
    """Refuse, before any work is done, a target that is a file, whose parent is missing,
    or in which no file can be written."""
    from stockplan.i18n import phrase
    from stockplan.io.writers import check_writable

    if folder.exists() and not folder.is_dir():
        raise StockplanError(phrase("error.supplier_folder_is_file", folder=str(folder)))
    if not folder.exists() and not folder.parent.is_dir():
        raise StockplanError(
            phrase("error.supplier_folder_parent", folder=str(folder), parent=str(folder.parent))
        )
    check_writable(folder)


def supplier_workbooks(
    projection: pl.DataFrame,
    summary: pl.DataFrame,
    folder: Path,
    as_of: dt.date,
    names: pl.DataFrame | None = None,
) -> dict[Path, tuple[dict[str, pl.DataFrame], Format]]:
    """Files for `write_files`: folder/<supplier>.xlsx -> {summary, lines} sheets.

    `names` (sku, name) adds item names next to the codes when the product master has them.
    """
    check_supplier_folder(folder)
    if names is not None:
        projection = projection.join(names, on="sku", how="left").select(
            "supplier", "sku", "name", *projection.columns[2:]
        )
    plan: dict[Path, tuple[dict[str, pl.DataFrame], Format]] = {}
    used: set[str] = set()
    for supplier in projection["supplier"].unique().sort().to_list():
        stem = supplier_file_name(supplier)
        candidate, n = stem, 1
        while candidate.lower() in used:  # two suppliers that differ only in unsafe characters
            n += 1
            candidate = f"{stem}-{n}"
        used.add(candidate.lower())
        mine = pl.col("supplier") == supplier
        totals = summary.filter(mine)
        if "missing_cost_lines" in totals.columns and not totals["missing_cost_lines"].sum():
            # the count only where a line lacks a cost, as in the plan's summary
            totals = totals.drop("missing_cost_lines")
        sheets = {
            "summary": totals.select(pl.lit(as_of).alias("as_of"), pl.all()),
            "lines": projection.filter(mine).select(pl.lit(as_of).alias("as_of"), pl.all()),
        }
        plan[folder / f"{candidate}.xlsx"] = (
            sheets,
            "xlsx",
        )
    return plan
