"""The one user-facing error type.

Every problem a user can fix (bad file, bad value, bad config) is raised as a
`StockplanError` whose message names the file, the row and the column. The CLI
prints it on one line on stderr and exits with code 1.
"""

from __future__ import annotations

from pathlib import Path


class StockplanError(Exception):
    """A problem with the user's input or configuration, fit to show as one line."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))
        self.message = " ".join(message.split())

    def __str__(self) -> str:
        return self.message


def input_error(
    file: str | Path,
    problem: str,
    *,
    row: int | None = None,
    column: str | None = None,
) -> StockplanError:
    """An error pointing at `file`, row `row` (header = row 1) and column `column`."""
    where = [str(file)]
    if row is not None:
        where.append(f"row {row}")
    if column is not None:
        where.append(f"column '{column}'")
    return StockplanError(f"{', '.join(where)}: {problem}")
