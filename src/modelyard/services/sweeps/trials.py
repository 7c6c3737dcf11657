"""A sweep's trials, read from its child runs: what each ran (its params, recorded before it
was queued), where it stands, and the points of the primary metric it logged."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from modelyard.entities import Run, RunStatus
from modelyard.entities.sweep import TRIALS_MAX, SweepConfig
from modelyard.entities.sweep_space import ParamValue
from modelyard.errors import ModelyardError
from modelyard.store.base import TrackingStore

# A child's trial number, a property.
TRIAL_PROPERTY: Final = "sweep.trial"
# The error of a child whose submission its driver never finished: it never ran, and its
# number is drawn again. Told by its status and this error, both set by one transition (a
# property written first would stay on a child that moved on meanwhile, and was a trial).
INTERRUPTED_ERROR: Final = (
    "its submission was interrupted (the sweep's driver stopped): it never ran, and its trial"
    " was submitted again"
)
# Children a sweep can have: its trials and at most one interrupted submission per driver
# that died; list_runs reads them newest first.
_CHILDREN_READ: Final = 4 * TRIALS_MAX


@dataclass(frozen=True)
class Trial:
    number: int
    run: Run
    params: Mapping[str, ParamValue]
    values: tuple[float, ...]  # the primary metric's points, in step order
    metrics: tuple[str, ...]  # every metric it logged (to say which, when the primary is not)

    @property
    def is_active(self) -> bool:
        return not self.run.status.is_terminal

    @property
    def final_value(self) -> float | None:
        """The primary metric's last point: what the trial is ranked by once it completed."""
        return self.values[-1] if self.values else None

    @property
    def ranked_value(self) -> float | None:
        """Its final value, if it completed with one (a canceled trial ranks below)."""
        value = self.final_value
        if self.run.status is not RunStatus.COMPLETED or value is None or math.isnan(value):
            return None
        return value

    @property
    def early_terminated(self) -> bool:
        return self.run.status is RunStatus.CANCELED and self.run.error is not None


class TrialReader:
    """Reads the children on each pass. An ended run's data never changes (the store refuses
    writes to it), so a trial is kept once it has ended: a pass reads only the active ones."""

    def __init__(self, store: TrackingStore, config: SweepConfig) -> None:
        self.store = store
        self.config = config
        self._ended: dict[str, Trial] = {}

    def children(self, parent_id: str) -> list[Run]:
        return self.store.list_runs(parent_id=parent_id, limit=_CHILDREN_READ)

    def trials(self, children: list[Run]) -> list[Trial]:
        """The children that are trials (interrupted submissions left out), by number."""
        found = [trial for run in children if (trial := self._trial(run)) is not None]
        return sorted(found, key=lambda trial: trial.number)

    def _trial(self, run: Run) -> Trial | None:
        if run.id in self._ended:
            return self._ended[run.id]
        data = self.store.get_run_data(run.id)
        number = data.properties.get(TRIAL_PROPERTY)
        if number is None or is_interrupted(run):
            return None
        metric = self.config.objective.primary_metric
        points = (
            self.store.get_metric_history(run.id, metric) if metric in data.latest_metrics else []
        )
        trial = Trial(
            number=int(number),
            run=run,
            params=self._typed(data.params),
            values=tuple(point.value for point in sorted(points, key=lambda p: p.step)),
            metrics=tuple(sorted(data.latest_metrics)),
        )
        if run.status.is_terminal:
            self._ended[run.id] = trial
        return trial

    def _typed(self, params: Mapping[str, str]) -> dict[str, ParamValue]:
        typed: dict[str, ParamValue] = {}
        for name, distribution in self.config.search_space.items():
            if name in params:
                try:
                    typed[name] = distribution.parse_value(params[name])
                except ModelyardError:
                    typed[name] = params[name]  # as recorded; a sampler treats it as unseen
        return typed


def next_number(trials: list[Trial]) -> int:
    return max((trial.number for trial in trials), default=-1) + 1


def is_interrupted(run: Run) -> bool:
    """A child canceled because its submission was interrupted: never a trial."""
    return run.status is RunStatus.CANCELED and run.error == INTERRUPTED_ERROR
