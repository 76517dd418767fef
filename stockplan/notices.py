"""Customer restock notices: when each open customer order can be filled.

Open customer orders of a sku x location are served higher tier first (`priority`, 1 first,
else `customer_tier` ranked by `notices.tier_order`; orders with neither come last), then
first come, first served (by promised date, then order date, then file order) from, in
date order: stock free now (on_hand - allocated - transfers out; when the allocation is the
reservation for these orders, `planning.allocated_includes_customer_orders`, only the
allocation beyond them, on_hand - max(allocated - open orders, 0) - transfers out), this
run's transfers in at their arrival_date (as_of + the transit days,
`transfers.plan_transfers`), open purchase orders as they arrive, then today's suggested
order at its expected arrival; on one day in that order. An order is
filled on the date the cumulative supply first covers the cumulative quantity of all orders
up to and including it, so each unit is promised once. Orders that stock on hand covers
today ship now and need no notice; the rest are listed, those waiting for a transfer too.

Days late = expected_fill_date - promised_date, at least 0; empty for an order without a
promised date (nothing was promised, so it is not late: the notice gives its expected ship
date, or says a date will be confirmed) and for one not covered yet.

Compensation: the first rule in `notices.compensation` whose days late (an order not
covered yet counts as late beyond every threshold; one without a promised date as late by
0 days, so only a rule with `min_days_late: 0` can match it), order value (quantity x unit
price, from the order line else the product's price) and customer tier match gives the
notice a coupon, points or a text (compensation_type, compensation_value,
compensation_text).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Sequence

import polars as pl

from stockplan.config import CompensationRule, Notices
from stockplan.demand import SERIES
from stockplan.errors import StockplanError
from stockplan.i18n import LANGUAGES, message, phrase, place
from stockplan.io.columns import EXCEL_CELL_LIMIT
from stockplan.reorder import fmt_number
from stockplan.transfers import no_transfers

NOTICE_COLUMNS = [
    "order_id",
    "customer",
    "sku",
    "location",
    "quantity",
    "order_date",
    "promised_date",
    "expected_fill_date",
    "days_late",
    "filled_from",
    "message",
    "customer_tier",
    "compensation_type",
    "compensation_value",
    "compensation_text",
]


def fill_template(template: str, fields: dict[str, pl.Expr]) -> pl.Expr:
    """`template` with each `{field}` replaced by that expression's text (blank if null)."""
    parts = re.split(r"\{(\w+)\}", template)
    pieces = [
        pl.lit(part) if i % 2 == 0 else fields[part].cast(pl.String).fill_null("")
        for i, part in enumerate(parts)
        if i % 2 or part
    ]
    text = pl.concat_str(pieces) if pieces else pl.lit("")
    return text.str.replace_all(r"\s+", " ").str.strip_chars()


def _text(frame: pl.DataFrame, column: str, dtype: pl.DataType = pl.String) -> pl.Expr:
    return pl.col(column) if column in frame.columns else pl.lit(None, dtype)


