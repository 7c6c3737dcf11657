"""published pipelines: named, versioned pipeline definitions invoked with parameters

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-06 23:00:00.000000

- `published_pipelines`: one row per name, with its never-reused version counter
  (`latest_version`) and the default version (NULL: the latest).
- `published_pipeline_versions`: one row per immutable version: its description, the
  pipeline's own name, its parameters (JSON: name, type, default), the folder holding its
  definition and steps' code (relative to the workspace's published pipelines folder),
  whether it may run, and the pipeline run it was published from.

Numbered 0018 beside another change's 0017: written against 0016, the merger chains
`down_revision` to 0017 when merging.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "published_pipelines",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("default_version", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_published_pipelines")),
    )
    op.create_table(
        "published_pipeline_versions",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("pipeline", sa.String(255), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("folder", sa.String(512), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_run", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(
            ["name"],
            ["published_pipelines.name"],
            name=op.f("fk_published_pipeline_versions_name_published_pipelines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_published_pipeline_versions")),
    )


def downgrade() -> None:
    op.drop_table("published_pipeline_versions")
    op.drop_table("published_pipelines")
