"""pipeline steps and their reuse keys

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 19:10:00.000000

- `pipeline_steps`: one row per step run of a pipeline run (the child run's id), with its
  pipeline run, experiment, pipeline and step names, its reuse key (a SHA-256 of the key's
  parts, indexed: "has a completed run had this key?" is one index lookup), the parts as
  JSON (to say which one changed), the run it reused, and why it ran or was reused. Deleted
  with its run.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipeline_steps",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("pipeline_run_id", sa.String(length=32), nullable=False),
        sa.Column("experiment_id", sa.String(length=32), nullable=False),
        sa.Column("pipeline", sa.String(length=255), nullable=False),
        sa.Column("step", sa.String(length=255), nullable=False),
        sa.Column("reuse_key", sa.String(length=64), nullable=False),
        sa.Column("key_parts", sa.Text(), nullable=False),
        sa.Column("reused_from", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_pipeline_steps_run_id_runs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_run_id"],
            ["runs.id"],
            name=op.f("fk_pipeline_steps_pipeline_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_pipeline_steps_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_pipeline_steps")),
    )
    op.create_index("ix_pipeline_steps_reuse_key", "pipeline_steps", ["reuse_key"])
    op.create_index(
        "ix_pipeline_steps_experiment_id_pipeline_step_created_at",
        "pipeline_steps",
        ["experiment_id", "pipeline", "step", "created_at"],
    )
    op.create_index("ix_pipeline_steps_pipeline_run_id", "pipeline_steps", ["pipeline_run_id"])


def downgrade() -> None:
    op.drop_index("ix_pipeline_steps_pipeline_run_id", table_name="pipeline_steps")
    op.drop_index(
        "ix_pipeline_steps_experiment_id_pipeline_step_created_at", table_name="pipeline_steps"
    )
    op.drop_index("ix_pipeline_steps_reuse_key", table_name="pipeline_steps")
    op.drop_table("pipeline_steps")
