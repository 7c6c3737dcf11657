"""data assets: assets, versions, their tags, and the data versions each run read

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 19:30:00.000000

- `data_assets`: an asset's name, the next version number (never reused), archived.
- `data_versions`: type, description, parent version, the manifest's content hash (the
  manifest itself is the data blob of that name), file count, bytes, who and when, archived;
  indexed by content hash ("which versions hold exactly this content").
- `data_version_tags`: deleted with their version.
- `run_inputs`: (run, input name) → data asset version, deleted with the run; indexed by
  version, for lineage ("which runs read data:flowers:3").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_NAME_MAX = 255


def upgrade() -> None:
    op.create_table(
        "data_assets",
        sa.Column("name", sa.String(length=_NAME_MAX), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_version", sa.Integer(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_data_assets")),
    )
    op.create_table(
        "data_versions",
        sa.Column("name", sa.String(length=_NAME_MAX), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("parent_version", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("file_count", sa.BigInteger(), nullable=False),
        sa.Column("total_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["name"],
            ["data_assets.name"],
            name=op.f("fk_data_versions_name_data_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_data_versions")),
    )
    op.create_index(
        "ix_data_versions_content_hash", "data_versions", ["content_hash"], unique=False
    )
    op.create_table(
        "data_version_tags",
        sa.Column("name", sa.String(length=_NAME_MAX), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["name", "version"],
            ["data_versions.name", "data_versions.version"],
            name=op.f("fk_data_version_tags_name_data_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name", "version", "key", name=op.f("pk_data_version_tags")),
    )
    op.create_table(
        "run_inputs",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("input_name", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=_NAME_MAX), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_inputs_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "input_name", name=op.f("pk_run_inputs")),
    )
    op.create_index("ix_run_inputs_name_version", "run_inputs", ["name", "version"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_run_inputs_name_version", table_name="run_inputs")
    op.drop_table("run_inputs")
    op.drop_table("data_version_tags")
    op.drop_index("ix_data_versions_content_hash", table_name="data_versions")
    op.drop_table("data_versions")
    op.drop_table("data_assets")
