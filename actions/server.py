"""The action server, accepting calls from Rasa only.

``python -m actions --port 5055`` runs rasa-sdk's Sanic app with three guards:

* **Who calls.** ``POST /webhook`` and ``GET /actions`` need the shared secret
  ``ACTION_SERVER_TOKEN`` as ``Authorization: Bearer <token>`` — Rasa sends it from
  ``endpoints.yml`` (``action_endpoint.headers``). Anything else gets a 401 before rasa-sdk
  reads the request. ``GET /health`` (no data) stays open for readiness checks. The server
  refuses to start without a token.
* **What is sent.** A webhook body that is not a JSON object with a ``next_action`` and a
  ``tracker`` object gets a 400 naming the problem, instead of a crash inside rasa-sdk.
* **What is answered.** An unexpected error gets a 500 that says only that — never the
  request body (rasa-sdk's own handler echoes the tracker, with the customer's messages).
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
from collections.abc import Sequence
from typing import Any

from rasa_sdk.endpoint import create_app as create_sdk_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.core import logs
from bot.core.heap import freeze_loaded_objects

logger = logging.getLogger(__name__)
TOKEN_ENV = "ACTION_SERVER_TOKEN"  # noqa: S105 - the name of the variable
OPEN_PATHS = frozenset({"/health"})
# Bodies larger than this are refused (413) before they are read: a tracker of a long
# conversation is well under it.
MAX_BODY_BYTES = 1_000_000


def _authorised(request: Request, token: str) -> bool:
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


def _malformed(body: Any) -> str | None:
    """What is wrong with a webhook body, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if not isinstance(body.get("next_action"), str):
        return "next_action must be a string"
    if not isinstance(body.get("tracker"), dict):
        return "tracker must be an object"
    return None


def create_app(token: str, *, action_package: str = "actions") -> Sanic:
    """rasa-sdk's app for ``action_package`` behind the guards above."""
    if not token:
        raise ValueError(f"{TOKEN_ENV} is empty: the action server never runs without one")
    app: Sanic = create_sdk_app(action_package, cors_origins=[], auto_reload=False)
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES

    @app.on_request  # type: ignore[untyped-decorator]
    async def guard(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        if not _authorised(request, token):
            logger.warning("actions.unauthorised path=%s from=%s", request.path, request.ip)
            return response.json({"error": "unauthorised"}, status=401)
        if request.path == "/webhook" and request.method == "POST":
            if request.headers.get("content-encoding") == "deflate":
                return None  # rasa-sdk decompresses; the handler below catches what fails
            try:
                body = request.json
            except Exception:  # Sanic raises its own BadRequest subclasses
                return response.json({"error": "the body must be JSON"}, status=400)
            problem = _malformed(body)
            if problem:
                return response.json({"error": problem}, status=400)
        return None

    # Replaces rasa-sdk's handler, which echoes the request body in the response.
    @app.exception(Exception)  # type: ignore[untyped-decorator, no-untyped-call]
    async def failed(request: Request, exception: Exception) -> HTTPResponse:
        status = getattr(exception, "status_code", 500)
        if isinstance(status, int) and 400 <= status < 500:
            return response.json({"error": str(exception)}, status=status)
        logger.error("actions.failed path=%s", request.path, exc_info=exception)
        return response.json({"error": "the action failed"}, status=500)

    return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m actions", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--host", default=os.environ.get("SANIC_HOST", "127.0.0.1"))
    args = parser.parse_args(argv)
    logs.install()
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        raise SystemExit(
            f"python -m actions: set {TOKEN_ENV} (scripts/run.sh generates one into the var dir)"
        )
    app = create_app(token)
    freeze_loaded_objects("actions")  # bot.core.heap: no full collection walks what was loaded
    logger.info("actions.starting host=%s port=%d", args.host, args.port)
    app.run(args.host, args.port, workers=1, access_log=False)
