"""Start the real action server, Rasa server and web chat on free loopback ports.

The model is the one ``scripts/train.sh`` builds (``make test`` trains before pytest).
One set of servers serves the whole integration session.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.config import PROJECT_ROOT
from bot.readiness import wait_ready

VENV_BIN = Path(sys.executable).parent
MODEL = Path(os.environ.get("MODEL_PATH", PROJECT_ROOT / "models" / "bank.tar.gz"))
STARTUP_TIMEOUT = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Stack:
    rasa_url: str
    action_url: str
    web_url: str
    tracker_db: Path
    logs: Path

    def rest(self, sender: str, message: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata is not None:
            body["metadata"] = metadata
        return post_json(f"{self.rasa_url}/webhooks/rest/webhook", body)  # type: ignore[no-any-return]

    def tracker(self, sender: str) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.rasa_url}/conversations/{sender}/tracker", timeout=30) as resp:
            return json.loads(resp.read())  # type: ignore[no-any-return]


def post_json(url: str, body: Any, timeout: float = 60) -> Any:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run 'make train' (make test does it)")
    tmp = tmp_path_factory.mktemp("stack")
    logs = tmp / "log"
    logs.mkdir()
    rasa_port, action_port, web_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SANIC_HOST": "127.0.0.1",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
        "TRACKER_DB": str(tmp / "tracker.db"),
    }
    commands = {
        "actions": [
            str(VENV_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port),
        ],
        "rasa": [
            str(VENV_BIN / "rasa"), "run", "--model", str(MODEL), "--endpoints", "endpoints.yml",
            "--credentials", "credentials.yml", "--interface", "127.0.0.1", "--port", str(rasa_port),
            "--enable-api",
        ],
        "webchat": [
            str(VENV_BIN / "python"), "-m", "bot", "webchat", "--port", str(web_port),
            "--rasa-url", f"http://127.0.0.1:{rasa_port}",
        ],
    }  # fmt: skip
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, cmd in commands.items():
            with (logs / f"{name}.log").open("wb") as out:
                procs[name] = subprocess.Popen(
                    cmd, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
                )
        urls = [
            f"http://127.0.0.1:{rasa_port}/status",
            f"http://127.0.0.1:{action_port}/health",
            f"http://127.0.0.1:{web_port}/",
        ]
        pending = wait_ready(
            urls, timeout=STARTUP_TIMEOUT, alive=lambda: all(p.poll() is None for p in procs.values())
        )
        if pending:
            tails = "\n".join(
                f"--- {name}.log ---\n" + (logs / f"{name}.log").read_text(errors="replace")[-3000:]
                for name in procs
            )
            pytest.fail(f"servers did not start: {pending}\n{tails}")
        yield Stack(
            rasa_url=f"http://127.0.0.1:{rasa_port}",
            action_url=f"http://127.0.0.1:{action_port}",
            web_url=f"http://127.0.0.1:{web_port}",
            tracker_db=tmp / "tracker.db",
            logs=logs,
        )
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
