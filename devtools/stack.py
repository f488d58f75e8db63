"""Start the assistant's processes on free loopback ports (integration tests, benchmarks).

``Stack.start(model=...)`` runs the action server, the Rasa server (REST + socket.io, HTTP
API enabled), the web chat relay and the staff console with a private SQLite tracker store,
waits until all four answer, and ``stop()`` ends them. Logs go to ``<workdir>/log``.
``add_staff_user`` creates a console account in the stack's database.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.identity import issue_token
from bot.core.settings import PROJECT_ROOT
from devtools.readiness import wait_ready

DEFAULT_STARTUP_TIMEOUT = 240


class StackError(RuntimeError):
    """A process of the stack did not start; the message includes the end of its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def post_json(url: str, body: Any, timeout: float = 60) -> Any:
    req = urllib.request.Request(  # noqa: S310 (loopback URLs only)
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
        return json.loads(resp.read())


@dataclass
class Stack:
    workdir: Path
    rasa_url: str = ""
    action_url: str = ""
    web_url: str = ""
    console_url: str = ""
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    commands: dict[str, list[str]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    # Rasa's HTTP API token and the action server's secret, fresh for every stack.
    api_token: str = field(default_factory=lambda: secrets.token_hex(32))
    action_token: str = field(default_factory=lambda: secrets.token_hex(32))
    # The key the bank's website signs customer identity tokens with, and the widget's
    # session key.
    identity_key: str = field(default_factory=lambda: secrets.token_hex(32))
    session_key: str = field(default_factory=lambda: secrets.token_hex(32))

    @property
    def tracker_db(self) -> Path:
        return self.workdir / "tracker.db"

    @property
    def logs(self) -> Path:
        return self.workdir / "log"

    @classmethod
    def start(
        cls,
        *,
        model: Path,
        workdir: Path,
        endpoints: Path | None = None,
        credentials: Path | None = None,
        env: dict[str, str] | None = None,
        rasa_args: list[str] | None = None,
        seed: Path | None = None,
        timeout: float = DEFAULT_STARTUP_TIMEOUT,
    ) -> Stack:
        """Start the servers; the plugin's database (``DATABASE_URL``, default a SQLite file
        in ``workdir``) is migrated, spooled handoffs imported and ``seed`` loaded first."""
        stack = cls(workdir)
        stack.logs.mkdir(parents=True, exist_ok=True)
        rasa_port, action_port, web_port, console_port = free_port(), free_port(), free_port(), free_port()
        bin_dir = Path(sys.executable).parent
        full_env = {
            **os.environ,
            "PYTHONPATH": str(PROJECT_ROOT),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SANIC_HOST": "127.0.0.1",
            "SANIC_REQUEST_MAX_SIZE": "1000000",
            "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
            "TRACKER_DB": str(stack.tracker_db),
            "DATABASE_URL": f"sqlite:///{workdir / 'bank.db'}",
            "HANDOFF_SPOOL_DIR": str(workdir / "spool"),
            "RASA_AUTH_TOKEN": stack.api_token,
            "ACTION_SERVER_TOKEN": stack.action_token,
            "VAR_DIR": str(workdir),
            "CUSTOMER_IDENTITY_KEY": stack.identity_key,
            "WIDGET_SESSION_KEY": stack.session_key,
            "WIDGET_ORIGINS": f"http://127.0.0.1:{web_port},http://localhost:{web_port}",
            **(env or {}),
        }
        stack.env = full_env
        prepare = [[str(bin_dir / "python"), "-m", "bot", "db", "prepare"]]
        if seed is not None:
            prepare.append([str(bin_dir / "python"), "-m", "bot", "db", "seed", str(seed)])
        for cmd in prepare:
            done = subprocess.run(
                cmd, cwd=PROJECT_ROOT, env=full_env, capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                raise StackError(f"{' '.join(cmd[2:])} failed:\n{done.stdout}{done.stderr}")
        commands = {
            "actions": [
                str(bin_dir / "python"), "-m", "actions", "--port", str(action_port),
            ],
            "rasa": [
                str(bin_dir / "python"), "-m", "bot.rasa", "run", "--model", str(model),
                "--endpoints", str(endpoints or PROJECT_ROOT / "endpoints.yml"),
                "--credentials", str(credentials or PROJECT_ROOT / "credentials.yml"),
                "--interface", "127.0.0.1", "--port", str(rasa_port), "--enable-api",
                "--auth-token", stack.api_token, *(rasa_args or []),
            ],
            "webchat": [
                str(bin_dir / "python"), "-m", "bot", "webchat", "--port", str(web_port),
                "--rasa-url", f"http://127.0.0.1:{rasa_port}",
            ],
            "console": [
                str(bin_dir / "python"), "-m", "bot", "console", "--port", str(console_port),
                "--rasa-url", f"http://127.0.0.1:{rasa_port}",
            ],
        }  # fmt: skip
        stack.commands = commands
        try:
            for name in commands:
                stack._launch(name)
            stack.rasa_url = f"http://127.0.0.1:{rasa_port}"
            stack.action_url = f"http://127.0.0.1:{action_port}"
            stack.web_url = f"http://127.0.0.1:{web_port}"
            stack.console_url = f"http://127.0.0.1:{console_port}"
            urls = [
                f"{stack.rasa_url}/",
                f"{stack.action_url}/health",
                f"{stack.web_url}/",
                f"{stack.console_url}/login",
            ]
            pending = wait_ready(
                urls, timeout=timeout, alive=lambda: all(p.poll() is None for p in stack.procs.values())
            )
            if pending:
                raise StackError(f"not answering: {pending}\n{stack.log_tails()}")
        except BaseException:
            stack.stop()
            raise
        return stack

    def _launch(self, name: str) -> None:
        with (self.logs / f"{name}.log").open("ab") as out:
            self.procs[name] = subprocess.Popen(
                self.commands[name], cwd=PROJECT_ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def restart(self, name: str, *, timeout: float = DEFAULT_STARTUP_TIMEOUT) -> None:
        """Stop one process (``rasa``, ``actions``, ``webchat``, ``console``) and start it again on the
        same port, as after a deployment or a crash; returns once it answers."""
        proc = self.procs[name]
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self._launch(name)
        url = {
            "rasa": f"{self.rasa_url}/",
            "actions": f"{self.action_url}/health",
            "webchat": f"{self.web_url}/",
            "console": f"{self.console_url}/login",
        }
        pending = wait_ready([url[name]], timeout=timeout, alive=lambda: self.procs[name].poll() is None)
        if pending:
            raise StackError(f"{name} did not come back: {pending}\n{self.log_tails()}")

    def log_tails(self, chars: int = 3000) -> str:
        parts = []
        for name in self.procs:
            text = (self.logs / f"{name}.log").read_text(errors="replace")[-chars:]
            parts.append(f"--- {name}.log ---\n{text}")
        return "\n".join(parts)

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def add_staff_user(
        self, username: str, password: str, *, role: str = "agent", timezone: str | None = None
    ) -> None:
        """Create a staff console account in the stack's database (``python -m bot staff
        add-user``, the password passed in a file readable by this user only)."""
        secret = self.workdir / f".password-{secrets.token_hex(8)}"
        secret.touch(mode=0o600)
        secret.write_text(password + "\n", encoding="utf-8")
        cmd = [sys.executable, "-m", "bot", "staff", "add-user", username, "--role", role]
        cmd += ["--password-file", str(secret), *(["--timezone", timezone] if timezone else [])]
        try:
            done = subprocess.run(
                cmd, cwd=PROJECT_ROOT, env=self.env, capture_output=True, text=True, check=False
            )
        finally:
            secret.unlink(missing_ok=True)
        if done.returncode != 0:
            raise StackError(f"staff add-user {username} failed:\n{done.stdout}{done.stderr}")

    def identity_token(self, customer_id: str, *, ttl_seconds: int = 3600) -> str:
        """A token for ``customer_id`` as the bank's website would sign it."""
        return issue_token(customer_id, key=self.identity_key, ttl_seconds=ttl_seconds)

    def rest(self, sender: str, message: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """A message through the REST channel; a ``customer_id`` in ``metadata`` is sent
        as a signed identity token (as the bank's website vouches for its customer)."""
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata is not None:
            metadata = dict(metadata)
            if "customer_id" in metadata:
                metadata["identity_token"] = self.identity_token(str(metadata.pop("customer_id")))
            body["metadata"] = metadata
        replies: list[dict[str, Any]] = post_json(f"{self.rasa_url}/webhooks/rest/webhook", body)
        return replies

    def api(self, path: str) -> str:
        """The URL of Rasa's HTTP API ``path``, with the stack's token."""
        return f"{self.rasa_url}{path}?{urllib.parse.urlencode({'token': self.api_token})}"

    def tracker(self, sender: str) -> dict[str, Any]:
        url = self.api(f"/conversations/{sender}/tracker")
        with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310
            data: dict[str, Any] = json.loads(resp.read())
            return data
