"""Replay the demand history with the configured policy and with a rule-of-thumb baseline.

The last `simulate.periods` buckets before as_of are replayed day by day for every active
sku x location that had history when the replay starts:

- Each item is reviewed on days 0, R, 2R, ... of the replay, R its supplier's own
  `suppliers.review_days` (whole days), else `policy.review_days`, as `plan` orders it;
  at its review the policy computes its levels exactly as `plan` does, over its own
  L + R (same forecasts, safety stock, MOQ / pack rounding; the promotions table's lift only
  with `simulate.plan_promotions`, `planned_promotions`), from forecasts refit every
  `refit_every` buckets on the history known at that moment (rolling origin: nothing after
  the origin is used, lead times included). The lead-time-demand calibration scores each
  backtest forecast over the same age (up to `refit_every` buckets stale), as it is used.
  Between refits each review's forecast level follows the buckets sold since the refit
  (`simulate.level_alpha`, `smoothed_levels`), as a weekly plan sees last week's sales.
  The replay's reviews are on the union of every item's review days; on each, only the
  items due (day a multiple of their R) order (`Replay.reviewing`).
- An order placed on day t arrives at the start of day t + l, with l drawn from
  Normal(L, sigma_L) rounded, at least one day. Draws and demand are the same for every
  policy compared (common random numbers), so differences are the policies'.
- Demand is the actual net daily sales, each item's own: a successor's copies of its
  predecessor's history (`succession`) are history to forecast on, not demand, and until
  its switch date it is classed and sized at each origin on its own sales as `plan` would.
  Unserved demand is lost (`unmet_demand: lost`) or waits as a backorder; fill rate
  counts only demand served from stock on its day.
- Each review caps order-up-to as `plan` does on that day (`item_rules.item_caps` on the
  refit's forecast, `caps.capped_orders`): shelf life, a predecessor's demand until its
  successor's switch date (its order at most the demand between its arrival and the
  switch, on the review's position) and no order from it, nor from the review whose order
  would arrive on or after it, kits; the starting stock stays under the first review's cap.
- An item with a shelf life is held by receipt (`shelf_stock.ShelfStock`): sales and
  backorders take the oldest units first (FIFO), and a unit is written off at the start of
  the day its age reaches shelf_life_days - `shelf_life.sell_by_days` (rounded to days),
  before that day's sales: received on day r with U such days, it sells on days r .. r +
  U - 1. Written-off units are not on hand (position, inventory value) from that day on.
  The policy's position at a review also leaves out, as `plan` does, the units that will
  be written off before they sell at the review's forecast rate (a lot of age a has U - a
  selling days left, the oldest sells first, `shelf_life.lot_sales`); the baseline
  counts them.
  The starting stock is taken as received on the replay's first day (it is the replay's
  own, not the stock file's lots, whose expiry dates are of today's stock).
- The baseline: order up to `baseline_up_to_weeks` of the trailing 8-week average sales
  whenever the position is at or below `baseline_reorder_weeks` of it, rounded like the
  policy's orders.

Both start with stock equal to the expected demand over L + R (no safety stock), so
neither gets a head start; with `simulate.warmup` (default) a series' metrics count only
from day ceil(L + R) on, once its first order can have arrived, so the empty start does not
blur the targets (a warm-up period, Law 2015, ch. 9). Metrics per run: fill_rate = served / demand;
cycle_service_level = share of (series, cycle) pairs with demand and no stockout, a cycle
being the series' own review period for (R, S) series and the replenishment cycle (from
one order's arrival to the next) for series run as min-max or (s, Q), whose reorder point protects
the replenishment cycle, not every review period (Silver, Pyke & Thomas 2017, ch. 6);
stockout_days = series-days with unmet demand; avg_inventory_value = mean over days of
the sum of end-of-day stock x unit cost; orders_placed; expired_units and expired_value
(at unit cost) = units written off unsold on the days counted. For baseline rows,
policy_inventory_at_same_fill is the policy curve's inventory value at the baseline's fill
rate (linear between targets; empty outside the curve); for policy rows,
rule_inventory_at_same_fill and inventory_vs_rule compare with the rule's curve at the
policy's fill rate (`with_rule_comparison`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from stockplan.caps import capped_orders
from stockplan.config import SHORTEST_REPLAY, Config, Policy
from stockplan.demand import BUCKET_DAYS, SERIES, bucket_start, default_as_of, demand_history
from stockplan.errors import StockplanError
from stockplan.i18n import BUCKET_UNITS, counted_text, phrase
from stockplan.item_rules import actual_sales, item_caps, item_tables
from stockplan.large_orders import large_order_lines, without_large_orders
from stockplan.lead_time_demand import LeadTimeDemand, daily_demand, whole_review_days
from stockplan.leadtime import resolve_lead_times, review_days_of
from stockplan.policy import ALLOCATED_NOTE, round_order_quantity
from stockplan.promotions import apply_promotions, uplift_from, uplift_sums, with_lift_risk
from stockplan.reorder import policy_types
from stockplan.segmentation import PATTERNS
from stockplan.series import (
    classified_history,
    excluded_days,
    forecast_series,
    item_attributes,
    lead_time_demand_draws,
    product_categories,
    series_base,
    successor_classes,
    unit_values,
    with_lead_times,
    with_own_spread,
    with_successor_classes,
)
from stockplan.shelf_life import usable_shelf_days
from stockplan.shelf_stock import ShelfStock
from stockplan.succession import (
    before_switch_sales,
    own_demand_of,
    own_sales_before_switch,
    successor_forecast,
)
from stockplan.tables import SIMULATION_COLUMNS

UNREACHABLE_COLUMNS = [
    "sku",
    "location",
    "demand_pattern",
    "target",
    "promised_service",
    "achieved_service",
    "fill_rate",
    "cycle_service_level",
    "demand_units",
    "largest_day_units",
    "unmet_units",
]
BASELINE_HISTORY_DAYS = 56
Progress = Callable[[str], None]


@dataclass
class Replay:
    """Everything a run needs, shared by every policy compared."""

    series: pl.DataFrame  # sku, location, unit_cost, moq, pack_size, max_order (sorted)
    start: dt.date
    demand: np.ndarray  # [series, BASELINE_HISTORY_DAYS + days] actual net daily demand
    review_days: int  # policy.review_days in whole days: R of every series without its own
    lead_draws: np.ndarray  # [series, reviews] lead time in days of an order at each review
    initial_stock: np.ndarray
    levels: list[pl.DataFrame]  # per review: the plan_orders input, position to be set
    error_scores: list[dict] | None = None  # per review: pooled backtest scores (conformal)
    lead_time_demand: list[LeadTimeDemand] | None = None  # per review: bootstrap draws
    set_aside_units: float = 0.0  # large-order units replayed as make-to-order, not from stock
    warmup_days: np.ndarray | None = None  # per series: days before metrics count
    # per series: cycle service counted per replenishment cycle (min-max series, see
    # `replay_policy`) instead of per review period
    order_cycles: np.ndarray | None = None
    # per review: the item caps on order-up-to (`item_rules.item_caps`), None where none apply
    caps: list[pl.DataFrame | None] | None = None
    # per series: days a unit sells from its receipt (shelf life less sell-by days), nan
    # without a shelf life; None: no item has one (`shelf_stock`)
    usable_days: np.ndarray | None = None
    # per series: R in whole days, its supplier's review_days; None: `review_days` for all
    series_review_days: np.ndarray | None = None

    def review_periods(self) -> np.ndarray:
        """R per series in whole days (`series_review_days`, else `review_days` for all)."""
        if self.series_review_days is not None:
            return self.series_review_days
        return np.full(self.series.height, self.review_days)

    def review_schedule(self, reviews: int | None = None) -> np.ndarray:
        """The replay days of its reviews, in order: the union of every series' days 0, R,
        2R, ... before the replay's end (`review_schedule`); the first `reviews` of them."""
        n_days = self.demand.shape[1] - BASELINE_HISTORY_DAYS
        if self.series_review_days is None:  # one R for all: every R days
            count = reviews if reviews is not None else -(-n_days // self.review_days)
            return np.arange(count) * self.review_days
        return review_schedule(self.series_review_days, n_days, self.review_days)[:reviews]

    def reviewing(self, day: int) -> np.ndarray:
        """Per series: whether replay day `day` is one of its reviews (a multiple of its R)."""
        return day % self.review_periods() == 0


def review_schedule(periods: np.ndarray, n_days: int, review_days: int) -> np.ndarray:
    """Days in [0, n_days) that are a multiple of some series' R (`periods`, whole days;
    `review_days` where there is no series), in order: the replay's reviews."""
    distinct = np.unique(periods) if periods.size else np.array([review_days])
    return np.unique(np.concatenate([np.arange(0, n_days, r) for r in distinct]))


def prepare_replay(
    tables: dict[str, pl.DataFrame], config: Config, progress: Progress | None = None
) -> Replay:
    """Refit the forecasts on each origin and build the per-review policy inputs, with the
    plan's own series-building steps (`stockplan.series`) on the history known then.

    `tables`: the inputs as read. The items are taken as `plan` takes them (`item_tables`:
    kit sales as component demand, successors' inherited history, lots summed) for the
    forecasts, classes and levels; the demand replayed is each item's own
    (`item_rules.actual_sales`), never a successor's inherited copies. At each origin a
    successor selling under its own code before its switch is classed, forecast and sized
    on its own sales as `plan` would on that date (`succession`), and every review's
    order-up-to caps are `plan`'s on that day (`item_caps`, on the refit's forecast)."""
    say = progress or (lambda _message, total=None: None)
    settings, planning = config.simulate, config.planning
    given_sales = tables["sales"]  # before successors inherit (`succession.own_demand`)
    succession = tables.get("succession")
    inherits = succession is not None and succession.height > 0
    actual = actual_sales(tables) if inherits else None
    tables, _ = item_tables(tables)
    sales, stock = tables["sales"], tables["stock"]
    products, purchase_orders = tables.get("products"), tables.get("purchase_orders")
    bucket = planning.bucket
    days = BUCKET_DAYS[bucket]
    as_of = planning.as_of or default_as_of(sales)
    end = pl.select(bucket_start(pl.lit(as_of), bucket)).item()
    start = end - dt.timedelta(days=settings.periods * days)
    review = max(1, round(config.policy.review_days))
    n_days = (end - start).days

    attributes = item_attributes(products, stock, sales)
    categories = product_categories(products)
    unit_value = unit_values(attributes)
    known_po = (
        purchase_orders.filter(pl.col("received_date") < start)
        if purchase_orders is not None and "received_date" in purchase_orders.columns
        else None
    )
    excluded, promo_days = excluded_days(tables, config, as_of)
    set_aside = 0.0
    if config.policy.large_orders == "make_to_order":
        large = large_order_lines(sales, start, config.policy, first=dt.date.min, last=end)
        sales = without_large_orders(sales, large)
        if actual is not None:  # the lines set aside from the demand replayed: its own
            large = large_order_lines(actual, start, config.policy, first=dt.date.min, last=end)
            actual = without_large_orders(actual, large)
        set_aside = float(large.filter(pl.col("date") >= start)["quantity"].sum())
    actual = sales if actual is None else actual
    first_history = demand_history(sales, start, bucket, excluded)
    universe = (
        first_history.select(SERIES)
        .unique()
        .join(attributes.select("sku", "inactive"), on="sku", how="left")
        .filter(~pl.col("inactive").fill_null(False))
        .select(SERIES)
        .sort(SERIES)
    )
    if universe.height == 0:
        raise nothing_to_replay(sales, start, end, config)
    lead_times = resolve_lead_times(
        universe, products, tables.get("suppliers"), known_po, config.lead_time
    )
    if "review_days" in lead_times.columns:  # its supplier's R, in the whole days reviewed
        lead_times = lead_times.with_columns(pl.col("review_days").round().clip(lower_bound=1.0))
    keyed = universe.join(lead_times, on=SERIES, how="left", maintain_order="left")
    periods = whole_review_days(
        keyed.select(review_days_of(keyed, review)).to_series().to_numpy(), universe.height
    )
    review_days = review_schedule(periods, n_days, review).tolist()
    position = universe.with_columns(
        *[pl.lit(0.0).alias(c) for c in ("on_hand", "allocated", "backorders", "on_order")],
        pl.lit(0.0).alias("inventory_position"),
    )
    longest = lead_times["lead_time_days"].max() or 0.0
    longest_review = int(periods.max()) if periods.size else review
    horizon = settings.refit_every + math.ceil((longest + longest_review) / days) + 2

    level_alpha = settings.level_alpha if settings.refit_every > 1 else 0.0
    sold = (
        _bucket_matrix(
            demand_history(actual, end, bucket, excluded), universe, "demand", start, days, n_days
        )
        if level_alpha > 0
        else None
    )
    expected = None

    levels: list[pl.DataFrame] = []
    caps: list[pl.DataFrame | None] = []
    scores: list[dict] = []
    bootstraps: list[LeadTimeDemand | None] = []
    origin_draws = None
    base = forecast = None
    origin_scores: dict = {}
    origin_index = -1
    refit_days = settings.refit_every * days
    refits = len({review_day // refit_days for review_day in review_days})
    tick = say(counted_text("refitting forecasts at {n} origins", n=refits), total=refits)
    for review_day in review_days:
        today = start + dt.timedelta(days=review_day)
        index = (today - start).days // (settings.refit_every * days)
        if index != origin_index:
            origin_index = index
            origin = start + dt.timedelta(days=index * settings.refit_every * days)
            history, classes = classified_history(
                sales, origin, config, excluded, unit_value, universe
            )
            successor_sales = own_sales_before_switch(given_sales, succession, origin)
            own_classes = successor_classes(successor_sales, origin, config, excluded, unit_value)
            classes = with_successor_classes(classes, own_classes, config)
            forecast, summary, origin_scores = forecast_series(
                history, classes, config, horizon, categories
            )
            own = own_demand_of(successor_sales, succession, origin)
            forecast = successor_forecast(forecast, succession, origin, days, own)
            baseline = forecast  # promotion-free, as the buckets sold are (`smoothed_levels`)
            if settings.plan_promotions:
                forecast = planned_promotions(
                    forecast, tables, sales, promo_days, history, origin, config
                )
            base = with_own_spread(
                series_base(universe, position, classes, summary, attributes), own
            )
            origin_draws = lead_time_demand_draws(
                before_switch_sales(sales, successor_sales),
                lead_times,
                classes,
                origin,
                excluded,
                review,
                config,
                summary,
                attributes,
                backorder=settings.unmet_demand == "backorder",
                seed=settings.seed + index,
                forecast_age_days=settings.refit_every * days - review,
                level_alpha=level_alpha,
            )
            if sold is not None:
                expected = _bucket_matrix(baseline, universe, "forecast", origin, days, refit_days)
            if callable(tick):
                tick(1)
        current = forecast.filter(pl.col("period_start") >= bucket_start(pl.lit(today), bucket))
        level = with_lead_times(base, lead_times, current, days, review)
        level = with_lift_risk(level, current, days, review)
        seen = (today - origin).days // days
        if sold is not None and expected is not None and seen > 0:
            first = (origin - start).days // days
            actual_level, forecast_level = smoothed_levels(
                sold[:, first : first + seen], expected[:, :seen], level_alpha
            )
            level = with_updated_level(level, actual_level, forecast_level, days, review)
        levels.append(level)
        capped = item_caps(level, current, tables, config, today, days)
        caps.append(capped if capped.height else None)
        scores.append(origin_scores)
        bootstraps.append(origin_draws)

    rng = np.random.default_rng(settings.seed)
    mean = levels[0]["lead_time_days"].to_numpy()
    spread = levels[0]["lead_time_std_days"].fill_null(0.0).to_numpy()
    draws = rng.normal(mean[:, None], spread[:, None], (universe.height, len(review_days)))
    lead_draws = np.maximum(np.round(draws), 1).astype(int)
    first_day = start - dt.timedelta(days=BASELINE_HISTORY_DAYS)
    demand = np.nan_to_num(
        daily_demand(actual, universe, first_day, BASELINE_HISTORY_DAYS + n_days)
    )
    series = (
        universe.join(
            attributes.select("sku", "unit_cost", "moq", "pack_size", "max_order"),
            on="sku",
            how="left",
        )
        .join(levels[0].select(*SERIES, "demand_pattern"), on=SERIES, how="left")
        .sort(SERIES)
    )
    # the replay ignores per-sku settings (`replay_policies`): types by class as it runs them
    by_class = Policy.model_validate(config.policy.model_dump() | {"skus": {}})
    kind = levels[0].select(policy_types(by_class))["policy_type"].to_numpy()
    return Replay(
        order_cycles=kind != "rs",
        series=series,
        start=start,
        demand=demand,
        review_days=review,
        lead_draws=lead_draws,
        initial_stock=np.round(starting_stock(levels[0], caps[0])),
        warmup_days=np.ceil(mean + periods) if settings.warmup else None,
        levels=levels,
        error_scores=scores,
        lead_time_demand=bootstraps if config.policy.lead_time_demand != "parametric" else None,
        set_aside_units=set_aside,
        caps=caps,
        usable_days=usable_days(series, products, config.shelf_life.sell_by_days),
        series_review_days=periods,
    )


def nothing_to_replay(
    sales: pl.DataFrame, start: dt.date, end: dt.date, config: Config
) -> StockplanError:
    """The error for a replay without a series: no active item sold before `start`, the
    first day replayed, so there is nothing to forecast its first review on. Replayed, it
    would report every target met (fill rate 1.0 on no demand). When the sales history is
    shorter than `simulate.periods` it names the buckets held and the most that can be
    replayed: a series needs one bucket sold before the replay to forecast on."""
    bucket = config.planning.bucket
    days = BUCKET_DAYS[bucket]
    first = sales["date"].min() if sales.height else None
    if first is not None and first >= start:
        first_bucket = pl.select(bucket_start(pl.lit(first), bucket)).item()
        held = max(0, (end - first_bucket).days // days)
        zh = BUCKET_UNITS[bucket]["zh"]
        fields = dict(
            periods=config.simulate.periods,
            start=start,
            unit={"en": f"{bucket}s", "zh": zh},
            held=held,
            held_unit={"en": bucket if held == 1 else f"{bucket}s", "zh": zh},
            first=first,
        )
        if held - 1 >= SHORTEST_REPLAY:
            return StockplanError(phrase("error.replay_too_long", largest=held - 1, **fields))
        return StockplanError(
            phrase(
                "error.replay_history_short",
                shortest=SHORTEST_REPLAY,
                needed=SHORTEST_REPLAY + 1,
                **fields,
            )
        )
    return StockplanError(phrase("error.replay_no_series", start=start))


def usable_days(
    series: pl.DataFrame, products: pl.DataFrame | None, sell_by_days: float
) -> np.ndarray | None:
    """Per series: the days a unit sells from its receipt (`shelf_life.usable_shelf_days`,
    nan without a shelf life); None when no series has a shelf life."""
    if products is None or "shelf_life_days" not in products.columns:
        return None
    usable = series.select("sku").join(
        products.select("sku", usable_shelf_days(sell_by_days).alias("usable")).unique("sku"),
        on="sku",
        how="left",
        maintain_order="left",
    )["usable"]
    if usable.null_count() == usable.len():
        return None
    return usable.fill_null(float("nan")).to_numpy()


def shelf_stock(replay: Replay, n_days: int) -> ShelfStock | None:
    """The replay's stock by receipt for its series with a shelf life (`ShelfStock`),
    None when none can expire within the `n_days` replayed."""
    if replay.usable_days is None:
        return None
    shelf = ShelfStock(replay.usable_days, replay.initial_stock, n_days)
    return shelf if shelf else None


def starting_stock(level: pl.DataFrame, caps: pl.DataFrame | None) -> np.ndarray:
    """Stock per series at the replay's start: the expected demand over L + R
    (`demand_protection`), never above the first review's order-up-to cap (`caps`)."""
    if caps is None:
        return level["demand_protection"].to_numpy()
    return (
        level.select(*SERIES, "demand_protection")
        .join(caps, on=SERIES, how="left", maintain_order="left")
        .select(pl.min_horizontal("demand_protection", "order_up_to_cap"))
        .to_series()
        .to_numpy()
    )


def planned_promotions(
    forecast: pl.DataFrame,
    tables: dict[str, pl.DataFrame],
    sales: pl.DataFrame,
    promo_days: pl.DataFrame,
    history: pl.DataFrame,
    origin: dt.date,
    config: Config,
) -> pl.DataFrame:
    """A refit's forecast lifted for the promotions of the promotions table, as `plan`
    lifts its own (`promotions.apply_promotions`): a promotion on the calendar is known
    before it runs, and its days are in the demand replayed. The lift is measured on the
    promotion days before `origin` only (`uplift_sums`, `uplift_from`), else the row's
    own uplift or `promotions.default_uplift`."""
    promotions, products = tables.get("promotions"), tables.get("products")
    if promotions is None or promotions.height == 0:
        return forecast
    bucket_days = BUCKET_DAYS[config.planning.bucket]
    before = promo_days.filter(pl.col("date") < origin)
    sums = uplift_sums(sales, before, history, bucket_days)
    uplift = uplift_from(sums, history, products, config.promotions)
    return apply_promotions(
        forecast, promotions, products, uplift, bucket_days, config.promotions
    ).drop("promo_uplift")


def _bucket_matrix(
    frame: pl.DataFrame,
    universe: pl.DataFrame,
    value: str,
    first: dt.date,
    bucket_days: int,
    n_days: int,
) -> np.ndarray:
    """[series of `universe`, bucket] matrix of `value` for the buckets from `first` on that
    start within `n_days`; 0 where the frame has no row."""
    n = max(1, math.ceil(n_days / bucket_days))
    index = (
        frame.select(
            *SERIES,
            ((pl.col("period_start") - pl.lit(first)).dt.total_days() // bucket_days)
            .cast(pl.Int64)
            .alias("bucket"),
            pl.col(value).cast(pl.Float64).fill_null(0.0).fill_nan(0.0),
        )
        .filter((pl.col("bucket") >= 0) & (pl.col("bucket") < n))
        .join(universe.with_row_index("row"), on=SERIES, how="inner")
    )
    out = np.zeros((universe.height, n))
    rows = index["row"].to_numpy().astype(np.int64)
    np.add.at(out, (rows, index["bucket"].to_numpy()), index[value].to_numpy())
    return out


def smoothed_levels(
    sold: np.ndarray, expected: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """(actual level, forecast level) per series after the buckets since the refit.

    Simple exponential smoothing, l_t = l_{t-1} + alpha (y_t - l_{t-1}) (Brown 1959;
    Hyndman & Athanasopoulos, FPP3 8.1), run on the buckets sold (`sold`, [series, k]) and,
    with the same alpha, on the refit's forecast for those buckets (`expected`); both start
    at the forecast of the first bucket. Their ratio is the level correction: 1 while the
    sales follow the forecast path (seasonal shape included)."""
    actual = expected[:, 0].astype(float).copy()
    forecast = actual.copy()
    for k in range(sold.shape[1]):  # buckets since the refit (at most refit_every), not rows
        actual += alpha * (sold[:, k] - actual)
        forecast += alpha * (expected[:, k] - forecast)
    return actual, forecast


def with_updated_level(
    levels: pl.DataFrame,
    actual_level: np.ndarray,
    forecast_level: np.ndarray,
    bucket_days: int,
    review_days: float,
) -> pl.DataFrame:
    """The review's policy inputs with the forecast level updated from the sales since the
    refit (`smoothed_levels`), as a weekly plan would see them: demand over L + R and over L,
    forecast_per_day and sigma_e scaled by actual_level / forecast_level (a multiplicative
    level correction; the error scales with the level); where the refit forecast a zero
    level, the demand per day becomes actual_level / bucket_days over the same windows (R
    the row's own review_days, else `review_days`)."""
    ratio = np.divide(
        actual_level, forecast_level, out=np.ones_like(actual_level), where=forecast_level > 0
    )
    per_day = np.where(forecast_level > 0, np.nan, np.maximum(actual_level, 0.0) / bucket_days)
    lead = pl.col("lead_time_days")
    cover = pl.col("closure_cover_days") if "closure_cover_days" in levels.columns else pl.lit(0.0)
    fresh = pl.col("per_day").is_not_nan()
    return (
        levels.with_columns(pl.Series("ratio", ratio), pl.Series("per_day", per_day))
        .with_columns(
            pl.when(fresh)
            .then(pl.col("per_day") * (lead + review_days_of(levels, review_days) + cover))
            .otherwise(pl.col("demand_protection") * pl.col("ratio"))
            .alias("demand_protection"),
            pl.when(fresh)
            .then(pl.col("per_day") * lead)
            .otherwise(pl.col("demand_lead_time") * pl.col("ratio"))
            .alias("demand_lead_time"),
            pl.when(fresh)
            .then(pl.col("per_day"))
            .otherwise(pl.col("forecast_per_day") * pl.col("ratio"))
            .alias("forecast_per_day"),
            (pl.col("sigma_e") * pl.col("ratio")).alias("sigma_e"),
        )
        .drop("ratio", "per_day")
    )


def _rounded(series: pl.DataFrame, need: np.ndarray) -> np.ndarray:
    frame = series.with_columns(pl.Series("need", need))
    return (
        frame.select(
            round_order_quantity(
                pl.col("need"), pl.col("moq"), pl.col("pack_size"), pl.col("max_order")
            )
        )
        .to_series()
        .to_numpy()
    )


def replay_policy(
    replay: Replay,
    decide: Callable[[int, int, np.ndarray], np.ndarray],
    backorder: bool,
    sellable_position: bool = False,
):
    """Run one policy; `decide(review_index, day, inventory_position)` returns order qty
    per series, placed for the series whose review falls on `day` (`Replay.reviewing`).
    With `sellable_position` the position leaves out the units on hand that will be written
    off before they sell at the review's forecast rate (`replay.levels[review]`
    forecast_per_day), as `plan` leaves them out (`ShelfStock.unsellable`); without it
    (the rule of thumb) it counts every unit on hand.

    Returns per-series totals (served, demand, unmet, stockout_days, inventory_value and
    inventory_units summed over the days counted, orders, cycles, cycles_ok, days counted,
    expired_units and expired_value written off on the days counted, see the module
    docstring); `metrics` sums them.
    """
    n_series = replay.series.height
    history_days = BASELINE_HISTORY_DAYS
    n_days = replay.demand.shape[1] - history_days
    pipeline = np.zeros((n_series, n_days + int(replay.lead_draws.max(initial=1)) + 2))
    on_hand = replay.initial_stock.astype(float).copy()
    backlog = np.zeros(n_series)
    cost = replay.series["unit_cost"].fill_null(0.0).to_numpy()
    totals = {
        name: np.zeros(n_series)
        for name in (
            "served",
            "demand",
            "unmet",
            "stockout_days",
            "inventory_value",
            "inventory_units",
            "orders",
            "cycles",
            "cycles_ok",
            "expired_units",
            "expired_value",
        )
    }
    shelf = shelf_stock(replay, n_days)
    lots = shelf.rows if shelf else None
    cycle_short = np.zeros(n_series, dtype=bool)
    cycle_demand = np.zeros(n_series, dtype=bool)
    warmup = replay.warmup_days if replay.warmup_days is not None else np.zeros(n_series)
    cycle_counts = np.zeros(n_series, dtype=bool)
    totals["days"] = np.zeros(n_series)

    by_arrival = (
        replay.order_cycles if replay.order_cycles is not None else np.zeros(n_series, dtype=bool)
    )
    # replay day -> review index: the union of every series' review days
    review_at = {int(day): i for i, day in enumerate(replay.review_schedule())}

    def close_cycle(rows: np.ndarray | bool = True) -> None:
        totals["cycles"] += cycle_demand & cycle_counts & rows
        totals["cycles_ok"] += cycle_demand & ~cycle_short & cycle_counts & rows
        cycle_short[rows] = False
        cycle_demand[rows] = False

    for day in range(n_days):
        if by_arrival.any():  # a replenishment cycle ends where the next order arrives
            close_cycle(by_arrival & (pipeline[:, day] > 0))
        on_hand += pipeline[:, day]
        if shelf:
            shelf.receive(day, pipeline[:, day])
            expired = shelf.expire(day)
            on_hand[lots] = shelf.units
            counted = day >= warmup[lots]
            totals["expired_units"][lots] += expired * counted
            totals["expired_value"][lots] += expired * cost[lots] * counted
        if backorder:
            cleared = np.minimum(on_hand, backlog)
            on_hand -= cleared
            backlog -= cleared
            if shelf:
                shelf.take(day, cleared)
        if day in review_at:
            due = replay.reviewing(day)  # the series whose R divides the day
            if day > 0:
                close_cycle(~by_arrival & due)
            cycle_counts = np.where(due, day >= warmup, cycle_counts)
            review = review_at[day]
            position = on_hand + pipeline[:, day + 1 :].sum(axis=1) - backlog
            if shelf and sellable_position:
                rate = replay.levels[review]["forecast_per_day"].to_numpy()
                position[lots] -= shelf.unsellable(day, rate)
            qty = decide(review, day, position)
            placed = (qty > 0) & due
            totals["orders"] += placed & cycle_counts
            arrival = day + replay.lead_draws[:, review]
            np.add.at(pipeline, (np.nonzero(placed)[0], arrival[placed]), qty[placed])
        today = replay.demand[:, history_days + day]
        served = np.minimum(on_hand, today)
        on_hand -= served
        if shelf:
            shelf.take(day, served)
            on_hand[lots] = shelf.units
        unmet = today - served
        if backorder:
            backlog += unmet
        counts = day >= warmup
        totals["served"] += served * counts
        totals["demand"] += today * counts
        totals["unmet"] += unmet * counts
        short = unmet > 1e-9
        totals["stockout_days"] += short & counts
        cycle_short |= short
        cycle_demand |= today > 0
        totals["inventory_value"] += on_hand * cost * counts
        totals["inventory_units"] += on_hand * counts
        totals["days"] += counts
    close_cycle()
    return totals


def counted_demand(replay: Replay) -> np.ndarray:
    """[series, days] demand of the replayed days, 0 before a series' warm-up ends."""
    days = replay.demand.shape[1] - BASELINE_HISTORY_DAYS
    n_series = replay.series.height
    warmup = replay.warmup_days if replay.warmup_days is not None else np.zeros(n_series)
    counts = np.arange(days)[None, :] >= warmup[:, None]
    return replay.demand[:, BASELINE_HISTORY_DAYS:] * counts


def promised_by_series(
    replay: Replay, promised: np.ndarray, measure: str
) -> tuple[np.ndarray, np.ndarray]:
    """(weight, weighted promise) per series from `promised` ([reviews, series], the
    `promised_service` of each review's levels). The promise made at a series' review on
    day t_i is for the review period its order covers, days [t_i + l_i, t_i + l_i + R)
    with l_i that order's lead time and R the series' own (`Replay.review_periods`); it is
    weighted by the demand counted there (fill rate) or by 1 where that period has counted
    demand (cycle service), as `replay_policy` counts service; 0 at the replay's reviews
    that are not the series' own."""
    n_series, reviews = replay.lead_draws.shape[0], promised.shape[0]
    counted = counted_demand(replay)
    days = counted.shape[1]
    running = np.concatenate([np.zeros((n_series, 1)), np.cumsum(counted, axis=1)], axis=1)
    on = replay.review_schedule(reviews)[None, :]
    periods = replay.review_periods()[:, None]
    begin = np.minimum(on + replay.lead_draws[:, :reviews], days)
    end = np.minimum(begin + periods, days)
    rows = np.arange(n_series)[:, None]
    demand = np.where(on % periods == 0, running[rows, end] - running[rows, begin], 0.0)
    weight = demand if measure == "fill_rate" else (demand > 0).astype(float)
    return weight.sum(axis=1), (weight * promised.T).sum(axis=1)


def metrics(totals: dict[str, np.ndarray], rows: np.ndarray | None = None) -> dict:
    """Aggregate per-series replay totals (all series, or those where `rows` is True)."""
    pick = {k: (v if rows is None else v[rows]) for k, v in totals.items()}
    demand, cycles = pick["demand"].sum(), pick["cycles"].sum()
    days = np.maximum(pick["days"], 1)
    n_days = int(pick["days"].max()) if pick["days"].size else 0
    return {
        "fill_rate": float(pick["served"].sum() / demand) if demand else 1.0,
        "cycle_service_level": float(pick["cycles_ok"].sum() / cycles) if cycles else 1.0,
        "stockout_days": int(pick["stockout_days"].sum()),
        "avg_inventory_value": float((pick["inventory_value"] / days).sum()),
        "orders_placed": int(pick["orders"].sum()),
        "avg_inventory_units": float((pick["inventory_units"] / days).sum()),
        "unmet_units": float(pick["unmet"].sum()),
        "expired_units": float(pick["expired_units"].sum()),
        "expired_value": float(pick["expired_value"].sum()),
        "series": int(pick["demand"].size),
        "days": n_days,
        "promised_service": (
            float(pick["promised_sum"].sum() / pick["promised_weight"].sum())
            if "promised_weight" in pick and pick["promised_weight"].sum() > 0
            else None
        ),
    }


def simulate_policies(replay: Replay, config: Config) -> pl.DataFrame:
    """The `simulation` table: one row per policy target and per baseline scale."""
    return replay_policies(replay, config)["simulation"]


def policy_at_target(config: Config, target: float) -> Policy:
    """The config's policy with one service target for every item, as the replay runs it."""
    return Policy.model_validate(
        config.policy.model_dump() | {"service_level": target, "service_levels": {}, "skus": {}}
    )


def review_orders(
    replay: Replay,
    policy: Policy,
    config: Config,
    review: int,
    day: int,
    position: np.ndarray,
) -> pl.DataFrame:
    """The plan's order rows (`caps.capped_orders`) at one review of the replay: the levels
    set at `review`, capped by that review's item caps, the inventory position `position`
    per series, ordered on replay day `day`."""
    frame = replay.levels[review].with_columns(
        pl.Series("inventory_position", position),
        pl.lit(None, pl.Float64).alias("product_service_level"),
    )
    return capped_orders(
        frame,
        replay.caps[review] if replay.caps else None,
        policy,
        replay.start + dt.timedelta(days=day),
        BUCKET_DAYS[config.planning.bucket],
        replay.error_scores[review] if replay.error_scores else None,
        replay.lead_time_demand[review] if replay.lead_time_demand else None,
    )


def rule_of_thumb(
    replay: Replay, reorder_days: float, up_to_days: float
) -> Callable[[int, int, np.ndarray], np.ndarray]:
    """The baseline's decisions for `replay_policy`: with d the average daily sales of the
    last `BASELINE_HISTORY_DAYS` days, order up to `up_to_days` x d whenever the position
    is at or below `reorder_days` x d, rounded like the policy's orders."""
    window = BASELINE_HISTORY_DAYS

    def rule(review: int, day: int, position: np.ndarray) -> np.ndarray:
        rate = replay.demand[:, day : day + window].mean(axis=1)
        need = np.where(position <= reorder_days * rate, up_to_days * rate - position, 0.0)
        return _rounded(replay.series, need)

    return rule


def replay_policies(
    replay: Replay, config: Config, per_series: bool = False
) -> dict[str, pl.DataFrame]:
    """Run every policy target and baseline scale once; return the `simulation` table (all
    series) and `simulation_by_pattern` (the same per demand pattern at the replay start,
    with `policy_inventory_at_same_fill` from that pattern's own policy curve); with
    `per_series`, also `simulation_series`: every series per policy target, with the
    columns of `simulation_unreachable`."""
    settings = config.simulate
    backorder = settings.unmet_demand == "backorder"
    measure = config.policy.service_measure
    achieved_column = "cycle_service_level" if measure == "cycle" else "fill_rate"
    runs: list[tuple[str, float | None, dict]] = []
    for target in settings.targets:
        policy = policy_at_target(config, target)
        promised = np.ones((len(replay.levels), replay.series.height))
        held = np.zeros_like(promised)  # levels set by the pattern's allocation

        def decide(
            review: int,
            day: int,
            position: np.ndarray,
            policy: Policy = policy,
            promised: np.ndarray = promised,
            held: np.ndarray = held,
        ):
            orders = review_orders(replay, policy, config, review, day, position)
            promised[review] = orders["promised_service"].to_numpy()
            if "service_note" in orders.columns:
                note = orders["service_note"].str.contains(ALLOCATED_NOTE, literal=True)
                held[review] = note.fill_null(False).to_numpy()
            return orders["order_qty"].to_numpy()

        totals = replay_policy(replay, decide, backorder, sellable_position=True)
        totals["promised_weight"], totals["promised_sum"] = promised_by_series(
            replay, promised, measure
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            own = totals["promised_sum"] / totals["promised_weight"]
            held_share = promised_by_series(replay, held, measure)[1] / totals["promised_weight"]
        totals["promised_own"] = np.where(totals["promised_weight"] > 0, own, target)
        totals["allocated_share"] = np.nan_to_num(held_share)
        # reachable: promised its target, or held below it by the pattern's allocation
        # over most of its counted demand (the plan's summary leaves those out too)
        totals["reachable"] = (
            (totals["promised_own"] >= target - 1e-6) | (totals["allocated_share"] >= 0.5)
        ).astype(float)
        runs.append(("stockplan", target, totals))

    for scale in settings.baseline_scales:
        reorder_days = 7 * settings.baseline_reorder_weeks * scale
        up_to_days = 7 * settings.baseline_up_to_weeks * scale
        rule = rule_of_thumb(replay, reorder_days, up_to_days)
        name = (
            f"baseline: reorder at {settings.baseline_reorder_weeks * scale:g} weeks, "
            f"up to {settings.baseline_up_to_weeks * scale:g} weeks"
        )
        runs.append((name, None, replay_policy(replay, rule, backorder)))

    def split(totals: dict, rows: np.ndarray | None) -> dict:
        """Reachable / unreachable series of a policy run (`promised_by_series`)."""
        if "reachable" not in totals:
            return {}
        every = np.ones(totals["demand"].size, bool) if rows is None else rows
        reach = every & (totals["reachable"] > 0)
        unreach = every & ~(totals["reachable"] > 0)
        demand = totals["demand"][every].sum()
        out = metrics(totals, unreach)
        return {
            "reachable_series": int(reach.sum()),
            "reachable_service": metrics(totals, reach)[achieved_column] if reach.any() else None,
            "unreachable_series": int(unreach.sum()),
            "unreachable_demand_share": (
                float(totals["demand"][unreach].sum() / demand) if demand > 0 else 0.0
            ),
            "unreachable_promised": out["promised_service"] if unreach.any() else None,
            "unreachable_service": out[achieved_column] if unreach.any() else None,
        }

    def table(rows: np.ndarray | None) -> pl.DataFrame:
        simulation = pl.DataFrame(
            [
                {"policy": name, "target": target} | metrics(t, rows) | split(t, rows)
                for name, target, t in runs
            ],
            schema_overrides={
                "target": pl.Float64,
                "promised_service": pl.Float64,
                "reachable_series": pl.Int64,
                "reachable_service": pl.Float64,
                "unreachable_series": pl.Int64,
                "unreachable_demand_share": pl.Float64,
                "unreachable_promised": pl.Float64,
                "unreachable_service": pl.Float64,
            },
        )
        compared = [
            inventory_at_fill_rate(simulation, fill) if policy != "stockplan" else None
            for policy, fill in simulation.select("policy", "fill_rate").iter_rows()
        ]
        return with_rule_comparison(
            simulation.with_columns(
                pl.Series("policy_inventory_at_same_fill", compared, dtype=pl.Float64)
            )
        ).select(SIMULATION_COLUMNS)

    patterns = replay.series["demand_pattern"].to_numpy()
    by_pattern = [
        table(patterns == pattern).select(pl.lit(pattern).alias("demand_pattern"), pl.all())
        for pattern in PATTERNS
        if (patterns == pattern).any()
    ]
    out = {
        "simulation": table(None),
        "simulation_by_pattern": pl.concat(by_pattern)
        if by_pattern
        else pl.DataFrame(schema={"demand_pattern": pl.String}),
        "simulation_unreachable": unreachable_items(replay, runs, achieved_column),
    }
    if per_series:
        out["simulation_series"] = unreachable_items(replay, runs, achieved_column, every=True)
    return out


def unreachable_items(
    replay: Replay, runs: list, achieved_column: str, every: bool = False
) -> pl.DataFrame:
    """The series whose target was not reachable at sane stock in each policy run (with
    `every`, all series): their promised service (`promised_by_series`), what they
    achieved, their demand and their largest day of demand counted in the replay (with
    `every`, also their replenishment cycles counted for cycle service and
    `allocated_share`, the share of their counted demand whose levels the pattern's
    allocation set)."""
    counted = counted_demand(replay)
    largest = counted.max(axis=1) if counted.shape[1] else np.zeros(replay.series.height)
    frames = []
    for _name, target, totals in runs:
        if "reachable" not in totals:
            continue
        rows = (totals["reachable"] <= 0) | every
        demand = np.maximum(totals["demand"], 1e-12)
        cycles = np.maximum(totals["cycles"], 1)
        fill = np.where(totals["demand"] > 0, totals["served"] / demand, 1.0)
        cycle = np.where(totals["cycles"] > 0, totals["cycles_ok"] / cycles, 1.0)
        frames.append(
            replay.series.select(*SERIES, "demand_pattern")
            .with_columns(
                pl.lit(target, pl.Float64).alias("target"),
                pl.Series("promised_service", totals["promised_own"]),
                pl.Series("achieved_service", fill if achieved_column == "fill_rate" else cycle),
                pl.Series("fill_rate", fill),
                pl.Series("cycle_service_level", cycle),
                pl.Series("demand_units", totals["demand"]),
                pl.Series("largest_day_units", largest),
                pl.Series("unmet_units", totals["unmet"]),
                pl.Series("cycles", totals["cycles"]),
                pl.Series("allocated_share", totals.get("allocated_share", np.zeros(demand.size))),
            )
            .filter(pl.Series(rows))
        )
    if not frames:
        return pl.DataFrame(schema=dict.fromkeys(UNREACHABLE_COLUMNS, pl.Float64)).cast(
            {"sku": pl.String, "location": pl.String, "demand_pattern": pl.String}
        )
    columns = UNREACHABLE_COLUMNS + (["cycles", "allocated_share"] if every else [])
    # a row per series and target: without the location one item's warehouses came out
    # either way round (a sort on several keys does not keep the order of equal keys)
    return pl.concat(frames).select(columns).sort("target", "demand_pattern", *SERIES)


def inventory_at_fill_rate(simulation: pl.DataFrame, fill_rate: float) -> float | None:
    """The policy curve's average inventory value at `fill_rate`, interpolated linearly
    between the two targets around it; None outside the curve."""
    curve = simulation.filter(pl.col("policy") == "stockplan").sort("fill_rate")
    x, y = curve["fill_rate"].to_numpy(), curve["avg_inventory_value"].to_numpy()
    if curve.height == 0 or fill_rate < x[0] or fill_rate > x[-1]:
        return None
    return float(np.interp(fill_rate, x, y))


def rule_curve(simulation: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(fill rate, stock) of the rule of thumb's efficient curve: its `baseline:` rows sorted
    by fill rate, each with the least stock of any rule point that serves at least as much
    (a point that another beats on both fill and stock is dropped)."""
    rule = simulation.filter(pl.col("policy").str.starts_with("baseline:")).sort("fill_rate")
    x, y = rule["fill_rate"].to_numpy(), rule["avg_inventory_value"].to_numpy()
    return x, np.minimum.accumulate(y[::-1])[::-1] if y.size else y


def rule_inventory_at(simulation: pl.DataFrame, fill_rate: float) -> tuple[float, float] | None:
    """(rule fill rate compared, rule stock) for a policy serving `fill_rate`: the rule's
    curve (`rule_curve`) at that fill rate, linear between its points; above its best
    point, that point (the rule would need at least its stock for more fill, so a ratio
    against it is an upper bound); None below its lowest point or without rule rows."""
    x, y = rule_curve(simulation)
    if x.size == 0 or fill_rate < x[0]:
        return None
    if fill_rate > x[-1]:
        return float(x[-1]), float(y[-1])
    return fill_rate, float(np.interp(fill_rate, x, y))


def with_rule_comparison(simulation: pl.DataFrame) -> pl.DataFrame:
    """The policy rows with `rule_inventory_at_same_fill` (the rule's stock at the same fill
    rate, `rule_inventory_at`), `inventory_vs_rule` = the policy's stock over it, and
    `rule_fill_rate_compared`: the policy's own fill rate where the rule's curve reaches it,
    else the rule's best fill rate (then `inventory_vs_rule` is an upper bound: the rule
    would need more stock than at its best point to serve as much). Empty for rule rows."""
    compared = [
        rule_inventory_at(simulation, fill) if policy == "stockplan" else None
        for policy, fill in simulation.select("policy", "fill_rate").iter_rows()
    ]
    stock = simulation["avg_inventory_value"].to_numpy()
    rule_stock = [c[1] if c else None for c in compared]
    ratio = [
        float(s / c[1]) if c and c[1] > 0 else None for s, c in zip(stock, compared, strict=True)
    ]
    return simulation.with_columns(
        pl.Series("rule_inventory_at_same_fill", rule_stock, dtype=pl.Float64),
        pl.Series("inventory_vs_rule", ratio, dtype=pl.Float64),
        pl.Series("rule_fill_rate_compared", [c[0] if c else None for c in compared], pl.Float64),
    )
