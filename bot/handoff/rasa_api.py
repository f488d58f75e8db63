"""What staff tooling calls: the handoff workflow and resuming the assistant.

A live-chat handoff pauses the assistant (``ConversationPaused``); when the member of
staff is done, ``resume_conversation`` posts ``ConversationResumed`` through Rasa's HTTP
API (``rasa run --enable-api``; with ``--auth-token`` pass the same token) and the
assistant answers again.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request

from bot.core.settings import Settings

logger = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 10.0


class RasaApiError(RuntimeError):
    """Rasa's HTTP API refused or could not be reached; the message says which and why."""


def resume_conversation(
    sender_id: str,
    *,
    rasa_url: str | None = None,
    token: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> None:
    """Let the assistant answer ``sender_id`` again after a live-chat handoff.

    Raises:
        RasaApiError: Rasa answered with an error status or could not be reached.
    """
    settings = Settings.from_env()
    base = (rasa_url or settings.rasa_url).rstrip("/")
    token = token if token is not None else settings.rasa_token
    url = f"{base}/conversations/{urllib.parse.quote(sender_id, safe='')}/tracker/events"
    if token:
        url += "?" + urllib.parse.urlencode({"token": token})
    # Resumed, then listening: the next message is read as after any answer (without the
    # action_listen, no rule matches it and the policies fall back into a new handoff).
    body = json.dumps([{"event": "resume"}, {"event": "action", "name": "action_listen"}]).encode("utf-8")
    if not base.startswith(("http://", "https://")):
        raise RasaApiError(f"Rasa URL must be http(s), got {base!r}")
    request = urllib.request.Request(  # noqa: S310 (http(s) checked above)
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:300]
        raise RasaApiError(f"Rasa refused to resume {sender_id!r}: HTTP {exc.code} {detail}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise RasaApiError(f"cannot reach Rasa at {base}: {exc}") from exc
    logger.info("handoff.resumed sender=%s", sender_id)
