"""Paths as a user types them: `~` for the home folder in the config's inputs and in the
path options (quoted, so no shell expanded it), and a next command from `init` that can be
pasted into the shell as printed."""

from __future__ import annotations

import shlex
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from stockplan.cli import app

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_a_tilde_in_config_inputs_and_path_options_is_the_home_folder(
    small_shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    config = yaml.safe_load(small_shop.read_text(encoding="utf-8"))
    for table, name in config["inputs"].items():
        (home / "data" / name).write_bytes((small_shop.parent / name).read_bytes())
        config["inputs"][table] = f"~/data/{name}"
    (home / "x.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    result = _run("classify", "-c", "~/x.yaml", "-o", "~/classes.csv", "-q")
    assert result.exit_code == 0, result.output
    classes = pl.read_csv(home / "classes.csv", infer_schema=False)
    assert sorted(classes["sku"].unique().to_list()) == ["007", "A-100"]
    assert not Path("~").exists()


def test_init_prints_the_next_command_quoted_for_the_shell(tmp_path: Path):
    exports = tmp_path / "my data 数据"
    exports.mkdir()
    (exports / "sales.csv").write_text("date,sku,warehouse,qty\n2025-09-01,A-1,WH1,4\n")
    (exports / "stock.csv").write_text("sku,warehouse,on_hand\nA-1,WH1,7\n")
    result = _run("init", str(exports))
    assert result.exit_code == 0, result.output
    line = next(x for x in result.stderr.splitlines() if "stockplan validate -c" in x)
    command = shlex.split(line.split("then: ", 1)[1])
    assert command == ["stockplan", "validate", "-c", str(exports / "stockplan.yaml")]
