"""Where a lead time and an arrival come from: open purchase orders on the supplier's
calendar, purchase-order lines without a supplier column, suppliers in another currency.

Every expected number is worked out by hand in the test's docstring or comments.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

import stockplan
from stockplan.calendar import arrival_dates, open_days, supplier_closures
from stockplan.cli import app
from stockplan.config import LeadTime
from stockplan.i18n import render_note
from stockplan.leadtime import (
    backup_lead_times,
    open_receipts,
    supplier_lead_time_stats,
    supplier_scorecard,
)

runner = CliRunner()

AS_OF = dt.date(2025, 9, 29)
ORDERED = dt.date(2025, 9, 22)


def _write_shop(folder: Path, first: dt.date, as_of: dt.date, tables: dict[str, str]) -> Path:
    """A shop of one item A at WH1 selling 10 a day at 20 from `first` to the day before
    `as_of`, with the csv `tables` (name -> text) beside; returns its config."""
    days = (as_of - first).days
    sales = "date,sku,location,quantity,unit_price\n" + "".join(
        f"{first + dt.timedelta(days=i)},A,WH1,10,20\n" for i in range(days)
    )
    (folder / "sales.csv").write_text(sales)
    inputs = {"sales": "sales.csv"}
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text)
        inputs[name] = f"{name}.csv"
    settings = {
        "inputs": inputs,
        "planning": {"as_of": as_of.isoformat()},
        "forecast": {"backtest_windows": 2},
    }
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump(settings))
    return config


def _plan(config: Path) -> stockplan.PlanResult:
    cfg, inputs = stockplan.load(config)
    return stockplan.plan(inputs, cfg)


# --- 1. an open purchase order without expected_date follows the supplier's calendar ------


def _open_line(supplier_column: bool = True) -> pl.DataFrame:
    line = {
        "po_id": ["P9"],
        "sku": ["A"],
        "location": ["WH1"],
        "quantity": [300.0],
        "order_date": [ORDERED],
    }
    if supplier_column:
        line["supplier"] = ["S1"]
    return pl.DataFrame(line)


LEAD_TIMES = pl.DataFrame(
    {"sku": ["A"], "location": ["WH1"], "supplier": ["S1"], "lead_time_days": [14.0]}
)


def test_an_open_order_without_expected_date_waits_out_national_day():
    """Ordered Mon 22 Sep 2025 from S1 (L = 14 open days), 国庆节、中秋节 closed 1-8 Oct:
    open days 22-30 Sep are 9, then 9, 10, 11, 12, 13 Oct the 10th-14th; the day after the
    14th open day is 14 Oct (22 Sep + 14 = 6 Oct counted the holiday as open days)."""
    closures = supplier_closures(None, "cn")
    open_po = open_receipts(_open_line(), LEAD_TIMES, AS_OF, closures)
    assert open_po.to_dicts() == [
        {
            "sku": "A",
            "location": "WH1",
            "po_id": "P9",
            "quantity": 300.0,
            "arrival": dt.date(2025, 10, 14),
        }
    ]
    # a new order placed that day arrives the same day: one rule for both
    calendar = open_days(closures, pl.Series(["S1"]), ORDERED, dt.date(2026, 12, 31))
    new_order = pl.DataFrame({"supplier": ["S1"], "day": [ORDERED], "lead": [14.0]})
    arrived = arrival_dates(new_order, calendar, "day", "lead", "arrival")
    assert arrived["arrival"][0] == open_po["arrival"][0]


def test_an_exempt_supplier_and_a_line_without_supplier_follow_the_series_supplier():
    """S1 in calendars.exempt_suppliers keeps working through the holiday: 22 Sep + 14 =
    6 Oct. A line without a supplier column is on its series' supplier's calendar (S1):
    6 Oct when S1 is exempt, 14 Oct when it is not."""
    exempt = supplier_closures(None, "cn", ["S1"])
    assert open_receipts(_open_line(), LEAD_TIMES, AS_OF, exempt)["arrival"][0] == dt.date(
        2025, 10, 6
    )
    no_column = _open_line(supplier_column=False)
    assert open_receipts(no_column, LEAD_TIMES, AS_OF, exempt)["arrival"][0] == dt.date(2025, 10, 6)
    closed = supplier_closures(None, "cn")
    assert open_receipts(no_column, LEAD_TIMES, AS_OF, closed)["arrival"][0] == dt.date(
        2025, 10, 14
    )


def test_an_open_order_waits_out_the_suppliers_own_closure_and_keeps_its_expected_date():
    """No public holidays; S1 closed 24-26 Sep (closures table): open 22, 23 Sep (2), then
    27 Sep - 8 Oct the 3rd-14th, arrival 9 Oct = 6 Oct + the 3 closed days. A line with an
    expected_date keeps it; one overdue on its calendar is due as_of."""
    closures = supplier_closures(
        pl.DataFrame(
            {"supplier": ["S1"], "from": [dt.date(2025, 9, 24)], "to": [dt.date(2025, 9, 26)]}
        ),
        "none",
    )
    lines = pl.concat(
        [
            _open_line(),
            _open_line().with_columns(pl.lit("P8").alias("po_id"), order_date=dt.date(2025, 9, 1)),
        ]
    ).with_columns(expected_date=pl.lit(None, pl.Date))
    lines = pl.concat(
        [
            lines,
            _open_line().with_columns(
                pl.lit("P7").alias("po_id"), expected_date=pl.lit(dt.date(2025, 10, 2))
            ),
        ]
    )
    arrivals = dict(
        open_receipts(lines, LEAD_TIMES, AS_OF, closures).select("po_id", "arrival").iter_rows()
    )
    # P8: 1 Sep + 14 open days = 15 Sep (before the closure), overdue: due as_of
    assert arrivals == {
        "P9": dt.date(2025, 10, 9),
        "P8": AS_OF,
        "P7": dt.date(2025, 10, 2),
    }


def test_the_plan_counts_the_open_order_as_arriving_after_national_day(tmp_path):
    """A sells 10 a day, 50 on hand on 29 Sep 2025: out on 4 Oct (29 Sep - 3 Oct sell the
    50). The open P9 (300, ordered 22 Sep, no expected date, S1 L = 14) arrives 14 Oct on
    the cn calendar, so 4-13 Oct go short: 10 days x 10 = 100 units, x 20 = 2000 of
    revenue. (Counted 22 Sep + 14 = 6 Oct it looked like 20 units short, 400.)"""
    config = _write_shop(
        tmp_path,
        dt.date(2025, 3, 3),
        AS_OF,
        {
            "stock": "sku,location,on_hand\nA,WH1,50\n",
            "products": "sku,name,unit_cost,unit_price,supplier,pack_size,moq\n"
            "A,Item A,10,20,S1,1,0\n",
            "suppliers": "supplier,lead_time_days\nS1,14\n",
            "purchase_orders": "po_id,sku,location,supplier,quantity,order_date\n"
            "P9,A,WH1,S1,300,2025-09-22\n",
        },
    )
    (risk,) = _plan(config).tables["risk"].to_dicts()
    assert risk["stockout_date"] == dt.date(2025, 10, 4)
    assert risk["next_receipt_date"] == dt.date(2025, 10, 14)
    assert risk["restock_eta"] == dt.date(2025, 10, 14)
    assert risk["expected_shortage"] == pytest.approx(100.0)
    assert risk["revenue_at_risk"] == pytest.approx(2000.0)


# --- 2. purchase-order lines without a supplier count for the item's supplier -----------

RECEIVED_WITHOUT_SUPPLIER = (
    "po_id,sku,location,quantity,order_date,expected_date,received_date\n"
    "P1,A,WH1,100,2025-03-03,2025-03-17,2025-03-14\n"  # 11 days
    "P2,A,WH1,100,2025-04-01,2025-04-15,2025-04-12\n"  # 11 days
    "P3,A,WH1,100,2025-05-01,2025-05-15,2025-05-13\n"  # 12 days
    "P4,A,WH1,100,2025-06-02,2025-06-16,2025-06-14\n"  # 12 days
)
PRODUCTS = "sku,name,unit_cost,unit_price,supplier,pack_size,moq\nA,Item A,10,20,S1,1,0\n"


def _history_shop(folder: Path, products: str = PRODUCTS) -> Path:
    return _write_shop(
        folder,
        dt.date(2025, 1, 6),
        dt.date(2025, 7, 7),
        {
            "stock": "sku,location,on_hand\nA,WH1,50\n",
            "products": products,
            "suppliers": "supplier,lead_time_days\nS1,14\n",
            "purchase_orders": RECEIVED_WITHOUT_SUPPLIER,
        },
    )


def test_lines_without_a_supplier_give_the_items_supplier_its_lead_time(tmp_path):
    """Four receipts of A (bought from S1 per products) in 11, 11, 12 and 12 days, in a
    file without a supplier column: L = 11.5, sigma_L = sqrt((4 x 0.5^2) / 3) = 0.577 from
    `sku history` (not suppliers' 14), and the scorecard scores S1 on them (4 receipts,
    all on or before the expected date: on time 1.0)."""
    result = _plan(_history_shop(tmp_path))
    (order,) = result.tables["orders"].to_dicts()
    assert order["supplier"] == "S1"
    assert order["lead_time_source"] == "sku history"
    assert order["lead_time_days"] == pytest.approx(11.5)
    assert order["lead_time_std_days"] == pytest.approx((1 / 3) ** 0.5)
    (score,) = result.tables["suppliers"].to_dicts()
    assert (score["supplier"], score["receipts"]) == ("S1", 4)
    assert score["lead_time_mean_days"] == pytest.approx(11.5)
    assert score["on_time_rate"] == pytest.approx(1.0)
    assert not [n for n in result.notes if n.startswith("suppliers:")]
    # the suppliers command, which reads the purchase orders (and the products for the
    # lines without a supplier) alone, scores the same
    out = tmp_path / "scorecard.csv"
    done = runner.invoke(app, ["suppliers", "-c", str(tmp_path / "config.yaml"), "-o", str(out)])
    assert done.exit_code == 0, done.output
    scored = pl.read_csv(out)
    assert scored.select("supplier", "receipts").rows() == [("S1", 4)]


def test_lines_whose_item_names_no_supplier_say_so(tmp_path):
    """Received lines, but neither they nor products.supplier name a supplier: no
    scorecard, and the note says why (not that nothing was received)."""
    products = "sku,name,unit_cost,unit_price,supplier,pack_size,moq\nA,Item A,10,20,,1,0\n"
    result = _plan(_history_shop(tmp_path, products))
    assert result.tables["suppliers"].height == 0
    note = (
        "suppliers: no scorecard, no received purchase order line has a supplier "
        "(nor does products.supplier for its item)"
    )
    assert note in result.notes
    assert render_note(note, "zh") == (
        "供应商评分：无，已收货的采购单行都没有供应商（商品资料的 supplier 也没有填写）"
    )


def test_a_line_without_supplier_counts_for_the_items_supplier_not_its_backup():
    """Three receipts of A in 10 days without a supplier, A from S1 with backup S2: the
    lines are S1's (3 receipts of 10 days), S2 has no history and plans with suppliers'
    20 days."""
    orders = pl.DataFrame(
        {
            "sku": ["A"] * 3,
            "location": ["WH1"] * 3,
            "quantity": [10.0] * 3,
            "order_date": [dt.date(2025, m, 1) for m in (3, 4, 5)],
            "received_date": [dt.date(2025, m, 11) for m in (3, 4, 5)],
        }
    )
    products = pl.DataFrame({"sku": ["A"], "supplier": ["S1"], "backup_supplier": ["S2"]})
    suppliers = pl.DataFrame({"supplier": ["S1", "S2"], "lead_time_days": [14.0, 20.0]})
    stats = supplier_lead_time_stats(orders, products)
    assert stats.select("supplier", "supp_n", "supp_mean").rows() == [("S1", 3, 10.0)]
    assert supplier_scorecard(orders, None, products)["supplier"].to_list() == ["S1"]
    series = pl.DataFrame({"sku": ["A"], "location": ["WH1"]})
    (backup,) = backup_lead_times(series, products, suppliers, orders, LeadTime()).to_dicts()
    assert (backup["supplier"], backup["lead_time_days"], backup["lead_time_source"]) == (
        "S2",
        20.0,
        "suppliers",
    )


# --- 3. a supplier in another currency: converted with its rate, or refused -------------

CURRENCY_SUPPLIERS = "supplier,lead_time_days,moq_value,currency\nS1,14,500,{currency}\n"


def _currency_shop(folder: Path, currency: str, rates: dict | None = None) -> Path:
    """10 a day, 190 on hand, packs of 100 at unit cost 1: the order of 100 (value 100) is
    below S1's minimum order value of 500 in `currency`."""
    config = _write_shop(
        folder,
        dt.date(2025, 1, 6),
        dt.date(2025, 7, 7),
        {
            "stock": "sku,location,on_hand\nA,WH1,190\n",
            "products": "sku,name,unit_cost,unit_price,supplier,pack_size,moq\n"
            "A,Item A,1,2,S1,100,0\n",
            "suppliers": CURRENCY_SUPPLIERS.format(currency=currency),
        },
    )
    settings = yaml.safe_load(config.read_text())
    settings["calendars"] = {"public_holidays": "none"}
    settings["purchasing"] = {"minimum_order_value": "cheapest"}
    if rates is not None:
        settings["planning"]["exchange_rates"] = rates
    config.write_text(yaml.safe_dump(settings, allow_unicode=True))
    return config


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_supplier_in_another_currency_without_a_rate_is_refused(tmp_path, lang):
    """S1's minimum of 500 USD is not 500 CNY: without planning.exchange_rates the plan
    and validate stop with exit 1 naming suppliers.csv, row 2 (the first data row under
    the header), column 'currency', and write nothing."""
    config = _currency_shop(tmp_path, "USD")
    out = tmp_path / "out"
    for args in (["plan", "-c", str(config), "-o", str(out)], ["validate", "-c", str(config)]):
        done = runner.invoke(app, [*args, "--lang", lang])
        assert done.exit_code == 1, done.output
        (line,) = [x for x in done.output.splitlines() if "currency" in x]
        assert "suppliers.csv" in line and "'currency'" in line
        assert "planning.exchange_rates" in line
        if lang == "en":
            assert "row 2" in line and "'USD', not the planning currency CNY" in line
        else:
            assert "第 2 行" in line and "不是计划币种 CNY" in line
    assert not out.exists()


