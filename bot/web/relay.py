"""The website server: the chat widget's files, a demo help page and a REST relay to Rasa.

``python -m bot webchat --port 8080 --rasa-url http://127.0.0.1:5005`` serves

- ``/widget/widget.js`` and ``/widget/widget.css`` — the chat widget, embedded in any page
  with one script tag — and ``/vendor/socket.io.min.js``, the socket.io client it loads
  (short ``max-age`` and an ``ETag``, compressed when the browser accepts it);
- ``/`` — a help page of the bank that embeds the widget, talking to Rasa's socket.io
  channel at ``--rasa-url``; its Content-Security-Policy allows scripts from this server
  and connections to that origin only (the page's own script is ``/page.js``);
- ``POST /api/message`` — a relay for API clients
  (``{"sender": str, "message": str, "identity_token"?: str}``) to Rasa's
  ``/webhooks/rest/webhook``, marking the message as from the website (metadata
  ``channel: socketio``) and passing the token as metadata ``identity_token`` for Rasa to
  verify. ``customer_id`` is refused: a customer is named only by a signed token. Bad
  requests get a 4xx with a JSON error; an unreachable Rasa server a 502.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.core.bank import BankInfo
from bot.core.limits import RateLimiter
from bot.core.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)

WEB_ROOT = PROJECT_ROOT / "web"
DEFAULT_PAGE = WEB_ROOT / "index.html"
MAX_MESSAGE_CHARS = 2000
MAX_IDENTITY_TOKEN_CHARS = 2048
MAX_SENDER_CHARS = 128
WEBSITE_CHANNEL = "socketio"
RASA_TIMEOUT_SECONDS = 30
ASSET_MAX_AGE_SECONDS = 300
# Served files: URL path -> (file under web/, content type).
ASSETS: dict[str, tuple[str, str]] = {
    "/widget/widget.js": ("widget/widget.js", "text/javascript"),
    "/widget/widget.css": ("widget/widget.css", "text/css"),
    "/vendor/socket.io.min.js": ("vendor/socket.io.min.js", "text/javascript"),
    "/page.js": ("page.js", "text/javascript"),
    "/page.css": ("page.css", "text/css"),
}

# Messages one address may send a minute (burst: capacity); Rasa exempts the relay's own
# address from its per-address limit, so the relay limits its clients.
PER_ADDRESS_PER_MINUTE = 120
PER_ADDRESS_CAPACITY = 60
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True)
class _Asset:
    body: bytes
    content_type: str
    etag: str

    @classmethod
    def of(cls, body: bytes, content_type: str) -> _Asset:
        return cls(body, content_type, '"' + hashlib.sha256(body).hexdigest()[:20] + '"')


_RASA_URL = web.AppKey("rasa_url", str)
_PAGE = web.AppKey("page", _Asset)
_ASSETS = web.AppKey("assets", dict[str, _Asset])
_CLIENT = web.AppKey("client", aiohttp.ClientSession)
_LIMITER = web.AppKey("limiter", RateLimiter)


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
    if "customer_id" in body:
        return "'customer_id' is not accepted: name the customer with a signed 'identity_token'"
    token = body.get("identity_token")
    if token is not None and (
        not isinstance(token, str)
        or not token.strip()
        or len(token) > MAX_IDENTITY_TOKEN_CHARS
        or not token.isprintable()
    ):
        return (
            f"'identity_token' must be a non-empty string of at most {MAX_IDENTITY_TOKEN_CHARS} "
            "printable characters"
        )
    return sender, message, token.strip() if token else None


def rasa_origins(rasa_url: str) -> tuple[str, str]:
    """The HTTP and WebSocket origins of ``rasa_url`` (for the page's connect-src)."""
    parts = urllib.parse.urlsplit(rasa_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"rasa url must be an http(s) URL with a host, got {rasa_url!r}")
    ws = "wss" if parts.scheme == "https" else "ws"
    return f"{parts.scheme}://{parts.netloc}", f"{ws}://{parts.netloc}"


def content_security_policy(rasa_url: str) -> str:
    """The demo page's policy: its own scripts and styles, connections to Rasa only."""
    http_origin, ws_origin = rasa_origins(rasa_url)
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src 'self' {http_origin} {ws_origin}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def render_page(template: str, *, bank: BankInfo, rasa_url: str) -> str:
    """Fill ``{{name}}`` in the page: the bank's facts (English; ``phone_*_tel`` gives a
    number as a ``tel:`` target) and ``rasa_url``. Every value is HTML-escaped."""
    values = dict(bank.template_vars("en"))
    for name, number in list(values.items()):
        if name.startswith("phone_"):
            values[f"{name}_tel"] = re.sub(r"[^\d+]", "", number)
    values["rasa_url"] = rasa_url.rstrip("/")

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise ValueError(f"unknown placeholder {{{{{name}}}}} in the web page")
        return html.escape(values[name], quote=True)

    return _PLACEHOLDER.sub(fill, template)


def _not_modified(request: web.Request, asset: _Asset) -> bool:
    sent = request.headers.get("If-None-Match", "")
    return asset.etag in {tag.strip() for tag in sent.split(",")} or sent.strip() == "*"


def _asset_response(request: web.Request, asset: _Asset, headers: Mapping[str, str]) -> web.StreamResponse:
    if _not_modified(request, asset):
        return web.Response(status=304, headers={"ETag": asset.etag, **headers})
    response = web.Response(
        body=asset.body,
        content_type=asset.content_type,
        charset="utf-8",
        headers={"ETag": asset.etag, **headers},
    )
    response.enable_compression()
    return response


async def _index(request: web.Request) -> web.StreamResponse:
    headers = {
        "Cache-Control": "no-cache",
        "Content-Security-Policy": content_security_policy(request.app[_RASA_URL]),
    }
    return _asset_response(request, request.app[_PAGE], headers)


async def _asset(request: web.Request) -> web.StreamResponse:
    asset = request.app[_ASSETS][request.path]
    headers = {
        "Cache-Control": f"public, max-age={ASSET_MAX_AGE_SECONDS}",
        # The widget is embedded in the bank's other sites too.
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    return _asset_response(request, asset, headers)


@web.middleware
async def _security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


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
    sender, message, token = checked
    metadata = {"channel": WEBSITE_CHANNEL}
    if token:
        # The website's signed word for its logged-in customer; Rasa verifies it.
        metadata["identity_token"] = token
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


def create_app(
    *, rasa_url: str, bank: BankInfo, page: Path = DEFAULT_PAGE, web_root: Path = WEB_ROOT
) -> web.Application:
    """Build the website application (files are read now; no sockets are opened until it
    is run). ``rasa_url`` is where browsers reach Rasa."""
    content_security_policy(rasa_url)  # a bad URL fails here, not at the first request
    text = render_page(page.read_text(encoding="utf-8"), bank=bank, rasa_url=rasa_url)
    app = web.Application(client_max_size=64 * 1024, middlewares=[_security_headers])
    app[_RASA_URL] = rasa_url
    app[_PAGE] = _Asset.of(text.encode("utf-8"), "text/html")
    app[_ASSETS] = {
        path: _Asset.of((web_root / file).read_bytes(), content_type)
        for path, (file, content_type) in ASSETS.items()
    }
    app[_LIMITER] = RateLimiter(per_minute=PER_ADDRESS_PER_MINUTE, capacity=PER_ADDRESS_CAPACITY)
    app.cleanup_ctx.append(_client_ctx)
    app.router.add_get("/", _index)
    for path in ASSETS:
        app.router.add_get(path, _asset)
    app.router.add_post("/api/message", _message)
    return app


def serve(app: web.Application, *, host: str, port: int) -> None:
    web.run_app(app, host=host, port=port, print=None)
