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


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "stockplan: error: {config}: key '{key}': environment variable {var} is not set"),
        ("zh", "stockplan: 错误: {config}：配置项 '{key}'：环境变量 {var} 未设置"),
    ],
    ids=["en", "zh"],
)
def test_an_unset_environment_variable_in_an_input_path_is_named_not_a_missing_file(
    small_shop: Path, monkeypatch: pytest.MonkeyPatch, lang: str, said: str
):
    """`sales: ${DATA_DIR}/sales.csv` with DATA_DIR unset said `${DATA_DIR}/sales.csv: file
    not found`, and with it set the same: the path was read as written."""
    config = yaml.safe_load(small_shop.read_text(encoding="utf-8"))
    config["inputs"]["sales"] = "${STOCKPLAN_TEST_DATA}/sales.csv"
    config["inputs"]["stock"] = {"path": "${STOCKPLAN_TEST_STOCK}/stock.csv"}
    small_shop.write_text(yaml.safe_dump(config), encoding="utf-8")
    monkeypatch.delenv("STOCKPLAN_TEST_DATA", raising=False)
    monkeypatch.delenv("STOCKPLAN_TEST_STOCK", raising=False)
    result = runner.invoke(app, ["validate", "-c", str(small_shop), "--lang", lang])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        said.format(config=small_shop, key="inputs.sales", var="STOCKPLAN_TEST_DATA")
    ]
    monkeypatch.setenv("STOCKPLAN_TEST_DATA", str(small_shop.parent))
    result = runner.invoke(app, ["validate", "-c", str(small_shop), "--lang", lang])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        said.format(config=small_shop, key="inputs.stock.path", var="STOCKPLAN_TEST_STOCK")
    ]
    monkeypatch.setenv("STOCKPLAN_TEST_STOCK", ".")  # relative to the config, as written
    result = runner.invoke(app, ["classify", "-c", str(small_shop), "-o", "-", "-q"])
    assert result.exit_code == 0, result.output
    classes = pl.read_csv(result.stdout.encode(), infer_schema=False)
    assert sorted(classes["sku"].unique().to_list()) == ["007", "A-100"]


def test_a_database_url_keeps_its_variable_until_the_table_is_read(
    small_shop: Path, monkeypatch: pytest.MonkeyPatch
):
    from stockplan.config import load_config

    url = "postgresql://odoo:${STOCKPLAN_TEST_UNSET_PW}@127.0.0.1:5432/odoo"
    monkeypatch.delenv("STOCKPLAN_TEST_UNSET_PW", raising=False)
    config = yaml.safe_load(small_shop.read_text(encoding="utf-8"))
    config["inputs"]["sales"] = {"url": url, "table": "s"}
    small_shop.write_text(yaml.safe_dump(config), encoding="utf-8")
    sales = load_config(small_shop).inputs.sales
    assert sales.url == url
    assert sales.path == "inputs.sales (postgresql://odoo:***@127.0.0.1:5432/odoo, table s)"
