"""Pipeline steps and their reuse keys in the SQL store (the `PipelineStore` part of
`SqlStore`, migration 0015)."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelyard.entities import RunStatus
from modelyard.entities.pipelines import StepRecord
from modelyard.store.sql.models import ExperimentRow, PipelineStepRow, RunRow, utcnow


class SqlPipelineStore:
    """Mixed into `SqlStore`, which provides the sessions."""

    def _session(self, write: bool = False) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def record_pipeline_step(self, record: StepRecord) -> None:
        """Kept once per step run: recording it again (a resumed driver) changes nothing."""
        with self._session(write=True) as session:
            if session.get(PipelineStepRow, record.run_id) is not None:
                return
            experiment_id = session.scalar(
                select(RunRow.experiment_id).where(RunRow.id == record.run_id)
            )
            session.add(
                PipelineStepRow(
                    run_id=record.run_id,
                    pipeline_run_id=record.pipeline_run_id,
                    experiment_id=experiment_id,
                    pipeline=record.pipeline,
                    step=record.step,
                    reuse_key=record.key.digest,
                    key_parts=json.dumps(record.key.to_dict(), sort_keys=True),
                    reused_from=record.reused_from,
                    reason=record.reason,
                    created_at=record.created_at or utcnow(),
                )
            )

    def find_reusable_step(self, reuse_key: str) -> StepRecord | None:
        """The newest step run that ran (not reused) with this key and completed."""
        query = (
            select(PipelineStepRow, ExperimentRow.name)
            .join(RunRow, RunRow.id == PipelineStepRow.run_id)
            .join(ExperimentRow, ExperimentRow.id == PipelineStepRow.experiment_id)
            .where(
                PipelineStepRow.reuse_key == reuse_key,
                PipelineStepRow.reused_from.is_(None),
                RunRow.status == RunStatus.COMPLETED.value,
            )
            .order_by(PipelineStepRow.created_at.desc())
            .limit(1)
        )
        with self._session() as session:
            found = session.execute(query).first()
            return None if found is None else found[0].to_entity(found[1])

    def latest_pipeline_step(
        self, experiment: str, pipeline: str, step: str, before_pipeline_run: str
    ) -> StepRecord | None:
        """The newest record of `step` in `pipeline` from another pipeline run than
        `before_pipeline_run` (what a rerun is compared with)."""
        query = (
            select(PipelineStepRow)
            .join(ExperimentRow, ExperimentRow.id == PipelineStepRow.experiment_id)
            .where(
                ExperimentRow.name == experiment,
                PipelineStepRow.pipeline == pipeline,
                PipelineStepRow.step == step,
                PipelineStepRow.pipeline_run_id != before_pipeline_run,
            )
            .order_by(PipelineStepRow.created_at.desc())
            .limit(1)
        )
        with self._session() as session:
            row = session.scalar(query)
            return None if row is None else row.to_entity(experiment)

    def list_pipeline_steps(self, pipeline_run_id: str) -> list[StepRecord]:
        query = (
            select(PipelineStepRow, ExperimentRow.name)
            .join(ExperimentRow, ExperimentRow.id == PipelineStepRow.experiment_id)
            .where(PipelineStepRow.pipeline_run_id == pipeline_run_id)
            .order_by(PipelineStepRow.created_at)
        )
        with self._session() as session:
            return [row.to_entity(name) for row, name in session.execute(query)]
