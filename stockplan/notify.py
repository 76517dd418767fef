"""Alerts where buyers read them: WeCom and DingTalk group robots, and e-mail.

After the plan is written, `--notify NAME` sends the items at high stockout risk (the
first `notify.top`, with names, projected stockout date and the order suggested) and
where the plan was written to each channel named under `notify.channels`. With
`--previous PLAN` it sends only the items newly at high risk since that plan (absent from
it, or at a lower level in it), each marked `(new)` or `(was medium)`, so a weekly message
is about news.

- WeCom (企业微信) group robot: POST `{"msgtype": "markdown", "markdown": {"content": ...}}`
  to the robot's webhook; it answers `{"errcode": 0, ...}`.
- DingTalk (钉钉) group robot: the same with `{"title", "text"}`; with a signing secret
  ("加签") the url carries `timestamp` (ms) and `sign` = url-encoded
  base64(HMAC-SHA256(key=secret, message=f"{timestamp}\\n{secret}")), as DingTalk's
  custom-robot documentation gives it.
- E-mail over SMTP (`smtplib`), STARTTLS, SSL or plain.

Message text comes from `TEXTS`, one template set per language (`en`, `zh`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import polars as pl

from stockplan.config import DingTalkChannel, EmailChannel, Notify, WeComChannel
from stockplan.errors import StockplanError, expand_env, safe_text
from stockplan.i18n import LANGUAGES, both, error_text, phrase

WECOM_MAX_BYTES = 4096  # WeCom's limit for markdown content

TEXTS = {
    "en": {
        "title": "stockplan: {count} {items} at high stockout risk (plan as of {as_of})",
        "title_clear": "stockplan: no item at high stockout risk (plan as of {as_of})",
        "item": "{item} @ {location}: out of stock {stockout}, order {order}",
        "item_undated": "{item} @ {location}: may run out before the next delivery, order {order}",
        "no_order": "nothing (already on order)",
        "more": "... and {count} more",
        "written": "Plan: {where}",
        "title_news": "stockplan: {count} {items} newly at high stockout risk since the plan "
        "of {previous} (plan as of {as_of})",
        "title_news_clear": "stockplan: no item newly at high stockout risk since the plan "
        "of {previous} (plan as of {as_of})",
        "news_new": " (new)",
        "news_worse": " (was {level})",
        "levels": {"low": "low", "medium": "medium"},
    },
    "zh": {
        "title": "stockplan：{count} 个商品缺货风险高（计划日期 {as_of}）",
        "title_clear": "stockplan：没有缺货风险高的商品（计划日期 {as_of}）",
        "item": "{item} @ {location}：预计 {stockout} 缺货，建议采购 {order}",
        "item_undated": "{item} @ {location}：下次到货前可能缺货，建议采购 {order}",
        "no_order": "无（已在途）",
        "more": "……另有 {count} 个",
        "written": "计划文件：{where}",
        "title_news": "stockplan：自 {previous} 的计划以来新增 {count} 个缺货风险高的商品"
        "（计划日期 {as_of}）",
        "title_news_clear": "stockplan：自 {previous} 的计划以来没有新增缺货风险高的商品"
        "（计划日期 {as_of}）",
        "news_new": "（新增）",
        "news_worse": "（原为{level}风险）",
        "levels": {"low": "低", "medium": "中"},
    },
}


@dataclass(frozen=True)
class Alert:
    """A message: a title line and body lines, in one language."""

    title: str
    lines: list[str]
    high_risk: int

    @property
    def text(self) -> str:
        return "\n".join([self.title, "", *self.lines])

    @property
    def markdown(self) -> str:
        """Title as a heading, items as a list, the plan's location last. The items carry
        names from the data: their brackets are shown as full-width ones (`markdown_safe`)."""
        items = [f"- {markdown_safe(line)}" for line in self.lines[:-1]]
        return "\n".join([f"### {self.title}", *items, "", self.lines[-1]])


_MARKDOWN_ACTIVE = str.maketrans({"<": "＜", ">": "＞", "[": "［", "]": "］"})


def markdown_safe(text: str) -> str:
    """`text` that a chat's markdown shows as it is: `<@all>`, `<font>` and `<a>` tags, links
    and images (`[text](url)`, `![](url)`) lose their brackets to the full-width ones, as a
    Chinese name writes them anyway; line breaks are already gone (`safe_text`)."""
    return text.translate(_MARKDOWN_ACTIVE)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def build_alert(
    risk: pl.DataFrame,
    orders: pl.DataFrame | None,
    products: pl.DataFrame | None,
    as_of: dt.date,
    where: str,
    top: int = 10,
    language: str = "en",
    previous: pl.DataFrame | None = None,
    previous_as_of: str | None = None,
) -> Alert:
    """The high-risk items of `risk` (in its order, highest first), at most `top` of them,
    with product names and the order suggested for the same sku x location.

    With `previous` (the risk table of an earlier plan) only the items that are new at high
    risk or were at a lower level are listed, each marked `(new)` or `(was medium)`."""
    texts = TEXTS[language]
    if previous is not None:
        from stockplan.diff import risk_news

        high = risk_news(risk, previous, ["high"])
    else:
        high = risk.filter(pl.col("risk_level") == "high").with_columns(
            previous_risk_level=pl.lit(None, pl.String), risk_change=pl.lit(None, pl.String)
        )
    shown = high.head(top).select(
        "sku", "location", "stockout_date", "risk_change", "previous_risk_level"
    )
    if products is not None and "name" in products.columns:
        names = products.select("sku", "name").unique("sku", keep="first")
        shown = shown.join(names, on="sku", how="left")
    else:
        shown = shown.with_columns(name=pl.lit(None, pl.String))
    if orders is not None and orders.height:
        ordered = orders.group_by("sku", "location").agg(pl.col("order_qty").sum())
        shown = shown.join(ordered, on=["sku", "location"], how="left")
    else:
        shown = shown.with_columns(order_qty=pl.lit(None, pl.Float64))
    lines = []
    for row in shown.iter_rows(named=True):  # at most `top` rows: a message, not a hot path
        # data on one line, controls escaped: a name cannot start a heading or a list
        item = safe_text(f"{row['sku']} {row['name']}" if row["name"] else row["sku"])
        stockout = row["stockout_date"]
        quantity = row["order_qty"] or 0.0
        lines.append(
            texts["item" if stockout else "item_undated"].format(
                item=item,
                location=safe_text(row["location"]),
                stockout=stockout.isoformat() if stockout else "",
                order=_number(quantity) if quantity > 0 else texts["no_order"],
            )
            + _news(texts, row["risk_change"], row["previous_risk_level"])
        )
    if high.height > shown.height:
        lines.append(texts["more"].format(count=high.height - shown.height))
    lines.append(texts["written"].format(where=where))
    key = "title" if high.height else "title_clear"
    if previous is not None:
        key = "title_news" if high.height else "title_news_clear"
    title = texts[key].format(
        count=high.height,
        items="item" if high.height == 1 else "items",  # the English title's number
        as_of=as_of.isoformat(),
        previous=previous_as_of or "?",
    )
    return Alert(title, lines, high.height)


def _news(texts: dict, change: str | None, was: str | None) -> str:
    """` (new)` or ` (was medium)` after an item of a since-the-previous-plan alert."""
    if change == "new":
        return texts["news_new"]
    if change == "worse":
        return texts["news_worse"].format(level=texts["levels"].get(was or "low", was))
    return ""


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), url-encoded."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))


def _shown(url: str) -> str:
    """A webhook url without its query (which holds the robot's key or token)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _post_json(url: str, payload: dict, timeout: float, where: dict[str, str]) -> None:
    """POST `payload` to a robot's webhook; `where` names the robot in either language."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https") or "://" not in url:
        raise StockplanError(phrase("error.webhook_not_http", where=where))
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise StockplanError(
            phrase("error.http_status", where=where, code=exc.code, reason=exc.reason)
        ) from None
    except TimeoutError:
        raise _no_answer(where, timeout) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            raise _no_answer(where, timeout) from None
        raise StockplanError(phrase("error.cannot_reach", where=where, detail=reason)) from None
    try:
        answer = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise StockplanError(phrase("error.answer_not_json", where=where)) from None
    code = answer.get("errcode") if isinstance(answer, dict) else None
    if code != 0:
        message = str(answer.get("errmsg", "") if isinstance(answer, dict) else "").strip()
        detail = f" {message}" if message else ""
        raise StockplanError(phrase("error.robot_refused", where=where, code=code, detail=detail))


def _no_answer(where: dict[str, str], timeout: float) -> StockplanError:
    return StockplanError(phrase("error.no_answer", where=where, timeout=f"{timeout:g}"))


def send_wecom(channel: WeComChannel, alert: Alert, timeout: float, name: str) -> None:
    url = expand_env(channel.webhook, f"notify.channels.{name}.webhook")
    content = alert.markdown
    if len(content.encode("utf-8")) > WECOM_MAX_BYTES:
        content = content.encode("utf-8")[: WECOM_MAX_BYTES - 4].decode("utf-8", "ignore") + " ..."
    payload = {"msgtype": "markdown", "markdown": {"content": content}}
    _post_json(url, payload, timeout, both("notify.wecom_robot", url=_shown(url)))


def send_dingtalk(
    channel: DingTalkChannel, alert: Alert, timeout: float, name: str, now_ms: int | None = None
) -> None:
    url = expand_env(channel.webhook, f"notify.channels.{name}.webhook")
    shown = _shown(url)
    if channel.secret is not None:
        secret = expand_env(channel.secret, f"notify.channels.{name}.secret")
        timestamp = now_ms if now_ms is not None else int(time.time() * 1000)
        url += ("&" if "?" in url else "?") + (
            f"timestamp={timestamp}&sign={dingtalk_sign(secret, timestamp)}"
        )
    payload = {"msgtype": "markdown", "markdown": {"title": alert.title, "text": alert.markdown}}
    _post_json(url, payload, timeout, both("notify.dingtalk_robot", url=shown))


def send_email(channel: EmailChannel, alert: Alert, timeout: float, name: str) -> None:
    where = f"notify.channels.{name}"
    message = EmailMessage()
    message["Subject"] = alert.title
    message["From"] = expand_env(channel.sender, where)
    message["To"] = ", ".join(expand_env(address, where) for address in channel.to)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="stockplan")
    message.set_content(alert.text + "\n")
    port = channel.port or {"ssl": 465, "starttls": 587, "none": 25}[channel.security]
    server = both("notify.mail_server", server=f"{channel.host}:{port}")
    try:
        if channel.security == "ssl":
            context = ssl.create_default_context()
            smtp = smtplib.SMTP_SSL(channel.host, port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(channel.host, port, timeout=timeout)
        with smtp:
            if channel.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if channel.username:
                password = expand_env(channel.password or "", where)
                smtp.login(expand_env(channel.username, where), password)
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError:
        raise StockplanError(phrase("error.smtp_login", where=server)) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise StockplanError(phrase("error.smtp_unsupported", where=server, detail=exc)) from None
    except smtplib.SMTPRecipientsRefused as exc:
        recipients = ", ".join(exc.recipients)
        raise StockplanError(
            phrase("error.smtp_recipients", where=server, recipients=recipients)
        ) from None
    except smtplib.SMTPException as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StockplanError(phrase("error.smtp_refused", where=server, detail=detail)) from None
    except TimeoutError:
        raise _no_answer(server, timeout) from None
    except OSError as exc:
        detail = exc.strerror or exc
        raise StockplanError(phrase("error.cannot_reach", where=server, detail=detail)) from None


def _channel_texts(channel: WeComChannel | DingTalkChannel | EmailChannel) -> dict[str, str]:
    """The channel's values that may hold `${VAR}`, by their key."""
    if isinstance(channel, WeComChannel):
        return {"webhook": channel.webhook}
    if isinstance(channel, DingTalkChannel):
        return {"webhook": channel.webhook} | (
            {"secret": channel.secret} if channel.secret is not None else {}
        )
    texts = {"sender": channel.sender, "to": ", ".join(channel.to)}
    if channel.username:
        texts |= {"username": channel.username, "password": channel.password or ""}
    return texts


def check_channels(config: Notify, names: list[str]) -> None:
    """Every `--notify NAME` must be a channel of the config, and every `${VAR}` in it set:
    checked before planning, so a cron job whose environment lacks the robot key is told
    at once instead of after a plan its alert cannot follow."""
    for name in names:
        if name in config.channels:
            for key, text in _channel_texts(config.channels[name]).items():
                expand_env(text, f"notify.channels.{name}.{key}")
        if name not in config.channels:
            names = ", ".join(config.channels)
            known = (
                {"en": names, "zh": f"现有：{names}"}
                if names
                else {
                    "en": "none defined",
                    "zh": "一个也没有定义",
                }
            )
            raise StockplanError(phrase("error.no_channel", name=name, known=known))


def send(config: Notify, name: str, alert: Alert) -> None:
    """Send `alert` to the channel `name`; a failure is one `StockplanError` line."""
    channel = config.channels[name]
    try:
        if isinstance(channel, WeComChannel):
            send_wecom(channel, alert, config.timeout_seconds, name)
        elif isinstance(channel, DingTalkChannel):
            send_dingtalk(channel, alert, config.timeout_seconds, name)
        else:
            send_email(channel, alert, config.timeout_seconds, name)
    except StockplanError as exc:
        problem = {lang: error_text(exc, lang) for lang in LANGUAGES}
        raise StockplanError(
            phrase("error.notify_failed", name=name, type=channel.type, problem=problem)
        ) from None