def test_a_supplier_in_another_currency_is_converted_with_its_rate(tmp_path):
    """planning.exchange_rates {usd: 7.10}: S1's minimum of 500 USD is 500 x 7.10 = 3550
    CNY, so the order of 100 CNY is weighed against 3550 (not topped up by 400 to 500)."""
    config = _currency_shop(tmp_path, " usd ", {"usd": 7.10})
    result = _plan(config)
    (supplier,) = result.tables["supplier_orders"].to_dicts()
    assert supplier["min_order_value"] == pytest.approx(3550.0)
    (order,) = result.tables["orders"].to_dicts()
    assert "minimum order value 3550" in order["reason"]
    assert "topped up by 400" not in order["reason"]


def test_a_suppliers_price_breaks_are_converted_and_the_plans_currency_is_left_alone():
    """USD at 7.10: S1's moq_value 500 -> 3550 and its break of 2.00 -> 14.20; S2 in
    '人民币' (CNY) and S3 blank keep theirs, as does a break without a supplier (read in
    the plan's currency). Every supplier in CNY (written cny, RMB, 元 or blank): the very
    same frames back."""
    from stockplan.config import Config
    from stockplan.io.prepare import in_planning_currency

    suppliers = pl.DataFrame(
        {
            "supplier": ["S1", "S2", "S3"],
            "moq_value": [500.0, 100.0, 50.0],
            "currency": ["USD", "人民币", None],
        }
    )
    breaks = pl.DataFrame(
        {
            "supplier": ["S1", "S2", None],
            "sku": ["A", "B", "C"],
            "min_qty": [100.0, 100.0, 100.0],
            "unit_price": [2.0, 3.0, 4.0],
        }
    )
    config = Config(planning={"exchange_rates": {"USD": 7.10}})
    out = in_planning_currency({"suppliers": suppliers, "price_breaks": breaks}, config)
    assert out["suppliers"]["moq_value"].to_list() == pytest.approx([3550.0, 100.0, 50.0])
    assert out["suppliers"]["currency"].to_list() == ["CNY"] * 3
    assert out["price_breaks"]["unit_price"].to_list() == pytest.approx([14.2, 3.0, 4.0])
    same = suppliers.with_columns(pl.Series("currency", [" cny", "RMB", "元"]))
    tables = {"suppliers": same, "price_breaks": breaks}
    kept = in_planning_currency(tables, Config())
    assert kept["suppliers"] is same and kept["price_breaks"] is breaks


