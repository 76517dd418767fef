"""With the default settings the plan on a cluster is the local plan: every step that pools
over series (the lead-time-demand calibration, the category prior of short series, the
pooled model choice, the forecast bands, the pooled seasonality) pools over every
partition, each series' bootstrap draws do not depend on its neighbours, and linked skus
(kits, successions) plan in one partition.

One local Dask cluster serves the module (the dask extra is part of the test extras).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from contextlib import contextmanager

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import stockplan
from stockplan import engines, ranks
from stockplan.config import Classify, parse_config
from stockplan.forecast import (
    MIN_POOLED_SERIES,
    band_widths,
    come_back_from,
    come_back_rate,
    come_back_sums,
    conformal_band_width,
    conformity_scores,
    history_origin,
    pool_ranking,
    pool_scores,
    pooled_seasonal_factors,
    seasonal_factors,
    seasonal_sums,
)
from stockplan.lead_time_demand import (
    add_calibration_sums,
    bootstrap_lead_time_demand,
    calibration_curves,
    calibration_sums,
    window_lead_time_demand,
)
from stockplan.partitioned import linked_groups, partition_of

AS_OF = dt.date(2025, 10, 13)
SKUS = 12
SHORT = ("K005", "K010")  # sold only in the last 60 days: too short to backtest
TABLES = ("orders", "risk", "classes", "transfers", "supplier_orders", "excess", "forecast")


def _shop() -> dict[str, pl.DataFrame]:
    """12 skus in two warehouses over 420 days (steady and lumpy, two of them new),
    four product categories, two suppliers with receipts, a surplus to transfer."""
    rng = np.random.default_rng(20)
    days = 420
    start = AS_OF - dt.timedelta(days=days)
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    sales, stock, orders = [], [], []
    for index in range(SKUS):
        sku = f"K{index:03d}"
        for location in ("WH1", "WH2") if index % 3 else ("WH1",):
            rate = (2.0 + index) * (1.5 if location == "WH1" else 0.7)
            quantity = rng.poisson(rate, days).astype(float)
            if index % 4 == 1:  # intermittent and lumpy: a few days with orders of 1 to 30
                quantity = np.where(rng.random(days) < 0.05, rng.integers(1, 30, days), 0.0)
            if sku in SHORT:
                quantity[: days - 60] = 0.0
            sales.append(
                pl.DataFrame(
                    {
                        "date": dates,
                        "sku": sku,
                        "location": location,
                        "quantity": quantity,
                        "unit_price": float(5 + 7 * index),
                    }
                ).filter(pl.col("quantity") > 0)
            )
            on_hand = float(rate * (80 if location == "WH2" and index % 5 == 0 else 9))
            stock.append((sku, location, on_hand, float(3 + 4 * index)))
            supplier = "North" if index % 2 else "South"
            for k in range(6):
                ordered = start + dt.timedelta(days=40 + 60 * k)
                lead = int(rng.integers(6, 16) if supplier == "North" else rng.integers(3, 6))
                orders.append(
                    (f"P{index}{location}{k}", sku, location, supplier, 50.0, ordered)
                    + (ordered + dt.timedelta(days=9), ordered + dt.timedelta(days=lead))
                )
    skus = [f"K{i:03d}" for i in range(SKUS)]
    return {
        "sales": pl.concat(sales),
        "stock": pl.DataFrame(
            stock, schema=["sku", "location", "on_hand", "unit_cost"], orient="row"
        ),
        "products": pl.DataFrame({"sku": skus, "category": [f"C{i % 4}" for i in range(SKUS)]}),
        "purchase_orders": pl.DataFrame(
            orders,
            schema=["po_id", "sku", "location", "supplier", "quantity", "order_date"]
            + ["expected_date", "received_date"],
            orient="row",
        ),
    }


def _linked_shop() -> dict[str, pl.DataFrame]:
    """The shop with kit KIT9 (2 x K001 + K006), sold as K002 sells, and K030 succeeding
    K008 in 20 days."""
    shop = _shop()
    kit_sales = (
        shop["sales"].filter(pl.col("sku") == "K002").with_columns(pl.lit("KIT9").alias("sku"))
    )
    new = pl.DataFrame({"sku": ["K030"], "location": ["WH1"], "on_hand": [0.0], "unit_cost": [3.0]})
    return {
        **shop,
        "sales": pl.concat([shop["sales"], kit_sales]),
        "stock": pl.concat([shop["stock"], new]),
        "products": pl.concat(
            [shop["products"], pl.DataFrame({"sku": ["KIT9", "K030"], "category": ["C1", "C2"]})]
        ),
        "bom": pl.DataFrame(
            {"kit_sku": ["KIT9", "KIT9"], "component_sku": ["K001", "K006"], "quantity": [2.0, 1.0]}
        ),
        "succession": pl.DataFrame(
            {
                "old_sku": ["K008"],
                "new_sku": ["K030"],
                "date": [AS_OF + dt.timedelta(days=20)],
                "share": [1.0],
            }
        ),
    }


def _config(
    engine: str = "local", address: str | None = None, lanes: dict | None = None, **extra: object
):
    """The default settings, with the planning date, transfers (over `lanes`, the
    `transit_days_between`, when given) and the engine."""
    return parse_config(
        {
            "inputs": {"sales": "sales.csv", "stock": "stock.csv"},
            "planning": {"as_of": AS_OF.isoformat()},
            "forecast": {"engine": engine, "engine_address": address, **extra},
            "transfers": {"enabled": True, "transit_days_between": lanes or {}},
        }
    )


def _assert_same_plan(local: stockplan.Plan, remote: stockplan.Plan) -> None:
    """Every column of every table, to 1e-9 (workers may sum in another order)."""
    for name in TABLES:
        try:
            assert_frame_equal(
                local.tables[name],
                remote.tables[name],
                check_exact=False,
                rel_tol=1e-9,
                abs_tol=1e-9,
            )
        except AssertionError as error:
            raise AssertionError(f"table {name}: {error}") from None


def test_the_default_plan_on_dask_is_the_local_plan(dask_scheduler):
    shop = _shop()
    lanes = {"WH2": {"WH1": 3}}  # each partition dates its moves by the lane
    local = stockplan.plan(shop, _config(lanes=lanes))
    moves = local.tables["transfers"]
    assert moves.height >= 1 and set(moves["from_location"]) == {"WH2"}
    assert set(moves["arrival_date"]) == {AS_OF + dt.timedelta(days=3)}
    # what differed before: bootstrap levels, category priors of short series, bands
    orders = local.tables["orders"]
    assert orders["ltd_method"].str.starts_with("bootstrap").sum() >= 5
    # short series: the category's level, or where intermittent / lumpy their pattern's
    # models ranked on the pooled backtest (a combination, "A+B")
    models = set(local.tables["forecast"].filter(pl.col("sku").is_in(SHORT))["model"])
    assert "CategoryBlend" in models
    assert all(m == "CategoryBlend" or "+" in m for m in models), models
    assert (local.tables["forecast"]["hi"] > local.tables["forecast"]["forecast"]).any()
    # the short skus' categories hold established skus in the other partition of two
    categories = shop["products"].with_columns(partition_of(2).alias("part"))
    for sku in SHORT:
        category, part = categories.filter(pl.col("sku") == sku).row(0)[1:]
        others = categories.filter((pl.col("category") == category) & (pl.col("sku") != sku))
        assert (others["part"] != part).any(), sku
    remote = stockplan.plan(shop, _config("dask", dask_scheduler, lanes))
    _assert_same_plan(local, remote)


def test_a_suppliers_own_review_period_draws_on_dask_as_locally(dask_scheduler):
    # the bootstrap draws of North's items cover L + its 21 days, South's (blank) L + 7:
    # the partitions draw each series over its own R as the local plan does
    shop = _shop()
    shop["products"] = shop["products"].with_columns(
        # North: K001 and K009 (intermittent, bootstrapped), South the rest (K005 too)
        supplier=pl.when(pl.col("sku").str.slice(1).cast(pl.Int64) % 8 == 1)
        .then(pl.lit("North"))
        .otherwise(pl.lit("South"))
    )
    shop["suppliers"] = pl.DataFrame(
        {
            "supplier": ["North", "South"],
            "lead_time_days": [10.0, 14.0],
            "review_days": [21.0, None],
        }
    )

    def config(engine: str = "local", address: str | None = None):
        raw = _config(engine, address).model_dump(mode="json")
        raw["inputs"].update({"products": "products.csv", "suppliers": "suppliers.csv"})
        return parse_config(raw)

    local = stockplan.plan(shop, config())
    orders = local.tables["orders"]
    own_r = orders.group_by("supplier").agg(
        (pl.col("review_days") - pl.col("closure_cover_days")).unique().alias("r")
    )
    assert dict(own_r.iter_rows()) == {"North": [21.0], "South": [7.0]}
    drawn = orders.filter(pl.col("ltd_method").str.starts_with("bootstrap"))
    assert set(drawn["supplier"]) == {"North", "South"}
    _assert_same_plan(local, stockplan.plan(shop, config("dask", dask_scheduler)))


def test_kits_and_successions_plan_on_dask_as_locally(dask_scheduler):
    shop = _linked_shop()
    parts = dict(
        pl.DataFrame({"sku": ["KIT9", "K001", "K006", "K008", "K030"]})
        .with_columns(partition_of(2).alias("part"))
        .iter_rows()
    )
    # by the sku alone, the kit's and the succession's skus would be planned apart
    assert len({parts["KIT9"], parts["K001"], parts["K006"]}) > 1
    assert parts["K008"] != parts["K030"]
    local = stockplan.plan(shop, _config())
    orders = local.tables["orders"]
    assert orders.filter(pl.col("sku") == "K030")["order_qty"].sum() > 0  # inherits K008
    remote = stockplan.plan(shop, _config("dask", dask_scheduler))
    _assert_same_plan(local, remote)


def test_linked_groups_are_the_connected_kits_and_successions():
    tables = {
        "bom": pl.DataFrame(
            {"kit_sku": ["K", "K", "Z"], "component_sku": ["A", "C", "Y"], "quantity": [1.0] * 3}
        ),
        # a chain A -> B -> E joins the kit's group; D -> F stands alone
        "succession": pl.DataFrame({"old_sku": ["A", "B", "D"], "new_sku": ["B", "E", "F"]}),
    }
    groups = dict(linked_groups(tables).iter_rows())
    assert groups == {
        "A": "A",
        "B": "A",
        "C": "A",
        "E": "A",
        "K": "A",
        "D": "D",
        "F": "D",
        "Y": "Y",
        "Z": "Y",
    }
    assert linked_groups({"sales": pl.DataFrame({"sku": ["A"]})}) is None


def _histories(n: int = 6, span: int = 200) -> tuple[pl.DataFrame, np.ndarray]:
    rng = np.random.default_rng(11)
    daily = rng.poisson(rng.uniform(0.3, 5.0, (n, 1)), (n, span)).astype(float)
    daily[rng.random((n, span)) < 0.05] = np.nan
    keys = pl.DataFrame({"sku": [f"S{i}" for i in range(n)], "location": ["W"] * n})
    return keys, daily


@pytest.mark.parametrize("build", [window_lead_time_demand, bootstrap_lead_time_demand])
def test_a_series_draws_the_same_alone_as_among_other_series(build):
    keys, daily = _histories()
    lead, std = np.array([7.0, 14.0, 21.0, 5.0, 9.0, 12.0]), np.array([0, 2, 1, 0, 3, 1.0])
    together = build(keys, daily, lead, std, 7, 300, seed=4)
    alone = build(keys[3:4], daily[3:4], lead[3:4], std[3:4], 7, 300, seed=4)
    others = [1, 3, 5]  # other neighbours, another position in the block
    mixed = build(keys[others], daily[others], lead[others], std[others], 7, 300, seed=4)
    for name in ("lead", "review"):
        assert np.array_equal(getattr(together, name)[3], getattr(alone, name)[0]), name
        assert np.array_equal(getattr(together, name)[3], getattr(mixed, name)[1]), name
    # and they are random: another seed draws otherwise, another series too
    reseeded = build(keys[3:4], daily[3:4], lead[3:4], std[3:4], 7, 300, seed=5)
    assert not np.array_equal(reseeded.lead[0], alone.lead[0])
    assert not np.array_equal(together.review[0], together.review[3])


def test_calibration_counts_of_two_sets_of_series_add_up_to_those_of_all():
    keys, daily = _histories(8, 300)
    keys = keys.with_columns(pl.Series("demand_pattern", ["smooth", "erratic"] * 4))
    first = AS_OF - dt.timedelta(days=300)
    origins = [AS_OF - dt.timedelta(days=d) for d in range(35, 232, 7)]  # 29 origins
    windows = pl.DataFrame(
        {
            "sku": [s for s in keys["sku"] for _ in origins],
            "location": "W",
            "origin": origins * 8,
            "rate_per_day": [float(np.nanmean(row)) for row in daily for _ in origins],
        }
    )
    lead, std = np.full(8, 10.0), np.full(8, 2.0)

    def counts(rows: list[int], found: pl.DataFrame = windows) -> dict[str, np.ndarray]:
        mine = keys[rows]
        return calibration_sums(
            mine,
            daily[rows],
            first,
            found.join(mine.select("sku"), on="sku"),
            lead[rows],
            std[rows],
            7,
            56,
            seed=3,
            sigma_day=np.full(len(rows), 1.5),
            # each window under the pattern at its origin, scored on the lost-sales path
            lost_sales_path=True,
            classify=Classify(),
            discrete_patterns=("intermittent", "lumpy"),
        )

    whole = counts(list(range(8)))
    parts = add_calibration_sums([counts([0, 3, 4, 7]), counts([1, 2, 5, 6])])
    assert set(parts) == set(whole) == {"block", "days", "parametric"}
    for method, table in whole.items():
        assert table[:, 0].sum() > 0  # review cycles were scored
        # halves 2 and 3: the series by their stream key's parity, both counted
        assert table[2, 0].sum() > 0 and table[3, 0].sum() > 0
        assert np.allclose(parts[method], table, rtol=1e-12, atol=1e-9), method
    # one start date only: the held-out halves are the series' halves, pooled as exactly
    one = windows.filter(pl.col("origin") == origins[10])
    alone = counts(list(range(8)), one)
    split = add_calibration_sums([counts([0, 3, 4, 7], one), counts([1, 2, 5, 6], one)])
    for method, table in alone.items():
        assert np.allclose(split[method], table, rtol=1e-12, atol=1e-9), method
    assert calibration_curves(split)[1] == calibration_curves(alone)[1]
    curves, held_out = calibration_curves(parts)
    # pooled under each window's own pattern at its origin (these histories: smooth)
    assert set(curves["block"]) == set(held_out["block"]) == {"smooth"}
    for method, per_pattern in calibration_curves(whole)[0].items():
        for pattern, (cycle, fill) in per_pattern.items():
            assert np.allclose(curves[method][pattern][0], cycle, rtol=1e-12), method
            assert np.allclose(curves[method][pattern][1], fill, rtol=1e-12), method


def test_band_widths_from_the_scores_of_two_sets_are_those_of_all_errors():
    # scores |error| / scale at step 1: 1 2 3 4 5 6 7 8 9 (scale 1); at level 0.5 the band is
    # the ceil(10 x 0.5) = 5th smallest = 5, whichever set each score came from
    errors = pl.DataFrame(
        {
            "unique_id": list(range(9)),
            "cutoff": [AS_OF] * 9,
            "ds": [AS_OF] * 9,
            "error": [1.0, -2.0, 3.0, 4.0, -5.0, 6.0, 7.0, 8.0, -9.0],
            "demand_pattern": ["smooth"] * 9,
            "scale": [1.0] * 9,
        }
    )
    settings = _config().forecast.model_copy(update={"interval_level": 50.0})
    sets = [
        {("backtest", *key): v for key, v in conformity_scores(errors.filter(mask)).items()}
        for mask in (pl.col("unique_id") % 3 == 0, pl.col("unique_id") % 3 != 0)
    ]
    pooled = band_widths(sets, settings, 1).filter(pl.col("pool") == "backtest")
    assert pooled["band_width"].to_list() == [5.0]
    # each tail at (1 + 0.5) / 2: the ceil(10 x 0.75) = 8th smallest of the signed scores
    # actual - forecast (-8 -7 -6 -4 -3 -1 2 5 9): 5, and of forecast - actual
    # (-9 -5 -2 1 3 4 6 7 8): 7
    assert pooled["band_upper"].to_list() == [5.0]
    assert pooled["band_lower"].to_list() == [7.0]
    assert_frame_equal(
        pooled.drop("pool"), conformal_band_width(errors, 0.5, 1), check_row_order=False
    )


def _in_process(monkeypatch: pytest.MonkeyPatch, partitions: int) -> None:
    """forecast.engine dask runs its partitions one after another in this process."""

    @contextmanager
    def cluster(settings):
        yield engines.Cluster(
            "dask",
            partitions,
            engines.Backend("dask", id, id),
            list,
            lambda function, handles, *shared: [function(h, *shared) for h in handles],
            list,
        )

    monkeypatch.setitem(engines.OPENERS, "dask", cluster)


def test_pooled_seasonality_pools_the_catalogue_of_every_partition(monkeypatch):
    """40 intermittent items with a yearly swing: each of two partitions alone holds fewer
    than the 30 series the pooled profile needs, together they have it."""
    rng = np.random.default_rng(5)
    days = 560
    start = AS_OF - dt.timedelta(days=days)
    swing = 1 + 0.8 * np.sin(2 * np.pi * np.arange(days) / 364)
    skus = [f"I{i:03d}" for i in range(40)]
    sales = pl.concat(
        pl.DataFrame(
            {
                "date": [start + dt.timedelta(days=d) for d in range(days)],
                "sku": sku,
                "location": "W",
                "quantity": np.where(rng.random(days) < 0.06 * swing, rng.integers(1, 6, days), 0),
            }
        ).filter(pl.col("quantity") > 0)
        for sku in skus
    ).with_columns(pl.col("quantity").cast(pl.Float64))
    stock = pl.DataFrame({"sku": skus, "location": "W", "on_hand": 3.0})
    shop = {"sales": sales, "stock": stock}
    parts = stock.select(partition_of(2).alias("part"))["part"].value_counts()["count"]
    assert parts.len() == 2 and parts.max() < MIN_POOLED_SERIES
    _in_process(monkeypatch, 2)
    local = stockplan.plan(shop, _config(pooled_seasonality=True))
    # the pooled profile scales the flat intermittent forecasts week by week
    weekly = local.tables["forecast"].group_by("sku").agg(pl.col("forecast").n_unique())
    assert (weekly["forecast"] > 1).all()
    remote = stockplan.plan(shop, _config("dask", pooled_seasonality=True))
    _assert_same_plan(local, remote)


def test_seasonal_sums_of_two_sets_of_series_give_the_catalogues_factors():
    rng = np.random.default_rng(8)
    weeks = 70
    start = AS_OF - dt.timedelta(weeks=weeks)
    history = pl.DataFrame(
        {
            "sku": [f"S{i}" for i in range(36) for _ in range(weeks)],
            "location": "W",
            "period_start": [
                start + dt.timedelta(weeks=w) for _ in range(36) for w in range(weeks)
            ],
            "demand": rng.poisson(3.0, 36 * weeks).astype(float),
        }
    )
    origin = history_origin(history, "week")
    assert origin == AS_OF
    halves = [
        history.filter(pl.col("sku").is_in([f"S{i}" for i in range(k, 36, 2)])) for k in (0, 1)
    ]
    sums = [seasonal_sums(half, origin, "week", 52) for half in halves]
    assert [count for count, _ in sums] == [18, 18]  # each alone under the 30 it needs
    assert seasonal_factors(sums[:1], origin, "week", 52, 4).height == 0
    pooled = seasonal_factors(sums, origin, "week", 52, 4)
    assert_frame_equal(pooled, pooled_seasonal_factors(history, "week", 52, 4), rel_tol=1e-12)
    assert pooled.height == 4


def test_promotions_lift_by_category_pooled_over_every_partition(monkeypatch):
    """K002 and K006 (category C2, one partition) sold twice their rate in a past promotion;
    K010 (C2, the other partition) never was on promotion: its lift is the category's,
    measured in the other partition, and a planned promotion of the whole category (a row
    without a sku) lifts its forecast as in the local plan."""
    shop = _shop()
    past = (AS_OF - dt.timedelta(days=100), AS_OF - dt.timedelta(days=80))
    promoted = pl.col("sku").is_in(["K002", "K006"]) & pl.col("date").is_between(*past)
    shop["sales"] = shop["sales"].with_columns(
        pl.when(promoted).then(pl.col("quantity") * 2).otherwise(pl.col("quantity"))
    )
    ahead = (AS_OF + dt.timedelta(days=7), AS_OF + dt.timedelta(days=27))
    shop["promotions"] = pl.DataFrame(
        {
            "sku": ["K002", "K006", None],
            "category": [None, None, "C2"],
            "start": [past[0], past[0], ahead[0]],
            "end": [past[1], past[1], ahead[1]],
        }
    )
    parts = dict(
        pl.DataFrame({"sku": ["K002", "K006", "K010"]})
        .with_columns(partition_of(2).alias("part"))
        .iter_rows()
    )
    assert parts["K002"] == parts["K006"] != parts["K010"]
    _in_process(monkeypatch, 2)
    local = stockplan.plan(shop, _config())
    lift = dict(local.tables["classes"].select("sku", "measured_uplift").drop_nulls().iter_rows())
    assert lift["K010"] > 0.5  # about the doubled sales of the category's promotions
    lifted = local.tables["forecast"].filter(
        (pl.col("sku") == "K010") & (pl.col("promo_uplift") > 0)
    )
    assert lifted.height > 0
    remote = stockplan.plan(shop, _config("dask"))
    _assert_same_plan(local, remote)


def test_the_dead_item_check_from_the_sums_of_two_sets_is_that_of_all():
    # one backtest horizon of 4 buckets; at that earlier origin 6 items had been silent
    # for 10 buckets after selling 2 of their first 6: (1 - 2/6)^10 = 0.017 < 0.05, so
    # the rule would have called them dead. 4 of them sold again since (4/6 >= 0.05),
    # in 1, 2, 1 and 2 of the 4 buckets: 6 / (4 x 6) = 0.25 is their come-back rate.
    # Today's dead item (last sale in bucket 9 of 20: silent 10) sets the shortest
    # silence 10 they must have had; it was silent only 6 buckets at that origin.
    since = [1, 2, 1, 2, 0, 0]
    series = pl.DataFrame(
        {
            "n_obs": [20] * 7,
            "last_sale_index": [19, 18, 19, 18, 5, 5, 9],
            "selling_periods": [2 + k for k in since] + [2],
            "last_sale_before": [5] * 6 + [9],
            "sales_since": [*since, 0],
            "demand_pattern": ["lumpy"] * 6 + ["dead"],
        },
        schema_overrides={"n_obs": pl.UInt32, "last_sale_index": pl.UInt32},
    )
    assert come_back_rate(series, 0.05, 4) == pytest.approx(6 / 24)
    halves = [come_back_sums(series[rows], 0.05, 4) for rows in ([0, 2, 4, 6], [1, 3, 5])]
    assert come_back_from(halves, 0.05) == pytest.approx(6 / 24)
    # the set without today's dead item alone would find no silence to compare with
    assert come_back_rate(series[[0, 1, 2, 3]], 0.05, 4) is None


def test_the_pools_best_combination_from_two_sets_is_that_of_all():
    # pool P, three models. y = 10 at every window; A forecasts 6, B 14, C 9: alone C is
    # best (MAE 1), but the average of A and B is exact (0): with combine_top 2 the pool
    # takes A and B, whichever set each series was scored in.
    rows = []
    for uid in range(4):
        for window in range(3):
            for model, value in (("A", 6.0), ("B", 14.0), ("C", 9.0)):
                rows.append((uid, AS_OF + dt.timedelta(days=7 * window), 10.0, model, value))
    backtest = pl.DataFrame(
        rows, schema=["unique_id", "ds", "y", "model", "value"], orient="row"
    ).with_columns(pl.col("ds").alias("cutoff"))
    pools = pl.DataFrame({"unique_id": range(4), "pool": "P", "scale": 1.0})

    def scores(ids: list[int]) -> pl.DataFrame:
        mine = backtest.filter(pl.col("unique_id").is_in(ids))
        per_series = mine.group_by("unique_id", "model").agg(
            (pl.col("value") - pl.col("y")).pow(2).mean().alias("mse"),
            (pl.col("value") - pl.col("y")).abs().mean().alias("mae"),
        )
        return pool_scores(per_series, pools, 2, mine)

    whole = pool_ranking([scores([0, 1, 2, 3])], 2)
    split = pool_ranking([scores([0, 2]), scores([1, 3])], 2)
    assert sorted(whole["model"]) == sorted(split["model"]) == ["A", "B"]
    assert_frame_equal(whole.sort("model"), split.sort("model"))


def _conformal(engine: str = "local", address: str | None = None, windows: int = 8):
    """Conformal safety factors on the normal (parametric) lead-time demand, the planning
    date, otherwise the default settings."""
    return parse_config(
        {
            "inputs": {"sales": "sales.csv", "stock": "stock.csv"},
            "planning": {"as_of": AS_OF.isoformat()},
            "policy": {"quantile_method": "conformal", "lead_time_demand": "parametric"},
            "forecast": {"engine": engine, "engine_address": address, "backtest_windows": windows},
            "transfers": {"enabled": True},
        }
    )


def test_the_conformal_plan_on_dask_is_the_local_plan(dask_scheduler):
    shop = _shop()
    local = stockplan.plan(shop, _conformal())
    normal = stockplan.plan(
        shop,
        _conformal().model_copy(
            update={"policy": _conformal().policy.model_copy(update={"quantile_method": "normal"})}
        ),
    )
    # the conformal factors (patterns with at least 20 pooled backtest shortfalls) change
    # the safety stock of the series planned on the normal distribution
    on_normal = pl.col("ltd_method") == "normal"
    changed = (
        local.tables["orders"]
        .filter(on_normal)
        .join(normal.tables["orders"], on=["sku", "location"], suffix="_normal")
        .filter((pl.col("safety_stock") - pl.col("safety_stock_normal")).abs() > 1e-6)
    )
    assert changed.height > 0
    remote = stockplan.plan(shop, _conformal("dask", dask_scheduler))
    _assert_same_plan(local, remote)


class _Gathered(list):
    """The results of one step's tasks, with the step's name."""

    step = ""


def _array_sizes(found: object, sizes: list[int]) -> list[int]:
    """The length of every numpy array in `found` (in dicts, lists, tuples and dataclasses;
    the per-series frames of the steps that return rows are not arrays)."""
    if isinstance(found, np.ndarray):
        sizes.append(found.size)
    elif isinstance(found, dict):
        for value in found.values():
            _array_sizes(value, sizes)
    elif isinstance(found, list | tuple):
        for value in found:
            _array_sizes(value, sizes)
    elif dataclasses.is_dataclass(found) and not isinstance(found, type):
        for item in dataclasses.fields(found):
            _array_sizes(getattr(found, item.name), sizes)
    return sizes


def _recording(monkeypatch: pytest.MonkeyPatch, partitions: int) -> dict[str, list[int]]:
    """forecast.engine dask in this process (as `_in_process`), recording per step the
    length of every numpy array the driver gathers."""
    gathered: dict[str, list[int]] = {}

    def map_(function, handles, *shared):
        results = _Gathered(function(handle, *shared) for handle in handles)
        results.step = function.__name__
        return results

    def gather(results):
        _array_sizes(list(results), gathered.setdefault(getattr(results, "step", "?"), []))
        return list(results)

    @contextmanager
    def cluster(settings):
        yield engines.Cluster(
            "dask", partitions, engines.Backend("dask", id, id), list, map_, gather
        )

    monkeypatch.setitem(engines.OPENERS, "dask", cluster)
    return gathered


def _twice_the_shop() -> dict[str, pl.DataFrame]:
    """The shop and a copy of it under other sku codes: twice the series."""
    shop = _shop()
    copy = {
        name: frame.with_columns(pl.concat_str(pl.lit("L"), pl.col("sku")).alias("sku"))
        for name, frame in shop.items()
    }
    return {name: pl.concat([shop[name], copy[name]]) for name in shop}


def test_the_driver_gathers_no_score_array_that_grows_with_windows_and_series(monkeypatch):
    """The band's conformity scores and the backtest shortfalls of the conformal factors
    (one number per series, backtest window and step) stay in the partitions: the driver
    gets counts per bin and the values of one bin at most, so with 8 bins every array it
    gathers is at most 8 long, or a table of counts whose size does not depend on the
    data (the lead-time-demand calibration's). Before, it gathered the scores."""
    monkeypatch.setattr(ranks, "BINS", 8)
    monkeypatch.setattr(ranks, "VALUES", 8)
    runs = {}
    for name, shop, windows in (("small", _shop(), 4), ("large", _twice_the_shop(), 10)):
        gathered = _recording(monkeypatch, 2)
        plan = stockplan.plan(shop, _conformal("dask", windows=windows))
        runs[name] = gathered
        series = plan.tables["classes"].height
        assert series == (20 if name == "small" else 40)
    # 2.5 times the windows on twice the series: 5 times the scores
    for step, sizes in runs["large"].items():
        small = runs["small"].get(step, [])
        fixed = max(sizes, default=0) == max(small, default=0)
        assert fixed or max(sizes, default=0) <= 8, (step, max(sizes), max(small, default=0))
    # the band scores and the shortfalls were ranked over the partitions
    assert any(max(runs["large"].get(step, [0])) > 0 for step in ("_band_ranks", "_error_ranks"))


def _shop_with_a_sku_bought_without_receipts() -> dict[str, pl.DataFrame]:
    """The shop plus K012, sold and stocked in WH1 and bought from North (the product
    master's supplier; backup South) but with no purchase order of its own."""
    shop = _shop()
    rng = np.random.default_rng(12)
    dates = [AS_OF - dt.timedelta(days=i) for i in range(1, 301)]
    sales = pl.DataFrame(
        {
            "date": dates,
            "sku": "K012",
            "location": "WH1",
            "quantity": rng.poisson(6.0, len(dates)).astype(float),
            "unit_price": 40.0,
        }
    ).filter(pl.col("quantity") > 0)
    stock = pl.DataFrame({"sku": ["K012"], "location": ["WH1"], "on_hand": [20.0]})
    products = pl.concat(
        [shop["products"], pl.DataFrame({"sku": ["K012"], "category": ["C0"]})]
    ).with_columns(
        pl.when(pl.col("sku") == "K012").then(pl.lit("North")).alias("supplier"),
        pl.when(pl.col("sku") == "K012").then(pl.lit("South")).alias("backup_supplier"),
    )
    return {
        **shop,
        "sales": pl.concat([shop["sales"], sales]),
        "stock": pl.concat([shop["stock"], stock.with_columns(unit_cost=25.0)]),
        "products": products,
    }


@pytest.fixture(scope="module")
def unreceived_shop_and_local_plan():
    """The shop with K012 (`_shop_with_a_sku_bought_without_receipts`) and its local plan
    under the default settings, planned once for the module (the tests only read it)."""
    shop = _shop_with_a_sku_bought_without_receipts()
    return shop, stockplan.plan(shop, _config())


def _receipts(
    shop: dict[str, pl.DataFrame], supplier: str, skus: list[str] | None = None
) -> pl.Series:
    """The supplier's lead times in days, received - ordered, over all its skus (or `skus`)."""
    po = shop["purchase_orders"].filter(pl.col("supplier") == supplier)
    if skus is not None:
        po = po.filter(pl.col("sku").is_in(skus))
    return (po["received_date"] - po["order_date"]).dt.total_days().cast(pl.Float64)


def test_the_partitions_get_lead_time_statistics_per_supplier_not_per_series(
    unreceived_shop_and_local_plan, monkeypatch
):
    """The driver sends the partitions one lead-time row per supplier (2 here: North and
    South), no frame with a row per series; each partition resolves its own series' lead
    times and backup lead times from its rows, with the same numbers as locally."""
    shop, local = unreceived_shop_and_local_plan
    sent: dict[str, list[pl.DataFrame]] = {}

    def map_(function, handles, *shared):
        frames = [s for s in shared if isinstance(s, pl.DataFrame)]
        sent.setdefault(function.__name__, []).extend(frames)
        return [function(handle, *shared) for handle in handles]

    @contextmanager
    def cluster(settings):
        yield engines.Cluster("dask", 2, engines.Backend("dask", id, id), list, map_, list)

    monkeypatch.setitem(engines.OPENERS, "dask", cluster)
    remote = stockplan.plan(shop, _config("dask"))
    for step in ("_step_supply", "_step_orders"):
        pooled = [f for f in sent[step] if "supp_n" in f.columns]
        assert [f.height for f in pooled] == [2], step  # North and South
        assert sorted(pooled[0]["supplier"]) == ["North", "South"]
        assert not [f.columns for f in sent[step] if "location" in f.columns], step
    _assert_same_plan(local, remote)


def test_a_sku_without_receipts_takes_its_suppliers_pooled_lead_time_on_dask(
    unreceived_shop_and_local_plan, dask_scheduler
):
    """K012 has no receipt of its own: its order, switched from North (6-15 days) to its
    faster backup South (3-5 days), plans with the mean and std (ddof 1) of South's
    receipts over every sku, though its partition holds only some of them."""
    shop, local = unreceived_shop_and_local_plan
    south = sorted(set(shop["purchase_orders"].filter(pl.col("supplier") == "South")["sku"]))
    parts = pl.DataFrame({"sku": [*south, "K012"]}).with_columns(partition_of(2).alias("part"))
    home = parts.filter(pl.col("sku") == "K012")["part"].item()
    together = parts.filter((pl.col("part") == home) & (pl.col("sku") != "K012"))["sku"]
    assert 0 < together.len() < len(south)  # the partition alone would pool other receipts
    everywhere, alone = _receipts(shop, "South"), _receipts(shop, "South", together.to_list())
    assert everywhere.mean() != pytest.approx(alone.mean(), rel=1e-6)
    remote = stockplan.plan(shop, _config("dask", dask_scheduler))
    _assert_same_plan(local, remote)
    for plan in (local, remote):
        row = plan.tables["orders"].filter(pl.col("sku") == "K012")
        assert row["lead_time_source"].to_list() == ["supplier history"]
        assert row["supplier"].to_list() == ["South"]
        assert row["lead_time_days"].item() == pytest.approx(everywhere.mean(), rel=1e-12)
        assert row["lead_time_std_days"].item() == pytest.approx(everywhere.std(), rel=1e-12)
