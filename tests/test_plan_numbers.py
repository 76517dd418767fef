"""The plan's numbers on the small shop (tests/conftest.py), through the Python API: order-up-to
levels and quantities against the textbook formula, netting of open orders and allocations,
and transfers before buying."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from scipy import stats

import stockplan


def _order_up_to_by_hand(row: dict) -> float:
    """Periodic review, cycle service 95 % (the default), weekly buckets:
    S = d (L + R) + z sqrt((L + R) sigma_d^2 + d^2 sigma_L^2), sigma_d = sigma_e / sqrt(7),
    z = Phi^-1(0.95) (Silver, Pyke & Thomas ch. 6). d and sigma_e come from the forecast."""
    d, cover = row["forecast_per_day"], row["lead_time_days"] + row["review_days"]
    sigma_d = row["sigma_e"] / 7**0.5
    sigma = (cover * sigma_d**2 + d**2 * row["lead_time_std_days"] ** 2) ** 0.5
    return d * cover + stats.norm.ppf(0.95) * sigma


@pytest.fixture
def shop_plan(small_shop: Path) -> stockplan.Plan:
    config, inputs = stockplan.load(small_shop)
    return stockplan.plan(inputs, config)


def _rows(plan: stockplan.Plan) -> dict[tuple[str, str], dict]:
    return {(r["sku"], r["location"]): r for r in plan.orders.to_dicts()}


def test_order_nets_open_orders_and_allocations_and_rounds_to_moq_and_packs(small_shop: Path):
    config, inputs = stockplan.load(small_shop)
    no_transfers = config.transfers.model_copy(update={"enabled": False})
    rows = _rows(stockplan.plan(inputs, config.model_copy(update={"transfers": no_transfers})))
    wh1 = rows[("A-100", "WH1")]
    # position = 40 on hand + 48 open PO - 5 allocated (the received PO is not on order)
    assert wh1["on_order"] == 48 and wh1["inventory_position"] == 83
    # ~10 a day over L + R = 14 + 7 days -> order up to ~210 + SS; order is in packs of 12
    assert 9 < wh1["forecast_per_day"] < 11
    assert (wh1["lead_time_std_days"], wh1["service_level"]) == (2.0, 0.95)  # suppliers, default
    order_up_to = _order_up_to_by_hand(wh1)
    assert wh1["order_up_to"] == pytest.approx(order_up_to, rel=1e-9)
    # need S - 83 in whole units, at least the MOQ 24, in packs of 12
    assert wh1["order_qty"] == 12 * math.ceil(max(math.floor(order_up_to - 83 + 0.5), 24) / 12)
    assert wh1["order_value"] == pytest.approx(wh1["order_qty"] * 12.5)
    assert wh1["lead_time_days"] == 14 and wh1["supplier"] == "Acme"
    # WH2 holds 500, far above S: nothing to order, and the row says why
    assert rows[("A-100", "WH2")]["order_qty"] == 0
    assert rows[("A-100", "WH2")]["reason"].startswith("no order: position 500 not below")


def test_surplus_in_one_warehouse_is_moved_before_buying(shop_plan):
    rows = _rows(shop_plan)
    wh1, wh2 = rows[("A-100", "WH1")], rows[("A-100", "WH2")]
    # WH1 needs ceil(S1 - 83); WH2 gives from its 500 what lies above its own S2
    # (S from the textbook formula)
    s1, s2 = _order_up_to_by_hand(wh1), _order_up_to_by_hand(wh2)
    (move,) = shop_plan.transfers.to_dicts()
    assert (move["sku"], move["from_location"], move["to_location"]) == ("A-100", "WH2", "WH1")
    need = move["quantity"]
    assert need == math.ceil(s1 - 83)
    assert need <= 500 - s2
    assert (wh1["transfer_qty"], wh2["transfer_qty"]) == (need, -need)
    assert wh1["inventory_position"] == 83 + need and wh1["order_qty"] == 0
    assert wh1["reason"].startswith(f"no order: a transfer in of {need:.0f}")


def test_the_excess_sheet_gives_each_item_the_days_of_cover_of_the_risk_sheet(small_shop: Path):
    # WH2 holds 2,000 of A-100 with 300 of them allocated: excess there, and its days of
    # cover count the stock free to sell after its transfer out, as risk counts them
    stock = small_shop.parent / "stock.csv"
    stock.write_text(stock.read_text().replace("A-100,WH2,500,0", "A-100,WH2,2000,300"))
    config, inputs = stockplan.load(small_shop)
    plan = stockplan.plan(inputs, config)
    excess = {(r["sku"], r["location"]): r for r in plan.tables["excess"].to_dicts()}
    risk = {(r["sku"], r["location"]): r for r in plan.tables["risk"].to_dicts()}
    row = _rows(plan)[("A-100", "WH2")]
    assert row["transfer_qty"] < 0 and ("A-100", "WH2") in excess
    free = 2000 - 300 - row["backorders"] + row["transfer_qty"]
    assert excess[("A-100", "WH2")]["days_of_cover"] == pytest.approx(
        free / row["forecast_per_day"], rel=1e-12
    )
    for key, line in excess.items():
        assert line["days_of_cover"] == pytest.approx(risk[key]["days_of_cover"], rel=1e-12)
