"""`stockplan init`: guess which table each export file is, and draft a config.

A file is scored against every table schema by the headers the aliases recognise; a file
name hint (sales / 销售, stock / 库存, ...) breaks ties. Headers no alias knows are listed
so the user can map them under `columns:`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import yaml

from stockplan.errors import StockplanError
from stockplan.i18n import message, phrase
from stockplan.io.datasets import PARQUET_SUFFIXES, dataset_files, hive_values
from stockplan.io.planfiles import RUN_JSON, record_beside, workbook_with_record
from stockplan.io.readers import (
    header_index,
    is_workbook,
    read_sheet_tops,
    read_top_rows,
    two_row_header,
)
from stockplan.io.schema import CODE_ALIASES, SCHEMAS, normalise_header

EXPORT_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".parquet")
NAME_HINTS = {
    # first: "supplier_closures.csv" is closures, not suppliers
    "closures": ("closure", "holiday", "shutdown", "停工", "放假", "假期"),
    "price_breaks": ("price_break", "pricebreak", "quantity_discount", "阶梯价", "价格阶梯"),
    "sales": ("sale", "销售", "order_line", "orders_export", "出库"),
    "stock": ("stock", "inventory", "库存", "现存量", "onhand", "结存"),
    "products": ("product", "item", "商品", "物料", "存货档案", "sku"),
    "suppliers": ("supplier", "vendor", "供应商"),
    "purchase_orders": ("purchase", "po_", "采购"),
    "customer_orders": ("customer_order", "backlog", "客户订单"),
    "promotions": ("promo", "促销"),
}


@dataclass
class FileGuess:
    path: Path
    table: str | None
    mapping: dict[str, str] = field(default_factory=dict)  # canonical -> source header
    unmapped: list[str] = field(default_factory=list)
    problem: str | None = None
    own_output: bool = False  # a plan stockplan wrote (`own_output`), not looked into
    clashes: dict[str, list[str]] = field(default_factory=dict)
    """canonical -> the other headers that look like it, beside `mapping`'s, which the
    config `init` writes names under `columns:` (`prefer_header`)."""
    sheet: str | None = None  # the workbook's sheet the table was found on


BOX_UNIT = re.compile(
    r"[(（\[【]\s*(箱|整箱|件箱|case|cases|carton|cartons|ctn|box|boxes)\s*[)）\]】]\s*$", re.I
)
BASE_UNIT = re.compile(r"基本单位|主单位|最小单位|base\s*unit", re.I)
AVAILABLE = re.compile(r"available|可用|可销|可售|可发", re.I)


def prefer_header(headers: list[str]) -> str:
    """Of two headers that look like one column, the one a planner would read: a count in
    base units over one in boxes (`库存量(基本单位)` over `库存量(箱)`: boxes would be
    planned as pieces), and on hand over available (`On hand` over `Available`: available
    is on hand less what is allocated, which the plan takes off itself from `allocated`);
    else the first."""

    def rank(header: str) -> int:
        return (
            (2 if BOX_UNIT.search(header) else 0)
            - (1 if BASE_UNIT.search(header) else 0)
            + (1 if AVAILABLE.search(header) else 0)
        )

    return min(headers, key=rank)


def _score(
    headers: list[str], table: str
) -> tuple[bool, int, dict[str, str], dict[str, list[str]]]:
    schema = SCHEMAS[table]
    aliases = {normalise_header(a): c.name for c in schema.columns for a in c.headers}
    fallback = {normalise_header(a) for c in schema.columns for a in c.fallbacks}
    mapping: dict[str, str] = {}
    seen: dict[str, list[str]] = {}  # canonical -> every header of its rank (a clash)
    for header in headers:
        key = normalise_header(header)
        name = aliases.get(key)
        if name is None:
            continue
        # a warehouse / supplier name wins over its code, and an alias over a fallback
        # (`Column.fallbacks`), as the reader does
        earlier = normalise_header(mapping.get(name, ""))
        replaces_code = earlier in CODE_ALIASES and key not in CODE_ALIASES
        replaces_fallback = earlier in fallback and key not in fallback
        if name not in mapping or replaces_code or replaces_fallback:
            mapping[name] = header
            seen[name] = [header]
        elif (key in CODE_ALIASES) == (earlier in CODE_ALIASES) and (key in fallback) == (
            earlier in fallback
        ):
            seen[name].append(header)  # two headers of one rank: the reader refuses both
    clashes = {}
    for name, found in seen.items():
        if len(found) > 1:
            mapping[name] = prefer_header(found)
            clashes[name] = [h for h in found if h != mapping[name]]
    required = {c.name for c in schema.columns if c.required}
    complete = required <= set(mapping) and (
        not schema.one_of or any(n in mapping for n in schema.one_of)
    )
    return complete, len(mapping), mapping, clashes


def _dataset_header(folder: Path) -> list[list[str]]:
    """A Parquet dataset's header: its first part file's columns and the hive `key=value`
    folder names above it (`location=WH1/part-0.parquet` gives a location column)."""
    first = dataset_files(folder)[0]
    hive = [k for k in hive_values(first, folder) if k]
    return [[*read_top_rows(first)[0], *hive]]


DATED = re.compile(r"日期|时间|date|time|day", re.I)
COUNTED = re.compile(r"数量|数|量|qty|quantity|units|pcs", re.I)


def _a_transaction(headers: list[str]) -> bool:
    """Whether `headers` are those of dated lines with quantities (a sales, returns or
    receipts document: 日期 ... 实退数量), which no products master is."""
    return any(DATED.search(h) for h in headers) and any(COUNTED.search(h) for h in headers)


def _header_problem(rows: list[list[str]], hint: str | None, problem: str | None = None) -> str:
    """Why no table fits `rows`: a header of two rows (`readers.two_row_header`) named with
    its second row, else `problem`, else no table's required columns found."""
    for n in range(min(len(rows) - 1, 3)):
        found = two_row_header(rows[n], rows[n + 1])
        if found:
            group, labels = found
            return phrase(
                "init.two_row_header",
                row=n + 2,
                group=group,
                labels=", ".join(f"'{label}'" for label in labels),
                first=labels[0],
            )
    return problem or phrase("init.no_table")


