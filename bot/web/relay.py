"""The minimal web chat page and its bridge to Rasa's REST channel.

``python -m bot webchat --port 8080 --rasa-url http://127.0.0.1:5005`` serves the page
at ``/`` and relays ``POST /api/message`` (``{"sender": str, "message": str}``) to Rasa's
``/webhooks/rest/webhook``, telling the assistant the message comes from the website
(metadata ``channel: socketio``). Bad requests get a 4xx with a JSON error; an
unreachable Rasa server gets a 502.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.core.bank import BankInfo
from bot.core.limits import RateLimiter
from bot.core.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)

DEFAULT_PAGE = PROJECT_ROOT / "web" / "index.html"
MAX_MESSAGE_CHARS = 2000
MAX_CUSTOMER_ID_CHARS = 128
MAX_SENDER_CHARS = 128
WEBSITE_CHANNEL = "socketio"
RASA_TIMEOUT_SECONDS = 30

_RASA_URL = web.AppKey("rasa_url", str)
_PAGE = web.AppKey("page", str)
_CLIENT = web.AppKey("client", aiohttp.ClientSession)
_LIMITER = web.AppKey("limiter", RateLimiter)
# Messages one address may send a minute (burst: capacity); Rasa exempts the relay's own
# address from its per-address limit, so the relay limits its clients.
PER_ADDRESS_PER_MINUTE = 120
PER_ADDRESS_CAPACITY = 60


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _validate(body: Any) -> tuple[str, str, str | None] | str:
    if not isinstance(body, dict):
        return "body must be a JSON object"
    sender, message = body.get("sender"), body.get("message")
    if (
        not isinstance(sender, str)
        or not sender.strip()
        or len(sender) > MAX_SENDER_CHARS
        or not sender.isprintable()
    ):
        return f"'sender' must be a non-empty string of at most {MAX_SENDER_CHARS} printable characters"
    if not isinstance(message, str) or not message.strip() or len(message) > MAX_MESSAGE_CHARS:
        return f"'message' must be a non-empty string of at most {MAX_MESSAGE_CHARS} characters"
    customer = body.get("customer_id")
    if customer is not None and (
        not isinstance(customer, str) or not customer.strip() or len(customer) > MAX_CUSTOMER_ID_CHARS
    ):
        return f"'customer_id' must be a non-empty string of at most {MAX_CUSTOMER_ID_CHARS} characters"
    return sender, message, customer.strip() if customer else None


async def _index(request: web.Request) -> web.Response:
    return web.Response(text=request.app[_PAGE], content_type="text/html")


async def _message(request: web.Request) -> web.Response:
    verdict = request.app[_LIMITER].check(request.remote or "unknown")
    if not verdict.allowed:
        response = _error(429, "too many messages; try again shortly")
        response.headers["Retry-After"] = str(verdict.retry_after)
        return response
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # not JSON, or nested too deep to read
        return _error(400, "body must be JSON")
    checked = _validate(body)
    if isinstance(checked, str):
        return _error(400, checked)
    sender, message, customer = checked
    metadata = {"channel": WEBSITE_CHANNEL}
    if customer:
        # The logged-in website customer (the site vouches for it; the assistant loads the
        # profile at session start). Not authenticated here yet: see README, 'Limits today'.
        metadata["customer_id"] = customer
    payload = {"sender": sender, "message": message, "metadata": metadata}
    url = request.app[_RASA_URL].rstrip("/") + "/webhooks/rest/webhook"
    try:
        async with request.app[_CLIENT].post(url, json=payload) as resp:
            if 400 <= resp.status < 500:  # the assistant refused the message: say why
                try:
                    answer = await resp.json(content_type=None)
                except ValueError:
                    answer = None
                error = answer.get("error") if isinstance(answer, dict) else None
                response = _error(resp.status, str(error or f"refused (HTTP {resp.status})"))
                if "Retry-After" in resp.headers:
                    response.headers["Retry-After"] = resp.headers["Retry-After"]
                return response
            if resp.status != 200:
                logger.warning("webchat.rasa_error status=%s", resp.status)
                return _error(502, f"assistant answered HTTP {resp.status}")
            replies = await resp.json()
    except (aiohttp.ClientError, TimeoutError) as exc:
        logger.warning("webchat.rasa_unreachable error=%s", exc)
        return _error(502, "assistant unreachable")
    return web.json_response(replies)


async def _client_ctx(app: web.Application):  # type: ignore[no-untyped-def]
    timeout = aiohttp.ClientTimeout(total=RASA_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout) as client:
        app[_CLIENT] = client
        yield


def create_app(*, rasa_url: str, bank: BankInfo, page: Path = DEFAULT_PAGE) -> web.Application:
    """Build the web chat application (no sockets are opened until it is run)."""
    title = html.escape(f"{bank.bank_name} – customer service chat")
    text = page.read_text(encoding="utf-8")
    text = text.replace("<title>Chat with us</title>", f"<title>{title}</title>")
    text = text.replace(
        '<header id="title">Customer service chat</header>', f'<header id="title">{title}</header>'
    )
    app = web.Application(client_max_size=64 * 1024)
    app[_RASA_URL] = rasa_url
    app[_PAGE] = text
    app[_LIMITER] = RateLimiter(per_minute=PER_ADDRESS_PER_MINUTE, capacity=PER_ADDRESS_CAPACITY)
    app.cleanup_ctx.append(_client_ctx)
    app.router.add_get("/", _index)
    app.router.add_post("/api/message", _message)
    return app


def serve(*, host: str, port: int, rasa_url: str, bank: BankInfo) -> None:
    web.run_app(create_app(rasa_url=rasa_url, bank=bank), host=host, port=port, print=None)
