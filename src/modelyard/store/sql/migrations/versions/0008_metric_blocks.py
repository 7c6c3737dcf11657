"""charts of long series read blocks of steps: metric_blocks, filled from the points logged

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 05:00:00.000000

Each metric's lowest and highest finite point per block of 64, 512, … 2**24 steps
(store/sql/metric_blocks.py), kept by `log_batch` from now on and computed here for the points
already logged. Deleting a run deletes its blocks (a foreign key: a batch adds a few block
rows, not one per point, so its check costs little even on PostgreSQL).
"""

from __future__ import annotations

import sys

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The widths as they are at this revision, whatever metric_blocks.py says later.
_BLOCK_STEPS = tuple(2**bits for bits in range(6, 25, 3))
_FINITE = "value BETWEEN :lowest AND :highest"
_BOUNDS = {"lowest": -sys.float_info.max, "highest": sys.float_info.max}
_COLUMNS = "run_id, name, block_steps, block_start, low_step, low_value, high_step, high_value"


def upgrade() -> None:
    op.create_table(
        "metric_blocks",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("block_steps", sa.Integer(), nullable=False),
        sa.Column("block_start", sa.BigInteger(), nullable=False),
        sa.Column("low_step", sa.BigInteger(), nullable=False),
        sa.Column("low_value", sa.Float(), nullable=False),
        sa.Column("high_step", sa.BigInteger(), nullable=False),
        sa.Column("high_value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_metric_blocks_run_id_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(
            "run_id", "name", "block_steps", "block_start", name="pk_metric_blocks"
        ),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for size in _BLOCK_STEPS:
        for statement in _backfill_on_postgresql(size) if postgresql else _backfill_on_sqlite(size):
            op.execute(sa.text(statement).bindparams(**_BOUNDS))


def downgrade() -> None:
    op.drop_table("metric_blocks")


def _backfill_on_postgresql(size: int) -> list[str]:
    # Arrays compare element by element: the least [value, step] is the lowest point.
    return [
        f"""
INSERT INTO metric_blocks ({_COLUMNS})
SELECT run_id, name, {size}, block * {size},
  CAST(low[2] AS BIGINT), low[1], CAST(high[2] AS BIGINT), high[1]
FROM (
  SELECT run_id, name, step / {size} AS block,
    min(ARRAY[value, step]) AS low, max(ARRAY[value, step]) AS high
  FROM metrics WHERE {_FINITE} GROUP BY run_id, name, step / {size}
) AS blocks"""
    ]


def _backfill_on_sqlite(size: int) -> list[str]:
    # SQLite takes a bare column from the row holding min() or max(): lows, then highs.
    grouped = f"FROM metrics WHERE {_FINITE} GROUP BY run_id, name, step / {size}"
    return [
        f"INSERT INTO metric_blocks ({_COLUMNS})"
        f" SELECT run_id, name, {size}, (step / {size}) * {size}, step, min(value), step, value"
        f" {grouped}",
        f"INSERT INTO metric_blocks ({_COLUMNS})"
        f" SELECT run_id, name, {size}, (step / {size}) * {size}, step, value, step, max(value)"
        f" {grouped}"
        " ON CONFLICT (run_id, name, block_steps, block_start)"
        " DO UPDATE SET high_step = excluded.high_step, high_value = excluded.high_value",
    ]
