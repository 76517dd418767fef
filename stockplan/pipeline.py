"""The planning pipeline: canonical frames in, output tables out. No file access, no printing.

demand history -> classify -> forecast -> lead times -> policy / plan -> risk
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from stockplan import preload
from stockplan.bom import own_sales
from stockplan.calendar import calendar_reason, order_by, supplier_closures
from stockplan.caps import beyond_cap_clause, capped_orders, position_caps, with_item_columns
from stockplan.config import Config
from stockplan.demand import BUCKET_DAYS, SERIES, default_as_of
from stockplan.elapsed import with_elapsed_demand
from stockplan.excess import excess_stock
from stockplan.forecast import (
    ForecastBacktests,
    ForecastPaths,
    band_widths,
    banded_forecast,
    forecast_backtests,
    forecast_paths,
    pool_ranking,
)
from stockplan.i18n import LANGUAGES, counted_text
from stockplan.item_rules import expiry, item_caps, item_classes, item_columns, item_tables
from stockplan.items import item_names, known_items
from stockplan.large_orders import (
    large_order_lines,
    outsized_lines,
    outsized_note,
    without_large_orders,
)
from stockplan.lead_time_demand import LeadTimeDemand, PendingDraws, lead_time_demand_from
from stockplan.leadtime import (
    backup_lead_times,
    open_receipts,
    resolve_lead_times,
    supplier_scorecard,
    with_supplier_tier,
)
from stockplan.notices import notices_by_language
from stockplan.overrides import active_overrides, apply_overrides, with_override_reasons
from stockplan.price_breaks import apply_price_breaks, reprice
from stockplan.promotions import apply_promotions, uplift_from, uplift_sums, with_lift_risk
from stockplan.purchasing import (
    budget_is_strict,
    budget_note,
    flag_minimum_order_value,
    supplier_orders,
)
from stockplan.reorder import (
    explain_backup,
    explain_late_rule_lines,
    master_data_note,
    orders_to_show,
    stale_stock_note,
    stock_position,
    switch_to_backup,
    unreachable_service_note,
    window_demand,
)
from stockplan.result import PlanResult
from stockplan.risk import placed_arrival, restock_eta, stockout_risk
from stockplan.segmentation import with_unsold_series
from stockplan.series import (
    after_transfers,
    classified_history,
    excluded_days,
    forecast_series,
    item_attributes,
    lead_time_demand_pending,
    pooled_error_scores,
    product_categories,
    series_base,
    successor_classes,
    unit_values,
    with_lead_times,
    with_own_spread,
    with_successor_classes,
)
from stockplan.shelf_life import (
    expiry_risk,
    less_unsellable,
    lots_after_transfers,
    recounted_unsellable,
    transfer_offer,
    undated_stock,
    unsellable,
    with_expiring_clause,
    with_offered,
)
from stockplan.succession import (
    before_switch_sales,
    own_demand_of,
    own_history,
    own_sales_before_switch,
    successor_forecast,
)
from stockplan.supplier_rules import (
    budget_after_deferrals,
    part_load_note,
    rule_rows,
    unknown_cost_lines,
    unknown_cost_note,
    unknown_cost_settled,
    with_supplier_decisions,
)
from stockplan.transfers import net_transfers, rebalance

MAX_SWITCH_PASSES = 4
"""Plans on backup lead times tried before the switches that no longer hold are given up."""

Progress = Callable[..., object]
"""`progress(message)` names a stage; `progress(message, total=n)` one of n units, and may
return the function that ticks it."""

ForecastReuse = Callable[
    [dict[str, pl.DataFrame | None], Config, Callable[[], tuple[pl.DataFrame, pl.DataFrame]]],
    tuple[pl.DataFrame, pl.DataFrame],
]
"""`reuse(frames, config, compute)`: the forecast stage's (forecast, summary) on `frames`
(`forecast_inputs`) and `config`'s forecast settings, kept from an earlier run, else
`compute()` (`cache.ForecastCache`)."""

FORECAST_READS = {
    "history": (*SERIES, "period_start", "demand"),
    "classes": (*SERIES, "demand_pattern", "abc"),
}
"""The columns of the demand history and the classes table the forecast reads (the
others, revenue and the ABC value among them, are summed in no fixed order and can differ
in their last bits from run to run)."""


@dataclass
class DemandStage:
    """The demand side every command shares: the inputs as the items really live (kits,
    successors, stock lots), the censored demand history and the classes table."""

    tables: dict[str, pl.DataFrame]
    lots: pl.DataFrame | None
    sales: pl.DataFrame  # without large one-off lines under `large_orders: make_to_order`
    as_of: dt.date
    excluded: pl.DataFrame  # stockout and promotion days
    large_orders: pl.DataFrame
    history: pl.DataFrame
    attributes: pl.DataFrame
    uplift: pl.DataFrame  # measured promotion lift per series
    classes: pl.DataFrame  # ABC / XYZ / pattern, censored and promotion periods, items' links
    uplift_sums: pl.DataFrame | None = None  # what the lift is measured from (per series)
    own_demand: pl.DataFrame | None = None  # successors' own sales rate before their switch
    # their own sales lines before the switch (`succession.own_sales_before_switch`)
    successor_sales: pl.DataFrame | None = None
    # the successors classed on their own sales until their switch (`succession.own_history`)
    own_history: pl.DataFrame | None = None


def demand_stage(
    tables: dict[str, pl.DataFrame], config: Config, say: Progress | None = None
) -> DemandStage:
    """Kits, successors and lots applied; demand history with stockout and promotion days
    left out; ABC by value, XYZ and demand pattern per series (`classify_demand`)."""
    say = say or (lambda _message: None)
    given_sales = tables["sales"]  # before successors inherit (`succession.own_demand`)
    tables, lots = item_tables(tables)
    sales, stock, products = tables["sales"], tables["stock"], tables.get("products")
    planning = config.planning
    days = BUCKET_DAYS[planning.bucket]
    as_of = planning.as_of or default_as_of(sales)
    say("building demand history")
    excluded, promo_days = excluded_days(tables, config, as_of)
    large_orders = large_order_lines(sales, as_of, config.policy)
    if config.policy.large_orders == "make_to_order":
        sales = without_large_orders(sales, large_orders)
    attributes = item_attributes(products, stock, own_sales(sales))
    unit_value = unit_values(attributes)
    history, classes = classified_history(sales, as_of, config, excluded, unit_value)
    # a successor selling under its own code is classed on its own sales until its switch
    successor_sales = own_sales_before_switch(given_sales, tables.get("succession"), as_of)
    own_classes = successor_classes(successor_sales, as_of, config, excluded, unit_value)
    classes = with_successor_classes(classes, own_classes, config)
    sums = uplift_sums(sales, promo_days, history, days)
    uplift = uplift_from(sums, history, products, config.promotions)
    classes = classes.join(
        history.group_by(SERIES).agg(
            (pl.col("stockout_days") > 0).sum().alias("stockout_periods"),
            (pl.col("promo_days") > 0).sum().alias("promo_periods"),
        ),
        on=SERIES,
        how="left",
    ).join(uplift, on=SERIES, how="left")
    return DemandStage(
        tables=tables,
        lots=lots,
        sales=sales,
        as_of=as_of,
        excluded=excluded,
        large_orders=large_orders,
        history=history,
        attributes=attributes,
        uplift=uplift,
        classes=item_classes(classes, tables, as_of),
        uplift_sums=sums,
        own_demand=own_demand_of(successor_sales, tables.get("succession"), as_of),
        successor_sales=successor_sales,
        own_history=own_history(own_classes, tables.get("succession"), as_of),
    )


@dataclass
class SupplyStage:
    """The supply side on the demand stage's series: forecast (with promotions and
    overrides), lead times, open receipts, stock position and the per-series planning rows."""

    forecast: pl.DataFrame
    summary: pl.DataFrame
    error_scores: dict[str, np.ndarray]
    universe: pl.DataFrame
    lead_times: pl.DataFrame
    open_po: pl.DataFrame
    closures: pl.DataFrame | None
    base: pl.DataFrame  # position, classes, model, attributes (less unsellable lots)
    series: pl.DataFrame  # base plus supplier, lead time and the forecast over L + R
    expiring: pl.DataFrame | None
    caps: pl.DataFrame | None
    draws: LeadTimeDemand | None
    pending: PendingDraws | None = None  # the draws' inputs until they are drawn


def forecast_inputs(demand: DemandStage) -> dict[str, pl.DataFrame | None]:
    """The frames the forecast stage reads: the demand history and the classes narrowed to
    `FORECAST_READS`, and the product categories (`series.product_categories`)."""
    history, classes = (
        frame.select(c for c in FORECAST_READS[name] if c in frame.columns)
        for name, frame in (("history", demand.history), ("classes", demand.classes))
    )
    categories = product_categories(demand.tables.get("products"))
    return {"history": history, "classes": classes, "categories": categories}


def forecast_stage(
    demand: DemandStage,
    config: Config,
    say: Progress,
    paths: ForecastPaths | None = None,
    widths: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(forecast, summary) of every series: `backtest_stage`, the pools ranked over these
    series (`forecast.pool_ranking`) and `forecast.forecast_paths`, unless `paths` are
    given; with bands from `widths`, else from the paths' own scores
    (`forecast.band_widths`, `forecast.banded_forecast`)."""
    if paths is None:
        backtests = backtest_stage(demand, config, say)
        ranked = pool_ranking([backtests.pool_scores], config.forecast.combine_top)
        paths = forecast_paths(backtests, ranked)
        # the backtests' frames (a copy of the weekly history among them: 0.3 GB on an
        # M5-sized set) are spent here
        backtests = None
    if widths is None:
        widths = band_widths([paths.band_scores], config.forecast, config.planning.horizon_periods)
    return banded_forecast(paths, widths)


