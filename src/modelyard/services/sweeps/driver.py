"""The sweep's driver: the loop its parent run's job runs (`builtin_jobs/sweep.py`).

Each pass reads the children back from the store (`trials.py`) and acts on what it finds:
cancels a submission an earlier driver left unfinished, fails the sweep when a trial completed
without logging the primary metric, cancels the trials the early-termination policy or the
trial timeout gives up on (each ends Canceled with the reason), submits the next trial while
fewer than `max_concurrent_trials` are queued or running, and writes the leaderboard. The
trials are ordinary jobs queued on the sweep's compute: its scheduler decides when each runs.

Nothing lives only in this process: a trial's params are recorded with its child run before
it is queued, and the sampler is asked with the recorded trials, so a driver started again on
the same parent (`sweep resume`) awaits the running trials, keeps the queued ones, and goes on
from the next trial number; no trial is submitted twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from modelyard.entities import Run, RunStatus
from modelyard.entities.sweep import SweepConfig
from modelyard.entities.sweep_space import ParamValue, format_value
from modelyard.environments import Environment
from modelyard.errors import JobFailed
from modelyard.services import jobs, runs
from modelyard.services.sweeps.leaderboard import (
    LEADERBOARD_FILE,
    Leaderboard,
    build_leaderboard,
)
from modelyard.services.sweeps.policies import termination_reason
from modelyard.services.sweeps.samplers import sampler_for
from modelyard.services.sweeps.sweep_job import TrialFiles
from modelyard.services.sweeps.trials import (
    INTERRUPTED_ERROR,
    TRIAL_PROPERTY,
    Trial,
    TrialReader,
    next_number,
)
from modelyard.services.workspaces import OpenWorkspace


class SweepStopped(Exception):
    """The sweep's run was asked to stop (canceled): its trials are canceled too."""


