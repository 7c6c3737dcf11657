"""charts of long series: the metrics index covers the value, latest_metrics counts the points

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 09:00:00.000000
"""

from __future__ import annotations

import sys

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The new index serves every query the old one did (its columns are a prefix), so it replaces
# it rather than joining it: one index to keep up per logged point, as before.
_OLD_INDEX = ("ix_metrics_run_id_name_step", ["run_id", "name", "step"])
_NEW_INDEX = ("ix_metrics_run_id_name_step_value", ["run_id", "name", "step", "value"])
_COUNTS = ("points", "finite_points")

# Tables as they are at this revision, whatever the models say later.
_metrics = sa.table(
    "metrics",
    sa.column("run_id", sa.String()),
    sa.column("name", sa.String()),
    sa.column("value", sa.Float()),
)
_latest = sa.table(
    "latest_metrics",
    sa.column("run_id", sa.String()),
    sa.column("name", sa.String()),
    *(sa.column(name, sa.BigInteger()) for name in _COUNTS),
)


def upgrade() -> None:
    op.create_index(_NEW_INDEX[0], "metrics", _NEW_INDEX[1], unique=False)
    op.drop_index(_OLD_INDEX[0], table_name="metrics")
    with op.batch_alter_table("latest_metrics", schema=None) as batch_op:
        for name in _COUNTS:
            batch_op.add_column(
                sa.Column(name, sa.BigInteger(), server_default="0", nullable=False)
            )
    _count_logged_points()


def _count_logged_points() -> None:
    """Each (run, metric)'s points so far, counted in the new index."""
    of_metric = (_metrics.c.run_id == _latest.c.run_id) & (_metrics.c.name == _latest.c.name)
    finite = _metrics.c.value.between(-sys.float_info.max, sys.float_info.max)
    count = sa.select(sa.func.count()).select_from(_metrics)
    op.execute(
        _latest.update().values(
            points=count.where(of_metric).scalar_subquery(),
            finite_points=count.where(of_metric, finite).scalar_subquery(),
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("latest_metrics", schema=None) as batch_op:
        for name in reversed(_COUNTS):
            batch_op.drop_column(name)
    op.create_index(_OLD_INDEX[0], "metrics", _OLD_INDEX[1], unique=False)
    op.drop_index(_NEW_INDEX[0], table_name="metrics")
