"""Initial schema: customers, channel identities, contacts, handoffs, persona corrections

Revision ID: 0001
Revises: (none)

"""

from typing import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_ref", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=60), nullable=True),
        sa.Column("preferred_language", sa.String(length=2), nullable=True),
        sa.Column("preferred_channel", sa.String(length=10), nullable=True),
        sa.Column("persona", sa.String(length=64), nullable=True),
        sa.Column("accessibility_needs", sa.JSON(), nullable=False),
        sa.Column("consent_to_calls", sa.Boolean(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("customer_ref", name=op.f("uq_customers_customer_ref")),
    )
    op.create_table(
        "channel_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "web",
                "telegram",
                "phone",
                name="identity_channel",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_channel_identities_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_identities")),
        sa.UniqueConstraint("channel", "external_id", name="uq_channel_identities_channel_external"),
    )
    with op.batch_alter_table("channel_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_channel_identities_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_contacts_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "callback",
                "live_chat",
                name="handoff_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "claimed",
                "done",
                "cancelled",
                name="handoff_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("persona", sa.String(length=64), nullable=True),
        sa.Column("persona_confidence", sa.Float(), nullable=True),
        sa.Column("persona_evidence", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("transcript", sa.JSON(), nullable=False),
        sa.Column("callback_number", sa.String(length=20), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("assignee", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_handoffs_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoffs")),
        sa.UniqueConstraint("reference", name=op.f("uq_handoffs_reference")),
        sa.UniqueConstraint("request_id", name=op.f("uq_handoffs_request_id")),
    )
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoffs_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_handoffs_sender_id"), ["sender_id"], unique=False)
        batch_op.create_index(
            "ix_handoffs_status_kind_created", ["status", "kind", "created_at"], unique=False
        )

    op.create_table(
        "persona_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("sender_id", sa.String(length=255), nullable=True),
        sa.Column("inferred_persona", sa.String(length=64), nullable=True),
        sa.Column("corrected_persona", sa.String(length=64), nullable=False),
        sa.Column("staff_user", sa.String(length=128), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_persona_corrections_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["handoff_id"],
            ["handoffs.id"],
            name=op.f("fk_persona_corrections_handoff_id_handoffs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persona_corrections")),
    )
    with op.batch_alter_table("persona_corrections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_persona_corrections_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_persona_corrections_handoff_id"), ["handoff_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("persona_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_persona_corrections_handoff_id"))
        batch_op.drop_index(batch_op.f("ix_persona_corrections_customer_id"))

    op.drop_table("persona_corrections")
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.drop_index("ix_handoffs_status_kind_created")
        batch_op.drop_index(batch_op.f("ix_handoffs_sender_id"))
        batch_op.drop_index(batch_op.f("ix_handoffs_customer_id"))

    op.drop_table("handoffs")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_customer_id"))

    op.drop_table("contacts")
    with op.batch_alter_table("channel_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_channel_identities_customer_id"))

    op.drop_table("channel_identities")
    op.drop_table("customers")