def backtest_stage(
    demand: DemandStage,
    config: Config,
    say: Progress,
    prior_series: pl.DataFrame | None = None,
    origin: dt.date | None = None,
    come_back: list | None = None,
) -> ForecastBacktests:
    """Backtest every series and forecast all but the intermittent family, whose models
    wait for the pools' ranking (`forecast.forecast_backtests`; `forecast.forecast_paths`
    goes on). `prior_series`: the established series every category prior is measured on
    (`forecast.prior_inputs`; a partitioned run gathers them from every partition), else
    this stage's own; `origin`: the forecast origin of every partition (pooled
    seasonality), else this history's; `come_back`: the dead-item check's sums of every
    partition (`forecast.come_back_sums`), else this stage's own."""
    planning = config.planning
    tick = say("forecasting series", total=demand.classes.height)
    frames = forecast_inputs(demand)
    return forecast_backtests(
        frames["history"],
        frames["classes"],
        planning.bucket,
        config.forecast,
        planning.horizon_periods,
        frames["categories"],
        prior_series,
        advance=tick if callable(tick) else None,
        origin=origin,
        come_back=come_back,
    )


def supply_stage(
    demand: DemandStage,
    config: Config,
    say: Progress,
    lead_times: pl.DataFrame | None = None,
    paths: ForecastPaths | None = None,
    widths: pl.DataFrame | None = None,
    defer_draws: bool = False,
    reuse: ForecastReuse | None = None,
) -> SupplyStage:
    """Forecast every series (`forecast_stage`, with `paths` and `widths` when given), lift
    it for promotions, replace it by planner overrides; resolve lead times; stock position
    = on hand + open receipts - backorders - allocated; one planning row per series
    (`series.with_lead_times`); the lead-time-demand calibration and, unless
    `defer_draws`, the draws calibrated on these series alone (`finish_draws` draws them
    later with the counts of every partition).

    `lead_times`: resolved beforehand (a partition resolves its own series' lead times
    with the per-supplier statistics of every purchase order, as supplier-level lead times
    pool over every sku: `leadtime.supplier_lead_time_stats`); `reuse`: the forecast
    stage's result kept from an earlier run on the same `forecast_inputs` and forecast
    settings (`cache.ForecastCache`), when neither `paths` nor `widths` are given."""
    tables, history, classes = demand.tables, demand.history, demand.classes
    stock, products = tables["stock"], tables.get("products")
    purchase_orders = tables.get("purchase_orders")
    planning, days, as_of = config.planning, BUCKET_DAYS[config.planning.bucket], demand.as_of
    if reuse is None or paths is not None or widths is not None:
        forecast, summary = forecast_stage(demand, config, say, paths, widths)
    else:
        forecast, summary = reuse(
            forecast_inputs(demand), config, lambda: forecast_stage(demand, config, say)
        )
    # a successor's inherited demand starts at its switch date (`succession`)
    forecast = successor_forecast(
        forecast, tables.get("succession"), as_of, days, demand.own_demand
    )
    # the paths' frames are spent here: not held through the lead-time-demand calibration
    paths = None
    error_scores = pooled_error_scores(summary, classes)
    statistical = forecast
    forecast = apply_promotions(
        forecast, tables.get("promotions"), products, demand.uplift, days, config.promotions
    )
    forecast = apply_overrides(
        forecast,
        tables.get("overrides"),
        days,
        pl.concat([stock.select(SERIES), history.select(SERIES)]).unique(),
    )
    # a mid-bucket as_of: the promotions and overrides of the days gone stay behind
    forecast = with_elapsed_demand(
        forecast,
        statistical,
        tables.get("promotions"),
        products,
        demand.uplift,
        tables.get("overrides"),
        as_of,
        days,
        config.promotions,
    )
    universe = pl.concat(
        [stock.select(SERIES), history.select(SERIES)]
        + ([purchase_orders.select(SERIES)] if purchase_orders is not None else [])
    ).unique()
    lead_times = (
        resolve_lead_times(
            universe, products, tables.get("suppliers"), purchase_orders, config.lead_time
        )
        if lead_times is None
        else lead_times.join(universe, on=SERIES, how="semi")
    )
    calendars = config.calendars
    closures = supplier_closures(
        tables.get("closures"), calendars.public_holidays, calendars.exempt_suppliers
    )
    # an open line without an expected date arrives as a new order would: on the calendar
    open_po = open_receipts(purchase_orders, lead_times, as_of, closures).join(
        universe, on=SERIES, how="semi"
    )
    position = stock_position(
        stock,
        open_po,
        tables.get("customer_orders"),
        missing_from_latest=planning.missing_from_latest_snapshot,
        allocated_includes_customer_orders=planning.allocated_includes_customer_orders,
    )
    review = config.policy.review_days
    base = series_base(universe, position, classes, summary, demand.attributes)
    base = with_own_spread(base, demand.own_demand)  # a successor's own until its switch
    series = with_lead_times(base, lead_times, forecast, days, review, as_of, closures)
    series = with_lift_risk(series, forecast, days, review, as_of)
    expiring = expiry(demand.lots, series, as_of, config, demand.attributes)
    if expiring is not None:  # stock that expires before it sells is not available
        base = less_unsellable(base, unsellable(expiring))
        series = less_unsellable(series, unsellable(expiring))
    caps = item_caps(series, forecast, tables, config, as_of, days)
    if config.policy.lead_time_demand != "parametric":
        say("bootstrapping lead-time demand")
    pending = lead_time_demand_pending(
        before_switch_sales(demand.sales, demand.successor_sales),
        lead_times,
        classes,
        as_of,
        demand.excluded,
        review,
        config,
        summary,
        demand.attributes,
    )
    draws = None if defer_draws or pending is None else lead_time_demand_from(pending)
    return SupplyStage(
        forecast,
        summary,
        error_scores,
        universe,
        lead_times,
        open_po,
        closures,
        base,
        series,
        expiring,
        caps,
        draws,
        None if draws is not None else pending,
    )


