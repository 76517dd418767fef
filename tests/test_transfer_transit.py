"""A planned transfer takes transit days to land: the receiver counts it in its position at
once, in its stock only from the arrival date (risk, restock notices, explain's projection),
and a transfer slower than a new order is not made. Numbers worked out by hand."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from stockplan.config import Risk, Transfers, parse_config
from stockplan.errors import StockplanError
from stockplan.notices import restock_notices
from stockplan.projection import stock_projection
from stockplan.risk import restock_eta, stockout_risk
from stockplan.transfers import plan_transfers, rebalance, slow_receivers

AS_OF = dt.date(2025, 3, 3)
NO_PO = pl.DataFrame(
    schema={"sku": pl.String, "location": pl.String, "quantity": pl.Float64, "arrival": pl.Date}
)


def _day(n: int) -> dt.date:
    return AS_OF + dt.timedelta(days=n)


def _rows() -> pl.DataFrame:
    # D holds 130, order-up-to 50: surplus 80. R holds 0 (reorder point 50, order-up-to 70):
    # needs 70; a new order lands on 17 Mar (14-day lead time).
    return pl.DataFrame(
        {
            "sku": ["A", "A"],
            "location": ["D", "R"],
            "on_hand": [130.0, 0.0],
            "allocated": [0.0, 0.0],
            "backorders": [0.0, 0.0],
            "inventory_position": [130.0, 0.0],
            "reorder_point": [50.0, 50.0],
            "order_up_to": [50.0, 70.0],
            "forecast_per_day": [1.0, 1.0],
            "expected_arrival": [_day(14), _day(14)],
        }
    )


def test_a_transfer_lands_after_its_transit_days_per_receiving_location():
    moves = plan_transfers(_rows(), Transfers(transit_days=3), AS_OF)
    assert moves.columns[:5] == ["sku", "from_location", "to_location", "quantity", "reason"]
    assert moves.select("from_location", "to_location", "quantity", "arrival_date").rows() == [
        ("D", "R", 70.0, dt.date(2025, 3, 6))  # 3 Mar + 3 days
    ]
    # R's own setting wins over the default; 2.5 days round half up to 3
    far = plan_transfers(_rows(), Transfers(transit_days=1, transit_days_to={"R": 2.5}), AS_OF)
    assert far["arrival_date"].to_list() == [dt.date(2025, 3, 6)]
    # without a transit time it lands today, as before
    assert plan_transfers(_rows(), Transfers(), AS_OF)["arrival_date"].to_list() == [AS_OF]


def test_a_transfer_slower_than_a_new_order_is_not_made_and_named():
    settings = Transfers(transit_days_to={"R": 20})
    # 3 Mar + 20 = 23 Mar lands after the new order's 17 Mar: R buys instead
    assert plan_transfers(_rows(), settings, AS_OF).height == 0
    (slow,) = slow_receivers(_rows(), settings, AS_OF).to_dicts()
    assert (slow["sku"], slow["to_location"]) == ("A", "R")
    assert (slow["arrival_date"], slow["order_arrival"]) == (_day(20), _day(14))
    # landing the same day as the order still goes: as soon, and no money spent
    tie = Transfers(transit_days=14)
    assert plan_transfers(_rows(), tie, AS_OF)["quantity"].to_list() == [70.0]
    assert slow_receivers(_rows(), tie, AS_OF).height == 0


def test_a_slow_lane_leaves_the_surplus_to_a_receiver_it_reaches_in_time():
    # R2 (short by 30, a new order in 14 days) is far: 20 days. R (short by 70) is near.
    rows = pl.concat(
        [
            _rows(),
            _rows()
            .filter(pl.col("location") == "R")
            .with_columns(
                pl.lit("R2").alias("location"),
                pl.lit(40.0).alias("order_up_to"),
                pl.lit(10.0).alias("inventory_position"),
                pl.lit(10.0).alias("on_hand"),
            ),
        ]
    )
    settings = Transfers(transit_days=2, transit_days_to={"R2": 20})
    moves = plan_transfers(rows, settings, AS_OF)
    # D's 80 all could go; only R is reached in time and takes its 70
    assert moves.select("to_location", "quantity", "arrival_date").rows() == [("R", 70.0, _day(2))]


def _three_warehouses() -> pl.DataFrame:
    """Two donors and three short locations of item A; a new order lands on day 14 at each.

    - FAR holds 130, order-up-to 50: surplus 80 (the largest, it gives first).
    - NEAR holds 60, order-up-to 30: surplus 30.
    - R needs 70 (position 0, order-up-to 70), R2 needs 30 (10 -> 40), R3 needs 20."""
    return pl.DataFrame(
        {
            "sku": ["A"] * 5,
            "location": ["FAR", "NEAR", "R", "R2", "R3"],
            "on_hand": [130.0, 60.0, 0.0, 10.0, 0.0],
            "allocated": [0.0] * 5,
            "backorders": [0.0] * 5,
            "inventory_position": [130.0, 60.0, 0.0, 10.0, 0.0],
            "reorder_point": [50.0, 30.0, 50.0, 30.0, 15.0],
            "order_up_to": [50.0, 30.0, 70.0, 40.0, 20.0],
            "forecast_per_day": [1.0] * 5,
            "expected_arrival": [_day(14)] * 5,
        }
    )


def test_each_lane_takes_its_own_days_and_a_donor_gives_only_over_lanes_in_time():
    """Lanes FAR -> R and FAR -> R3 take 20 days (after the new order of day 14); FAR -> R2
    takes 5; NEAR -> R 2 days, wins over R's own 9; NEAR -> R3 takes R3's 9 days, NEAR ->
    R2 the default 1.

    Each receiver asks the donor that lands soonest first: R, R2 and R3 all ask NEAR, whose
    30 go to the largest need, R (70). Then R2 asks FAR (5 days) and gets its 30. R3 gets
    nothing, though NEAR reaches it in time: NEAR's surplus went to R first."""
    settings = Transfers(
        transit_days=1,
        transit_days_to={"R": 9, "R3": 9},
        transit_days_between={"FAR": {"R": 20, "R3": 20, "R2": 5}, "NEAR": {"R": 2}},
    )
    moves = plan_transfers(_three_warehouses(), settings, AS_OF)
    assert moves.select("from_location", "to_location", "quantity", "arrival_date").rows() == [
        ("NEAR", "R", 30.0, _day(2)),
        ("FAR", "R2", 30.0, _day(5)),
    ]
    assert slow_receivers(_three_warehouses(), settings, AS_OF).height == 0  # NEAR reaches all
    # the same without lanes: R's 9 days and the default 1 day, every donor as soon as the
    # other, so the largest surplus first: FAR gives R all 70 first (largest need), then its
    # last 10 to R2; NEAR's 30 fill R2's other 20 and R3's 10
    plain = Transfers(transit_days=1, transit_days_to={"R": 9, "R3": 9})
    moves = plan_transfers(_three_warehouses(), plain, AS_OF)
    assert moves.select("from_location", "to_location", "quantity", "arrival_date").rows() == [
        ("FAR", "R", 70.0, _day(9)),
        ("FAR", "R2", 10.0, _day(1)),
        ("NEAR", "R2", 20.0, _day(1)),
        ("NEAR", "R3", 10.0, _day(9)),
    ]


