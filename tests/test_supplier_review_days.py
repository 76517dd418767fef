"""A supplier's own review period (`suppliers.review_days`): its items protect L + its R."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from conftest import add_fast_mover, make_small_shop
from scipy.stats import norm
from typer.testing import CliRunner

import stockplan
from stockplan.cli import app
from stockplan.lead_time_demand import bootstrap_lead_time_demand, window_lead_time_demand

runner = CliRunner()

MONTHLY = "supplier,lead_time_days,lead_time_std_days,review_days\nAcme,14,2.0,{acme}\n"
"""The small shop's suppliers with a review_days column; Monthly is added below."""


def _shop(folder: Path, acme: str, monthly: str | None) -> Path:
    """The small shop with A-100 bought from Monthly (L 10 days, sigma_L 1, R `monthly`)
    and 007 from Acme (R `acme`; None: no review_days column at all), normal levels
    (`lead_time_demand: parametric`) and no public holidays."""
    config = make_small_shop(folder)
    products = folder / "products.csv"
    products.write_text(
        products.read_text().replace("Steady item,12.5,25.0,Acme", "Steady item,12.5,25.0,Monthly")
    )
    if monthly is None:
        (folder / "suppliers.csv").write_text(
            "supplier,lead_time_days,lead_time_std_days\nAcme,14,2.0\nMonthly,10,1.0\n"
        )
    else:
        (folder / "suppliers.csv").write_text(
            MONTHLY.format(acme=acme) + f"Monthly,10,1.0,{monthly}\n"
        )
    settings = yaml.safe_load(config.read_text())
    settings["policy"] = {"lead_time_demand": "parametric"}
    settings["calendars"] = {"public_holidays": "none"}
    config.write_text(yaml.safe_dump(settings))
    return config


def _orders(config: Path) -> pl.DataFrame:
    cfg, inputs = stockplan.load(config)
    return stockplan.plan(inputs, cfg).orders.sort("sku", "location")


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    """The orders without the column, with Monthly on 28 days (Acme's cell blank), and
    with Monthly's cell blank (Acme on 14 days)."""
    return {
        name: _orders(_shop(tmp_path_factory.mktemp(name), acme, monthly))
        for name, acme, monthly in (
            ("without", "", None),
            ("monthly", "", "28"),
            ("blank", "14", ""),
        )
    }


LEVELS = ["sku", "location", "review_days", "safety_stock", "order_up_to", "order_qty"]


def test_the_28_day_suppliers_item_protects_lead_time_plus_28_days(plans):
    rows = plans["monthly"].filter(pl.col("sku") == "A-100")
    assert rows.height == 2
    z = norm.ppf(0.95)
    for row in rows.iter_rows(named=True):
        lead, review = row["lead_time_days"], 28.0
        assert (lead, row["review_days"]) == (10.0, review)
        # S = d (L + R) + z sigma_LTD, sigma_LTD^2 = (L + R) sigma_d^2 + d^2 sigma_L^2
        # (policy.py; Silver, Pyke & Thomas ch. 6), sigma_d = sigma_e / sqrt(7 days)
        d, sigma_d = row["forecast_per_day"], row["sigma_e"] / math.sqrt(7)
        sigma = math.sqrt((lead + review) * sigma_d**2 + d**2 * 1.0**2)
        assert row["sigma_lead_time_demand"] == pytest.approx(sigma, rel=1e-9)
        assert row["safety_stock"] == pytest.approx(z * sigma, rel=1e-9)
        assert row["order_up_to"] == pytest.approx(d * (lead + review) + z * sigma, rel=1e-9)
    # the same item under the policy's 7 days protects 21 days' demand less
    weekly = plans["without"].filter(pl.col("sku") == "A-100")
    assert weekly["review_days"].to_list() == [7.0, 7.0]
    gained = rows["order_up_to"] - weekly["order_up_to"]
    assert (gained > 21 * weekly["forecast_per_day"] * 0.9).all()
    # Acme's item, its cell blank, is planned as without the column
    acme = [plan.filter(pl.col("sku") == "007").select(LEVELS) for plan in plans.values()]
    assert acme[1].equals(acme[0]) and acme[0]["review_days"].to_list() == [7.0]