def finish_draws(supply: SupplyStage, sums: dict[str, np.ndarray] | None = None) -> SupplyStage:
    """Draw the deferred lead-time demand of `supply` (`supply_stage(defer_draws=True)`),
    calibrated with the summed counts `sums` of every partition (its own without)."""
    if supply.pending is not None:
        supply.draws = lead_time_demand_from(supply.pending, sums)
        supply.pending = None
    return supply


@dataclass
class OrderStage:
    """Orders before purchasing rules: rebalanced by transfers, switched to a faster backup
    supplier where the usual one arrives too late, with their stockout risk (its restock_eta
    from these orders: `purchasing_stage` sets it again from the orders finally placed)."""

    orders: pl.DataFrame
    risk: pl.DataFrame
    transfers: pl.DataFrame
    rebalanced: pl.DataFrame  # the planning rows the orders were computed on (after transfers)
    series: pl.DataFrame  # the planning rows before transfers (on the backup where switched)
    caps: pl.DataFrame | None  # on the rebalanced positions (`caps.position_caps`)
    scorecard: pl.DataFrame
    backups: pl.DataFrame | None = None  # the backup suppliers' lead times per series
    # the short locations sent no transfer: it would land after a new order (`slow_receivers`)
    slow_transfers: pl.DataFrame | None = None
    # the lots after the transfers (`SupplyStage.expiring` as the moves leave them)
    expiring: pl.DataFrame | None = None


