"""indexes for sorting and paging the runs table

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 09:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# (index, columns) on `runs`, as declared in `RunRow.__table_args__` (store/sql/models.py).
_INDEXES = (
    ("ix_runs_created_at", ["created_at"]),
    ("ix_runs_experiment_id_created_at", ["experiment_id", "created_at"]),
    ("ix_runs_experiment_id_status", ["experiment_id", "status"]),
    ("ix_runs_experiment_id_display_name", ["experiment_id", "display_name"]),
)


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        for name, columns in _INDEXES:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        for name, _columns in reversed(_INDEXES):
            batch_op.drop_index(name)
