"""compute targets, the scheduler's queue, run attempts and the background loop's lease

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 08:00:00.000000

- `computes`: named pools (type, size, priority, nodes, provisioning state and its errors),
  with the built-in `local` (this host, no size, no node limit) in every workspace.
- `runs.handle`: the backend's opaque handle (a pid and its start time locally, a submission id
  on Ray) replaces `host`, `pid` and `pid_started_at`; existing runs are carried over.
- `runs.attempt`, `runs.queued_at` (a run keeps its place in the queue when preempted) and
  `runs.status_detail` (why a queued run waits); `run_attempts`: each attempt's end and cause.
- `leases`: one holder at a time for work several server processes must not do twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_runs = sa.table(
    "runs",
    sa.column("id", sa.String()),
    sa.column("status", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("queued_at", sa.DateTime(timezone=True)),
    sa.column("host", sa.String()),
    sa.column("pid", sa.Integer()),
    sa.column("pid_started_at", sa.Float()),
    sa.column("handle", sa.String()),
)


def upgrade() -> None:
    op.create_table(
        "computes",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("size", sa.String(length=64), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("min_nodes", sa.Integer(), nullable=False),
        sa.Column("max_nodes", sa.Integer(), nullable=True),
        sa.Column("idle_seconds_before_scaledown", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=1024), nullable=True),
        sa.Column("description", sa.String(length=1024), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_computes")),
    )
    computes = sa.table(
        "computes",
        *(sa.column(name) for name in ("name", "type", "priority", "min_nodes", "state")),
        *(sa.column(name) for name in ("idle_seconds_before_scaledown", "errors", "created_at")),
        sa.column("description"),
    )
    op.execute(
        computes.insert().values(
            name="local",
            type="local",
            priority="dedicated",
            min_nodes=0,
            idle_seconds_before_scaledown=0,
            state="Succeeded",
            errors="[]",
            created_at=sa.func.current_timestamp(),
            description="this machine, one process per job, no limit",
        )
    )
    op.create_table(
        "run_attempts",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_attempts_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "attempt", name=op.f("pk_run_attempts")),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    # Plain ADD/DROP COLUMN on both backends (SQLite ≥ 3.35 drops columns in place): a batch
    # rebuild of `runs` would drop the table that metrics, tokens and child runs refer to.
    op.add_column("runs", sa.Column("handle", sa.String(length=512), nullable=True))
    op.add_column("runs", sa.Column("attempt", sa.Integer(), nullable=False, server_default="1"))
    op.add_column("runs", sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("runs", sa.Column("status_detail", sa.Text(), nullable=True))
    _carry_processes_over()
    op.execute(
        _runs.update()
        .where(_runs.c.status.in_(["Queued", "Starting"]))
        .values(queued_at=_runs.c.created_at)
    )
    for column in ("host", "pid", "pid_started_at"):
        op.execute(f"ALTER TABLE runs DROP COLUMN {column}")
    op.create_index(
        "ix_runs_compute_target_status", "runs", ["compute_target", "status"], unique=False
    )


def _carry_processes_over() -> None:
    """`pid:PID@HOST/START` is the local backend's handle (compute/base.py ProcessHandle)."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_runs.c.id, _runs.c.host, _runs.c.pid, _runs.c.pid_started_at).where(
            _runs.c.pid.is_not(None)
        )
    ).all()
    for run_id, host, pid, started_at in rows:
        if host is None or started_at is None:
            continue
        connection.execute(
            _runs.update()
            .where(_runs.c.id == run_id)
            .values(handle=f"pid:{pid}@{host}/{float(started_at)!r}")
        )


def downgrade() -> None:
    op.drop_index("ix_runs_compute_target_status", table_name="runs")
    op.add_column("runs", sa.Column("host", sa.String(length=255), nullable=True))
    op.add_column("runs", sa.Column("pid", sa.Integer(), nullable=True))
    op.add_column("runs", sa.Column("pid_started_at", sa.Float(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_runs.c.id, _runs.c.handle).where(_runs.c.handle.like("pid:%"))
    ).all()
    for run_id, handle in rows:
        pid, rest = handle.removeprefix("pid:").split("@", 1)
        host, started_at = rest.rsplit("/", 1)
        connection.execute(
            _runs.update()
            .where(_runs.c.id == run_id)
            .values(host=host, pid=int(pid), pid_started_at=float(started_at))
        )
    for column in ("status_detail", "queued_at", "attempt", "handle"):
        op.execute(f"ALTER TABLE runs DROP COLUMN {column}")
    op.drop_table("leases")
    op.drop_table("run_attempts")
    op.drop_table("computes")
