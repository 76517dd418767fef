"""Cross-table checks and normalisation of loaded inputs, before the pure pipeline runs.

This is the last place that knows source files and rows, so every check that must
name them lives here: unknown SKUs, duplicate master data, snapshot conflicts.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from stockplan.config import LONGEST_REVIEW_DAYS, YUAN_NAMES, Config, currency_code
from stockplan.errors import StockplanError, quote
from stockplan.i18n import both, input_name, phrase, place
from stockplan.io.columns import blank_locations, refuse_blank_location_facts
from stockplan.io.datasets import SOURCE_FILE, place_of, where
from stockplan.io.item_tables import check_item_tables
from stockplan.io.readers import ROW, part_location_header, source_header
from stockplan.io.schema import (
    ACTIVE_STATUS,
    FULL_WIDTH,
    HALF_WIDTH,
    INACTIVE_STATUS,
    normalise_header,
    status_word,
)


@dataclass
class PreparedInputs:
    """Canonical frames for the pipeline, plus warnings for the user."""

    tables: dict[str, pl.DataFrame]
    warnings: list[str] = field(default_factory=list)


def _skus(count: int) -> str:
    return "SKU" if count == 1 else "SKUs"


def _path(config: Config, table: str) -> Path:
    return config.source(table)


def _with_location(frame: pl.DataFrame, default_location: str) -> pl.DataFrame:
    if "location" not in frame.columns:
        return frame.with_columns(pl.lit(default_location).alias("location"))
    if frame["location"].null_count() == 0:
        return frame  # no copy of a column that may hold millions of rows
    return frame.with_columns(pl.col("location").fill_null(default_location))


def _first_row(frame: pl.DataFrame, mask: pl.Expr) -> pl.DataFrame:
    return frame.filter(mask).sort([c for c in (SOURCE_FILE, ROW) if c in frame.columns]).head(1)


def _first_with_count(rows: pl.DataFrame, count: int) -> pl.DataFrame:
    """The first of `rows` by file and row with `count`: what a check reports of a table,
    or of a partition's slice of it, for `_earliest` to gather."""
    return _first_row(rows, pl.lit(True)).with_columns(count=pl.lit(count, pl.Int64))


def _earliest(firsts: list[pl.DataFrame]) -> tuple[pl.DataFrame, int] | None:
    """Over `_first_with_count` rows (of the table, or one per partition): the earliest by
    file and row, and the counts added; None when no row was found."""
    found = [f for f in firsts if f.height]
    if not found:
        return None
    every = pl.concat(found, how="diagonal_relaxed")
    return _first_row(every, pl.lit(True)), int(every["count"].sum())


