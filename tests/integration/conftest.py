"""Start the real action server, Rasa server and web chat on free loopback ports.

The model is the one ``scripts/train.sh`` builds (``make test`` trains before pytest).
One set of servers serves the whole integration session. ``browser`` is Debian's
headless Chromium, one per test module.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from bot.core.settings import PROJECT_ROOT
from devtools.stack import Stack, StackError
from tests.support import always_open_bank_config

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
    workdir = tmp_path_factory.mktemp("stack")
    try:
        running = Stack.start(
            model=model,
            workdir=workdir,
            credentials=PROJECT_ROOT / "tests" / "data" / "credentials_test.yml",
            env={
                "TWILIO_API_BASE": fake_twilio.url,
                "TELEGRAM_API_BASE": fake_telegram.url,
                "TELEGRAM_TOKEN": telegram.TOKEN,
                "TELEGRAM_BOT_NAME": telegram.BOT_NAME,
                "TELEGRAM_WEBHOOK_URL": telegram.WEBHOOK_URL,
                "TELEGRAM_SECRET_TOKEN": telegram.SECRET,
                "BANK_CONFIG": str(always_open_bank_config(workdir)),
            },
            seed=PROJECT_ROOT / "demo" / "customers.yml",
        )
    except StackError as exc:
        pytest.fail(f"servers did not start: {exc}")
    try:
        yield running
    finally:
        running.stop()


@contextlib.contextmanager
def chromium(prefix: str = "chromium-profile-") -> Iterator[webdriver.Chrome]:
    """Debian's headless Chromium with a profile of its own (storage apart from any other)."""
    binary, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not chromedriver:
        pytest.fail("chromium and chromedriver are required: scripts/system-deps.sh installs them")
    profile = tempfile.mkdtemp(prefix=prefix)
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1000,800",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    with chromium() as driver:
        yield driver
