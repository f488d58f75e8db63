"""Benchmark: the website widget — ready time in the browser, message round trip over
socket.io beside REST, and staff messages pushed to an open widget.

    python -m benchmarks.bench_widget [--turns 60] [--pushes 50] [--loads 10]

One stack (the shipped model, loopback ports). Measured in the same run:

- **ready**: headless Chromium opens the demo page as a new visitor and opens the chat
  as soon as the page has loaded; the widget marks ``bankchat-ready``
  (``performance.mark``) when it is connected and the greeting is shown — time since
  navigation start, over ``--loads`` fresh page loads (target ≤ 1 s).
- **round trip**: the same customer messages sent over REST (the baseline) and over
  socket.io (the widget's protocol: ``user_uttered`` until its acknowledgement, which
  comes once every answer is out), alternating, p50/p95 and the socket.io/REST ratio.
- **push**: ``send_to_customer`` (staff reply) to an open socket.io client: time until
  the client has the message, p50/p95 (target ≤ 1 s p95).
"""

from __future__ import annotations

import argparse
import queue
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import socketio
import yaml

from benchmarks.bench_rest import percentile
from bot.core.settings import PROJECT_ROOT
from bot.handoff.rasa_api import send_to_customer
from devtools.stack import Stack

MODEL = PROJECT_ROOT / "models" / "bank.tar.gz"
READY_MARK = (
    "const m = performance.getEntriesByName('bankchat-ready'); return m.length ? m[0].startTime : null;"
)


def messages(limit: int) -> list[str]:
    data = yaml.safe_load((PROJECT_ROOT / "tests/data/personas_dev.yml").read_text(encoding="utf-8"))
    said = [turn for conv in data["conversations"] for turn in conv["turns"]]
    return (said * (limit // max(1, len(said)) + 1))[:limit]


class Client:
    def __init__(self, stack: Stack) -> None:
        self.inbox: queue.Queue[tuple[float, Any]] = queue.Queue()
        origin = stack.env["WIDGET_ORIGINS"].split(",")[0]
        self.sio = socketio.Client(reconnection=False, websocket_extra_options={"origin": origin})
        confirmed: queue.Queue[str] = queue.Queue()
        self.sio.on("session_confirm", confirmed.put)
        self.sio.on("bot_uttered", lambda data: self.inbox.put((time.perf_counter(), data)))
        self.sio.connect(stack.rasa_url, transports=["websocket"], wait_timeout=20)
        self.sio.emit("session_request", {"session_id": None})
        self.session_id = confirmed.get(timeout=30)

    def say(self, text: str) -> float:
        start = time.perf_counter()
        ack = self.sio.call("user_uttered", {"message": text, "client_id": uuid.uuid4().hex}, timeout=60)
        if not (isinstance(ack, dict) and ack.get("ok")):
            raise RuntimeError(f"message refused: {ack}")
        return time.perf_counter() - start

    def drain(self) -> None:
        while not self.inbox.empty():
            self.inbox.get_nowait()


def round_trips(stack: Stack, turns: int) -> tuple[list[float], list[float]]:
    rest, sio = [], []
    client = Client(stack)
    sender = f"bench-rest-{uuid.uuid4().hex}"
    for number, text in enumerate(messages(turns)):
        if number % 20 == 0:  # a new conversation now and then, as customers come and go
            client.sio.disconnect()
            client = Client(stack)
            sender = f"bench-rest-{uuid.uuid4().hex}"
        start = time.perf_counter()
        stack.rest(sender, text, metadata={"channel": "socketio"})
        rest.append(time.perf_counter() - start)
        sio.append(client.say(text))
    client.sio.disconnect()
    return rest, sio


def pushes(stack: Stack, count: int) -> list[float]:
    client = Client(stack)
    client.say("hello")
    time.sleep(0.5)
    client.drain()
    took = []
    for number in range(count):
        start = time.perf_counter()
        send_to_customer(
            client.session_id, f"Staff message {number}", rasa_url=stack.rasa_url, token=stack.api_token
        )
        arrived, data = client.inbox.get(timeout=10)
        if data.get("text") != f"Staff message {number}":
            raise RuntimeError(f"unexpected message: {data}")
        took.append(arrived - start)
    client.sio.disconnect()
    return took


def ready_times(stack: Stack, loads: int) -> list[float]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="bench-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=options)
    took = []
    try:
        for _ in range(loads):
            driver.get("about:blank")
            driver.delete_all_cookies()
            driver.get(stack.web_url + "/")
            driver.execute_script("try { localStorage.clear(); sessionStorage.clear(); } catch (e) {}")
            driver.refresh()  # a visitor with nothing stored
            driver.execute_script("BankChat.open()")  # the launcher clicked as soon as the page is there
            deadline = time.monotonic() + 20
            mark = None
            while mark is None and time.monotonic() < deadline:
                mark = driver.execute_script(READY_MARK)
                if mark is None:
                    time.sleep(0.02)
            if mark is None:
                raise RuntimeError("the widget never marked 'bankchat-ready'")
            took.append(float(mark) / 1000)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    return took


def line(name: str, values: list[float]) -> str:
    return (
        f"{name:<24} n={len(values):<4} p50 {percentile(values, 0.5) * 1000:7.1f} ms"
        f"   p95 {percentile(values, 0.95) * 1000:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--pushes", type=int, default=50)
    parser.add_argument("--loads", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack.start(model=MODEL, workdir=Path(tmp), seed=PROJECT_ROOT / "demo" / "customers.yml")
        try:
            for text in messages(5):  # warm up the models
                stack.rest(f"bench-warm-{uuid.uuid4().hex}", text)
            rest, sio = round_trips(stack, args.turns)
            pushed = pushes(stack, args.pushes)
            ready = ready_times(stack, args.loads)
        finally:
            stack.stop()
    print(
        line("widget ready (browser)", ready),
        f"  target ≤ 1000 ms: {'met' if percentile(ready, 0.95) <= 1 else 'NOT met'}",
    )
    print(line("round trip REST", rest))
    print(line("round trip socket.io", sio))
    print(
        f"{'socket.io / REST':<24} p50 ×{percentile(sio, 0.5) / percentile(rest, 0.5):.3f}"
        f"   p95 ×{percentile(sio, 0.95) / percentile(rest, 0.95):.3f}"
    )
    print(
        line("push to open widget", pushed),
        f"  target ≤ 1000 ms p95: {'met' if percentile(pushed, 0.95) <= 1 else 'NOT met'}",
    )


if __name__ == "__main__":
    main()
