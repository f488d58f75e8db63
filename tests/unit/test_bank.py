from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.bank import BankConfigError, load_bank_info
from bot.core.settings import DEFAULT_BANK_CONFIG, Settings

VALID = """
bank_name: Test Bank
app_name: Test app
website: https://bank.example
phone:
  main: "+44 1"
  cards: "+44 2"
  abroad: "+44 3"
hours:
  timezone: Europe/London
  text: "9 to 5"
"""


def test_shipped_bank_config_is_valid() -> None:
    info = load_bank_info(DEFAULT_BANK_CONFIG)
    assert set(info.template_vars()) == {
        "bank_name",
        "app_name",
        "website",
        "phone_main",
        "phone_direct",
        "phone_cards",
        "phone_abroad",
        "phone_relay",
        "hours",
        "timezone",
    }
    assert all(info.template_vars().values())


def test_loads_all_fields(tmp_path: Path) -> None:
    path = tmp_path / "bank.yml"
    path.write_text(VALID)
    info = load_bank_info(path)
    assert info.bank_name == "Test Bank"
    assert info.phone_cards == "+44 2"
    assert info.hours == "9 to 5"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (VALID.replace("bank_name: Test Bank", "bank_name: ''"), "bank_name"),
        (VALID.replace('  cards: "+44 2"\n', ""), "phone.cards"),
        (VALID.replace('  text: "9 to 5"', "  text: 5"), "hours.text"),
        ("phone: 1\n" + VALID.split("phone:")[0], "phone"),
    ],
)
def test_errors_name_file_and_field(tmp_path: Path, text: str, field: str) -> None:
    path = tmp_path / "bank.yml"
    path.write_text(text)
    with pytest.raises(BankConfigError) as err:
        load_bank_info(path)
    assert str(path) in str(err.value)
    assert repr(field) in str(err.value)


def test_a_customer_who_cannot_use_a_voice_call_gets_the_uk_lines_through_text_relay() -> None:
    info = load_bank_info(DEFAULT_BANK_CONFIG)
    for language, via in (("en", "via Relay UK"), ("es", "vía Relay UK"), ("fr", "via Relay UK")):
        plain, relayed = info.template_vars(language), info.template_vars(language, relay=True)
        assert plain["phone_cards"] == "+44 20 7946 0999"
        assert relayed["phone_cards"] == f"18001 020 7946 0999 {via}"
        assert relayed["phone_direct"].startswith("18001 020 7946 01")
        # The relay line itself, and everything else, is as it was.
        assert {k: v for k, v in relayed.items() if not k.startswith("phone_") or k == "phone_relay"} == {
            k: v for k, v in plain.items() if not k.startswith("phone_") or k == "phone_relay"
        }


def test_without_a_relay_prefix_or_for_a_line_abroad_the_number_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "bank.yml"
    path.write_text(VALID)
    assert load_bank_info(path).template_vars(relay=True)["phone_cards"] == "+44 2"
    path.write_text(VALID.replace("phone:\n", 'phone:\n  relay_prefix: "18001"\n  relay_via: by relay\n'))
    info = load_bank_info(path)
    assert info.template_vars(relay=True)["phone_cards"] == "18001 02 by relay"
    assert info.relayed("+33 1 23 45 67 89") == "+33 1 23 45 67 89"
    path.write_text(VALID.replace("phone:\n", "phone:\n  relay_prefix: dial\n"))
    with pytest.raises(BankConfigError, match=r"phone\.relay_prefix"):
        load_bank_info(path)


def test_missing_file_and_bad_yaml_are_reported(tmp_path: Path) -> None:
    with pytest.raises(BankConfigError, match="cannot read"):
        load_bank_info(tmp_path / "absent.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("bank_name: [unclosed")
    with pytest.raises(BankConfigError, match="not valid YAML"):
        load_bank_info(bad)


def test_settings_from_env_override(tmp_path: Path) -> None:
    settings = Settings.from_env({"BANK_CONFIG": str(tmp_path / "b.yml")})
    assert settings.bank_config == tmp_path / "b.yml"
    assert Settings.from_env({}).bank_config == DEFAULT_BANK_CONFIG