def test_a_blank_review_days_cell_is_the_policys_beside_another_suppliers_own(plans):
    blank, without = plans["blank"], plans["without"]
    steady = pl.col("sku") == "A-100"
    assert blank.filter(steady).equals(without.filter(steady))
    assert blank.filter(~steady)["review_days"].to_list() == [14.0]


BAD_CELLS = [
    (
        "0",
        "'0' is not a review period: give the days between orders, above 0 and at most "
        "365, or leave the cell empty for policy.review_days",
        "'0' 不是订货周期：请填写两次订货之间的天数，大于 0 且不超过 365，或留空以使用 "
        "policy.review_days",
    ),
    ("-14", "'-14' is not a review period", "'-14' 不是订货周期"),
    ("400", "'400' is not a review period", "'400' 不是订货周期"),
    ("monthly", "'monthly' is not a number", "'monthly'"),
]


def test_a_bad_review_days_cell_is_refused_naming_file_row_and_column(tmp_path: Path):
    for cell, en, zh in BAD_CELLS:
        config = _shop(tmp_path, "7", cell)
        suppliers = tmp_path / "suppliers.csv"
        for lang, text in (("en", en), ("zh", zh)):
            result = runner.invoke(
                app, ["plan", "-c", str(config), "-o", str(tmp_path / "out"), "--lang", lang]
            )
            assert result.exit_code != 0, (cell, result.output)
            lines = [line for line in result.output.splitlines() if line.strip()]
            assert len(lines) == 1, result.output
            place = (
                f"{suppliers}, row 3, column 'review_days'"
                if lang == "en"
                else f"{suppliers}，第 3 行，列 'review_days'"
            )
            assert place in lines[0] and text in lines[0], lines[0]
            assert not (tmp_path / "out").exists()


def test_validate_says_nothing_of_a_suppliers_own_review_period(tmp_path: Path):
    config = _shop(tmp_path, "7", "28")
    result = runner.invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "review_days" not in result.output


def test_a_switch_to_the_backup_supplier_takes_the_backups_review_period(tmp_path: Path):
    # C-300 runs out long before Slow (42 days, ordered every 28) could deliver: its
    # order goes to Fast (7 days, ordered every 14), whose R it then protects
    config = _shop(tmp_path, "", "")
    add_fast_mover(tmp_path, {"WH1": 10})
    (tmp_path / "suppliers.csv").write_text(
        "supplier,lead_time_days,review_days\nAcme,14,\nMonthly,10,\nSlow,42,28\nFast,7,14\n"
    )
    row = _orders(config).filter(pl.col("sku") == "C-300").row(0, named=True)
    assert (row["supplier"], row["lead_time_days"], row["review_days"]) == ("Fast", 7.0, 14.0)
    assert "backup supplier Fast instead of Slow" in row["reason"]
    protected = row["forecast_per_day"] * (7 + 14) + row["safety_stock"]
    assert row["order_up_to"] == pytest.approx(protected, rel=1e-9)


def test_each_series_draws_its_own_lead_time_plus_review_period():
    # one unit sold every day: every draw of a series over L = 5 and its own R sums to
    # 5 and R exactly, by single days and by whole windows alike
    keys = pl.DataFrame({"sku": ["W", "M"], "location": ["X", "X"]})
    daily = np.ones((2, 120))
    lead, spread, review = np.array([5.0, 5.0]), np.zeros(2), np.array([7.0, 28.0])
    for draw in (bootstrap_lead_time_demand, window_lead_time_demand):
        ltd = draw(keys, daily, lead, spread, review, 50)
        assert (ltd.lead == 5).all(), draw.__name__
        assert (ltd.review[0] == 7).all() and (ltd.review[1] == 28).all(), draw.__name__
        # a series draws the same over its R among others as alone
        alone = draw(keys[1:], daily[1:], lead[1:], spread[1:], 28, 50)
        assert np.array_equal(alone.review[0], ltd.review[1]), draw.__name__