def _guess_rows(path: Path, rows: list[list[str]], hint: str | None) -> FileGuess:
    """The guess for one table's first `rows` (a file's, or one sheet's)."""
    candidates = []
    for table, schema in SCHEMAS.items():
        index = header_index(rows, schema, {})
        headers = [c.strip() for c in rows[index] if c and c.strip()] if rows else []
        complete, size, mapping, clashes = _score(headers, table)
        candidates.append(((complete, table == hint, size), table, mapping, headers, clashes))
    # ties go to the first table in SCHEMAS order: sales, stock, products, ...
    (complete, _, size), table, mapping, headers, clashes = max(candidates, key=lambda c: c[0])
    if not complete:
        return FileGuess(path, None, mapping, list(headers), _header_problem(rows, hint))
    if table == "products":
        # products needs only an SKU column: a header another table knows more of, or of
        # dated quantities, is that table's or a document's, not the products master
        most = max(_score(headers, other)[1] for other in SCHEMAS)
        if most > size or _a_transaction(headers):
            problem = _header_problem(rows, hint, phrase("init.not_products"))
            return FileGuess(path, None, mapping, list(headers), problem)
    known = {normalise_header(a) for c in SCHEMAS[table].columns for a in c.headers}
    # a header set aside for another of the same column (仓库编码 beside 仓库名称) is known
    unmapped = [h for h in headers if normalise_header(h) not in known]
    return FileGuess(path, table, mapping, unmapped, clashes=clashes)


