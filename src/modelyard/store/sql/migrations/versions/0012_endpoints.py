"""online endpoints and their deployments

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 10:15:00.000000

- `endpoints`: name, port, auth mode, the two keys (kept as given: `get-keys` returns them),
  the traffic split and mirror (JSON text), the handle of its front + supervisor process.
- `deployments`: per endpoint; the model reference as given and the version it resolved to,
  the entry script, replicas and size, state, the last error (a traceback), the replicas'
  handles and ports (JSON text). Deleted with their endpoint.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "endpoints",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("auth_mode", sa.String(length=16), nullable=False),
        sa.Column("primary_key", sa.String(length=128), nullable=False),
        sa.Column("secondary_key", sa.String(length=128), nullable=False),
        sa.Column("traffic", sa.Text(), nullable=False),
        sa.Column("host_handle", sa.String(length=512), nullable=True),
        sa.Column("description", sa.String(length=1024), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_endpoints")),
        sa.UniqueConstraint("port", name=op.f("uq_endpoints_port")),
    )
    op.create_table(
        "deployments",
        sa.Column("endpoint", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=512), nullable=False),
        sa.Column("model_name", sa.String(length=255), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("entry_script", sa.String(length=1024), nullable=True),
        sa.Column("source_directory", sa.String(length=4096), nullable=True),
        sa.Column("environment", sa.Text(), nullable=True),  # JSON: Environment.to_dict()
        sa.Column("compute", sa.String(length=32), nullable=False),
        sa.Column("replicas", sa.Integer(), nullable=False),
        sa.Column("cpu_cores", sa.Float(), nullable=False),
        sa.Column("memory_gb", sa.Float(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("replica_handles", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint"],
            ["endpoints.name"],
            name=op.f("fk_deployments_endpoint_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("endpoint", "name", name=op.f("pk_deployments")),
    )


def downgrade() -> None:
    op.drop_table("deployments")
    op.drop_table("endpoints")