def test_a_short_location_takes_from_the_donor_that_lands_soonest_not_the_largest():
    """FAR (surplus 80) is 6 days from every location, NEAR (surplus 30) 1 day. With R alone
    short (45 in stock, order-up-to 70: needs 25), NEAR covers it five days sooner than the
    larger FAR would."""
    holding = pl.when(pl.col("location") == "R").then(45.0).otherwise("on_hand")
    rows = (
        _three_warehouses()
        .filter(~pl.col("location").is_in(["R2", "R3"]))
        .with_columns(holding.alias("on_hand"), holding.alias("inventory_position"))
    )
    settings = Transfers(transit_days=1, transit_days_between={"FAR": {"R": 6}})
    moves = plan_transfers(rows, settings, AS_OF)
    assert moves.select("from_location", "to_location", "quantity", "arrival_date").rows() == [
        ("NEAR", "R", 25.0, _day(1))
    ]
    # with all three short (70, 30, 20): NEAR's 30 go to R, the largest need; FAR's 80 fill
    # R's other 40, R2's 30 and the last 10 to R3 (80 - 40 - 30), each after 6 days
    settings = Transfers(transit_days=1, transit_days_between={"FAR": {"R": 6, "R2": 6, "R3": 6}})
    moves = plan_transfers(_three_warehouses(), settings, AS_OF)
    assert moves.select("from_location", "to_location", "quantity", "arrival_date").rows() == [
        ("FAR", "R", 40.0, _day(6)),
        ("NEAR", "R", 30.0, _day(1)),
        ("FAR", "R2", 30.0, _day(6)),
        ("FAR", "R3", 10.0, _day(6)),
    ]
    # each move's reason names what its donor held above its order-up-to before giving
    reasons = dict(zip(moves["from_location"], moves["reason"], strict=False))
    assert reasons["FAR"].endswith("FAR holds 80 above its order-up-to")
    assert reasons["NEAR"].endswith("NEAR holds 30 above its order-up-to")


def test_a_location_only_one_donor_reaches_in_time_is_served_before_one_another_can_serve():
    """NEAR (surplus 30) is a day from R and from R2; FAR (surplus 80) reaches R2 in 5 days
    but R only in 20, after R's new order of day 14. R needs 30, R2 40. Both ask NEAR
    first: R, which no other donor reaches in time, is served first and takes all 30; R2
    then gets its 40 from FAR. Largest need first, R2 would have taken NEAR's 30, FAR
    would have added 10, and R, reached by no one else, would have bought all 30."""
    rows = (
        _three_warehouses()
        .filter(pl.col("location") != "R3")
        .with_columns(
            pl.when(pl.col("location") == "R").then(40.0).otherwise("on_hand").alias("on_hand"),
        )
        .with_columns(
            pl.when(pl.col("location").is_in(["R", "R2"]))
            .then(pl.col("on_hand"))
            .otherwise("inventory_position")
            .alias("inventory_position"),
            pl.when(pl.col("location") == "R2")
            .then(50.0)
            .otherwise("order_up_to")
            .alias("order_up_to"),
        )
    )
    settings = Transfers(transit_days=1, transit_days_between={"FAR": {"R": 20, "R2": 5}})
    moves = plan_transfers(rows, settings, AS_OF)
    assert moves.select("from_location", "to_location", "quantity", "arrival_date").rows() == [
        ("NEAR", "R", 30.0, _day(1)),
        ("FAR", "R2", 40.0, _day(5)),
    ]


