"""An input table given as a Parquet dataset: a folder of part files (hive-style
`key=value` folders or not) or a glob such as `sales/*.parquet`.

Each part file is scanned lazily (only the columns the table maps are read), its
headers mapped and its cells typed and checked like a single file (`columns.type_table`),
so a bad cell is reported by the part file, its row (the first data row is row 2, as for
a single Parquet file) and its column. A `key=value` folder between the dataset's root
and a part file adds the column `key` (text) to that file's rows unless the file has it.

`read_dataset(..., keep=...)` reads only the rows whose sku `keep` selects (partition i of
n, `partitioned.partition_of`): the slice one task of a cluster plan reads itself, for
the sales, the stock and the products.
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Mapping
from pathlib import Path

import polars as pl

from stockplan.errors import StockplanError, input_error, quote
from stockplan.io.columns import ROW, map_headers, type_table
from stockplan.io.columns import SOURCE_FILE as SOURCE_FILE  # re-exported
from stockplan.io.schema import SCHEMAS

GLOB_CHARACTERS = "*?["
PARQUET_SUFFIXES = (".parquet", ".pq")


def is_dataset(path: str | Path) -> bool:
    """A folder or a glob pattern: read as a Parquet dataset, not as one file. A file that
    exists is that file, whatever its name holds (`stock[2025-10].csv`, `sales*.csv`)."""
    text = str(path)
    if Path(text).is_file():
        return False
    return any(c in text for c in GLOB_CHARACTERS) or Path(text).is_dir()


def _hidden(path: Path, root: Path) -> bool:
    """Writers' marker and temporary files (`_SUCCESS`, `.part-0.crc`, `_temporary/`)."""
    parts = path.relative_to(root).parts if path.is_relative_to(root) else (path.name,)
    return any(p.startswith(("_", ".")) for p in parts)


def dataset_root(path: str | Path) -> Path:
    """The folder hive `key=value` folders are counted from: the folder itself, or a
    glob's leading folders without a wildcard."""
    text = str(path)
    if not any(c in text for c in GLOB_CHARACTERS):
        return Path(text)
    fixed = []
    for part in Path(text).parts:
        if any(c in part for c in GLOB_CHARACTERS):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def dataset_files(path: str | Path) -> list[Path]:
    """The dataset's Parquet part files in name order; one line when there are none or a
    matched file is not Parquet."""
    root = dataset_root(path)
    if any(c in str(path) for c in GLOB_CHARACTERS):
        found = [Path(p) for p in glob.glob(str(path), recursive=True)]
    elif root.is_dir():
        found = list(root.rglob("*"))
    else:
        raise input_error(path, "file not found")
    files = sorted(p for p in found if p.is_file() and not _hidden(p, root))
    other = [p for p in files if p.suffix.lower() not in PARQUET_SUFFIXES]
    if other:
        raise input_error(
            path,
            f"is read as a Parquet dataset (a folder or glob of .parquet files), but it holds "
            f"{other[0]}; give a file, or a folder of .parquet files only",
        )
    if not files:
        from stockplan.i18n import phrase, place

        raise StockplanError(phrase("error.no_parquet_files", where=place(path)))
    return files


def dataset_rows(path: str | Path) -> int:
    """The rows of every part file, from the Parquet footers (no data read)."""
    rows = 0
    for file in dataset_files(path):
        try:
            rows += pl.scan_parquet(file).select(pl.len()).collect().item()
        except Exception as exc:
            raise input_error(file, f"cannot read as Parquet ({quote(exc, 200)})") from None
    return rows


def hive_values(file: Path, root: Path) -> dict[str, str]:
    """`key=value` folders between the dataset's root and `file`."""
    parts = file.parent.relative_to(root).parts if file.is_relative_to(root) else ()
    return dict(p.split("=", 1) for p in parts if "=" in p and not p.startswith("="))


def _scan(file: Path, root: Path) -> pl.LazyFrame:
    try:
        lazy = pl.scan_parquet(file)
        columns = lazy.collect_schema()
    except Exception as exc:
        raise input_error(file, f"cannot read as Parquet ({quote(exc, 200)})") from None
    hive = {k: v for k, v in hive_values(file, root).items() if k not in columns}
    return lazy.with_columns(pl.lit(v, pl.String).alias(k) for k, v in hive.items())


def read_part_file(
    name: str,
    file: Path,
    root: Path,
    overrides: Mapping[str, str],
    identify_by: str,
    notes: list[str],
    keep: Callable[[pl.Expr], pl.Expr] | None = None,
) -> pl.DataFrame:
    """One part file typed and checked (canonical columns plus `source_row`); with `keep`
    (a filter on the file's cleaned sku text) only the rows it keeps are read."""
    schema = SCHEMAS[name]
    lazy = _scan(file, root)
    header = pl.DataFrame(schema=lazy.collect_schema())
    mapping = map_headers(header, schema, overrides, file, identify_by)
    lazy = lazy.select(list(dict.fromkeys(mapping.values()))).with_row_index(ROW, offset=2)
    if keep is not None and "sku" in mapping:
        sku = pl.col(mapping["sku"]).cast(pl.String).str.strip_chars()
        lazy = lazy.filter(keep(pl.when(sku == "").then(None).otherwise(sku)))
    try:
        raw = lazy.with_columns(pl.col(ROW).cast(pl.Int64)).collect()
    except Exception as exc:
        raise input_error(file, f"cannot read as Parquet ({quote(exc, 200)})") from None
    return type_table(raw, schema, mapping, file, 1, notes, part_file=True)


def read_dataset(
    name: str,
    path: str | Path,
    overrides: Mapping[str, str],
    identify_by: str = "name",
    notes: list[str] | None = None,
    keep: Callable[[pl.Expr], pl.Expr] | None = None,
) -> pl.DataFrame:
    """Every part file of the dataset at `path` (or the rows `keep` selects), typed and
    checked, with `source_row` and `source_file`; files one at a time."""
    notes = notes if notes is not None else []
    files = dataset_files(path)
    root = dataset_root(path)
    kind = pl.Enum([str(f) for f in files])
    frames = []
    for index, file in enumerate(files):
        try:
            frame = read_part_file(name, file, root, overrides, identify_by, notes, keep)
        except StockplanError as exc:
            exc.part_file_index = index  # type: ignore[attr-defined]  # the earliest file's wins
            raise
        frames.append(frame.with_columns(pl.lit(str(file), kind).alias(SOURCE_FILE)))
    frame = pl.concat(frames, how="diagonal_relaxed")
    if keep is None and frame.height == 0 and SCHEMAS[name].need_rows:
        raise input_error(path, "has a header but no data rows")
    return frame


def where(frame: pl.DataFrame, source: str | Path) -> str:
    """`file, row N` of the first row of `frame` (sorted by file and row)."""
    return place_of(frame, source)["en"]


def place_of(
    frame: pl.DataFrame, source: str | Path, column: str | None = None, name: str | None = None
) -> dict[str, str]:
    """`file, row N[, column 'c' (name)]` of the first row of `frame` (sorted by file and
    row), in both languages for a phrase (`i18n.place`)."""
    from stockplan.i18n import place

    if SOURCE_FILE in frame.columns:
        first = frame.sort(SOURCE_FILE, ROW).row(0, named=True)
        return place(first[SOURCE_FILE], first[ROW], column, name)
    return place(source, frame.sort(ROW)[ROW][0], column, name)
