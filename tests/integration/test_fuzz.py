"""Generated bad input against every public endpoint and the action server (Hypothesis,
seeded and bounded): every answer is a 2xx or a clean 4xx, every process is still up and
answering afterwards, and no card number or IBAN typed into it is stored or logged.

The run is derandomised (the same inputs every time) and its size fixed by
``EXAMPLES_PER_TARGET``; figures are printed at the end (``pytest -s`` shows them).
"""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.stack import Stack
from tests.support import files_holding, http_call

pytestmark = pytest.mark.integration
EXAMPLES_PER_TARGET = 130  # × 4 targets = 520 generated inputs a run
FUZZ = settings(
    max_examples=EXAMPLES_PER_TARGET,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
# Card data the generated messages carry; none of it may be stored or logged.
CARDS = ["4539 1488 0343 6467", "4111111111111111", "5500-0000-0000-0004"]
IBANS = ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000"]
SECRET = re.compile(
    r"4539\D?1488\D?0343\D?6467|4111\D?1111\D?1111\D?1111|5500\D?0000\D?0000\D?0004|GB82\s?WEST|DE8937040044"
)
STATUSES: Counter[int] = Counter()
_lock = threading.Lock()

ODD_TEXT = st.sampled_from(
    [
        "", " ", "\x00", "\u202eevil\u202c", "\u200b\u200d", "😀" * 50, "<script>alert(1)</script>",
        "'; DROP TABLE events; --", "../../../../etc/passwd", "%00%2e%2e", "\ud7ff", "a" * 6000,
        "{{7*7}}", "${jndi:ldap://x}", "\r\n\r\nHTTP/1.1 200 OK",
        *(f"my card is {c}" for c in CARDS), *(f"IBAN {i} please" for i in IBANS),
    ]
)  # fmt: skip
TEXT = st.one_of(ODD_TEXT, st.text(max_size=300))
JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
SENDER = st.one_of(st.builds(lambda: f"fz-{uuid.uuid4().hex[:12]}"), TEXT)
MESSAGE_BODY = st.fixed_dictionaries(
    {"sender": SENDER, "message": st.one_of(TEXT, JSON_VALUE)},
    optional={"metadata": JSON_VALUE, "customer_id": st.one_of(TEXT, JSON_VALUE)},
)
DEEP = st.integers(min_value=50, max_value=5000).map(lambda n: ("[" * n + "]" * n).encode())
RAW = st.one_of(
    st.binary(max_size=512),
    DEEP,
    st.just(b"x" * 2_000_000),
    st.just(b"\xff\xfe" + "héllo".encode("utf-16-le")),
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
    ]
)


def body_strategy(structured: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    encoded = structured.map(lambda v: json.dumps(v).encode("utf-8", "surrogatepass"))
    return st.one_of(encoded, JSON_VALUE.map(lambda v: json.dumps(v).encode("utf-8", "surrogatepass")), RAW)


# The largest body any target reads; a server may answer a bigger one with 413 and close
# the connection before the client has finished sending it.
LARGEST_READ = 1_000_000


def post(url: str, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> int:
    all_headers = {**({"Content-Type": content_type} if content_type else {}), **(headers or {})}
    try:
        status, _ = http_call(url, body, headers=all_headers, timeout=120)
    except (urllib.error.URLError, ConnectionError) as err:
        reason = getattr(err, "reason", err)
        if len(body) <= LARGEST_READ or not isinstance(reason, (BrokenPipeError, ConnectionResetError)):
            raise
        # Refused before it was read: the 413 and the close raced the rest of the upload.
        status = 413
    with _lock:
        STATUSES[status] += 1
    return status


def check(status: int, what: str) -> None:
    assert status < 500, f"{what}: HTTP {status}"


@FUZZ
@given(body=body_strategy(MESSAGE_BODY), content_type=CONTENT_TYPES)
def test_fuzz_the_website_relay(stack: Stack, body: bytes, content_type: str) -> None:
    check(post(f"{stack.web_url}/api/message", body, content_type), "relay")


@FUZZ
@given(body=body_strategy(MESSAGE_BODY), content_type=CONTENT_TYPES)
def test_fuzz_rasas_rest_webhook(stack: Stack, body: bytes, content_type: str) -> None:
    check(post(f"{stack.rasa_url}/webhooks/rest/webhook", body, content_type), "rest webhook")


TWILIO_FORM = st.dictionaries(
    st.sampled_from(["From", "Body", "To", "NumMedia", "MediaUrl0", "Latitude", "Longitude", "MessageSid"]),
    TEXT,
    max_size=6,
).map(lambda form: urllib.parse.urlencode(form).encode())


@FUZZ
@given(body=st.one_of(TWILIO_FORM, RAW), content_type=CONTENT_TYPES)
def test_fuzz_the_twilio_webhook(stack: Stack, body: bytes, content_type: str) -> None:
    check(post(f"{stack.rasa_url}/webhooks/twilio/webhook", body, content_type), "twilio webhook")


ACTION_CALL = st.fixed_dictionaries(
    {
        "next_action": st.one_of(
            st.sampled_from(["action_hand_over", "action_book_callback", "nope"]), JSON_VALUE
        )
    },
    optional={"tracker": JSON_VALUE, "sender_id": SENDER, "domain": JSON_VALUE, "version": TEXT},
)


@FUZZ
@given(body=body_strategy(ACTION_CALL), content_type=CONTENT_TYPES, signed=st.booleans())
def test_fuzz_the_action_server(stack: Stack, body: bytes, content_type: str, signed: bool) -> None:
    headers = {"Authorization": f"Bearer {stack.action_token}"} if signed else {}
    status = post(f"{stack.action_url}/webhook", body, content_type, headers)
    check(status, "action server")
    if not signed:
        assert status == 401


def test_after_the_fuzz_every_process_answers_and_nothing_leaked(stack: Stack) -> None:
    # A bounded concurrent burst of ordinary messages, one sender each.
    results: list[int] = []

    def one(i: int) -> None:
        body = json.dumps(
            {"sender": f"burst-{i}-{uuid.uuid4().hex[:6]}", "message": "how do I change my PIN"}
        )
        results.append(post(f"{stack.rasa_url}/webhooks/rest/webhook", body.encode(), "application/json"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert len(results) == 60 and all(s == 200 for s in results), Counter(results)

    assert all(p.poll() is None for p in stack.procs.values()), "every process is still running"
    for url in (f"{stack.rasa_url}/", f"{stack.action_url}/health", f"{stack.web_url}/"):
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200, url
    leaks = files_holding(Path(stack.workdir), SECRET)
    assert leaks == [], f"card data stored or logged in {leaks}"
    print(f"\nfuzz: {sum(STATUSES.values())} requests, statuses {dict(sorted(STATUSES.items()))}")
