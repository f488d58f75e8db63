"""Benchmark: a live chat through the staff console, both ways.

    python -m benchmarks.bench_live_chat [--rounds 30]

One stack (the shipped model, loopback ports, the console included). A customer on the
website widget's protocol (python-socketio, as ``bench_widget``) asks for a person; a
member of staff logs in to the console, claims the live chat and keeps its event stream
open (``/handoffs/REF/events``, as the conversation page does). Then, ``--rounds`` times:

- **staff reply → widget**: the reply posted to the console (``/handoffs/REF/reply``, as
  the page's script does) until the customer's socket has it;
- **customer message → staff page**: after a pause of 0.2–1.2 s (so messages do not arrive
  in step with the console's polling), the customer's message sent over socket.io until
  the console's event stream carries it (the console reads Rasa's tracker every 0.5 s).

Prints p50/p95 of each; the target is ≤ 2 s p95 both ways.
"""

from __future__ import annotations

import argparse
import json
import queue
import random
import re
import secrets
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests
import socketio
from sqlalchemy import select

from benchmarks.bench_rest import percentile
from bot.core.settings import PROJECT_ROOT
from bot.store.db import Database
from bot.store.models import Handoff
from devtools.stack import Stack

MODEL = PROJECT_ROOT / "models" / "bank.tar.gz"
TARGET_SECONDS = 2.0
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


class Customer:
    """The widget's side: a socket.io connection to Rasa; what it receives, timed."""

    def __init__(self, stack: Stack) -> None:
        self.inbox: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        origin = stack.env["WIDGET_ORIGINS"].split(",")[0]
        self.sio = socketio.Client(reconnection=False, websocket_extra_options={"origin": origin})
        confirmed: queue.Queue[str] = queue.Queue()
        self.sio.on("session_confirm", confirmed.put)
        self.sio.on("bot_uttered", lambda data: self.inbox.put((time.perf_counter(), data)))
        self.sio.connect(stack.rasa_url, transports=["websocket"], wait_timeout=20)
        self.sio.emit("session_request", {"session_id": None})
        self.session_id = confirmed.get(timeout=30)

    def say(self, text: str) -> None:
        ack = self.sio.call("user_uttered", {"message": text, "client_id": uuid.uuid4().hex}, timeout=60)
        if not (isinstance(ack, dict) and ack.get("ok")):
            raise RuntimeError(f"message refused: {ack}")

    def wait_for(self, text: str, timeout: float = 15) -> float:
        """When a message containing ``text`` arrived (``perf_counter``)."""
        deadline = time.monotonic() + timeout
        while True:
            arrived, data = self.inbox.get(timeout=max(0.1, deadline - time.monotonic()))
            if text in str(data.get("text")):
                return arrived