def restock_notices(
    customer_orders: pl.DataFrame,
    orders: pl.DataFrame,
    open_po: pl.DataFrame,
    as_of: dt.date,
    settings: Notices | None = None,
    prices: pl.DataFrame | None = None,
    currency: str = "CNY",
    *,
    names: pl.DataFrame | None = None,
    lang: str = "en",
    allocated_includes_customer_orders: bool = False,
    source: str = "customer_orders",
    transfers: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per open customer order that stock on hand cannot fill today.

    `orders` needs on_hand, allocated, order_qty, expected_arrival per sku x location;
    `open_po` needs arrival and quantity (po_id when known); `transfers` (sku,
    from_location, to_location, quantity: `transfers.TRANSFER_COLUMNS`, arrival_date: today
    without it) moves stock from the sender's free stock today to the receiver's supply on
    its arrival_date; `prices` (sku, unit_price)
    values order lines without their own unit_price for the compensation rules. The message
    fills `settings.template` (expected ship date known) or `settings.unconfirmed_template`,
    by default the catalogue's text in `lang`, with the item's name from `names` (sku, name).
    A message longer than a cell holds is refused naming the order's row in `source` (its
    file), `check_notice_fits`.
    """
    return notices_by_language(
        customer_orders,
        orders,
        open_po,
        as_of,
        settings,
        prices,
        currency,
        names=names,
        lang=lang,
        allocated_includes_customer_orders=allocated_includes_customer_orders,
        source=source,
        transfers=transfers,
        other_languages=(),
    )[lang]


def notices_by_language(
    customer_orders: pl.DataFrame,
    orders: pl.DataFrame,
    open_po: pl.DataFrame,
    as_of: dt.date,
    settings: Notices | None = None,
    prices: pl.DataFrame | None = None,
    currency: str = "CNY",
    *,
    names: pl.DataFrame | None = None,
    lang: str = "en",
    allocated_includes_customer_orders: bool = False,
    source: str = "customer_orders",
    transfers: pl.DataFrame | None = None,
    other_languages: Sequence[str] = LANGUAGES,
) -> dict[str, pl.DataFrame]:
    """`restock_notices` in `lang` and in each of `other_languages` (by default every
    language of the catalogue) whose messages all fit a cell, by language, from one pass
    over the orders and the supply: what a plan kept in the cache gives a later run in
    another language. Only `lang`'s notices refuse a message too long for a cell."""
    settings = settings or Notices()
    filled = notice_rows(
        customer_orders,
        orders,
        open_po,
        as_of,
        settings,
        names=names,
        allocated_includes_customer_orders=allocated_includes_customer_orders,
        transfers=transfers,
    )
    out = {lang: rendered_notices(filled, settings, prices, currency, lang, source)}
    for other in other_languages:
        if other != lang:
            with contextlib.suppress(StockplanError):  # too long there: not kept
                out[other] = rendered_notices(filled, settings, prices, currency, other, source)
    return out


