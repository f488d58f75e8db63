"""``python -m bot staff …``: accounts from the command line, passwords never in argv."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.__main__ import build_parser, main
from bot.console.passwords import Passwords
from bot.store.db import Database
from bot.store.staff import StaffRepository

PASSWORD = "correct horse battery"


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bank.db'}"


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "password"
    path.write_text(PASSWORD + "\n", encoding="utf-8")
    return path


def staff(url: str, *args: str) -> int:
    return main(["staff", *args, "--database-url", url])


def stored(url: str, name: str) -> tuple[str, str, str, bool]:
    db = Database(url)
    try:
        with db.session() as s:
            u = StaffRepository(s).get_user(name)
            return u.password_hash, u.role.value, u.timezone, u.disabled
    finally:
        db.dispose()


def audit(url: str) -> list[tuple[str | None, str, str | None, dict[str, object]]]:
    db = Database(url)
    try:
        with db.session() as s:
            entries = StaffRepository(s).audit_page(limit=100).entries
            return [(e.actor, e.action, e.target, e.detail) for e in reversed(entries)]
    finally:
        db.dispose()


@pytest.fixture
def migrated(url: str) -> str:
    db = Database(url)
    db.upgrade()
    db.dispose()
    return url


def test_add_user_from_a_password_file(
    migrated: str, password_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        staff(migrated, "add-user", "Ana.B", "--role", "supervisor", "--password-file", str(password_file))
        == 0
    )
    assert "staff user ana.b added (supervisor, Europe/London)" in capsys.readouterr().out
    password_hash, role, timezone, disabled = stored(migrated, "ana.b")
    assert Passwords().verify(password_hash, PASSWORD) and PASSWORD not in password_hash
    assert (role, timezone, disabled) == ("supervisor", "Europe/London", False)
    assert audit(migrated) == [
        ("cli", "user.add", "ana.b", {"role": "supervisor", "timezone": "Europe/London"})
    ]


@pytest.mark.parametrize("option", ["--password", "--pass", "--password=" + PASSWORD])
def test_there_is_no_password_option_not_even_abbreviated(option: str) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["staff", "add-user", "ana", "--role", "agent", option, PASSWORD])


def test_an_existing_user_needs_reset_password(
    migrated: str, password_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    staff(migrated, "add-user", "ana", "--role", "agent", "--password-file", str(password_file))
    first_hash = stored(migrated, "ana")[0]
    assert staff(migrated, "add-user", "ana", "--role", "agent", "--password-file", str(password_file)) == 1
    assert "exists already" in capsys.readouterr().err
    new = tmp_path / "new"
    new.write_text("another long password", encoding="utf-8")
    assert (
        staff(migrated, "add-user", "ana", "--reset-password", "--role", "admin", "--password-file", str(new))
        == 0
    )
    password_hash, role, _, _ = stored(migrated, "ana")
    assert password_hash != first_hash and Passwords().verify(password_hash, "another long password")
    assert role == "admin"
    assert audit(migrated)[-1] == ("cli", "user.password_reset", "ana", {"role": "admin"})


@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        (["--role", "agent"], "short", "at least 12 characters"),
        (["--role", "agent"], "", "at least 12 characters"),
        ([], PASSWORD, "needs --role"),
        (["--role", "agent", "--timezone", "Moon/Base"], PASSWORD, "unknown timezone 'Moon/Base'"),
    ],
)
def test_bad_accounts_are_refused_with_the_reason(
    migrated: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    content: str,
    message: str,
) -> None:
    path = tmp_path / "pw"
    path.write_text(content, encoding="utf-8")
    assert staff(migrated, "add-user", "bob", *args, "--password-file", str(path)) == 1
    err = capsys.readouterr().err
    assert message in err
    if len(content) >= 12:
        assert content not in err, "the password is never echoed"
    assert audit(migrated) == []


def test_bad_usernames_and_missing_files(migrated: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert staff(migrated, "add-user", "no spaces", "--role", "agent", "--password-file", "/nonexistent") == 1
    assert "invalid username 'no spaces'" in capsys.readouterr().err
    assert staff(migrated, "add-user", "bob", "--role", "agent", "--password-file", "/nonexistent/pw") == 1
    assert "cannot read the password file /nonexistent/pw" in capsys.readouterr().err


def test_the_password_prompt_asks_twice(
    migrated: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert staff(migrated, "add-user", "bob", "--role", "agent") == 1
    assert "the two passwords differ" in capsys.readouterr().err
    answers = iter([PASSWORD, PASSWORD])
    assert staff(migrated, "add-user", "bob", "--role", "agent", "--timezone", "Europe/Madrid") == 0
    assert stored(migrated, "bob")[2] == "Europe/Madrid"


def test_list_and_disable(migrated: str, password_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, role in (("ana", "agent"), ("ada", "admin")):
        staff(migrated, "add-user", name, "--role", role, "--password-file", str(password_file))
    capsys.readouterr()
    assert staff(migrated, "disable", "ana") == 0
    assert "ana disabled" in capsys.readouterr().out
    assert stored(migrated, "ana")[3] is True
    assert staff(migrated, "list", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["username"], r["role"], r["disabled"]) for r in rows] == [
        ("ada", "admin", False),
        ("ana", "agent", True),
    ]
    assert staff(migrated, "disable", "nobody") == 1
    assert "no staff user 'nobody'" in capsys.readouterr().err
    assert audit(migrated)[-1][:3] == ("cli", "user.disable", "ana")