def unknown_skus(frame: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    """The rows (`source_row`, [`source_file`], sku) whose sku the products table lacks."""
    known = products["sku"].unique().implode()
    located = [c for c in (ROW, SOURCE_FILE) if c in frame.columns]
    # a membership test per row: no hash table of millions of sales lines' codes
    return frame.select(*located, "sku").filter(~pl.col("sku").is_in(known))


def unknown_sku_message(
    config: Config,
    name: str,
    first: pl.DataFrame,
    count: int,
    warnings: list[str],
    column: str = "sku",
) -> None:
    """Refuse (planning.unknown_sku: error) or warn about `count` unknown skus of table
    `name`, naming the first row (`first`, its code in a `sku` column) and `column`."""
    message = (
        f"{where(first, _path(config, name))}, column '{column}': '{first.sort(ROW)['sku'][0]}' "
        f"is not in the products table ({count} unknown {_skus(count)} in {name})"
    )
    if config.planning.unknown_sku == "error":
        raise StockplanError(
            phrase(
                "error.unknown_sku",
                where=place_of(first, _path(config, name), column),
                sku=first.sort(ROW)["sku"][0],
                unknown={"en": f"{count} unknown {_skus(count)}", "zh": f"{count} 个未知商品"},
                table={"en": name, "zh": input_name(name, "zh")},
            )
        )
    warnings.append(message)


ITEM_SKU_COLUMNS = (
    ("bom", "kit_sku"),
    ("bom", "component_sku"),
    ("succession", "old_sku"),
    ("succession", "new_sku"),
    ("price_breaks", "sku"),
)
"""The item tables' sku columns that must name an item of the products table, checked in
this order after the `SKU_CHECKED` tables and the item tables' own checks
(`check_item_tables`). A kit is sold (the products hold it as they hold every sold
item); its components and a successor are bought, and the products give their supplier,
cost and pack: a new successor needs its products row, not stock or sales. An old item
and a price break must name the item meant: a typo's successor would inherit the old
item's demand and be ordered with no supplier or cost, a typo's price break never
applies."""


def item_sku_rows(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """`frame`'s row columns (`source_row`, [`source_file`]) with its `column` as sku."""
    located = [c for c in (ROW, SOURCE_FILE) if c in frame.columns]
    return frame.select(*located, pl.col(column).alias("sku")).drop_nulls("sku")


def _check_known_skus(
    tables: dict[str, pl.DataFrame],
    config: Config,
    warnings: list[str],
    checks: Sequence[tuple[str, str]],
) -> None:
    """Every sku of the `checks` (table, column), in their order, in the products table
    (`unknown_sku_message`: refused, or warned with `planning.unknown_sku: warn`)."""
    if "products" not in tables:
        return
    for name, column in checks:
        if name not in tables or column not in tables[name].columns:
            continue
        unknown = unknown_skus(item_sku_rows(tables[name], column), tables["products"])
        if unknown.height:
            first = _first_row(unknown, pl.lit(True))
            count = unknown["sku"].n_unique()
            unknown_sku_message(config, name, first, count, warnings, column)


SPELLING_TABLES: dict[str, tuple[str, ...]] = {
    "products": ("sku",),
    "stock": ("sku",),
    "sales": ("sku",),
    "purchase_orders": ("sku",),
    "customer_orders": ("sku",),
    "price_breaks": ("sku",),
    "promotions": ("sku",),
    "overrides": ("sku",),
    "bom": ("kit_sku", "component_sku"),
    "succession": ("old_sku", "new_sku"),
}
"""The tables, with their sku columns, whose codes are compared for one code spelled two
ways, the earlier the reference: a case-only difference names the row of the later table."""

SPELLED_SKUS = "spelled_skus"
"""A prepared table (only when a cluster's tasks read some tables themselves): the
`spelled_skus` of the tables read on the driver, compared with the tasks' codes once they
have read theirs (`check_read_facts`)."""


def spelled_skus(tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """table, column, sku, source_row (, source_file as text): the first row of each code of
    every sku column of the `SPELLING_TABLES` in `tables` (`first_sku_rows`): all that
    `check_sku_spellings` compares. A partition's codes are its own, so the partitions'
    rows together are the table's."""
    firsts = [
        _first_sku_rows(
            frame.lazy().select(
                # text: the part files of several datasets are one column
                *([pl.col(SOURCE_FILE).cast(pl.String)] if SOURCE_FILE in frame.columns else []),
                ROW,
                sku=column,
            ),
            [c for c in (SOURCE_FILE, ROW) if c in frame.columns],
            name,
        ).with_columns(pl.lit(column).alias("column"))
        for name, columns in SPELLING_TABLES.items()
        if (frame := tables.get(name)) is not None
        for column in columns
        if column in frame.columns
    ]
    schema = {"table": pl.String, "sku": pl.String, ROW: pl.Int64, "column": pl.String}
    # one query for every table (each table's steps were queries of their own)
    return pl.concat([pl.LazyFrame(schema=schema), *firsts], how="diagonal_relaxed").collect()


def check_sku_spellings(tables: Mapping[str, pl.DataFrame], config: Config) -> None:
    """Refuse an SKU of one table that equals one of another table only once its leading
    zeros are restored (`10007` / `010007`: a spreadsheet read the code as a number), its
    case is folded (`a010007` / `A010007`) or its full-width characters are read as ASCII
    (`０１０００７` / `010007`, typed in an input method's full-width mode), or that is the
    same decimal number (`1.1` / `1.10`, `10` / `10.0`: a workbook held `1.10` as the number
    1.1, which drops the zeros at the end of its decimals) or the same whole number written
    in exponent form (`1E5` / `100000`: a spreadsheet reads `1E5` as that number), when no
    table has both spellings (one that does knows two items, `123` and `0123`): the two
    would be planned as two items, one with the sales and none of the stock, or a kit's
    component or a successor that is no item the shop sells or stocks. Every sku column
    counts (`SPELLING_TABLES`: the kits' and the successions' too). Names the row and column
    of the spelling that lost its zeros (for case or width, the later table's), both
    spellings and the fix (`sku_key`)."""
    refuse_two_spellings(spelled_skus(tables), config)


INVISIBLE = "[\u00ad\u200b-\u200d\u2060\ufeff]"
"""Characters a copied code may carry that show as nothing (soft hyphen, zero-width space,
non-joiner and joiner, word joiner, byte order mark): left out when spellings of an SKU
or a location are compared (`01.010\u200b` is `01.010`)."""


EXPONENT_CODE = r"^[0-9]+(\.[0-9]+)?[eE]\+?[0-9]{1,2}$"
"""A code in exponent form (`1E5`), which a spreadsheet reads as the number it writes
(100000): `sku_key` gives both the one key when the number is whole and of fewer than 16
digits."""


def sku_key(sku: pl.Expr) -> pl.Expr:
    """The one code that spellings of an SKU differing only in leading zeros, letter case,
    full or half width, invisible characters (`INVISIBLE`), for a code that is a decimal
    number, zeros at the end of its decimals (`1.10` / `1.1`, `10.0` / `10`: a workbook held
    the code as a number), or a code in exponent form and the whole number it equals
    (`1E5` / `100000`: a spreadsheet read the code as a number) share."""
    text = sku.str.replace_all(INVISIBLE, "").str.replace_many(FULL_WIDTH)
    number = text.cast(pl.Float64, strict=False)
    whole = text.str.contains(EXPONENT_CODE) & (number < 1e15) & (number == number.floor())
    return (
        pl.when(whole)
        .then(number.cast(pl.Int64).cast(pl.String))
        .otherwise(text)
        .str.strip_chars_start("0")
        .str.to_lowercase()
        .str.replace(r"^(\d*\.\d*?)0+$", "${1}")
        .str.replace(r"^(\d*)\.$", "${1}")
    )


def sku_difference(sku: str, other: str) -> str:
    """The key of the fix for `sku`, spelled `other` in another table (`sku_key`)."""
    if re.search(INVISIBLE, sku) or re.search(INVISIBLE, other):
        return "reading.sku_invisible"
    if any(re.match(EXPONENT_CODE, code.translate(HALF_WIDTH)) for code in (sku, other)):
        return "reading.sku_exponent"
    if len(sku) < len(other):
        if sku.translate(HALF_WIDTH).lstrip("0") == other.translate(HALF_WIDTH).lstrip("0"):
            return "reading.sku_zeros"
        return "reading.sku_decimals"
    return "reading.sku_case" if sku.lower() == other.lower() else "reading.sku_width"


def _rows_of(spelled: pl.DataFrame, mask: pl.Expr) -> pl.DataFrame:
    """The rows of `spelled` that `mask` selects (of one table), without `source_file` when
    that table is no dataset."""
    rows = spelled.filter(mask)
    if SOURCE_FILE in rows.columns and rows[SOURCE_FILE].null_count() == rows.height:
        rows = rows.drop(SOURCE_FILE)
    return rows


def refuse_two_spellings(spelled: pl.DataFrame, config: Config) -> None:
    """`check_sku_spellings` over `spelled_skus` rows: of the tables read here, or of the
    driver's and every partition's once a cluster's tasks have read theirs. Only the
    distinct codes of each table are compared."""
    rank = {name: i for i, name in enumerate(SPELLING_TABLES)}
    codes = (
        spelled.select(pl.col("table").replace_strict(rank, return_dtype=pl.Int64), "sku")
        .drop_nulls("sku")
        .unique()
        .with_columns(sku_key(pl.col("sku")).alias("key"))
    )
    if codes["table"].n_unique() < 2:
        return
    clash = codes.filter(
        (pl.col("key") != "")
        & (pl.col("sku").n_unique().over("key") > 1)
        # a key one table spells two ways (`123` and `0123` in products) is two items
        & (pl.col("sku").n_unique().over("table", "key").max().over("key") == 1)
    )
    if clash.height == 0:
        return
    spelled_in = codes.select("table", "sku")
    pairs = (
        clash.join(clash, on="key", suffix="_other")
        .filter((pl.col("table") != pl.col("table_other")) & (pl.col("sku") != pl.col("sku_other")))
        # neither table has the other's spelling: a table with both knows two items
        .join(spelled_in.rename({"table": "table_other"}), on=["table_other", "sku"], how="anti")
        .join(spelled_in.rename({"sku": "sku_other"}), on=["table", "sku_other"], how="anti")
    )
    # the spelling with an invisible character is blamed, else the one that lost zeros,
    # else the later table's
    hidden, other_hidden = (pl.col(c).str.contains(INVISIBLE) for c in ("sku", "sku_other"))
    length, other_length = (
        pl.col(c).str.replace_all(INVISIBLE, "").str.len_chars() for c in ("sku", "sku_other")
    )
    blamed = pairs.filter(
        (hidden & ~other_hidden)
        | (
            (hidden == other_hidden)
            & (
                (length < other_length)
                | ((length == other_length) & (pl.col("table") > pl.col("table_other")))
            )
        )
    )
    if blamed.height == 0:
        return
    names = list(SPELLING_TABLES)
    name = names[blamed["table"].min()]
    candidates = blamed.filter(pl.col("table") == blamed["table"].min())
    rows = _rows_of(
        spelled, (pl.col("table") == name) & pl.col("sku").is_in(candidates["sku"].implode())
    )
    first = rows.sort([c for c in (SOURCE_FILE, ROW, "column") if c in rows.columns]).head(1)
    sku = first["sku"][0]
    pair = candidates.filter(pl.col("sku") == sku).sort("table_other").row(0, named=True)
    other_name, other = names[pair["table_other"]], pair["sku_other"]
    other_rows = _rows_of(spelled, (pl.col("table") == other_name) & (pl.col("sku") == other))
    count = blamed.select(pl.struct("table", "sku").n_unique()).item()
    fix = both(sku_difference(sku, other))
    raise StockplanError(
        phrase(
            "error.sku_spelling",
            where=place_of(first, _path(config, name), first["column"][0]),
            sku=sku,
            other=other,
            other_where=place_of(other_rows, _path(config, other_name)),
            fix=fix,
            more=both("reading.sku_more", count=count) if count > 1 else "",
        )
    )


LOCATION_TABLES = (
    "stock",
    "sales",
    "purchase_orders",
    "customer_orders",
    "promotions",
    "overrides",
)
"""The tables with a location column, in the order a spelling of one is blamed."""

SPELLED_LOCATIONS = "spelled_locations"
"""A prepared table (only when a cluster's tasks read the stock or the sales): the
`spelled_locations` of the tables read on the driver, compared with the tasks' once they
have read theirs (`check_read_facts`)."""

LOCATION_SEPARATORS = r"[\s\-_./·]+"
"""What may stand between the parts of a location's name, left out when spellings are
compared (`WH-1`, `WH 1`, `WH_1`, `WH.1` are `WH1`)."""


def location_key(location: pl.Expr) -> pl.Expr:
    """The one name that spellings of a location differing only in letter case, full or
    half width, separators (`LOCATION_SEPARATORS`), invisible characters (`INVISIBLE`) or
    leading zeros share."""
    return (
        location.str.replace_all(INVISIBLE, "")
        .str.replace_many(FULL_WIDTH)
        .str.to_lowercase()
        .str.replace_all(LOCATION_SEPARATORS, "")
        .str.strip_chars_start("0")
    )


def spelled_locations(tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """table, location, `source_row` (, `source_file` as text) and `rows`: the first row of
    each location named in every table of `LOCATION_TABLES` in `tables` and how many rows
    name it so (blank cells are not names). All `refuse_location_spellings` compares; a
    partition's rows are its own, so the partitions' rows together are the table's."""
    firsts = []
    for name in LOCATION_TABLES:
        frame = tables.get(name)
        if frame is None or "location" not in frame.columns or ROW not in frame.columns:
            continue
        located = [c for c in (SOURCE_FILE, ROW) if c in frame.columns]
        files = [SOURCE_FILE] if SOURCE_FILE in frame.columns else []
        # per part file first (its first row), then the first file in file order: no sort
        # of the lines
        per_file = (
            frame.lazy()
            .drop_nulls("location")
            .group_by("location", *files)
            .agg(pl.col(ROW).min(), rows=pl.len())
        )
        firsts.append(
            per_file.sort("location", *located)
            .group_by("location", maintain_order=True)
            .agg(*(pl.col(c).first() for c in located), pl.col("rows").sum())
            .select(
                pl.lit(name).alias("table"),
                "location",
                *(pl.col(c).cast(pl.String) if c == SOURCE_FILE else pl.col(c) for c in located),
                "rows",
            )
        )
    schema = {"table": pl.String, "location": pl.String, ROW: pl.Int64, "rows": pl.UInt32}
    return pl.concat([pl.LazyFrame(schema=schema), *firsts], how="diagonal_relaxed").collect()


def _spelling_difference(location: str, other: str) -> dict[str, str]:
    """How two spellings of one location differ (letter case, width, separators, invisible
    characters, leading zeros: `location_key` leaves out no more), in both languages."""
    seen, other_seen = (re.sub(INVISIBLE, "", t) for t in (location, other))
    half, other_half = seen.translate(HALF_WIDTH), other_seen.translate(HALF_WIDTH)
    bare, other_bare = (re.sub(LOCATION_SEPARATORS, "", t) for t in (half, other_half))
    differ = {
        "reading.location_case": bare.lstrip("0") != other_bare.lstrip("0"),
        "reading.location_width": half != seen or other_half != other_seen,
        "reading.location_separators": re.findall(LOCATION_SEPARATORS, half)
        != re.findall(LOCATION_SEPARATORS, other_half),
        "reading.location_zeros": bare.lower() != other_bare.lower(),
        "reading.location_invisible": seen != location or other_seen != other,
    }
    said = [both(key) for key, differs in differ.items() if differs]
    english = [part["en"] for part in said]
    joined = {
        "en": english[-1] if len(said) == 1 else f"{', '.join(english[:-1])} and {english[-1]}",
        "zh": "和".join(part["zh"] for part in said),
    }
    return both("reading.location_differ", parts=joined)


def refuse_location_spellings(spelled: pl.DataFrame, config: Config) -> None:
    """Refuse a location spelled two ways, in one table or across tables, that differ only
    in letter case, full or half width, separators or leading zeros (`location_key`: `wh1`,
    `ＷＨ１`, `WH-1`, `WH01` beside `WH1`): each spelling is planned as a warehouse of its
    own, one with the stock and none of the sales, or a transfer between the two. The
    spelling with the most rows is taken as meant; the message names the first row of
    another (by table, file and row: the file's own header), the meant one's first row,
    how they differ and how many locations are spelled two ways."""
    codes = spelled.with_columns(key=location_key(pl.col("location"))).filter(pl.col("key") != "")
    totals = codes.group_by("key", "location").agg(pl.col("rows").sum())
    clash = totals.filter(pl.col("location").n_unique().over("key") > 1)
    if clash.height == 0:
        return
    meant = (
        clash.sort(["key", "rows", "location"], descending=[False, True, False])
        .group_by("key", maintain_order=True)
        .first()
        .select("key", pl.col("location").alias("meant"))
    )
    rank = {name: i for i, name in enumerate(LOCATION_TABLES)}
    located = [c for c in (SOURCE_FILE, ROW) if c in codes.columns]
    ranked = codes.join(meant, on="key").with_columns(
        rank=pl.col("table").replace_strict(rank, return_dtype=pl.Int64)
    )
    other = ranked.filter(pl.col("location") != pl.col("meant"))
    first = other.sort("rank", *located, nulls_last=True).head(1)
    name, location, right = first["table"][0], first["location"][0], first["meant"][0]
    reference = ranked.filter(pl.col("location") == right).sort("rank", *located).head(1)
    other_name = reference["table"][0]
    count = other.select("location").n_unique()
    path = _path(config, name)
    raise StockplanError(
        phrase(
            "error.location_spelling",
            where=_place_in_file(
                _rows_of(first, pl.lit(True)),
                path,
                name,
                "location",
                config.columns.get(name, {}),
            ),
            location=quote(location),
            other=quote(right),
            other_where=place_of(_rows_of(reference, pl.lit(True)), _path(config, other_name)),
            how=_spelling_difference(location, right),
            more=both("reading.location_more", count=count) if count > 1 else "",
        )
    )


def check_location_spellings(tables: Mapping[str, pl.DataFrame], config: Config) -> None:
    """`refuse_location_spellings` over the locations the tables name (before any default
    location fills a table without one)."""
    refuse_location_spellings(spelled_locations(tables), config)


UNMATCHED_SALES_SHARE = 0.5
"""More than this share of the sales' distinct SKUs without a stock record is warned about:
a stock snapshot lists what the shop carries, so most sold items are in it, and a sales
file whose codes mostly miss it is usually spelled differently or for another shop."""


def unmatched_sales_skus(tables: dict[str, pl.DataFrame], config: Config) -> list[str]:
    """The warning when none, or more than `UNMATCHED_SALES_SHARE`, of the sales' SKUs are
    in the stock file: each such item is planned as if it had no stock."""
    if "sales" not in tables or "stock" not in tables:
        return []
    sold = tables["sales"]["sku"].drop_nulls().unique()
    if sold.len() == 0:
        return []
    missing = int((~sold.is_in(tables["stock"]["sku"].implode())).sum())
    if missing == 0 or missing <= UNMATCHED_SALES_SHARE * sold.len():
        return []
    files = {"sales": str(_path(config, "sales")), "stock": str(_path(config, "stock"))}
    if missing == sold.len():
        return [phrase("warn.unmatched_sales_none", total=sold.len(), **files)]
    share = f"{missing / sold.len():.0%}"
    return [
        phrase("warn.unmatched_sales_some", missing=missing, total=sold.len(), share=share, **files)
    ]


SALES_AS_STOCK_SAMPLE = 1_000
"""Stock rows compared with the sales lines first: a real snapshot history fails at once
(its first rows are no sales lines), so only a copy of the sales is compared in full."""


def refuse_sales_as_stock(tables: Mapping[str, pl.DataFrame], config: Config) -> None:
    """Refuse a stock file whose every row is a line of the sales file: the same date, sku,
    location and quantity (on hand), over at least two days. A sales export named for
    `inputs.stock` (or a copy of the sales file) read each item's last day of sales as its
    stock on hand; a snapshot history whose every figure equals that day's sale of the
    item, day after day, is no stock a shop keeps. A single snapshot date is never refused
    (a few items may have sold exactly their stock that day). Not checked where a
    cluster's tasks read the sales or the stock."""
    stock, sales = tables.get("stock"), tables.get("sales")
    if stock is None or sales is None or "date" not in stock.columns or stock.height == 0:
        return
    if ("location" in stock.columns) != ("location" in sales.columns):
        return  # one export names warehouses, the other does not: not one file
    if stock["date"].null_count() or stock["date"].n_unique() < 2:
        return
    keys = ["date", "sku", *(["location"] if "location" in stock.columns else [])]

    def all_sold(rows: pl.DataFrame) -> bool:
        """Whether every one of `rows` is a sales line (the lines of its skus only read)."""
        lines = (
            sales.lazy()
            .filter(pl.col("sku").is_in(rows["sku"].unique().implode()))
            .select(*keys, pl.col("quantity").cast(pl.Float64).alias("on_hand"))
        )
        figures = rows.lazy().select(*keys, pl.col("on_hand").cast(pl.Float64))
        unsold = figures.join(lines, on=[*keys, "on_hand"], how="anti")
        return unsold.select(pl.len()).collect().item() == 0

    if not all_sold(stock.head(SALES_AS_STOCK_SAMPLE)) or not all_sold(stock):
        return
    raise StockplanError(
        phrase(
            "error.stock_is_sales",
            stock=str(_path(config, "stock")),
            sales=str(_path(config, "sales")),
            rows=stock.height,
            days=stock["date"].n_unique(),
            setting="inputs.stock",
        )
    )


def _check_unique(frame: pl.DataFrame, keys: list[str], path: Path, what: str) -> None:
    repeat = _first_row(frame, ~pl.struct(keys).is_first_distinct())
    if repeat.height:
        key_text = ", ".join(f"{k}='{repeat[k][0]}'" for k in keys)
        earlier = frame.join(repeat.select(keys), on=keys)
        first = (  # in a dataset the first may be in another part file
            place_of(earlier, path)
            if SOURCE_FILE in frame.columns
            else {"en": f"row {earlier[ROW].min()}", "zh": f"第 {earlier[ROW].min()} 行"}
        )
        raise StockplanError(
            phrase(
                "error.appears_again",
                where=place_of(repeat, path, keys[0]),
                what={"en": what, "zh": _RECORDS_ZH[what]},
                keys=key_text,
                first=first,
            )
        )


# what `_check_unique` names, in Chinese
_RECORDS_ZH = {
    "price break": "价格阶梯",
    "product": "商品",
    "stock record": "库存记录",
    "supplier": "供应商",
}


def with_open_quantities(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """An order table's quantities from what its export gives (an ERP's 执行表 lists the
    ordered, the done and the open quantity of a line):

    - purchase_orders: received_quantity = quantity - open_quantity (未入库数量) where no
      received quantity is given, so the line's open part is on order, not its whole; a
      line received in part (`partly_received`) becomes its received part and its open one;
    - customer_orders: quantity (the backlog) = open_quantity (未发货数量), else quantity -
      shipped_quantity (已发货数量), else quantity.

    Parts below zero (more shipped or received than ordered) count as none open. The
    helper columns are dropped."""
    if name == "purchase_orders" and "open_quantity" in frame.columns:
        done = (pl.col("quantity") - pl.col("open_quantity")).clip(lower_bound=0.0)
        received = (
            pl.coalesce("received_quantity", done) if "received_quantity" in frame.columns else done
        )
        lines = frame.with_columns(received.alias("received_quantity"))
        return partly_received(lines).drop("open_quantity")
    if name == "customer_orders" and {"open_quantity", "shipped_quantity"} & set(frame.columns):
        ordered = pl.col("quantity")
        if "shipped_quantity" in frame.columns:
            ordered = (ordered - pl.col("shipped_quantity").fill_null(0.0)).clip(lower_bound=0.0)
        backlog = (
            pl.coalesce("open_quantity", ordered) if "open_quantity" in frame.columns else ordered
        )
        return frame.with_columns(backlog.alias("quantity")).drop(
            [c for c in ("open_quantity", "shipped_quantity") if c in frame.columns]
        )
    return frame


def partly_received(lines: pl.DataFrame) -> pl.DataFrame:
    """Purchase-order lines with a received date and an open quantity (an ERP's 采购订单执行表:
    100 ordered, 40 received on 10-08, 未入库数量 60) as two lines: the received part
    (quantity less the open one, received on its date: a receipt for lead times and
    scores) and the open part (no received date: on order, due on the line's expected
    date, never before as_of). A line is open while it has no received date, so the whole
    line counted as closed and its 60 open units were not on order."""
    if "received_date" not in lines.columns:
        return lines
    # a blank open quantity says nothing is open (`min_horizontal` alone would skip the
    # null and take the whole quantity: a received line back on order)
    open_part = pl.min_horizontal(
        pl.col("open_quantity").fill_null(0.0).clip(lower_bound=0.0), "quantity"
    )
    partly = pl.col("received_date").is_not_null() & (open_part > 0)
    split = lines.filter(partly)
    if split.height == 0:
        return lines
    arrived = split.with_columns((pl.col("quantity") - open_part).alias("quantity"))
    still_open = split.with_columns(open_part.alias("quantity"), *_unreceived(lines))
    return pl.concat(
        [lines.filter(~partly.fill_null(False)), arrived.filter(pl.col("quantity") > 0), still_open]
    )


RECEIPT_COLUMNS = ("received_date", "received_quantity", "rejected_quantity", "returned_quantity")
"""What a receipt writes on a purchase-order line; a line without them is open."""


def _unreceived(lines: pl.DataFrame) -> list[pl.Expr]:
    """The receipt columns of `lines` (`RECEIPT_COLUMNS`) emptied: the line is open."""
    return [pl.lit(None, lines.schema[c]).alias(c) for c in RECEIPT_COLUMNS if c in lines.columns]


def orders_as_of(orders: pl.DataFrame, config: Config) -> tuple[pl.DataFrame, list[str]]:
    """The purchase orders as they stood on `planning.as_of`, and the warning counting what
    changed: a line ordered after it is left out (not placed yet); a line received after it
    is open (receipt columns emptied: on order, due on its expected date, never before
    as_of; no receipt for lead times or supplier scores). Received or ordered on as_of
    itself stands. Without `planning.as_of` (the plan is made today) nothing changes."""
    as_of = config.planning.as_of
    if as_of is None:
        return orders, []
    later = pl.col("order_date") > as_of
    received_later = (
        (pl.col("received_date") > as_of).fill_null(False) & ~later
        if "received_date" in orders.columns
        else pl.lit(False)
    )
    counts = orders.select(later.sum().alias("later"), received_later.sum().alias("reopened"))
    left_out, reopened = counts.row(0)
    if left_out + reopened == 0:
        return orders, []
    kept = orders.filter(~later)
    if reopened:
        kept = kept.with_columns(
            pl.when(received_later).then(empty).otherwise(pl.col(empty.meta.output_name()))
            for empty in _unreceived(kept)
        )
    path, first = _path(config, "purchase_orders"), orders.filter(later | received_later)
    note = phrase(
        "warn.orders_after_as_of",
        where=place_of(first, path) if ROW in first.columns else str(path),
        setting="planning.as_of",
        as_of=as_of,
        later=left_out,
        reopened=reopened,
    )
    return kept, [note]


def check_purchase_orders(frame: pl.DataFrame, path: Path) -> None:
    """A receipt dated before its order is refused, naming file, row and column."""
    if "received_date" not in frame.columns:
        return
    early = _first_row(frame, pl.col("received_date") < pl.col("order_date"))
    if early.height:
        raise StockplanError(
            phrase(
                "error.received_before_ordered",
                where=place(path, early[ROW][0], "received_date"),
                received=early["received_date"][0],
                ordered=early["order_date"][0],
            )
        )


def _refuse_backwards(frame: pl.DataFrame, path: Path, start: str, end: str) -> None:
    """A window (closure, promotion) that ends before it starts is a typo, not an empty
    window: the first such row is an error naming column `end`."""
    backwards = _first_row(frame, pl.col(end) < pl.col(start))
    if backwards.height:
        raise StockplanError(
            f"{where(backwards, path)}, column '{end}': {backwards[end][0]} is before "
            f"'{start}' {backwards[start][0]}"
        )


LONG_CLOSURE_DAYS = 183
"""A supplier closure longer than half a year is more likely a mistyped year than a
holiday (the longest are a few weeks around Chinese New Year): warned."""


def _check_closures(frame: pl.DataFrame, path: Path) -> list[str]:
    """A closure that ends before it starts is a typo, not an empty closure (refused); one
    longer than `LONG_CLOSURE_DAYS` is kept and warned about: every order to the supplier
    waits for its end."""
    _refuse_backwards(frame, path, "from", "to")
    days = (pl.col("to") - pl.col("from")).dt.total_days() + 1
    long = _first_row(frame, days > LONG_CLOSURE_DAYS)
    if long.height == 0:
        return []
    start, end = long["from"][0], long["to"][0]
    return [
        f"{where(long, path)}, column 'to': closed {(end - start).days + 1} days ({start} "
        f"to {end}): the orders to this supplier wait for the end of it; check the year"
    ]


LARGEST_LOAD = {"container_m3": 200.0, "container_kg": 50_000.0}
"""Above these no container or truck goes (a 40-foot high cube holds 76 m3 and carries
about 26,500 kg; a loaded lorry in China may weigh at most 49 t): a container size above them
is more likely litres or grams than m3 or kg, and warned about."""


def _check_containers(suppliers: pl.DataFrame, path: Path) -> list[str]:
    """A container of 0 m3 or 0 kg holds nothing: loads would be infinite (a typo for an
    empty cell, which means no container); refused. One above `LARGEST_LOAD` is warned
    about: its full loads would round the orders up by that much."""
    warnings = []
    for column, largest in LARGEST_LOAD.items():  # container_m3, container_kg
        if column not in suppliers.columns:
            continue
        empty = _first_row(suppliers, pl.col(column) == 0)
        if empty.height:
            raise StockplanError(
                f"{where(empty, path)}, column '{column}': 0 is not a container size (leave the "
                "cell empty for a supplier without containers)"
            )
        huge = _first_row(suppliers, pl.col(column) > largest)
        if huge.height:
            unit = column.removeprefix("container_").replace("m3", "m³")
            warnings.append(
                f"{where(huge, path)}, column '{column}': {huge[column][0]:,.0f} {unit} is "
                f"more than any container or truck carries (a 40-foot high cube: 76 m³, "
                f"about 26,500 kg); check the unit"
            )
    return warnings


PERCENT_LIKE_UPLIFT = 5.0
"""A promotion uplift from here up reads like a percentage (100 for +100 %): warned."""


def check_promotions(frame: pl.DataFrame, path: Path) -> list[str]:
    """A promotion that ends before it starts is a typo, not an empty promotion; one with
    neither sku nor category lifts nothing; an uplift of -1 or less leaves no demand or a
    negative one (forecast x (1 + uplift)): all are errors. An uplift of
    `PERCENT_LIKE_UPLIFT` or more is kept and warned about."""
    _refuse_backwards(frame, path, "start", "end")
    named = [pl.col(c).is_not_null() for c in ("sku", "category") if c in frame.columns]
    nameless = _first_row(frame, ~pl.any_horizontal(named))
    if nameless.height:
        column = "category" if "category" in frame.columns else "sku"
        raise StockplanError(
            phrase("error.promotion_for_nothing", where=place_of(nameless, path, column))
        )
    if "uplift" not in frame.columns:
        return []
    impossible = _first_row(frame, pl.col("uplift") <= -1)
    if impossible.height:
        raise StockplanError(
            f"{where(impossible, path)}, column 'uplift': {impossible['uplift'][0]:g} is not "
            "a lift: the promotion's demand is forecast x (1 + uplift), so it must be above "
            "-1 (e.g. 0.3 for +30 %)"
        )
    large = _first_row(frame, pl.col("uplift") >= PERCENT_LIKE_UPLIFT)
    if large.height == 0:
        return []
    lift = large["uplift"][0]
    return [
        f"{where(large, path)}, column 'uplift': {lift:g} multiplies the promotion's forecast "
        f"by {1 + lift:g}; if it is a percentage, write {lift / 100:g}"
    ]


def _file_header(
    path: Path | str, table: str, column: str, overrides: Mapping[str, str] | None = None
) -> tuple[str, str | None]:
    """(the file's own header read as `column`, `column` where that header is another
    word, else None): what `place_of` names, `'箱规' (pack_size)`."""
    header = source_header(path, table, column, overrides) or column
    return header, (column if normalise_header(header) != column else None)


def _place_in_file(
    first: pl.DataFrame,
    path: Path,
    table: str,
    column: str,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """`place_of` the row `first`, naming `column` by the header of the file the row came
    from (its own part file on a cluster, `_file_header`): `'仓库' (location)`."""
    file = first[SOURCE_FILE][0] if SOURCE_FILE in first.columns else path
    header, read_as = _file_header(file, table, column, overrides)
    return place_of(first, path, header, read_as)


def promotions_matching_nothing(tables: dict[str, pl.DataFrame], path: Path) -> list[str]:
    """The warning for promotion rows whose sku no table has, or whose category (a row
    without a sku) no product carries: such a row lifts no item's forecast and keeps no
    promotion day out of its baseline, so a typo in a planned promotion's code would buy
    as for an ordinary week."""
    promotions = tables["promotions"]
    known = _distinct(tables, {n: ("sku",) for n in ("sales", "stock", "products") if n in tables})
    products = tables.get("products")
    categories = (
        products["category"].drop_nulls().unique()
        if products is not None and "category" in products.columns
        else pl.Series("category", [], pl.String)
    )
    checks = []
    # (a cluster's tasks read the sales themselves: an item sold but in no other table
    # would be told wrongly, so codes are checked only against the sales read here)
    if "sku" in promotions.columns and "sales" in tables:
        checks.append(
            (
                "sku",
                pl.col("sku").is_not_null() & ~pl.col("sku").is_in(known),
            )
        )
    if "category" in promotions.columns:
        without_sku = pl.col("sku").is_null() if "sku" in promotions.columns else pl.lit(True)
        checks.append(
            (
                "category",
                without_sku
                & pl.col("category").is_not_null()
                & ~pl.col("category").is_in(categories.implode()),
            )
        )
    if not checks:
        return []
    unmatched = promotions.filter(pl.any_horizontal([mask for _, mask in checks]))
    if unmatched.height == 0:
        return []
    first = _first_row(unmatched, pl.lit(True))
    column = next(name for name, mask in checks if first.filter(mask).height)
    others = unmatched.height - 1
    header, read_as = _file_header(path, "promotions", column)
    return [
        phrase(
            "warn.promotion_matches_nothing",
            where=place_of(first, path, header, read_as),
            value=quote(first[column][0]),
            others=(
                {
                    "en": f" (nor {'does' if others == 1 else 'do'} {others} more of its rows)",
                    "zh": f"（另有 {others} 行也是如此）",
                }
                if others
                else ""
            ),
        )
    ]


def _check_price_breaks(frame: pl.DataFrame, path: Path) -> None:
    """One price per supplier, sku and break quantity."""
    keys = [k for k in ("supplier", "sku", "min_qty") if k in frame.columns]
    _check_unique(frame, keys, path, "price break")


FILE_ROW = "file_row"
NAME_PLACE = "name_place"
"""Where the name of a customer order's item is written (`item_name_places`)."""
"""The prepared customer orders' column with each order's row in its file."""
UNCHECKED_LOCATIONS = "unchecked_locations"
"""A prepared table (only when sales are left to a cluster's tasks and some purchase or
customer order names a location stock lacks): table, source_row, location, checked against
the sales' locations once the tasks have read them (`check_unchecked_locations`)."""


def _check_locations(tables: dict[str, pl.DataFrame], config: Config) -> pl.DataFrame | None:
    """A location only a PO or a customer order knows is almost always a typo. Without
    sales (read later by a cluster's tasks) the rows to check against them are returned;
    without stock, every location's first row of each table."""
    unchecked = []
    if "stock" not in tables:
        for name in ("purchase_orders", "customer_orders"):
            if name in tables and "location" in tables[name].columns:
                firsts = (
                    tables[name]
                    .drop_nulls("location")
                    .group_by("location")
                    .agg(pl.col(ROW).min())
                    .select(pl.lit(name).alias("table"), ROW, "location")
                )
                unchecked.append(firsts)
        return pl.concat(unchecked) if unchecked else None
    in_stock = tables["stock"]["location"].unique().implode()
    for name in ("purchase_orders", "customer_orders"):
        if name not in tables:
            continue
        stray = tables[name].filter(~pl.col("location").is_in(in_stock))
        if stray.height and "sales" not in tables:
            unchecked.append(stray.select(pl.lit(name).alias("table"), ROW, "location"))
            continue
        if stray.height:  # the sales lines are searched only for what stock does not know
            sold = (
                tables["sales"]
                .filter(pl.col("location").is_in(stray["location"].unique().implode()))
                .get_column("location")
                .unique()
            )
            stray = stray.filter(~pl.col("location").is_in(sold.implode()))
        if stray.height:
            first = stray.sort(ROW).head(1)
            _stray_location(config, name, first.row(0, named=True))
    return pl.concat(unchecked) if unchecked else None


def sales_only_locations(
    tables: dict[str, pl.DataFrame], path: Path | str, overrides: Mapping[str, str] | None = None
) -> list[str]:
    """The warning for a location the sales have and no row of the stock file does: it is
    planned as a warehouse with nothing on hand (orders and transfers into it), right for a
    new shop, wrong for a typo (`WH-1` beside `WH1`) or a store the stock export left out;
    the message names the nearest known location where one is close."""
    if "sales" not in tables or "stock" not in tables:
        return []
    sales, in_stock = tables["sales"], tables["stock"]["location"].unique()
    stray = sales.select(pl.col("location").unique()).filter(
        ~pl.col("location").is_in(in_stock.implode())
    )["location"]
    if stray.len() == 0:
        return []
    first = _first_row(sales, pl.col("location").is_in(stray.implode()))
    location = first["location"][0]
    close = _closest(location, in_stock.drop_nulls().to_list())
    return [
        phrase(
            "warn.sales_only_location",
            where=_place_in_file(first, path, "sales", "location", overrides),
            location=quote(location),
            others=(
                {
                    "en": f" (nor {'is' if stray.len() == 2 else 'are'} {stray.len() - 1} "
                    "more of the sales' locations)",
                    "zh": f"（销售中另有 {stray.len() - 1} 个仓库也不在其中）",
                }
                if stray.len() > 1
                else ""
            ),
            hint=both("warn.did_you_mean", location=quote(close[0])) if close else "",
        )
    ]


def _closest(name: str, known: list[str]) -> list[str]:
    """The known name nearest to `name`, in a list (empty when none is close): one equal to
    it once full-width characters read as half width and case is folded first (`ＷＨ－ＢＪ`
    or `wh-bj` for `WH-BJ`, which share too few characters for difflib), else difflib's
    closest (`WH-1` for `WH1`)."""
    folded = {k.translate(HALF_WIDTH).casefold(): k for k in known}
    same = folded.get(name.translate(HALF_WIDTH).casefold())
    return [same] if same is not None else difflib.get_close_matches(name, known, n=1)


def _distinct(tables: dict[str, pl.DataFrame], columns: dict[str, tuple[str, ...]]) -> list[str]:
    """The distinct values of the `columns` of each table (those it has), as text."""
    values = [
        tables[name].select(pl.col(c).cast(pl.String).unique().drop_nulls())
        for name, names in columns.items()
        for c in names
        if c in tables[name].columns
    ]
    if not values:
        return []
    return pl.concat([v.rename({v.columns[0]: "name"}) for v in values]).unique()["name"].to_list()


def _unknown_names(named: list[str], known: list[str], kind: str, kinds: str) -> dict | None:
    """The config's `named` that `known` lacks, each with the known name closest to it, in
    both languages (`location 'WH-B' (a typo of 'WH-BJ'?)`); None when all are known."""
    have = set(known)
    unknown = [n for n in dict.fromkeys(named) if n not in have]
    if not unknown:
        return None
    hints = [_closest(n, known) for n in unknown]
    said = {
        lang: [
            f"'{quote(n)}'"
            + (both("warn.did_you_mean", location=f"'{quote(c[0])}'")[lang] if c else "")
            for n, c in zip(unknown, hints, strict=True)
        ]
        for lang in ("en", "zh")
    }
    return {
        "en": f"{kind if len(unknown) == 1 else kinds} " + ", ".join(said["en"]),
        "zh": f" {'、'.join(said['zh'])}{'' if hints[-1] else ' '}",
    }


def unknown_config_names(
    tables: dict[str, pl.DataFrame], config: Config, later: set[str] | frozenset[str] = frozenset()
) -> list[str]:
    """The warnings for names in the config that no input has, each unused without a word:
    a `transfers.transit_days_to` location in no stock or sales row (transfers there take
    `transit_days`), a `transit_days_between` sender or receiver in none (its lanes take
    `transit_days_to` / `transit_days`), a `calendars.exempt_suppliers` supplier in no
    products, suppliers or purchase-order row (the public holidays still close it), a
    `policy.skus` code in no products, stock or sales row (its settings reach no item). Not
    checked against the tables a cluster's tasks read (`later`)."""
    unknown: list[tuple[str, str, dict | None, dict[str, str]]] = []
    transfers = config.transfers
    lanes = list(
        dict.fromkeys(
            [*transfers.transit_days_between]
            + [to for receivers in transfers.transit_days_between.values() for to in receivers]
        )
    )
    located_settings = [
        ("transfers.transit_days_to", list(transfers.transit_days_to), "transfers.transit_days"),
        (
            "transfers.transit_days_between",
            lanes,
            "transfers.transit_days_to / transfers.transit_days",
        ),
    ]
    if any(names for _, names, _ in located_settings) and not later & {"stock", "sales"}:
        located = _distinct(tables, {n: ("location",) for n in ("stock", "sales") if n in tables})
        unknown += [
            (
                "warn.config_unknown_locations",
                setting,
                _unknown_names(names, located, "location", "locations"),
                {"fallback": fallback},
            )
            for setting, names, fallback in located_settings
            if names
        ]
    exempt = config.calendars.exempt_suppliers
    if exempt and "products" not in later:
        columns = {
            "products": ("supplier", "backup_supplier"),
            "suppliers": ("supplier",),
            "purchase_orders": ("supplier",),
        }
        known = _distinct(tables, {n: c for n, c in columns.items() if n in tables})
        names = _unknown_names(exempt, known, "supplier", "suppliers")
        unknown.append(("warn.config_unknown_suppliers", "calendars.exempt_suppliers", names, {}))
    coded = list(config.policy.skus)
    if coded and not later & {"products", "stock", "sales"}:
        known = _distinct(
            tables, {n: ("sku",) for n in ("products", "stock", "sales") if n in tables}
        )
        names = _unknown_names(coded, known, "SKU", "SKUs")
        unknown.append(("warn.config_unknown_skus", "policy.skus", names, {}))
    return [
        phrase(key, source=config.origin, setting=setting, names=names, **more)
        for key, setting, names, more in unknown
        if names is not None
    ]


def _stray_location(config: Config, name: str, first: dict) -> None:
    raise StockplanError(
        phrase(
            "error.stray_location",
            where=place(_path(config, name), first[ROW], "location"),
            location=first["location"],
        )
    )


def check_unchecked_locations(
    unchecked: pl.DataFrame | None, sold: pl.DataFrame, config: Config
) -> None:
    """The `UNCHECKED_LOCATIONS` rows against the sales' distinct locations `sold`."""
    if unchecked is None:
        return
    stray = unchecked.filter(~pl.col("location").is_in(sold["location"].implode()))
    if stray.height:
        first = stray.sort("table", ROW).row(0, named=True)
        _stray_location(config, first["table"], first)


UNCHECKED_SKUS = "unchecked_skus"
"""A prepared table (only when stock or products are left to a cluster's tasks): table,
sku, source_row (and source_file) of the first row of each sku of the stock, sales,
purchase and customer orders read on the driver, and (with `column`) of each sku column of
the item tables (`ITEM_SKU_COLUMNS`), checked against the products' skus once the tasks
have read them (`check_read_facts`)."""

SKU_CHECKED = ("stock", "sales", "purchase_orders", "customer_orders")
"""The tables whose skus must be in the products table, in the order they are checked."""


def first_sku_rows(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    """table, sku, source_row (, source_file): the first row of each sku of `frame`."""
    located = [c for c in (SOURCE_FILE, ROW) if c in frame.columns]
    return _first_sku_rows(frame.lazy(), located, name).collect()


def _first_sku_rows(frame: pl.LazyFrame, located: list[str], name: str) -> pl.LazyFrame:
    """`first_sku_rows` as a lazy query (`located`: the row columns `frame` has): one
    query, where eagerly each step was a pass (and a wait) of its own."""
    return (
        frame.select(*located, "sku")
        .drop_nulls("sku")
        .sort(located)
        .group_by("sku", maintain_order=True)
        .first()
        .select(pl.lit(name).alias("table"), "sku", *located)
    )


def unknown_sku_fact(frame: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    """The first row of `frame` whose sku the products lack, with `count`, the distinct
    unknown skus (a partition's skus are its own: counts add over partitions)."""
    unknown = unknown_skus(frame, products)
    return _first_with_count(unknown, unknown["sku"].n_unique())


def check_products(products: pl.DataFrame, path: Path) -> pl.DataFrame:
    """One row per sku; service levels as fractions (`_service_levels`)."""
    _check_unique(products, ["sku"], path, "product")
    return _service_levels(products, path)


def check_stock(stock: pl.DataFrame, path: Path) -> pl.DataFrame:
    """One record per sku, location (, snapshot date, expiry date); returns the first row
    with a negative on_hand (counted as backorders: `source_row`, [`source_file`],
    on_hand) and `count`, the rows with one (no row when there is none)."""
    if "date" in stock.columns and stock["date"].null_count() < stock.height:
        snapshot_keys = ["sku", "location", "date"]
    else:
        snapshot_keys = ["sku", "location"]
    if "expiry_date" in stock.columns:  # one row per lot of a perishable item
        snapshot_keys.append("expiry_date")
    if "batch" in stock.columns:  # one row per batch (批号), summed per item
        snapshot_keys.append("batch")
    _check_unique(stock, snapshot_keys, path, "stock record")
    located = [c for c in (SOURCE_FILE, ROW) if c in stock.columns]
    negative = stock.filter(pl.col("on_hand") < 0).select(*located, "on_hand")
    return _first_with_count(negative, negative.height)


def negative_stock_note(config: Config, firsts: list[pl.DataFrame]) -> list[str]:
    """The warning for stock rows with a negative on_hand (an ERP that lets stock go below
    zero: sold before the receipt was booked), counted as backorders with on_hand 0:
    the first such row over `firsts` (`check_stock` of the table, or of each partition)
    with its value and the count."""
    earliest = _earliest(firsts)
    if earliest is None:
        return []
    first, count = earliest
    overrides = config.columns.get("stock", {})
    return [
        phrase(
            "warn.negative_stock",
            where=_place_in_file(first, _path(config, "stock"), "stock", "on_hand", overrides),
            value=f"{first['on_hand'][0]:g}",
            count=count,
        )
    ]


def free_items(frame: pl.DataFrame, path: Path, column: str = "unit_cost") -> list[str]:
    """The warning for products whose `unit_cost` (or price breaks whose `unit_price`) is 0:
    their orders are valued at 0 and they count as costed; an unknown cost is an empty
    cell."""
    if column not in frame.columns:
        return []
    free = frame.filter(pl.col(column) == 0)
    if free.height == 0:
        return []
    first = _first_row(free, pl.lit(True))
    rows = f"{free.height} {'item' if column == 'unit_cost' else 'row'}"
    return [
        f"{where(first, path)}, column '{column}': 0 ({rows}{'s' if free.height > 1 else ''}): "
        "their orders are valued at 0; leave the cell empty where the cost is unknown"
    ]


def product_notes(
    products: pl.DataFrame, suppliers: pl.DataFrame | None, config: Config
) -> list[str]:
    """The warnings about the product master: items that cost 0 (`free_items`), a status
    neither active nor inactive (`unknown_statuses`), packs of 0 (`zero_packs`) and, with
    `suppliers`, a supplier the suppliers table lacks (`unknown_suppliers`). `products` is
    the file's table, or every partition's rows with their part file and row where a
    cluster's tasks read them."""
    path, overrides = _path(config, "products"), config.columns.get("products", {})
    notes = free_items(products, path)
    notes += unknown_statuses(products, path, overrides)
    notes += zero_packs(products, path, overrides)
    if suppliers is not None:
        notes += unknown_suppliers(products, suppliers, path)
    return notes


def unknown_statuses(
    products: pl.DataFrame, path: Path, overrides: Mapping[str, str] | None = None
) -> list[str]:
    """The warning for a product `status` that is neither an active nor an inactive word
    (`schema.ACTIVE_STATUS`, `schema.INACTIVE_STATUS`): the item is planned as active, so
    an ERP's `已停用` or `审核中`, unknown, would reorder a discontinued item without a
    word. Names the first such row and the other unknown words."""
    if "status" not in products.columns:
        return []
    word = status_word(pl.col("status"))
    known = [*ACTIVE_STATUS, *INACTIVE_STATUS, ""]
    odd = products.filter(word.is_not_null() & ~word.is_in(known))
    if odd.height == 0:
        return []
    first = _first_row(odd, pl.lit(True))
    words = odd["status"].str.strip_chars().unique(maintain_order=True).to_list()
    others = [quote(w) for w in words if w != first["status"][0].strip()]
    return [
        phrase(
            "warn.unknown_status",
            where=_place_in_file(first, path, "products", "status", overrides),
            status=quote(first["status"][0].strip()),
            items=odd.height,
            others=(
                {"en": f"; also {', '.join(others)}", "zh": f"；另有 {'、'.join(others)}"}
                if others
                else ""
            ),
        )
    ]


def unknown_suppliers(products: pl.DataFrame, suppliers: pl.DataFrame, path: Path) -> list[str]:
    """The warning for products whose `supplier` or `backup_supplier` the suppliers table
    lacks (`Acme` beside `Acme Ltd`): those items are planned without the supplier's lead
    time and minimum order value, and nothing else would say so."""
    known = suppliers["supplier"].unique().implode()
    named = [c for c in ("supplier", "backup_supplier") if c in products.columns]
    stray = [
        products.filter(pl.col(c).is_not_null() & ~pl.col(c).is_in(known)).select(
            *[n for n in (SOURCE_FILE, ROW) if n in products.columns],
            pl.col(c).alias("name"),
            pl.lit(c).alias("column"),
        )
        for c in named
    ]
    unknown = pl.concat(stray) if stray else pl.DataFrame()
    if unknown.height == 0:
        return []
    first = unknown.sort([c for c in (SOURCE_FILE, ROW) if c in unknown.columns]).head(1)
    count = unknown["name"].n_unique()
    return [
        phrase(
            "warn.unknown_supplier",
            where=place_of(first, path, first["column"][0]),
            supplier=quote(first["name"][0]),
            suppliers={
                "en": f"{count} supplier{'s' if count > 1 else ''} unknown",
                "zh": f"共 {count} 个未知供应商",
            },
        )
    ]


def check_review_days(
    suppliers: pl.DataFrame, path: Path | str, overrides: Mapping[str, str] | None = None
) -> None:
    """A supplier's `review_days` (its R, which the plan protects over L + R) of 0 or more
    than `LONGEST_REVIEW_DAYS` is refused, naming its row and the file's own header (a
    negative or a word is refused as it is read); an empty cell is `policy.review_days`."""
    if "review_days" not in suppliers.columns:
        return
    bad = _first_row(
        suppliers, (pl.col("review_days") <= 0) | (pl.col("review_days") > LONGEST_REVIEW_DAYS)
    )
    if bad.height == 0:
        return
    header, read_as = _file_header(path, "suppliers", "review_days", overrides)
    raise StockplanError(
        phrase(
            "error.review_days_range",
            where=place_of(bad, path, header, read_as),
            value=f"{bad['review_days'][0]:g}",
            longest=f"{LONGEST_REVIEW_DAYS:g}",
            setting="policy.review_days",
        )
    )


def in_planning_currency(
    tables: dict[str, pl.DataFrame], config: Config, overrides: Mapping[str, str] | None = None
) -> dict[str, pl.DataFrame]:
    """`tables` with every supplier's money in `planning.currency`: a supplier whose
    `suppliers.currency` is another (read by `currency_code`: `RMB`, `人民币`, `元` and `cny`
    are CNY) has its `moq_value` and its own price breaks' `unit_price` multiplied by
    `planning.exchange_rates` of that currency (plan units per unit of it). A blank cell is
    the plan's currency; a currency without a rate is refused, naming its row. Unchanged
    (the same frames) when every supplier buys in the plan's currency."""
    suppliers = tables.get("suppliers")
    if suppliers is None or "currency" not in suppliers.columns:
        return tables
    planning = config.planning
    plan = currency_code(planning.currency)
    rates = {**planning.exchange_rates, plan: 1.0}  # the plan's own is 1 whatever is given
    # `currency_code`, on the column: no spaces, upper case, every name of the yuan CNY
    written = pl.col("currency").cast(pl.String).str.replace_all(r"\s", "").str.to_uppercase()
    code = (
        pl.when(written.is_in(list(YUAN_NAMES)))
        .then(pl.lit("CNY"))
        .otherwise(written)
        .replace("", None)
        .fill_null(plan)
    )
    coded = suppliers.with_columns(code.alias("_code")).with_columns(
        pl.col("_code").replace_strict(rates, default=None, return_dtype=pl.Float64).alias("_rate")
    )
    bad = _first_row(coded, pl.col("_rate").is_null())
    if bad.height:
        path = _path(config, "suppliers")
        header, read_as = _file_header(path, "suppliers", "currency", overrides)
        raise StockplanError(
            phrase(
                "error.supplier_currency",
                where=place_of(bad, path, header, read_as),
                value=bad["currency"][0],
                currency=planning.currency,
                code=bad["_code"][0],
            )
        )
    if coded.filter(pl.col("_rate") != 1.0).height == 0:
        return tables
    out = dict(tables)
    out["suppliers"] = coded.with_columns(
        *(
            [(pl.col("moq_value") * pl.col("_rate")).alias("moq_value")]
            if "moq_value" in coded.columns
            else []
        ),
        pl.lit(planning.currency).alias("currency"),
    ).drop("_code", "_rate")
    breaks = tables.get("price_breaks")
    if breaks is not None and "supplier" in breaks.columns:  # a break without one: the plan's
        rate = coded.select("supplier", "_rate")
        out["price_breaks"] = (
            breaks.join(rate, on="supplier", how="left", maintain_order="left")
            .with_columns(
                (pl.col("unit_price") * pl.col("_rate").fill_null(1.0)).alias("unit_price")
            )
            .drop("_rate")
        )
    return out


def zero_packs(
    products: pl.DataFrame, path: Path | str, overrides: Mapping[str, str] | None = None
) -> list[str]:
    """The warning for products whose `pack_size` is 0: read as no pack size (orders in
    single units, as an empty cell), said once with the count, naming the file's own
    header (`overrides`: the config's `columns.products`)."""
    if "pack_size" not in products.columns:
        return []
    zero = products.filter(pl.col("pack_size") == 0)
    if zero.height == 0:
        return []
    items = {
        "en": f"{zero.height} item{'s' if zero.height > 1 else ''}",
        "zh": f"{zero.height} 个商品",
    }
    first = _first_row(zero, pl.lit(True))
    where = _place_in_file(first, Path(path), "products", "pack_size", overrides)
    return [phrase("warn.zero_packs", where=where, items=items)]


REPEAT_KEYS = {"sales": "order_id", "customer_orders": "order_id", "purchase_orders": "po_id"}
"""The id that makes a line of these tables unique: a line repeated with its id too is most
likely an export that ran twice (without the id, equal lines are ordinary sales)."""


REPEATED_BLOCK_LINES = 20
"""Consecutive repeated lines that make a block: an export that ran twice (or a file pasted
twice) repeats whole screens or pages of lines, while one invoice repeats an item scanned
twice here and there, rarely more than a handful in a row. 20 is above what a till or an
order clerk repeats by hand and below one page of any export (a page of a Kingdee or U8
report holds 30-50 lines)."""


def repeated_lines(frame: pl.DataFrame, path: Path | str, name: str) -> list[str]:
    """The warning when `name` holds a block of lines that repeat earlier lines exactly, id
    included (`REPEAT_KEYS`), as an export that ran twice writes them: in file order, a run
    of at least `REPEATED_BLOCK_LINES` consecutive repeated lines, or of as many as the file
    has distinct lines (the whole file repeated). Scattered repeats (one item scanned twice
    on an invoice) are ordinary data. Every line is kept and added up as written."""
    key = REPEAT_KEYS.get(name)
    if key is None or key not in frame.columns or frame[key].null_count() == frame.height:
        return []
    values = [c for c in frame.columns if c not in (ROW, SOURCE_FILE)]
    order = [c for c in (SOURCE_FILE, ROW) if c in frame.columns]
    lines = frame.lazy().sort(order) if order else frame.lazy()
    repeat = ~pl.struct(values).is_first_distinct()
    runs = (  # one lazy query (each eager step was a pass of its own)
        lines.with_columns(repeat=repeat)
        .with_columns(run=(pl.col("repeat") != pl.col("repeat").shift(1)).fill_null(True).cum_sum())
        .filter(pl.col("repeat"))
        .group_by("run", maintain_order=True)
        .agg(
            pl.len().alias("lines"),
            *(pl.col(c).first().alias(f"first_{c}") for c in order),
            *(pl.col(c).last().alias(f"last_{c}") for c in order),
        )
        .collect()
    )
    distinct = frame.height - int(runs["lines"].sum())  # the runs hold every repeated line
    blocks = runs.filter((pl.col("lines") >= REPEATED_BLOCK_LINES) | (pl.col("lines") >= distinct))
    if blocks.height == 0:
        return []
    count = int(blocks["lines"].sum())
    shown = blocks.head(3)
    first = shown.row(0, named=True)
    source = first.get(f"first_{SOURCE_FILE}", path)
    where: dict[str, str] | str = str(source)
    if ROW in frame.columns:
        ranges = ", ".join(
            f"{r[f'first_{ROW}']}-{r[f'last_{ROW}']}" for r in shown.iter_rows(named=True)
        ) + (", ..." if blocks.height > 3 else "")
        where = {"en": f"{source}, rows {ranges}", "zh": f"{source}，第 {ranges} 行"}
    return [
        phrase(
            "warn.repeated_blocks",
            where=where,
            lines={
                "en": "1 line repeats" if count == 1 else f"{count} lines repeat",
                "zh": f"{count} 行",
            },
            id_column=key,
            blocks={
                "en": f"{blocks.height} block{'s' if blocks.height > 1 else ''}",
                "zh": f"{blocks.height} 段",
            },
        )
    ]


def _service_levels(products: pl.DataFrame, path: Path) -> pl.DataFrame:
    """Percent (95) becomes a fraction (0.95); anything outside (0.5, 1) is an error that
    quotes the value as written (50, not the 0.5 it reads as)."""
    if "service_level" not in products.columns:
        return products
    written = pl.col("service_level")
    level = pl.when(written > 1).then(written / 100).otherwise(written)
    bad = _first_row(products, written.is_not_null() & ((level <= 0.5) | (level >= 1)))
    if bad.height:
        raise StockplanError(
            phrase(
                "error.service_level",
                where=place_of(bad, path, "service_level"),
                level=f"{bad['service_level'][0]:g}",
            )
        )
    return products.with_columns(level.alias("service_level"))


def _implied_location(tables: dict[str, pl.DataFrame], config: Config) -> str:
    """Location for rows of a table without a location column.

    The stock's only location when it has exactly one; `planning.default_location` when
    stock has none either. A table without locations beside a multi-location stock file
    cannot be split between warehouses: that is an error, not a guess.
    """
    stock = tables["stock"]
    if "location" not in stock.columns:
        return config.planning.default_location
    locations = sorted(stock["location"].drop_nulls().unique().to_list())
    if len(locations) == 1:
        return locations[0]
    for name in ("sales", "purchase_orders", "customer_orders"):
        if name in tables and "location" not in tables[name].columns:
            shown = ", ".join(locations[:5]) + (", ..." if len(locations) > 5 else "")
            raise StockplanError(
                phrase(
                    "error.no_location_column",
                    path=str(_path(config, name)),
                    count=len(locations),
                    shown=shown,
                )
            )
    return config.planning.default_location


def latest_plausible_day(today: dt.date | None = None) -> dt.date:
    """The last day a dated row may carry without `planning.as_of`: tomorrow, a time zone
    apart from today (`today`: the day it runs)."""
    return (today or dt.date.today()) + dt.timedelta(days=1)


def dated_after(frame: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """The first row of `frame` (by file and row) whose `date` is after `day`: its
    `source_row` (, `source_file`) and date, with `count` (such rows) and `latest` (their
    latest date); no row when none is. A partition's rows are its own: counts add over
    partitions (`earliest_after`)."""
    after = frame.filter(pl.col("date") > day)
    located = [c for c in (SOURCE_FILE, ROW) if c in frame.columns]
    return _first_with_count(after.select(*located, "date"), after.height).with_columns(
        latest=pl.lit(after["date"].max(), pl.Date)
    )


def earliest_after(firsts: list[pl.DataFrame]) -> tuple[pl.DataFrame, int, dt.date] | None:
    """Over `dated_after` rows (of the table, or one per partition): (the earliest row by
    file and row, how many rows are after the day, their latest date); None when none is."""
    earliest = _earliest(firsts)
    if earliest is None:
        return None
    latest = max(f["latest"][0] for f in firsts if f.height)
    return earliest[0], earliest[1], latest


def future_sales(sales: pl.DataFrame, config: Config, today: dt.date | None = None) -> None:
    """Without `planning.as_of` the plan is made the day after the last sale: a sale dated
    after today (a mistyped year) would move it there and leave every item dead. That line
    is an error naming it (with `planning.as_of` such lines are ignored: `late_sales`)."""
    if config.planning.as_of is not None or sales.height == 0:
        return
    today = today or dt.date.today()
    ahead = sales.filter(pl.col("date") > latest_plausible_day(today))
    if ahead.height == 0:
        return
    first = ahead.sort([c for c in (SOURCE_FILE, ROW) if c in ahead.columns]).head(1)
    raise StockplanError(
        f"{where(first, _path(config, 'sales'))}, column 'date': {first['date'][0]} is after "
        f"today ({today}; {ahead.height} such line{'s' if ahead.height > 1 else ''}): the "
        "plan would be made as of the day after it; correct the date, or set planning.as_of"
    )


def far_from_sales(sales: pl.DataFrame, config: Config) -> list[str]:
    """The warning for a `planning.as_of` more than `classify.dead_item_days` after the
    last sale: every item then looks dead and nothing is ordered."""
    as_of, days = config.planning.as_of, config.classify.dead_item_days
    last = sales["date"].max() if sales.height else None
    if as_of is None or last is None or (as_of - last).days <= days:
        return []
    return [
        f"{_path(config, 'sales')}: the last sale is {last}, {(as_of - last).days} days before "
        f"the planning date {as_of}: every item looks dead (no sale in {days} days)"
    ]


def late_sales(sales: pl.DataFrame, config: Config) -> list[str]:
    """The warning for sales on or after `planning.as_of` (they are ignored)."""
    as_of = config.planning.as_of
    if as_of is None:
        return []
    late = sales.filter(pl.col("date") >= as_of)
    if late.height == 0:
        return []
    first = late.sort([c for c in (SOURCE_FILE, ROW) if c in late.columns]).head(1)
    return [
        f"{where(first, _path(config, 'sales'))}: sales on or after planning.as_of "
        f"{as_of} (up to {late['date'].max()}) are ignored"
    ]


def late_snapshot_fact(
    stock: pl.DataFrame, config: Config, today: dt.date | None = None
) -> pl.DataFrame:
    """`dated_after` of the stock's snapshot dates: after `planning.as_of`, or without it
    after tomorrow (`latest_plausible_day`); no row without a date column."""
    if "date" not in stock.columns:
        return pl.DataFrame()
    return dated_after(stock, config.planning.as_of or latest_plausible_day(today))


def snapshots_as_of(stock: pl.DataFrame, config: Config) -> pl.DataFrame:
    """The stock rows the plan reads: none dated after `planning.as_of` (a later snapshot
    is no stock of that day; `late_snapshots` warns about them), undated rows kept."""
    as_of = config.planning.as_of
    if as_of is None or "date" not in stock.columns:
        return stock
    return stock.filter(pl.col("date").is_null() | (pl.col("date") <= as_of))


def late_snapshots(
    firsts: list[pl.DataFrame], kept: int, config: Config, today: dt.date | None = None
) -> list[str]:
    """Stock snapshots dated after the planning date, over `late_snapshot_fact` rows (of the
    table or each partition; `kept`: the rows not after it). The newest snapshot of a
    location is its current stock, so one mistyped year (2052 for 2025) made it the only
    current one and took every other item there as 0 on hand. Without `planning.as_of` a
    date after today is refused, as a sale's is (`future_sales`); with it such rows are
    ignored and warned about, as later sales are (`late_sales`), and refused when no row
    is left: the plan would start with nothing in stock."""
    earliest = earliest_after(firsts)
    if earliest is None:
        return []
    first, count, latest = earliest
    path = _path(config, "stock")
    where = _place_in_file(first, path, "stock", "date", config.columns.get("stock", {}))
    as_of, date = config.planning.as_of, first["date"][0]
    said = {"where": where, "setting": "planning.as_of"}
    if as_of is None:
        today = today or dt.date.today()
        raise StockplanError(
            phrase("error.stock_after_today", date=date, today=today, count=count, **said)
        )
    if kept == 0:
        raise StockplanError(phrase("error.stock_all_after_as_of", date=date, as_of=as_of, **said))
    return [phrase("warn.stock_after_as_of", count=count, as_of=as_of, latest=latest, **said)]


def prepare_sales_slice(
    sales: pl.DataFrame,
    stock_locations: list[str],
    products: pl.DataFrame | None,
    config: Config,
) -> tuple[pl.DataFrame, dict]:
    """One partition's sales lines, read by a cluster task, prepared as `prepare_inputs`
    prepares all of them (default location), and the facts the driver checks over every
    partition: `blank_sales` (`columns.blank_locations`), `spelled_sales` (`spelled_skus`),
    `spelled_locations` (`spelled_locations`, of the names written), `unknown` (first
    unknown sku row, `count` = distinct unknown skus), `late` (the first
    and the latest line on or after planning.as_of), `locations` (distinct) and `series`
    (sku, location, last date: the series the partition sells)."""
    stock = pl.DataFrame({"location": stock_locations}, schema={"location": pl.String})
    blank = {"blank_sales": blank_locations(sales)} if "location" in sales.columns else {}
    spelled = spelled_locations({"sales": sales})  # the names written, before any default
    sales = _with_location(sales, _implied_location({"stock": stock, "sales": sales}, config))
    located = [c for c in (SOURCE_FILE, ROW) if c in sales.columns]
    facts: dict = {
        **blank,
        "spelled_sales": spelled_skus({"sales": sales}),
        SPELLED_LOCATIONS: spelled,
        "locations": sales.select(pl.col("location").unique()),
        "series": sales.group_by("sku", "location").agg(pl.col("date").max()),
    }
    if products is not None:
        facts["unknown_sales"] = unknown_sku_fact(sales, products)
    if config.planning.as_of is not None:
        late = sales.filter(pl.col("date") >= config.planning.as_of).select(*located, "date")
        facts["late"] = pl.concat([late.sort(located).head(1), late.sort("date").tail(1)])
    future_sales(sales, config)
    return sales.drop(ROW, SOURCE_FILE, strict=False), facts


def fill_locations(
    tables: dict[str, pl.DataFrame], default_location: str
) -> dict[str, pl.DataFrame]:
    """The stock, sales, purchase and customer orders with `default_location` where they
    have none (the tables of a partition, or the driver's, once the stock is read)."""
    return {
        name: _with_location(frame, default_location)
        if name in ("stock", "sales", "purchase_orders", "customer_orders")
        else frame
        for name, frame in tables.items()
    }


def stock_location_facts(stock: pl.DataFrame) -> dict:
    """A partition's stock slice as the driver needs it to place rows without a location:
    whether it has a location column, its distinct locations, how many rows lack one and
    `blank_stock` (`columns.blank_locations`: blank cells beside named ones are refused)."""
    if "location" not in stock.columns:
        empty = pl.DataFrame(schema={"location": pl.String})
        return {"has_location": False, "stock_locations": empty, "unplaced": stock.height}
    return {
        "blank_stock": blank_locations(stock),
        "has_location": True,
        "stock_locations": stock.select(pl.col("location").drop_nulls().unique()),
        "unplaced": stock["location"].null_count(),
    }


def stock_locations(
    facts: list[dict], tables: dict[str, pl.DataFrame], config: Config
) -> tuple[str, list[str]]:
    """(the location of rows without one, the stock's locations once filled) from every
    partition's `stock_location_facts`, as `prepare_inputs` places them; a sales, purchase
    or customer order table without a location column beside a stock of several locations
    is refused (`_implied_location`), as is a blank stock location beside named ones in any
    partition (`refuse_dataset_blank_locations`)."""
    refuse_dataset_blank_locations(facts, "stock", config)
    located = pl.concat([f["stock_locations"] for f in facts]).unique().sort("location")
    others = {n: tables[n] for n in ("sales", "purchase_orders", "customer_orders") if n in tables}
    stock = located if any(f["has_location"] for f in facts) else pl.DataFrame()
    default = _implied_location({"stock": stock, **others}, config)
    filled = set(located["location"].to_list())
    if any(f["unplaced"] for f in facts):
        filled.add(default)
    return default, sorted(filled)


def prepare_items_slice(
    tables: dict[str, pl.DataFrame], later: set[str], default_location: str, config: Config
) -> tuple[dict[str, pl.DataFrame], dict]:
    """One partition's tables after its task read the stock and products slices
    (`later`): locations filled as `prepare_inputs` fills them, the stock's records
    checked, and the facts the driver checks over every partition: `spelled_items` (the
    products' and the stock's `spelled_skus`; the products still with `source_row`),
    `spelled_locations` (the stock's `spelled_locations`, of the names written),
    `unknown_stock` (first unknown sku row and `count`), `negative` (rows), `late_stock`
    (`late_snapshot_fact`; the rows after `planning.as_of` are dropped here) with
    `stock_kept` (the rows left) and `stock` (one row per series: sku, location, the last
    snapshot date and a name where the stock has them)."""
    facts: dict = {"spelled_items": spelled_skus({n: tables[n] for n in later if n in tables})}
    if "stock" in later:  # the names written, before the default fills any
        facts[SPELLED_LOCATIONS] = spelled_locations({"stock": tables["stock"]})
    out = fill_locations(tables, default_location) if "stock" in later else dict(tables)
    if "stock" in later:
        facts["negative"] = check_stock(out["stock"], _path(config, "stock"))
        facts["late_stock"] = late_snapshot_fact(out["stock"], config)
        stock = out["stock"] = snapshots_as_of(out["stock"], config)
        facts["stock_kept"] = stock.height
        extra = [c for c in ("date", "name") if c in stock.columns]
        facts["stock"] = stock.group_by("sku", "location", maintain_order=True).agg(
            *(
                pl.col(c).drop_nulls().max() if c == "date" else pl.col(c).drop_nulls().first()
                for c in extra
            )
        )
    products = out.get("products")
    if products is not None and "stock" in later:
        facts["unknown_stock"] = unknown_sku_fact(out["stock"], products)
    return out, facts


def refuse_dataset_blank_locations(facts: list[dict], name: str, config: Config) -> None:
    """`columns.refuse_blank_locations` over the `blank_<name>` facts of every partition of
    dataset `name`: a blank cell beside a location named in any part file is refused."""
    blank = [f[f"blank_{name}"] for f in facts if f"blank_{name}" in f]
    if blank:
        header = part_location_header(name, config.columns.get(name, {}))
        refuse_blank_location_facts(blank, header, _path(config, name))


def check_read_facts(
    facts: list[dict],
    tables: dict[str, pl.DataFrame],
    config: Config,
    product_skus: pl.Series | None,
) -> list[str]:
    """The checks of `prepare_inputs` that need every row of the tables a cluster's tasks
    read, over the partitions' facts (`prepare_items_slice`, `prepare_sales_slice`):
    locations spelled two ways (the tasks' and the driver's `SPELLED_LOCATIONS`), skus
    spelled two ways (the tasks' and the driver's `SPELLED_SKUS`), blank sales locations
    beside named ones, unknown skus (the tasks' and, against `product_skus`, the driver's
    `UNCHECKED_SKUS`, table by table in `prepare_inputs`' order), negative stock,
    locations, late sales. Returns warnings."""
    warnings: list[str] = []
    refuse_dataset_blank_locations(facts, "sales", config)
    located = [f[SPELLED_LOCATIONS] for f in facts if SPELLED_LOCATIONS in f]
    if located:  # the driver's names beside every partition's
        driver_located = [tables[SPELLED_LOCATIONS]] if SPELLED_LOCATIONS in tables else []
        every = pl.concat([*driver_located, *located], how="diagonal_relaxed")
        refuse_location_spellings(every, config)
    spelled = [f[k] for f in facts for k in ("spelled_items", "spelled_sales") if k in f]
    if spelled:  # the driver's codes beside every partition's
        driver_spelled = [tables[SPELLED_SKUS]] if SPELLED_SKUS in tables else []
        refuse_two_spellings(pl.concat([*driver_spelled, *spelled], how="diagonal_relaxed"), config)
    driver = tables.get(UNCHECKED_SKUS)
    for name in SKU_CHECKED:
        unknown = [f[f"unknown_{name}"] for f in facts if f"unknown_{name}" in f]
        if driver is not None and product_skus is not None:
            stray = driver.filter(
                (pl.col("table") == name) & ~pl.col("sku").is_in(product_skus.implode())
            ).drop("table")
            # one row per sku: the count is the table's unknown skus
            unknown.append(_first_with_count(stray, stray.height))
        earliest = _earliest(unknown)
        if earliest is not None:
            unknown_sku_message(config, name, *earliest, warnings)
    if driver is not None and product_skus is not None and "column" in driver.columns:
        for name, column in ITEM_SKU_COLUMNS:  # read on the driver, after the tasks' tables
            stray = driver.filter(
                (pl.col("table") == name)
                & (pl.col("column") == column)
                & ~pl.col("sku").is_in(product_skus.implode())
            ).drop("table", "column")
            if stray.height:
                first = _first_row(stray, pl.lit(True))
                unknown_sku_message(config, name, first, stray.height, warnings, column)
    warnings += negative_stock_note(config, [f["negative"] for f in facts if "negative" in f])
    late_stock = [f["late_stock"] for f in facts if "late_stock" in f]
    if late_stock:
        kept = sum(f["stock_kept"] for f in facts if "stock_kept" in f)
        warnings += late_snapshots(late_stock, kept, config)
    if UNCHECKED_LOCATIONS in tables:  # against the stock's and every sales line's
        known = [f["locations"] for f in facts if "locations" in f]
        known += [tables[t].select("location") for t in ("stock", "sales") if t in tables]
        locations = pl.concat(known).unique()
        check_unchecked_locations(tables[UNCHECKED_LOCATIONS], locations, config)
    late = [f["late"] for f in facts if "late" in f]
    if late:
        warnings += late_sales(pl.concat(late, how="diagonal_relaxed"), config)
    return warnings


def item_name_places(
    tables: dict[str, pl.DataFrame], config: Config, skus: pl.DataFrame
) -> pl.DataFrame:
    """sku, `NAME_PLACE`: for each of `skus`, the file, row and column of the name
    `items.item_names` gives it (products > stock > sales, the first row with a name), as
    a struct of `i18n.place` in both languages; skus without a name are left out."""
    found = []
    for rank, table in enumerate(("products", "stock", "sales")):
        frame = tables.get(table)
        if frame is None or "name" not in frame.columns or ROW not in frame.columns:
            continue
        path = _path(config, table)
        header = source_header(path, table, "name", config.columns.get(table, {})) or "name"
        read_as = " (name)" if normalise_header(header) != "name" else ""
        read_as_zh = "（name）" if read_as else ""
        file = pl.col(SOURCE_FILE) if SOURCE_FILE in frame.columns else pl.lit(str(path))
        row = pl.col(ROW).cast(pl.String)
        named = frame.join(skus, on="sku", how="semi").filter(
            pl.col("name").cast(pl.String).str.strip_chars().fill_null("") != ""
        )
        order = [c for c in (SOURCE_FILE, ROW) if c in named.columns]
        first = named.sort(order).unique("sku", keep="first", maintain_order=True)
        found.append(
            first.select(
                "sku",
                pl.lit(rank).alias("_rank"),
                pl.struct(
                    pl.concat_str(
                        file, pl.lit(", row "), row, pl.lit(f", column '{header}'{read_as}")
                    ).alias("en"),
                    pl.concat_str(
                        file, pl.lit("，第 "), row, pl.lit(f" 行，列 '{header}'{read_as_zh}")
                    ).alias("zh"),
                ).alias(NAME_PLACE),
            )
        )
    schema = {"sku": pl.String, NAME_PLACE: pl.Struct({"en": pl.String, "zh": pl.String})}
    if not found:
        return pl.DataFrame(schema=schema)
    return (
        pl.concat(found)
        .sort("_rank")
        .unique("sku", keep="first", maintain_order=True)
        .select("sku", NAME_PLACE)
    )


def prepare_inputs(
    tables: dict[str, pl.DataFrame], config: Config, later: set[str] | frozenset[str] = frozenset()
) -> PreparedInputs:
    """Fill default locations, check cross-table consistency, drop source row numbers.

    `later`: the tables a cluster's tasks read and check themselves (sales, stock,
    products; `io.readers.engine_read_tables`). Without the stock the locations are
    filled and checked once the tasks have read it (`stock_locations`,
    `UNCHECKED_LOCATIONS`); without stock or products the skus of the tables read here
    are checked against the products then (`UNCHECKED_SKUS`, `check_read_facts`)."""
    warnings: list[str] = []
    tables = {name: with_open_quantities(name, frame) for name, frame in tables.items()}
    check_location_spellings(tables, config)  # the names written, before defaults fill any
    refuse_sales_as_stock(tables, config)
    # master data has no location; a promotion without a location applies everywhere
    located = {"sales", "stock", "purchase_orders", "customer_orders"}
    if "stock" in tables:
        default_location = _implied_location(tables, config)
        out = {
            name: (_with_location(frame, default_location) if name in located else frame)
            for name, frame in tables.items()
        }
    else:  # placed once the tasks have read the stock
        out = dict(tables)
    check_sku_spellings(out, config)
    unchecked_skus = None
    if later & {"stock", "products"}:
        if "products" in later or "products" in out:
            firsts = [first_sku_rows(out[n], n) for n in SKU_CHECKED if n in out]
            firsts += [
                first_sku_rows(item_sku_rows(out[n], c), n).with_columns(column=pl.lit(c))
                for n, c in ITEM_SKU_COLUMNS
                if n in out and c in out[n].columns
            ]
            unchecked_skus = pl.concat(firsts, how="diagonal_relaxed") if firsts else None
    else:
        _check_known_skus(out, config, warnings, [(name, "sku") for name in SKU_CHECKED])

    if "products" in out:
        _check_unique(out["products"], ["sku"], _path(config, "products"), "product")
        out["products"] = _service_levels(out["products"], _path(config, "products"))
        warnings += product_notes(out["products"], None, config)
    if "purchase_orders" in out:
        check_purchase_orders(out["purchase_orders"], _path(config, "purchase_orders"))
    unchecked = _check_locations(out, config)
    warnings += sales_only_locations(out, _path(config, "sales"), config.columns.get("sales", {}))
    if "suppliers" in out:
        _check_unique(out["suppliers"], ["supplier"], _path(config, "suppliers"), "supplier")
        warnings += _check_containers(out["suppliers"], _path(config, "suppliers"))
        check_review_days(
            out["suppliers"], _path(config, "suppliers"), config.columns.get("suppliers", {})
        )
        if "products" in out:
            warnings += unknown_suppliers(
                out["products"], out["suppliers"], _path(config, "products")
            )
    if "closures" in out:
        warnings += _check_closures(out["closures"], _path(config, "closures"))
    if "price_breaks" in out:
        _check_price_breaks(out["price_breaks"], _path(config, "price_breaks"))
        warnings += free_items(out["price_breaks"], _path(config, "price_breaks"), "unit_price")
    # moq_value and price breaks of a supplier in another currency, in the plan's
    out = in_planning_currency(out, config, config.columns.get("suppliers", {}))
    if "promotions" in out:
        warnings += check_promotions(out["promotions"], _path(config, "promotions"))
        warnings += promotions_matching_nothing(out, _path(config, "promotions"))

    for name in REPEAT_KEYS:
        if name in out:
            warnings += repeated_lines(out[name], _path(config, name), name)
    if "purchase_orders" in out:
        out["purchase_orders"], notes = orders_as_of(out["purchase_orders"], config)
        warnings += notes
    if "stock" in out:
        warnings += negative_stock_note(config, [check_stock(out["stock"], _path(config, "stock"))])
        current = snapshots_as_of(out["stock"], config)
        late = [late_snapshot_fact(out["stock"], config)]
        warnings += late_snapshots(late, current.height, config)
        out["stock"] = current

    if "sales" in out:
        future_sales(out["sales"], config)
        warnings += late_sales(out["sales"], config) + far_from_sales(out["sales"], config)
        warnings += unmatched_sales_skus(out, config)

    warnings += check_item_tables(out, config)
    if not later & {"stock", "products"}:  # a kit or successor table's own faults first
        _check_known_skus(out, config, warnings, ITEM_SKU_COLUMNS)
    warnings += unknown_config_names(out, config, later)

    clean = {name: frame.drop(ROW, SOURCE_FILE, strict=False) for name, frame in out.items()}
    if "customer_orders" in out and ROW in out["customer_orders"].columns:
        # a notice names the line of the file when the order has no id
        clean["customer_orders"] = clean["customer_orders"].with_columns(
            out["customer_orders"][ROW].alias(FILE_ROW)
        )
        # and the row of the item's name, when that name makes the notice too long
        places = item_name_places(out, config, out["customer_orders"].select("sku").unique())
        clean["customer_orders"] = clean["customer_orders"].join(places, on="sku", how="left")
    if unchecked is not None:
        clean[UNCHECKED_LOCATIONS] = unchecked
    if unchecked_skus is not None:
        clean[UNCHECKED_SKUS] = unchecked_skus
    if later:  # compared with the codes of the tables the tasks read (`check_read_facts`)
        clean[SPELLED_SKUS] = spelled_skus(out)
        clean[SPELLED_LOCATIONS] = spelled_locations(tables)
    return PreparedInputs(clean, warnings)
