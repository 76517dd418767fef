"""Reuse the work of an earlier run on the same inputs, config and version.

A run's prepared input tables and its `PlanResult` are kept as Arrow IPC files in one
folder per key, `.stockplan-cache/<key>/` beside the config (or `$STOCKPLAN_CACHE_DIR`).
The key is a SHA-256 over

- the stockplan version and the size and modification time of its own source files,
- the versions of the libraries that compute the plan (`LIBRARIES`: another polars,
  statsforecast or numpy can round, sort or fit differently),
- the validated config (every setting, after `--as-of`) but for the settings that only
  say how the plan is shown or sent (`KEY_EXCLUDES`: its language, the alert channels,
  the HTML report's),
- the SHA-256 of every input file's bytes.

So one changed byte in an input, one changed setting, or another version gives another key:
a stale plan is never served. Nothing the plan computes reads the language but the customer
notices' words: an entry keeps them in every language of the catalogue (`Plan.notices_in`),
and a run in another language than the entry's reads its own (an entry without them is a
miss there). A config that reads any table from a database is never
cached (the same query can return other rows a minute later). An entry is written to a
temporary folder and renamed into place, so a reader sees a whole entry or none; an entry
that cannot be read (truncated, edited, another format) is removed and the plan recomputed.
The folder is safe to delete at any time; the newest `KEEP_ENTRIES` entries are kept. A
folder that cannot be written costs reuse, never the run: `store` says so and the run goes
on.

A plan that missed can still reuse its forecast stage (`ForecastCache`): (forecast,
summary) in `forecast-<key>/`, the key over the same version, code stamp and libraries,
the bucket, horizon and `forecast` settings, and the content of the frames the forecast
reads (`forecast_key`), so an edit to stock, open orders, suppliers or policy does not
forecast again. Same writing, removal and pruning (the newest `KEEP_ENTRIES` of each kind).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from stockplan import __version__
from stockplan.result import PlanResult

if TYPE_CHECKING:
    import polars as pl

    from stockplan.config import Config

CACHE_FOLDER = ".stockplan-cache"
KEEP_ENTRIES = 8
FORMAT = 3  # bump when the layout of an entry changes
_FRAMES = ("history", "open_po", "plan_rows", "items", "own_history")
LIBRARIES = ("polars", "statsforecast", "numpy")
FORECAST_PREFIX = "forecast-"  # the forecast stage's entries, pruned apart from the plans'
# settings no stage of the plan reads: how it is shown or sent (tests/test_cache.py:
# changing them keeps the key, a Chinese run reads an English run's plan)
KEY_EXCLUDES = {"planning": {"language"}, "notify": True, "report": True}
T = TypeVar("T")


def cache_folder(config_path: Path) -> Path:
    """`$STOCKPLAN_CACHE_DIR`, else `.stockplan-cache` beside the config."""
    override = os.environ.get("STOCKPLAN_CACHE_DIR")
    return Path(override) if override else config_path.resolve().parent / CACHE_FOLDER


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _code_stamp() -> str:
    """Size and mtime of the package's own modules: an edited install is another version."""
    root = Path(__file__).resolve().parent
    parts = []
    for module in sorted(root.rglob("*.py")):
        info = module.stat()
        parts.append(f"{module.relative_to(root)}:{info.st_size}:{info.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _library_versions() -> str:
    """`polars 1.2.3 statsforecast ... numpy ...` of the installed `LIBRARIES`."""
    from importlib import metadata

    versions = []
    for name in LIBRARIES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} none")
    return " ".join(versions)


def _stamped_digest() -> hashlib._Hash:
    """A SHA-256 begun with the stockplan version, its code stamp and the `LIBRARIES`'."""
    digest = hashlib.sha256()
    digest.update(f"stockplan {__version__} format {FORMAT} code {_code_stamp()}\n".encode())
    digest.update(f"{_library_versions()}\n".encode())
    return digest


def cache_key(config: Config) -> str | None:
    """The key of a run on `config`'s inputs, or None when it must not be cached."""
    from stockplan.config import DatabaseInput

    digest = _stamped_digest()
    digest.update(config.model_dump_json(exclude=KEY_EXCLUDES).encode())
    for name, spec in config.inputs or ():
        if spec is None:
            continue
        if isinstance(spec, DatabaseInput):
            return None
        path = Path(spec.path)
        if not path.is_file():  # a FIFO read here would be empty for the reader; a folder
            return None  # or a missing file is the reader's to report
        try:
            digest.update(f"\n{name} {_file_digest(path)}".encode())
        except OSError:
            return None
    return digest.hexdigest()


