"""``/``: the queue of open and claimed handoffs (a minimal list until the queue page
replaces it)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from bot.console.security import require_login
from bot.console.views import in_session, render
from bot.store.repository import HandoffRepository

routes = web.RouteTableDef()

QUEUE_LIMIT = 200


def _queue(session: Session) -> list[dict[str, Any]]:
    rows = HandoffRepository(session).queue(statuses=("open", "claimed"), limit=QUEUE_LIMIT)
    return [
        {
            "reference": h.reference,
            "kind": h.kind.value,
            "status": h.status.value,
            "created_at": h.created_at,
            "persona": h.persona,
            "language": h.language,
            "channel": h.channel,
            "reason": h.reason,
            "assignee": h.assignee,
        }
        for h in rows
    ]


@routes.get("/", name="queue")
@require_login
async def queue(request: web.Request) -> web.StreamResponse:
    handoffs = await in_session(request, _queue)
    return render(request, "queue/index.html", {"handoffs": handoffs, "limit": QUEUE_LIMIT})
