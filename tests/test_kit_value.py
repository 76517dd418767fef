"""A kit component's ABC value counts its own sales only: the units its kits sold carry
the kit's revenue, which is not split over the components. Numbers by hand."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import polars as pl
import pytest
from conftest import write_shop_config
from typer.testing import CliRunner

from stockplan.cli import app
from stockplan.config import Classify

AS_OF = dt.date(2025, 10, 13)  # a Monday
START = dt.date(2025, 1, 6)  # 280 days, 40 weeks before as_of


def _kit_shop(folder: Path) -> Path:
    """Kit K (1 a day at 60) = 2 x C1 + 1 x C2; C1 also sells 2 a day at 20 itself, C2
    never sells itself (price 10, cost 5); one warehouse, every day from START."""
    days = [START + dt.timedelta(days=i) for i in range((AS_OF - START).days)]
    pl.concat(
        [
            pl.DataFrame({"date": days, "sku": "K", "qty": 1, "price": 60.0}),
            pl.DataFrame({"date": days, "sku": "C1", "qty": 2, "price": 20.0}),
        ]
    ).with_columns(pl.lit("WH1").alias("warehouse")).write_csv(folder / "sales.csv")
    pl.DataFrame(
        {"sku": ["K", "C1", "C2"], "location": "WH1", "on_hand": [5, 50, 20], "allocated": 0}
    ).write_csv(folder / "stock.csv")
    pl.DataFrame(
        {
            "sku": ["K", "C1", "C2"],
            "name": ["Kit", "Part 1", "Part 2"],
            "unit_cost": [30.0, 10.0, 5.0],
            "unit_price": [60.0, 20.0, 10.0],
            "supplier": "Acme",
        }
    ).write_csv(folder / "products.csv")
    pl.DataFrame(
        {"kit_sku": ["K", "K"], "component_sku": ["C1", "C2"], "quantity": [2, 1]}
    ).write_csv(folder / "bom.csv")
    return write_shop_config(folder, AS_OF, ["sales", "stock", "products", "bom"])


def test_a_component_sold_only_in_kits_has_no_abc_value_of_its_own(tmp_path: Path):
    """C1's own sales: 2 x 280 days x 20 = 11200 (its 560 kit units carry no revenue of
    its own); C2 sold 280 units, all in kits: value 0, class C (it was 280 x 10 = 2800,
    class B)."""
    result = CliRunner().invoke(
        app,
        ["classify", "-c", str(_kit_shop(tmp_path)), "-o", "-", "-q", "--no-cache"]
        + ["--columns", "sku,annual_value,abc,kit_share"],
    )
    assert result.exit_code == 0, result.output
    rows = {r[0]: r[1:] for r in pl.read_csv(io.StringIO(result.stdout)).iter_rows()}
    assert rows["C1"] == (11200, "A", 0.5)
    assert rows["C2"] == (0, "C", 1.0)


def test_unpriced_buckets_value_only_the_components_own_units():
    """Sales without prices, C valued at 10 a unit; K = 3 x C. Week of 22 Sep: C sells 3
    itself and K 2 (6 units of C): 9 units, own share 3/9. Week of 29 Sep: K 1 (3 units),
    own share 0. Week of 6 Oct: a stockout all week, demand imputed at (9 + 3) / 2 = 6, no
    lines: the series' own share 3 / 12. Value (9 x 1/3 + 3 x 0 + 6 x 1/4) x 10 = 45,
    not the 18 x 10 = 180 of every unit."""
    from stockplan.bom import kit_component_sales, with_own_share
    from stockplan.demand import demand_history
    from stockplan.segmentation import classify_demand

    sales = pl.DataFrame(
        {
            "date": [dt.date(2025, 9, 22), dt.date(2025, 9, 23), dt.date(2025, 9, 30)],
            "sku": ["C", "K", "K"],
            "location": "WH1",
            "quantity": [3.0, 2.0, 1.0],
        }
    )
    bom = pl.DataFrame({"kit_sku": ["K"], "component_sku": ["C"], "quantity": [3.0]})
    lines = kit_component_sales(sales, bom)
    stockout = pl.DataFrame(
        {
            "sku": "C",
            "location": "WH1",
            "date": [dt.date(2025, 10, 6) + dt.timedelta(days=i) for i in range(7)],
            "reason": "stockout",
        }
    )
    history = demand_history(lines, AS_OF, "week", stockout)
    assert history["demand"].to_list() == [9.0, 3.0, 6.0]
    valued = with_own_share(history, lines, AS_OF, "week")
    assert valued["own_share"].to_list() == pytest.approx([1 / 3, 0.0, 0.25])
    unit_value = pl.DataFrame({"sku": ["C"], "unit_value": [10.0]})
    classes = classify_demand(valued, AS_OF, "week", Classify(), unit_value)
    assert classes["annual_value"].to_list() == pytest.approx([45.0])
    assert classes["abc_basis"].to_list() == ["value"]
