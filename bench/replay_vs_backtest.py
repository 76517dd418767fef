"""Why one pattern's replayed service differs from what the backtest's curve promised.

    python bench/replay_vs_backtest.py -c config.example.yaml --pattern erratic
    python bench/replay_vs_backtest.py -c dev.yaml --pattern erratic --measure cycle

The replay of `bench/replay_real.py` (`stockplan simulate`) is run at each target for the
series of `--pattern` (their pattern at the replay start), recording every order, and the
service is split step by step between the backtest's promise and the replay. Per refit:

- `promised`: the pooled calibration curve of the pattern (the method the refit chose) at
  the quantile level recalibrated for the target: what the plan promises;
- `path, promo days 0`: the backtest's own scoring (`calibration_sums`, the refit's
  settings) on one window per series at the refit's origin, at the replay's forecast there,
  over the replay's actual days, with promotion and stockout days as the backtest sees
  every history: not measured, so no demand;
- `path, their demand`: the same with every day's demand as the replay has it;
- `path, replay's lead times`: the same with each order's lead time the one the replay drew;
- `replay`: the replay on the same series and days (review periods from L on, for as many
  reviews as the backtest scores).

Before that, per refit: actual over forecast demand over L + R in the forecast backtest's
windows and at the replay's reviews, and the refit's curves at quantile levels 0.90 / 0.95 /
0.98 pooled over every series' windows of the pattern against those of the pattern's series'
own windows. Then the pattern's service on promotion days and on the other days, on the
series with and without a promotion day in the replay, and the bootstrap standard error of
the pattern's service over its series (5,000 resamples); per week of each promotion of the
promotions table, the pattern's fill rate on the series it covers, and the series that
lost most on promotion days. Lost sales only; min-max series
are replayed with their own levels but scored on the (R, S) path like every backtest window.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from replay_real import _with  # noqa: E402

import stockplan.lead_time_demand as ltd_module  # noqa: E402
import stockplan.replay as replay_module  # noqa: E402
from stockplan.config import load_config  # noqa: E402
from stockplan.demand import BUCKET_DAYS, SERIES  # noqa: E402
from stockplan.lead_time_demand import (  # noqa: E402
    CALIBRATION_GRID,
    ORDER_ROUNDING,
    PATTERN_KEYS,
    daily_demand,
    pattern_before,
    recalibrated_level,
)
from stockplan.random_streams import series_streams  # noqa: E402
from stockplan.replay import policy_at_target, review_orders  # noqa: E402

TARGETS = [0.9, 0.95, 0.98]


def prepared_with_refits(tables, config):
    """The prepared replay and, per refit, the arguments its lead-time draws were made with."""
    refits = []
    draws = replay_module.lead_time_demand_draws

    def keep(*args, **kwargs):
        refits.append((args, kwargs))
        return draws(*args, **kwargs)

    replay_module.lead_time_demand_draws = keep
    try:
        prepared = replay_module.prepare_replay(tables, config)
    finally:
        replay_module.lead_time_demand_draws = draws
    return prepared, refits


def replay_days(prepared, config, target: float):
    """(orders [series, reviews], unmet [series, days]) of the replay at `target`, lost sales,
    re-run day by day with the recorded orders and checked against `replay_policy`."""
    policy = policy_at_target(config, target)
    orders = np.zeros((prepared.series.height, len(prepared.levels)))

    def decide(review: int, day: int, position: np.ndarray) -> np.ndarray:
        planned = review_orders(prepared, policy, config, review, day, position)
        orders[:, review] = planned["order_qty"].to_numpy()
        return orders[:, review]

    totals = replay_module.replay_policy(prepared, decide, backorder=False)
    demand = prepared.demand[:, replay_module.BASELINE_HISTORY_DAYS :]
    n, days = demand.shape
    pipeline = np.zeros((n, days + int(prepared.lead_draws.max()) + 2))
    on_hand = prepared.initial_stock.astype(float).copy()
    unmet = np.zeros((n, days))
    rows = np.arange(n)
    for day in range(days):
        on_hand += pipeline[:, day]
        if day % prepared.review_days == 0:
            review = day // prepared.review_days
            np.add.at(pipeline, (rows, day + prepared.lead_draws[:, review]), orders[:, review])
        served = np.minimum(on_hand, demand[:, day])
        on_hand -= served
        unmet[:, day] = demand[:, day] - served
    warmup = prepared.warmup_days if prepared.warmup_days is not None else np.zeros(n)
    counted = np.arange(days)[None, :] >= warmup[:, None]
    assert np.allclose((unmet * counted).sum(axis=1), totals["unmet"]), "re-run differs"
    return orders, unmet


def path_service(prepared, refit, keys, rows, origin_day, rate, promo_demand, replay_leads):
    """(fill rate, cycle service) per CALIBRATION_GRID level of the backtest's lost-sales
    path scored on the replay's days from `origin_day` for `keys` (rows of the replay), at
    forecast `rate` per day, with the refit's settings; and the series scored."""
    args, kwargs = refit
    sales, _, _, origin, excluded, review, config = args[:7]
    settings = config.policy
    history = settings.bootstrap_history_days
    first = origin - dt.timedelta(days=history + 7)
    span = (prepared.start - first).days + prepared.demand.shape[1]
    span -= replay_module.BASELINE_HISTORY_DAYS
    daily = daily_demand(sales, keys, first, span, excluded)
    at = (origin - first).days
    if promo_demand:  # the days after the origin as the replay has them
        daily[:, at:] = daily_demand(sales, keys, first, span, None)[:, at:]
    windows = keys.select(*SERIES, pl.lit(origin).alias("origin"), pl.Series("rate_per_day", rate))
    lead = keys["lead_time_days"].to_numpy()
    streams = series_streams(keys, kwargs["seed"])
    draws = prepared.lead_draws[rows, origin_day // prepared.review_days :]
    scored_lead_times = ltd_module.scored_lead_times
    if replay_leads:  # each order's lead time the replay drew for it, by stream key

        def replayed(row_streams, *_, reviews=1):
            index = np.searchsorted(streams[order], row_streams)
            return draws[order[index], :reviews].astype(int)

        order = np.argsort(streams)
        ltd_module.scored_lead_times = lambda s, tag, *a: replayed(s, reviews=a[-1])
    try:
        sums = ltd_module.calibration_sums(
            keys,
            daily,
            first,
            windows,
            lead,
            keys["lead_time_std_days"].to_numpy(),
            review,
            history,
            draws=settings.bootstrap_draws,
            seed=kwargs["seed"],
            sigma_day=keys["sigma_e"].to_numpy() / np.sqrt(BUCKET_DAYS[config.planning.bucket]),
            discrete=keys["demand_pattern"].is_in(settings.discrete_patterns).to_numpy(),
            forecast_age_days=kwargs["forecast_age_days"],
            level_alpha=kwargs["level_alpha"],
            bucket_days=BUCKET_DAYS[config.planning.bucket],
            lost_sales_path=True,
            classify=config.classify,
            discrete_patterns=settings.discrete_patterns,
            replayed=ltd_module.replayed_orders(settings),
            order_rounding=keys.select(ORDER_ROUNDING).to_numpy().astype(float),
            bootstrap_patterns=settings.bootstrap_patterns,
        )
    finally:
        ltd_module.scored_lead_times = scored_lead_times
    labels = pattern_before(
        daily[:, max(0, at - history) : at],
        BUCKET_DAYS[config.planning.bucket],
        config.classify.adi_cutoff,
        config.classify.cv2_cutoff,
        config.classify.new_item_periods,
        config.classify.dead_item_days,
    )
    return sums, labels


def own_windows(refit, keys, pattern: str, measure: str) -> dict[str, float]:
    """The refit's backtest curve at quantile levels 0.90 / 0.95 / 0.98 of the method it
    chose for `pattern`: pooled over every series' windows labelled `pattern`, and over
    the windows of `keys` alone (all of their windows, whatever their label)."""
    from stockplan.lead_time_demand import calibration_curves
    from stockplan.series import lead_time_demand_pending

    args, kwargs = refit
    sales, lead_times, classes, origin = args[:4]
    every = lead_time_demand_pending(*args, **kwargs)
    mine = lead_time_demand_pending(
        sales,
        lead_times.join(keys.select(SERIES), on=SERIES, how="semi"),
        classes,
        origin,
        *args[4:],
        **kwargs,
    )
    methods = {}
    for name, pending in (("pooled", every), ("own", mine)):
        curves, _ = calibration_curves(pending.sums)
        methods[name] = curves
    which = 0 if measure == "cycle" else 1
    out = {}
    p = PATTERN_KEYS.index(pattern)
    for method, counts in mine.sums.items():
        if pattern not in methods["pooled"].get(method, {}):
            continue
        pooled = np.maximum.accumulate(methods["pooled"][method][pattern][which])
        table = counts[:2].sum(axis=0).sum(axis=-1)  # every label of these series' windows
        own = table[1] / table[0, 0] if which == 0 else 1.0 - table[3] / table[2, 0]
        own = np.maximum.accumulate(own)
        labelled = int(counts[:2].sum(axis=0)[0, 0, p])
        out[method] = (pooled, own, labelled, int(table[0, 0]))
    return out


def actual_over_forecast(prepared, refit, keys, rows, first_review: int, reviews: int):
    """(backtest windows, replay): actual over forecast demand over L + R of `keys`, in the
    refit's forecast backtest windows (age 0, the history as the backtest sees it) and at
    the replay's reviews of that refit (its forecast per day x (L + R), every day's demand)."""
    from stockplan.lead_time_demand import _backtest_windows

    args, _ = refit
    sales, origin, excluded, review, config, summary = (
        args[0],
        args[3],
        args[4],
        args[5],
        args[6],
        args[7],
    )
    bucket_days = BUCKET_DAYS[config.planning.bucket]
    windows = _backtest_windows(summary, bucket_days).join(
        keys.select(*SERIES, "lead_time_days").with_row_index("row"), on=SERIES
    )
    out = [np.nan, np.nan]
    if windows.height:
        first = windows["origin"].min()
        daily = np.nan_to_num(daily_demand(sales, keys, first, (origin - first).days, excluded))
        running = np.concatenate([np.zeros((daily.shape[0], 1)), np.cumsum(daily, axis=1)], axis=1)
        start = (windows["origin"] - first).dt.total_days().to_numpy()
        end = start + np.round(windows["lead_time_days"].to_numpy()).astype(int) + review
        fits = end <= daily.shape[1]
        row = windows["row"].to_numpy()[fits]
        actual = running[row, end[fits]] - running[row, start[fits]]
        forecast = windows["rate_per_day"].to_numpy()[fits] * (end - start)[fits]
        out[0] = actual.sum() / forecast.sum()
    demand = prepared.demand[rows, replay_module.BASELINE_HISTORY_DAYS :]
    actual = forecast = 0.0
    for r in range(first_review, min(first_review + reviews, len(prepared.levels))):
        level = prepared.levels[r][rows]
        span = np.round(level["lead_time_days"].to_numpy()).astype(int) + review
        day = r * prepared.review_days
        for j in np.flatnonzero(day + span <= demand.shape[1]):
            actual += demand[j, day : day + span[j]].sum()
            forecast += level["forecast_per_day"][int(j)] * span[j]
    out[1] = actual / forecast if forecast > 0 else np.nan
    return out


def promotion_weeks(tables, prepared, days: int) -> list[tuple[str, np.ndarray]]:
    """(label, [series, days] mask) for each week of each promotions-table window that
    overlaps the replay: its days, for the replay's series the window covers."""
    from stockplan.promotions import _windows

    windows = _windows(
        tables.get("promotions"), tables.get("products"), prepared.series.select(SERIES)
    ).join(prepared.series.select(SERIES).with_row_index("row"), on=SERIES)
    out = []
    for (start, end), group in windows.group_by("start", "end", maintain_order=True):
        first, last = (start - prepared.start).days, (end - prepared.start).days
        for week_start in range(first, last + 1, 7):
            lo, hi = max(week_start, 0), min(week_start + 7, last + 1, days)
            if hi <= lo:
                continue
            mask = np.zeros((prepared.series.height, days), dtype=bool)
            mask[group["row"].to_numpy()[:, None], np.arange(lo, hi)[None, :]] = True
            label = f"promotion {start} to {end}, week {(week_start - first) // 7 + 1}"
            out.append((label, mask))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", type=Path, required=True)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--pattern", default="erratic", choices=PATTERN_KEYS)
    parser.add_argument("--measure", default="fill_rate", choices=["fill_rate", "cycle"])
    args = parser.parse_args()

    from stockplan.io.prepare import prepare_inputs
    from stockplan.io.readers import load_inputs
    from stockplan.promotions import promotion_days

    config = load_config(args.config)
    if args.as_of:
        config = _with(config, "planning", as_of=args.as_of)
    config = _with(config, "policy", service_measure=args.measure)
    config = _with(config, "simulate", targets=TARGETS, unmet_demand="lost")
    tables = prepare_inputs(load_inputs(config), config).tables
    print(
        f"# {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, pattern {args.pattern}, "
        f"{args.measure} targets, calibrate_lost_sales {config.policy.calibrate_lost_sales}"
    )
    prepared, refits = prepared_with_refits(tables, config)
    mine = np.flatnonzero((prepared.series["demand_pattern"] == args.pattern).to_numpy())
    demand = prepared.demand[:, replay_module.BASELINE_HISTORY_DAYS :]
    days = demand.shape[1]
    warmup = prepared.warmup_days if prepared.warmup_days is not None else np.zeros(len(demand))
    counted = np.arange(days)[None, :] >= warmup[:, None]
    last = prepared.start + dt.timedelta(days=days)
    promo = promotion_days(tables["sales"], tables.get("promotions"), tables.get("products"), last)
    promo = (
        promo.filter(pl.col("date") >= prepared.start)
        .join(prepared.series.select(SERIES).with_row_index("row"), on=SERIES)
        .select("row", (pl.col("date") - pl.lit(prepared.start)).dt.total_days().alias("day"))
    )
    on_promo = np.zeros(demand.shape, dtype=bool)
    on_promo[promo["row"].to_numpy(), promo["day"].to_numpy()] = True
    weeks = promotion_weeks(tables, prepared, days)
    review = prepared.review_days
    per_refit = config.simulate.refit_every * BUCKET_DAYS[config.planning.bucket] // review
    print(f"{mine.size} series; refits at reviews {[i * per_refit for i in range(len(refits))]}")
    ages = config.simulate.refit_every * BUCKET_DAYS[config.planning.bucket] // review
    paths = []  # per refit: keys, method, curve, path service per variant, series scored
    for index, refit in enumerate(refits):
        review_index = index * per_refit
        ltd = prepared.lead_time_demand[review_index]
        levels = prepared.levels[review_index]
        curves = ltd.calibration.get(args.pattern)
        if curves is None:
            continue
        keys = levels[mine].select(
            *SERIES,
            "demand_pattern",
            "lead_time_days",
            "lead_time_std_days",
            "sigma_e",
            *ORDER_ROUNDING,
        )
        method = ltd.methods.get(args.pattern, "parametric").replace("bootstrap_", "")
        rate = levels[mine]["forecast_per_day"].to_numpy()
        origin_day = review_index * review
        variants = {}
        for name, promo_demand, leads in (
            ("path, promo days 0", False, False),
            ("path, their demand", True, False),
            ("path, replay's lead times", True, True),
        ):
            sums, labels = path_service(
                prepared, refit, keys, mine, origin_day, rate, promo_demand, leads
            )
            table = sums[method][:2].sum(axis=(0, 3))
            variants[name] = (
                table[1] / table[0, 0] if args.measure == "cycle" else 1.0 - table[3] / table[2, 0]
            )
        scored = labels >= 0
        if method != "parametric":
            scored &= np.isin(
                np.array(PATTERN_KEYS)[np.maximum(labels, 0)], config.policy.bootstrap_patterns
            )
        curve = np.maximum.accumulate(curves[0 if args.measure == "cycle" else 1])
        lead = np.round(keys["lead_time_days"].to_numpy()).astype(int)
        paths.append((origin_day, method, curve, variants, scored, lead))
        windows, replayed = actual_over_forecast(
            prepared, refit, keys, mine, review_index, per_refit
        )
        print(
            f"\nrefit at day {origin_day}: actual over forecast demand over L + R "
            f"{windows:.3f} in the backtest windows (age 0), {replayed:.3f} in the replay"
        )
        for name, (pooled, own, labelled, cycles) in own_windows(
            refit, keys, args.pattern, args.measure
        ).items():
            at = [float(np.interp(q, CALIBRATION_GRID, c)) for c in (pooled, own) for q in TARGETS]
            print(
                f"  {name}: curve at levels 0.90 / 0.95 / 0.98 pooled over every series' "
                f"{args.pattern} windows {at[0]:.3f} / {at[1]:.3f} / {at[2]:.3f}; over "
                f"these series' windows {at[3]:.3f} / {at[4]:.3f} / {at[5]:.3f} "
                f"({labelled} of their {cycles} cycles in windows labelled {args.pattern})"
            )
    for target in TARGETS:
        _, unmet = replay_days(prepared, config, target)
        print(f"\n## target {target:g}\n")
        rows_out = []
        for origin_day, method, curve, variants, scored, lead in paths:
            level = float(recalibrated_level(np.array([target]), curve)[0])
            row = {
                "refit_day": origin_day,
                "method": method,
                "level": round(level, 3),
                "promised": round(float(np.interp(level, CALIBRATION_GRID, curve)), 3),
            }
            for name, service in variants.items():
                row[name] = round(float(np.interp(level, CALIBRATION_GRID, service)), 3)
            # the replay on the scored series' review periods from L on, as the path counts
            cycles = cycles_ok = units = short = 0.0
            for j in np.flatnonzero(scored):
                for age in range(ages):
                    lo = origin_day + lead[j] + age * review
                    if lo + review > days:
                        break
                    d = demand[mine[j], lo : lo + review]
                    u = unmet[mine[j], lo : lo + review]
                    units, short = units + d.sum(), short + u.sum()
                    cycles += d.sum() > 0
                    cycles_ok += (d.sum() > 0) and not (u > 1e-9).any()
            served = cycles_ok / cycles if args.measure == "cycle" else 1.0 - short / units
            row["replay"] = round(float(served), 3)
            row["series scored"] = int(scored.sum())
            rows_out.append(row)
        with pl.Config(tbl_cols=20, tbl_width_chars=200, tbl_formatting="MARKDOWN"):
            print(pl.DataFrame(rows_out))
        counted_mine = counted[mine]
        d, u, p = demand[mine] * counted_mine, unmet[mine] * counted_mine, on_promo[mine]
        with_promo = p.any(axis=1)

        def fill(dd: np.ndarray, uu: np.ndarray) -> float:
            return round(float(1.0 - uu.sum() / dd.sum()), 3) if dd.sum() > 0 else float("nan")

        print(
            f"\nfill rate: all days {fill(d, u)}, promotion days {fill(d * p, u * p)} "
            f"({(d * p).sum() / d.sum():.3f} of the demand), other days "
            f"{fill(d * ~p, u * ~p)}; series with a promotion day in the replay "
            f"{fill(d[with_promo], u[with_promo])} ({int(with_promo.sum())}), without "
            f"{fill(d[~with_promo], u[~with_promo])} ({int((~with_promo).sum())})"
        )
        for label, week in weeks:  # each promotion week of the table inside the replay
            held = week[mine] & counted_mine
            series = held.any(axis=1)
            print(
                f"  {label}: {int(series.sum())} series, counted demand "
                f"{(d * held).sum():.0f}, fill rate {fill(d * held, u * held)}"
            )
        lost = (u * p).sum(axis=1)
        top = np.argsort(-lost)[:3]
        print(
            "  most units short on promotion days (sku, promotion-day demand, short, largest "
            "day): "
            + ", ".join(
                f"{prepared.series['sku'][int(mine[j])]} {(d * p)[j].sum():.0f} {lost[j]:.0f} "
                f"{d[j].max():.0f}"
                for j in top
            )
            + f"; all {(d * p).sum():.0f} {lost.sum():.0f}"
        )
        per_series_d, per_series_u = d.sum(axis=1), u.sum(axis=1)
        pick = np.random.default_rng(0).integers(0, mine.size, (5000, mine.size))
        resampled = 1.0 - per_series_u[pick].sum(axis=1) / per_series_d[pick].sum(axis=1)
        print(f"bootstrap standard error of the fill rate over series: {resampled.std():.4f}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
