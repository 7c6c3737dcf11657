"""pipeline drafts: the designer's saved, not yet runnable, pipelines

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 02:30:00.000000

- `pipeline_drafts`: one row per draft name: its YAML text exactly as saved, its layout (JSON:
  each node's position), its revision (1, then +1 per save, compared and swapped by each
  save) and who created and last saved it, when.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipeline_drafts",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("layout", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_pipeline_drafts")),
    )


def downgrade() -> None:
    op.drop_table("pipeline_drafts")