def guess_file(path: Path) -> FileGuess:
    """Which table `path` (a file, or a folder of Parquet part files) most likely is, with
    its header mapping.

    The file is read once; its first rows are scored against every table, each table
    finding its own header below any title lines. A workbook's sheets are scored in the
    order the reader looks at them (`readers.read_sheet_tops`): the first that is a table
    is the guess (a cover sheet 说明, or a summary before the detail, is passed). Products
    needs only an SKU column, so a file is products only when no other table knows more
    of its headers and it is not dated lines with quantities (`_a_transaction`).
    """
    hint = next(
        (t for t, words in NAME_HINTS.items() if any(w in path.stem.lower() for w in words)),
        None,
    )
    try:
        if path.is_dir():
            sheets: list[tuple[str | None, list[list[str]]]] = [(None, _dataset_header(path))]
        elif is_workbook(path):
            sheets = list(read_sheet_tops(path))
        else:
            sheets = [(None, read_top_rows(path))]
    except StockplanError as exc:
        return FileGuess(path, None, problem=exc.phrase or exc.message)
    guesses = [_guess_rows(path, rows, hint) for _, rows in sheets]
    found = next((n for n, g in enumerate(guesses) if g.table), None)
    if found is None:
        return guesses[0]
    guesses[found].sheet = sheets[found][0] if found else None
    return guesses[found]


DEEPEST_FOLDER = 3
"""`init` looks this many folder levels below the folder it is given (exports filed by ERP
or by month, `kingdee/2025-10/销售出库.xlsx`) and no deeper, so a home folder given by
mistake is not walked whole."""


def _not_an_export(name: str, folder: bool = True) -> bool:
    """Hidden files and folders (`.stockplan-cache`, `.git`), writers' folders
    (`_temporary`) and Excel's lock files (`~$销售.xlsx`, while it is open)."""
    return name.startswith((".", "~$", *(("_",) if folder else ())))


SCHEMAS_COMPARED = 50
"""Part files whose columns `_parquet_dataset` compares (the plan's reader checks every
part file of the dataset it reads)."""


def _parquet_dataset(folder: Path) -> bool:
    """A folder read as one table: at least two Parquet files with the same columns (the
    first `SCHEMAS_COMPARED`), or under hive `key=value` folders, and nothing else but
    writers' markers (`_SUCCESS`). A folder of one Parquet file per table (sales.parquet,
    stock.parquet) is a folder of exports instead. Only a dataset's own tree is walked: the
    first other file or folder ends the look."""
    parts: list[Path] = []
    hive = False
    pending = [folder]
    while pending:
        try:
            entries = sorted(pending.pop().iterdir())
        except OSError:
            return False
        for entry in entries:
            if entry.name.startswith((".", "_")):
                continue
            if entry.is_dir():
                if "=" not in entry.name:
                    return False
                hive = True
                pending.append(entry)
            elif entry.suffix.lower() in PARQUET_SUFFIXES:
                parts.append(entry)
            else:
                return False
    if len(parts) < 2:
        return False
    try:
        columns = {tuple(pl.read_parquet_schema(p)) for p in parts[:SCHEMAS_COMPARED]}
    except Exception:  # a damaged part: read as files, each guessed (and its problem said)
        return False
    return hive or len(columns) == 1


def export_files(folder: Path) -> list[Path]:
    """The export files in `folder` and its subfolders up to `DEEPEST_FOLDER` levels below
    it, those at the top first, then by path; a folder of Parquet part files
    (`_parquet_dataset`) is one entry, the dataset. Hidden and unreadable folders are not
    looked into; a plan folder stockplan wrote (it holds its `run.json`) is one entry,
    not looked into either, for `own_output` to tell."""
    found: list[Path] = []

    def walk(current: Path, depth: int) -> None:
        try:
            entries = sorted(current.iterdir())
        except OSError:  # a folder the user may not read holds no export they gave us
            return
        for entry in entries:
            if _not_an_export(entry.name, folder=entry.is_dir()):
                continue
            if entry.is_dir():
                if (entry / RUN_JSON).is_file():
                    found.append(entry)  # said as an output, not looked into
                elif _parquet_dataset(entry):
                    found.append(entry)
                elif depth < DEEPEST_FOLDER:
                    walk(entry, depth + 1)
            elif entry.suffix.lower() in EXPORT_SUFFIXES and entry.is_file():
                found.append(entry)

    walk(folder, 0)
    return sorted(found, key=lambda p: (len(p.relative_to(folder).parts), p.as_posix()))