def notice_rows(
    customer_orders: pl.DataFrame,
    orders: pl.DataFrame,
    open_po: pl.DataFrame,
    as_of: dt.date,
    settings: Notices,
    *,
    names: pl.DataFrame | None = None,
    allocated_includes_customer_orders: bool = False,
    transfers: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Each open order line with the supply that fills it (`expected_fill_date` null when
    nothing does yet), the item's name as `_name`: the notices before their words
    (`rendered_notices`), in no language."""
    po_id = _text(open_po, "po_id")
    held = pl.col("allocated")
    if allocated_includes_customer_orders:
        backlog = customer_orders.group_by(SERIES).agg(pl.col("quantity").sum().alias("backlog"))
        orders = orders.join(backlog, on=SERIES, how="left")
        held = (held - pl.col("backlog").fill_null(0.0)).clip(lower_bound=0.0)
    if transfers is None:
        transfers = no_transfers()
    if "arrival_date" not in transfers.columns:  # no transit time: it lands today
        transfers = transfers.with_columns(pl.lit(as_of).alias("arrival_date"))
    sent = transfers.group_by("sku", pl.col("from_location").alias("location")).agg(
        pl.col("quantity").sum().alias("_sent")
    )
    orders = orders.join(sent, on=SERIES, how="left")
    supply = pl.concat(
        [
            orders.select(
                *SERIES,
                pl.lit(as_of).alias("date"),
                (pl.col("on_hand") - held - pl.col("_sent").fill_null(0.0))
                .clip(lower_bound=0.0)
                .alias("qty"),
                pl.lit("stock on hand").alias("filled_from"),
                pl.lit(0).alias("_supply"),
            ),
            transfers.select(
                "sku",
                pl.col("to_location").alias("location"),
                pl.col("arrival_date").cast(pl.Date).alias("date"),
                pl.col("quantity").cast(pl.Float64).alias("qty"),
                pl.format("transfer from {}", "from_location").alias("filled_from"),
                pl.lit(1).alias("_supply"),
            ),
            open_po.select(
                *SERIES,
                pl.col("arrival").alias("date"),
                pl.col("quantity").alias("qty"),
                pl.when(po_id.is_not_null())
                .then(pl.format("purchase order {}", po_id))
                .otherwise(pl.lit("open purchase order"))
                .alias("filled_from"),
                pl.lit(2).alias("_supply"),
            ),
            orders.filter(pl.col("order_qty") > 0).select(
                *SERIES,
                pl.col("expected_arrival").alias("date"),
                pl.col("order_qty").alias("qty"),
                pl.lit("this week's suggested order").alias("filled_from"),
                pl.lit(3).alias("_supply"),
            ),
        ],
        how="vertical_relaxed",
    )
    supply = (
        supply.filter(pl.col("qty") > 0)
        .sort([*SERIES, "date", "_supply"])
        .with_columns(pl.col("qty").cum_sum().over(SERIES).alias("covered"))
        .sort("covered")
    )
    promised = _text(customer_orders, "promised_date", pl.Date)
    ordered = _text(customer_orders, "order_date", pl.Date)
    row = _text(customer_orders, "file_row", pl.Int64)  # io.prepare.FILE_ROW
    backlog = (
        customer_orders.with_columns(
            promised.alias("promised_date"),
            ordered.alias("order_date"),
            _text(customer_orders, "order_id").alias("order_id"),
            _text(customer_orders, "customer").alias("customer"),
            row.alias("_row"),
            _text(customer_orders, "customer_tier").alias("customer_tier"),
            tier_rank(customer_orders, settings.tier_order).alias("_tier_rank"),
        )
        .sort([*SERIES, "_tier_rank", "promised_date", "order_date", "_row"], nulls_last=True)
        .with_columns(pl.col("quantity").cum_sum().over(SERIES).alias("needed"))
        .sort("needed")
    )
    filled = backlog.join_asof(
        supply.select(*SERIES, "covered", "date", "filled_from", "_supply"),
        left_on="needed",
        right_on="covered",
        by=SERIES,
        strategy="forward",
        check_sortedness=False,  # both sides are sorted on the as-of key within each group
    )
    if names is not None:
        filled = filled.join(
            names.select("sku", pl.col("name").alias("_name")), on="sku", how="left"
        )
    else:
        filled = filled.with_columns(pl.lit(None, pl.String).alias("_name"))
    return filled.rename({"date": "expected_fill_date"}).filter(
        pl.col("expected_fill_date").is_null()
        | (pl.col("expected_fill_date") > as_of)
        | (pl.col("_supply") == 1)  # a transfer: not at the location yet
    )


def rendered_notices(
    filled: pl.DataFrame,
    settings: Notices,
    prices: pl.DataFrame | None,
    currency: str,
    lang: str,
    source: str,
) -> pl.DataFrame:
    """The notices of `notice_rows` in `lang`: the message, its compensation, the output
    columns; a message longer than a cell is refused (`check_notice_fits`)."""
    # no promise, no lateness: null with the promised date, not counted from as_of
    late = (
        (pl.col("expected_fill_date") - pl.col("promised_date")).dt.total_days().clip(lower_bound=0)
    )
    label = pl.coalesce(
        "order_id",
        fill_template(message("notice.line", lang, row="{row}"), {"row": pl.col("_row")}),
    )
    fields = {
        "order": label,
        "customer": pl.col("customer"),
        "sku": pl.col("sku"),
        "name": pl.col("_name"),
        "location": pl.col("location"),
        "quantity": fmt_number(pl.col("quantity")),
        "date": pl.col("expected_fill_date").dt.strftime("%Y-%m-%d"),
    }
    ship = settings.template or message("notice.ship", lang, **{f: "{" + f + "}" for f in fields})
    unconfirmed = settings.unconfirmed_template or message(
        "notice.unconfirmed", lang, **{f: "{" + f + "}" for f in fields}
    )
    notices = filled.with_columns(
        pl.when(pl.col("expected_fill_date").is_null())
        .then(None)
        .otherwise(late)
        .alias("days_late"),
        pl.col("filled_from").fill_null("not covered yet"),
    ).with_columns(
        pl.when(pl.col("expected_fill_date").is_null())
        .then(fill_template(unconfirmed, fields))
        .otherwise(fill_template(ship, fields))
        .alias("message")
    )
    check_notice_fits(notices, source)
    return (
        notices.pipe(_with_order_value, prices)
        .with_columns(compensation(settings.compensation, currency, lang))
        .select(NOTICE_COLUMNS)
        .sort(["expected_fill_date", "sku", "location", "order_id"], nulls_last=True)
    )


def _quoted(text: str | None, room: int = 40) -> str:
    text = text or ""
    return text if len(text) <= room else text[:room] + "…"


def check_notice_fits(notices: pl.DataFrame, source: str) -> None:
    """Refuse a notice longer than a spreadsheet cell (32,767 characters), naming the order's
    row in `source` and the lengths of the values it quotes. Each value alone was checked on
    reading (`io.columns.QUOTED_COLUMNS`); an order id and an item name that each fit can
    still make a sentence that does not, which the writer would only name as a cell of the
    output table. `notices`: the columns `restock_notices` builds, `_row` (the order's line
    in its file) and `_name` (the item's name) among them."""
    long = notices.filter(pl.col("message").str.len_chars() > EXCEL_CELL_LIMIT)
    if long.height == 0:
        return
    first = long.row(0, named=True)
    row = first.get("_row")
    named = first.get("name_place")  # io.prepare.NAME_PLACE
    name_source = (
        {"en": f"from {named['en']}", "zh": f"来自 {named['zh']}"}
        if named
        else {"en": "from products, stock or sales", "zh": "来自商品档案、库存或销售"}
    )
    raise StockplanError(
        phrase(
            "error.notice_too_long",
            where=place(source, int(row) if row is not None else None),
            length=f"{len(first['message']):,}",
            limit=f"{EXCEL_CELL_LIMIT:,}",
            order_id=f"{len(first.get('order_id') or ''):,}",
            customer=f"{len(first.get('customer') or ''):,}",
            sku=_quoted(first["sku"]),
            name=f"{len(first.get('_name') or ''):,}",
            source=name_source,
        )
    )


def tier_rank(customer_orders: pl.DataFrame, tier_order: list[str]) -> pl.Expr:
    """Serving rank per order line, lower first: its `priority`, else the 1-based place of
    its `customer_tier` in `tier_order` (case-insensitive); null (served last) for neither."""
    ranks = {tier.strip().lower(): float(i + 1) for i, tier in enumerate(tier_order)}
    by_tier = (
        _text(customer_orders, "customer_tier")
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(ranks, default=None, return_dtype=pl.Float64)
    )
    return pl.coalesce(_text(customer_orders, "priority", pl.Float64).cast(pl.Float64), by_tier)


def _with_order_value(frame: pl.DataFrame, prices: pl.DataFrame | None) -> pl.DataFrame:
    """Add `_order_value` = quantity x (the line's unit_price, else the product's)."""
    price = _text(frame, "unit_price", pl.Float64).cast(pl.Float64)
    if prices is not None:
        frame = frame.join(
            prices.select("sku", pl.col("unit_price").alias("_item_price")), on="sku", how="left"
        )
        price = pl.coalesce(price, pl.col("_item_price"))
    return frame.with_columns((pl.col("quantity") * price).alias("_order_value"))


def _compensation_text(rule: CompensationRule, currency: str, lang: str = "en") -> str:
    """The rule's own text, else the catalogue's coupon / points line in `lang`."""
    if rule.text:
        return rule.text
    return message(f"compensation.{rule.kind}", lang, value=f"{rule.value:g}", currency=currency)


def compensation(rules: list[CompensationRule], currency: str, lang: str = "en") -> list[pl.Expr]:
    """compensation_type / _value / _text from the first matching rule (null when none).

    Needs promised_date and days_late (null: not covered yet, late beyond every threshold;
    without a promised date late by 0 days, matching only `min_days_late: 0` rules),
    _order_value (null: unknown, matches only rules without a minimum value) and
    customer_tier.
    """
    if not rules:
        return [
            pl.lit(None, pl.String).alias("compensation_type"),
            pl.lit(None, pl.Float64).alias("compensation_value"),
            pl.lit(None, pl.String).alias("compensation_text"),
        ]
    late = (
        pl.when(pl.col("promised_date").is_null())
        .then(pl.lit(0.0))
        .otherwise(pl.col("days_late").fill_null(float("inf")))
    )
    tier = pl.col("customer_tier").str.strip_chars().str.to_lowercase()
    rule_index: pl.Expr = pl.lit(None, pl.Int64)
    for index in reversed(range(len(rules))):
        rule = rules[index]
        match = late >= rule.min_days_late
        if rule.min_order_value > 0:
            match = match & (pl.col("_order_value").fill_null(0.0) >= rule.min_order_value)
        if rule.tiers:
            match = match & tier.is_in([t.strip().lower() for t in rule.tiers]).fill_null(False)
        rule_index = pl.when(match).then(pl.lit(index, pl.Int64)).otherwise(rule_index)

    def pick(values: list, dtype: pl.DataType) -> pl.Expr:
        mapping = dict(enumerate(values))
        return rule_index.replace_strict(mapping, default=None, return_dtype=dtype)

    return [
        pick([r.kind for r in rules], pl.String).alias("compensation_type"),
        pick([r.value if r.kind != "text" else None for r in rules], pl.Float64).alias(
            "compensation_value"
        ),
        pick([_compensation_text(r, currency, lang) for r in rules], pl.String).alias(
            "compensation_text"
        ),
    ]