class Staff:
    """The console's side: a logged-in session and the conversation page's event stream."""

    def __init__(self, stack: Stack, username: str, password: str) -> None:
        self.base = stack.console_url
        self.http = requests.Session()
        page = self.http.get(f"{self.base}/login", timeout=10).text
        done = self.http.post(
            f"{self.base}/login",
            data={"username": username, "password": password, "next": "/", "csrf": self._csrf(page)},
            timeout=30,
        )
        if 'data-testid="current-user"' not in done.text:
            raise RuntimeError(f"could not log in as {username}")
        self.csrf = self._csrf(done.text)
        self.events: queue.Queue[tuple[float, str, dict[str, Any]]] = queue.Queue()

    @staticmethod
    def _csrf(page: str) -> str:
        found = CSRF_META.search(page)
        if not found:
            raise RuntimeError("no CSRF token on the page")
        return found.group(1)

    def post(self, path: str, **form: str) -> requests.Response:
        response = self.http.post(
            f"{self.base}{path}",
            data={**form, "csrf": self.csrf},
            headers={"Accept": "application/json"},
            timeout=30,
        )
        response.raise_for_status()
        return response

    def listen(self, reference: str) -> None:
        """Keep the page's event stream open in a thread; events go to ``self.events``."""
        page = self.http.get(f"{self.base}/handoffs/{reference}", timeout=30).text
        cursor = re.search(r'data-cursor="(\d*)"', page)
        after = cursor.group(1) if cursor else ""
        url = f"{self.base}/handoffs/{reference}/events" + (f"?after={after}" if after else "")
        ready = threading.Event()

        reader = requests.Session()  # its own connection, beside the posts
        reader.cookies.update(self.http.cookies)

        def read() -> None:
            with reader.get(url, stream=True, timeout=(10, None)) as stream:
                ready.set()
                name, data = "", ""
                for chunk in stream.iter_lines():
                    raw = chunk.decode("utf-8")
                    if raw.startswith("event: "):
                        name = raw[7:]
                    elif raw.startswith("data: "):
                        data = raw[6:]
                    elif raw == "" and name:
                        self.events.put((time.perf_counter(), name, json.loads(data)))
                        name, data = "", ""

        threading.Thread(target=read, daemon=True).start()
        ready.wait(10)

    def wait_for(self, text: str, timeout: float = 15) -> float:
        """When the stream carried a line containing ``text`` (``perf_counter``)."""
        deadline = time.monotonic() + timeout
        while True:
            arrived, name, data = self.events.get(timeout=max(0.1, deadline - time.monotonic()))
            if name in ("items", "reset") and text in data.get("html", ""):
                return arrived


def _reference(stack: Stack, sender: str, timeout: float = 30) -> str:
    """The reference of the handoff the assistant made for ``sender``."""
    db = Database(stack.env["DATABASE_URL"])
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with db.session() as s:
                row = s.execute(select(Handoff).where(Handoff.sender_id == sender)).scalar_one_or_none()
                if row is not None:
                    return str(row.reference)
            time.sleep(0.2)
    finally:
        db.dispose()
    raise RuntimeError(f"no handoff for {sender!r}: did the customer reach a person?")


def measure(stack: Stack, rounds: int) -> tuple[list[float], list[float]]:
    username, password = f"bench.{secrets.token_hex(3)}", secrets.token_urlsafe(16)
    stack.add_staff_user(username, password, role="agent")
    customer = Customer(stack)
    customer.say("my card payment was declined")
    customer.say("can I talk to a person in the chat please")
    reference = _reference(stack, customer.session_id)
    staff = Staff(stack, username, password)
    staff.post(f"/handoffs/{reference}/claim")
    staff.listen(reference)
    time.sleep(1)
    replies, messages = [], []
    pauses = random.Random(7)  # noqa: S311 (timing, not secrets)
    for number in range(rounds):
        text = f"Staff reply {number} {uuid.uuid4().hex[:6]}"
        started = time.perf_counter()
        staff.post(f"/handoffs/{reference}/reply", text=text)
        replies.append(customer.wait_for(text) - started)
        # People do not write in step with the console's polling: a pause of their own.
        time.sleep(pauses.uniform(0.2, 1.2))
        said = f"customer message {number} {uuid.uuid4().hex[:6]}"
        started = time.perf_counter()
        customer.say(said)
        messages.append(staff.wait_for(said) - started)
    customer.sio.disconnect()
    staff.http.close()
    return replies, messages


def line(name: str, values: list[float]) -> str:
    p95 = percentile(values, 0.95)
    return (
        f"{name:<32} n={len(values):<4} p50 {percentile(values, 0.5) * 1000:7.1f} ms"
        f"   p95 {p95 * 1000:7.1f} ms   target ≤ {TARGET_SECONDS * 1000:.0f} ms p95: "
        f"{'met' if p95 <= TARGET_SECONDS else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack.start(model=MODEL, workdir=Path(tmp), seed=PROJECT_ROOT / "demo" / "customers.yml")
        try:
            replies, messages = measure(stack, args.rounds)
        finally:
            stack.stop()
    print(line("staff reply → customer widget", replies))
    print(line("customer message → staff page", messages))


if __name__ == "__main__":
    main()
