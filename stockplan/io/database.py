"""Read input tables straight from an ERP's database into Polars frames.

`{url, query}` or `{url, table}` in `inputs:` replaces an export file. Supported urls:

- `postgresql://user:password@host:5432/db` (Odoo, ERPNext on PostgreSQL) through the
  ADBC PostgreSQL driver (libpq; Arrow columns straight into Polars);
- `sqlite:///file.db` through Python's own sqlite3, opened read-only;
- `duckdb:///file.duckdb` through DuckDB, opened read-only;
- `mssql://` (Kingdee, U8) and `mysql://` (ERPNext on MariaDB) through connectorx when
  the user installs it (not part of the tests).

The frame then goes through the same header aliases, `columns:` mapping, typing and
one-line errors as a file (`stockplan.io.readers`). `${VAR}` in a url is taken from the
environment (percent-encoded in the user and password); the password never appears in a
message: urls are shown with `***` for it and driver messages are scrubbed of it. Each
failure — connection refused, login refused, a bad query, the time limit
(`timeout_seconds`) — is one `StockplanError` line.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

import polars as pl

from stockplan.errors import Phrase, StockplanError, expand_env, redact_url
from stockplan.i18n import phrase, place

if TYPE_CHECKING:
    from stockplan.config import DatabaseInput

SCHEMES = {"postgresql": "postgresql", "postgres": "postgresql", "sqlite": "sqlite"}
SCHEMES |= {"duckdb": "duckdb", "mssql": "connectorx", "mysql": "connectorx"}


SEPARATORS = re.compile(r"([/?#@:])")
"""Where a url parser splits: a driver reading a password with one of them in it may echo
any run of the pieces (`ab/c?TopSecret99` -> `TopSecret99@host:5432/db`)."""
SHORT = 4
"""A secret (or piece of one) shorter than this is hidden only where it stands alone, never
inside a word: a password `p` must not turn every `p` of a message into `***`."""


def _secrets(url: str) -> list[str]:
    """The password of `url` as written and percent-decoded, and every run of its pieces
    between `/ ? # @ :`, longest first."""
    whole: list[str] = []
    try:
        parts = urlsplit(url)
        if parts.password:
            whole += [parts.password, unquote(parts.password)]
    except ValueError:
        pass
    rest = url.split("://", 1)[-1]
    if "@" in rest:  # a password written with an unencoded '/' or '?' in it
        userinfo = rest.rsplit("@", 1)[0]
        if ":" in userinfo:
            whole += [userinfo.split(":", 1)[1]]
    whole += [unquote(m) for m in re.findall(r"(?i)password=([^&#]+)", url)]
    found = set(whole)
    for secret in whole:
        pieces = SEPARATORS.split(unquote(secret))
        for first in range(0, len(pieces), 2):
            for last in range(first, len(pieces), 2):
                found.add("".join(pieces[first : last + 1]))
    return sorted({s for s in found if s.strip()}, key=len, reverse=True)


def _scrub(text: str, url: str) -> str:
    """First line of a driver message, with the url and its password hidden: the password,
    decoded or not, and any piece of it a url parser may have split off."""
    line = next((part.strip() for part in str(text).splitlines() if part.strip()), "")
    line = line.replace(url, redact_url(url))
    for secret in _secrets(url):
        if len(secret) >= SHORT:
            line = line.replace(secret, "***")
        else:
            alone = rf"(?<![^\W_]){re.escape(secret)}(?![^\W_])"
            line = re.sub(alone, "***", line)
    return line


def expand_url(written: str, label: str) -> str:
    """`written` with each `${VAR}` taken from the environment. A variable in the url's
    user and password (or a `password=` parameter) is percent-encoded, so a password with
    `/ ? # @ :` in it reaches the driver whole; in a database file's url (`sqlite:///${DB}`)
    a variable set to nothing is refused, as in an input file's path."""
    scheme, sep, rest = written.partition("://")
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0] if sep else ""
    userinfo_end = len(scheme) + len(sep) + netloc.rfind("@") if "@" in netloc else -1
    parameters = [m.end() for m in re.finditer(r"(?i)[?&]password=", written)]

    def in_password(at: int) -> bool:
        return at < userinfo_end or at in parameters

    empty_ok = scheme.lower() not in ("sqlite", "duckdb")
    return expand_env(written, label, empty_ok=empty_ok, escape=in_password)


def select_all(table: str) -> str:
    """`SELECT * FROM "schema"."table"`: each dotted part quoted as an identifier."""
    return "SELECT * FROM " + ".".join(
        '"' + part.replace('"', '""') + '"' for part in table.split(".")
    )


def _file_path(url: str, label: str) -> Path:
    rest = url.split(":", 1)[1]
    if not rest.startswith("///"):
        raise StockplanError(phrase("error.db_file_url", where=place(label)))
    path = Path(unquote(rest[3:].split("?", 1)[0]))
    if not path.is_file():
        raise StockplanError(phrase("error.db_file_missing", where=place(label), path=path))
    return path


