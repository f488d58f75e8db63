"""Start the real action server, Rasa server and web chat on free loopback ports.

The model is the one ``scripts/train.sh`` builds (``make test`` trains before pytest).
One set of servers serves the whole integration session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.settings import PROJECT_ROOT
from devtools.stack import Stack, StackError

from . import fake_telegram as telegram
from .fake_telegram import FakeTelegram
from .fake_twilio import FakeTwilio


@pytest.fixture(scope="session")
def model() -> Path:
    """The trained model (``MODEL_PATH``); the run fails without one."""
    path = Path(os.environ.get("MODEL_PATH", PROJECT_ROOT / "models" / "bank.tar.gz"))
    if not path.exists():
        pytest.fail(f"no trained model at {path}: run 'make train' (make test does it)")
    return path


@pytest.fixture(scope="session")
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="session")
def fake_telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    fake_twilio: FakeTwilio,
    fake_telegram: FakeTelegram,
    model: Path,
) -> Iterator[Stack]:
    try:
        running = Stack.start(
            model=model,
            workdir=tmp_path_factory.mktemp("stack"),
            credentials=PROJECT_ROOT / "tests" / "data" / "credentials_test.yml",
            env={
                "TWILIO_API_BASE": fake_twilio.url,
                "TELEGRAM_API_BASE": fake_telegram.url,
                "TELEGRAM_TOKEN": telegram.TOKEN,
                "TELEGRAM_BOT_NAME": telegram.BOT_NAME,
                "TELEGRAM_WEBHOOK_URL": telegram.WEBHOOK_URL,
                "TELEGRAM_SECRET_TOKEN": telegram.SECRET,
            },
            seed=PROJECT_ROOT / "demo" / "customers.yml",
        )
    except StackError as exc:
        pytest.fail(f"servers did not start: {exc}")
    try:
        yield running
    finally:
        running.stop()
