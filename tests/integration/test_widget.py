"""The website chat widget in headless Chromium, on the demo help page, against the real
stack (socket.io to Rasa): chatting, quick replies, reloads, languages, phones, axe-core."""

from __future__ import annotations

from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from bot.core.bank import BankInfo
from bot.core.settings import PROJECT_ROOT
from devtools.stack import Stack

pytestmark = pytest.mark.integration
AXE = PROJECT_ROOT / "tests" / "vendor" / "axe.min.js"
DESKTOP = (1000, 800)
PHONE = (375, 740)
ANSWER_SECONDS = 60


def _state(driver: webdriver.Chrome) -> dict[str, Any]:
    state: dict[str, Any] = driver.execute_script("return window.BankChat ? BankChat.state() : {}")
    return state


def _fresh_page(driver: webdriver.Chrome, stack: Stack, fragment: str = "") -> None:
    """The help page for a new visitor (no stored session), at desktop size."""
    driver.set_window_size(*DESKTOP)
    driver.get(stack.web_url + "/page.css")  # this origin, without a widget that could store again
    driver.execute_script("localStorage.clear(); sessionStorage.clear();")
    driver.get(stack.web_url + "/" + fragment)
    WebDriverWait(driver, 20).until(lambda d: _state(d).get("status"))


def _open_chat(driver: webdriver.Chrome) -> None:
    launcher = driver.find_element(By.CSS_SELECTOR, ".bankchat-launcher")
    assert launcher.get_attribute("aria-expanded") == "false"
    launcher.click()
    assert launcher.get_attribute("aria-expanded") == "true"
    WebDriverWait(driver, 30).until(lambda d: _state(d).get("ready"), "the widget did not connect")


def _texts(driver: webdriver.Chrome, who: str) -> list[str]:
    texts: list[str] = driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map("
        "  n => [...n.querySelectorAll('p')].map(p => p.textContent).join('\\n\\n'))",
        f".bankchat-{who}",
    )
    return texts


def _say(driver: webdriver.Chrome, text: str) -> str:
    """Type ``text`` and press Enter; the assistant's answers to it, once it is handled."""
    before = len(_texts(driver, "bot"))
    box = driver.find_element(By.ID, "bankchat-input")
    box.send_keys(text + Keys.ENTER)
    WebDriverWait(driver, ANSWER_SECONDS).until(
        lambda d: _state(d)["outbox"] == 0 and len(_texts(d, "bot")) > before, f"no answer to {text!r}"
    )
    assert driver.switch_to.active_element == box, "focus stays in the text box after sending"
    return "\n".join(_texts(driver, "bot")[before:])


def _root_lang(driver: webdriver.Chrome) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, ".bankchat-root").get_attribute("lang"))


def test_a_customer_chats_in_the_widget(stack: Stack, browser: webdriver.Chrome, bank: BankInfo) -> None:
    _fresh_page(browser, stack)
    assert bank.bank_name in browser.title
    _open_chat(browser)
    assert browser.switch_to.active_element.get_attribute("id") == "bankchat-input", "opening focuses the box"
    notice = browser.find_element(By.CSS_SELECTOR, ".bankchat-notice").text
    assert "Never share card numbers, PINs or passwords here" in notice

    WebDriverWait(browser, 20).until(lambda d: _texts(d, "bot"), "no welcome")
    assert bank.bank_name in _texts(browser, "bot")[0], "the welcome names the bank"
    hello = _say(browser, "hello")
    assert hello and bank.bank_name not in hello, "a short hello back, not the welcome again"
    assert "working days" in _say(browser, "my new card still has not arrived")
    assert _texts(browser, "user") == ["hello", "my new card still has not arrived"]
    status = browser.find_element(By.CSS_SELECTOR, ".bankchat-status")
    assert status.get_attribute("role") == "status" and status.text == "Connected"

    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    launcher = browser.find_element(By.CSS_SELECTOR, ".bankchat-launcher")
    assert not _state(browser)["open"] and launcher.get_attribute("aria-expanded") == "false"
    assert browser.switch_to.active_element == launcher, "Escape returns focus to the launcher"


def test_quick_replies_send_their_payload_and_show_their_title(
    stack: Stack, browser: webdriver.Chrome
) -> None:
    _fresh_page(browser, stack)
    _open_chat(browser)
    _say(browser, "my new card still has not arrived")
    buttons = browser.find_elements(By.CSS_SELECTOR, ".bankchat-replies button")
    assert buttons, "the answer offers quick replies"
    title = buttons[0].text
    before = len(_texts(browser, "bot"))
    buttons[0].click()
    assert not browser.find_elements(By.CSS_SELECTOR, ".bankchat-replies"), "the buttons go once used"
    assert browser.switch_to.active_element.get_attribute("id") == "bankchat-input"
    WebDriverWait(browser, ANSWER_SECONDS).until(
        lambda d: _state(d)["outbox"] == 0 and len(_texts(d, "bot")) > before
    )
    assert _texts(browser, "user")[-1] == title
    assert not any(text.startswith("/") for text in _texts(browser, "user")), "payloads are not shown"


def test_a_reload_shows_the_same_conversation(stack: Stack, browser: webdriver.Chrome) -> None:
    _fresh_page(browser, stack)
    _open_chat(browser)
    _say(browser, "hello")
    _say(browser, "my new card still has not arrived")
    session = _state(browser)["sessionId"]
    users, bots = _texts(browser, "user"), _texts(browser, "bot")

    browser.refresh()
    WebDriverWait(browser, 30).until(lambda d: _state(d).get("ready"))
    assert _state(browser)["open"], "the panel stays open across a reload"
    assert _state(browser)["sessionId"] == session
    assert browser.execute_script("return localStorage.getItem('bankchat.session')") == session
    assert _texts(browser, "user") == users
    assert _texts(browser, "bot")[-1] == bots[-1]
    assert len(_texts(browser, "bot")) <= len(bots), "history replaces, never duplicates"