def own_output(path: Path) -> bool:
    """Whether `path` is a plan stockplan wrote: a folder with its `run.json`, a file with
    its `FILE.run.json` beside it (`planfiles.record_beside`), a workbook with its run
    record sheet (`planfiles.workbook_with_record`), under any name it was saved as."""
    if path.is_dir():
        return (path / RUN_JSON).is_file()
    return record_beside(path).is_file() or workbook_with_record(path)


def inspect_folder(folder: Path) -> list[FileGuess]:
    """A guess for every export `export_files` finds in `folder`; stockplan's own outputs
    get no table (`FileGuess.own_output`)."""
    if not folder.is_dir():
        raise StockplanError(f"{folder}: not a folder")
    files = export_files(folder)
    if not files:
        raise StockplanError(f"{folder}: no CSV, Excel or Parquet files found")
    return [FileGuess(p, None, own_output=True) if own_output(p) else guess_file(p) for p in files]


def chinese_headers(guesses: list[FileGuess]) -> bool:
    """Whether any recognised column came from a Chinese header (商品编码, 日期, ...)."""
    return any(
        re.search(r"[\u4e00-\u9fff]", source)
        for guess in guesses
        if guess.table
        for source in guess.mapping.values()
    )


_YAML_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _comment_safe(header: str) -> str:
    """A header quoted for a YAML comment line: JSON-escaped, and the characters YAML also
    reads as line breaks (NEL, U+2028, U+2029) escaped, so a header cannot end the comment
    and write a setting of its own."""
    return json.dumps(header, ensure_ascii=False).translate(_YAML_BREAKS)


def starter_config(guesses: list[FileGuess], config_dir: Path, language: str | None = None) -> str:
    """YAML text of a starter config: one `inputs` entry per table recognised (the first
    file of each), then the headers no alias knows as comments, one block per table;
    `language: zh` when `language` says so or, without it, when the exports have Chinese
    headers."""
    inputs: dict[str, str] = {}
    used: dict[str, FileGuess] = {}
    for guess in guesses:
        if guess.table and guess.table not in inputs:
            relative = os.path.relpath(Path(guess.path).resolve(), config_dir.resolve())
            inputs[guess.table] = Path(relative).as_posix()
            used[guess.table] = guess
    lang = language or ("zh" if chinese_headers(guesses) else "en")
    lines = [message("init.comment.title", lang), ""]
    if inputs:
        lines.append(
            yaml.safe_dump({"inputs": inputs}, allow_unicode=True, sort_keys=False).strip()
        )
    else:
        lines.append("inputs:")
    for table in ("sales", "stock"):
        if table not in inputs:
            lines.append(message("init.comment.missing", lang, name=table))
    mapped: list[str] = []  # the `columns:` lines proposed for clashing headers
    for table, guess in used.items():
        block = []
        for name, others in guess.clashes.items():
            header = guess.mapping[name]
            said = {"others": ", ".join(_comment_safe(h) for h in others), "name": name}
            line = f"    {_comment_safe(header)}: {name}   "
            block.append(line + message("init.comment.clash", lang, **said))
        mapped += [f"  {table}:", *block] if block else []
    lines += ["", "columns:", *mapped] if mapped else ["", "columns: {}"]
    unmapped = {table: g.unmapped for table, g in used.items() if g.unmapped}
    if unmapped:
        lines += [message("init.comment.unmapped", lang), "# columns:"]
        column = message("init.comment.column", lang)
        for table, headers in unmapped.items():
            lines.append(f"#   {table}:")
            lines += [f"#     {_comment_safe(h)}: {column}" for h in headers]
    lines += [
        "",
        "planning:",
        "  bucket: week",
        *([message("init.comment.language", lang)] if lang == "zh" else []),
        "policy:",
        "  review_days: 7",
        "  service_level: 0.95",
        "",
    ]
    return "\n".join(lines)