class SweepDriver:
    def __init__(
        self,
        ws: OpenWorkspace,
        parent_id: str,
        config: SweepConfig,
        environment: Environment,
        trial_code: Path,
        stop_requested: Callable[[], bool],
        say: Callable[[str], None] = print,
        trial_files: TrialFiles | None = None,
    ) -> None:
        self.ws = ws
        self.parent = ws.store.get_run(parent_id)
        self.config = config
        self.environment = environment
        self.trial_code = trial_code
        self.trial_files = trial_files or TrialFiles()
        self.stop_requested = stop_requested
        self.say = say
        self.reader = TrialReader(ws.store, config)
        self.sampler = sampler_for(config)
        self.exhausted = False  # the sampler has nothing left (a grid's end)
        self.timed_out = False
        self.said: dict[str, RunStatus] = {}
        self.published: str | None = None

    # The loop ----------------------------------------------------------------------------

    def run(self) -> Leaderboard:
        self._describe_on_parent()
        while True:
            trials = self._read()
            if self._is_done(trials):
                break
            submitted = self._act(trials)
            self._publish(trials)
            if not submitted:
                time.sleep(self.ws.settings.poll_interval_s)
        board = self._publish(trials)
        if board.best is None:
            raise JobFailed(_nothing_completed(self.config, trials))
        best = board.best
        self.say(
            f"best: trial {best.number} (run {best.run_id}), {board.primary_metric}"
            f" {best.value:.6g}, params {_shown(best.params)}"
        )
        return board

    def _read(self) -> list[Trial]:
        # A trial whose process died, or whose launch was lost, is settled (or queued again)
        # by the reaper: the driver runs it as any reader of runs does, or it would wait on it.
        runs.reap_dead_runs(self.ws)
        children = self._cancel_interrupted(self.reader.children(self.parent.id))
        trials = self.reader.trials(children)
        self._announce(trials)
        return trials

    def _is_done(self, trials: list[Trial]) -> bool:
        if any(trial.is_active for trial in trials):
            return False
        return self.timed_out or self.exhausted or len(trials) >= self.config.total_trials

    def _act(self, trials: list[Trial]) -> bool:
        """One pass's decisions; True when it submitted a trial (the next pass comes at once)."""
        if self.stop_requested():
            self._cancel_active(trials, "the sweep was canceled")
            raise SweepStopped
        self._check_primary_metric(trials)
        if self._check_timeout(trials):
            return False
        self._terminate_early(trials)
        self._enforce_trial_timeout(trials)
        return self._submit_next(trials)

    # Decisions ---------------------------------------------------------------------------

    def _check_primary_metric(self, trials: list[Trial]) -> None:
        """A trial that completed without the metric: every trial would (same script), and no
        trial can be ranked; fail the sweep now rather than after all of them ran."""
        metric = self.config.objective.primary_metric
        for trial in trials:
            if trial.run.status is RunStatus.COMPLETED and not trial.values:
                logged = f" (it logged {', '.join(trial.metrics)})" if trial.metrics else ""
                message = (
                    f"trial {trial.number} (run {trial.run.id}) completed without logging the"
                    f" primary metric {metric!r}{logged}: log it in the trial script with"
                    f" Run.get_context().log({metric!r}, value), or set"
                    " objective.primary_metric to a metric it logs"
                )
                self._cancel_active(trials, f"the sweep failed: {message}")
                raise JobFailed(message, metric=metric)

    def _check_timeout(self, trials: list[Trial]) -> bool:
        timeout = self.config.limits.timeout_s
        started = self.parent.started_at  # the first attempt's: a resumed sweep's clock runs on
        if timeout is None or started is None or _seconds_since(started) < timeout:
            return False
        if not self.timed_out:
            self.say(f"the sweep's timeout of {timeout:g} s was reached: no more trials")
        self.timed_out = True
        self._cancel_active(trials, f"the sweep's timeout of {timeout:g} s was reached")
        return True

    def _terminate_early(self, trials: list[Trial]) -> None:
        policy = self.config.early_termination
        if policy is None:
            return
        for trial in trials:
            if trial.run.status is not RunStatus.RUNNING:
                continue
            reason = termination_reason(policy, self.config.objective, trial, trials)
            if reason is not None:
                self._cancel(trial, reason)

    def _enforce_trial_timeout(self, trials: list[Trial]) -> None:
        limit = self.config.limits.trial_timeout_s
        if limit is None:
            return
        for trial in trials:
            started = trial.run.started_at
            if trial.is_active and started is not None and _seconds_since(started) > limit:
                self._cancel(trial, f"the trial ran past trial_timeout ({limit:g} s)")

    def _submit_next(self, trials: list[Trial]) -> bool:
        active = sum(1 for trial in trials if trial.is_active)
        if self.exhausted or active >= self.config.limits.concurrent_trials:
            return False
        if len(trials) >= self.config.total_trials:
            return False
        number = next_number(trials)
        params = self.sampler.params_for(number, trials)
        if params is None:
            self.exhausted = True
            return False
        run = self._submit(number, params)
        self.said[run.id] = run.status
        self.say(f"trial {number} (run {run.id}) submitted: {_shown(params)}")
        return True

    # Acting on runs ----------------------------------------------------------------------

    def _submit(self, number: int, params: dict[str, ParamValue]) -> Run:
        """The trial as a child run, its number and params recorded before it is queued."""
        job = jobs.ScriptJob(
            experiment=self.parent.experiment_name,
            source_directory=self.trial_code,
            script=self.config.trial.script,
            arguments=self.config.trial.render(params),
            compute_target=self.config.compute,
            environment=self.environment,
            display_name=f"{self.parent.display_name}_trial_{number}",
            input_files=self.trial_files.inputs,
            output_folders=self.trial_files.outputs,
        )
        return jobs.submit(
            self.ws,
            job,
            user=self.parent.user,
            parent_id=self.parent.id,
            params={name: format_value(value) for name, value in params.items()},
            properties={TRIAL_PROPERTY: str(number)},
        )

    def _cancel(self, trial: Trial, reason: str) -> None:
        self.say(f"trial {trial.number} (run {trial.run.id}) canceled: {reason}")
        runs.cancel_run(self.ws, trial.run.id, reason)
        self.said[trial.run.id] = RunStatus.CANCELED

    def _cancel_active(self, trials: list[Trial], reason: str) -> None:
        active = [trial for trial in trials if trial.is_active]
        runs.cancel_runs(self.ws, [trial.run.id for trial in active], reason)
        for trial in active:
            self.say(f"trial {trial.number} (run {trial.run.id}) canceled: {reason}")
            self.said[trial.run.id] = RunStatus.CANCELED

    def _cancel_interrupted(self, children: list[Run]) -> list[Run]:
        """A child still NotStarted was being submitted when an earlier driver died: it never
        ran; it is canceled as interrupted, and its trial number is drawn again. The children
        as they are now (the trials are told from their status)."""
        return [self._interrupted(child) for child in children]

    def _interrupted(self, child: Run) -> Run:
        canceled = runs.cancel_unstarted(self.ws, child, INTERRUPTED_ERROR)
        if canceled is None:
            return (
                self.ws.store.get_run(child.id) if child.status is RunStatus.NOT_STARTED else child
            )
        self.say(f"run {child.id}: an interrupted submission, canceled (it never ran)")
        return canceled

    # Reporting ---------------------------------------------------------------------------

    def _describe_on_parent(self) -> None:
        config = self.config
        self.ws.store.add_properties(
            self.parent.id,
            {
                "sweep.primary_metric": config.objective.primary_metric,
                "sweep.goal": config.objective.goal.value,
                "sweep.sampling": config.sampling.type.value,
                "sweep.compute": config.compute,
                "sweep.max_total_trials": str(config.total_trials),
                "sweep.max_concurrent_trials": str(config.limits.concurrent_trials),
            },
        )
        self.say(
            f"sweep {self.parent.display_name} (attempt {self.parent.attempt}):"
            f" {config.total_trials} trials, {config.sampling.type.value} sampling, at most"
            f" {config.limits.concurrent_trials} at once on {config.compute};"
            f" {config.objective.goal.value} {config.objective.primary_metric}"
        )

    def _announce(self, trials: list[Trial]) -> None:
        metric = self.config.objective.primary_metric
        for trial in trials:
            status = trial.run.status
            if not status.is_terminal or self.said.get(trial.run.id) is status:
                continue
            self.said[trial.run.id] = status
            if status is RunStatus.COMPLETED and trial.final_value is not None:
                outcome = f"{metric} {trial.final_value:.6g}"
            else:
                outcome = trial.run.error or "no reason recorded"
            self.say(f"trial {trial.number} (run {trial.run.id}) {status.value}: {outcome}")

    def _publish(self, trials: list[Trial]) -> Leaderboard:
        """The leaderboard as the parent's `leaderboard.json` (an atomic write) and its best
        trial as the parent's tags, when they changed."""
        board = build_leaderboard(self.config, trials)
        text = json.dumps(board.to_dict(), indent=2, sort_keys=True)
        if text != self.published:
            self.ws.artifacts.put_bytes(self.parent.id, LEADERBOARD_FILE, text.encode())
            self.ws.store.log_batch(self.parent.id, tags=board.tags())
            self.published = text
        return board


def _seconds_since(moment: datetime) -> float:
    return (datetime.now(UTC) - moment).total_seconds()


def _shown(params: dict[str, ParamValue]) -> str:
    return ", ".join(f"{name}={format_value(value)}" for name, value in params.items())


def _nothing_completed(config: SweepConfig, trials: list[Trial]) -> str:
    metric = config.objective.primary_metric
    if not trials:
        return "the sweep ended before any trial ran"
    counts = ", ".join(
        f"{sum(1 for t in trials if t.run.status is s)} {s.value.lower()}"
        for s in (RunStatus.FAILED, RunStatus.CANCELED)
    )
    first = next((t for t in trials if t.run.error), trials[0])
    return (
        f"no trial completed with the primary metric {metric!r} ({counts}): trial"
        f" {first.number} (run {first.run.id}) ended {first.run.status.value}:"
        f" {first.run.error or 'no reason recorded'}"
    )