def order_stage(
    demand: DemandStage,
    supply: SupplyStage,
    config: Config,
    say: Progress,
    scorecard: pl.DataFrame | None = None,
    backups: pl.DataFrame | None = None,
) -> OrderStage:
    """Order-up-to levels and quantities (`caps.capped_orders`), transfers between
    locations, the orders again on the rebalanced position, stockout risk, and a switch to
    the backup supplier for orders that arrive after the projected stockout.

    `scorecard`, `backups`: computed beforehand (a partitioned run holds only its own
    series' orders: the scorecard comes from every purchase order, the backups from the
    per-supplier statistics of every purchase order; both pool over each supplier's skus)."""
    tables, as_of = demand.tables, demand.as_of
    products, purchase_orders = tables.get("products"), tables.get("purchase_orders")
    days, review = BUCKET_DAYS[config.planning.bucket], config.policy.review_days
    scores, draws = supply.error_scores, supply.draws

    def orders_on(series: pl.DataFrame, caps: pl.DataFrame | None) -> pl.DataFrame:
        return capped_orders(series, caps, config.policy, as_of, days, scores, draws)

    if scorecard is None:
        scorecard = supplier_scorecard(purchase_orders, config.supplier_tiers, products)
    horizon_days = config.planning.horizon_periods * days

    def assess(
        plan_series: pl.DataFrame, orders: pl.DataFrame, transfers: pl.DataFrame
    ) -> pl.DataFrame:
        risk_input = plan_series.join(placed_arrival(orders), on=SERIES, how="left").with_columns(
            (pl.col("sigma_e") / days**0.5).alias("sigma_day")
        )
        return stockout_risk(
            risk_input,
            supply.open_po,
            as_of,
            horizon_days,
            config.risk,
            config.policy.discrete_patterns,
            scorecard,
            supply.forecast,
            days,
            transfers,
        )

    def plan_on(series: pl.DataFrame, caps: pl.DataFrame | None) -> tuple:
        """Transfers from the rows' own levels (stock that would expire unsold where it is
        offered to the short locations that sell it in time), the lots recounted after
        the moves, the orders on the rebalanced position and their risk: (transfers,
        rebalanced, orders, risk, the receivers too slow to reach, expiring lots)."""
        first_pass = orders_on(series, caps).join(
            series.select(*SERIES, "inactive"), on=SERIES, how="left"
        )
        offered = transfer_offer(first_pass, supply.expiring, config.transfers)
        transfers, slow = rebalance(with_offered(first_pass, offered), config.transfers, as_of)
        transfers = with_expiring_clause(transfers, offered, supply.expiring)
        rebalanced = after_transfers(series, net_transfers(transfers))
        expiring = supply.expiring
        if expiring is not None and transfers.height:  # the lots where the moves put them
            undated = undated_stock(series, demand.lots, supply.expiring)
            moved = lots_after_transfers(demand.lots, transfers, supply.expiring, offered, undated)
            expiring = expiry(moved, series, as_of, config, demand.attributes)
            rebalanced = recounted_unsellable(
                rebalanced, unsellable(supply.expiring), unsellable(expiring)
            )
        orders = orders_on(rebalanced, caps)
        risk = assess(rebalanced, orders, transfers)
        return transfers, rebalanced, orders, risk, slow, expiring

    say("computing safety stock and orders")
    series, caps = supply.series, supply.caps
    say("rebalancing between locations")
    transfers, rebalanced, every_order, risk, slow, expiring = plan_on(series, caps)
    say("assessing stockout risk")
    if backups is None:
        backups = backup_lead_times(
            supply.universe, products, tables.get("suppliers"), purchase_orders, config.lead_time
        )
    else:
        backups = backups.join(supply.universe, on=SERIES, how="semi")
    late = switch_to_backup(every_order, risk, backups, as_of, supply.closures, review)
    # The switched rows are planned again on the backup's lead time, transfers included (a
    # transfer is sized and explained by the receiver's final levels). A switch stands only
    # while the switched row's own projected stockout (the date its reason and risk give)
    # still comes before the preferred supplier's arrival; the rest go back to it.
    for _ in range(MAX_SWITCH_PASSES):
        if late.height == 0:
            break
        lead_times = pl.concat(
            [
                supply.lead_times.join(late, on=SERIES, how="anti"),
                backups.join(late, on=SERIES, how="semi"),
            ],
            how="vertical_relaxed",
        )
        trial = with_lead_times(
            supply.base, lead_times, supply.forecast, days, review, as_of, supply.closures
        )
        trial = with_lift_risk(trial, supply.forecast, days, review, as_of)
        trial_caps = item_caps(trial, supply.forecast, tables, config, as_of, days)
        planned = plan_on(trial, trial_caps)
        still = late.drop("stockout_date").join(
            planned[3].select(*SERIES, "stockout_date"), on=SERIES
        )
        still = still.filter(pl.col("stockout_date") < pl.col("preferred_arrival"))
        if still.height == late.height:
            say(counted_text("switching {n} orders to a faster backup supplier", n=late.height))
            series, caps = trial, trial_caps
            transfers, rebalanced, every_order, risk, slow, expiring = planned
            every_order = explain_backup(every_order, every_order, still)
            break
        late = still
    if caps is not None:  # the caps as the orders met them: on the rebalanced positions
        caps = position_caps(caps, rebalanced)
    return OrderStage(
        every_order, risk, transfers, rebalanced, series, caps, scorecard, backups, slow, expiring
    )


