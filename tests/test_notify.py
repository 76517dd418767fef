"""Alerts after the plan: WeCom / DingTalk robots against a local HTTP server, e-mail
against a local SMTP server; payloads, the DingTalk signature and the failure exit code."""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import hashlib
import hmac
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import yaml
from conftest import Robot
from typer.testing import CliRunner

from stockplan.cli import app
from stockplan.notify import build_alert

runner = CliRunner()
WECOM_KEY = "wecom-key-0123"
DING_TOKEN = "ding-token-4567"
DING_SECRET = "SECabc123signing"
SMTP_PASSWORD = "smtp-Pa55"


class Mailbox:
    """What the local SMTP server received, and the logins it saw."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    mailbox = Mailbox()

    def authenticator(server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN202
        if isinstance(auth_data, LoginPassword):
            login = (auth_data.login.decode(), auth_data.password.decode())
            mailbox.logins.append(login)
            return AuthResult(success=login == ("planner", SMTP_PASSWORD), handled=False)
        return AuthResult(success=False, handled=False)

    port = _free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    yield mailbox, port
    controller.stop()


def _with_notify(config: Path, notify: dict) -> Path:
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["notify"] = notify
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return config


def _invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _expected_items(out: Path) -> list[tuple[str, str, str | None, float]]:
    """(sku, location, stockout date, order qty) of the high-risk rows of the written plan."""
    risk = pl.read_csv(out / "risk.csv", infer_schema=False).filter(pl.col("risk_level") == "high")
    orders = pl.read_csv(out / "orders.csv", infer_schema=False)
    items = []
    for row in risk.iter_rows(named=True):
        match = orders.filter(sku=row["sku"], location=row["location"])
        quantity = float(match["order_qty"][0]) if match.height else 0.0
        items.append((row["sku"], row["location"], row["stockout_date"], quantity))
    return items


def test_plan_notifies_wecom_dingtalk_and_email_after_writing_the_plan(
    small_shop: Path,
    robot: Robot,
    smtp: tuple[Mailbox, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    mailbox, port = smtp
    monkeypatch.setenv("WECOM_KEY", WECOM_KEY)
    monkeypatch.setenv("DING_SECRET", DING_SECRET)
    monkeypatch.setenv("SMTP_PASSWORD", SMTP_PASSWORD)
    config = _with_notify(
        small_shop,
        {
            "channels": {
                "buyers": {
                    "type": "wecom",
                    "webhook": f"{robot.url}/cgi-bin/webhook/send?key=${{WECOM_KEY}}",
                },
                "managers": {
                    "type": "dingtalk",
                    "webhook": f"{robot.url}/robot/send?access_token={DING_TOKEN}",
                    "secret": "${DING_SECRET}",
                },
                "mail": {
                    "type": "email",
                    "host": "127.0.0.1",
                    "port": port,
                    "security": "none",
                    "username": "planner",
                    "password": "${SMTP_PASSWORD}",
                    "sender": "stockplan@example.com",
                    "to": ["buyer@example.com", "boss@example.com"],
                },
            }
        },
    )
    out = tmp_path / "plan"
    before = int(time.time() * 1000)
    result = _invoke(
        "plan", "-c", str(config), "-o", str(out),
        "--notify", "buyers", "--notify", "managers", "--notify", "mail",
    )  # fmt: skip
    after = int(time.time() * 1000)
    assert result.exit_code == 0, result.stderr
    for secret in (WECOM_KEY, DING_SECRET, SMTP_PASSWORD):
        assert secret not in result.stderr
    items = _expected_items(out)
    assert items, "the small shop has items at high risk"
    assert any(qty > 0 for *_, qty in items)
    assert all(stockout for _, _, stockout, _ in items)
    expected_lines = [
        f"{sku} {'Steady item' if sku == 'A-100' else 'Slow item'} @ {location}: out of stock "
        f"{stockout}, order " + (f"{qty:,.0f}" if qty > 0 else "nothing (see the plan's reason)")
        for sku, location, stockout, qty in items
    ]
    counted = f"{len(items)} item" + ("s" if len(items) > 1 else "")
    title = f"stockplan: {counted} at high stockout risk (plan as of 2025-10-13)"
    where = f"Plan: {out.resolve()}"

    wecom, ding = robot.requests
    assert wecom["path"] == "/cgi-bin/webhook/send"
    assert wecom["query"] == {"key": [WECOM_KEY]}
    assert wecom["content_type"] == "application/json; charset=utf-8"
    assert wecom["body"] == {
        "msgtype": "markdown",
        "markdown": {
            "content": "\n".join(
                [f"### {title}", *(f"- {line}" for line in expected_lines), "", where]
            )
        },
    }

    assert ding["path"] == "/robot/send"
    assert ding["query"]["access_token"] == [DING_TOKEN]
    timestamp = int(ding["query"]["timestamp"][0])
    assert before <= timestamp <= after
    # DingTalk's documented signature: Base64(HmacSHA256(secret, timestamp + "\n" + secret))
    digest = hmac.new(
        DING_SECRET.encode(), f"{timestamp}\n{DING_SECRET}".encode(), hashlib.sha256
    ).digest()
    assert ding["query"]["sign"] == [base64.b64encode(digest).decode()]
    assert ding["body"]["msgtype"] == "markdown"
    assert ding["body"]["markdown"]["title"] == title
    assert ding["body"]["markdown"]["text"] == wecom["body"]["markdown"]["content"]

    assert mailbox.logins == [("planner", SMTP_PASSWORD)]
    ((sender, recipients, raw),) = mailbox.messages
    assert sender == "stockplan@example.com"
    assert recipients == ["buyer@example.com", "boss@example.com"]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == title
    body = message.get_content().replace("\r\n", "\n")
    assert body == "\n".join([title, "", *expected_lines, where]) + "\n"
    assert (out / "orders.csv").exists() and (out / "risk.csv").exists()


def test_a_failed_notification_keeps_the_plan_says_one_line_and_exits_5(
    small_shop: Path, robot: Robot, tmp_path: Path
):
    robot.reply = {"errcode": 93000, "errmsg": "invalid webhook url"}
    dead_port = _free_port()
    config = _with_notify(
        small_shop,
        {
            "channels": {
                "buyers": {"type": "wecom", "webhook": f"{robot.url}/send?key={WECOM_KEY}"},
                "gone": {"type": "wecom", "webhook": f"http://127.0.0.1:{dead_port}/s?key=k"},
            },
            "timeout_seconds": 3,
        },
    )
    out = tmp_path / "plan.xlsx"
    result = _invoke(
        "plan", "-c", str(config), "-o", str(out), "-q", "--fail-on-risk", "high",
        "--notify", "buyers", "--notify", "gone",
    )  # fmt: skip
    assert result.exit_code == 5  # wins over --fail-on-risk's 3: the alert did not get out
    assert out.exists() and out.stat().st_size > 0
    assert result.stderr.splitlines() == [
        f"stockplan: error: notify buyers (wecom): WeCom robot {robot.url}/send refused the "
        "message: errcode 93000 invalid webhook url",
        f"stockplan: error: notify gone (wecom): cannot reach WeCom robot "
        f"http://127.0.0.1:{dead_port}/s ([Errno 111] Connection refused)",
    ]
    assert WECOM_KEY not in result.stderr
    assert len(robot.requests) == 1


def test_an_unknown_channel_is_refused_before_anything_is_written(small_shop: Path, tmp_path: Path):
    config = _with_notify(
        small_shop, {"channels": {"buyers": {"type": "wecom", "webhook": "http://x/y"}}}
    )
    out = tmp_path / "plan.xlsx"
    result = _invoke("plan", "-c", str(config), "-o", str(out), "--notify", "byuers")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "stockplan: error: --notify byuers: no such channel under notify.channels in the "
        "config (buyers)"
    )
    assert not out.exists()


def test_an_unset_variable_in_a_named_channel_is_refused_before_anything_is_written(
    small_shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A cron job whose environment lacks the robot key would write the plan every week and
    exit 5 after it; the channel is checked with the config, before any planning."""
    monkeypatch.delenv("STOCKPLAN_TEST_ROBOT_KEY", raising=False)
    monkeypatch.setenv("STOCKPLAN_TEST_MAIL_USER", "planner")
    monkeypatch.delenv("STOCKPLAN_TEST_MAIL_PASSWORD", raising=False)
    webhook = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${STOCKPLAN_TEST_ROBOT_KEY}"
    mail = {"type": "email", "host": "127.0.0.1", "sender": "plan@shop.cn", "to": ["b@shop.cn"]}
    mail |= {
        "username": "${STOCKPLAN_TEST_MAIL_USER}",
        "password": "${STOCKPLAN_TEST_MAIL_PASSWORD}",
    }
    channels = {"buyers": {"type": "wecom", "webhook": webhook}, "boss": mail}
    config = _with_notify(small_shop, {"channels": channels})
    out = tmp_path / "plan.xlsx"
    for channel, key, variable in [
        ("buyers", "webhook", "STOCKPLAN_TEST_ROBOT_KEY"),
        ("boss", "password", "STOCKPLAN_TEST_MAIL_PASSWORD"),
    ]:
        result = _invoke("plan", "-c", str(config), "-o", str(out), "--notify", channel)
        assert result.exit_code == 1, result.output
        assert result.stderr.strip().splitlines() == [
            f"stockplan: error: notify.channels.{channel}.{key}: environment variable "
            f"{variable} is not set"
        ]
        assert not out.exists()
    result = _invoke("plan", "-c", str(config), "-o", str(out), "--notify", "boss", "--lang", "zh")
    assert result.exit_code == 1
    assert "STOCKPLAN_TEST_MAIL_PASSWORD" in result.stderr and "未设置" in result.stderr, (
        result.stderr
    )
    assert not out.exists()


