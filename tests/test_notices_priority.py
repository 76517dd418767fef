"""VIP customers are served first when stock is short; late orders earn compensation."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from stockplan.config import CompensationRule, Notices, parse_config
from stockplan.errors import StockplanError
from stockplan.notices import restock_notices

AS_OF = dt.date(2025, 3, 3)


def _day(n: int) -> dt.date:
    return AS_OF + dt.timedelta(days=n)


ORDERS = pl.DataFrame(
    {
        "sku": ["A"],
        "location": ["W"],
        "on_hand": [5.0],
        "allocated": [0.0],  # 5 free today
        "order_qty": [0.0],
        "expected_arrival": [_day(14)],
    }
)
OPEN_PO = pl.DataFrame(
    {"sku": ["A"], "location": ["W"], "po_id": ["P1"], "quantity": [20.0], "arrival": [_day(10)]}
)


def _backlog(**extra: list) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "order_id": ["O1", "O2", "O3"],
            "customer": ["ann", "bo", "cy"],
            "sku": ["A"] * 3,
            "location": ["W"] * 3,
            "quantity": [3.0, 4.0, 2.0],
            "order_date": [_day(-5), _day(-1), _day(-3)],
            **extra,
        }
    )


def test_without_tiers_orders_are_first_come_first_served():
    # O1 (3, oldest) and O3 (2) fill the 5 free today; O2 (4, newest) waits for P1
    notices = restock_notices(_backlog(), ORDERS, OPEN_PO, AS_OF)
    assert notices["order_id"].to_list() == ["O2"]


def test_vip_tier_is_served_before_older_regular_orders():
    # O2 is VIP: it takes 4 of the 5 free; then O1 (older) needs 3 + 4 = 7 > 5 and O3 9:
    # both wait for P1 on day 10
    backlog = _backlog(customer_tier=["regular", " VIP ", None])
    notices = restock_notices(backlog, ORDERS, OPEN_PO, AS_OF)
    assert sorted(notices["order_id"].to_list()) == ["O1", "O3"]
    assert notices["expected_fill_date"].to_list() == [_day(10), _day(10)]
    assert notices.filter(pl.col("order_id") == "O1")["customer_tier"].to_list() == ["regular"]


def test_tier_order_ranks_several_tiers_and_priority_wins_over_tier():
    # tier order gold > silver: O3 (silver, 2) is served before O1 (no tier), after O2 (gold)
    backlog = _backlog(customer_tier=[None, "gold", "silver"])
    settings = Notices(tier_order=["gold", "silver"])
    notices = restock_notices(backlog, ORDERS, OPEN_PO, AS_OF, settings)
    # O2 4 + O3 2 = 6 > 5: O3 waits, and O1 (9) waits
    assert sorted(notices["order_id"].to_list()) == ["O1", "O3"]
    # an explicit priority 1 on O1 puts it first: O1 3 ships, O2 3 + 4 = 7 waits
    backlog = _backlog(customer_tier=[None, "gold", "silver"], priority=[1, None, None])
    notices = restock_notices(backlog, ORDERS, OPEN_PO, AS_OF, settings)
    assert sorted(notices["order_id"].to_list()) == ["O2", "O3"]


RULES = Notices(
    compensation=[
        CompensationRule(min_days_late=14, kind="coupon", value=20),
        CompensationRule(min_days_late=1, min_order_value=100, kind="points", value=200),
        CompensationRule(min_days_late=1, tiers=["VIP"], kind="text", text="free delivery"),
    ]
)


def test_compensation_takes_the_first_matching_rule_by_days_late_value_and_tier():
    backlog = pl.DataFrame(
        {
            "order_id": ["late_big", "late_small", "late_vip", "on_time", "uncovered"],
            "sku": ["A"] * 5,
            "location": ["W"] * 5,
            "quantity": [5.0, 1.0, 1.0, 1.0, 50.0],
            "order_date": [_day(-9), _day(-8), _day(-7), _day(-6), _day(-5)],
            # P1 arrives day 10: promised day 5 -> 5 days late; day 12 -> not late
            "promised_date": [_day(5), _day(5), _day(5), _day(12), _day(20)],
            "customer_tier": [None, None, "vip", None, None],
            "unit_price": [30.0, 30.0, None, 30.0, None],
        }
    )
    # nothing free today; served late_vip (VIP, cumulative 1), then by promise: late_big 6,
    # late_small 7, on_time 8 -> all from P1 (20 on day 10); uncovered 58 is beyond it
    orders = ORDERS.with_columns(pl.lit(0.0).alias("on_hand"))
    prices = pl.DataFrame({"sku": ["A"], "unit_price": [200.0]})
    notices = restock_notices(backlog, orders, OPEN_PO, AS_OF, RULES, prices, "CNY")
    got = {
        r["order_id"]: (r["days_late"], r["compensation_type"], r["compensation_value"])
        for r in notices.to_dicts()
    }
    # late_big: 5 days late, value 5 x 30 = 150 >= 100 -> points
    assert got["late_big"] == (5, "points", 200.0)
    # late_small: value 30 < 100, not VIP -> nothing
    assert got["late_small"] == (5, None, None)
    # late_vip: no line price, the product's 200 -> value 200 >= 100: points rule comes first
    assert got["late_vip"] == (5, "points", 200.0)
    # on time (promised after the receipt) -> nothing
    assert got["on_time"] == (0, None, None)
    # not covered yet counts as late beyond every threshold -> the 14-day coupon
    assert got["uncovered"] == (None, "coupon", 20.0)
    texts = dict(zip(notices["order_id"], notices["compensation_text"], strict=True))
    assert texts["uncovered"] == "a coupon worth 20 CNY for the wait"
    assert texts["late_big"] == "200 points for the wait"
    # in the notice's language
    chinese = restock_notices(backlog, orders, OPEN_PO, AS_OF, RULES, prices, "CNY", lang="zh")
    texts = dict(zip(chinese["order_id"], chinese["compensation_text"], strict=True))
    assert texts["uncovered"] == "补偿您的等待：20 CNY 优惠券"
    assert texts["late_big"] == "补偿您的等待：200 积分"


def test_an_order_without_a_promise_is_not_late_and_earns_no_lateness_compensation():
    backlog = pl.DataFrame(
        {
            "order_id": ["promised", "unpromised", "uncovered"],
            "sku": ["A"] * 3,
            "location": ["W"] * 3,
            "quantity": [5.0, 5.0, 50.0],
            "order_date": [_day(-9), _day(-8), _day(-7)],
            "promised_date": [_day(5), None, None],
        }
    )
    # nothing free today: promised (5) and unpromised (10) from P1's 20 on day 10;
    # uncovered (60) is beyond every planned supply
    orders = ORDERS.with_columns(pl.lit(0.0).alias("on_hand"))
    coupon = CompensationRule(min_days_late=4, kind="coupon", value=50)
    notices = restock_notices(backlog, orders, OPEN_PO, AS_OF, Notices(compensation=[coupon]))
    got = {
        r["order_id"]: (r["expected_fill_date"], r["days_late"], r["compensation_type"])
        for r in notices.to_dicts()
    }
    # promised day 5, ships day 10: 10 - 5 = 5 days late >= 4 -> the coupon
    assert got["promised"] == (_day(10), 5, "coupon")
    # no promise: not late (not 10 days counted from as_of), no coupon; same uncovered
    assert got["unpromised"] == (_day(10), None, None)
    assert got["uncovered"] == (None, None, None)
    message = notices.filter(pl.col("order_id") == "unpromised")["message"].item()
    assert message == "Order unpromised: 5 x A is expected to ship on 2025-03-13"
    # a rule for every notice (min_days_late 0) still reaches them; the coupon the late one
    sorry = CompensationRule(min_days_late=0, kind="text", text="sorry for the wait")
    notices = restock_notices(
        backlog, orders, OPEN_PO, AS_OF, Notices(compensation=[coupon, sorry])
    )
    texts = dict(zip(notices["order_id"], notices["compensation_type"], strict=True))
    assert texts == {"promised": "coupon", "unpromised": "text", "uncovered": "text"}


def test_text_compensation_for_a_tier_and_no_rules_means_no_compensation():
    rules = Notices(
        compensation=[
            CompensationRule(min_days_late=1, tiers=["VIP"], kind="text", text="free delivery")
        ]
    )
    backlog = _backlog(customer_tier=["vip", None, None], promised_date=[_day(1)] * 3)
    orders = ORDERS.with_columns(pl.lit(0.0).alias("on_hand"))
    notices = restock_notices(backlog, orders, OPEN_PO, AS_OF, rules)
    got = dict(zip(notices["order_id"], notices["compensation_text"], strict=True))
    assert got == {"O1": "free delivery", "O2": None, "O3": None}
    assert restock_notices(backlog, orders, OPEN_PO, AS_OF)["compensation_type"].null_count() == 3


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"kind": "coupon"}, "needs a value above 0"),
        ({"kind": "text"}, "needs a text"),
        ({"kind": "cash", "value": 5}, "compensation.0.kind"),
    ],
)
def test_incomplete_compensation_rule_is_refused_naming_the_key(rule: dict, message: str):
    raw = {"inputs": {"sales": "s.csv", "stock": "t.csv"}, "notices": {"compensation": [rule]}}
    with pytest.raises(StockplanError, match=message):
        parse_config(raw)
