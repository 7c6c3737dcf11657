"""the model registry: models, versions, their files, tags, properties and aliases

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 10:00:00.000000

- `registered_models`: a model's name and the next version number (never reused).
- `model_versions`: description, framework, input/output schema (JSON text), lineage (run,
  experiment, data hash: text, no foreign key, as a version outlives its run), who and when.
- `model_files`: each version's files, by path, with the SHA-256 that names its blob; the
  index on `sha256` answers "does any version still use this blob".
- `model_version_tags`, `model_version_properties`, `model_aliases`: deleted with their version.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_NAME_MAX = 255


def _version_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["name", "version"],
        ["model_versions.name", "model_versions.version"],
        name=op.f(f"fk_{table}_name_model_versions"),
        ondelete="CASCADE",
    )


def _version_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("name", sa.String(length=_NAME_MAX), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("name", sa.String(length=_NAME_MAX), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_registered_models")),
    )
    op.create_table(
        "model_versions",
        *_version_columns(),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("framework", sa.String(length=64), nullable=True),
        sa.Column("input_schema", sa.Text(), nullable=True),
        sa.Column("output_schema", sa.Text(), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("experiment", sa.String(length=255), nullable=True),
        sa.Column("data_hash", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["name"],
            ["registered_models.name"],
            name=op.f("fk_model_versions_name_registered_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_model_versions")),
    )
    op.create_table(
        "model_files",
        *_version_columns(),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        _version_key("model_files"),
        sa.PrimaryKeyConstraint("name", "version", "path", name=op.f("pk_model_files")),
    )
    op.create_index("ix_model_files_sha256", "model_files", ["sha256"], unique=False)
    for table in ("model_version_tags", "model_version_properties"):
        op.create_table(
            table,
            *_version_columns(),
            sa.Column("key", sa.String(length=250), nullable=False),
            sa.Column("value", sa.Text(), nullable=False),
            _version_key(table),
            sa.PrimaryKeyConstraint("name", "version", "key", name=op.f(f"pk_{table}")),
        )
    op.create_table(
        "model_aliases",
        *_version_columns(),
        sa.Column("alias", sa.String(length=64), nullable=False),
        _version_key("model_aliases"),
        sa.PrimaryKeyConstraint("name", "alias", name=op.f("pk_model_aliases")),
    )


def downgrade() -> None:
    for table in ("model_aliases", "model_version_properties", "model_version_tags"):
        op.drop_table(table)
    op.drop_index("ix_model_files_sha256", table_name="model_files")
    op.drop_table("model_files")
    op.drop_table("model_versions")
    op.drop_table("registered_models")
