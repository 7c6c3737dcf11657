"""components: registered command components and their immutable versions

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 23:00:00.000000

- `components`: a component's name and the next version number (never reused).
- `component_versions`: the definition (command, ports, environment, descriptions) as JSON,
  the code snapshot's manifest hash (the manifest itself is the data blob of that name), the
  content hash (definition and code: the version's identity, indexed for "is this content
  registered already"), who and when, archived.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_NAME_MAX = 255


def upgrade() -> None:
    op.create_table(
        "components",
        sa.Column("name", sa.String(length=_NAME_MAX), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_components")),
    )
    op.create_table(
        "component_versions",
        sa.Column("name", sa.String(length=_NAME_MAX), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["name"],
            ["components.name"],
            name=op.f("fk_component_versions_name_components"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_component_versions")),
    )
    op.create_index(
        "ix_component_versions_name_content_hash",
        "component_versions",
        ["name", "content_hash"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_component_versions_name_content_hash", table_name="component_versions")
    op.drop_table("component_versions")
    op.drop_table("components")
