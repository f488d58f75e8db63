"""A stand-in for Twilio's REST API on loopback (Twilio lives outside this machine), and
Twilio's side of the inbound webhook.

``FakeTwilio`` accepts ``POST /2010-04-01/Accounts/{sid}/Messages.json`` with Twilio's form
fields (``To``, ``From`` and ``Body``, or ``ContentSid`` and ``ContentVariables`` for a
template) and answers with Twilio's message resource JSON, recording every message so
tests can read what a customer's phone would receive. ``fail_next`` makes the next
requests fail as Twilio does (error JSON with a status and an error code).

``send_inbound`` posts the inbound-message webhook form as Twilio does, signed with
``X-Twilio-Signature`` for the exact URL and form (the auth token of
``tests/data/credentials_test.yml`` unless told otherwise), optionally with media.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from twilio.request_validator import RequestValidator

TWILIO_NUMBER = "+15005550006"
ACCOUNT_SID = "ACtest0000000000000000000000000000"
TEST_AUTH_TOKEN = "test-token"  # tests/data/credentials_test.yml
WEBHOOK_PATH = "/webhooks/twilio/webhook"
_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")


class FakeTwilio:
    def __init__(self) -> None:
        self.messages: list[dict[str, str]] = []
        self.requests = 0
        self._failures: list[tuple[int, int]] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                match = _PATH.match(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = {
                    k: v[0]
                    for k, v in parse_qs(self.rfile.read(length).decode(), keep_blank_values=True).items()
                }
                with fake._lock:
                    fake.requests += 1
                    failure = fake._failures.pop(0) if fake._failures else None
                if failure:
                    status, code = failure
                    self._error(status, code, "Service unavailable" if status >= 500 else "Request refused")
                    return
                if not match or "To" not in form or not ("Body" in form or "ContentSid" in form):
                    self._error(400, 21604, "A 'To' and a 'Body' or 'ContentSid' are required")
                    return
                sid = "SM" + uuid.uuid4().hex
                record = {"to": form["To"], "from": form.get("From", ""), "body": form.get("Body", "")}
                if "ContentSid" in form:
                    record["content_sid"] = form["ContentSid"]
                    record["content_variables"] = form.get("ContentVariables", "")
                with fake._lock:
                    fake.messages.append(record)
                self._reply(
                    201,
                    {
                        "sid": sid, "account_sid": match["sid"], "to": form["To"], "from": form.get("From"),
                        "body": record["body"], "status": "queued", "direction": "outbound-api",
                        "num_segments": "1", "num_media": "0", "api_version": "2010-04-01",
                        "messaging_service_sid": None, "error_code": None, "error_message": None,
                        "price": None, "price_unit": "USD",
                        "uri": f"/2010-04-01/Accounts/{match['sid']}/Messages/{sid}.json",
                    },
                )  # fmt: skip

            def _error(self, status: int, code: int, message: str) -> None:
                self._reply(
                    status,
                    {
                        "code": code,
                        "message": message,
                        "more_info": f"https://www.twilio.com/docs/errors/{code}",
                        "status": status,
                    },
                )

            def _reply(self, status: int, body: dict[str, object]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> FakeTwilio:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, status: int, code: int, times: int = 1) -> None:
        """The next ``times`` message requests get Twilio's error ``code`` with ``status``."""
        with self._lock:
            self._failures += [(status, code)] * times

    def sent_to(self, number: str) -> list[str]:
        with self._lock:
            return [m["body"] for m in self.messages if m["to"] == number]

    def records_to(self, number: str) -> list[dict[str, str]]:
        """Everything sent to ``number``: to, from, body, and content_sid/content_variables."""
        with self._lock:
            return [dict(m) for m in self.messages if m["to"] == number]


def inbound_form(sender: str, body: str | None, *, media: Sequence[tuple[str, str]] = ()) -> dict[str, str]:
    """Twilio's inbound-message webhook form; ``media`` lists (content type, URL) pairs."""
    sid = ("MM" if media else "SM") + uuid.uuid4().hex
    form = {
        "ToCountry": "GB", "SmsMessageSid": sid, "NumMedia": str(len(media)),
        "SmsSid": sid, "SmsStatus": "received", "FromCountry": "GB",
        "To": TWILIO_NUMBER, "NumSegments": "1", "MessageSid": sid,
        "AccountSid": ACCOUNT_SID, "From": sender, "ApiVersion": "2010-04-01",
    }  # fmt: skip
    if sender.startswith("whatsapp:"):
        form.update(To="whatsapp:" + TWILIO_NUMBER, WaId=sender.removeprefix("whatsapp:+"))
    for i, (content_type, url) in enumerate(media):
        form[f"MediaContentType{i}"] = content_type
        form[f"MediaUrl{i}"] = url
    if body is not None:
        form["Body"] = body
    return form


def media_url(content_type: str = "image/jpeg") -> tuple[str, str]:
    """A (content type, URL) pair as Twilio sends for a photo the customer attached."""
    message, media = "MM" + uuid.uuid4().hex, "ME" + uuid.uuid4().hex
    return (
        content_type,
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{message}/Media/{media}",
    )


def signature(url: str, form: dict[str, str], auth_token: str = TEST_AUTH_TOKEN) -> str:
    """``X-Twilio-Signature`` of a POST of ``form`` to ``url``, computed as Twilio does."""
    return str(RequestValidator(auth_token).compute_signature(url, form))


def post_webhook(url: str, form: dict[str, str], headers: dict[str, str] | None = None) -> int:
    """POST ``form`` to ``url``; the HTTP status."""
    req = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return err.code


def send_inbound(
    rasa_url: str,
    sender: str,
    body: str | None,
    *,
    media: Sequence[tuple[str, str]] = (),
    sign: bool = True,
    auth_token: str = TEST_AUTH_TOKEN,
    signed_url: str | None = None,
) -> int:
    """POST Twilio's inbound-message webhook form, as Twilio sends it, signed.

    ``sign=False`` sends no signature; ``auth_token`` and ``signed_url`` (another URL than
    the one posted to) make a wrong one. Returns the HTTP status.
    """
    url = f"{rasa_url}{WEBHOOK_PATH}"
    form = inbound_form(sender, body, media=media)
    headers = {"X-Twilio-Signature": signature(signed_url or url, form, auth_token)} if sign else {}
    return post_webhook(url, form, headers)
