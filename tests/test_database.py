"""Database inputs: a throwaway PostgreSQL cluster with an Odoo-like schema, SQLite, DuckDB.

The cluster is made with the server's own initdb / pg_ctl in a temporary folder, listens
on a free loopback port only, and is stopped at the end of the session. As root, initdb
refuses to run, so the server runs as an unprivileged user (postgres, else nobody).
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import pwd
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

import stockplan
from stockplan import StockplanError
from stockplan.cli import app
from stockplan.errors import redact_url

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "pw:Sekr3t@42"  # ':' and '@' must be percent-encoded in a url
PASSWORD_IN_URL = "pw%3ASekr3t%4042"
USER = "odoo"
START = dt.date(2025, 3, 3)  # a Monday
DAYS = 26 * 7
AS_OF = START + dt.timedelta(days=DAYS)


# ---------------------------------------------------------------- the throwaway server


def _server_binaries() -> Path:
    """Folder holding initdb and pg_ctl: $STOCKPLAN_PG_BIN, PATH, or the newest Debian one."""
    candidates = [os.environ.get("STOCKPLAN_PG_BIN", "")]
    if shutil.which("initdb"):
        candidates.append(str(Path(shutil.which("initdb") or "").parent))
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
    )[::-1]
    for folder in candidates:
        if folder and all((Path(folder) / tool).is_file() for tool in ("initdb", "pg_ctl")):
            return Path(folder)
    pytest.fail(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin "
        "or on PATH: install them (apt-get install postgresql) or set STOCKPLAN_PG_BIN",
        pytrace=False,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Postgres:
    port: int
    database: str = "odoo"

    def url(self, password: str = PASSWORD_IN_URL, user: str = USER) -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{self.database}"


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A PostgreSQL server on a free loopback port, password login, stopped afterwards."""
    binaries = _server_binaries()
    prefix: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="stockplan-pg-"))
    owner = None
    if os.geteuid() == 0:  # initdb refuses root: run the server as an unprivileged user
        for name in ("postgres", "nobody"):
            try:
                owner = pwd.getpwnam(name)
                break
            except KeyError:
                continue
        if owner is None:
            pytest.fail("running as root and neither user postgres nor nobody exists")
        prefix = ["runuser", "-u", owner.pw_name, "--"]
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    (folder / "pw").write_text(PASSWORD + "\n")
    if owner is not None:
        os.chown(folder / "pw", owner.pw_uid, owner.pw_gid)
    data = folder / "data"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120)

    done = run(
        str(binaries / "initdb"),
        "-D", str(data),
        "-U", USER,
        "--auth=scram-sha-256",
        f"--pwfile={folder / 'pw'}",
        "-E", "UTF8",
        "--locale=C",
        "--no-sync",
    )  # fmt: skip
    if done.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"initdb failed: {done.stderr.strip()}", pytrace=False)
    server = None
    for _attempt in range(3):  # another process may take the free port before we do
        port = _free_port()
        options = f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -F -c max_connections=20"
        started = run(
            str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip
        if started.returncode == 0:
            server = Postgres(port)
            break
    if server is None:
        log = (folder / "log").read_text() if (folder / "log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"pg_ctl start failed: {log.strip()[-500:]}", pytrace=False)
    try:
        _execute(server, "postgres", ["CREATE DATABASE odoo"])
        _create_odoo(server)
        yield server
    finally:
        run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _execute(server: Postgres, database: str, statements: list[str]) -> None:
    import adbc_driver_postgresql.dbapi as pg

    url = f"postgresql://{USER}:{PASSWORD_IN_URL}@127.0.0.1:{server.port}/{database}"
    with pg.connect(url, autocommit=True) as connection, connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


# ---------------------------------------------------------------- an Odoo-like shop

PRODUCTS = pl.DataFrame(
    {
        "id": [1, 2, 3, 4],
        "sku": ["A-100", "007", "C-300", "D-400"],
        "name": ["螺丝 M4", "Slow valve", "Gasket", "Hose 2 m"],
        "unit_price": [2.5, 99.0, 4.0, 30.0],
        "unit_cost": [1.2, 40.0, 1.5, 14.0],
        "lead_time_days": [14, 21, 7, 10],
        "moq": [100.0, 0.0, 50.0, 0.0],
    }
)
WAREHOUSES = {"WH1": 11, "WH2": 12}  # code -> internal stock location id
CUSTOMERS, VENDORS = 5, 4  # location ids of the virtual customer / vendor locations


def _shop() -> dict[str, pl.DataFrame]:
    """Canonical frames of the shop: daily outgoing moves with a few returns, stock, POs."""
    rng = np.random.default_rng(19)
    rates = {"A-100": 30.0, "007": 0.3, "C-300": 6.0, "D-400": 2.0}
    rows = []
    for day in range(DAYS):
        date = START + dt.timedelta(days=day)
        for sku, rate in rates.items():
            for location in ("WH1", "WH2") if sku != "007" else ("WH1",):
                quantity = int(rng.poisson(rate))
                if quantity:
                    rows.append((date, sku, location, float(quantity)))
                if day % 45 == 44 and sku == "A-100":
                    rows.append((date, sku, location, -3.0))  # a customer return
    sales = pl.DataFrame(rows, schema=["date", "sku", "location", "quantity"], orient="row")
    stock = pl.DataFrame(
        {
            "sku": ["A-100", "A-100", "007", "C-300", "C-300", "D-400", "D-400"],
            "location": ["WH1", "WH2", "WH1", "WH1", "WH2", "WH1", "WH2"],
            "on_hand": [120.0, 900.0, 1.0, 10.0, 200.0, 0.0, 25.0],
            "allocated": [10.0, 0.0, 0.0, 0.0, 5.0, 0.0, 0.0],
        }
    )
    purchase_orders = pl.DataFrame(
        {
            "po_id": ["P00001", "P00002", "P00003"],
            "sku": ["A-100", "C-300", "A-100"],
            "location": ["WH1", "WH2", "WH2"],
            "supplier": ["Acme 五金", "Acme 五金", "Acme 五金"],
            "quantity": [300.0, 100.0, 500.0],
            "order_date": [dt.date(2025, 7, 1), dt.date(2025, 8, 18), dt.date(2025, 8, 20)],
            "expected_date": [dt.date(2025, 7, 15), dt.date(2025, 8, 25), dt.date(2025, 9, 3)],
            "received_date": [dt.date(2025, 7, 16), None, None],
        }
    )
    products = PRODUCTS.drop("id").with_columns(supplier=pl.lit("Acme 五金"))
    return {
        "sales": sales,
        "stock": stock,
        "products": products,
        "purchase_orders": purchase_orders,
    }


def _sql(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, dt.date):
        return f"'{value.isoformat()}'"
    return repr(value)


def _insert(table: str, columns: list[str], rows: list[tuple]) -> str:
    values = ",\n".join("(" + ", ".join(_sql(v) for v in row) + ")" for row in rows)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}"


def _create_odoo(server: Postgres) -> None:
    """The Odoo 17 tables the example queries read, filled with the shop of `_shop()`."""
    shop = _shop()
    ddl = [
        "CREATE TABLE res_partner (id int PRIMARY KEY, name varchar NOT NULL)",
        "CREATE TABLE product_template (id int PRIMARY KEY, name jsonb NOT NULL, "
        "list_price numeric, active boolean DEFAULT true)",
        "CREATE TABLE product_product (id int PRIMARY KEY, product_tmpl_id int NOT NULL "
        "REFERENCES product_template, default_code varchar, active boolean DEFAULT true)",
        "CREATE TABLE product_supplierinfo (id serial PRIMARY KEY, partner_id int REFERENCES "
        "res_partner, product_tmpl_id int REFERENCES product_template, sequence int DEFAULT 1, "
        "min_qty numeric DEFAULT 0, price numeric, delay int DEFAULT 1)",
        "CREATE TABLE stock_warehouse (id int PRIMARY KEY, name varchar, code varchar(5), "
        "lot_stock_id int)",
        "CREATE TABLE stock_location (id int PRIMARY KEY, name varchar, usage varchar, "
        "warehouse_id int REFERENCES stock_warehouse)",
        "CREATE TABLE stock_picking_type (id int PRIMARY KEY, code varchar, warehouse_id int)",
        "CREATE TABLE stock_quant (id serial PRIMARY KEY, product_id int REFERENCES "
        "product_product, location_id int REFERENCES stock_location, quantity numeric, "
        "reserved_quantity numeric DEFAULT 0)",
        "CREATE TABLE purchase_order (id int PRIMARY KEY, name varchar, partner_id int, "
        "date_order timestamp, state varchar, picking_type_id int)",
        "CREATE TABLE purchase_order_line (id int PRIMARY KEY, order_id int REFERENCES "
        "purchase_order, product_id int, product_qty numeric, qty_received numeric DEFAULT 0, "
        "date_planned timestamp, price_unit numeric)",
        "CREATE TABLE stock_move (id serial PRIMARY KEY, product_id int, location_id int, "
        "location_dest_id int, product_qty numeric, state varchar, date timestamp, "
        "purchase_line_id int)",
    ]
    ids = dict(zip(PRODUCTS["sku"], PRODUCTS["id"], strict=True))
    data = [
        _insert("res_partner", ["id", "name"], [(1, "Acme 五金"), (2, "A customer")]),
        _insert(
            "product_template",
            ["id", "name", "list_price"],
            [
                (row["id"], f'{{"en_US": "{row["name"]}"}}', row["unit_price"])
                for row in PRODUCTS.iter_rows(named=True)
            ],
        ),
        _insert(
            "product_product",
            ["id", "product_tmpl_id", "default_code"],
            [(row["id"], row["id"], row["sku"]) for row in PRODUCTS.iter_rows(named=True)],
        ),
        _insert(
            "product_supplierinfo",
            ["partner_id", "product_tmpl_id", "sequence", "min_qty", "price", "delay"],
            [
                (1, r["id"], 1, r["moq"], r["unit_cost"], r["lead_time_days"])
                for r in PRODUCTS.iter_rows(named=True)
            ]
            + [(1, 1, 9, 999.0, 9.99, 99)],  # a worse second offer: the query takes sequence 1
        ),
        _insert(
            "stock_warehouse",
            ["id", "name", "code", "lot_stock_id"],
            [(1, "Main", "WH1", 11), (2, "North", "WH2", 12)],
        ),
        _insert(
            "stock_location",
            ["id", "name", "usage", "warehouse_id"],
            [
                (CUSTOMERS, "Customers", "customer", None),
                (VENDORS, "Vendors", "supplier", None),
                (11, "Stock", "internal", 1),
                (12, "Stock", "internal", 2),
                (13, "Stock/Shelf 2", "internal", 1),
            ],
        ),
        _insert(
            "stock_picking_type",
            ["id", "code", "warehouse_id"],
            [(21, "incoming", 1), (22, "incoming", 2)],
        ),
    ]
    # stock: split WH1's quants over two internal locations, as Odoo keeps them per shelf
    quants = []
    for row in shop["stock"].iter_rows(named=True):
        location = WAREHOUSES[row["location"]]
        if row["location"] == "WH1" and row["on_hand"] >= 2:
            half = row["on_hand"] // 2
            quants.append((ids[row["sku"]], location, half, row["allocated"]))
            quants.append((ids[row["sku"]], 13, row["on_hand"] - half, 0.0))
        else:
            quants.append((ids[row["sku"]], location, row["on_hand"], row["allocated"]))
    data.append(
        _insert(
            "stock_quant", ["product_id", "location_id", "quantity", "reserved_quantity"], quants
        )
    )
    moves = []
    for row in shop["sales"].iter_rows(named=True):
        source, target = WAREHOUSES[row["location"]], CUSTOMERS
        quantity = row["quantity"]
        if quantity < 0:  # a return comes back from the customer location
            source, target, quantity = CUSTOMERS, source, -quantity
        stamp = dt.datetime.combine(row["date"], dt.time(10, 30))
        moves.append((ids[row["sku"]], source, target, quantity, "done", stamp.isoformat(), None))
    moves.append((1, 11, CUSTOMERS, 500.0, "cancel", f"{START} 09:00:00", None))  # not done
    orders, lines = [], []
    for n, row in enumerate(shop["purchase_orders"].iter_rows(named=True), start=1):
        picking = 21 if row["location"] == "WH1" else 22
        received = row["quantity"] if row["received_date"] else 0.0
        orders.append((n, row["po_id"], 1, f"{row['order_date']} 08:00:00", "purchase", picking))
        lines.append(
            (n, n, ids[row["sku"]], row["quantity"], received, f"{row['expected_date']} 12:00:00")
        )
        if row["received_date"]:
            moves.append(
                (
                    ids[row["sku"]],
                    VENDORS,
                    WAREHOUSES[row["location"]],
                    row["quantity"],
                    "done",
                    f"{row['received_date']} 15:00:00",
                    n,
                )
            )
    data += [
        _insert(
            "stock_move",
            [
                "product_id",
                "location_id",
                "location_dest_id",
                "product_qty",
                "state",
                "date",
                "purchase_line_id",
            ],
            moves,
        ),
        _insert(
            "purchase_order",
            ["id", "name", "partner_id", "date_order", "state", "picking_type_id"],
            orders,
        ),
        _insert(
            "purchase_order_line",
            ["id", "order_id", "product_id", "product_qty", "qty_received", "date_planned"],
            lines,
        ),
    ]
    _execute(server, "odoo", ddl + data)


# ---------------------------------------------------------------- helpers

runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _config(folder: Path, inputs: dict, **sections: object) -> Path:
    path = folder / "config.yaml"
    raw = {"inputs": inputs, "planning": {"as_of": AS_OF.isoformat()}} | sections
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _load_error(config: Path) -> str:
    """The one-line message `stockplan.load` fails with (the CLI prints it after
    'stockplan: error: '), with no password in it."""
    with pytest.raises(StockplanError) as caught:
        stockplan.load(config)
    message = str(caught.value)
    assert "\n" not in message.strip(), message
    assert PASSWORD not in message and PASSWORD_IN_URL not in message and "Sekr3t" not in message
    return message


def _one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1, result.stderr
    assert len(lines) == 1, result.stderr
    assert PASSWORD not in result.stderr and PASSWORD_IN_URL not in result.stderr
    assert "Sekr3t" not in result.stderr + result.stdout
    return lines[0]


def _csv_inputs(folder: Path) -> dict[str, str]:
    shop = _shop()
    shop["purchase_orders"] = shop["purchase_orders"].with_columns(
        received_quantity=pl.when(pl.col("received_date").is_not_null())
        .then(pl.col("quantity"))
        .otherwise(0.0)
    )
    for name, frame in shop.items():
        frame.write_csv(folder / f"{name}.csv", date_format="%Y-%m-%d")
    return {name: f"{name}.csv" for name in shop}


# ---------------------------------------------------------------- PostgreSQL


def _odoo_example_inputs(postgres: Postgres, monkeypatch: pytest.MonkeyPatch) -> dict:
    """examples/odoo.yaml's inputs, pointed at the throwaway server (password from the
    environment, as the example reads it)."""
    example = yaml.safe_load((REPO / "examples" / "odoo.yaml").read_text(encoding="utf-8"))
    url = f"postgresql://{USER}:${{ODOO_DB_PASSWORD}}@127.0.0.1:{postgres.port}/odoo"
    for spec in example["inputs"].values():
        assert spec["url"] == "postgresql://stockplan_ro:${ODOO_DB_PASSWORD}@odoo-db:5432/odoo"
        spec["url"] = url
    monkeypatch.setenv("ODOO_DB_PASSWORD", PASSWORD_IN_URL)
    return example["inputs"]


def test_validate_reads_the_odoo_example_and_never_prints_the_password(
    postgres: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    config = _config(tmp_path, _odoo_example_inputs(postgres, monkeypatch))
    result = _invoke("validate", "-c", str(config))
    assert result.exit_code == 0, result.stderr
    assert "Sekr3t" not in result.stdout + result.stderr


def test_plan_from_the_odoo_database_equals_the_plan_from_the_same_data_as_csv(
    postgres: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    inputs = _odoo_example_inputs(postgres, monkeypatch)
    sections = {"forecast": {"backtest_windows": 2}}
    (tmp_path / "db").mkdir()
    (tmp_path / "csv").mkdir()
    from_db = _config(tmp_path / "db", inputs, **sections)
    from_csv = _config(tmp_path / "csv", _csv_inputs(tmp_path / "csv"), **sections)

    db_config, db_inputs = stockplan.load(from_db)
    csv_config, csv_inputs = stockplan.load(from_csv)
    db_tables, csv_tables = db_inputs.tables, csv_inputs.tables
    # the cancelled move is not a sale; WH1's two shelves are summed; the worse vendor line
    # (sequence 9) is not taken
    assert db_tables["sales"]["quantity"].sum() == _shop()["sales"]["quantity"].sum()
    stock = db_tables["stock"].sort("sku", "location")
    assert stock.filter(sku="A-100", location="WH1")["on_hand"].item() == 120.0
    assert db_tables["products"].filter(sku="A-100")["lead_time_days"].item() == 14.0
    assert db_tables["products"].filter(sku="A-100")["name"].item() == "螺丝 M4"
    for name, frame in csv_tables.items():
        columns = sorted(frame.columns)
        assert_frame_equal(
            db_tables[name].select(columns).drop("source_row", strict=False).sort(pl.all()),
            frame.select(columns).drop("source_row", strict=False).sort(pl.all()),
        )

    db_plan = stockplan.plan(db_inputs, db_config)
    csv_plan = stockplan.plan(csv_inputs, csv_config)
    for table in ("orders", "risk", "forecast"):
        db, csv = db_plan.tables[table], csv_plan.tables[table]
        assert db.height > 0
        assert_frame_equal(db, csv)
    orders = db_plan.orders
    assert (orders["order_qty"] > 0).any()  # the comparison covers real order lines


def test_query_result_headers_go_through_aliases_columns_mapping_and_typing(
    postgres: Postgres, tmp_path: Path
):
    query = (
        'SELECT p.default_code AS "商品编码", w.code AS "仓库", '
        "to_char(q.quantity, 'FM999990.00') AS qty_text, q.quantity AS on_hand_num "
        "FROM stock_quant q JOIN stock_location l ON l.id = q.location_id "
        "JOIN stock_warehouse w ON w.id = l.warehouse_id "
        "JOIN product_product p ON p.id = q.product_id "
        "WHERE l.id = 12 ORDER BY 1"
    )
    stock = {"url": postgres.url(), "query": query}
    sales = {"url": postgres.url(), "table": "public.stock_move"}
    config = _config(
        tmp_path,
        {"sales": sales, "stock": stock},
        columns={
            "stock": {"qty_text": "on_hand"},
            "sales": {"product_id": "sku", "date": "date", "product_qty": "quantity"},
        },
    )
    tables = stockplan.load(config)[1]
    frame = tables["stock"]
    assert frame.columns == ["sku", "location", "on_hand"]
    assert frame["sku"].to_list() == ["A-100", "C-300", "D-400"]  # 商品编码 -> sku by alias
    assert frame["location"].to_list() == ["WH2", "WH2", "WH2"]  # 仓库 -> location
    assert frame["on_hand"].to_list() == [900.0, 200.0, 25.0]  # text '900.00' -> number
    # rows of a query result are counted from 1 in messages: see the bad-value test below
    sales_frame = tables["sales"]
    assert sales_frame.schema["date"] == pl.Date  # a timestamp column becomes its date
    assert sales_frame.schema["sku"] == pl.String  # an integer id column becomes a code


def test_a_bad_value_in_a_query_result_names_the_input_row_and_column(
    postgres: Postgres, tmp_path: Path
):
    query = (
        "SELECT * FROM (VALUES ('A-100', 'WH1', '12'), ('007', 'WH1', 'lots')) "
        "AS t(sku, location, on_hand)"
    )
    config = _config(
        tmp_path,
        {
            "sales": {"url": postgres.url(), "table": "stock_move"},
            "stock": {"url": postgres.url(), "query": query},
        },
        columns={"sales": {"product_id": "sku", "product_qty": "quantity"}},
    )
    line = _load_error(config)
    assert line == (
        f"inputs.stock (postgresql://odoo:***@127.0.0.1:{postgres.port}/odoo), "
        "row 2, column 'on_hand': 'lots' is not a number"
    )


def test_connection_refused_is_one_line_and_exit_1(tmp_path: Path):
    port = _free_port()  # nothing listens there
    url = f"postgresql://odoo:{PASSWORD_IN_URL}@127.0.0.1:{port}/odoo"
    config = _config(
        tmp_path, {"sales": {"url": url, "table": "s"}, "stock": {"url": url, "table": "t"}}
    )
    line = _one_error_line(_invoke("plan", "-c", str(config), "-o", str(tmp_path / "p.xlsx")))
    assert line == (
        f"stockplan: error: inputs.sales (postgresql://odoo:***@127.0.0.1:{port}/odoo, table s): "
        "connection refused (is the database server running, and the host and port right?)"
    )
    assert not (tmp_path / "p.xlsx").exists()


def test_a_wrong_password_is_one_line_and_exit_1(postgres: Postgres, tmp_path: Path):
    url = postgres.url(password="not-the-password")
    config = _config(
        tmp_path, {"sales": {"url": url, "table": "s"}, "stock": {"url": url, "table": "t"}}
    )
    line = _one_error_line(_invoke("validate", "-c", str(config)))
    assert line.endswith("the database refused the login (check the user and password)")
    assert "not-the-password" not in line


def test_a_query_naming_a_missing_table_is_one_line_and_exit_1(postgres: Postgres, tmp_path: Path):
    url = postgres.url()
    config = _config(
        tmp_path,
        {
            "sales": {"url": url, "query": "SELECT * FROM sale_order_lines"},
            "stock": {"url": url, "table": "t"},
        },
    )
    line = _load_error(config)
    assert line.startswith("inputs.sales (postgresql://odoo:***@127.0.0.1:")
    assert line.endswith('the query failed: relation "sale_order_lines" does not exist')


def test_a_slow_query_stops_at_timeout_seconds_with_one_line(postgres: Postgres, tmp_path: Path):
    url = postgres.url()
    slow = {"url": url, "query": "SELECT pg_sleep(30), 1 AS sku", "timeout_seconds": 1}
    config = _config(tmp_path, {"sales": slow, "stock": {"url": url, "table": "t"}})
    started = time.monotonic()
    line = _load_error(config)
    assert time.monotonic() - started < 10
    assert line.endswith("the query took longer than 1 s (timeout_seconds); it was cancelled")


def test_a_server_that_never_answers_is_a_timeout_not_a_hang(tmp_path: Path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)  # accepts the connection, then says nothing
    port = silent.getsockname()[1]
    url = f"postgresql://odoo:{PASSWORD_IN_URL}@127.0.0.1:{port}/odoo"
    spec = {"url": url, "table": "t", "timeout_seconds": 2}
    config = _config(tmp_path, {"sales": spec, "stock": spec})
    started = time.monotonic()
    try:
        line = _load_error(config)
    finally:
        silent.close()
    assert time.monotonic() - started < 15
    assert line.endswith("no answer from the database server within 2 s (timeout_seconds)")


def test_an_unset_environment_variable_in_a_url_is_named(tmp_path: Path):
    url = "postgresql://odoo:${STOCKPLAN_TEST_UNSET_PW}@127.0.0.1:5432/odoo"
    os.environ.pop("STOCKPLAN_TEST_UNSET_PW", None)
    config = _config(tmp_path, {"sales": {"url": url, "table": "s"}, "stock": "stock.csv"})
    line = _load_error(config)
    assert line == (
        "inputs.sales (postgresql://odoo:***@127.0.0.1:5432/odoo, table s): "
        "environment variable STOCKPLAN_TEST_UNSET_PW is not set"
    )


def test_a_password_with_colon_and_at_from_the_environment_logs_in_as_written(
    postgres: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The variable holds the password as is (`pw:Sekr3t@42`); stockplan percent-encodes it
    into the url, so the driver reads it whole."""
    config = _config(tmp_path, _odoo_example_inputs(postgres, monkeypatch))
    monkeypatch.setenv("ODOO_DB_PASSWORD", PASSWORD)
    result = _invoke("validate", "-c", str(config))
    assert result.exit_code == 0, result.stderr
    assert "Sekr3t" not in result.stdout + result.stderr


def test_a_password_with_slash_and_question_mark_is_never_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    port = _free_port()  # nothing listens there
    url = f"postgresql://ro:${{STOCKPLAN_TEST_PW}}@127.0.0.1:{port}/odoo"
    config = _config(
        tmp_path, {"sales": {"url": url, "table": "s"}, "stock": {"url": url, "table": "t"}}
    )
    for password in ("ab/c?TopSecret99", "p@ss/w?rd", "p"):
        monkeypatch.setenv("STOCKPLAN_TEST_PW", password)
        result = _invoke("validate", "-c", str(config))
        assert result.exit_code == 1, result.stderr
        assert result.stderr.strip() == (
            f"stockplan: error: inputs.sales (postgresql://ro:***@127.0.0.1:{port}/odoo, "
            "table s): connection refused (is the database server running, and the host and "
            "port right?)"
        )


def test_driver_messages_lose_every_piece_of_the_password_and_nothing_else():
    from stockplan.io.database import _scrub

    url = "postgresql://ro:ab/c?TopSecret99@127.0.0.1:1/odoo"
    message = (
        'Failed to connect: missing key/value separator "=" in URI query parameter: '
        '"TopSecret99@127.0.0.1:1/odoo"'
    )
    assert _scrub(message, url) == (
        'Failed to connect: missing key/value separator "=" in URI query parameter: '
        '"***@127.0.0.1:1/odoo"'
    )
    url = "postgresql://ro:p%40ss%2Fw%3Frd@127.0.0.1:1/odoo"
    message = "libpq: missing key/value separator in 'w?rd@127.0.0.1' (p@ss, rd, w)"
    assert _scrub(message, url) == (
        "libpq: missing key/value separator in '***@127.0.0.1' (***, ***, ***)"
    )
    url = "postgresql://ro:p@127.0.0.1:1/odoo"  # a one-letter password: no letter is lost
    assert _scrub("password p rejected by libpq", url) == "password *** rejected by libpq"


def test_an_empty_environment_variable_in_a_database_file_url_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("STOCKPLAN_TEST_DB", "")
    spec = {"url": "sqlite:///${STOCKPLAN_TEST_DB}", "table": "sales"}
    config = _config(tmp_path, {"sales": spec, "stock": spec})
    assert _load_error(config) == (
        "inputs.sales (sqlite:///${STOCKPLAN_TEST_DB}, table sales): environment variable "
        "STOCKPLAN_TEST_DB is set but empty: set it to the folder or name it stands for"
    )


def test_redact_url_hides_passwords_in_the_netloc_and_in_parameters():
    assert redact_url("postgresql://u:p%40ss@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact_url("postgresql://u@h/db?password=x&sslmode=require") == (
        "postgresql://u@h/db?password=***&sslmode=require"
    )
    assert redact_url("sqlite:///data/shop.db") == "sqlite:///data/shop.db"


# ---------------------------------------------------------------- config


def test_a_database_input_needs_query_or_table_and_says_so(tmp_path: Path):
    config = _config(tmp_path, {"sales": {"url": "sqlite:///x.db"}, "stock": "stock.csv"})
    assert _load_error(config) == (
        f"{config}: key 'inputs.sales': give either 'query' or "
        "'table' with a database 'url', not both"
    )


def test_a_mistyped_database_key_names_the_key_without_union_noise(tmp_path: Path):
    spec = {"url": "sqlite:///x.db", "querry": "SELECT 1"}
    config = _config(tmp_path, {"sales": spec, "stock": "stock.csv"})
    assert _load_error(config) == f"{config}: unknown key 'inputs.sales.querry'"


# ---------------------------------------------------------------- SQLite and DuckDB


def _small_tables() -> tuple[pl.DataFrame, pl.DataFrame]:
    days = [START + dt.timedelta(days=i) for i in range(120)]
    sales = pl.DataFrame(
        {"day": [d.isoformat() for d in days], "code": ["000123"] * 120, "qty": [4] * 120}
    )
    stock = pl.DataFrame({"code": ["000123"], "qty": [7.0]})
    return sales, stock


def test_sqlite_tables_relative_to_the_config_are_read_read_only(tmp_path: Path):
    sales, stock = _small_tables()
    with sqlite3.connect(tmp_path / "shop.db") as connection:
        connection.execute("CREATE TABLE sales (day text, code text, qty integer)")
        connection.executemany("INSERT INTO sales VALUES (?, ?, ?)", sales.rows())
        connection.execute("CREATE TABLE stock (code text, qty real)")
        connection.executemany("INSERT INTO stock VALUES (?, ?)", stock.rows())
    url = "sqlite:///shop.db"
    config = _config(
        tmp_path,
        {
            "sales": {"url": url, "query": "SELECT day AS date, code AS sku, qty FROM sales"},
            "stock": {"url": url, "table": "stock"},
        },
        columns={"sales": {"qty": "quantity"}, "stock": {"code": "sku", "qty": "on_hand"}},
    )
    tables = stockplan.load(config)[1]
    assert tables["sales"]["quantity"].sum() == 480.0
    assert tables["sales"]["sku"].unique().to_list() == ["000123"]  # text keeps its zeros
    assert tables["sales"]["date"].min() == START
    assert tables["stock"]["on_hand"].to_list() == [7.0]
    bad = {"url": url, "query": "SELEC oops"}
    broken = _config(tmp_path, {"sales": bad, "stock": {"url": url, "table": "stock"}})
    line = _load_error(broken)
    assert line == (
        f"inputs.sales (sqlite:///{tmp_path.as_posix()}/shop.db): "
        'the query failed: near "SELEC": syntax error'
    )


def test_a_relative_database_file_from_the_environment_is_read_from_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """`sqlite:///${DB}` with DB=`exports/shop.db` is the same file as `sqlite:///exports/
    shop.db` written in the config: the config's folder, not the folder stockplan runs in."""
    sales, stock = _small_tables()
    (tmp_path / "shop" / "exports").mkdir(parents=True)
    with sqlite3.connect(tmp_path / "shop" / "exports" / "shop.db") as connection:
        connection.execute("CREATE TABLE sales (date text, sku text, quantity integer)")
        connection.executemany("INSERT INTO sales VALUES (?, ?, ?)", sales.rows())
        connection.execute("CREATE TABLE stock (sku text, on_hand real)")
        connection.executemany("INSERT INTO stock VALUES (?, ?)", stock.rows())
    url = "sqlite:///${STOCKPLAN_TEST_DB}"
    inputs = {"sales": {"url": url, "table": "sales"}, "stock": {"url": url, "table": "stock"}}
    config = _config(tmp_path / "shop", inputs)
    elsewhere = tmp_path / "elsewhere" / "exports"
    elsewhere.mkdir(parents=True)  # an empty shop.db here would be opened from this folder
    sqlite3.connect(elsewhere / "shop.db").close()
    monkeypatch.chdir(elsewhere.parent)
    monkeypatch.setenv("STOCKPLAN_TEST_DB", "exports/shop.db")
    loaded, tables = stockplan.load(config)[:2]
    assert tables["sales"]["quantity"].sum() == 480.0
    assert tables["stock"]["on_hand"].to_list() == [7.0]
    # and no output may be written over that file (the empty one here is not an input)
    from stockplan.io.writers import add_config_inputs, check_not_inputs, reset_run_inputs

    reset_run_inputs()
    try:
        add_config_inputs(config, loaded)
        check_not_inputs([elsewhere / "shop.db"])
        with pytest.raises(StockplanError, match="would write over the input"):
            check_not_inputs([tmp_path / "shop" / "exports" / "shop.db"])
    finally:
        reset_run_inputs()


def test_a_database_stock_table_picks_code_or_name_by_identify_by_and_tells_a_tiny_number(
    tmp_path: Path,
):
    """A U8-style stock query with both 仓库编码 and 仓库名称 follows `io.identify_by` as a
    file does (it always took the name), and an on-hand of 1e-300 is read as 0 with the
    note a file gets (it became 0 without one)."""
    sales, _ = _small_tables()
    with sqlite3.connect(tmp_path / "shop.db") as connection:
        connection.execute("CREATE TABLE sales (day text, code text, qty integer)")
        connection.executemany("INSERT INTO sales VALUES (?, ?, ?)", sales.rows())
        connection.execute("CREATE TABLE stock (code text, 仓库编码 text, 仓库名称 text, qty real)")
        connection.executemany(
            "INSERT INTO stock VALUES (?, ?, ?, ?)",
            [("000123", "01", "总仓", 7.0), ("000123", "02", "门店仓", 1e-300)],
        )
    url = "sqlite:///shop.db"

    def inputs(location: str) -> dict:
        sold = f"SELECT day AS date, code AS sku, '{location}' AS location, qty FROM sales"
        return {"sales": {"url": url, "query": sold}, "stock": {"url": url, "table": "stock"}}

    columns = {"sales": {"qty": "quantity"}, "stock": {"code": "sku", "qty": "on_hand"}}
    by_code = _config(tmp_path, inputs("01"), columns=columns, io={"identify_by": "code"})
    _, tables = stockplan.load(by_code)
    assert tables["stock"]["location"].to_list() == ["01", "02"]
    assert tables["stock"]["on_hand"].to_list() == [7.0, 0.0]
    where = (
        f"inputs.stock (sqlite:///{tmp_path.as_posix()}/shop.db, table stock), row 2, column 'qty'"
    )
    assert [w for w in tables.warnings if "read as 0" in w] == [
        f"{where} (on_hand): '1e-300' read as 0 (1 such cells in the column): no quantity, "
        "price or time is so near 0; a rounding residue or a damaged cell"
    ]
    by_name = _config(tmp_path, inputs("总仓"), columns=columns, io={"identify_by": "name"})
    assert stockplan.load(by_name)[1]["stock"]["location"].to_list() == ["总仓", "门店仓"]


def test_sqlite_query_past_its_timeout_is_interrupted(tmp_path: Path):
    sqlite3.connect(tmp_path / "empty.db").close()
    endless = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
        "SELECT max(i) AS sku FROM n"
    )
    url = "sqlite:///empty.db"
    spec = {"url": url, "query": endless, "timeout_seconds": 0.5}
    config = _config(tmp_path, {"sales": spec, "stock": spec})
    started = time.monotonic()
    line = _load_error(config)
    assert time.monotonic() - started < 10
    assert line.endswith("the query took longer than 0.5 s (timeout_seconds); it was cancelled")


def test_duckdb_file_tables_are_read_with_the_same_typing(tmp_path: Path):
    import duckdb

    sales, stock = _small_tables()
    with duckdb.connect(str(tmp_path / "shop.duckdb")) as connection:
        connection.execute(
            "CREATE TABLE sales AS SELECT CAST(day AS DATE) AS 单据日期, code AS 商品编码, "
            "qty AS 数量 FROM sales"
        )
        connection.execute("CREATE TABLE stock AS SELECT code AS sku, qty AS on_hand FROM stock")
    url = "duckdb:///shop.duckdb"
    config = _config(
        tmp_path, {"sales": {"url": url, "table": "sales"}, "stock": {"url": url, "table": "stock"}}
    )
    tables = stockplan.load(config)[1]
    assert tables["sales"].schema["date"] == pl.Date
    assert tables["sales"]["quantity"].sum() == 480.0
    assert tables["stock"]["sku"].to_list() == ["000123"]
    missing = _config(
        tmp_path, {"sales": {"url": "duckdb:///nope.duckdb", "table": "x"}, "stock": "s.csv"}
    )
    line = _load_error(missing)
    assert line == (
        f"inputs.sales (duckdb:///{tmp_path.as_posix()}/nope.duckdb, table x): "
        f"database file {tmp_path}/nope.duckdb not found"
    )


def test_a_missing_sqlite_file_and_an_unknown_scheme_are_one_line(tmp_path: Path):
    spec = {"url": "oracle://u:secret@h/db", "table": "x"}
    config = _config(tmp_path, {"sales": spec, "stock": spec})
    line = _load_error(config)
    assert "unsupported database url 'oracle://u:***@h/db'" in line and "secret" not in line
    spec = {"url": "sqlite:///missing.db", "table": "x"}
    config = _config(tmp_path, {"sales": spec, "stock": spec})
    assert _load_error(config).endswith(f"database file {tmp_path}/missing.db not found")


def test_stockplan_error_is_the_type_database_problems_raise(tmp_path: Path):
    nowhere = {"url": "sqlite:///nowhere.db", "table": "s"}
    config = stockplan.load_config(_config(tmp_path, {"sales": nowhere, "stock": "x.csv"}))
    with pytest.raises(StockplanError, match="nowhere.db not found"):
        stockplan.read_inputs(config)


def test_sql_server_without_connectorx_installed_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import sys

    monkeypatch.setitem(sys.modules, "connectorx", None)  # as on a machine without it
    spec = {"url": "mssql://sa:secret@kingdee-db:1433/AIS20240101", "table": "t_ICItem"}
    config = _config(tmp_path, {"sales": spec, "stock": spec})
    line = _load_error(config)
    assert line == (
        "inputs.sales (mssql://sa:***@kingdee-db:1433/AIS20240101, table "
        "t_ICItem): reading mssql:// needs connectorx: pip install connectorx"
    )


def test_duckdb_query_past_its_timeout_is_interrupted(tmp_path: Path):
    import duckdb

    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    endless = "SELECT count(*) AS sku FROM range(1000000000000) a WHERE a.range % 7 = 3"
    spec = {"url": "duckdb:///empty.duckdb", "query": endless, "timeout_seconds": 0.5}
    config = _config(tmp_path, {"sales": spec, "stock": spec})
    started = time.monotonic()
    line = _load_error(config)
    assert time.monotonic() - started < 20
    assert line.endswith("the query took longer than 0.5 s (timeout_seconds); it was cancelled")


def test_cross_table_checks_name_a_database_input_like_a_file(tmp_path: Path):
    with sqlite3.connect(tmp_path / "shop.db") as connection:
        connection.execute("CREATE TABLE sales (date text, sku text, quantity real)")
        connection.executemany(
            "INSERT INTO sales VALUES (?, ?, ?)",
            [("2025-06-02", "A-1", 3.0), ("2025-06-03", "ZZ-9", 1.0)],
        )
    pl.DataFrame({"sku": ["A-1"], "on_hand": [5]}).write_csv(tmp_path / "stock.csv")
    pl.DataFrame({"sku": ["A-1"], "name": ["Known"]}).write_csv(tmp_path / "products.csv")
    inputs = {
        "sales": {"url": "sqlite:///shop.db", "table": "sales"},
        "stock": "stock.csv",
        "products": "products.csv",
    }
    line = _load_error(_config(tmp_path, inputs))
    assert line.startswith(
        f"inputs.sales (sqlite:///{tmp_path.as_posix()}/shop.db, table sales), "
        "row 2, column 'sku': 'ZZ-9' is not in the products table"
    )


def test_missing_server_binaries_fail_the_fixture_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.delenv("STOCKPLAN_PG_BIN", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(glob, "glob", lambda pattern: [])
    with pytest.raises(pytest.fail.Exception, match=r"PostgreSQL server binaries \(initdb, pg_ctl"):
        _server_binaries()


def test_duckdb_timestamps_with_a_time_zone_fall_on_their_own_local_date(tmp_path: Path):
    """A TIMESTAMPTZ sale at midnight in Shanghai (`2025-03-03 00:00:00+08`) arrives on
    the session's clock; its UTC date was taken, March 2: every sale a day early, the plan
    a day behind and its daily rate diluted."""
    import sys

    import duckdb

    sales, stock = _small_tables()
    with duckdb.connect(str(tmp_path / "shop.duckdb")) as connection:
        connection.execute(
            "CREATE TABLE sales AS SELECT CAST(day || ' 00:00:00+08' AS TIMESTAMPTZ) AS date, "
            "code AS sku, qty AS quantity FROM sales"
        )
        connection.execute("CREATE TABLE stock AS SELECT code AS sku, qty AS on_hand FROM stock")
    url = "duckdb:///shop.duckdb"
    config = _config(
        tmp_path, {"sales": {"url": url, "table": "sales"}, "stock": {"url": url, "table": "stock"}}
    )
    # DuckDB gives the values on the clock of the machine's time zone: the shop's
    read = (
        "import stockplan, sys; s = stockplan.load(sys.argv[1])[1]['sales']; "
        "print(s['date'].min(), s['date'].max(), s['date'].n_unique())"
    )
    shown = subprocess.run(
        [sys.executable, "-c", read, str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TZ": "Asia/Shanghai"},
        check=True,
    ).stdout.split()
    assert shown == [START.isoformat(), (START + dt.timedelta(days=119)).isoformat(), "120"]


@pytest.mark.parametrize("database", ["sqlite", "duckdb"])
def test_an_integer_yyyymmdd_date_column_reads_as_its_text_does(tmp_path: Path, database: str):
    """ERPs keep dates as INTEGER 20250303 (U8, Kingdee): it was taken as an Excel serial
    and refused as implausible, though the text '20250303' reads; a serial stays one."""
    import duckdb

    sales, stock = _small_tables()
    compact = [int(d.replace("-", "")) for d in sales["day"]]
    serials = [(dt.date.fromisoformat(d) - dt.date(1899, 12, 30)).days for d in sales["day"]]
    rows = list(zip(compact, serials, sales["code"], sales["qty"], strict=True))
    create = "CREATE TABLE sales (day INTEGER, serial INTEGER, sku TEXT, quantity INTEGER)"
    if database == "sqlite":
        with sqlite3.connect(tmp_path / "shop.db") as connection:
            connection.execute(create)
            connection.executemany("INSERT INTO sales VALUES (?, ?, ?, ?)", rows)
            connection.execute("CREATE TABLE stock (sku TEXT, on_hand REAL)")
            connection.executemany("INSERT INTO stock VALUES (?, ?)", stock.rows())
        url = "sqlite:///shop.db"
    else:
        with duckdb.connect(str(tmp_path / "shop.duckdb")) as connection:
            connection.execute(create)
            connection.executemany("INSERT INTO sales VALUES (?, ?, ?, ?)", rows)
            connection.execute("CREATE TABLE stock (sku TEXT, on_hand DOUBLE)")
            connection.executemany("INSERT INTO stock VALUES (?, ?)", stock.rows())
        url = "duckdb:///shop.duckdb"
    days = [dt.date.fromisoformat(d) for d in sales["day"]]
    for column in ("serial", "day"):  # validate below runs on the YYYYMMDD one
        query = f"SELECT {column} AS date, sku, quantity FROM sales"
        config = _config(
            tmp_path,
            {"sales": {"url": url, "query": query}, "stock": {"url": url, "table": "stock"}},
        )
        assert stockplan.load(config)[1]["sales"]["date"].to_list() == days, column
    result = CliRunner().invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == 0, result.output
