"""The forecast cache: a re-plan after an edit to stock, orders, suppliers or policy reuses
the forecast of the same demand history and forecast settings, and plans exactly as a
fresh run; an edit the forecast reads recomputes it."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from stockplan import cache, pipeline
from stockplan.cli import app
from stockplan.config import Config

runner = CliRunner()


REUSED = "reused the forecast computed earlier on the same sales history"


def _plan(config: Path, out: Path, *extra: str) -> dict[str, bytes]:
    """`plan --all` written as CSV into `out`: each table's bytes (run.json left out)."""
    return _plan_and_log(config, out, "-q", *extra)[0]


def _plan_and_log(config: Path, out: Path, *extra: str) -> tuple[dict[str, bytes], str]:
    result = runner.invoke(
        app, ["plan", "-c", str(config), "-o", str(out), "--all", *extra], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    tables = {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.suffix == ".csv"}
    return tables, result.stderr


def _forecast_entries(config: Path) -> list[Path]:
    folder = config.parent / cache.CACHE_FOLDER
    return sorted(p for p in folder.iterdir() if p.name.startswith(cache.FORECAST_PREFIX))


def _count_backtests(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the calls of the forecast's backtest (each a full forecast stage)."""
    calls: list[int] = []
    backtests = pipeline.forecast_backtests

    def counted(*args, **kwargs):
        calls.append(1)
        return backtests(*args, **kwargs)

    monkeypatch.setattr(pipeline, "forecast_backtests", counted)
    return calls


def _refuse_backtests(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*_args, **_kwargs):
        raise AssertionError("the forecast was computed again")

    monkeypatch.setattr(pipeline, "forecast_backtests", refused)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def test_a_replan_after_a_stock_edit_reuses_the_forecast_and_plans_as_a_fresh_run(
    small_shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    before, log = _plan_and_log(small_shop, tmp_path / "before")
    assert REUSED not in log
    _edit(small_shop.parent / "stock.csv", "A-100,WH1,40,", "A-100,WH1,41,")  # one count
    with monkeypatch.context() as patch:
        _refuse_backtests(patch)
        replanned, log = _plan_and_log(small_shop, tmp_path / "replanned")
    folder = small_shop.parent / cache.CACHE_FOLDER
    assert f"stockplan: {REUSED} ({folder})" in log.splitlines()
    fresh = _plan(small_shop, tmp_path / "fresh", "--no-cache")
    assert set(replanned) >= {"orders.csv", "forecast.csv", "risk.csv", "classes.csv"}
    assert replanned == fresh  # every table, byte for byte
    assert replanned["orders.csv"] != before["orders.csv"]  # the edit reached the plan
    assert replanned["forecast.csv"] == before["forecast.csv"]
    assert len(_forecast_entries(small_shop)) == 1


@pytest.mark.parametrize(
    "edit",
    ["one sales row", "backtest_windows", "bucket"],
)
def test_an_edit_the_forecast_reads_recomputes_it(
    edit: str, small_shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    _plan(small_shop, tmp_path / "before")
    if edit == "one sales row":
        sales = small_shop.parent / "sales.csv"
        lines = sales.read_text().splitlines(keepends=True)
        date, sku, location, qty, price = lines[1].rstrip("\n").split(",")
        lines[1] = f"{date},{sku},{location},{int(qty) + 1},{price}\n"
        sales.write_text("".join(lines))
    else:
        settings = yaml.safe_load(small_shop.read_text())
        if edit == "backtest_windows":
            settings["forecast"]["backtest_windows"] = 3
        else:
            settings["planning"]["bucket"] = "day"
        small_shop.write_text(yaml.safe_dump(settings))
    calls = _count_backtests(monkeypatch)
    replanned = _plan(small_shop, tmp_path / "replanned")
    assert len(calls) == 1
    assert len(_forecast_entries(small_shop)) == 2  # one per forecast key
    fresh = _plan(small_shop, tmp_path / "fresh", "--no-cache")
    assert len(calls) == 2
    assert replanned == fresh


def test_no_cache_keeps_no_forecast_and_an_unreadable_entry_is_recomputed(
    small_shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    stock = small_shop.parent / "stock.csv"
    _plan(small_shop, tmp_path / "first", "--no-cache")
    assert not (small_shop.parent / cache.CACHE_FOLDER).exists()
    first = _plan(small_shop, tmp_path / "kept")
    (entry,) = _forecast_entries(small_shop)
    forecast = entry / "forecast.arrow"
    forecast.write_bytes(forecast.read_bytes()[:100])  # a truncated file
    _edit(stock, "A-100,WH1,40,", "A-100,WH1,41,")
    calls = _count_backtests(monkeypatch)
    _plan(small_shop, tmp_path / "second")
    assert len(calls) == 1  # recomputed, no error, and kept whole again
    _edit(stock, "A-100,WH1,41,", "A-100,WH1,40,")
    _edit(
        small_shop.parent / "products.csv",
        "A-100,Steady item,12.5,25.0,Acme,12,24",
        "A-100,Steady item,12.5,25.0,Acme,12,36",
    )
    again = _plan(small_shop, tmp_path / "again")
    assert len(calls) == 1  # a MOQ is not the forecast's: reused
    assert again["forecast.csv"] == first["forecast.csv"]


def test_forecast_entries_are_pruned_apart_from_the_plans(tmp_path: Path):
    folder = tmp_path / "cache"
    for i in range(cache.KEEP_ENTRIES + 3):
        for name in (f"{cache.FORECAST_PREFIX}{i:02d}", f"{i:02d}"):
            (folder / name).mkdir(parents=True)
            os.utime(folder / name, (1000 + i, 1000 + i))
    history = pl.DataFrame({"sku": ["A"], "location": ["WH1"], "demand": [1.0]})
    computed = (pl.DataFrame({"forecast": [1.0]}), pl.DataFrame({"sku": ["A"]}))
    reuse = cache.ForecastCache(folder)
    assert reuse({"history": history}, Config(), lambda: computed) == computed
    kept = sorted(p.name for p in folder.iterdir())
    plans = [f"{i:02d}" for i in range(3, cache.KEEP_ENTRIES + 3)]
    forecasts = [p for p in kept if p.startswith(cache.FORECAST_PREFIX)]
    # the newest plans all stay; the new forecast and the newest others but one
    assert [p for p in kept if p not in forecasts] == plans
    assert len(forecasts) == cache.KEEP_ENTRIES
    older = [cache.FORECAST_PREFIX + n for n in plans[1:]]
    assert [p for p in forecasts if p in older] == older

    def refused():
        raise AssertionError("computed again")

    found = reuse({"history": history}, Config(), refused)
    assert all(a.equals(b) for a, b in zip(found, computed, strict=True))
    changed = history.with_columns(pl.lit(2.0).alias("demand"))
    with pytest.raises(AssertionError, match="computed again"):
        reuse({"history": changed}, Config(), refused)