def test_a_location_every_donor_reaches_too_late_buys_and_is_named_with_its_soonest_lane():
    settings = Transfers(transit_days_between={"FAR": {"R3": 30}, "NEAR": {"R3": 16}})
    moves = plan_transfers(_three_warehouses(), settings, AS_OF)
    assert "R3" not in moves["to_location"].to_list()
    # the others: FAR's 80 fill R (70) and 10 of R2; NEAR's 30 the other 20 of R2
    assert moves.select("from_location", "to_location", "quantity").rows() == [
        ("FAR", "R", 70.0),
        ("FAR", "R2", 10.0),
        ("NEAR", "R2", 20.0),
    ]
    (slow,) = slow_receivers(_three_warehouses(), settings, AS_OF).to_dicts()
    assert (slow["to_location"], slow["arrival_date"], slow["order_arrival"]) == (
        "R3",
        _day(16),  # NEAR's 16 days, the sooner of the two lanes
        _day(14),
    )
    # the plan builds the lanes once for both tables: the same two
    moves_too, slow_too = rebalance(_three_warehouses(), settings, AS_OF)
    assert moves_too.equals(moves)
    assert slow_too.equals(slow_receivers(_three_warehouses(), settings, AS_OF))
    off = Transfers(enabled=False)
    assert [t.height for t in rebalance(_three_warehouses(), off, AS_OF)] == [0, 0]


CELL = st.tuples(
    st.sampled_from(["A", "B"]),
    st.integers(0, 200),  # on hand
    st.integers(-20, 150),  # position
    st.integers(0, 120),  # reorder point
    st.integers(1, 160),  # order-up-to
)
"""One location of an item for `_locations`."""


def _locations(cells: list[tuple[str, int, int, int, int]]) -> list[dict]:
    """One row per cell (sku, on hand, position, reorder point, order-up-to) at location
    L<i>, as a plan has them: a position below what is on hand is backorders (position =
    on hand - backorders + on order), and the reorder point is at most the order-up-to, so
    a location with a surplus is never short."""
    return [
        {
            "sku": sku,
            "location": f"L{i}",
            "on_hand": float(on_hand),
            "allocated": 0.0,
            "backorders": float(max(on_hand - position, 0)),
            "inventory_position": float(position),
            "reorder_point": float(min(reorder_point, order_up_to)),
            "order_up_to": float(order_up_to),
            "forecast_per_day": 1.0,
        }
        for i, (sku, on_hand, position, reorder_point, order_up_to) in enumerate(cells)
    ]


def _surplus(row: dict) -> int:
    return math.floor(row["on_hand"] - row["backorders"] - row["order_up_to"])


def _needs(own: list[dict]) -> dict[str, int]:
    """The short locations of one item's rows and what each needs, whole units up."""
    return {
        r["location"]: math.ceil(r["order_up_to"] - r["inventory_position"])
        for r in own
        if r["inventory_position"] < r["reorder_point"]
    }


def _overlap_matching(rows: list[dict], min_qty: float) -> list[tuple[str, str, str, float]]:
    """The matching before lanes, by hand: per item, receivers (largest need first) and
    donors (largest surplus first) on two cumulative scales; receiver i takes from donor j
    the overlap min(N_i, D_j) - max(N_(i-1), D_(j-1)), walked pair by pair: a need or a
    donor's rest below min_qty moves nothing and leaves its scale (the receiver is done,
    the donor's rest stays where it is), so a move under min_qty takes nothing off the
    other side."""
    moves = []
    for sku in sorted({r["sku"] for r in rows}):
        own = [r for r in rows if r["sku"] == sku]
        needs = [[to, n] for _, to, n in sorted((-n, to, n) for to, n in _needs(own).items())]
        gives = [
            [r["location"], _surplus(r)]
            for r in sorted(own, key=lambda r: (-_surplus(r), r["location"]))
            if _surplus(r) >= min_qty
        ]
        i = j = 0
        while i < len(needs) and j < len(gives):
            (to, need), (sender, left) = needs[i], gives[j]
            quantity = min(need, left)
            if quantity >= min_qty:
                moves.append((sku, sender, to, float(quantity)))
                needs[i][1] -= quantity
                gives[j][1] -= quantity
            i += needs[i][1] < min_qty
            j += gives[j][1] < min_qty
    return sorted(moves, key=lambda m: (m[0], m[2], m[1]))


