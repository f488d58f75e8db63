"""Load customers from a YAML file (demo data, or a CRM export): ``python -m bot db seed FILE``.

    customers:
      - ref: C-1001                    # the CRM's customer id (unique)
        name: Margaret                 # how to address them (optional)
        preferred_language: en
        preferred_channel: phone
        persona: phone_first           # optional: assigned by staff/CRM
        accessibility_needs: [vision]
        consent_to_calls: true         # optional; false = never call
        timezone: Europe/London        # optional
        identities:                    # how the assistant recognises them
          web: margaret.w              # website customer id
          telegram: "123456789"        # Telegram user id
          phone: "+44 7911 123456"     # SMS / WhatsApp number (stored as E.164)
        contact_history: {phone: 12, branch: 3}   # past contacts per channel

Seeding is idempotent: a customer with the same ``ref`` is updated, its identities and
contact history replaced. Errors name the file, the customer and the field; nothing is
written when any customer is invalid.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import delete

from bot.core.channels import IdentityKind
from bot.core.phones import parse_phone
from bot.persona.profile import Profile, ProfileError
from bot.store.db import Database
from bot.store.models import ChannelIdentity, Contact, Customer
from bot.store.repository import CustomerRepository

CUSTOMER_KEYS = frozenset(
    {
        "ref", "name", "preferred_language", "preferred_channel", "persona", "accessibility_needs",
        "consent_to_calls", "timezone", "identities", "contact_history",
    }
)  # fmt: skip


class SeedError(ValueError):
    """The seed file is invalid; the message names the file, the customer and the field."""


@dataclass(frozen=True)
class CustomerRecord:
    ref: str
    profile: Profile
    identities: dict[IdentityKind, str]


def parse_seed(path: Path, *, personas: Collection[str], region: str = "GB") -> list[CustomerRecord]:
    """Read and validate a seed file (raises SeedError)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SeedError(f"{path}: cannot read: {exc}") from exc
    customers = data.get("customers") if isinstance(data, dict) else None
    if not isinstance(customers, list):
        raise SeedError(f"{path}: expected a top-level 'customers:' list")
    records: list[CustomerRecord] = []
    seen: set[str] = set()
    seen_ids: dict[tuple[IdentityKind, str], str] = {}
    for index, raw in enumerate(customers, start=1):
        where = f"{path}: customer #{index}"
        if not isinstance(raw, Mapping):
            raise SeedError(f"{where}: expected a mapping")
        ref = raw.get("ref")
        if not isinstance(ref, str) or not ref.strip():
            raise SeedError(f"{where}: field 'ref' must be a non-empty string")
        ref = ref.strip()
        where = f"{path}: customer {ref!r}"
        if ref in seen:
            raise SeedError(f"{where}: duplicate ref")
        seen.add(ref)
        unknown = sorted(set(raw) - CUSTOMER_KEYS)
        if unknown:
            raise SeedError(f"{where}: unknown field {unknown[0]!r}; use {', '.join(sorted(CUSTOMER_KEYS))}")
        profile_data = {k: v for k, v in raw.items() if k not in ("ref", "identities")}
        try:
            profile = Profile.from_mapping(profile_data, strict=True)
        except ProfileError as exc:
            raise SeedError(f"{where}: {exc}") from exc
        if profile.persona is not None and profile.persona not in personas:
            raise SeedError(f"{where}: field 'persona': unknown persona {profile.persona!r}")
        identities: dict[IdentityKind, str] = {}
        raw_ids = raw.get("identities") or {}
        if not isinstance(raw_ids, Mapping):
            raise SeedError(f"{where}: field 'identities' must be a mapping of channel to id")
        for channel, value in raw_ids.items():
            try:
                kind = IdentityKind(channel)
            except ValueError:
                names = ", ".join(c.value for c in IdentityKind)
                raise SeedError(
                    f"{where}: field 'identities.{channel}': unknown channel; use {names}"
                ) from None
            if not isinstance(value, (str, int)) or not str(value).strip():
                raise SeedError(f"{where}: field 'identities.{channel}' must be a non-empty string")
            external = str(value).strip()
            if kind is IdentityKind.phone:
                number = parse_phone(external, region=region)
                if number is None:
                    raise SeedError(f"{where}: field 'identities.phone': {external!r} is not a valid number")
                external = number.e164
            if (kind, external) in seen_ids:
                other = seen_ids[(kind, external)]
                raise SeedError(
                    f"{where}: field 'identities.{channel}': {external!r} already belongs to {other!r}"
                )
            seen_ids[(kind, external)] = ref
            identities[kind] = external
        records.append(CustomerRecord(ref, profile, identities))
    return records


def seed_customers(database: Database, records: list[CustomerRecord]) -> tuple[int, int]:
    """Write the customers in one transaction; (created, updated)."""
    created = updated = 0
    now = dt.datetime.now(dt.timezone.utc)
    with database.session() as session:
        repo = CustomerRepository(session)
        for record in records:
            customer = repo.by_ref(record.ref)
            if customer is None:
                customer = Customer(customer_ref=record.ref)
                session.add(customer)
                created += 1
            else:
                updated += 1
                session.execute(delete(ChannelIdentity).where(ChannelIdentity.customer_id == customer.id))
                session.execute(delete(Contact).where(Contact.customer_id == customer.id))
                session.expire(customer, ["identities", "contacts"])
            p = record.profile
            customer.display_name = p.name
            customer.preferred_language = p.preferred_language
            customer.preferred_channel = p.preferred_channel
            customer.persona = p.persona
            customer.accessibility_needs = list(p.accessibility_needs)
            customer.consent_to_calls = p.consent_to_calls
            customer.timezone = p.timezone
            session.flush()
            for kind, external in record.identities.items():
                session.add(ChannelIdentity(customer_id=customer.id, channel=kind, external_id=external))
            for contact_channel, count in p.contact_history.items():
                for n in range(count):
                    occurred = now - dt.timedelta(days=7 * (n + 1))
                    session.add(
                        Contact(customer_id=customer.id, channel=contact_channel, occurred_at=occurred)
                    )
    return created, updated


def load_seed_file(
    database: Database, path: Path, *, personas: Collection[str], region: str = "GB"
) -> tuple[int, int]:
    return seed_customers(database, parse_seed(path, personas=personas, region=region))