@dataclass
class PurchasingStage:
    """The orders as they go to suppliers, the supplier order summary, the notes and the
    risk table with the restock ETA of the orders placed."""

    priced: pl.DataFrame  # every order row with override reasons and price breaks
    funded: pl.DataFrame  # ... and after the budget, minimum order values and full loads
    by_supplier: pl.DataFrame
    notes: list[str]
    risk: pl.DataFrame  # the order stage's, restock_eta from `funded` (`risk.restock_eta`)


def purchasing_stage(
    demand: DemandStage, supply: SupplyStage, ordered: OrderStage, config: Config
) -> PurchasingStage:
    """Override reasons, price breaks, the budget, suppliers' minimum order values and full
    loads, the price paid, order-by dates from supplier calendars, the notes for the buyer;
    the risk table's restock ETA from the orders finally placed (none from an order cut to 0)."""
    tables, as_of, policy = demand.tables, demand.as_of, config.policy
    products, suppliers = tables.get("products"), tables.get("suppliers")
    review = policy.review_days
    horizon_days = config.planning.horizon_periods * BUCKET_DAYS[config.planning.bucket]
    every_order = with_override_reasons(
        ordered.orders, active_overrides(tables.get("overrides"), ordered.orders, as_of)
    )
    every_order = apply_price_breaks(
        every_order,
        tables.get("price_breaks"),
        policy.ordering_cost,
        policy.holding_cost_rate,
        ordered.caps,
    )
    demand_rows = rule_rows(
        ordered.rebalanced, every_order, ordered.caps, config.excess.buffer_days
    )
    rules = {  # what the minimum-value and container rules weigh (`supplier_rules`)
        "holding_rate": policy.holding_cost_rate,
        "review_days": review,
        "discrete_patterns": policy.discrete_patterns,
    }

    def priced(lines: pl.DataFrame) -> pl.DataFrame:  # at the price of the quantity ordered
        return reprice(lines, tables.get("price_breaks"), demand.attributes)

    budgeted, funded, decisions, loads, deferred = budget_after_deferrals(
        every_order,
        demand_rows,
        suppliers,
        products,
        config.purchasing.budget,
        action=config.purchasing.minimum_order_value,
        strict=budget_is_strict(config),
        price=priced,
        **rules,
    )
    funded = calendar_reason(order_by(funded, ordered.risk, supply.closures, as_of, horizon_days))
    funded = explain_late_rule_lines(
        funded, ordered.orders, ordered.risk, ordered.backups, as_of, supply.closures, review
    )
    by_supplier = supplier_orders(funded, suppliers)
    # a minimum not checked for lines without a cost that full loads then reached is met
    decisions = unknown_cost_settled(decisions, by_supplier)
    funded = unknown_cost_lines(funded, by_supplier, decisions)
    notes = [
        note
        for note in (
            stale_stock_note(tables["stock"], config.planning.missing_from_latest_snapshot),
            master_data_note(funded),
            unreachable_service_note(funded),
            budget_note(every_order, budgeted, funded, config.purchasing.budget, deferred),
            part_load_note(loads),
            unknown_cost_note(decisions),
        )
        if note is not None
    ]
    funded = flag_minimum_order_value(funded, by_supplier)
    columns = item_columns(
        ordered.series, demand.classes, tables, ordered.expiring, ordered.caps, as_of
    )
    funded = with_item_columns(beyond_cap_clause(funded, ordered.caps), columns)
    by_supplier = with_supplier_decisions(by_supplier, decisions, loads)
    risk = restock_eta(ordered.risk, supply.open_po, funded, ordered.transfers, as_of)
    return PurchasingStage(every_order, funded, by_supplier, notes, risk)


