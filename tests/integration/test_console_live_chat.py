"""Live chat through the staff console, in headless Chromium against the running assistant:
a customer asks for a person in the website widget; a member of staff logs in to the
console, finds the handoff, opens it, claims it and replies — the customer's widget shows
the reply; the customer answers and the staff page shows it without a reload; a suggested
reply goes into the reply box, unsent; staff end the chat — the customer is told, and their
next question gets its usual answer (no fallback, no new handoff). The page passes axe-core."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from devtools.stack import Stack
from tests.support import handoffs, sent_responses

from .conftest import chromium
from .test_widget import _axe_violations, _fresh_page, _open_chat, _say, _state, _texts

pytestmark = pytest.mark.integration

PASSWORD = "live chat password 1"
TARGET_SECONDS = 2.0  # a staff reply in the widget, a customer message on the staff page
POLL = 0.05


@pytest.fixture(scope="module")
def customer() -> Iterator[webdriver.Chrome]:
    """The customer's own Chromium (its own profile: storage apart from the staff's)."""
    with chromium("chromium-customer-") as driver:
        yield driver


def _log_in(driver: webdriver.Chrome, stack: Stack, username: str) -> None:
    driver.get(stack.console_url + "/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)
    WebDriverWait(driver, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=current-user]"),
        "the login did not go through",
    )


def _transcript(driver: webdriver.Chrome) -> list[tuple[str, str]]:
    lines: list[list[str]] = driver.execute_script(
        "return [...document.querySelectorAll('#transcript .line')].map("
        "  n => [n.dataset.kind, (n.querySelector('.line-text') || n).textContent.trim()])"
    )
    return [(kind, text) for kind, text in lines]


def _wait_for(driver: webdriver.Chrome, check: object, message: str, timeout: float) -> float:
    """Seconds until ``check(driver)`` holds (fails after ``timeout``)."""
    started = time.monotonic()
    WebDriverWait(driver, timeout, poll_frequency=POLL).until(check, message)  # type: ignore[arg-type]
    return time.monotonic() - started


def test_staff_answer_a_customer_in_the_widget_live_and_hand_back_to_the_assistant(
    stack: Stack, browser: webdriver.Chrome, customer: webdriver.Chrome
) -> None:
    staff = browser
    username = f"agent.{secrets.token_hex(3)}"
    stack.add_staff_user(username, PASSWORD, role="agent")

    # The customer asks for a person in the widget on the bank's help page.
    _fresh_page(customer, stack)
    _open_chat(customer)
    _say(customer, "my card payment was declined at a shop")
    _say(customer, "can I talk to a person in the chat please")
    sender = _state(customer)["sessionId"]
    [row] = handoffs(stack, sender)
    assert row.kind.value == "live_chat" and stack.tracker(sender)["paused"] is True
    reference = row.reference
    assert any(reference in text for text in _texts(customer, "bot")), "the customer has the reference"

    # Staff log in and find it in the queue, then open it.
    _log_in(staff, stack, username)
    staff.get(stack.console_url + "/")
    assert reference in staff.find_element(By.ID, "main").text
    staff.get(f"{stack.console_url}/handoffs/{reference}")
    assert (
        "asked for a person in the chat" in staff.find_element(By.CSS_SELECTOR, "[data-testid=reason]").text
    )
    said = [text for kind, text in _transcript(staff) if kind == "customer"]
    assert said == ["my card payment was declined at a shop", "can I talk to a person in the chat please"]
    assert staff.find_element(By.CSS_SELECTOR, "[data-testid=how-to-talk]").text
    assert "Open: claim it to reply." in staff.find_element(By.CSS_SELECTOR, "[data-testid=read-only]").text

    staff.find_element(By.CSS_SELECTOR, "[data-testid=claim]").click()
    box = WebDriverWait(staff, 10).until(lambda d: d.find_element(By.ID, "reply-text"))
    assert staff.find_element(By.CSS_SELECTOR, "[data-testid=assignee]").text == username
    staff.set_script_timeout(60)
    grave = [v for v in _axe_violations(staff) if v["impact"] in ("serious", "critical")]
    assert not grave, grave
    staff.execute_script("window.notReloaded = true;")

    # A suggested reply goes into the box for editing; nothing is sent by clicking it.
    greeting = staff.find_element(By.CSS_SELECTOR, "#suggestions button.suggestion")
    suggestion = greeting.get_attribute("data-text")
    assert suggestion and username.split(".")[0].capitalize() in suggestion
    before = len(_texts(customer, "bot"))
    greeting.click()
    assert box.get_attribute("value") == suggestion
    time.sleep(1)
    assert len(_texts(customer, "bot")) == before, "a suggestion is never sent by itself"

    # The staff reply reaches the customer's widget.
    box.clear()
    box.send_keys("Hello, I'm looking at the declined payment now.")
    staff.find_element(By.CSS_SELECTOR, "[data-testid=send-reply]").click()
    took = _wait_for(
        customer,
        lambda d: any("looking at the declined payment" in t for t in _texts(d, "bot")),
        "the staff reply did not reach the widget",
        timeout=10,
    )
    assert took <= TARGET_SECONDS, f"the reply took {took:.2f} s to reach the widget"
    shown = customer.find_elements(By.CSS_SELECTOR, ".bankchat-staff")
    assert shown and "looking at the declined payment" in shown[-1].text
    _wait_for(
        staff,
        lambda d: ("staff", "Hello, I'm looking at the declined payment now.") in _transcript(d),
        "the reply is not in the staff transcript",
        timeout=5,
    )
    assert box.get_attribute("value") == "", "the box is emptied once sent"

    # The customer answers: the staff page shows it live.
    customer.find_element(By.ID, "bankchat-input").send_keys(
        "thank you, it was at a supermarket" + Keys.ENTER
    )
    WebDriverWait(customer, 10).until(lambda d: _state(d)["outbox"] == 0)
    took = _wait_for(
        staff,
        lambda d: ("customer", "thank you, it was at a supermarket") in _transcript(d),
        "the customer's message did not appear on the staff page",
        timeout=10,
    )
    assert took <= TARGET_SECONDS, f"the customer's message took {took:.2f} s to reach the staff page"
    assert staff.execute_script("return window.notReloaded === true"), "no reload"
    assert staff.find_elements(By.CSS_SELECTOR, "#transcript .line-paused"), (
        "marked: sent while with a person"
    )

    # Staff end the chat: the customer is told and the assistant answers again.
    staff.find_element(By.CSS_SELECTOR, "[data-testid=end-chat]").click()
    WebDriverWait(staff, 5).until(lambda d: d.switch_to.alert).accept()
    WebDriverWait(staff, 20).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=handoff-status]").text == "done"
    )
    WebDriverWait(customer, 10, poll_frequency=POLL).until(
        lambda d: any("chat with our team has ended" in t for t in _texts(d, "bot")),
        "the customer was not told the chat ended",
    )
    assert stack.tracker(sender)["paused"] is False
    before = len(sent_responses(stack, sender))
    answer = _say(customer, "How do I change my PIN?")
    after = sent_responses(stack, sender)[before:]
    assert "utter_change_pin" in after and "utter_default" not in after, after
    assert "PIN" in answer
    assert len(handoffs(stack, sender)) == 1, "no new handoff after the chat ended"
    staff.refresh()
    assert ("customer", "How do I change my PIN?") in _transcript(staff)
    assert not staff.find_elements(By.ID, "reply-text"), "nothing more is sent from an ended chat"