def test_a_suppliers_table_in_the_plans_currency_plans_as_without_the_column(tmp_path):
    """The same shop with S1's currency 'RMB' and with no currency column: the same orders
    (topped up to the minimum of 500 in both)."""
    for name in ("rmb", "plain"):
        (tmp_path / name).mkdir()
    with_column = _plan(_currency_shop(tmp_path / "rmb", "RMB"))
    plain = _currency_shop(tmp_path / "plain", "")
    (tmp_path / "plain" / "suppliers.csv").write_text(
        "supplier,lead_time_days,moq_value\nS1,14,500\n"
    )
    without = _plan(plain)
    assert with_column.tables["orders"].equals(without.tables["orders"])
    assert with_column.tables["orders"]["order_value"].to_list() == [500.0]


# --- 4. the default 春节 closure runs through the seventh day ---------------------------


def test_spring_festival_runs_from_new_years_eve_through_the_seventh_day():
    """The lunar new year (初一) fell or falls on 2025-01-29, 2026-02-17, 2027-02-06 and
    2028-01-26. The 2025 notice closes 除夕 (28 Jan) to 初七 (4 Feb), 8 days; the 2026
    notice 腊月二十八 (15 Feb) to 初七 (23 Feb), 9 days; 2027 and 2028 are projected by the
    2025 rule: 除夕 to 初七, 8 days."""
    from stockplan.calendar import CN_PUBLIC_HOLIDAYS

    spring = {
        first.year: (first, last) for name, first, last in CN_PUBLIC_HOLIDAYS if name == "春节"
    }
    new_year = {
        2025: dt.date(2025, 1, 29),
        2026: dt.date(2026, 2, 17),
        2027: dt.date(2027, 2, 6),
        2028: dt.date(2028, 1, 26),
    }
    for year, first_day in new_year.items():
        first, last = spring[year]
        assert last == first_day + dt.timedelta(days=6), year  # 初七
        eve = 2 if year == 2026 else 1
        assert first == first_day - dt.timedelta(days=eve), year