@settings(max_examples=60)
@given(st.lists(CELL, min_size=1, max_size=12), st.sampled_from([1.0, 5.0]))
def test_with_every_lane_as_long_the_turns_give_the_overlap_matching(cells, min_qty):
    rows = _locations(cells)
    # a lane as long as every other move: the lane table is read, no donor is sooner
    lanes = Transfers(min_qty=min_qty, transit_days=3, transit_days_between={"L0": {"L1": 3}})
    moves = plan_transfers(pl.DataFrame(rows), lanes, AS_OF)
    assert moves.select("sku", "from_location", "to_location", "quantity").rows() == (
        _overlap_matching(rows, min_qty)
    )


def _soonest_first_by_hand(
    rows: list[dict], days: dict[str, dict[str, int]], order_days: list[int], min_qty: float
) -> list[tuple[str, str, str, float]]:
    """The matching over lanes of their own length, one move at a time: each short location
    L<i> reaches the donors whose lane takes no longer than its new order's
    `order_days[i]`, ordered by the lane's days, then largest surplus, then name; in turn k
    each (fewest such donors first, then largest need before any move) takes what it still
    needs, as far as it is left, from its k-th donor."""
    moves = []
    for sku in sorted({r["sku"] for r in rows}):
        own = [r for r in rows if r["sku"] == sku]
        need = _needs(own)
        left = {r["location"]: _surplus(r) for r in own if _surplus(r) >= min_qty}
        choices = {
            to: sorted(
                (d for d in left if days[d][to] <= order_days[int(to[1:])]),
                key=lambda d, to=to: (days[d][to], -left[d], d),
            )
            for to in need
        }
        first_need = dict(need)
        for turn in range(len(left)):
            asking = sorted(need, key=lambda to: (len(choices[to]), -first_need[to], to))
            for to in asking:
                if turn >= len(choices[to]):
                    continue
                sender = choices[to][turn]
                quantity = min(need[to], left[sender])
                if quantity >= min_qty:  # a smaller move is not made: it takes nothing
                    moves.append((sku, sender, to, float(quantity)))
                    need[to] -= quantity
                    left[sender] -= quantity
    return sorted(moves, key=lambda m: (m[0], m[2], m[1]))


@settings(max_examples=60)
@given(
    st.lists(CELL, min_size=1, max_size=10),
    st.lists(st.integers(0, 4), min_size=100, max_size=100),  # lane days, sender x receiver
    st.lists(st.integers(1, 5), min_size=10, max_size=10),  # days to each new order's arrival
    st.sampled_from([1.0, 5.0]),
)
def test_over_lanes_of_their_own_length_the_soonest_donor_gives_first(
    cells, lane_days, order_days, min_qty
):
    rows = [
        {**row, "expected_arrival": _day(order_days[i])} for i, row in enumerate(_locations(cells))
    ]
    places = [f"L{i}" for i in range(len(cells))]
    days = {
        d: {to: lane_days[10 * i + j] for j, to in enumerate(places)} for i, d in enumerate(places)
    }
    lanes = Transfers(min_qty=min_qty, transit_days_between=days)
    moves = plan_transfers(pl.DataFrame(rows), lanes, AS_OF)
    assert moves.select("sku", "from_location", "to_location", "quantity").rows() == (
        _soonest_first_by_hand(rows, days, order_days, min_qty)
    )


def _series(transfer_qty: list[float]) -> pl.DataFrame:
    # D sends 40 of A to R. R: 10 on hand, 5 a day, no spread, 7-day lead time.
    # D: 100 on hand, 5 a day.
    return pl.DataFrame(
        {
            "sku": ["A", "A"],
            "location": ["D", "R"],
            "on_hand": [100.0, 10.0],
            "allocated": [0.0, 0.0],
            "backorders": [0.0, 0.0],
            "transfer_qty": transfer_qty,
            "on_order": [0.0, 0.0],
            "next_receipt_date": [None, None],
            "forecast_per_day": [5.0, 5.0],
            "demand_lead_time": [35.0, 35.0],
            "sigma_day": [0.0, 0.0],
            "lead_time_days": [7.0, 7.0],
            "lead_time_std_days": [0.0, 0.0],
            "demand_pattern": ["smooth", "smooth"],
            "unit_price": [2.0, 2.0],
            "expected_arrival": [None, None],
        },
        schema_overrides={"next_receipt_date": pl.Date, "expected_arrival": pl.Date},
    )


def _move(arrival: dt.date) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["A"],
            "from_location": ["D"],
            "to_location": ["R"],
            "quantity": [40.0],
            "reason": ["R is below its reorder point"],
            "arrival_date": [arrival],
        }
    )


