"""The run record a plan carries: what produced it, so `stockplan verify` can prove it.

    stockplan_version, command, options (--all, --table, --lang, --headers; --columns when
    given), planning_date, seed,
    config: path, size_bytes, sha256 of its bytes,
    inputs.<table>: path, size_bytes, sha256          (a file)
                    path, files, size_bytes, sha256   (a Parquet dataset: folder or glob)
                    url (password as ***), query_sha256 or table   (a database)

It goes into the `run` sheet of an XLSX plan (one `key`, `value` row per dotted key),
`run.json` in an output folder, and `FILE.run.json` beside a single table file. Output to
a terminal or standard output carries no record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from stockplan import __version__
from stockplan.errors import StockplanError
from stockplan.io.datasets import is_dataset

if TYPE_CHECKING:
    from stockplan.config import Config

CHUNK = 1 << 20


def file_sha256(path: Path) -> tuple[int, str]:
    """(size in bytes, SHA-256 hex digest) of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise StockplanError(f"{path}: cannot read it to record its checksum ({exc})") from None
    return size, digest.hexdigest()


def dataset_sha256(path: str | Path) -> dict[str, Any]:
    """A Parquet dataset (folder or glob): its path, part files, their total size and one
    SHA-256 over each part's path (from the dataset's root) and SHA-256, in name order."""
    from stockplan.io.datasets import dataset_files, dataset_root

    root = dataset_root(path)
    digest = hashlib.sha256()
    total = 0
    files = dataset_files(path)
    for file in files:
        size, sha = file_sha256(file)
        total += size
        name = file.relative_to(root) if file.is_relative_to(root) else file
        digest.update(f"{name}\t{sha}\n".encode())
    where = Path(path) if Path(path).is_absolute() else Path.cwd() / path
    return {
        "path": str(where),
        "files": len(files),
        "size_bytes": total,
        "sha256": digest.hexdigest(),
    }


def describe_inputs(config: Config) -> dict[str, dict[str, Any]]:
    """Per input table: a file's path, size and SHA-256, or a database's masked url and the
    SHA-256 of its query."""
    from stockplan.config import DatabaseInput
    from stockplan.errors import redact_url

    described: dict[str, dict[str, Any]] = {}
    for name, spec in config.inputs or ():
        if spec is None:
            continue
        if isinstance(spec, DatabaseInput):
            entry: dict[str, Any] = {"url": redact_url(spec.url)}
            if spec.query is not None:
                entry["query_sha256"] = hashlib.sha256(spec.query.encode("utf-8")).hexdigest()
            else:
                entry["table"] = spec.table
            described[name] = entry
            continue
        if is_dataset(spec.path):
            described[name] = dataset_sha256(spec.path)
            continue
        path = Path(spec.path).resolve()
        size, sha = file_sha256(path)
        described[name] = {"path": str(path), "size_bytes": size, "sha256": sha}
    return described


def run_record(
    config_path: Path,
    config: Config,
    planning_date: dt.date,
    command: str,
    options: dict[str, Any],
) -> dict[str, Any]:
    """The record of one run (see the module docstring)."""
    config_path = config_path.resolve()
    size, sha = file_sha256(config_path)
    return {
        "stockplan_version": __version__,
        "command": command,
        "options": options,
        "planning_date": planning_date.isoformat(),
        "seed": config.simulate.seed,
        "config": {"path": str(config_path), "size_bytes": size, "sha256": sha},
        "inputs": describe_inputs(config),
        "created_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def run_info(config_path: Path, config: Config, as_of: dt.date) -> dict[str, Any]:
    """What a workbook's summary sheet says about the run: date, version, config, inputs."""
    return {
        "as_of": as_of,
        "version": __version__,
        "config": str(config_path),
        "inputs": {name: str(f.path) for name, f in config.inputs or () if f is not None},
        "currency": config.planning.currency,
        "bucket": config.planning.bucket,
    }


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested record -> dotted keys with text values (for the `run` sheet)."""
    flat: dict[str, str] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat |= flatten(value, name + ".")
        elif isinstance(value, bool):
            flat[name] = "true" if value else "false"
        else:
            flat[name] = "" if value is None else str(value)
    return flat


def unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    """Dotted keys -> nested record; sizes and the seed back to integers, flags to booleans."""
    record: dict[str, Any] = {}
    for key, value in flat.items():
        if key is None:
            continue
        *parents, leaf = str(key).split(".")
        node = record
        for part in parents:
            node = node.setdefault(part, {})
        text = "" if value is None else str(value)
        if leaf in ("size_bytes", "seed") and text.lstrip("-").isdigit():
            node[leaf] = int(text)
        elif text in ("true", "false"):
            node[leaf] = text == "true"
        else:
            node[leaf] = text or None
    return record


def record_frame(record: dict[str, Any]) -> pl.DataFrame:
    """The `run` sheet: one `key`, `value` row per dotted key."""
    flat = flatten(record)
    return pl.DataFrame({"key": list(flat), "value": list(flat.values())})


def _input(name: str) -> dict[str, str]:
    """A recorded input (`inputs.stock`, `config`) in both languages: `库存（inputs.stock）`."""
    from stockplan.i18n import input_name

    table = name.removeprefix("inputs.")
    zh = "配置文件" if name == "config" else input_name(table, "zh").split("（")[0]
    return {"en": name, "zh": f"{zh}（{name}）" if zh != table else name}


def changed_inputs(record: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(inputs whose file changed or is gone, database inputs that cannot be proven unchanged),
    comparing each recorded file's size and SHA-256 with the file there now."""
    from stockplan.i18n import phrase

    changed: list[str] = []
    unprovable: list[str] = []
    entries = [("config", record.get("config") or {})]
    entries += [(f"inputs.{n}", e) for n, e in (record.get("inputs") or {}).items()]
    for name, entry in entries:
        if "url" in entry:
            unprovable.append(f"{name} ({entry['url']})")
            continue
        path = Path(str(entry.get("path")))
        if "files" in entry:  # a Parquet dataset
            try:
                now = dataset_sha256(path)
            except StockplanError:
                changed.append(phrase("verify.input_gone", name=_input(name), path=str(path)))
                continue
            size, sha = now["size_bytes"], now["sha256"]
        elif not path.is_file():
            changed.append(phrase("verify.input_gone", name=_input(name), path=str(path)))
            continue
        else:
            size, sha = file_sha256(path)
        if sha != entry.get("sha256"):
            was = entry.get("size_bytes")
            changed.append(
                phrase(
                    "verify.input_changed",
                    name=_input(name),
                    path=str(path),
                    was=was,
                    size=size,
                )
            )
    return changed, unprovable