def _write_frame(frame: pl.DataFrame, path: Path) -> None:
    frame.write_ipc(path, compression="uncompressed")


def _commit(folder: Path, key: str, fill: Callable[[Path], None]) -> OSError | None:
    """Write the entry `key` with `fill(temporary folder)` and rename it into place (a
    reader sees the whole entry or none), then prune; best effort: the error that kept it
    out, else None."""
    entry = folder / key
    temp: Path | None = None
    failed: OSError | None = None
    try:
        if entry.exists():
            return None
        folder.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder))
        fill(temp)
        os.replace(temp, entry)  # atomic: a reader sees the whole entry or none
        temp = None
    except OSError as exc:
        failed = exc
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    _prune(folder)
    return failed


def _open(folder: Path, key: str, read: Callable[[Path, dict], T]) -> T | None:
    """`read(entry, meta)` of the entry `key`, or None. An entry that cannot be read whole
    (or of another format or version) is removed: the caller recomputes."""
    entry = folder / key
    try:
        if not entry.is_dir():  # a folder this user may not read is a miss, not an error
            return None
    except OSError:
        return None
    try:
        meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or meta.get("version") != __version__:
            raise ValueError("another cache format")
        found = read(entry, meta)
    except Exception:  # corrupt or foreign entry: recompute, never fail the run
        shutil.rmtree(entry, ignore_errors=True)
        return None
    with contextlib.suppress(OSError):
        os.utime(entry)  # recently used entries survive pruning
    return found


def _read_frame(entry: Path, name: str) -> pl.DataFrame:
    import polars as pl

    return pl.read_ipc((entry / f"{name}.arrow").read_bytes())


