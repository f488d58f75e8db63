"""The widget in headless Chromium when the bank speaks first or the server goes away: a
staff reply pushed to the open widget, and nothing typed lost while Rasa restarts."""

from __future__ import annotations

import time

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from bot.handoff.rasa_api import send_to_customer
from devtools.stack import Stack

from .test_widget import _fresh_page, _open_chat, _say, _state, _texts

pytestmark = pytest.mark.integration


def test_a_staff_reply_appears_in_the_open_widget(stack: Stack, browser: webdriver.Chrome) -> None:
    _fresh_page(browser, stack)
    _open_chat(browser)
    _say(browser, "how do I top up my account")
    session_id = _state(browser)["sessionId"]

    sent = time.monotonic()
    delivery = send_to_customer(
        session_id, "Hello, this is Sam from the team. I can see your top-up.", author_name="Sam",
        rasa_url=stack.rasa_url, token=stack.api_token,
    )  # fmt: skip
    assert delivery.delivered and delivery.channel == "socketio"
    WebDriverWait(browser, 5).until(lambda d: any("this is Sam" in t for t in _texts(d, "bot")))
    assert time.monotonic() - sent < 5
    staff = browser.find_elements(By.CSS_SELECTOR, ".bankchat-staff")
    assert staff and "this is Sam" in staff[-1].text


def test_nothing_typed_is_lost_while_rasa_restarts(stack: Stack, browser: webdriver.Chrome) -> None:
    _fresh_page(browser, stack)
    _open_chat(browser)
    _say(browser, "hello")
    session_id = _state(browser)["sessionId"]
    before = len(_texts(browser, "bot"))

    stack.procs["rasa"].terminate()
    stack.procs["rasa"].wait(timeout=30)
    WebDriverWait(browser, 20).until(lambda d: not _state(d)["connected"], "the widget did not notice")
    box = browser.find_element(By.ID, "bankchat-input")
    box.send_keys("my new card still has not arrived" + Keys.ENTER)
    assert _state(browser)["outbox"] == 1, "kept until the assistant has it"
    browser.refresh()  # even a reload while offline keeps it
    WebDriverWait(browser, 20).until(lambda d: _state(d).get("status"))
    assert _state(browser)["outbox"] == 1

    stack.restart("rasa")
    WebDriverWait(browser, 60).until(
        lambda d: _state(d)["outbox"] == 0 and any("working days" in t for t in _texts(d, "bot")),
        "the message typed while offline was not answered after the restart",
    )
    state = _state(browser)
    assert state["sessionId"] == session_id, "the same conversation after the restart"
    assert _texts(browser, "user").count("my new card still has not arrived") == 1
    assert len(_texts(browser, "bot")) > before