def test_the_widget_follows_the_conversation_into_spanish(stack: Stack, browser: webdriver.Chrome) -> None:
    _fresh_page(browser, stack)
    _open_chat(browser)
    assert _root_lang(browser) == "en"
    answer = _say(browser, "hola, no me ha llegado la tarjeta")
    assert "días hábiles" in answer
    WebDriverWait(browser, 10).until(lambda d: _root_lang(d) == "es")
    assert _state(browser)["lang"] == "es"
    assert browser.find_element(By.CSS_SELECTOR, ".bankchat-send").text == "Enviar"
    assert browser.find_element(By.ID, "bankchat-input").get_attribute("placeholder") == "Escriba su mensaje…"
    notice = browser.find_element(By.CSS_SELECTOR, ".bankchat-notice").text
    assert notice.startswith("Nunca comparta aquí números de tarjeta")
    assert browser.find_element(By.CSS_SELECTOR, "label[for=bankchat-input]").get_attribute(
        "textContent"
    ) == ("Su mensaje")


def test_the_widget_speaks_french_when_the_page_asks(stack: Stack, browser: webdriver.Chrome) -> None:
    _fresh_page(browser, stack, "#lang=fr")
    launcher = browser.find_element(By.CSS_SELECTOR, ".bankchat-launcher")
    assert launcher.get_attribute("aria-label") == "Ouvrir la discussion"
    _open_chat(browser)
    assert _root_lang(browser) == "fr"
    assert browser.find_element(By.CSS_SELECTOR, ".bankchat-send").text == "Envoyer"
    assert browser.find_element(By.CSS_SELECTOR, ".bankchat-status").text == "Connecté"
    assert "Ne communiquez jamais ici" in browser.find_element(By.CSS_SELECTOR, ".bankchat-notice").text
    assert "jours ouvrés" in _say(browser, "ma nouvelle carte n'est toujours pas arrivée")


def test_a_logged_in_customer_is_known_by_the_token_in_the_page(
    stack: Stack, browser: webdriver.Chrome
) -> None:
    _fresh_page(browser, stack, "#identity=" + stack.identity_token("lucia.g"))
    _open_chat(browser)
    assert "Lucía" in _say(browser, "hi"), "greeted by name from the profile"
    WebDriverWait(browser, 10).until(lambda d: _root_lang(d) == "es")

    forged = stack.identity_token("lucia.g")[:-4] + "AAAA"
    _fresh_page(browser, stack, "#identity=" + forged)
    _open_chat(browser)
    assert "Lucía" not in _say(browser, "hi"), "a forged token is an anonymous visitor"


def test_phone_numbers_in_answers_are_links(stack: Stack, browser: webdriver.Chrome, bank: BankInfo) -> None:
    _fresh_page(browser, stack)
    _open_chat(browser)
    _say(browser, "someone got hold of my card details and is using them")
    links = browser.find_elements(By.CSS_SELECTOR, '.bankchat-bot a[href^="tel:"]')
    cards_line = bank.template_vars("en")["phone_cards"]
    assert any(a.text == cards_line for a in links), [a.text for a in links]
    assert any(a.get_attribute("href") == "tel:" + cards_line.replace(" ", "") for a in links)


def test_on_a_phone_the_panel_fills_the_screen(
    stack: Stack, browser: webdriver.Chrome, tmp_path_factory: pytest.TempPathFactory
) -> None:
    _fresh_page(browser, stack)
    browser.set_window_size(*PHONE)
    _open_chat(browser)
    _say(browser, "my new card still has not arrived")
    geometry = browser.execute_script(
        "const r = document.querySelector('.bankchat-panel').getBoundingClientRect();"
        "const box = document.getElementById('bankchat-input').getBoundingClientRect();"
        "const log = document.querySelector('.bankchat-log');"
        "const page = document.documentElement;"  # the viewport less any scrollbar
        "return {left: r.left, top: r.top, width: r.width, height: r.height, vw: page.clientWidth,"
        "  vh: page.clientHeight, boxBottom: box.bottom, overflow: log.scrollWidth - log.clientWidth};"
    )
    assert geometry["left"] == 0 and geometry["top"] == 0
    assert geometry["width"] == geometry["vw"] and abs(geometry["height"] - geometry["vh"]) <= 1
    assert geometry["boxBottom"] <= geometry["vh"], "the text box is on screen"
    assert geometry["overflow"] <= 0, "messages and buttons wrap"
    shot = tmp_path_factory.mktemp("shots") / "widget-phone.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 0


def _axe_violations(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    violations: list[dict[str, Any]] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        "  .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,"
        "    nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}))))"
        "  .catch(e => done([{id: 'axe-error', impact: 'critical', nodes: [String(e)]}]));"
    )
    return violations


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_serious_accessibility_violations_with_the_chat_open(
    stack: Stack, browser: webdriver.Chrome, size: tuple[int, int]
) -> None:
    _fresh_page(browser, stack)
    browser.set_window_size(*size)
    _open_chat(browser)
    _say(browser, "someone got hold of my card details and is using them")
    _say(browser, "my new card still has not arrived")
    assert browser.find_elements(By.CSS_SELECTOR, ".bankchat-replies button")
    log = browser.find_element(By.CSS_SELECTOR, ".bankchat-log")
    assert log.get_attribute("role") == "log" and log.get_attribute("aria-live") == "polite"
    browser.set_script_timeout(60)
    violations = _axe_violations(browser)
    grave = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not grave, grave
