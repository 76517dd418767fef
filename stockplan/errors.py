"""The one user-facing error type.

Every problem a user can fix (bad file, bad value, bad config) is raised as a
`StockplanError` whose message names the file, the row and the column. The CLI
prints it on one line on stderr and exits with code 1.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote as quote_url
from urllib.parse import urlsplit

# C0 controls except TAB/LF/CR (folded to spaces), DEL, C1 controls (incl. CSI 0x9b),
# the Unicode bidi overrides that can make a terminal line read backwards, and the
# invisible characters a copied code may carry (soft hyphen, zero-width space / joiners,
# left-to-right and right-to-left marks, word joiner, byte order mark): 'A-100' and
# 'A-100\u200b' must not look the same in a message
_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff]"
)
MAX_QUOTE = 80
"""Characters of a data value an error message quotes; longer values are cut with `...`."""


def safe_text(text: str) -> str:
    r"""`text` on one line with control characters escaped (`\x1b`), fit for a terminal or log.

    ESC, BEL and OSC sequences from a data file must never reach a terminal as they are:
    they can recolour, retitle or hide what follows.
    """
    return escape_unsafe(" ".join(str(text).split()))


def escape_unsafe(text: str) -> str:
    r"""`text` with its control and bidi characters escaped (`\x1b`, `\u202e`), its line
    breaks and spaces kept: for lines laid out on purpose (a panel, a table's cells)."""
    return _UNSAFE.sub(_escaped, str(text))


def _escaped(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def quote(value: object, limit: int = MAX_QUOTE) -> str:
    """A data value for a message: escaped, and cut to `limit` characters."""
    text = safe_text(str(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Phrase(str):
    """English text that keeps the catalogue key and fields it was made from
    (`i18n.phrase`), so that the command line can say it in the buyer's language."""

    key: str
    fields: dict[str, object]


class StockplanError(Exception):
    """A problem with the user's input or configuration, fit to show as one line.

    Raised with a `Phrase` (`i18n.phrase(key, **fields)`) it is said in either language
    from the catalogue (`i18n.error_text`); raised with plain text, its zh rendering
    is phrase by phrase (`i18n.render_error`)."""

    exit_code = 1
    language: str | None = None
    """The language the input itself asks for, when the error stops it from saying so the
    usual way: the `planning.language` of a config that did not validate, the headers of a
    plan without its run record. The command line answers in it unless --lang says."""

    def __init__(self, message: str) -> None:
        self.phrase = message if isinstance(message, Phrase) else None
        self.message = safe_text(message)
        super().__init__(self.message)

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


ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(
    text: str,
    where: str | dict[str, str],
    *,
    empty_ok: bool = True,
    escape: Callable[[int], bool] | None = None,
) -> str:
    """Replace each `${VAR}` by the environment's value; an unset variable is an error
    naming `where` (a place, or one already in every language): a database url, an alert
    channel's text, an input file's path. Without `empty_ok` (a path: `${DATA}/sales.csv`
    would become `/sales.csv`), a variable set to nothing is one too. A variable at a
    position where `escape` says so (a url's password) is percent-encoded (`url_escape`)."""
    from stockplan.i18n import phrase, place

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        said = place(where) if isinstance(where, str) else where
        if name not in os.environ:
            raise StockplanError(phrase("error.env_unset", where=said, name=name))
        if not empty_ok and not os.environ[name].strip():
            raise StockplanError(phrase("error.env_empty", where=said, name=name))
        found = os.environ[name]
        return url_escape(found) if escape is not None and escape(match.start()) else found

    return ENV_VAR.sub(value, text)


_ESCAPED = re.compile(r"%[0-9A-Fa-f]{2}")


def url_escape(value: str) -> str:
    """`value` percent-encoded for a url's user or password (`p@ss/w?rd` -> `p%40ss%2Fw%3Frd`),
    so that a driver reads it whole; a `%` already starting an escape (`%40`) is kept, so a
    value written encoded stays as it is."""
    pieces, start = [], 0
    for escaped in _ESCAPED.finditer(value):
        pieces += [quote_url(value[start : escaped.start()], safe=""), escaped.group()]
        start = escaped.end()
    return "".join([*pieces, quote_url(value[start:], safe="")])


def redact_url(url: str) -> str:
    """The url with its password (and any `password=` parameter) replaced by `***`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unreadable url)"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
        url = url.replace(parts.netloc, netloc, 1)
    return re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", url)
