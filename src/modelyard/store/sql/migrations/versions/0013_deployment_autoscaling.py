"""a deployment's autoscaling (deployments on a ray compute)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 13:00:00.000000

- `deployments.min_replicas`, `max_replicas`, `target_ongoing_requests`: Ray Serve's
  autoscaling of a deployment on a ray compute; null (every existing row) is a fixed number of
  replicas, `replicas`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("min_replicas", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("max_replicas", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("target_ongoing_requests", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("target_ongoing_requests")
        batch.drop_column("max_replicas")
        batch.drop_column("min_replicas")
