"""Safety stock, reorder point and order-up-to level per sku x location.

Periodic review (the tool runs every `review_days` = R): stock must cover the lead time
plus one review period, L + R (Silver, Pyke & Thomas, *Inventory and Production
Management in Supply Chains*, 4th ed., ch. 6).

    sigma_LTD^2 = (L + R) * sigma_d^2 + d^2 * sigma_L^2                 (demand and lead-time risk)
    cycle service level alpha:  SS = z * sigma_LTD, z = Phi^-1(alpha)
    fill rate beta:             SS = k * sigma_LTD, G(k) = (1 - beta) * Q / sigma_LTD

with d the forecast per day, sigma_d the per-day forecast-error spread (backtest RMSE per
bucket / sqrt(bucket days)), sigma_L the lead-time standard deviation in days and G the
standard normal loss function G(k) = phi(k) - k * (1 - Phi(k)). Patterns listed in
`discrete_patterns` (slow / intermittent) use a Poisson or negative binomial lead-time
demand with the same mean and variance instead of the normal: S = F^-1(alpha).

Policies: `rs` order up to S every review when position < S (reorder point = S);
`ss` min-max, s = mu_{L+R} + SS, S = s + max(EOQ, d R); `sq` order multiples of
Q = max(EOQ, d R) once position <= s. EOQ = sqrt(2 K D / (h c)) (Harris 1913).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import special, stats

from stockplan.config import Policy
from stockplan.i18n import counted_text
from stockplan.lead_time_demand import (
    CALIBRATION_GRID,
    CALIBRATION_KNOB,
    LeadTimeDemand,
    cycle_fill_rate,
    cycle_shortage_stock,
    discrete_cdf,
    discrete_quantile,
    empirical_order_up_to,
    extension_base,
    extension_scored,
    own_service_at_stock,
    recalibrated_level,
    replenishment_cycle_level,
    replenishment_fill_level,
    review_demand_share,
    split_knob,
)
from stockplan.service_allocation import (
    allocate_pattern_service,
    order_cycle_share,
    pattern_curve_reaches,
)

# the `service_note` of a row whose level `service_allocation: pattern` chose
ALLOCATED_NOTE = "held over the demand pattern's items at the least stock value"
_K_GRID = np.linspace(-4.0, 6.0, 20001)
_G_GRID = stats.norm.pdf(_K_GRID) - _K_GRID * stats.norm.sf(_K_GRID)
_SQRT_2PI = np.sqrt(2 * np.pi)


def normal_pdf(k: np.ndarray) -> np.ndarray:
    """phi(k) = exp(-k^2 / 2) / sqrt(2 pi), in the steps of scipy.stats.norm.pdf (the same
    floating-point result) without its per-call argument checks."""
    return np.exp(-(k**2) / 2.0) / _SQRT_2PI


def normal_loss(k: np.ndarray | float) -> np.ndarray:
    """Standard normal loss G(k) = E[(Z - k)^+] = phi(k) - k (1 - Phi(k)), 1 - Phi(k) =
    Phi(-k) (`special.ndtr`, what scipy.stats.norm.sf computes)."""
    k = np.asarray(k, dtype=float)
    return normal_pdf(k) - k * special.ndtr(-k)


def normal_shortage(level: np.ndarray, mean: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """E[(D - S)^+] for D ~ N(mean, sigma): sigma G((S - mean) / sigma), (mean - S)^+ where
    sigma is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.clip(np.nan_to_num((level - mean) / sigma), -40.0, 40.0)
        return np.where(sigma > 0, sigma * normal_loss(k), np.maximum(mean - level, 0.0))


def inverse_normal_loss(target: np.ndarray | float) -> np.ndarray:
    """k with G(k) = target (G is decreasing; interpolated on a fine grid, |error| < 1e-3)."""
    target = np.asarray(target, dtype=float)
    return np.interp(target, _G_GRID[::-1], _K_GRID[::-1])


def z_value(service_level: np.ndarray | float) -> np.ndarray:
    """z = Phi^-1(alpha)."""
    return stats.norm.ppf(np.asarray(service_level, dtype=float))


