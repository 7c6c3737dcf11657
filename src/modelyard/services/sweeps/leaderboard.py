"""A sweep's leaderboard: its trials ranked by the primary metric, the best first.

A trial is ranked by its final value (the metric's last point) once it has completed; trials
that ended otherwise (failed, or canceled by the early-termination policy with its reason) or
are still running follow, by number. The driver writes it as the parent's `leaderboard.json`
and its best trial as the parent's tags; `read_leaderboard` builds it from the store for the
CLI and the SDK, wherever the workspace is (its config comes from the parent's snapshot).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Final

from modelyard.entities import RunStatus
from modelyard.entities.records import float_to_json
from modelyard.entities.sweep import Goal, SweepConfig
from modelyard.entities.sweep_space import ParamValue
from modelyard.errors import InvalidValue, NotFound
from modelyard.services.runs import get_run
from modelyard.services.sweeps.sweep_job import CONFIG_FILE, read_config
from modelyard.services.sweeps.trials import Trial, TrialReader
from modelyard.services.workspaces import OpenWorkspace

LEADERBOARD_FILE: Final = "leaderboard.json"
BEST_TRIAL_TAG: Final = "sweep.best_trial"  # the best trial's run id
BEST_VALUE_TAG: Final = "sweep.best_value"
PROGRESS_TAG: Final = "sweep.trials"  # "ended/total"


@dataclass(frozen=True)
class LeaderboardEntry:
    number: int
    run_id: str
    display_name: str
    status: RunStatus
    params: dict[str, ParamValue]
    value: float | None  # the primary metric's final value
    ranked: bool  # completed with a value: in the ranking
    reason: str | None  # why it ended other than completed (a policy's reason, an error)

    def to_dict(self) -> dict[str, Any]:
        return {
            "trial": self.number,
            "run_id": self.run_id,
            "display_name": self.display_name,
            "status": self.status.value,
            "params": self.params,
            "value": float_to_json(self.value),
            "ranked": self.ranked,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Leaderboard:
    primary_metric: str
    goal: Goal
    total_trials: int
    entries: tuple[LeaderboardEntry, ...]

    @property
    def best(self) -> LeaderboardEntry | None:
        return self.entries[0] if self.entries and self.entries[0].ranked else None

    @property
    def ended(self) -> int:
        return sum(1 for entry in self.entries if entry.status.is_terminal)

    def counts(self) -> dict[str, int]:
        return dict(Counter(entry.status.value for entry in self.entries))

    def tags(self) -> dict[str, str]:
        """What the parent shows of it: the best trial and how far the sweep got."""
        tags = {PROGRESS_TAG: f"{self.ended}/{self.total_trials}"}
        if self.best is not None:
            tags[BEST_TRIAL_TAG] = self.best.run_id
            tags[BEST_VALUE_TAG] = repr(self.best.value)
        return tags

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        return {
            "primary_metric": self.primary_metric,
            "goal": self.goal.value,
            "total_trials": self.total_trials,
            "counts": self.counts(),
            "best_trial": None if best is None else best.to_dict(),
            "trials": [entry.to_dict() for entry in self.entries],
        }


def build_leaderboard(config: SweepConfig, trials: list[Trial]) -> Leaderboard:
    objective = config.objective

    def order(trial: Trial) -> tuple[int, float, int]:
        value = trial.ranked_value
        if value is None:
            return (1, 0.0, trial.number)
        return (0, objective.rank_key(value), trial.number)

    entries = tuple(_entry(trial) for trial in sorted(trials, key=order))
    return Leaderboard(objective.primary_metric, objective.goal, config.total_trials, entries)


def _entry(trial: Trial) -> LeaderboardEntry:
    run = trial.run
    return LeaderboardEntry(
        number=trial.number,
        run_id=run.id,
        display_name=run.display_name,
        status=run.status,
        params=dict(trial.params),
        value=trial.final_value,
        ranked=trial.ranked_value is not None,
        reason=run.error,
    )


def read_leaderboard(ws: OpenWorkspace, run_id: str) -> Leaderboard:
    """The leaderboard of sweep `run_id`, from its children as they are now."""
    config = read_sweep_config(ws, run_id)
    reader = TrialReader(ws.store, config)
    return build_leaderboard(config, reader.trials(reader.children(run_id)))


def read_sweep_config(ws: OpenWorkspace, run_id: str) -> SweepConfig:
    run = get_run(ws, run_id)
    try:
        with ws.artifacts.open_read(run.id, f"snapshot/{CONFIG_FILE}") as handle:
            return read_config(handle.read())[0]
    except NotFound:
        raise not_a_sweep(run.id, run.source.script) from None


def not_a_sweep(run_id: str, what: object) -> InvalidValue:
    return InvalidValue(
        f"run {run_id} is not a sweep (it runs {what or 'no job'}): name the parent run of a"
        " sweep, the one `job create -f sweep.yml` printed",
        run_id=run_id,
    )