def test_risk_command_notifies_too_and_the_mail_fails_as_one_line_when_login_is_refused(
    small_shop: Path, smtp: tuple[Mailbox, int], tmp_path: Path
):
    mailbox, port = smtp
    config = _with_notify(
        small_shop,
        {
            "language": "zh",
            "channels": {
                "mail": {
                    "type": "email",
                    "host": "127.0.0.1",
                    "port": port,
                    "security": "none",
                    "username": "planner",
                    "password": "wrong",
                    "sender": "stockplan@example.com",
                    "to": "buyer@example.com",
                }
            },
        },
    )
    out = tmp_path / "risk.csv"
    result = _invoke("risk", "-c", str(config), "-o", str(out), "-q", "--notify", "mail")
    assert result.exit_code == 5
    assert out.exists()
    assert result.stderr.strip() == (
        f"stockplan: error: notify mail (email): mail server 127.0.0.1:{port} refused the "
        "login (check username and password)"
    )
    assert mailbox.messages == []
    assert mailbox.logins and set(mailbox.logins) == {("planner", "wrong")}


def _risk_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["S1", "S2", "S3", "S4"],
            "location": ["WH1", "WH1", "WH2", "WH1"],
            "stockout_date": [dt.date(2025, 10, 15), None, dt.date(2025, 10, 20), None],
            "risk_level": ["high", "high", "high", "low"],
        }
    )


