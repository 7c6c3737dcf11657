"""schedule job archives: a schedule created through a server fires the job uploaded with it

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 07:00:00.000000

- `schedules.job_sha256`: the SHA-256 of the job archive uploaded with the schedule, its name
  in the workspace's `schedules/` blob store, checked before each fire (None: `job_file` is a
  path read at each fire).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("schedules") as batch:
        batch.add_column(sa.Column("job_sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("schedules") as batch:
        batch.drop_column("job_sha256")
