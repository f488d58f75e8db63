"""The staff console's doors, in headless Chromium against the running console: an
anonymous visitor gets the login page, an agent cannot open the admin pages, a request
without the CSRF token is refused, and five wrong passwords throttle the account."""

from __future__ import annotations

import secrets

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from devtools.stack import Stack

pytestmark = pytest.mark.integration
PASSWORD = "console doors password 1"


def _fresh(driver: webdriver.Chrome, stack: Stack) -> None:
    driver.get(stack.console_url + "/login")
    driver.delete_all_cookies()


def _log_in(driver: webdriver.Chrome, stack: Stack, username: str, password: str) -> None:
    """Submit the login form and wait for the answer page (leaving earlier could abort
    the request, and an attempt that never arrived is not counted)."""
    driver.get(stack.console_url + "/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.execute_script("window.__login_form = true;")
    driver.find_element(By.ID, "password").send_keys(password + Keys.ENTER)
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script(
            "return window.__login_form === undefined && document.readyState === 'complete';"
        )
    )


def test_an_anonymous_visitor_gets_the_login_page(stack: Stack, browser: webdriver.Chrome) -> None:
    _fresh(browser, stack)
    for path in ("/", "/callbacks", "/admin/audit"):
        browser.get(stack.console_url + path)
        assert browser.current_url.startswith(stack.console_url + "/login"), path
        assert browser.find_element(By.ID, "password").get_attribute("type") == "password"


def test_an_agent_cannot_open_admin_pages_nor_post_without_the_csrf_token(
    stack: Stack, browser: webdriver.Chrome
) -> None:
    agent = f"agent.{secrets.token_hex(3)}"
    stack.add_staff_user(agent, PASSWORD, role="agent")
    _fresh(browser, stack)
    _log_in(browser, stack, agent, PASSWORD)
    WebDriverWait(browser, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=current-user]"),
        "the login did not go through",
    )
    assert "Admin" not in [a.text for a in browser.find_elements(By.CSS_SELECTOR, "nav a")]
    for path in ("/admin/audit", "/admin/users"):
        browser.get(stack.console_url + path)
        assert "Not allowed" in browser.find_element(By.TAG_NAME, "main").text, path

    # A state-changing request from the page's own script, without the token: refused.
    status = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/logout', {method: 'POST', credentials: 'same-origin'}).then(r => done(r.status));"
    )
    assert status == 403
    browser.get(stack.console_url + "/")
    assert browser.find_elements(By.CSS_SELECTOR, "[data-testid=current-user]"), "still logged in"


def test_five_wrong_passwords_throttle_the_account(stack: Stack, browser: webdriver.Chrome) -> None:
    user = f"agent.{secrets.token_hex(3)}"
    stack.add_staff_user(user, PASSWORD, role="agent")
    _fresh(browser, stack)
    for _ in range(5):
        _log_in(browser, stack, user, "not the password")
        assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid=current-user]")
    _log_in(browser, stack, user, PASSWORD)  # even the right password, for a while

    def refused(driver: webdriver.Chrome) -> bool:
        text = driver.find_element(By.TAG_NAME, "body").text.lower()
        return "too many" in text or "try again" in text

    # The answer page may still be loading when the form's submit returns.
    WebDriverWait(browser, 10).until(refused)
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid=current-user]")