def test_risk_counts_a_transfer_in_from_its_arrival_and_out_at_once():
    series = _series([-40.0, 40.0])

    def risk(arrival: dt.date) -> dict[str, dict]:
        frame = stockout_risk(
            series, NO_PO, AS_OF, 90, Risk(), ["intermittent"], transfers=_move(arrival)
        )
        return {r["location"]: r for r in frame.to_dicts()}

    landed, moving = risk(AS_OF), risk(_day(3))
    # landed today: R has 10 + 40 = 50, out on day 50 / 5 = 10; no risk inside L = 7
    # (at L: 50 - 35 = 15 left)
    assert landed["R"]["stockout_date"] == _day(10)
    assert landed["R"]["stockout_probability"] == 0.0
    assert landed["R"]["days_of_cover"] == 10.0
    # 3 days on the road: R's 10 last 10 / 5 = 2 days, out on 5 Mar before the truck (6 Mar);
    # at the checkpoint just before it lands, demand 15 > 10: certain, 5 short
    assert moving["R"]["stockout_date"] == _day(2)
    assert moving["R"]["stockout_probability"] == 1.0
    assert moving["R"]["expected_shortage"] == 5.0
    assert moving["R"]["days_of_cover"] == 2.0
    # the transfer is the first receipt on or after the stockout: R restocks when it lands
    assert moving["R"]["restock_eta"] == _day(3)
    # the sender loses the 40 at once either way: 100 - 40 = 60 last 12 days
    assert landed["D"]["stockout_date"] == moving["D"]["stockout_date"] == _day(12)
    assert moving["D"]["days_of_cover"] == 12.0


def test_the_restock_eta_from_the_orders_placed_still_sees_the_transfer():
    series = _series([-40.0, 40.0])
    risk = stockout_risk(
        series, NO_PO, AS_OF, 90, Risk(), ["intermittent"], transfers=_move(_day(3))
    )
    orders = series.select(
        "sku", "location", pl.lit(0.0).alias("order_qty"), pl.lit(_day(7)).alias("expected_arrival")
    )
    again = restock_eta(risk, NO_PO, orders, _move(_day(3)), AS_OF)
    assert again.filter(pl.col("location") == "R")["restock_eta"].item() == _day(3)


def test_a_customer_line_filled_by_a_transfer_is_dated_at_its_arrival():
    # R has nothing; 41 come from D, landing on day 4; R orders 240 arriving on day 10.
    # R's customer orders: O1 7 (promised day -5), O2 40.
    orders = pl.DataFrame(
        {
            "sku": ["A", "A"],
            "location": ["D", "R"],
            "on_hand": [50.0, 0.0],
            "allocated": [0.0, 0.0],
            "order_qty": [0.0, 240.0],
            "expected_arrival": [_day(30), _day(10)],
        }
    )
    move = _move(_day(4)).with_columns(pl.lit(41.0).alias("quantity"))
    backlog = pl.DataFrame(
        {
            "order_id": ["O1", "O2"],
            "sku": ["A", "A"],
            "location": ["R", "R"],
            "quantity": [7.0, 40.0],
            "order_date": [_day(-9), _day(-2)],
            "promised_date": [_day(-5), None],
        }
    )
    rows = {
        r["order_id"]: r
        for r in restock_notices(backlog, orders, NO_PO, AS_OF, transfers=move).to_dicts()
    }
    # O1: 7 <= 41, from the transfer when it lands on 7 Mar: 4 - (-5) = 9 days late
    assert rows["O1"]["filled_from"] == "transfer from D"
    assert (rows["O1"]["expected_fill_date"], rows["O1"]["days_late"]) == (_day(4), 9)
    assert "2025-03-07" in rows["O1"]["message"]
    # O2: 7 + 40 = 47 > 41: the suggested order on day 10
    assert rows["O2"]["expected_fill_date"] == _day(10)
    # a transfer that lands after an open purchase order comes after it
    po = pl.DataFrame(
        {"sku": ["A"], "location": ["R"], "quantity": [10.0], "arrival": [_day(2)]}
        | {"po_id": ["P1"]}
    )
    first = restock_notices(backlog, orders, po, AS_OF, transfers=move)
    o1 = first.filter(pl.col("order_id") == "O1").row(0, named=True)
    assert (o1["filled_from"], o1["expected_fill_date"]) == ("purchase order P1", _day(2))


def test_explain_projection_counts_the_transfer_from_its_arrival():
    orders = pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["R"],
            "on_hand": [10.0],
            "allocated": [0.0],
            "backorders": [0.0],
            "transfer_qty": [40.0],
            "order_qty": [0.0],
            "expected_arrival": [_day(30)],
        }
    )
    forecast = pl.DataFrame(
        {
            "sku": ["A", "A"],
            "location": ["R", "R"],
            "period_start": [AS_OF, _day(7)],
            "forecast": [35.0, 35.0],
        }
    )
    # landing on day 9 (after week 1 ends on day 7): week 1 ends at 10 - 35 = -25,
    # week 2 at 10 + 40 - 70 = -20
    path = stock_projection(orders, forecast, NO_PO, 7, AS_OF, _move(_day(9)))
    assert path["projected_stock"].to_list() == [-25.0, -20.0]
    # landed today it is stock from the start: 50 - 35 = 15, 50 - 70 = -20
    landed = stock_projection(orders, forecast, NO_PO, 7, AS_OF, _move(AS_OF))
    assert landed["projected_stock"].to_list() == [15.0, -20.0]


