"""The pipeline's driver: the loop its parent run's job runs (`builtin_jobs/pipeline.py`).

Each pass reads the children back from the store (`steps.py`) and acts on what it finds: a
submission an earlier driver left unfinished is canceled (its step decided again), a completed
step's outputs are sealed (read-only) for its dependants, a step whose inputs are all there is
reused or submitted (`reuse.py`), a step downstream of a failed one is recorded Canceled with
the reason, and without `continue_on_step_failure` a failure cancels the rest. Steps are
ordinary jobs queued on their computes: the scheduler decides when each runs, independent
ones at once.

Nothing lives only in this process: a step's name, reuse key and reason are recorded with its
child before it is queued, so a driver started again on the same parent (`run resume`) awaits
the running steps and goes on from the recorded ones; a completed step never runs twice, and a
step that failed in an earlier attempt runs again.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from modelyard.entities import Run, RunSource, RunStatus
from modelyard.entities.data import RunInput
from modelyard.entities.pipelines import (
    Pipeline,
    ReuseKey,
    Step,
    StepRecord,
    StepType,
)
from modelyard.errors import InvalidTransition, JobFailed, ModelyardError, RunEnded
from modelyard.services import jobs, runs
from modelyard.services.job_inputs import carried_inputs, data_goes_with_the_job
from modelyard.services.pipelines.builtin_steps import (
    StepContext,
    model_reference,
    output_artifact,
    step_job,
)
from modelyard.services.pipelines.outputs import output_tag, produced_by, register_output
from modelyard.services.pipelines.pipeline_job import RerunOptions
from modelyard.services.pipelines.reuse import (
    Decision,
    ResolvedInputs,
    ReuseKeys,
    decide,
    environment_of,
)
from modelyard.services.pipelines.steps import (
    ATTEMPT_PROPERTY,
    INTERRUPTED_ERROR,
    KEY_PROPERTY,
    REASON_PROPERTY,
    REUSED_PROPERTY,
    STEP_PROPERTY,
    STEPS_PROPERTY,
    StepJob,
    StepReader,
    StepRun,
    current_steps,
    seal_outputs,
)
from modelyard.services.run_files import OUTPUTS_FOLDER
from modelyard.services.workspaces import OpenWorkspace

KEY_PARTS_PROPERTY: Final = "pipeline.reuse_key_parts"
# A child canceled because a step it reads failed: the step that failed first.
CAUSE_PROPERTY: Final = "pipeline.failed_step"
# A step that runs a registered component: the version it ran (azureml:NAME:VERSION).
COMPONENT_PROPERTY: Final = "pipeline.component"
OUTPUTS_FILE: Final = "pipeline_outputs.json"  # the pipeline's outputs, on the parent


class PipelineStopped(Exception):
    """The pipeline's run was asked to stop (canceled): its steps are canceled too."""


@dataclass(frozen=True)
class _Failure:
    step: str
    status: RunStatus

    @property
    def reason(self) -> str:
        verb = "failed" if self.status is RunStatus.FAILED else "was canceled"
        return f"step {self.step} {verb}"