def _classify(message: str, sqlstate: str | None, timeout: float, label: str) -> Phrase | None:
    """One line for what went wrong, from the driver's message and SQLSTATE (None when
    neither says anything a buyer can act on)."""
    text = message.lower()
    key = None
    if "connection refused" in text:
        key = "error.db_refused"
    elif "could not translate host name" in text or "name or service not known" in text:
        key = "error.db_unknown_host"
    elif sqlstate in ("28P01", "28000") or "password authentication failed" in text:
        key = "error.db_login"
    elif "timeout expired" in text or "timed out" in text:
        key = "error.db_no_answer"
    elif sqlstate == "57014" or "statement timeout" in text or "interrupt" in text:
        key = "error.db_query_timeout"
    elif sqlstate == "3D000":
        key = "error.db_no_database"
    return None if key is None else phrase(key, where=place(label), timeout=f"{timeout:g}")


def _failed(label: str, detail: str) -> StockplanError:
    return StockplanError(phrase("error.db_query_failed", where=place(label), detail=detail))


def _no_driver(label: str, database: str) -> StockplanError:
    return StockplanError(phrase("error.db_driver", where=place(label), database=database))


def _read_postgres(url: str, sql: str, timeout: float, label: str) -> pl.DataFrame:
    try:
        import adbc_driver_postgresql.dbapi as pg
    except ImportError:
        raise _no_driver(label, "PostgreSQL") from None
    uri = url.replace("postgres://", "postgresql://", 1)
    if "connect_timeout=" not in uri:  # libpq's own limit for reaching and logging in
        uri += ("&" if "?" in uri else "?") + f"connect_timeout={max(2, round(timeout))}"
    stage = "connect"
    try:
        with pg.connect(uri, autocommit=True) as connection, connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {max(1, round(timeout * 1000))}")
            cursor.execute("SET default_transaction_read_only = on")  # a plan never writes
            stage = "query"
            cursor.execute(sql)
            table = cursor.fetch_arrow_table()
    except pg.Error as exc:
        sqlstate = getattr(exc, "sqlstate", None)
        known = _classify(str(exc), sqlstate, timeout, label)
        if known:
            raise StockplanError(known) from None
        detail = _scrub(str(exc), url)  # "NOT_FOUND: Failed to prepare query: ERROR: ..."
        detail = detail.split("ERROR:", 1)[-1].split("[libpq]", 1)[-1].strip()
        if stage == "connect":
            raise StockplanError(
                phrase("error.db_cannot_connect", where=place(label), detail=detail)
            ) from None
        raise _failed(label, detail) from None
    return pl.from_arrow(_plain_arrow(table))  # type: ignore[return-value]


def _plain_arrow(table):  # noqa: ANN001, ANN202 - pyarrow is imported with the driver
    """Extension columns (numeric and json arrive as `arrow.opaque` / `arrow.json` over
    text) become their plain storage type, which the readers parse like file cells."""
    import pyarrow as pa

    for index, field in enumerate(table.schema):
        if isinstance(field.type, pa.BaseExtensionType):
            column = table.column(index)
            storage = pa.chunked_array(
                [chunk.storage for chunk in column.chunks], type=field.type.storage_type
            )
            table = table.set_column(index, pa.field(field.name, storage.type), storage)
    return table


def _read_sqlite(url: str, sql: str, timeout: float, label: str) -> pl.DataFrame:
    path = _file_path(url, label)
    deadline = time.monotonic() + timeout
    try:
        connection = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=timeout)
    except sqlite3.Error as exc:
        raise StockplanError(
            phrase("error.db_cannot_open", where=place(label), detail=str(exc))
        ) from None
    # abort the query once past the deadline (checked every 10,000 virtual machine steps)
    connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        cursor = connection.execute(sql)
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
    except sqlite3.Error as exc:
        known = _classify(str(exc), None, timeout, label) if "interrupt" in str(exc) else None
        raise (StockplanError(known) if known else _failed(label, str(exc))) from None
    finally:
        connection.close()
    _check_names(columns, label)
    # SQLite columns may mix types from row to row: those become text, parsed as in a file
    try:
        return pl.DataFrame(
            rows, schema=columns, orient="row", infer_schema_length=None, strict=False
        )
    except (pl.exceptions.SchemaError, pl.exceptions.ComputeError):
        # a binary value (BLOB) among numbers or text: name the first one
        for number, row in enumerate(rows, start=1):
            for column, cell in zip(columns, row, strict=True):
                if isinstance(cell, bytes | bytearray | memoryview):
                    raise StockplanError(
                        phrase("error.db_blob", where=place(label, number, column))
                    ) from None
        raise


def _check_names(columns: list[str], label: str) -> None:
    """A query result naming one column twice cannot be read as a table (a file with a
    header twice is refused the same way)."""
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            raise StockplanError(phrase("error.db_column_twice", where=place(label), column=name))
        seen.add(name)