def test_transit_days_read_from_the_config_and_refused_when_negative_in_both_languages():
    from stockplan.i18n import error_text

    def read(transfers: dict, lang: str = "en"):
        inputs = {"sales": "s.csv", "stock": "t.csv"}
        return parse_config(
            {"inputs": inputs, "planning": {"language": lang}} | {"transfers": transfers}
        )

    read_back = read({"transit_days": 2, "transit_days_to": {" WH-BJ ": 3.5}}).transfers
    assert (read_back.transit_days, read_back.transit_days_to) == (2.0, {"WH-BJ": 3.5})
    with pytest.raises(StockplanError) as refused:
        read({"transit_days_to": {"WH-BJ": -2}}, "zh")
    assert error_text(refused.value, "zh") == (
        "config：配置项 'transfers.transit_days_to.WH-BJ'：应不小于 0，现为 -2"
    )
    assert "greater than or equal to 0, got -2" in error_text(refused.value, "en")
    with pytest.raises(StockplanError, match="transfers.transit_days'"):
        read({"transit_days": -1})
    lanes = read({"transit_days_between": {" WH-SH ": {"WH-BJ ": 2, "WH-GZ": 1.5}}}).transfers
    assert lanes.transit_days_between == {"WH-SH": {"WH-BJ": 2.0, "WH-GZ": 1.5}}
    with pytest.raises(StockplanError) as refused:
        read({"transit_days_between": {"WH-SH": {"WH-BJ": 400}}})
    assert "'transfers.transit_days_between.WH-SH.WH-BJ'" in error_text(refused.value, "en")


def _cli(*args: str):
    from typer.testing import CliRunner

    from stockplan.cli import app

    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _transit(config: Path, days: float) -> None:
    raw = yaml.safe_load(config.read_text())
    raw["transfers"] = {"transit_days": days}
    config.write_text(yaml.safe_dump(raw))


def test_a_plan_dates_the_transfer_and_warns_of_the_stockout_before_it_lands(
    small_shop: Path, tmp_path: Path
):
    # WH1 holds 40 - 5 allocated = 35 of A-100 (~10 a day, 14-day lead time, 48 due on
    # 20 Oct); WH2's surplus moves to WH1. Five days on the road: 35 last 3.5 days.
    _transit(small_shop, 5)
    out = tmp_path / "out"
    run = _cli("plan", "-c", str(small_shop), "-o", str(out), "--all", "--fail-on-risk", "high")
    assert run.exit_code == 3, run.output  # WH1 runs dry before the truck: high risk
    (move,) = pl.read_csv(out / "transfers.csv", try_parse_dates=True).to_dicts()
    assert (move["from_location"], move["to_location"]) == ("WH2", "WH1")
    assert move["arrival_date"] == dt.date(2025, 10, 18)  # 13 Oct + 5
    risk = pl.read_csv(out / "risk.csv", schema_overrides={"sku": pl.String}, try_parse_dates=True)
    forecast = pl.read_csv(out / "forecast.csv", schema_overrides={"sku": pl.String})
    key = (pl.col("sku") == "A-100") & (pl.col("location") == "WH1")
    wh1 = risk.filter(key).row(0, named=True)
    # the week of 13 Oct runs at its forecast / 7 a day: 35 / rate days, out on the day after
    rate = forecast.filter(key)["forecast"][0] / 7
    assert 3 < 35 / rate < 4
    assert wh1["stockout_date"] == dt.date(2025, 10, 13) + dt.timedelta(days=4)
    assert wh1["stockout_date"] < move["arrival_date"]
    assert wh1["days_of_cover"] == pytest.approx(35 / rate, abs=0.01)
    assert wh1["restock_eta"] == move["arrival_date"]  # before the PO of 20 Oct
    assert wh1["risk_level"] == "high"
    # the order row still counts the transfer in the position: no order today
    orders = pl.read_csv(out / "orders.csv", schema_overrides={"sku": pl.String})
    row = orders.filter(key).row(0, named=True)
    assert row["transfer_qty"] == move["quantity"] and row["order_qty"] == 0


def test_a_plan_dates_a_move_by_its_lane_and_leaves_out_a_lane_slower_than_an_order(
    small_shop: Path, tmp_path: Path
):
    """WH2's surplus of A-100 goes to WH1 (see above): over a 4-day lane it lands on 17
    Oct, though transfers into WH1 take 1 day; over a 20-day lane (2 Nov, after a new
    order's 27 Oct) it is not made and WH1 buys."""
    raw = yaml.safe_load(small_shop.read_text())
    raw["transfers"] = {"transit_days_to": {"WH1": 1}, "transit_days_between": {"WH2": {"WH1": 4}}}
    small_shop.write_text(yaml.safe_dump(raw))
    out = tmp_path / "out"
    assert _cli("plan", "-c", str(small_shop), "-o", str(out), "--all", "-q").exit_code == 0
    (move,) = pl.read_csv(out / "transfers.csv", try_parse_dates=True).to_dicts()
    assert (move["from_location"], move["to_location"]) == ("WH2", "WH1")
    assert move["arrival_date"] == dt.date(2025, 10, 17)  # 13 Oct + 4
    raw["transfers"]["transit_days_between"] = {"WH2": {"WH1": 20}}
    small_shop.write_text(yaml.safe_dump(raw))
    import stockplan

    plan = stockplan.plan(*reversed(stockplan.load(small_shop)))
    assert plan.transfers.height == 0
    wh1 = plan.orders.filter((pl.col("sku") == "A-100") & (pl.col("location") == "WH1"))
    assert wh1["order_qty"].item() > 0
    (note,) = [n for n in plan.notes if n.startswith("transfers:")]
    assert note.endswith("e.g. A-100 at WH1: transfer 2025-11-02, order 2025-10-27")


