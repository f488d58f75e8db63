"""``python -m bot console``: serve the staff console.
``python -m bot staff add-user | list | disable``: staff accounts (audited, actor ``cli``).

A password is typed at a prompt (twice) or read from a file (``--password-file``; its
first line), never given on the command line, where other users of the machine could
read it.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
from pathlib import Path
from typing import Any

from bot.console.passwords import PasswordPolicyError, Passwords, check_password
from bot.core.commands import CommandError, reported
from bot.core.settings import Settings
from bot.handoff.service import ServiceConfigError, load_service_policy
from bot.store.cli import database, database_option
from bot.store.repository import NotFound
from bot.store.staff import (
    CLI_ACTOR,
    DEFAULT_STAFF_TIMEZONE,
    StaffError,
    StaffRepository,
    check_role,
    check_timezone,
    normalise_username,
)


def default_timezone(settings: Settings) -> str:
    """The bank's timezone (``service.timezone`` in bank.yml), else Europe/London."""
    try:
        return str(load_service_policy(settings.bank_config).timezone.key)
    except ServiceConfigError:
        return DEFAULT_STAFF_TIMEZONE


def _cmd_console(args: argparse.Namespace) -> int:
    from bot.console.app import create_app, serve
    from bot.console.views import ConsoleConfig

    settings = Settings.from_env()
    config = ConsoleConfig(
        rasa_url=args.rasa_url or settings.rasa_url,
        rasa_token=settings.rasa_token,
        secure_cookies=args.secure_cookies or settings.console_secure_cookies,
        trust_proxy=args.trust_proxy or settings.console_trust_proxy,
        default_timezone=default_timezone(settings),
        bank_config=settings.bank_config,
        tracker_store_url=settings.tracker_store_url,
    )
    app = create_app(database=database(args), config=config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    serve(app, host=args.host, port=args.port)
    return 0


def read_password(password_file: str | None) -> str:
    """The password from the file's first line, or typed twice at a prompt."""
    if password_file:
        try:
            text = Path(password_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read the password file {password_file}: {exc}") from exc
        lines = text.splitlines()
        password = lines[0] if lines else ""
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise CommandError("the two passwords differ")
    with reported(PasswordPolicyError):
        return check_password(password)


def _cmd_add_user(args: argparse.Namespace) -> int:
    with reported(StaffError):
        username = normalise_username(args.name)
    db = database(args)
    with db.session() as session:
        existing = StaffRepository(session).user(username)
    if existing is not None and not args.reset_password:
        raise CommandError(f"staff user {username!r} exists already (--reset-password sets a new password)")
    if existing is None and not args.role:
        raise CommandError("a new staff user needs --role (agent, supervisor or admin)")
    password_hash = Passwords().hash(read_password(args.password_file))
    with reported(StaffError, NotFound), db.session() as session:
        repo = StaffRepository(session)
        if existing is None:
            timezone = args.timezone or default_timezone(Settings.from_env())
            user = repo.add_user(username, password_hash=password_hash, role=args.role, timezone=timezone)
            repo.audit(
                "user.add",
                actor=CLI_ACTOR,
                target=username,
                detail={"role": user.role.value, "timezone": timezone},
            )
            print(f"staff user {username} added ({user.role.value}, {timezone})")
            return 0
        user = repo.set_password(username, password_hash)
        changes: dict[str, Any] = {}
        if args.role and args.role != user.role.value:
            user.role = check_role(args.role)
            changes["role"] = args.role
        if args.timezone and args.timezone != user.timezone:
            user.timezone = check_timezone(args.timezone)
            changes["timezone"] = args.timezone
        repo.audit("user.password_reset", actor=CLI_ACTOR, target=username, detail=changes)
    print(f"staff user {username}: password reset, sessions ended")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    with database(args).session() as session:
        rows = [
            {
                "username": u.username,
                "role": u.role.value,
                "timezone": u.timezone,
                "disabled": u.disabled,
                "created_at": u.created_at.isoformat(),
                "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
            }
            for u in StaffRepository(session).users()
        ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        state = "disabled" if r["disabled"] else "active"
        print(f"{r['username']:<24} {r['role']:<10} {state:<8} {r['timezone']}")
    print(f"{len(rows)} staff user{'' if len(rows) == 1 else 's'}")
    return 0


def _cmd_disable(args: argparse.Namespace) -> int:
    with reported(NotFound), database(args).session() as session:
        repo = StaffRepository(session)
        user = repo.disable(args.name)
        repo.audit("user.disable", actor=CLI_ACTOR, target=user.username)
        name = user.username
    print(f"staff user {name} disabled; their sessions ended")
    return 0


def add_commands(sub: Any) -> None:
    """Register the ``console`` and ``staff`` commands on the main parser."""
    common = database_option()
    console = sub.add_parser("console", parents=[common], help="serve the staff console (web)")
    console.add_argument("--host", default="127.0.0.1")
    console.add_argument("--port", type=int, default=8090)
    console.add_argument("--rasa-url", help="Rasa's HTTP API (default: $RASA_URL or http://127.0.0.1:5005)")
    console.add_argument(
        "--secure-cookies",
        action="store_true",
        help="cookies over HTTPS only (behind an HTTPS proxy; also CONSOLE_SECURE_COOKIES=1)",
    )
    console.add_argument(
        "--trust-proxy",
        action="store_true",
        help="behind the bank's reverse proxy: client address from X-Forwarded-For "
        "(also CONSOLE_TRUST_PROXY=1)",
    )
    console.set_defaults(func=_cmd_console)

    staff = sub.add_parser("staff", help="staff console accounts").add_subparsers(
        dest="staff_command", required=True
    )
    add = staff.add_parser(
        "add-user",
        parents=[common],
        allow_abbrev=False,  # "--password SECRET" must not pass for --password-file
        help="add a staff account (the password is typed at a prompt or read from --password-file)",
    )
    add.add_argument("name", help="username: 2-64 of a-z 0-9 . _ -")
    add.add_argument("--role", choices=["agent", "supervisor", "admin"])
    add.add_argument("--timezone", help="IANA name (default: the bank's timezone)")
    add.add_argument("--password-file", help="read the password from this file's first line")
    add.add_argument("--reset-password", action="store_true", help="the user exists: set a new password")
    add.set_defaults(func=_cmd_add_user)
    listing = staff.add_parser("list", parents=[common], help="staff accounts")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_cmd_list)
    disable = staff.add_parser("disable", parents=[common], help="disable an account and end its sessions")
    disable.add_argument("name")
    disable.set_defaults(func=_cmd_disable)
