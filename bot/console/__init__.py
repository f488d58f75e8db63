"""The staff console: a web app for the handoff queue, live chats and administration.

Pages use ``require_login`` / ``require_role`` / ``public`` (bot.console.security) and
``render``, ``in_session``, ``audit``, ``record`` (bot.console.views); see docs/console.md.
"""

from bot.console.security import Staff, current_staff, public, require_login, require_role, staff_of
from bot.console.views import ConsoleConfig, audit, in_session, record, render, see_other, url_for

__all__ = [
    "ConsoleConfig",
    "Staff",
    "audit",
    "current_staff",
    "in_session",
    "public",
    "record",
    "render",
    "require_login",
    "require_role",
    "see_other",
    "staff_of",
    "url_for",
]