def test_a_transfer_slower_than_the_lead_time_is_left_out_and_the_notes_say_why(
    small_shop: Path,
):
    import stockplan
    from stockplan.i18n import render_note

    _transit(small_shop, 20)  # 13 Oct + 20 = 2 Nov, a new order (14 days) lands 27 Oct
    config, inputs = stockplan.load(small_shop)
    plan = stockplan.plan(inputs, config)
    assert plan.transfers.height == 0
    wh1 = plan.orders.filter((pl.col("sku") == "A-100") & (pl.col("location") == "WH1"))
    assert wh1["order_qty"].item() > 0 and wh1["transfer_qty"].item() == 0
    (note,) = [n for n in plan.notes if n.startswith("transfers:")]
    assert note == (
        "transfers: 1 short item-location(s) sent none, a transfer would arrive after a new "
        "order (transfers.transit_days, transit_days_to, transit_days_between), so they "
        "order instead, e.g. A-100 at WH1: transfer 2025-11-02, order 2025-10-27"
    )
    assert render_note(note, "zh") == (
        "调拨：1 个缺货的商品×仓库未安排调拨，调拨到货晚于新采购单到货"
        "（transfers.transit_days、transit_days_to、transit_days_between），改为采购，"
        "例如 A-100 在 WH1：调拨 2025-11-02 到货，采购 2025-10-27 到货"
    )


def test_the_arrival_date_has_a_chinese_header():
    from stockplan.i18n import canonical_column, header

    assert header("arrival_date", "zh") == "调拨到货日期"
    assert canonical_column("调拨到货日期") == "arrival_date"


def test_the_signed_transfer_column_is_not_headed_transfer_in_in_chinese():
    from stockplan.i18n import canonical_column, header

    # transfer_qty is + in and - out: 调入量 ("quantity transferred in") read -387 for a
    # sender; plans written with that header still read back
    assert header("transfer_qty", "zh") == "调拨量(+调入/-调出)"
    assert canonical_column("调拨量(+调入/-调出)") == "transfer_qty"
    assert canonical_column("调入量") == "transfer_qty"


def test_explain_shows_when_the_transfer_lands_and_projects_stock_from_then(
    small_shop: Path,
):
    import stockplan
    from stockplan.api import explain

    # nine days on the road: 13 Oct + 9 = 22 Oct, after the first week (13-19 Oct)
    _transit(small_shop, 9)
    config, inputs = stockplan.load(small_shop)
    plan = stockplan.plan(inputs, config)
    (move,) = plan.transfers.to_dicts()
    assert move["arrival_date"] == dt.date(2025, 10, 22)
    shown = explain(plan, "A-100", "WH1")
    weeks = shown.projection.sort("period_start")
    f = weeks["forecast"].to_list()
    # week 1 ends before the truck and before the PO of 20 Oct: 35 - its demand;
    # week 2 has both: 35 + 48 + the transfer - two weeks of demand
    assert weeks["projected_without_order"][0] == pytest.approx(35 - f[0])
    assert weeks["projected_without_order"][1] == pytest.approx(
        35 + 48 + move["quantity"] - f[0] - f[1]
    )
    qty = f"{move['quantity']:,.0f}"
    english = _cli("explain", "A-100", "-l", "WH1", "-c", str(small_shop), "--no-chart")
    assert english.exit_code == 0, english.output
    assert f"transfer in {qty} from WH2, lands 2025-10-22" in english.output
    chinese = _cli(
        "explain", "A-100", "-l", "WH2", "-c", str(small_shop), "--no-chart", "--lang", "zh"
    )
    assert f"调出 {qty} 到 WH1，今天发出" in chinese.output
    # the position line: the receiver adds its transfer in, the sender takes its transfer
    # out away (its transfer_qty is negative: never "+ transfer in -N")
    rows = {r["location"]: r for r in plan.orders.filter(pl.col("sku") == "A-100").to_dicts()}
    assert rows["WH2"]["transfer_qty"] == -move["quantity"]
    assert f"allocated 5 + transfer in {qty} = " in _unwrapped(english.output)
    sender = _cli("explain", "A-100", "-l", "WH2", "-c", str(small_shop), "--no-chart")
    assert f"allocated 0 - transfer out {qty} = " in _unwrapped(sender.output)
    assert "transfer in -" not in _unwrapped(sender.output)
    assert f"已分配 0 - 调出量 {qty} = " in _unwrapped(chinese.output)


