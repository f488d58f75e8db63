"""A stand-in for Twilio's REST API on loopback (Twilio lives outside this machine).

Accepts ``POST /2010-04-01/Accounts/{sid}/Messages.json`` with Twilio's form fields
(``To``, ``From``, ``Body``) and answers with Twilio's message resource JSON, recording
every message so tests can read what a customer's phone would receive.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

TWILIO_NUMBER = "+15005550006"
_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")


class FakeTwilio:
    def __init__(self) -> None:
        self.messages: list[dict[str, str]] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                match = _PATH.match(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if not match or "To" not in form or "Body" not in form:
                    self._reply(
                        400, {"code": 21604, "message": "A 'To' and 'Body' are required", "status": 400}
                    )
                    return
                sid = "SM" + uuid.uuid4().hex
                with fake._lock:
                    fake.messages.append(
                        {"to": form["To"], "from": form.get("From", ""), "body": form["Body"]}
                    )
                self._reply(
                    201,
                    {
                        "sid": sid, "account_sid": match["sid"], "to": form["To"], "from": form.get("From"),
                        "body": form["Body"], "status": "queued", "direction": "outbound-api",
                        "num_segments": "1", "num_media": "0", "api_version": "2010-04-01",
                        "uri": f"/2010-04-01/Accounts/{match['sid']}/Messages/{sid}.json",
                    },
                )  # fmt: skip

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
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeTwilio:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def sent_to(self, number: str) -> list[str]:
        with self._lock:
            return [m["body"] for m in self.messages if m["to"] == number]


def send_inbound(rasa_url: str, sender: str, body: str | None) -> int:
    """POST Twilio's inbound-message webhook form, as Twilio sends it."""
    form = {
        "ToCountry": "GB", "SmsMessageSid": "SM" + uuid.uuid4().hex, "NumMedia": "0",
        "SmsSid": "SM" + uuid.uuid4().hex, "SmsStatus": "received", "FromCountry": "GB",
        "To": TWILIO_NUMBER, "NumSegments": "1", "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": "ACtest0000000000000000000000000000", "From": sender, "ApiVersion": "2010-04-01",
    }  # fmt: skip
    if body is not None:
        form["Body"] = body
    req = urllib.request.Request(
        f"{rasa_url}/webhooks/twilio/webhook",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return err.code