def test_alert_lists_the_top_n_high_risk_items_with_names_and_orders_in_english():
    orders = pl.DataFrame(
        {"sku": ["S1", "S2"], "location": ["WH1", "WH1"], "order_qty": [1200.0, 0.0]}
    )
    products = pl.DataFrame({"sku": ["S1", "S2"], "name": ["Bolt M4", None]})
    alert = build_alert(
        _risk_frame(), orders, products, dt.date(2025, 10, 13), "/srv/plan.xlsx", top=2
    )
    assert alert.high_risk == 3
    assert alert.text == (
        "stockplan: 3 items at high stockout risk (plan as of 2025-10-13)\n\n"
        "S1 Bolt M4 @ WH1: out of stock 2025-10-15, order 1,200\n"
        "S2 @ WH1: may run out before the next delivery, order nothing (see the plan's reason)\n"
        "... and 1 more\n"
        "Plan: /srv/plan.xlsx"
    )


def test_alert_speaks_chinese_when_the_language_is_zh():
    alert = build_alert(
        _risk_frame(), None, None, dt.date(2025, 10, 13), "/srv/计划.xlsx", language="zh"
    )
    assert alert.lines == [
        "S1 @ WH1：预计 2025-10-15 缺货，建议采购 无（原因见计划）",
        "S2 @ WH1：下次到货前可能缺货，建议采购 无（原因见计划）",
        "S3 @ WH2：预计 2025-10-20 缺货，建议采购 无（原因见计划）",
        "计划文件：/srv/计划.xlsx",
    ]
    assert alert.title == "stockplan：3 个商品缺货风险高（计划日期 2025-10-13）"