def _unwrapped(panel: str) -> str:
    """The text of `explain`'s panel with its borders and line breaks as single spaces."""
    return re.sub(r"\s+", " ", re.sub(r"[│╭╮╰╯─]", " ", panel))


def test_a_transfer_on_the_road_is_the_next_receipt_when_it_lands_before_the_next_po():
    # R's next PO (10 units) lands on day 10, 5 Mar's truck from D on day 3: the truck is
    # R's next receipt. A PO on day 2 comes first; landed today there is no receipt to come.
    def next_receipt(arrival: dt.date, po_day: int | None) -> dt.date | None:
        po = (
            pl.DataFrame(
                {"sku": ["A"], "location": ["R"], "quantity": [10.0], "arrival": [_day(po_day)]}
            )
            if po_day is not None
            else NO_PO
        )
        series = _series([-40.0, 40.0]).with_columns(
            pl.when(pl.col("location") == "R")
            .then(pl.lit(_day(po_day) if po_day is not None else None, pl.Date))
            .alias("next_receipt_date"),
            pl.when(pl.col("location") == "R")
            .then(10.0 if po_day is not None else 0.0)
            .otherwise(0.0)
            .alias("on_order"),
        )
        risk = stockout_risk(
            series, po, AS_OF, 90, Risk(), ["intermittent"], transfers=_move(arrival)
        )
        rows = {r["location"]: r for r in risk.to_dicts()}
        assert rows["D"]["next_receipt_date"] is None  # the sender receives nothing
        return rows["R"]["next_receipt_date"]

    assert next_receipt(_day(3), 10) == _day(3)
    assert next_receipt(_day(3), None) == _day(3)
    assert next_receipt(_day(3), 2) == _day(2)
    assert next_receipt(AS_OF, 10) == _day(10)  # on the shelf today: the PO comes next
    assert next_receipt(AS_OF, None) is None


def test_the_receivers_reason_says_when_the_transfer_in_lands_in_both_languages():
    from plan_rows import NULLABLE_NUMBERS, plan_row

    from stockplan.config import Policy
    from stockplan.i18n import render_reason
    from stockplan.reorder import plan_orders
    from stockplan.series import after_transfers
    from stockplan.transfers import net_transfers

    # plan_row: 10 a day, L = 14, R = 7, S = reorder point 210, position 100.
    # P gets 40 landing on day 3: 140 < 210, orders 70. Q gets 120: 220, no order.
    # D sends both: its reason does not name a landing.
    series = pl.DataFrame(
        [
            plan_row(sku="P", location="R"),
            plan_row(sku="Q", location="R"),
            plan_row(sku="P", location="D", inventory_position=900.0, on_hand=900.0),
        ],
        schema_overrides=NULLABLE_NUMBERS,
    )

    def reasons(arrival: dt.date) -> dict[tuple[str, str], str]:
        moves = pl.concat(
            [
                _move(arrival).with_columns(pl.lit("P").alias("sku")),
                _move(arrival).with_columns(
                    pl.lit("Q").alias("sku"), pl.lit(120.0).alias("quantity")
                ),
            ]
        )
        rebalanced = after_transfers(series, net_transfers(moves))
        out = plan_orders(rebalanced, Policy(), AS_OF, 7)
        assert out.filter(pl.col("location") == "R")["order_qty"].to_list() == [70.0, 0.0]
        return {(r["sku"], r["location"]): r["reason"] for r in out.to_dicts()}

    moving = reasons(_day(3))
    assert moving[("P", "R")] == (
        "after a transfer in of 40 (lands 2025-03-06), position 140 below reorder point 210: "
        "need 70 to reach 210"
    )
    assert moving[("Q", "R")] == (
        "no order: a transfer in of 120 (lands 2025-03-06) lifts position to 220 "
        "(reorder point 210)"
    )
    assert moving[("P", "D")] == "no order: position 860 not below reorder point 210"
    assert render_reason(moving[("P", "R")], "zh") == (
        "调入 40（2025-03-06 到货）后库存位置 140 仍低于再订货点 210：需 70 补至最高库存 210"
    )
    assert render_reason(moving[("Q", "R")], "zh") == (
        "不订货：调入 120（2025-03-06 到货）后库存位置升至 220（再订货点 210）"
    )
    # raised by a later rule, the finding keeps its date in Chinese too
    raised = moving[("Q", "R")].removeprefix("no order: ") + "; raised to MOQ 24"
    assert render_reason(raised, "zh") == (
        "调入 120（2025-03-06 到货）后库存位置升至 220（再订货点 210）；按最小起订量提高到 24"
    )
    # landed today: on the shelf already, the reason stays as it was
    landed = reasons(AS_OF)
    assert landed[("P", "R")].startswith("after a transfer in of 40, position 140")
    assert landed[("Q", "R")].startswith("no order: a transfer in of 120 lifts position")
