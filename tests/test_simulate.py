"""Policy replay on the bundled sample data, and the replay mechanics on a hand-made case."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from stockplan.cli import app
from stockplan.replay import Replay, metrics, replay_policy

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sample_simulation(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path, dict[str, pl.DataFrame]]:
    """`stockplan simulate` on sample_data with fill-rate targets; returns (csv, png, the
    replay's tables with `simulation_series`, every series per target, beside the rest).

    The replay runs once for the module: the command's own `replay_policies` call is asked
    for the per-series table too, which the command does not write."""
    from stockplan import replay

    folder = tmp_path_factory.mktemp("simulate")
    config = yaml.safe_load((ROOT / "config.example.yaml").read_text(encoding="utf-8"))
    config["inputs"] = {
        name: (
            {**spec, "path": str(ROOT / spec["path"])}
            if isinstance(spec, dict)
            else str(ROOT / spec)
        )
        for name, spec in config["inputs"].items()
    }
    config["policy"]["service_measure"] = "fill_rate"
    # the targets the tests read (0.90 the allocation's, 0.95 and 0.98 the landing's):
    # each target replays the whole sample's 26 weeks of reviews once more
    config["simulate"] = {"targets": [0.9, 0.95, 0.98]}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    csv, png = folder / "simulation.csv", folder / "tradeoff.png"
    replayed: dict[str, pl.DataFrame] = {}
    every_series = replay.replay_policies

    def replay_policies(case: Replay, settings, per_series: bool = False):
        out = every_series(case, settings, per_series=True)
        replayed.update(out)
        return out if per_series else {k: v for k, v in out.items() if k != "simulation_series"}

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replay, "replay_policies", replay_policies)
        result = CliRunner().invoke(
            app, ["simulate", "-c", str(path), "-o", str(csv), "--plot", str(png)]
        )
    assert result.exit_code == 0, result.output
    assert set(replayed) >= {"simulation", "simulation_unreachable", "simulation_series"}
    return csv, png, replayed


@pytest.mark.slow
def test_simulated_fill_rate_lands_near_the_target(sample_simulation):
    simulation = pl.read_csv(sample_simulation[0])
    policy = simulation.filter(pl.col("policy") == "stockplan")
    assert policy["target"].to_list() == [0.9, 0.95, 0.98]
    for target in (0.95, 0.98):
        fill = policy.filter(pl.col("target") == target)["fill_rate"][0]
        assert abs(fill - target) <= 0.02 + 1e-9, (target, fill)  # 2.0 points is within
    # more service costs more stock, never less
    assert policy["fill_rate"].is_sorted() and policy["avg_inventory_value"].is_sorted()


@pytest.mark.slow
def test_policy_holds_less_stock_than_the_baseline_at_the_same_fill_rate(sample_simulation):
    simulation = pl.read_csv(sample_simulation[0])
    baseline = simulation.filter(pl.col("policy").str.starts_with("baseline"))
    assert baseline.height == 10
    compared = baseline.drop_nulls("policy_inventory_at_same_fill")
    assert compared.height >= 1
    assert (compared["policy_inventory_at_same_fill"] < compared["avg_inventory_value"]).all()
    # the configured rule (2 weeks / 4 weeks) serves less than the lowest policy target
    rule = baseline.filter(pl.col("policy").str.contains("at 2 weeks, up to 4 weeks"))
    policy = simulation.filter(pl.col("policy") == "stockplan")
    assert rule["fill_rate"][0] < policy["fill_rate"].min()


@pytest.mark.slow
def test_simulation_splits_each_target_into_reachable_and_unreachable_items(sample_simulation):
    simulation = pl.read_csv(sample_simulation[0])
    policy = simulation.filter(pl.col("policy") == "stockplan")
    # every series is either promised its target or counted as not reachable
    assert (policy["reachable_series"] + policy["unreachable_series"] == policy["series"]).all()
    # the units-weighted promise is the target held over each pattern's items (each item
    # promises its own level's fill, `service_allocation: pattern`; the levels are whole
    # units, so a little above it), and an unreachable item's never exceeds the target;
    # achieved service on the reachable items is reported
    assert (policy["promised_service"] <= policy["target"] + 0.005).all()
    assert (policy["promised_service"] >= policy["target"] - 0.02).all()
    unreachable = policy.filter(pl.col("unreachable_series") > 0)
    assert (unreachable["unreachable_promised"] <= unreachable["target"]).all()
    assert unreachable["unreachable_service"].is_not_null().all()
    assert policy["reachable_service"].is_between(0.0, 1.0).all()
    # baselines promise nothing
    assert simulation.filter(pl.col("policy") != "stockplan")["promised_service"].is_null().all()


@pytest.mark.slow
def test_tradeoff_chart_is_a_png(sample_simulation):
    content = sample_simulation[1].read_bytes()
    assert content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) > 10_000


def _replay_case(on_hand: float, demand: list[float], lead: int) -> Replay:
    days = len(demand)
    history = np.zeros((1, 56))
    return Replay(
        series=pl.DataFrame(
            {"sku": ["A"], "location": ["W"], "unit_cost": [2.0]},
        ).with_columns(
            pl.lit(None, pl.Float64).alias(c) for c in ("moq", "pack_size", "max_order")
        ),
        start=dt.date(2025, 1, 6),
        demand=np.hstack([history, np.array([demand], dtype=float)]),
        review_days=7,
        lead_draws=np.full((1, days // 7 + 1), lead),
        initial_stock=np.array([on_hand]),
        levels=[],
    )


def test_replay_counts_lost_sales_arrivals_and_inventory_by_hand():
    # 10 in stock, demand 3 a day for 14 days; at day 0 order 20 arriving day 5; no more
    case = _replay_case(10.0, [3.0] * 14, lead=5)
    decisions = iter([np.array([20.0]), np.array([0.0])])
    result = metrics(
        replay_policy(case, lambda review, day, position: next(decisions), backorder=False)
    )
    # stock by end of day: 7 4 1 0 0 | +20 on day 5: 17 14 11 8 5 2 0 0 0
    # day 3: 1 served of 3, day 4: 0 of 3 -> unmet 2 + 3; day 11: 2 of 3; days 12-13: 0 of 3
    assert result["unmet_units"] == 2 + 3 + 1 + 3 + 3
    assert result["fill_rate"] == pytest.approx((42 - 12) / 42)
    assert result["stockout_days"] == 5
    assert result["orders_placed"] == 1
    ends = [7, 4, 1, 0, 0, 17, 14, 11, 8, 5, 2, 0, 0, 0]
    assert result["avg_inventory_units"] == pytest.approx(sum(ends) / 14)
    assert result["avg_inventory_value"] == pytest.approx(2 * sum(ends) / 14)
    # cycle 1 (days 0-6) and cycle 2 (days 7-13) both had a stockout
    assert result["cycle_service_level"] == 0.0


def test_replay_backorders_are_filled_first_and_not_counted_as_served_on_time():
    case = _replay_case(0.0, [2.0] * 7, lead=3)
    result = metrics(
        replay_policy(case, lambda review, day, position: np.array([10.0]), backorder=True)
    )
    # days 0-2: 6 short (backlog); day 3: 10 arrive, the backlog of 6 goes first, then 2
    # served on day 3 and 2 on day 4; days 5-6 short again: 4 of 14 served on their day
    assert result["fill_rate"] == pytest.approx(4 / 14)
    assert result["unmet_units"] == 6 + 4


def test_smoothed_levels_follow_five_weeks_of_sales_by_hand():
    from stockplan.replay import smoothed_levels

    # forecast flat 10 a week; sold 10, 20, 0, 30, 15; alpha 0.1, both started at 10:
    # 10 + .1 (10 - 10) = 10; 10 + .1 (20 - 10) = 11; 11 + .1 (0 - 11) = 9.9;
    # 9.9 + .1 (30 - 9.9) = 11.91; 11.91 + .1 (15 - 11.91) = 12.219
    sold = np.array([[10.0, 20.0, 0.0, 30.0, 15.0]])
    expected = np.full((1, 5), 10.0)
    actual, forecast = smoothed_levels(sold, expected, 0.1)
    assert actual[0] == pytest.approx(12.219)
    assert forecast[0] == pytest.approx(10.0)
    # sales on a seasonal forecast path leave the level where it was: ratio exactly 1
    path = np.array([[4.0, 8.0, 16.0, 8.0, 4.0]])
    actual, forecast = smoothed_levels(path, path, 0.3)
    assert actual[0] == pytest.approx(forecast[0])


def test_updated_level_scales_the_windows_and_revives_a_zero_forecast():
    from stockplan.replay import with_updated_level

    # L = 14, R = 7: 1 a day over 21 days; second row forecast zero
    levels = pl.DataFrame(
        {
            "sku": ["A", "B"],
            "location": ["W", "W"],
            "lead_time_days": [14.0, 14.0],
            "demand_protection": [21.0, 0.0],
            "demand_lead_time": [14.0, 0.0],
            "forecast_per_day": [1.0, 0.0],
            "sigma_e": [2.0, 0.0],
        }
    )
    out = with_updated_level(levels, np.array([12.219, 3.5]), np.array([10.0, 0.0]), 7, 7)
    a, b = out.row(0, named=True), out.row(1, named=True)
    assert a["demand_protection"] == pytest.approx(21 * 1.2219)
    assert a["demand_lead_time"] == pytest.approx(14 * 1.2219)
    assert a["forecast_per_day"] == pytest.approx(1.2219)
    assert a["sigma_e"] == pytest.approx(2 * 1.2219)
    # 3.5 a week = 0.5 a day: 10.5 over L + R, 7 over L
    assert (b["demand_protection"], b["demand_lead_time"], b["forecast_per_day"]) == (
        pytest.approx(10.5),
        pytest.approx(7.0),
        pytest.approx(0.5),
    )


def test_replay_levels_follow_the_sales_between_refits():
    from stockplan.config import Config
    from stockplan.replay import prepare_replay

    # 1 a day for 70 weeks, then 2 a day in the 8 replayed weeks; refit every 4 weeks
    start = dt.date(2025, 1, 6)  # a Monday: weekly buckets start here
    days = [start - dt.timedelta(days=70 * 7) + dt.timedelta(days=i) for i in range(78 * 7)]
    sales = pl.DataFrame(
        {
            "date": days,
            "sku": "A",
            "location": "W",
            "quantity": [2.0 if d >= start else 1.0 for d in days],
        }
    )
    tables = {
        "sales": sales,
        "stock": pl.DataFrame({"sku": ["A"], "location": ["W"], "on_hand": [0.0]}),
        "products": pl.DataFrame({"sku": ["A"], "unit_cost": [1.0], "lead_time_days": [14.0]}),
    }
    settings = {
        "inputs": {"sales": "s.csv", "stock": "k.csv"},
        "planning": {"as_of": start + dt.timedelta(weeks=8)},
        "calendars": {"public_holidays": "none"},
        "policy": {"lead_time_demand": "parametric"},
    }
    fixed = Config.model_validate(
        settings | {"simulate": {"periods": 8, "refit_every": 4, "level_alpha": 0.0}}
    )
    moving = Config.model_validate(
        settings | {"simulate": {"periods": 8, "refit_every": 4, "level_alpha": 0.5}}
    )
    before = [f["demand_protection"][0] for f in prepare_replay(tables, fixed).levels]
    after = [f["demand_protection"][0] for f in prepare_replay(tables, moving).levels]
    assert before[0] == pytest.approx(21.0)  # the refit on 70 weeks of 7 a week
    # weeks seen 0..3 since the refit, 14 sold each against 7 forecast, alpha 0.5:
    # 7 -> 10.5 -> 12.25 -> 13.125 a week, i.e. x1, x1.5, x1.75, x1.875
    for review, factor in enumerate([1.0, 1.5, 1.75, 1.875]):
        assert after[review] == pytest.approx(before[review] * factor)
    # the next refit starts from its own forecast again
    assert after[4] == pytest.approx(before[4])


@pytest.mark.slow
def test_items_held_below_their_target_by_the_allocation_are_not_counted_unreachable(
    sample_simulation,
):
    # The sample at fill-rate target 0.90 with the default pattern allocation: an item the
    # allocation sets below its target over most of its demand is the pattern's choice,
    # not a target out of reach; the plan's summary leaves those out, and so does the
    # replay's split. Every other item promised less than its target stays unreachable.
    # (The module's replay: each target is replayed on its own, so the 0.90 run is the
    # same among the other targets as alone.)
    out = sample_simulation[2]
    at_target = pl.col("target") == 0.9
    series = out["simulation_series"].filter(at_target)
    assert series.height > 0
    below = pl.col("promised_service") < pl.col("target") - 1e-6
    held = series.filter(below & (pl.col("allocated_share") >= 0.5))
    short = series.filter(below & (pl.col("allocated_share") < 0.5))
    assert held.height > 0  # the case exists on the sample
    unreachable = out["simulation_unreachable"].filter(at_target)
    keys = ["sku", "location"]
    assert held.join(unreachable, on=keys, how="semi").height == 0
    assert short.join(unreachable, on=keys, how="anti").height == 0
    row = out["simulation"].filter((pl.col("policy") == "stockplan") & at_target).row(0, named=True)
    assert row["unreachable_series"] == short.height
    assert row["reachable_series"] == series.height - short.height


def test_unreachable_items_list_an_items_warehouses_in_order_at_every_target():
    """The per-series rows are sorted by target, pattern, sku and location: sorted without
    the location, one item's two warehouses came out either way round (Polars' sort on
    several keys does not keep the order of equal keys), W2 before W1 for some items."""
    from stockplan.replay import BASELINE_HISTORY_DAYS, unreachable_items

    skus = [f"S{i:04d}" for i in range(500)]
    series = pl.DataFrame(
        {"sku": np.repeat(skus, 2), "location": ["W1", "W2"] * len(skus)}
    ).with_columns(pl.lit("smooth").alias("demand_pattern"))
    n = series.height
    case = Replay(
        series=series,
        start=dt.date(2025, 1, 6),
        demand=np.ones((n, BASELINE_HISTORY_DAYS + 28)),
        review_days=7,
        lead_draws=np.zeros((n, 4), dtype=int),
        initial_stock=np.zeros(n),
        levels=[],
    )
    totals = {"reachable": np.zeros(n), "promised_own": np.full(n, 0.95)}
    totals |= {"demand": np.full(n, 28.0), "served": np.full(n, 21.0), "unmet": np.full(n, 7.0)}
    totals |= {"cycles": np.full(n, 4.0), "cycles_ok": np.full(n, 3.0)}
    runs = [("stockplan", 0.95, totals), ("stockplan", 0.9, totals)]
    for every in (False, True):
        rows = unreachable_items(case, runs, "fill_rate", every=every)
        assert rows.height == 2 * n and rows["fill_rate"].to_list() == [0.75] * (2 * n)
        expected = [(t, s, w) for t in (0.9, 0.95) for s in skus for w in ("W1", "W2")]
        assert rows.select("target", "sku", "location").rows() == expected


def _simulate_small_shop(small_shop: Path, *args: str, **planning: object):
    """`stockplan simulate` on the small shop (40 weeks of sales to 2025-10-13) into
    `simulation.csv` beside it, `planning` and `simulate` settings applied."""
    settings = yaml.safe_load(small_shop.read_text())
    settings["simulate"] = {"periods": planning.pop("periods")}
    settings["planning"].update(planning)
    small_shop.write_text(yaml.safe_dump(settings))
    target = small_shop.parent / "simulation.csv"
    result = CliRunner().invoke(app, ["simulate", "-c", str(small_shop), "-o", str(target), *args])
    return result, target


@pytest.mark.parametrize("periods", [40, 41])
def test_replaying_more_weeks_than_the_history_holds_names_the_most_that_can_be(
    small_shop: Path, periods: int
):
    """With no sale before the replay's first day no item was replayed, and the table said
    every target and the rule of thumb met 100 % fill rate and cycle service with no stock.
    Now: exit 1, one line naming simulate.periods, the weeks of history and the most that
    can be replayed (a series needs a week sold before the replay to forecast on), no file."""
    result, target = _simulate_small_shop(small_shop, "-q", periods=periods)
    assert result.exit_code == 1, result.output
    start = dt.date(2025, 10, 13) - dt.timedelta(weeks=periods)
    assert result.stderr == (
        f"stockplan: error: simulate.periods: {periods} weeks replayed need sales before "
        f"{start}, but the sales history holds 40 weeks (from 2025-01-06): set "
        "simulate.periods to at most 39\n"
    )
    assert not target.exists() and not target.with_name("simulation.csv.run.json").exists()
    chinese, _ = _simulate_small_shop(small_shop, "-q", "--lang", "zh", periods=periods)
    assert chinese.exit_code == 1
    assert chinese.stderr == (
        f"stockplan: 错误: simulate.periods：回放 {periods} 周需要 {start} 之前的销售，但销售"
        "历史只有 40 周（自 2025-01-06 起）：请把 simulate.periods 设为不超过 39\n"
    )


def test_a_history_too_short_for_any_replay_says_how_much_one_needs(small_shop: Path):
    """Four weeks of sales (planning on 2025-02-03) leave no periods to replay: the
    shortest replay, 4 weeks, needs 5 weeks of sales."""
    result, target = _simulate_small_shop(small_shop, "-q", periods=4, as_of="2025-02-03")
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        "stockplan: error: simulate.periods: 4 weeks replayed need sales before 2025-01-06, "
        "but the sales history holds 4 weeks (from 2025-01-06), too few for any replay: the "
        "shortest, 4 weeks, needs 5 weeks of sales history\n"
    )
    assert not target.exists()


def test_no_active_item_to_replay_is_an_error_not_a_perfect_score(small_shop: Path):
    """Every item inactive: nothing to replay, said in one line instead of a 100 % table."""
    products = small_shop.parent / "products.csv"
    frame = pl.read_csv(products, schema_overrides={"sku": pl.String})
    frame.with_columns(pl.lit("inactive").alias("status")).write_csv(products)
    result, target = _simulate_small_shop(small_shop, "-q", periods=8)
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        "stockplan: error: simulate: no active item sold before 2025-08-18, the first day "
        "replayed: nothing to replay\n"
    )
    assert not target.exists()
