"""The website widget's files and how the website server serves them (no Rasa needed)."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.core.bank import BankInfo
from bot.core.settings import PROJECT_ROOT
from bot.web.relay import MAX_IDENTITY_TOKEN_CHARS, content_security_policy, create_app, render_page

WEB = PROJECT_ROOT / "web"
WIDGET_FILES = [WEB / "widget" / "widget.js", WEB / "widget" / "widget.css"]
BUDGET_GZIPPED_BYTES = 30 * 1024
SOCKET_IO_VERSION = "4.8.1"
RASA_URL = "http://127.0.0.1:5005"


def test_the_widget_stays_within_its_size_budget() -> None:
    sources = b"".join(path.read_bytes() for path in WIDGET_FILES)
    size = len(gzip.compress(sources, compresslevel=9))
    assert 0 < size <= BUDGET_GZIPPED_BYTES, f"widget.js + widget.css: {size} bytes gzipped"


def test_the_vendored_socket_io_client_names_its_version_and_licence() -> None:
    client = (WEB / "vendor" / "socket.io.min.js").read_text(encoding="utf-8")
    assert client.startswith("/*!\n * Socket.IO v" + SOCKET_IO_VERSION), client[:80]
    licence = (WEB / "vendor" / "socket.io-client.LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in licence and "Guillermo Rauch" in licence


def test_the_test_only_axe_core_is_vendored_with_its_licence_and_never_under_web() -> None:
    vendor = PROJECT_ROOT / "tests" / "vendor"
    assert (vendor / "axe.min.js").read_text(encoding="utf-8").startswith("/*! axe v4.10.3")
    assert "Mozilla Public License" in (vendor / "axe-core.LICENSE").read_text(encoding="utf-8")
    assert not list(WEB.rglob("axe*"))


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
def test_the_widget_has_every_string_in_each_language(lang: str) -> None:
    source = (WEB / "widget" / "widget.js").read_text(encoding="utf-8")
    blocks = dict(re.findall(r"\n    (en|es|fr): \{\n(.*?)\n    \},", source, flags=re.S))
    keys = {lng: set(re.findall(r"^\s+(\w+):", block, flags=re.M)) for lng, block in blocks.items()}
    assert set(keys) == {"en", "es", "fr"}
    assert keys[lang] == keys["en"], f"{lang} differs from en: {keys[lang] ^ keys['en']}"
    assert {"notice", "notSent", "typing", "label", "send", "open", "close"} <= keys[lang]


def test_bot_text_is_never_written_as_html() -> None:
    source = (WEB / "widget" / "widget.js").read_text(encoding="utf-8")
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", source)


def test_the_page_is_filled_in_and_escaped(bank: BankInfo) -> None:
    page = render_page(
        '<b>{{bank_name}}</b> <a href="tel:{{phone_cards_tel}}">x</a> <i data-x="{{rasa_url}}">',
        bank=bank,
        rasa_url='http://h:1/"><script>',
    )
    assert f"<b>{bank.bank_name}</b>" in page
    assert 'href="tel:+442079460999"' in page
    assert 'data-x="http://h:1/&quot;&gt;&lt;script&gt;"' in page
    with pytest.raises(ValueError, match="unknown placeholder"):
        render_page("{{nope}}", bank=bank, rasa_url=RASA_URL)


@pytest.mark.parametrize(
    ("url", "origins"),
    [
        ("http://127.0.0.1:5005", "connect-src 'self' http://127.0.0.1:5005 ws://127.0.0.1:5005"),
        (
            "https://chat.bank.example/",
            "connect-src 'self' https://chat.bank.example wss://chat.bank.example",
        ),
    ],
)
def test_the_page_may_connect_to_rasa_only(url: str, origins: str) -> None:
    policy = content_security_policy(url)
    assert origins in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


@pytest.mark.parametrize("url", ["127.0.0.1:5005", "ftp://x", "http://"])
def test_a_bad_rasa_url_is_refused(bank: BankInfo, url: str) -> None:
    with pytest.raises(ValueError, match="rasa url"):
        create_app(rasa_url=url, bank=bank)


@pytest.fixture
async def client(bank: BankInfo) -> AsyncIterator[TestClient]:
    app = create_app(rasa_url=RASA_URL, bank=bank)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_the_page_embeds_the_widget_with_security_headers(client: TestClient, bank: BankInfo) -> None:
    resp = await client.get("/")
    page = await resp.text()
    assert resp.status == 200 and resp.content_type == "text/html"
    assert bank.bank_name in page
    tags = re.findall(r"<script\b[^>]*>", page)
    assert all(" src=" in tag for tag in tags), "no inline script"
    widget = [tag for tag in tags if "/widget/widget.js" in tag]
    assert len(widget) == 1 and f'data-server="{RASA_URL}"' in widget[0]
    assert "customer=" not in page
    policy = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "ws://127.0.0.1:5005" in policy
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/widget/widget.js", "text/javascript"),
        ("/widget/widget.css", "text/css"),
        ("/vendor/socket.io.min.js", "text/javascript"),
        ("/page.js", "text/javascript"),
    ],
)
async def test_assets_are_served_with_type_cache_headers_and_etag(
    client: TestClient, path: str, content_type: str
) -> None:
    resp = await client.get(path, headers={"Accept-Encoding": "gzip"})
    assert resp.status == 200 and resp.content_type == content_type
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=" in resp.headers["Cache-Control"]
    assert resp.headers.get("Content-Encoding") == "gzip"
    body = await resp.read()
    assert body == (WEB / path.lstrip("/")).read_bytes()
    again = await client.get(path, headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status == 304 and not await again.read()


async def test_unknown_paths_and_test_files_are_not_served(client: TestClient) -> None:
    for path in ("/tests/vendor/axe.min.js", "/web/index.html", "/vendor/../index.html", "/widget/"):
        assert (await client.get(path)).status == 404, path


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"sender": "x", "message": "hi", "customer_id": "lucia.g"}, "identity_token"),
        ({"sender": "x", "message": "hi", "identity_token": 42}, "identity_token"),
        ({"sender": "x", "message": "hi", "identity_token": " "}, "identity_token"),
        (
            {"sender": "x", "message": "hi", "identity_token": "t" * (MAX_IDENTITY_TOKEN_CHARS + 1)},
            "identity_token",
        ),
    ],
)
async def test_the_relay_names_customers_only_by_identity_token(
    client: TestClient, body: dict[str, object], error: str
) -> None:
    resp = await client.post("/api/message", data=json.dumps(body))
    assert resp.status == 400
    assert error in (await resp.json())["error"]


def test_webchat_link_carries_a_token_the_assistant_accepts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.__main__ import main
    from bot.core.identity import verify_token

    key = "k" * 40
    monkeypatch.setenv("CUSTOMER_IDENTITY_KEY", key)
    assert main(["webchat-link", "margaret.w", "--base-url", "http://bank.example/help/"]) == 0
    address = capsys.readouterr().out.strip()
    assert address.startswith("http://bank.example/help/#identity=")
    identity = verify_token(address.split("#identity=", 1)[1], key=key.encode())
    assert identity is not None and identity.customer_id == "margaret.w"

    monkeypatch.delenv("CUSTOMER_IDENTITY_KEY")
    assert main(["webchat-link", "margaret.w"]) == 2
    assert "CUSTOMER_IDENTITY_KEY" in capsys.readouterr().err