def lead_only_demand(frame: pl.DataFrame, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mu_L, sigma_L): the mean and standard deviation of demand over the lead time alone,
    the share L / (L + R) of `mu` (the demand over L + R) and
    sqrt(L sigma_d^2 + d^2 sigma_L^2) (`lead_time_demand_sigma` over L days)."""
    lead = frame["lead_time_days"].to_numpy().astype(float)
    review = frame["review_days"].to_numpy().astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(lead + review > 0, lead / (lead + review), 0.0)
    sigma = lead_time_demand_sigma(
        frame["sigma_day"].to_numpy(),
        frame["forecast_per_day"].to_numpy(),
        lead,
        frame["lead_time_std_days"].to_numpy(),
    )
    return mu * share, sigma


def lead_time_demand_sigma(
    sigma_day: np.ndarray,
    forecast_per_day: np.ndarray,
    protection_days: np.ndarray,
    sigma_l: np.ndarray,
) -> np.ndarray:
    """sigma_LTD = sqrt((L + R) sigma_d^2 + d^2 sigma_L^2)."""
    return np.sqrt(protection_days * sigma_day**2 + forecast_per_day**2 * sigma_l**2)


def economic_order_quantity(
    annual_demand: np.ndarray, ordering_cost: float, holding_rate: float, unit_cost: np.ndarray
) -> np.ndarray:
    """Q* = sqrt(2 K D / h), h = holding_rate * unit_cost; NaN where cost is unknown or zero."""
    holding = holding_rate * np.asarray(unit_cost, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.sqrt(2.0 * ordering_cost * np.asarray(annual_demand, dtype=float) / holding)
    return np.where(np.isfinite(q) & (holding > 0), q, np.nan)


MIN_CONFORMAL_SCORES = 20


def conformal_rank(n: int, alpha: np.ndarray) -> np.ndarray:
    """The 1-based rank among n sorted scores of the one `conformal_factor` takes: numpy's
    "higher" quantile at q = min(ceil((n + 1) alpha) / n, 1) is the sorted scores' element
    ceil((n - 1) q) (0-based), in the same floating-point steps."""
    level = np.minimum(np.ceil((n + 1) * np.asarray(alpha, dtype=float)) / n, 1.0)
    return np.ceil((n - 1) * level).astype(np.intp) + 1


@dataclass(frozen=True)
class ConformalFactors:
    """A demand pattern's conformal safety factors (`conformal_factor`) at the service
    levels it is planned at, found where its `size` pooled scores are (a cluster's
    partitions, `partitioned`), so that only these few numbers travel."""

    size: int
    levels: np.ndarray  # sorted
    factors: np.ndarray

    def at(self, alpha: np.ndarray) -> np.ndarray:
        """The factor of each level in `alpha`; a level it was not found at is an error."""
        alpha = np.asarray(alpha, dtype=float)
        index = np.minimum(np.searchsorted(self.levels, alpha), max(self.levels.size - 1, 0))
        if not self.levels.size or not np.array_equal(self.levels[index], alpha):
            raise ValueError("conformal factors were not found at every service level planned")
        return self.factors[index]


def conformal_factor(scores: np.ndarray | ConformalFactors, alpha: np.ndarray) -> np.ndarray:
    """Split-conformal safety factor: the ceil((n + 1) alpha) / n empirical quantile of n
    conformity scores (standardised backtest shortfalls), so that P(shortfall <= k) >= alpha
    holds for exchangeable errors (Angelopoulos & Bates, 2021). NaN if a score is NaN.
    `ConformalFactors`: the factors found beforehand at these levels."""
    if isinstance(scores, ConformalFactors):
        return scores.at(alpha)
    n = scores.size
    level = np.minimum(np.ceil((n + 1) * np.asarray(alpha, dtype=float)) / n, 1.0)
    return np.quantile(scores, level, method="higher")


def protection_levels(
    frame: pl.DataFrame,
    settings: Policy,
    error_scores: dict[str, np.ndarray] | None = None,
    lead_time_demand: LeadTimeDemand | None = None,
) -> pl.DataFrame:
    """Add sigma_lead_time_demand, safety_stock, reorder_point, order_up_to, order_cycle_qty,
    ltd_method, promised_service and service_note.

    Needs: forecast_per_day, demand_protection (forecast over L + R), sigma_day,
    lead_time_days, lead_time_std_days, review_days, service_level, demand_pattern, unit_cost,
    and optionally policy_type per row (else `settings.type` for all). With
    `quantile_method: conformal`, `error_scores` (demand pattern -> pooled conformity scores)
    replace z by their empirical quantile for patterns with at least 20 scores.
    `lead_time_demand` (bootstrap draws, see `lead_time_demand.py`) sets S for the series
    of the patterns it was chosen for (`lead_time_demand.methods`), for cycle service and
    fill rate alike; safety stock is then S - mu, negative where the skewed lead-time
    demand's quantile lies below its mean. For cycle service, min-max and (s, Q) rows
    promise the target per replenishment cycle: the draws' conditional levels (per review
    period with demand) take 1 - (1 - alpha) / P(D_R > 0) (`replenishment_cycle_level`).
    Safety stock is capped at `max_cover_days` of mean demand. `promised_service` is the
    service the row can promise: the target, or where its final S gives less, that lower
    figure: under the row's own lead-time demand (`service_at_level`), read through the
    backtest's calibration curve where the level was recalibrated (`calibrated_service`;
    with `promise_scoring: replayed` the same knob on the curve scored on the replayed path),
    per replenishment cycle for the min-max rows above. `service_note` then says the
    target is not reachable at the cover cap, or lies above anything the pattern's pooled
    backtest achieved (a statement about the pattern, not the item), and what is promised.
    """
    d = frame["forecast_per_day"].to_numpy().astype(float)
    mu = frame["demand_protection"].to_numpy().astype(float)
    protection = frame["lead_time_days"].to_numpy() + frame["review_days"].to_numpy()
    sigma = lead_time_demand_sigma(
        frame["sigma_day"].to_numpy(), d, protection, frame["lead_time_std_days"].to_numpy()
    )
    alpha = frame["service_level"].to_numpy().astype(float)
    review = frame["review_days"].to_numpy().astype(float)
    unit_cost = frame["unit_cost"].fill_null(np.nan).to_numpy().astype(float)
    eoq = economic_order_quantity(
        d * 365.0, settings.ordering_cost, settings.holding_cost_rate, unit_cost
    )
    kind = (
        frame["policy_type"].to_numpy()
        if "policy_type" in frame.columns
        else np.full(frame.height, settings.type)
    )
    periodic = kind == "rs"
    cycle_qty = np.where(periodic, d * review, np.fmax(np.nan_to_num(eoq), d * review))

    if settings.service_measure == "cycle":
        k = z_value(alpha)
        if settings.quantile_method == "conformal" and error_scores:
            patterns = frame["demand_pattern"].to_numpy()
            for pattern, scores in error_scores.items():
                rows = patterns == pattern
                if rows.any() and scores.size >= MIN_CONFORMAL_SCORES:
                    k = np.array(k, dtype=float)
                    k[rows] = conformal_factor(scores, alpha[rows])
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            target = np.where(sigma > 0, (1.0 - alpha) * cycle_qty / sigma, np.inf)
        k = np.where(np.isfinite(target), inverse_normal_loss(target), 0.0)
    if settings.service_measure == "cycle":
        safety = np.maximum(k, 0.0) * sigma
    else:  # k < 0 where the order quantity alone serves more than beta (Silver et al.
        # ch. 6, Axsater ch. 5): a level below the mean, never below zero stock
        safety = np.maximum(k * sigma, -mu)
    discrete = (  # a series without a pattern (null) is not discrete
        frame["demand_pattern"].is_in(settings.discrete_patterns).fill_null(False).to_numpy()
    )
    on_counts = discrete & (mu > 0)  # the count distributions of these rows only
    if on_counts.any() and settings.service_measure == "cycle":
        variance = np.maximum(sigma**2, mu)[on_counts]
        quantile = discrete_quantile(alpha[on_counts], mu[on_counts], variance)
        safety = np.array(safety, dtype=float)
        safety[on_counts] = np.maximum(quantile - mu[on_counts], 0.0)
    method = np.where(discrete, "discrete", "normal").astype(object)
    # levels from draws / from a backtest curve / set per replenishment cycle
    drawn = on_curve = per_cycle = per_cycle_fill = np.zeros(frame.height, dtype=bool)
    review_demand = d * review
    step = np.zeros(frame.height)  # beyond the grid's top level (`split_knob`)
    extend = extension_scored(settings) or "none"
    if lead_time_demand is not None:
        # the draws' levels count review periods with demand; min-max and (s, Q) series
        # promise the cycle service per replenishment cycle (`replenishment_cycle_level`)
        level = alpha
        if settings.service_measure == "cycle" and not periodic.all():
            share = review_demand_share(frame, lead_time_demand)
            level = np.where(periodic, alpha, replenishment_cycle_level(alpha, share))
            per_cycle = ~periodic & (share > 0)
        elif not periodic.all():  # fill rate per replenishment cycle of Q units
            level = np.where(
                periodic, alpha, replenishment_fill_level(alpha, cycle_qty, review_demand)
            )
            per_cycle_fill = ~periodic & (review_demand > 0) & (cycle_qty > 0)
        patterns = frame["demand_pattern"]
        chosen = patterns.replace_strict(lead_time_demand.methods, default="").to_numpy()
        use = np.char.startswith(chosen.astype(str), "bootstrap")
        empirical = (  # read on the rows the draws set only: none, none computed
            empirical_order_up_to(
                frame.with_columns(pl.Series("service_level", level)),
                lead_time_demand,
                settings.service_measure,
                lead_time_demand.backorder,
                extend,
            )
            if use.any()
            else np.full(frame.height, np.nan)
        )
        use &= np.isfinite(empirical)
        safety = np.where(use, empirical - mu, safety)
        method = np.where(use, chosen, method)
        # parametric chosen by the backtest: its quantile level recalibrated there
        calibrated = patterns.is_in(list(lead_time_demand.calibration)).to_numpy()
        parametric = (chosen == "parametric") & calibrated & (mu > 0)
        drawn, on_curve = use, (use & calibrated) | parametric
        if on_curve.any():
            target, knob = level, alpha.copy()
            for pattern, (cycle, fill) in lead_time_demand.calibration.items():
                rows = on_curve & (patterns == pattern).to_numpy()
                achieved = cycle if settings.service_measure == "cycle" else fill
                knob[rows] = recalibrated_level(target[rows], achieved)
            level, beyond = split_knob(knob)
            step = np.where(on_curve, beyond, 0.0)  # the draws' S has it already
        if parametric.any():
            level = np.clip(level, 1e-6, 1 - 1e-6)
            normal = z_value(level) * sigma
            counted = np.full(frame.height, np.nan)  # only where it is read
            rows = parametric & discrete
            counted[rows] = (
                discrete_quantile(level[rows], mu[rows], np.maximum(sigma**2, mu)[rows]) - mu[rows]
            )
            # beyond the top level: S = S_0.999 + c B (`extended_stocks`)
            normal += step * extension_base(normal, mu, extend)
            counted += step * extension_base(counted, mu, extend)
            safety = np.where(parametric, np.where(discrete, counted, normal), safety)
            method = np.where(parametric, "parametric", method)
    if per_cycle_fill.any():
        # the per-review level neglects the lead time's demand beyond a low reorder point;
        # a cycle's whole shortage E[(T - s)^+] within (1 - beta) Q is the floor
        allowed = (1.0 - alpha) * cycle_qty
        with np.errstate(invalid="ignore", divide="ignore"):
            k = inverse_normal_loss(np.where(sigma > 0, allowed / sigma, np.inf))
        floor = np.where(sigma > 0, k * sigma, 0.0)
        if drawn.any():
            own = cycle_shortage_stock(frame, lead_time_demand, allowed) - mu
            floor = np.where(drawn & np.isfinite(own), own, floor)
        safety = np.where(per_cycle_fill, np.maximum(safety, floor), safety)
    cap = d * settings.max_cover_days
    capped = (d > 0) & (safety > cap)
    # beyond the grid's top, the step left by the cap: safety = top + c B
    extended = step > 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        # B = mu, or the top level's safety stock itself
        top_safety = safety - step * mu if extend == "demand" else safety / (1.0 + step)
        base = extension_base(top_safety, mu, extend)
        step = np.where(extended & capped, (cap - top_safety) / base, step)
    safety = np.where(d > 0, np.minimum(safety, cap), 0.0)
    reorder_point = mu + safety
    order_up_to = np.where(periodic, reorder_point, reorder_point + cycle_qty)
    cycle_own, fill_own = service_at_level(
        frame, reorder_point, mu, sigma, cycle_qty, discrete, lead_time_demand, drawn
    )
    allocated = np.zeros(frame.height, dtype=bool)
    allocated_knob = allocated_fill = np.zeros(frame.height)
    if (
        settings.service_allocation != "item"
        and (
            settings.service_measure == "fill_rate" or settings.service_allocation == "pattern_all"
        )
        and lead_time_demand is not None
    ):  # the pattern's target in aggregate at the least stock value (`service_allocation`)
        allocated = on_curve & periodic & (d > 0) & (mu > 0) & (unit_cost > 0)
        stock, allocated_knob, allocated_cap, allocated_fill = allocate_pattern_service(
            frame, lead_time_demand, allocated, mu, sigma, cycle_qty, discrete, drawn,
            unit_cost, cap, extend, reorder_point, service_at_level, settings.service_measure,
            settings.allocation_max_shortfall, lead_only_demand(frame, mu),
        )  # fmt: skip
        reorder_point = np.where(allocated, stock, reorder_point)
        safety = reorder_point - mu
        order_up_to = np.where(periodic, reorder_point, reorder_point + cycle_qty)
        capped = np.where(allocated, allocated_cap, capped)
        cycle_new, _ = service_at_level(
            frame, reorder_point, mu, sigma, cycle_qty, discrete, lead_time_demand, drawn
        )
        cycle_own = np.where(allocated, cycle_new, cycle_own)
    if lead_time_demand is not None and on_curve.any():
        patterns = frame["demand_pattern"].to_numpy()
        # the knob of the final S: its own-distribution level up to the grid's top, else
        # the step beyond the top level's stock that S holds after the cap
        knob = np.where(
            extended & (step >= 0.0),
            CALIBRATION_GRID[-1] + step,
            np.minimum(cycle_own, CALIBRATION_GRID[-1]),
        )
        knob = np.where(allocated, allocated_knob, knob)  # where its own level lies
        for pattern, curves in lead_time_demand.calibration.items():
            rows = on_curve & (patterns == pattern)
            # read on the replayed path's curve where it was scored (`promise_scoring`)
            read_on = lead_time_demand.promise.get(pattern, curves)
            cycle_own[rows], fill_own[rows] = calibrated_service(knob[rows], read_on)
        # an allocated item's own shortage (stockouts) at its level, corrected as its
        # pattern's curve
        if settings.service_measure == "cycle":
            cycle_own = np.where(allocated, allocated_fill, cycle_own)
        else:
            fill_own = np.where(allocated, allocated_fill, fill_own)
    if per_cycle.any():
        # back from the level per review period with demand to the replenishment cycle:
        # the inverse of `replenishment_cycle_level`, alpha = 1 - (1 - alpha_R) pi
        on_draws = per_cycle & (drawn | on_curve)
        cycle_own[on_draws] = 1.0 - (1.0 - cycle_own[on_draws]) * share[on_draws]
    if per_cycle_fill.any():  # the inverse of `replenishment_fill_level`
        on_draws = per_cycle_fill & (drawn | on_curve)
        fill_own[on_draws] = cycle_fill_rate(
            fill_own[on_draws], cycle_qty[on_draws], review_demand[on_draws]
        )
    own = cycle_own if settings.service_measure == "cycle" else fill_own
    # held below the target by the allocation only where the pattern reaches it in
    # aggregate; a pattern whose backtest never reached it has every item at its largest
    # levels, and an item short of the target there says so as one above the curve
    held = allocated & pattern_curve_reaches(frame, lead_time_demand, alpha, settings)
    unreachable = (d > 0) & (own < alpha - 1e-6)
    promised = np.where(unreachable | held, own, alpha)
    unreachable &= ~held
    days = f"{settings.max_cover_days:g}"
    measure = "cycle service" if settings.service_measure == "cycle" else "fill rate"
    percent = [(pl.Series(v) * 100).round(1).cast(pl.String) for v in (alpha, fill_own, cycle_own)]
    promise = (
        f" {measure} {{}}% is not reachable, this stock promises fill rate {{}}% "
        "(cycle service {}%)"
    )
    # the allocation's fill-rate promise counts a packed or MOQ-raised item's shortage once
    # per order (`order_cycle_share`): say why it promises more than its level alone
    periods = 1.0 / order_cycle_share(frame, cycle_qty)
    several = held & (periods > 1.0 + 1e-9) & (settings.service_measure == "fill_rate")
    per_order = (
        pl.when(pl.Series(several))
        .then(
            pl.format(
                "; an order covers about {} review periods' demand (MOQ or pack), so it runs "
                "short at most once per order",
                pl.Series(np.round(periods, 1)).cast(pl.String),
            )
        )
        .otherwise(pl.lit(""))
    )
    note = (
        pl.select(
            pl.when(pl.Series(held))
            .then(
                pl.format(
                    f"{measure} {{}}% {ALLOCATED_NOTE}; this item's stock promises fill rate "
                    "{}% (cycle service {}%){}",
                    *percent,
                    per_order,
                )
            )
            .when(pl.Series(unreachable & capped))
            .then(
                pl.format(
                    f"target not reachable at sane stock: safety stock capped at {days} "
                    "days of demand;" + promise,
                    *percent,
                )
            )
            .when(pl.Series(unreachable))
            .then(  # the pattern's pooled curve, not this item's: say so
                pl.format(
                    f"target above the demand pattern's backtest: no level reached {measure} "
                    "{}% on the pattern's pooled windows; this stock promises fill rate {}% "
                    "(cycle service {}%) there, a figure for the pattern, not for this item "
                    "alone",
                    *percent,
                )
            )
            .when(pl.Series(capped))
            .then(
                pl.lit(
                    counted_text(
                        "safety stock capped at {days} days of demand; the target still holds",
                        days=days,
                    )
                )
            )
            .otherwise(pl.lit(""))
        )
        .to_series()
        .fill_null("")
    )
    return frame.with_columns(
        pl.Series("sigma_lead_time_demand", sigma),
        pl.Series("safety_stock", safety),
        pl.Series("reorder_point", reorder_point),
        pl.Series("order_up_to", order_up_to),
        pl.Series("order_cycle_qty", cycle_qty),
        pl.Series("eoq", eoq),
        pl.Series("ltd_method", method.astype(str)),
        pl.Series("promised_service", promised),
        note.alias("service_note"),
        pl.Series("safety_capped", capped & (d > 0)),  # the order's reason says so
    )


def service_at_level(
    frame: pl.DataFrame,
    level: np.ndarray,
    mu: np.ndarray,
    sigma: np.ndarray,
    cycle_qty: np.ndarray,
    discrete: np.ndarray,
    lead_time_demand: LeadTimeDemand | None,
    drawn: np.ndarray,
    lead: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(cycle service, fill rate) that the level S (stock position after a review's order)
    gives under the lead-time demand the row's level came from: its bootstrap draws on the
    `drawn` rows, with the empirical loss the levels use (`own_service_at_stock`); else the normal
    N(mu, sigma_LTD), cycle Phi(k), fill 1 - sigma_LTD G(k) / Q with k = (S - mu) / sigma
    and Q = `cycle_qty` (the loss the normal fill-rate level solves, Silver et al. ch. 6),
    the cycle service of `discrete` rows from the Poisson / negative binomial. For min-max
    rows S is the reorder point s, where a cycle starts at worst: a lower bound.

    `lead` = (mu_L, sigma_L), the normal demand over the lead time alone, for (R, S) rows:
    the normal fill then counts a review period's own shortage, E[(D_L+R - S)^+] -
    E[(D_L - S)^+] = sigma_LTD G(k) - sigma_L G((S - mu_L) / sigma_L) (Hadley & Whitin
    1963; the second term, usually dropped, is the shortage of the period before that the
    order had not covered yet, and matters where S is near the mean demand over L), as the
    draws' empirical loss counts it.

    `level` [rows, levels]: every column of levels at once, [rows, levels] out."""
    level = np.asarray(level, dtype=float)
    if level.ndim == 2:  # each row's figures against each of its levels
        mu, sigma, cycle_qty, discrete, drawn = (
            np.asarray(v)[:, None] for v in (mu, sigma, cycle_qty, discrete, drawn)
        )
        lead = None if lead is None else (lead[0][:, None], lead[1][:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.where(sigma > 0, (level - mu) / sigma, np.where(level >= mu, np.inf, -np.inf))
        cycle = special.ndtr(k)  # Phi(k), as scipy.stats.norm.cdf
        lost = normal_shortage(level, mu, sigma)
        if lead is not None:  # less what the lead time alone leaves short
            lost = lost - normal_shortage(level, *lead)
        fill = np.where(cycle_qty > 0, np.clip(1.0 - lost / cycle_qty, 0.0, 1.0), 1.0)
    counted = np.broadcast_to(discrete & (mu > 0), np.shape(cycle))
    if counted.any():  # the count distributions on those rows only: scipy's are slow
        cycle = np.array(cycle, dtype=float)
        stock, mean, variance = (
            np.broadcast_to(v, counted.shape)[counted]
            for v in (level, mu, np.maximum(sigma**2, mu))
        )
        cycle[counted] = discrete_cdf(stock, mean, variance)
    if lead_time_demand is not None and drawn.any():
        own_cycle, own_fill = own_service_at_stock(frame, lead_time_demand, level)
        cycle = np.where(drawn & ~np.isnan(own_cycle), own_cycle, cycle)
        fill = np.where(drawn & ~np.isnan(own_fill), own_fill, fill)
    return cycle, fill


def calibrated_service(
    quantile_level: np.ndarray, curves: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """(cycle service, fill rate) that the backtest achieved at the knob of a row's S:
    `curves` (cycle, fill) per CALIBRATION_KNOB point of the row's pattern
    (`backtest_calibration`: the grid's levels, then any steps beyond the top scored), made
    non-decreasing, read linearly between points and flat beyond them. The knob of S is
    its cycle service under the row's own distribution (`service_at_level`) up to the
    grid's top, beyond it 0.999 + c for the step c beyond the top level's stock that S
    holds (`split_knob`, `extended_stocks`): the inverse of the recalibration that set S, so a
    target the backtest reached comes back as the target, one above the curve's top (or
    a level cut by the cover cap) as what the backtest delivered there."""
    cycle, fill = (np.maximum.accumulate(np.asarray(c, dtype=float)) for c in curves)
    return (
        np.interp(quantile_level, CALIBRATION_KNOB[: cycle.size], cycle),
        np.interp(quantile_level, CALIBRATION_KNOB[: fill.size], fill),
    )


def smallest_order(moq: pl.Expr, pack: pl.Expr) -> pl.Expr:
    """The smallest quantity a line can order: max(MOQ, 1) rounded up to whole packs."""
    pack = pl.when(pack.is_null() | (pack <= 0)).then(1.0).otherwise(pack)
    least = pl.max_horizontal(moq.fill_null(0.0), pl.lit(1.0))
    return (least / pack - 1e-9).ceil() * pack


def no_legal_quantity(moq: pl.Expr, pack: pl.Expr, max_order: pl.Expr) -> pl.Expr:
    """True where no quantity meets the master data: the smallest order (`smallest_order`,
    the MOQ in whole packs) is above max_order, so no multiple of the pack lies between
    the MOQ and max_order (a max_order below the MOQ is one such case)."""
    return ((max_order > 0) & (smallest_order(moq, pack) > max_order + 1e-9)).fill_null(False)


def round_order_quantity(raw: pl.Expr, moq: pl.Expr, pack: pl.Expr, max_order: pl.Expr) -> pl.Expr:
    """Turn a raw need into an orderable quantity: whole units, at least MOQ, whole packs, max.

    units = round(raw) (half up: a need of 0.2 units is no order line, 7.7 is 8);
    q = ceil(max(units, moq) / pack) * pack, capped at the largest pack multiple <= max.
    Where no pack multiple lies between the MOQ and max (`no_legal_quantity`) q = 0: the
    cap would order below the MOQ. Missing constraints mean none.
    """
    pack = pl.when(pack.is_null() | (pack <= 0)).then(1.0).otherwise(pack)
    units = (raw + 0.5).floor()
    need = pl.max_horizontal(units, moq.fill_null(0.0))
    rounded = (need / pack - 1e-9).ceil() * pack
    cap = (max_order / pack + 1e-9).floor() * pack
    capped = (
        pl.when(max_order.is_not_null() & (max_order > 0))
        .then(pl.min_horizontal(rounded, cap))
        .otherwise(rounded)
    )
    legal = ~no_legal_quantity(moq, pack, max_order)
    return pl.when((units >= 1) & legal).then(capped).otherwise(0.0)