def _read_duckdb(url: str, sql: str, timeout: float, label: str) -> pl.DataFrame:
    try:
        import duckdb
    except ImportError:
        raise _no_driver(label, "DuckDB") from None
    path = _file_path(url, label)
    try:
        connection = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise StockplanError(
            phrase("error.db_cannot_open", where=place(label), detail=_scrub(str(exc), url))
        ) from None
    timer = threading.Timer(timeout, connection.interrupt)
    timer.start()
    try:
        relation = connection.sql(sql)
        if relation is None:
            raise StockplanError(phrase("error.db_no_result", where=place(label)))
        # DuckDB 2 names it to_arrow_table; 1.x arrow()
        fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
        return pl.from_arrow(_plain_arrow(fetch()))  # type: ignore[return-value]
    except duckdb.InterruptException:
        raise StockplanError(_classify("interrupt", None, timeout, label)) from None
    except duckdb.Error as exc:
        raise _failed(label, _scrub(str(exc), url)) from None
    finally:
        timer.cancel()
        connection.close()


def _read_connectorx(url: str, sql: str, timeout: float, label: str) -> pl.DataFrame:
    """SQL Server (Kingdee, U8) and MySQL / MariaDB (ERPNext) through connectorx, which the
    user installs (`pip install connectorx`); it has no time limit of its own."""
    try:
        import connectorx  # noqa: F401
    except ImportError:
        scheme = url.split(":", 1)[0]
        raise StockplanError(
            phrase("error.db_connectorx", where=place(label), scheme=scheme)
        ) from None
    try:
        return pl.read_database_uri(sql, url, engine="connectorx")
    except Exception as exc:  # connectorx raises plain RuntimeErrors with the driver's text
        known = _classify(str(exc), None, timeout, label)
        raise (StockplanError(known) if known else _failed(label, _scrub(str(exc), url))) from None


READERS = {"postgresql": _read_postgres, "sqlite": _read_sqlite, "duckdb": _read_duckdb}
READERS |= {"connectorx": _read_connectorx}


def _from_config_folder(url: str, base_dir: Path | None) -> str:
    """A database file's url whose `${VAR}` held a relative path (`sqlite:///${DB}`, DB=
    `exports/shop.db`) read from the config's folder `base_dir`, as `sqlite:///exports/shop.db`
    written in the config is; `~` is the home folder. Other urls are returned as they are."""
    scheme, sep, rest = url.partition(":///")
    if base_dir is None or not sep or scheme.lower() not in ("sqlite", "duckdb"):
        return url
    if rest.startswith("~"):
        return f"{scheme}:///{Path(rest).expanduser().as_posix()}"
    if rest and not rest.startswith("/"):
        return f"{scheme}:///{(base_dir / rest).as_posix()}"
    return url


def database_file(spec: DatabaseInput) -> Path | None:
    """The SQLite / DuckDB file a database input reads (its `${VAR}` expanded, a relative
    path from the config's folder), None for a server's url or a variable not set."""
    try:
        url = _from_config_folder(expand_url(spec.url, spec.describe()), spec._base_dir)
    except StockplanError:
        return None
    scheme, sep, rest = url.partition(":///")
    if not sep or scheme.lower() not in ("sqlite", "duckdb") or not rest:
        return None
    return Path(unquote(rest.split("?", 1)[0]))


def read_database(spec: DatabaseInput, label: str) -> pl.DataFrame:
    """Run the input's query (or `SELECT *` of its table) and return the result as is."""
    url = expand_url(spec.url, label)
    url = _from_config_folder(url, spec._base_dir)
    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    if scheme not in SCHEMES:
        raise StockplanError(
            phrase("error.db_unsupported_url", where=place(label), url=redact_url(url))
        )
    sql = spec.query if spec.query is not None else select_all(spec.table or "")
    result = READERS[SCHEMES[scheme]](url, sql, spec.timeout_seconds, label)
    _check_names(result.columns, label)
    return result


def read_database_table(
    name: str,
    spec: DatabaseInput,
    overrides: Mapping[str, str],
    notes: list[str] | None = None,
    identify_by: str = "name",
) -> pl.DataFrame:
    """Load one input table from a database into canonical columns (plus `source_row`),
    mapped and typed as a file is (`identify_by` picks a code or a name column; a number
    read as 0 is told in `notes`).

    Rows are numbered 1, 2, ... in the result's order (there is no header row).
    """
    from stockplan.io.columns import map_headers, type_table
    from stockplan.io.schema import SCHEMAS

    schema = SCHEMAS[name]
    label = spec.describe(name)
    raw = read_database(spec, label)
    mapping = map_headers(raw, schema, overrides, label, identify_by)  # type: ignore[arg-type]
    typed = type_table(raw, schema, mapping, label, header_row=0, notes=notes)  # type: ignore[arg-type]
    if typed.height == 0 and schema.need_rows:
        raise StockplanError(phrase("error.db_no_rows", where=place(label)))
    return typed