def side_tables(
    demand: DemandStage,
    supply: SupplyStage,
    priced: pl.DataFrame,
    funded: pl.DataFrame,
    config: Config,
    transfers: pl.DataFrame | None = None,
    other_languages: Sequence[str] = LANGUAGES,
    expiring: pl.DataFrame | None = None,
) -> tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame]]:
    """(excess stock, and with their inputs the customers' restock notices and expiring
    lots; the notices in `other_languages` too, by language, for `Plan.notices_in`)
    (`priced`, `funded`: the order rows of `PurchasingStage`, or of one partition's;
    `transfers`: the order stage's, a supply of the notices; `expiring`: its lots as the
    transfers leave them, `OrderStage.expiring`)."""
    tables, as_of, planning = demand.tables, demand.as_of, config.planning
    last_sale = (  # lazy: an eager filter copies every sales line (0.9 GB on M5)
        demand.sales.lazy()
        .filter((pl.col("quantity") > 0) & (pl.col("date") < as_of))
        .group_by(SERIES)
        .agg(pl.col("date").max().alias("last_sale_date"))
        .collect()
    )
    out = {"excess": excess_stock(priced, last_sale, config.excess.buffer_days, as_of, transfers)}
    notices_in: dict[str, pl.DataFrame] = {}
    if tables.get("customer_orders") is not None:
        notices_in = notices_by_language(
            tables["customer_orders"],
            funded,
            supply.open_po,
            as_of,
            config.notices,
            demand.attributes.select("sku", "unit_price"),
            planning.currency,
            names=item_names(tables),
            lang=planning.language,
            allocated_includes_customer_orders=planning.allocated_includes_customer_orders,
            source=str(getattr(config.inputs.customer_orders, "path", "customer_orders")),
            transfers=transfers,
            other_languages=other_languages,
        )
        out["notices"] = notices_in.pop(planning.language)
    if expiring is not None:
        out["expiry_risk"] = expiry_risk(expiring)
    return out, notices_in


