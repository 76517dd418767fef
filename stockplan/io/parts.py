"""The large tables of a cluster plan written by the tasks themselves, as part files.

`stockplan plan -o FOLDER -f parquet` on a cluster engine (`io.parquet_parts`): every
partition's task writes its forecast (series x horizon), demand history (series x
buckets), orders, risk, classes, excess and large orders (`PART_TABLES`) as
`forecast/part-<id>.parquet`, `history/part-<id>.parquet`, ... into a hidden
staging folder beside FOLDER (`.FOLDER.parts-<pid>`); the driver never gathers them.
The staging folders are renamed into FOLDER in the same all-or-nothing step that writes
the other tables (`write_files(folders=...)`; `publish` for a caller of the library): a
run that fails, or whose write is refused, leaves FOLDER as it was and removes its
staging folder (at the latest when the process exits). The part files of one table together are one
Parquet dataset: `polars.scan_parquet("FOLDER/forecast/*.parquet")`.

On a cluster of several machines FOLDER must be on a file system every worker sees.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from stockplan.errors import StockplanError

PART_TABLES = ("forecast", "history", "orders", "risk", "classes", "excess", "large_orders")
"""The tables the tasks write as part files (the driver gets none of their rows)."""
_STAGED: list[Path] = []  # this process's staging folders, removed at exit if still there


def remove_staging() -> None:
    """Remove this process's staging folders that were not published (at exit, or when
    the command line ends a failed run at once)."""
    while _STAGED:
        shutil.rmtree(_STAGED.pop(), ignore_errors=True)


atexit.register(remove_staging)


@dataclass
class PartsOutput:
    """An output folder that may receive part files; `staging` is made on first use."""

    target: Path
    all_rows: bool = False  # the orders table with every series (`plan --all`)
    staging: Path | None = None
    written: list[str] = field(default_factory=list)

    @property
    def used(self) -> bool:
        return self.staging is not None

    def stage(self) -> Path:
        """The staging folder beside the target (made now; removed at exit if still there)."""
        if self.staging is None:
            parent = self.target.resolve().parent
            if not parent.is_dir():
                raise StockplanError(f"{self.target}: output folder {parent} does not exist")
            staging = parent / f".{self.target.name}.parts-{os.getpid()}"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            _STAGED.append(staging)
            self.staging = staging
        return self.staging

    def staged_folders(self) -> dict[Path, Path]:
        """Each part table's folder in the target -> its staged folder (an empty dataset
        folder for a table every partition left empty); {} when nothing was staged."""
        if self.staging is None:
            return {}
        staged = {}
        for table in PART_TABLES:
            (self.staging / table).mkdir(exist_ok=True)
            staged[self.target / table] = self.staging / table
        return staged

    def publish(self) -> list[Path]:
        """Move the staged table folders into the target, replacing an earlier run's, all
        or none (`write_files(folders=...)`; `stockplan plan` moves them in the same step
        as the plan's own files)."""
        folders = self.staged_folders()
        if not folders:
            return []
        from stockplan.io.writers import check_folders_not_inputs, write_files

        check_folders_not_inputs(folders)
        self.target.mkdir(parents=True, exist_ok=True)
        write_files({}, folders=folders)
        self.discard()
        return list(folders)

    def discard(self) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None


_offered: ContextVar[PartsOutput | None] = ContextVar("parquet_parts", default=None)


def parts_target(output: str | None, fmt: str | None, all_rows: bool = False) -> PartsOutput | None:
    """A PartsOutput for `-o FOLDER -f parquet` (a folder: no file suffix), else None;
    `all_rows`: its orders table holds every series, not only the lines to show."""
    if output is None or output == "-" or fmt != "parquet":
        return None
    target = Path(output)
    if target.suffix and not target.is_dir():
        return None
    return PartsOutput(target, all_rows)


@contextlib.contextmanager
def offering(parts: PartsOutput | None) -> Iterator[PartsOutput | None]:
    """Inside the block a cluster plan may write its large tables into `parts`; a failure
    in the block removes what was staged."""
    token = _offered.set(parts)
    try:
        yield parts
    except BaseException:
        if parts is not None:
            parts.discard()
        raise
    finally:
        _offered.reset(token)


def offered() -> PartsOutput | None:
    """The PartsOutput of the enclosing `offering` block, if any."""
    return _offered.get()


def parts_written() -> bool:
    """True when the enclosing `offering` block's plan wrote part files."""
    parts = _offered.get()
    return parts is not None and parts.used


def write_part(staging: str | Path, table: str, name: str, frame: pl.DataFrame) -> None:
    """One task's rows of `table` as `staging/table/part-<name>.parquet` (written to a
    temporary name first: a half-written part never has a part's name)."""
    folder = Path(staging) / table
    path = folder / f"part-{name}.parquet"
    temp = folder / f".part-{name}.parquet.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(temp)
        os.replace(temp, path)
    except OSError as exc:
        from stockplan.i18n import phrase
        from stockplan.io.writers import write_problem

        with contextlib.suppress(OSError):  # no half-written part is left behind
            temp.unlink(missing_ok=True)
        problem = write_problem(exc)
        raise StockplanError(phrase("error.part_file", path=str(path), problem=problem)) from None