class PipelineDriver:
    def __init__(
        self,
        ws: OpenWorkspace,
        parent_id: str,
        pipeline: Pipeline,
        options: RerunOptions,
        stop_requested: Callable[[], bool],
        say: Callable[[str], None] = print,
    ) -> None:
        self.ws = ws
        self.parent = ws.store.get_run(parent_id)
        self.pipeline = pipeline
        self.options = options
        self.stop_requested = stop_requested
        self.say = say
        self.order = pipeline.order()
        self.reader = StepReader(ws.store)
        self.keys = ReuseKeys(ws, pipeline)
        self.said: set[str] = set()
        self.indexed: set[str] = set()
        self.sealed: set[str] = set()
        self.source_steps = self._source_steps()

    # The loop ----------------------------------------------------------------------------

    def run(self) -> dict[str, StepRun]:
        self._describe_on_parent()
        while True:
            steps = self._read()
            if self.stop_requested():
                self._cancel_active(steps, "the pipeline was canceled")
                raise PipelineStopped
            if all(name in steps and steps[name].status.is_terminal for name in self.order):
                break
            if not self._advance(steps):
                time.sleep(self.ws.settings.poll_interval_s)
        self._finish(steps)
        return steps

    def _read(self) -> dict[str, StepRun]:
        # A step whose process died is settled by the reaper, as any reader of runs does.
        runs.reap_dead_runs(self.ws)
        children = [self._settled(child) for child in self.reader.children(self.parent.id)]
        steps = current_steps(children, self.parent.attempt)
        for child in steps.values():
            self._index(child)
            self._announce(child)
        return steps

    def _advance(self, steps: dict[str, StepRun]) -> bool:
        """One pass's decisions; True when it started or recorded a step."""
        failure = self._first_failure(steps)
        stopping = failure is not None and not self.pipeline.settings.continue_on_step_failure
        if stopping:
            assert failure is not None
            self._cancel_active(steps, failure.reason, cause=failure.step)
        acted = False
        for name in self.order:
            if name in steps:
                continue
            blocked = self._blocked_by(self.pipeline.steps[name], steps)
            if blocked is None and stopping:
                blocked = failure
            if blocked is not None:
                steps[name] = self._record_ended(name, RunStatus.CANCELED, blocked.reason, blocked)
                acted = True
            elif all(self._completed(up, steps) for up in self.pipeline.steps[name].upstream()):
                steps[name] = self._start(self.pipeline.steps[name], steps)
                acted = True
        return acted

    # Decisions ---------------------------------------------------------------------------

    def _first_failure(self, steps: Mapping[str, StepRun]) -> _Failure | None:
        """The first step, in order, that ended without completing by itself (not canceled
        because another failed)."""
        for name in self.order:
            child = steps.get(name)
            if child is None or not child.status.is_terminal or self._completed(name, steps):
                continue
            if CAUSE_PROPERTY not in child.properties:
                return _Failure(name, child.status)
        return None

    def _blocked_by(self, step: Step, steps: Mapping[str, StepRun]) -> _Failure | None:
        """The failure that keeps `step` from running: a step it reads ended without output."""
        for upstream in sorted(step.upstream()):
            child = steps.get(upstream)
            if child is None or not child.status.is_terminal or self._completed(upstream, steps):
                continue
            cause = child.properties.get(CAUSE_PROPERTY)
            if cause is not None:
                return _Failure(cause, RunStatus.FAILED)
            return _Failure(upstream, child.status)
        return None

    @staticmethod
    def _completed(name: str, steps: Mapping[str, StepRun]) -> bool:
        child = steps.get(name)
        return child is not None and child.status is RunStatus.COMPLETED

    def _forced(self, step: Step) -> str | None:
        options = self.options
        if options.from_step is not None and step.name in self._rerun_from():
            return f"rerun from step {options.from_step}"
        if options.force_rerun:
            return "--force-rerun"
        if self.pipeline.settings.force_rerun:
            return "settings.force_rerun"
        return "the step's force_rerun" if step.force_rerun else None

    def _rerun_from(self) -> set[str]:
        assert self.options.from_step is not None
        return {self.options.from_step, *self.pipeline.dependants(self.options.from_step)}

    def _decide(self, step: Step, resolved: ResolvedInputs) -> Decision:
        forced = self._forced(step)
        earlier = self.source_steps.get(step.name)
        if forced is None and earlier is not None and earlier.status is RunStatus.COMPLETED:
            return Decision(
                f"reused run {earlier.outputs_run}'s outputs: rerun of run"
                f" {self.options.source_run} from step {self.options.from_step}",
                reuse=earlier.outputs_run,
            )
        return decide(self.ws, self.parent, self.pipeline, step, resolved.key, forced)

    # Acting on runs ----------------------------------------------------------------------

    def _start(self, step: Step, steps: Mapping[str, StepRun]) -> StepRun:
        try:
            resolved = self.keys.resolve(step, steps)
            decision = self._decide(step, resolved)
            if decision.reuse is not None:
                return self._record_reused(step, resolved, decision)
            return self._submit(step, resolved, decision)
        except ModelyardError as error:  # a compute gone, an input gone: this step fails
            return self._record_ended(step.name, RunStatus.FAILED, error.message)

    def _submit(self, step: Step, resolved: ResolvedInputs, decision: Decision) -> StepRun:
        compute = self.pipeline.compute_of(step)
        job = self._job(step, resolved, compute)
        properties = self._properties(step.name, resolved, decision)
        run = jobs.submit(
            self.ws,
            job,
            user=self.parent.user,
            parent_id=self.parent.id,
            params=resolved.parameters,
            properties=properties,
            data_inputs=resolved.data_inputs,
        )
        self.say(f"step {step.name} (run {run.id}) submitted on {compute}: {decision.reason}")
        return self._index(StepRun(run, properties))

    def _job(self, step: Step, resolved: ResolvedInputs, compute: str) -> jobs.Job:
        """A command's script, or the built-in job its type submits (`builtin_steps`)."""
        values, carried = self._inputs_of(step, resolved, compute)
        if step.type is not StepType.COMMAND:
            context = StepContext(values, self.parent.experiment_name, compute, step.name, carried)
            return step_job(self.ws, step, context)
        folders = tuple(name for name, port in step.outputs.items() if port.type.is_folder)
        outputs = {name: f"{OUTPUTS_FOLDER}/{name}" for name in step.outputs}
        return StepJob(
            experiment=self.parent.experiment_name,
            source_directory=Path(step.code),
            script=step.script,
            arguments=step.render(values, outputs),
            compute_target=compute,
            environment=environment_of(step),
            display_name=step.name,
            input_files=carried,
            output_folders=folders,
        )

    def _inputs_of(
        self, step: Step, resolved: ResolvedInputs, compute: str
    ) -> tuple[dict[str, str], dict[str, Path]]:
        """The inputs as the step's command (a sweep's: its trials') names them, and the data
        inputs its snapshot carries (snapshot path → local copy) where its compute's machines
        can't read this disk. A built-in job's job carries its own (`builtin_steps`)."""
        values = dict(resolved.values)
        if not step.type.runs_code or not data_goes_with_the_job(self.ws, compute):
            return values, {}
        # A registered model's reference (`model:NAME:1`) is a word, not this disk's path.
        data = [name for name in resolved.key.inputs if model_reference(values[name]) is None]
        local = {name: Path(values[name]) for name in data}
        texts, carried = carried_inputs(local)
        return {**values, **texts}, carried

    def _record_reused(self, step: Step, resolved: ResolvedInputs, decision: Decision) -> StepRun:
        """A child that ran nothing: its outputs are the earlier run's."""
        properties = self._properties(step.name, resolved, decision)
        run = self._create_child(step.name)
        self.ws.store.add_properties(run.id, properties)
        if resolved.parameters:
            self.ws.store.log_batch(run.id, params=resolved.parameters)
        if resolved.data_inputs:  # the versions it stands for, as a run that read them would
            self.ws.data_store.record_run_inputs(
                run.id,
                [
                    RunInput(run.id, n, r.name, r.version or 0)
                    for n, r in resolved.data_inputs.items()
                ],
            )
        self.ws.store.transition_run(run.id, RunStatus.RUNNING)
        run = self.ws.store.transition_run(run.id, RunStatus.COMPLETED)
        return self._index(StepRun(run, properties))

    def _record_ended(
        self, name: str, status: RunStatus, error: str, cause: _Failure | None = None
    ) -> StepRun:
        """A child that never ran: Canceled because a step it reads failed, or Failed before
        it could be submitted."""
        properties = {STEP_PROPERTY: name, ATTEMPT_PROPERTY: str(self.parent.attempt)}
        if cause is not None:
            properties[CAUSE_PROPERTY] = cause.step
        run = self._create_child(name)
        self.ws.store.add_properties(run.id, properties)
        run = self.ws.store.transition_run(run.id, status, error=error)
        return StepRun(run, properties)

    def _create_child(self, name: str) -> Run:
        """A child that runs nothing (reused, or never ran): on no compute, so no queue or
        node count ever sees it."""
        step = self.pipeline.steps[name]
        return self.ws.store.create_run(
            self.parent.experiment_name,
            user=self.parent.user,
            display_name=name,
            source=RunSource(script=step.script, arguments=step.command[2:]),
            parent_id=self.parent.id,
        )

    def _properties(
        self, name: str, resolved: ResolvedInputs, decision: Decision
    ) -> dict[str, str]:
        properties = {
            STEP_PROPERTY: name,
            ATTEMPT_PROPERTY: str(self.parent.attempt),
            REASON_PROPERTY: decision.reason,
            KEY_PROPERTY: resolved.key.digest,
            KEY_PARTS_PROPERTY: json.dumps(resolved.key.to_dict(), sort_keys=True),
        }
        if decision.reuse is not None:
            properties[REUSED_PROPERTY] = decision.reuse
        component = self.pipeline.steps[name].component
        if component is not None:
            properties[COMPONENT_PROPERTY] = component
        return properties

    def _index(self, child: StepRun) -> StepRun:
        """The child's key in the pipeline store (once; a resumed driver records what the
        one before it had no time to)."""
        parts = child.properties.get(KEY_PARTS_PROPERTY)
        if parts is None or child.run.id in self.indexed:
            return child
        self.ws.pipeline_store.record_pipeline_step(
            StepRecord(
                run_id=child.run.id,
                pipeline_run_id=self.parent.id,
                experiment=self.parent.experiment_name,
                pipeline=self.pipeline.name,
                step=str(child.step),
                key=ReuseKey.from_dict(json.loads(parts)),
                reused_from=child.reused_from,
                reason=child.properties.get(REASON_PROPERTY, ""),
            )
        )
        self.indexed.add(child.run.id)
        return child

    def _settled(self, child: StepRun) -> StepRun:
        """A submission an earlier driver left NotStarted never ran: canceled as interrupted
        (its step is decided again). A reuse it left Running ran nothing: completed."""
        run = child.run
        canceled = runs.cancel_unstarted(self.ws, run, INTERRUPTED_ERROR)
        if canceled is not None:
            self.say(f"run {run.id}: an interrupted submission, canceled (it never ran)")
            return StepRun(canceled, child.properties)
        if run.status is RunStatus.RUNNING and child.reused_from is not None:
            try:
                return StepRun(
                    self.ws.store.transition_run(run.id, RunStatus.COMPLETED), child.properties
                )
            except InvalidTransition:
                return StepRun(self.ws.store.get_run(run.id), child.properties)
        return child

    def _cancel_active(
        self, steps: Mapping[str, StepRun], reason: str, cause: str | None = None
    ) -> None:
        active = [child for child in steps.values() if not child.status.is_terminal]
        if cause is not None:  # canceled because another failed: not a failure of its own
            for child in active:
                with contextlib.suppress(RunEnded):
                    self.ws.store.add_properties(child.run.id, {CAUSE_PROPERTY: cause})
        runs.cancel_runs(self.ws, [child.run.id for child in active], reason)
        for child in active:
            self.say(f"step {child.step} (run {child.run.id}) canceled: {reason}")

    # Reporting ---------------------------------------------------------------------------

    def _announce(self, child: StepRun) -> None:
        """Say how a step ended, once; a completed step's outputs are sealed first."""
        if not child.status.is_terminal or child.run.id in self.said:
            return
        self.said.add(child.run.id)
        if child.status is RunStatus.COMPLETED:
            self._seal(child)
            if child.reused_from is None:  # a reused step's outputs were registered when made
                self._register_outputs(child)
        if child.reused_from is not None:
            outcome = f": reused run {child.reused_from}'s outputs"
        else:
            outcome = f": {child.run.error}" if child.run.error else ""
        self.say(f"step {child.step} (run {child.run.id}) {child.status.value}{outcome}")

    def _seal(self, child: StepRun) -> None:
        run_id, step = child.outputs_run, self.pipeline.steps.get(child.step or "")
        if run_id in self.sealed or step is None:
            return
        for name, port in step.output_ports().items():
            try:
                path = self.keys.output_path(step, run_id, name)
            except ModelyardError as error:  # a sweep without a best trial: nothing to seal
                self.say(f"step {step.name} output {name}: {error.message}")
                continue
            seal_outputs(path, port.type.is_folder)
        self.sealed.add(run_id)

    def _register_outputs(self, child: StepRun) -> None:
        """Each output the step names (`{name: flowers-clean}`), or whose pipeline output
        names one, as a version of that data asset, recorded on the step's run (a tag: the
        run has ended) and on the version (its tags: the run that produced it). Unchanged
        content is the existing version."""
        step = self.pipeline.steps.get(child.step or "")
        for output, port in (step.output_ports() if step else {}).items():
            asset = self.pipeline.asset_of(port)
            if step is None or asset is None:
                continue
            try:
                path = self.keys.output_path(step, child.run.id, output)
                tags = produced_by(child, self.parent)
                registered = register_output(self.ws, path, port, asset, tags)
            except ModelyardError as error:
                self.say(f"step {step.name} output {output} not registered: {error.message}")
                continue
            version = registered.version
            reference = f"{version.name}:{version.version}"
            self.ws.store.log_batch(child.run.id, tags={output_tag(output): reference})
            how = (
                "a new version" if registered.created else "content unchanged: the existing version"
            )
            self.say(f"step {step.name} output {output} registered as data {reference} ({how})")

    def _describe_on_parent(self) -> None:
        settings = self.pipeline.settings
        self.ws.store.add_properties(
            self.parent.id,
            {
                "pipeline.name": self.pipeline.name,
                STEPS_PROPERTY: ",".join(self.order),
                "pipeline.default_compute": settings.default_compute,
                "pipeline.continue_on_step_failure": str(settings.continue_on_step_failure).lower(),
            },
        )
        rerun = ""
        if self.options.source_run is not None:
            start = f" from step {self.options.from_step}" if self.options.from_step else ""
            rerun = f", a rerun of run {self.options.source_run}{start}"
        self.say(
            f"pipeline {self.pipeline.name} (attempt {self.parent.attempt}{rerun}):"
            f" {len(self.order)} steps, in order {', '.join(self.order)}"
        )

    def _finish(self, steps: Mapping[str, StepRun]) -> None:
        self._publish_outputs(steps)
        failure = self._first_failure(steps)
        if failure is None:
            reused = sum(1 for child in steps.values() if child.reused_from is not None)
            self.say(f"pipeline completed: {len(steps)} steps, {reused} reused")
            return
        child = steps[failure.step]
        raise JobFailed(
            f"{failure.reason}: {child.run.error or 'no reason recorded'} (run {child.run.id})",
            step=failure.step,
            run_id=child.run.id,
        )

    def _publish_outputs(self, steps: Mapping[str, StepRun]) -> None:
        """Where each pipeline output is: a step run's artifacts folder."""
        found = {}
        for name, step in self.pipeline.steps.items():
            child = steps.get(name)
            for output, port in step.output_ports().items():
                if (
                    port.parent_output is not None
                    and child is not None
                    and self._completed(name, steps)
                ):
                    run_id, path = output_artifact(self.ws, step, child.outputs_run, output)
                    found[port.parent_output] = {"run_id": run_id, "path": path, "step": name}
        if found:
            text = json.dumps(found, indent=2, sort_keys=True)
            self.ws.artifacts.put_bytes(self.parent.id, OUTPUTS_FILE, text.encode())

    def _source_steps(self) -> dict[str, StepRun]:
        """The steps of the run a rerun was made from, which the steps before `from_step` reuse."""
        source = self.options.source_run
        if source is None or self.options.from_step is None:
            return {}
        attempt = self.ws.store.get_run(source).attempt
        return current_steps(StepReader(self.ws.store).children(source), attempt)
