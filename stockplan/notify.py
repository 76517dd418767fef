"""Alerts where buyers read them: WeCom and DingTalk group robots, and e-mail.

After the plan is written, `--notify NAME` sends the items at high stockout risk (the
first `notify.top`, with names, projected stockout date and the order suggested) and
where the plan was written to each channel named under `notify.channels`. With
`--previous PLAN` it sends only the items newly at high risk since that plan (absent from
it, or at a lower level in it), each marked `(new)` or `(was medium)`, so a weekly message
is about news. An item with no order says why (`_nothing`): not funded by the budget,
deferred to a supplier's minimum, what is on order or due, else "see the plan's reason".
A robot's message is made to fit its size limit (WeCom 4,096 bytes of markdown, DingTalk
20,000 bytes of request): whole item lines are dropped from the end and counted in the
"and N more" line, the title and the plan's location kept (`Alert.fitted`).

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
from collections.abc import Callable
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import polars as pl

from stockplan import i18n
from stockplan.config import DingTalkChannel, EmailChannel, Notify, WeComChannel
from stockplan.errors import StockplanError, expand_env, safe_text
from stockplan.i18n import LANGUAGES, both, error_text, phrase

WECOM_MAX_BYTES = 4096  # WeCom's limit for markdown content (errcode 40058 above it)
DINGTALK_MAX_BYTES = 20000  # DingTalk's limit for a robot's request body (errcode 460101)

TEXTS = {
    "en": {
        "title": "stockplan: {count} {items} at high stockout risk (plan as of {as_of})",
        "title_clear": "stockplan: no item at high stockout risk (plan as of {as_of})",
        "item": "{item} @ {location}: out of stock {stockout}, order {order}",
        "item_undated": "{item} @ {location}: may run out before the next delivery, order {order}",
        "no_order": "nothing ({why})",
        "why_budget": "not funded by the budget",
        "why_deferred": "deferred to reach the supplier's minimum",
        "why_on_order": "{quantity} on order",
        "why_on_order_due": "{quantity} on order, due {date}",
        "why_restock_due": "restock due {date}",
        "why_unknown": "see the plan's reason",
        "why_separator": "; ",
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
        "no_order": "无（{why}）",
        "why_budget": "预算不足，未下单",
        "why_deferred": "推迟下单以凑足供应商起订金额",
        "why_on_order": "在途 {quantity}",
        "why_on_order_due": "在途 {quantity}，预计 {date} 到货",
        "why_restock_due": "预计 {date} 补货",
        "why_unknown": "原因见计划",
        "why_separator": "；",
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
    """A message in one language: a title, a line per item listed, how many more items are
    at high risk than listed (`hidden`, said as "... and N more") and where the plan was
    written (`written`, the last line)."""

    title: str
    items: list[str]
    hidden: int
    written: str
    high_risk: int
    language: str = "en"

    @property
    def lines(self) -> list[str]:
        """The body: the items, the "and N more" line when some are not listed, the plan's
        location."""
        more = [TEXTS[self.language]["more"].format(count=self.hidden)] if self.hidden else []
        return [*self.items, *more, self.written]

    @property
    def text(self) -> str:
        return "\n".join([self.title, "", *self.lines])

    @property
    def markdown(self) -> str:
        """Title as a heading, items as a list, the plan's location last. The items carry
        names from the data: their brackets are shown as full-width ones (`markdown_safe`)."""
        items = [f"- {markdown_safe(line)}" for line in self.lines[:-1]]
        return "\n".join([f"### {self.title}", *items, "", self.lines[-1]])

    def fitted(self, fits: Callable[[Alert], bool]) -> Alert:
        """The alert with as many of its items as `fits` accepts (a robot's size limit):
        whole item lines dropped from the end and counted in the "and N more" line, the
        title and the plan's location kept. With no item left it is returned as it is then
        (the robot says so if it still refuses it)."""
        for keep in range(len(self.items), -1, -1):  # at most notify.top (100) items
            shorter = replace(
                self, items=self.items[:keep], hidden=self.hidden + len(self.items) - keep
            )
            if fits(shorter):
                break
        return shorter


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
    receipts = [  # what is coming for the item (`risk` tables of plans carry them)
        pl.col(name) if name in high.columns else pl.lit(None, dtype).alias(name)
        for name, dtype in RECEIPT_COLUMNS.items()
    ]
    shown = high.head(top).select(
        "sku", "location", "stockout_date", "risk_change", "previous_risk_level", *receipts
    )
    if products is not None and "name" in products.columns:
        names = products.select("sku", "name").unique("sku", keep="first")
        shown = shown.join(names, on="sku", how="left")
    else:
        shown = shown.with_columns(name=pl.lit(None, pl.String))
    if orders is not None and orders.height:
        if "reason" not in orders.columns:
            orders = orders.with_columns(reason=pl.lit(None, pl.String))
        ordered = orders.group_by("sku", "location").agg(
            pl.col("order_qty").sum(), pl.col("reason").drop_nulls().str.join("; ")
        )
        shown = shown.join(ordered, on=["sku", "location"], how="left")
    else:
        shown = shown.with_columns(
            order_qty=pl.lit(None, pl.Float64), reason=pl.lit(None, pl.String)
        )
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
                order=_number(quantity) if quantity > 0 else _nothing(texts, row),
            )
            + _news(texts, row["risk_change"], row["previous_risk_level"])
        )
    where_line = texts["written"].format(where=where)
    key = "title" if high.height else "title_clear"
    if previous is not None:
        key = "title_news" if high.height else "title_news_clear"
    title = texts[key].format(
        count=high.height,
        items="item" if high.height == 1 else "items",  # the English title's number
        as_of=as_of.isoformat(),
        previous=previous_as_of or "?",
    )
    return Alert(title, lines, high.height - shown.height, where_line, high.height, language)


RECEIPT_COLUMNS = {
    "on_order": pl.Float64,
    "next_receipt_date": pl.Date,
    "restock_eta": pl.Date,
}
"""The risk table's columns on what is coming for an item: the open POs' units, the first
receipt (PO or transfer in on the road) and the first one on or after the stockout."""

NOT_FUNDED = ("not funded by the budget: ", "not funded: budget ")
"""How the budget's clauses of an order line's reason begin (`purchasing.apply_budget`)
when it funded none of the line (`i18n.REASONS`)."""
DEFERRED = "deferred {n}: "
"""How the clause of a line deferred to reach its supplier's minimum begins
(`supplier_rules`, minimum_order_value: defer)."""


def _nothing(texts: dict, row: dict) -> str:
    """What an item at high risk with no order gets instead of a quantity, and why: not
    funded by the budget or deferred to a supplier's minimum (the clauses of its reason,
    recognised as the catalogue's templates: `i18n.reason_templates`), and what is on order
    or due (the risk row's on_order, restock_eta, next_receipt_date); with none of these,
    "not ordered: see the plan's reason"."""
    templates = i18n.reason_templates(row["reason"])
    why = []
    if any(t.startswith(NOT_FUNDED) for t in templates):
        why.append(texts["why_budget"])
    if any(t.startswith(DEFERRED) for t in templates):
        why.append(texts["why_deferred"])
    due = row["restock_eta"] or row["next_receipt_date"]
    on_order = row["on_order"] or 0.0
    if on_order > 0:
        key = "why_on_order_due" if due else "why_on_order"
        why.append(texts[key].format(quantity=_number(on_order), date=due and due.isoformat()))
    elif due:
        why.append(texts["why_restock_due"].format(date=due.isoformat()))
    return texts["no_order"].format(why=texts["why_separator"].join(why or [texts["why_unknown"]]))


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


def _body(payload: dict) -> bytes:
    """The request body a robot gets: `payload` as UTF-8 JSON."""
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def _post_json(url: str, payload: dict, timeout: float, where: dict[str, str]) -> None:
    """POST `payload` to a robot's webhook; `where` names the robot in either language."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https") or "://" not in url:
        raise StockplanError(phrase("error.webhook_not_http", where=where))
    request = urllib.request.Request(
        url,
        data=_body(payload),
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
    fitted = alert.fitted(lambda a: len(a.markdown.encode("utf-8")) <= WECOM_MAX_BYTES)
    payload = {"msgtype": "markdown", "markdown": {"content": fitted.markdown}}
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
    fitted = alert.fitted(lambda a: len(_body(_dingtalk_payload(a))) <= DINGTALK_MAX_BYTES)
    _post_json(url, _dingtalk_payload(fitted), timeout, both("notify.dingtalk_robot", url=shown))


def _dingtalk_payload(alert: Alert) -> dict:
    return {"msgtype": "markdown", "markdown": {"title": alert.title, "text": alert.markdown}}


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
