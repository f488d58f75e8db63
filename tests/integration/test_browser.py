"""A person chatting in the web page, driven in Debian's headless Chromium."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from bot.core.bank import BankInfo
from devtools.stack import Stack

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    if not CHROMIUM or not CHROMEDRIVER:
        pytest.fail("chromium and chromedriver are required: scripts/system-deps.sh installs them")
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
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
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _send(driver: webdriver.Chrome, text: str) -> str:
    before = len(driver.find_elements(By.CSS_SELECTOR, ".msg.bot"))
    box = driver.find_element(By.ID, "text")
    box.send_keys(text)
    driver.find_element(By.ID, "send").click()
    WebDriverWait(driver, 60).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".msg.bot")) > before)
    bubbles = driver.find_elements(By.CSS_SELECTOR, ".msg.bot")
    return "\n".join(b.text for b in bubbles[before:])


def test_a_person_can_chat_in_the_web_page(
    stack: Stack, browser: webdriver.Chrome, bank: BankInfo, tmp_path_factory
) -> None:  # type: ignore[no-untyped-def]
    browser.get(stack.web_url + "/")
    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.ID, "text")))
    assert bank.bank_name in browser.title

    greeting = _send(browser, "hello")
    assert bank.bank_name in greeting

    answer = _send(browser, "my new card still has not arrived")
    assert "working days" in answer
    user_bubbles = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".msg.user")]
    assert user_bubbles == ["hello", "my new card still has not arrived"]

    _send(browser, "someone got hold of my card details and is using them")
    links = browser.find_elements(By.CSS_SELECTOR, '.msg.bot a[href^="tel:"]')
    cards_line = bank.template_vars("en")["phone_cards"]
    assert any(a.text == cards_line for a in links), [a.text for a in links]
    assert any(a.get_attribute("href") == "tel:" + cards_line.replace(" ", "") for a in links)
    browser.save_screenshot(str(tmp_path_factory.mktemp("shots") / "webchat.png"))
