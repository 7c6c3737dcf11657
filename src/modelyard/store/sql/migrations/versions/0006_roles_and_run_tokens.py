"""roles as Azure names them (reader, contributor, admin) and tokens scoped to one run

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 03:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_users = sa.table("users", sa.column("role", sa.String()))


def upgrade() -> None:
    # "member" could do what a contributor does: same rights, Azure's name.
    op.execute(_users.update().where(_users.c.role == "member").values(role="contributor"))
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("run_id", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_api_tokens_run_id_runs"),
            "runs",
            ["run_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_api_tokens_run_id_runs"), type_="foreignkey")
        batch_op.drop_column("run_id")
    op.execute(_users.update().where(_users.c.role == "contributor").values(role="member"))