def run_plan(
    tables: dict[str, pl.DataFrame],
    config: Config,
    *,
    include_all: bool = False,
    progress: Progress | None = None,
    reuse: ForecastReuse | None = None,
) -> PlanResult:
    """Run every stage; return orders, risk, transfers, excess, supplier_orders, forecast,
    classes and suppliers tables. `reuse`: the forecast stage kept from an earlier run
    (`cache.ForecastCache`; the local engine only).

    `explain` reads its rows from this same result, so it shows the plan's own numbers.
    """
    say = progress or (lambda _message, total=None: None)
    if config.forecast.engine != "local":
        from stockplan.partitioned import partitioned_plan

        return partitioned_plan(tables, config, include_all=include_all, progress=say)
    preload.start(local=True)  # statsforecast's import overlaps the demand stage
    demand = demand_stage(tables, config, say)
    supply = supply_stage(demand, config, say, reuse=reuse)
    ordered = order_stage(demand, supply, config, say)
    return plan_result(tables, demand, supply, ordered, config, include_all=include_all)


def outsized_notes(
    tables: dict[str, pl.DataFrame], demand: DemandStage, config: Config
) -> list[str]:
    """The notes on lines larger than a year of their item's other sales: large one-off
    sales lines the stock target covers, and open customer orders (`outsized_lines`)."""
    notes = []
    if config.policy.large_orders == "cover" and demand.large_orders.height:
        large = outsized_lines(demand.large_orders, demand.sales, demand.as_of)
        notes.append(outsized_note(large, "sales", covered=True))
    customer_orders = tables.get("customer_orders")
    if customer_orders is not None and customer_orders.height:
        open_lines = customer_orders.select(*SERIES, "quantity")
        big = outsized_lines(open_lines, demand.sales, demand.as_of, dated=False)
        notes.append(outsized_note(big, "customer_orders", covered=False))
    return [n for n in notes if n is not None]


def plan_result(
    tables: dict[str, pl.DataFrame],
    demand: DemandStage,
    supply: SupplyStage,
    ordered: OrderStage,
    config: Config,
    *,
    include_all: bool = False,
) -> PlanResult:
    """Purchasing rules (budget, minimum order values, loads), the side tables and the
    plan's result tables from the order stage (`tables`: the inputs as given)."""
    bought = purchasing_stage(demand, supply, ordered, config)
    extra, notices_in = side_tables(
        demand,
        supply,
        bought.priced,
        bought.funded,
        config,
        ordered.transfers,
        expiring=ordered.expiring,
    )
    orders = bought.funded if include_all else orders_to_show(bought.funded)
    attributes = demand.attributes.select("sku", "inactive")
    empty = empty_table_notes(
        tables,
        config,
        ordered.transfers,
        extra["excess"].height,
        ordered.scorecard,
        ordered.slow_transfers,
    )
    return PlanResult(
        as_of=demand.as_of,
        notes=bought.notes + outsized_notes(tables, demand, config) + empty,
        history=demand.history,
        open_po=supply.open_po,
        bucket_days=BUCKET_DAYS[config.planning.bucket],
        plan_rows=bought.funded.join(attributes, on="sku", how="left"),
        items=known_items(tables),
        own_history=demand.own_history,
        notices_in=notices_in,
        tables={
            "orders": with_supplier_tier(orders, ordered.scorecard),
            "risk": bought.risk,
            "transfers": ordered.transfers,
            "excess": extra.pop("excess"),
            "supplier_orders": bought.by_supplier,
            "forecast": supply.forecast,
            "classes": with_unsold_series(demand.classes, bought.funded),
            "suppliers": ordered.scorecard,
            "large_orders": demand.large_orders,
            **extra,
        },
    )


def slow_transfer_note(slow: pl.DataFrame | None) -> str | None:
    """The note counting the short locations sent no transfer because it would land after a
    new order placed today (`transfers.slow_receivers`): they buy instead, and the buyer
    sees why a donor's surplus stayed where it is."""
    if slow is None or slow.height == 0:
        return None
    first = slow.sort(["sku", "to_location"]).row(0, named=True)
    return (
        f"transfers: {slow.height} short item-location(s) sent none, a transfer would arrive "
        f"after a new order (transfers.transit_days, transit_days_to, transit_days_between), "
        f"so they order instead, e.g. "
        f"{first['sku']} at {first['to_location']}: transfer {first['arrival_date']}, "
        f"order {first['order_arrival']}"
    )