def store(
    folder: Path,
    key: str,
    tables: dict[str, pl.DataFrame],
    warnings: list[str],
    result: PlanResult,
    extra: dict[str, pl.DataFrame] | None = None,
    language: str = "en",
) -> OSError | None:
    """Keep the inputs and the plan under `key` (best effort: a full disk or a folder this
    user may not write only loses reuse); the error that kept it out, else None.
    `language`: the plan's (`planning.language`), the language of its notices table."""

    def fill(temp: Path) -> None:
        for name, frame in tables.items():
            _write_frame(frame, temp / f"input.{name}.arrow")
        for name, frame in result.tables.items():
            _write_frame(frame, temp / f"table.{name}.arrow")
        for name, frame in (extra or {}).items():
            _write_frame(frame, temp / f"extra.{name}.arrow")
        for name in _FRAMES:
            frame = getattr(result, name)
            if frame is not None:
                _write_frame(frame, temp / f"frame.{name}.arrow")
        for lang, frame in result.notices_in.items():
            _write_frame(frame, temp / f"notices.{lang}.arrow")
        meta = {
            "format": FORMAT,
            "version": __version__,
            "as_of": result.as_of.isoformat(),
            "bucket_days": result.bucket_days,
            "notes": [_kept_warning(n) for n in result.notes],
            "warnings": [_kept_warning(w) for w in warnings],
            "inputs": list(tables),
            "tables": list(result.tables),
            "extra": list(extra or {}),
            "frames": [n for n in _FRAMES if getattr(result, n) is not None],
            "language": language,
            "notices_in": list(result.notices_in),
        }
        (temp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    return _commit(folder, key, fill)


def _kept_warning(warning: str) -> object:
    """A load warning or plan note for meta.json: a catalogue phrase as its key and fields,
    so that a reused plan says it in the run's language as the first run did; else its
    text."""
    key = getattr(warning, "key", None)
    if key is None:
        return str(warning)
    try:
        json.dumps(warning.fields)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return str(warning)
    return {"key": key, "fields": warning.fields}  # type: ignore[attr-defined]


def _read_warning(kept: object) -> str:
    """A warning as `_kept_warning` kept it."""
    if isinstance(kept, dict):
        from stockplan.i18n import phrase

        return phrase(str(kept["key"]), **kept["fields"])
    return str(kept)


def _prune(folder: Path) -> None:
    """Keep the newest `KEEP_ENTRIES` plans and as many forecasts; drop leftovers of runs
    that died while writing."""
    with contextlib.suppress(OSError):
        entries = [p for p in folder.iterdir() if p.is_dir()]
        stale = [p for p in entries if p.name.startswith(".tmp-")]
        dropped = []
        for forecasts in (False, True):
            kept = sorted(
                (
                    p
                    for p in entries
                    if not p.name.startswith(".tmp-")
                    and p.name.startswith(FORECAST_PREFIX) == forecasts
                ),
                key=lambda p: p.stat().st_mtime,
                reverse=True,
            )
            dropped += kept[KEEP_ENTRIES:]
        now = dt.datetime.now().timestamp()
        for path in dropped + [p for p in stale if now - p.stat().st_mtime > 3600]:
            shutil.rmtree(path, ignore_errors=True)


def load(
    folder: Path, key: str, language: str | None = None
) -> tuple[dict[str, pl.DataFrame], list[str], PlanResult, dict[str, pl.DataFrame]] | None:
    """(input tables, load warnings, plan, extra frames) stored under `key`, or None.

    `language`: the run's; the plan's notices table is given in it (from the entry's
    `notices_in`), and an entry whose notices it lacks is a miss. None: as stored.
    An entry that cannot be read whole is removed: the caller recomputes."""

    def read(
        entry: Path, meta: dict
    ) -> tuple[dict[str, pl.DataFrame], list[str], PlanResult, dict[str, pl.DataFrame]] | None:
        stored = meta["language"]
        others = meta["notices_in"]
        wanted = language or stored
        if wanted != stored and "notices" in meta["tables"] and wanted not in others:
            return None  # a whole entry, only not in this language: kept
        tables = {name: _read_frame(entry, f"input.{name}") for name in meta["inputs"]}
        result = PlanResult(
            as_of=dt.date.fromisoformat(meta["as_of"]),
            tables={name: _read_frame(entry, f"table.{name}") for name in meta["tables"]},
            notes=[_read_warning(n) for n in meta["notes"]],
            bucket_days=int(meta["bucket_days"]),
            **{name: _read_frame(entry, f"frame.{name}") for name in meta["frames"]},
        )
        result.notices_in = {lang: _read_frame(entry, f"notices.{lang}") for lang in others}
        if wanted != stored and "notices" in result.tables:
            result.notices_in[stored] = result.tables["notices"]
            result.tables["notices"] = result.notices_in.pop(wanted)
        warnings = [_read_warning(w) for w in meta["warnings"]]
        extra = {name: _read_frame(entry, f"extra.{name}") for name in meta["extra"]}
        return tables, warnings, result, extra

    return _open(folder, key, read)


def forecast_key(frames: dict[str, pl.DataFrame | None], config: Config) -> str:
    """The key of the forecast stage on `frames` (the frames it reads,
    `pipeline.forecast_inputs`): SHA-256 over the version, code stamp and `LIBRARIES`, the
    bucket, horizon and `forecast` settings, and each frame's height, schema and row hashes
    (`hash_rows`, which can change with the polars version, part of the key)."""
    digest = _stamped_digest()
    settings = {
        "bucket": config.planning.bucket,
        "horizon_periods": config.planning.horizon_periods,
        "forecast": config.forecast.model_dump(mode="json"),
    }
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for name, frame in sorted(frames.items()):
        if frame is None:
            digest.update(f"\n{name} none".encode())
            continue
        digest.update(f"\n{name} {frame.height} {list(frame.schema.items())}\n".encode())
        hashes = frame.hash_rows(seed=0)
        digest.update(hashes.to_numpy().tobytes())
    return digest.hexdigest()


_FORECAST_FRAMES = ("forecast", "summary")


@dataclass
class ForecastCache:
    """The forecast stage's (forecast, summary) kept in `folder` under `forecast_key`, so a
    plan whose stock, open orders, suppliers or policy changed does not forecast again.
    Written, read, removed when unreadable and pruned as the plan's entries; a failed
    write only loses reuse (the plan's own `store` then says so)."""

    folder: Path
    reused: bool = False  # whether the last call found its forecast kept

    def __call__(
        self,
        frames: dict[str, pl.DataFrame | None],
        config: Config,
        compute: Callable[[], tuple[pl.DataFrame, pl.DataFrame]],
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(forecast, summary) kept under the key of `frames` and `config`, else
        `compute()`, kept."""
        key = FORECAST_PREFIX + forecast_key(frames, config)

        def read(entry: Path, _meta: dict) -> tuple[pl.DataFrame, pl.DataFrame]:
            forecast, summary = (_read_frame(entry, name) for name in _FORECAST_FRAMES)
            return forecast, summary

        found = _open(self.folder, key, read)
        self.reused = found is not None
        if found is not None:
            return found
        computed = compute()

        def fill(temp: Path) -> None:
            for name, frame in zip(_FORECAST_FRAMES, computed, strict=True):
                _write_frame(frame, temp / f"{name}.arrow")
            meta = {"format": FORMAT, "version": __version__, "frames": list(_FORECAST_FRAMES)}
            (temp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")

        _commit(self.folder, key, fill)
        return computed