def test_names_cannot_forge_headings_mentions_or_links_in_the_alert():
    products = pl.DataFrame(
        {
            "sku": ["S1", "S2", "S3"],
            "name": [
                "Mug\n### URGENT: pay invoice at http://evil.example\n<@all>",
                "[Click to confirm](http://evil.example/login)",
                '<font color="warning">@all</font> ![img](http://evil.example/t.png)',
            ],
        }
    )
    alert = build_alert(_risk_frame(), None, products, dt.date(2025, 10, 13), "/srv/plan.xlsx")
    assert alert.lines[0] == (
        "S1 Mug ### URGENT: pay invoice at http://evil.example <@all> @ WH1: out of stock "
        "2025-10-15, order nothing (see the plan's reason)"
    )  # one line: the mail's text cannot grow forged lines
    markdown = alert.markdown.splitlines()
    assert markdown[1:4] == [
        "- S1 Mug ### URGENT: pay invoice at http://evil.example ＜@all＞ @ WH1: out of stock "
        "2025-10-15, order nothing (see the plan's reason)",
        "- S2 ［Click to confirm］(http://evil.example/login) @ WH1: may run out before the "
        "next delivery, order nothing (see the plan's reason)",
        '- S3 ＜font color="warning"＞@all＜/font＞ !［img］(http://evil.example/t.png) @ WH2: '
        "out of stock 2025-10-20, order nothing (see the plan's reason)",
    ]
    assert sum(line.startswith("#") for line in markdown) == 1  # the title's heading only


def test_no_alert_is_sent_when_nothing_is_at_high_risk_unless_always(
    small_shop: Path, robot: Robot, tmp_path: Path
):
    stock = pl.DataFrame(  # plenty of stock everywhere: nothing at high risk
        {"sku": ["A-100", "A-100", "007"], "location": ["WH1", "WH2", "WH1"], "on_hand": 5000}
    )
    stock.write_csv(small_shop.parent / "stock.csv")
    channels = {"buyers": {"type": "wecom", "webhook": f"{robot.url}/send?key=k"}}
    config = _with_notify(small_shop, {"channels": channels})
    out = str(tmp_path / "a.csv")
    assert _invoke("plan", "-c", str(config), "-o", out, "--notify", "buyers").exit_code == 0
    assert robot.requests == []
    config = _with_notify(small_shop, {"channels": channels, "always": True})
    assert _invoke("plan", "-c", str(config), "-o", out, "--notify", "buyers").exit_code == 0
    (request,) = robot.requests
    assert request["body"]["markdown"]["content"].startswith(
        "### stockplan: no item at high stockout risk (plan as of 2025-10-13)"
    )


def test_failed_notifications_are_said_in_chinese(
    small_shop: Path, robot: Robot, smtp: tuple[Mailbox, int], tmp_path: Path
):
    robot.reply = {"errcode": 93000, "errmsg": "invalid webhook url"}
    dead_port = _free_port()
    mail = {
        "type": "email",
        "host": "127.0.0.1",
        "port": smtp[1],
        "security": "none",
        "username": "planner",
        "password": "wrong",
        "sender": "stockplan@example.com",
        "to": "buyer@example.com",
    }
    config = _with_notify(
        small_shop,
        {
            "channels": {
                "buyers": {"type": "dingtalk", "webhook": f"{robot.url}/send?access_token=t"},
                "gone": {"type": "wecom", "webhook": f"http://127.0.0.1:{dead_port}/s?key=k"},
                "typo": {"type": "wecom", "webhook": "qyapi.weixin.qq.com/send?key=k"},
                "mail": mail,
            },
            "timeout_seconds": 3,
        },
    )
    out = tmp_path / "plan.xlsx"
    notify = ("--notify", "buyers", "--notify", "gone", "--notify", "typo", "--notify", "mail")
    result = _invoke("plan", "-c", str(config), "-o", str(out), "-q", "--lang", "zh", *notify)
    assert result.exit_code == 5 and out.exists()
    assert "Traceback" not in result.output
    assert result.stderr.splitlines() == [
        f"stockplan: 错误: 通知 buyers（dingtalk）：钉钉机器人 {robot.url}/send 拒收消息："
        "errcode 93000 invalid webhook url",
        f"stockplan: 错误: 通知 gone（wecom）：无法连接 企业微信机器人 "
        f"http://127.0.0.1:{dead_port}/s（[Errno 111] Connection refused）",
        "stockplan: 错误: 通知 typo（wecom）：企业微信机器人 ://qyapi.weixin.qq.com/send："
        "webhook 不是 http(s) 地址",
        f"stockplan: 错误: 通知 mail（email）：邮件服务器 127.0.0.1:{smtp[1]} 拒绝登录"
        "（请检查用户名和密码）",
    ]