def empty_table_notes(
    tables: dict[str, pl.DataFrame],
    config: Config,
    transfers: pl.DataFrame,
    excess_rows: int,
    scorecard: pl.DataFrame,
    slow_transfers: pl.DataFrame | None = None,
) -> list[str]:
    """One note of the plan per result table left without rows for a reason the buyer would
    otherwise have to guess (the sheet itself keeps only its header, as verify, diff and
    --previous read it back): transfers, excess and the supplier scorecard; and the short
    locations a transfer would reach after a new order (`slow_transfer_note`), with or
    without other transfers."""
    notes = []
    slow = slow_transfer_note(slow_transfers)
    if transfers.height == 0:
        stock = tables.get("stock")
        places = stock["location"].n_unique() if stock is not None else 0
        if not config.transfers.enabled:
            notes.append("transfers: none, transfers.enabled is off")
        elif places <= 1:
            notes.append("transfers: none, all stock is at one location")
        elif slow is None:
            notes.append(
                "transfers: none, no location holds stock above its order-up-to level "
                "while another is below its reorder point"
            )
    if slow is not None:
        notes.append(slow)
    if excess_rows == 0:
        notes.append(
            "excess: none, no item holds stock above its order-up-to level plus "
            "excess.buffer_days of demand, nor stock unsold for classify.dead_item_days"
        )
    if scorecard.height == 0:
        orders = tables.get("purchase_orders")
        if orders is None:
            notes.append("suppliers: no scorecard without purchase orders")
        elif "received_date" in orders.columns and orders["received_date"].is_not_null().any():
            # received, but neither the line nor its item (products.supplier) names a supplier
            notes.append(
                "suppliers: no scorecard, no received purchase order line has a supplier "
                "(nor does products.supplier for its item)"
            )
        else:
            notes.append("suppliers: no scorecard, no purchase order line has been received")
    return notes


def override_scores(
    tables: dict[str, pl.DataFrame], config: Config, progress: Progress | None = None
) -> tuple[dt.date, pl.DataFrame]:
    """(as_of, FVA of every override that started before as_of): its window's days before
    as_of scored against the statistical forecast made as of the window's start on what
    actually sold (`overrides.score_overrides`). One forecast per distinct start date,
    for the overridden items only."""
    from stockplan.overrides import (
        SCORE_COLUMNS,
        actual_sales,
        for_series,
        override_forecast,
        override_table,
        score_overrides,
    )

    say = progress or (lambda _message, total=None: None)
    tables, _ = item_tables(tables)
    sales = tables["sales"]
    planning = config.planning
    days = BUCKET_DAYS[planning.bucket]
    as_of = planning.as_of or default_as_of(sales)
    overrides = tables.get("overrides")
    if overrides is None or overrides.height == 0:
        return as_of, pl.DataFrame(schema=dict.fromkeys(SCORE_COLUMNS, pl.String))
    past = for_series(
        override_table(overrides).filter(pl.col("start") < as_of), sales.select(SERIES)
    ).with_columns(
        pl.min_horizontal("end", pl.lit(as_of - dt.timedelta(days=1))).alias("scored_end")
    )
    past = past.with_columns(
        ((pl.col("scored_end") - pl.col("start")).dt.total_days() + 1)
        .cast(pl.Float64)
        .alias("scored_days")
    )
    scored = []
    for start in past["start"].unique().sort().to_list():  # one refit per start date
        group = past.filter(pl.col("start") == start)
        say(f"refitting forecasts as of {start}")
        subset = {
            name: (
                frame.join(group.select("sku").unique(), on="sku", how="semi")
                if name in ("sales", "stock", "purchase_orders")
                else frame
            )
            for name, frame in tables.items()
        }
        excluded, _ = excluded_days(subset, config, start)
        values = unit_values(item_attributes(tables.get("products"), subset["stock"], sales))
        history, classes = classified_history(subset["sales"], start, config, excluded, values)
        horizon = int(group["scored_days"].max() // days) + 2
        categories = product_categories(tables.get("products"))
        forecast, _, _ = forecast_series(history, classes, config, horizon, categories)
        windows = group.select(*SERIES, pl.col("scored_days").alias("window_days"))
        statistical = window_demand(forecast, windows, days, "statistical_forecast", start)
        scored.append(
            group.join(statistical, on=SERIES, how="left")
            .join(actual_sales(sales, group), on=["override_id", *SERIES], how="left")
            .with_columns(pl.col("statistical_forecast").fill_null(0.0))
            .with_columns(override_forecast())
        )
    if not scored:
        return as_of, pl.DataFrame(schema=dict.fromkeys(SCORE_COLUMNS, pl.String))
    return as_of, score_overrides(pl.concat(scored, how="vertical_relaxed"))


def run_classify(tables: dict[str, pl.DataFrame], config: Config) -> tuple[dt.date, pl.DataFrame]:
    """(as_of, classes): the `classes` table of `run_plan`, without forecasting or policy."""
    stage = demand_stage(tables, config)
    purchase_orders = tables.get("purchase_orders")
    series = pl.concat(
        [tables["stock"].select(SERIES)]
        + ([purchase_orders.select(SERIES)] if purchase_orders is not None else [])
    )
    return stage.as_of, with_unsold_series(stage.classes, series)
