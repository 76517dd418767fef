"""Cross-table checks and normalisation of loaded inputs, before the pure pipeline runs.

This is the last place that knows source files and rows, so every check that must
name them lives here: unknown SKUs, duplicate master data, snapshot conflicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from stockplan.config import Config
from stockplan.errors import StockplanError
from stockplan.io.readers import ROW


@dataclass
class PreparedInputs:
    """Canonical frames for the pipeline, plus warnings for the user."""

    tables: dict[str, pl.DataFrame]
    warnings: list[str] = field(default_factory=list)


def _path(config: Config, table: str) -> Path:
    return getattr(config.inputs, table).path


def _with_location(frame: pl.DataFrame, default_location: str) -> pl.DataFrame:
    if "location" not in frame.columns:
        return frame.with_columns(pl.lit(default_location).alias("location"))
    return frame.with_columns(pl.col("location").fill_null(default_location))


def _first_row(frame: pl.DataFrame, mask: pl.Expr) -> pl.DataFrame:
    return frame.filter(mask).sort(ROW).head(1)


def _check_known_skus(tables: dict[str, pl.DataFrame], config: Config, warnings: list[str]) -> None:
    if "products" not in tables:
        return
    known = tables["products"].select("sku").unique()
    for name in ("stock", "sales", "purchase_orders", "customer_orders"):
        if name not in tables:
            continue
        unknown = tables[name].join(known, on="sku", how="anti")
        if unknown.height == 0:
            continue
        first = unknown.sort(ROW).head(1)
        message = (
            f"{_path(config, name)}, row {first[ROW][0]}, column 'sku': '{first['sku'][0]}' is not "
            f"in the products table ({unknown['sku'].n_unique()} unknown SKUs in {name})"
        )
        if config.planning.unknown_sku == "error":
            raise StockplanError(
                message + "; add them to products or set planning.unknown_sku: warn"
            )
        warnings.append(message)


def _check_unique(frame: pl.DataFrame, keys: list[str], path: Path, what: str) -> None:
    duplicated = _first_row(frame, pl.struct(keys).is_duplicated())
    if duplicated.height:
        key_text = ", ".join(f"{k}='{duplicated[k][0]}'" for k in keys)
        raise StockplanError(
            f"{path}, row {duplicated[ROW][0]}, column '{keys[0]}': {what} {key_text} "
            "appears more than once"
        )


def prepare_inputs(tables: dict[str, pl.DataFrame], config: Config) -> PreparedInputs:
    """Fill default locations, check cross-table consistency, drop source row numbers."""
    warnings: list[str] = []
    default_location = config.planning.default_location
    # master data has no location; a promotion without a location applies everywhere
    located = {"sales", "stock", "purchase_orders", "customer_orders"}
    out = {
        name: (_with_location(frame, default_location) if name in located else frame)
        for name, frame in tables.items()
    }
    _check_known_skus(out, config, warnings)

    if "products" in out:
        _check_unique(out["products"], ["sku"], _path(config, "products"), "product")
    if "suppliers" in out:
        _check_unique(out["suppliers"], ["supplier"], _path(config, "suppliers"), "supplier")

    stock = out["stock"]
    if "date" in stock.columns and stock["date"].null_count() < stock.height:
        snapshot_keys = ["sku", "location", "date"]
    else:
        snapshot_keys = ["sku", "location"]
    _check_unique(stock, snapshot_keys, _path(config, "stock"), "stock record")

    negative = stock.filter(pl.col("on_hand") < 0)
    if negative.height:
        warnings.append(
            f"{_path(config, 'stock')}: {negative.height} rows have negative on_hand; "
            "counted as backorders with on_hand 0"
        )

    sales_end = out["sales"]["date"].max()
    as_of = config.planning.as_of
    if as_of is not None and out["sales"].filter(pl.col("date") >= as_of).height:
        first = _first_row(out["sales"], pl.col("date") >= as_of)
        warnings.append(
            f"{_path(config, 'sales')}, row {first[ROW][0]}: sales on or after planning.as_of "
            f"{as_of} (up to {sales_end}) are ignored"
        )

    clean = {name: frame.drop(ROW) for name, frame in out.items()}
    return PreparedInputs(clean, warnings)
