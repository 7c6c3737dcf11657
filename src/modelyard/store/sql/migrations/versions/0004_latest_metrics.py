"""latest value of each metric of each run, filled from the metrics already logged

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Tables as they are at this revision, whatever the models say later.
_metrics = sa.table(
    "metrics",
    sa.column("id", sa.BigInteger()),
    sa.column("run_id", sa.String()),
    sa.column("name", sa.String()),
    sa.column("step", sa.BigInteger()),
    sa.column("value", sa.Float()),
    sa.column("timestamp", sa.Float()),
)
_runs = sa.table("runs", sa.column("id", sa.String()), sa.column("experiment_id", sa.String()))
_COLUMNS = ("run_id", "name", "experiment_id", "step", "value", "timestamp")
_INDEXES = (
    ("ix_latest_metrics_name_value_run_id", ["name", "value", "run_id"]),
    (
        "ix_latest_metrics_experiment_id_name_value_run_id",
        ["experiment_id", "name", "value", "run_id"],
    ),
)


def upgrade() -> None:
    op.create_table(
        "latest_metrics",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("experiment_id", sa.String(length=32), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_latest_metrics_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_latest_metrics_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "name", name=op.f("pk_latest_metrics")),
    )
    _fill_from_metrics()
    # After the fill: building an index once from sorted rows beats growing it row by row.
    with op.batch_alter_table("latest_metrics", schema=None) as batch_op:
        for name, columns in _INDEXES:
            batch_op.create_index(name, columns, unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # Statistics now rather than when autovacuum passes by: without them the planner
        # takes the filled table for empty and may join every run to every value.
        op.execute("ANALYZE latest_metrics")


def _fill_from_metrics() -> None:
    """Each (run, metric)'s point at the highest step, then the latest timestamp, then the last
    logged: the rule `log_batch` keeps from now on."""
    rank = sa.func.row_number().over(
        partition_by=(_metrics.c.run_id, _metrics.c.name),
        order_by=(_metrics.c.step.desc(), _metrics.c.timestamp.desc(), _metrics.c.id.desc()),
    )
    ranked = (
        sa.select(_metrics, _runs.c.experiment_id, rank.label("rank"))
        .join(_runs, _runs.c.id == _metrics.c.run_id)
        .subquery("ranked")
    )
    newest = sa.select(*(ranked.c[name] for name in _COLUMNS)).where(ranked.c.rank == 1)
    latest = sa.table("latest_metrics", *(sa.column(name) for name in _COLUMNS))
    op.execute(latest.insert().from_select(list(_COLUMNS), newest))


def downgrade() -> None:
    with op.batch_alter_table("latest_metrics", schema=None) as batch_op:
        for name, _columns in reversed(_INDEXES):
            batch_op.drop_index(name)
    op.drop_table("latest_metrics")
