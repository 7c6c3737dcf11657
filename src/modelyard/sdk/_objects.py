"""The SDK's objects: a Workspace holds Experiments, an Experiment holds Runs.

A Run logs metrics, params, tags, properties and files, and follows and controls its run. Inside
a job, `Run.get_context()` returns the job's run; anywhere else it returns an offline run that
warns once and writes nothing, so the same script runs with and without Modelyard.

A job can be preempted and run again under the same run id (`run.attempt` counts). It resumes
instead of restarting by keeping checkpoints in `run.checkpoint_dir` and watching
`run.stop_requested` (see runtime/preemption.py for what SIGTERM does then); the job's run logs
no point at a (name, step) that an earlier attempt logged, so a resumed job that repeats a few
steps leaves no duplicates in its series.

The three live in one module because each hands out the next (`ws.experiments`,
`experiment.submit`) and a job's Run finds its way back to both.
"""

from __future__ import annotations

import atexit
import getpass
import os
import sys
import threading
import traceback
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from modelyard.entities import ResumableJob, RunStatus, validate_experiment_name
from modelyard.entities import Workspace as WorkspaceRecord
from modelyard.entities.validation import check_metric
from modelyard.errors import InvalidTransition, JobFailed, ModelyardError, RunEnded
from modelyard.runtime import job_error, preemption
from modelyard.runtime.heartbeat import Heartbeat
from modelyard.runtime.job_env import RUN_ID_ENV, job_location
from modelyard.runtime.metrics_buffer import MetricsBuffer
from modelyard.sdk._component import ComponentOperations
from modelyard.sdk._compute import ComputeTarget, compute_targets
from modelyard.sdk._data import DataOperations
from modelyard.sdk._hyperdrive import HyperDriveConfig
from modelyard.sdk._model import Model
from modelyard.sdk._pipeline import Pipeline
from modelyard.sdk._script_run_config import ScriptRunConfig
from modelyard.services import automl, jobs, portal_links, remote, resume, runs, training
from modelyard.services import workspaces as workspace_service
from modelyard.services.experiments import delete_experiment
from modelyard.services.pipelines import submission as pipeline_submission
from modelyard.services.pipelines.status import pipeline_steps
from modelyard.services.run_files import STD_LOG
from modelyard.services.sweeps import submission as sweep_submission
from modelyard.services.sweeps.leaderboard import read_leaderboard
from modelyard.services.workspaces import OpenWorkspace
from modelyard.tabular.config import AutoMLConfig
from modelyard.vision.automl_config import ImageAutoMLConfig
from modelyard.vision.config import ImageClassificationConfig


class Workspace:
    """Open with `Workspace.from_config()`, `Workspace.get(name)` or `Workspace.create(name)`."""

    def __init__(self, opened: OpenWorkspace) -> None:
        self._opened = opened

    @classmethod
    def create(
        cls,
        name: str,
        *,
        path: str | Path | None = None,
        location: str = "local",
        resource_group: str = "default",
        store_uri: str | None = None,
        exist_ok: bool = False,
    ) -> Workspace:
        root = Path(path) if path is not None else None
        if exist_ok and root is not None and (root / workspace_service.CONFIG_FILE).exists():
            return cls.get(str(root))
        return cls(
            workspace_service.create_workspace(
                name,
                path=root,
                location=location,
                resource_group=resource_group,
                store_uri=store_uri,
            )
        )

    @classmethod
    def get(cls, name_or_path: str) -> Workspace:
        """By name, folder, or the URL of a `modelyard server`."""
        return cls(remote.open_referenced_workspace(name_or_path))

    @classmethod
    def connect(cls, server_url: str, token: str | None = None) -> Workspace:
        """The workspace served at `server_url`; a `token` given here is saved for next time
        (this machine's user only). Then `write_config()` points a project folder at it."""
        opened = remote.open_remote_workspace(server_url, token)
        if token is not None:
            remote.save_token(server_url, token)
        return cls(opened)

    @classmethod
    def from_config(cls, path: str | Path | None = None) -> Workspace:
        """Find `.modelyard/config.json` in `path` (default: the current folder) or a parent;
        it names a workspace folder or a server."""
        start = Path(path) if path is not None else Path.cwd()
        return cls(remote.open_linked_workspace(workspace_service.find_project_or_fail(start)))

    @staticmethod
    def list() -> list[WorkspaceRecord]:
        return workspace_service.list_workspaces()

    @property
    def name(self) -> str:
        return self._opened.workspace.name

    @property
    def location(self) -> str:
        return self._opened.workspace.location

    @property
    def resource_group(self) -> str:
        return self._opened.workspace.resource_group

    @property
    def path(self) -> Path:
        """The workspace folder; for a workspace behind a server, this machine's folder for it."""
        return self._opened.root

    @property
    def server_url(self) -> str | None:
        return self._opened.server_url

    @property
    def compute_targets(self) -> dict[str, ComputeTarget]:
        """Every compute by name (Azure's `ws.compute_targets`), the built-in `local` too."""
        return compute_targets(self)

    @property
    def models(self) -> dict[str, Model]:
        """The latest version of every model by name (Azure's `ws.models`)."""
        return {model.name: model for model in Model.list(self)}

    @property
    def data(self) -> DataOperations:
        """Data assets (Azure v2's `ml_client.data`)."""
        return DataOperations(self)

    @property
    def components(self) -> ComponentOperations:
        """Registered components (Azure v2's `ml_client.components`)."""
        return ComponentOperations(self)

    @property
    def experiments(self) -> dict[str, Experiment]:
        return {e.name: Experiment(self, e.name) for e in self._opened.store.list_experiments()}

    def get_details(self) -> dict[str, Any]:
        return self._opened.workspace.to_dict()

    def write_config(self, path: str | Path = ".") -> Path:
        if self._opened.server_url is not None:
            return remote.write_project_config(Path(path), self._opened)
        return workspace_service.write_project_config(Path(path), self._opened.root)

    def delete(self) -> None:
        """Delete the workspace folder and everything in it (on the workspace's own machine)."""
        self._opened.local_artifacts  # noqa: B018 (refused for a workspace behind a server)
        self.close()
        workspace_service.delete_workspace(str(self._opened.root))

    def close(self) -> None:
        self._opened.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.server_url is not None:
            return f"Workspace(name={self.name!r}, server_url={self.server_url!r})"
        return f"Workspace(name={self.name!r}, path={str(self.path)!r})"


class Experiment:
    def __init__(self, workspace: Workspace, name: str) -> None:
        self.workspace = workspace
        self.name = validate_experiment_name(name)

    def submit(
        self,
        config: ScriptRunConfig
        | ImageClassificationConfig
        | AutoMLConfig
        | ImageAutoMLConfig
        | HyperDriveConfig
        | Pipeline,
        display_name: str | None = None,
        force_rerun: bool = False,
    ) -> Run:
        """Queue a script (ScriptRunConfig), a built-in trainer (ImageClassificationConfig,
        AutoMLConfig: AutoML for tables, or for images with task image-classification;
        ImageAutoMLConfig: AutoML for images with its whole search space; both an AutoMLRun),
        a sweep (HyperDriveConfig: a HyperDriveRun, whose trials are its child runs) or a
        pipeline (`load_pipeline(path)`: a PipelineRun, whose steps are its child runs;
        `force_rerun` reuses no earlier step run)."""
        ws = self.workspace._opened
        if isinstance(config, Pipeline):
            job = config.to_job(self.name, display_name, force_rerun)
            return PipelineRun(self, pipeline_submission.submit_pipeline(ws, job).id)
        if isinstance(config, HyperDriveConfig):
            sweep = sweep_submission.submit_sweep(ws, config.to_sweep_job(self.name, display_name))
            return HyperDriveRun(self, sweep.id)
        if isinstance(config, AutoMLConfig):
            record = automl.submit_automl(ws, self.name, config, display_name)
            return AutoMLRun(self, record.id)
        if isinstance(config, ImageAutoMLConfig):
            record = automl.submit_image_automl(ws, self.name, config, display_name)
            return AutoMLRun(self, record.id)
        if isinstance(config, ImageClassificationConfig):
            record = training.submit_image_classification(ws, self.name, config, display_name)
        else:
            record = jobs.submit(ws, config.to_job(self.name, display_name))
        return Run(self, record.id)

    def start_logging(self, display_name: str | None = None) -> Run:
        """An interactive run in this process (a notebook, a script run by hand)."""
        return Run.start_interactive(self, display_name)

    def get_runs(self, statuses: list[RunStatus] | None = None) -> Iterator[Run]:
        store = self.workspace._opened.store
        for record in store.list_runs(self.name, statuses=statuses):
            yield Run(self, record.id)

    def delete(self) -> None:
        delete_experiment(self.workspace._opened, self.name)

    def __repr__(self) -> str:
        return f"Experiment(workspace={self.workspace.name!r}, name={self.name!r})"


class Run:
    """A run in a workspace. Metrics are buffered and written in batches; `flush()` forces it."""

    def __init__(self, experiment: Experiment, run_id: str) -> None:
        self.experiment = experiment
        self.id = run_id
        self._buffer: MetricsBuffer | None = None
        self._heartbeat: Heartbeat | None = None
        self._steps: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        # Set for a job's own run (Run.get_context()): the steps its earlier attempts logged,
        # read at the first log, so that a resumed job does not log them again.
        self._skips_earlier_attempts = False
        self._earlier_steps: dict[str, set[int]] | None = None

    # Construction ----------------------------------------------------------------------------

    @classmethod
    def get_context(cls, allow_offline: bool = True) -> Run | OfflineRun:
        # A folder beside the workspace, or a server's URL for a job on another machine.
        run_id, root = os.environ.get(RUN_ID_ENV), job_location()
        if not run_id or not root:
            if not allow_offline:
                raise JobFailed(
                    "Run.get_context() found no run: it works inside a Modelyard job; pass"
                    " allow_offline=True to log nothing outside one",
                )
            return OfflineRun()
        return _job_run(run_id, root)

    @classmethod
    def start_interactive(cls, experiment: Experiment, display_name: str | None = None) -> Run:
        record = runs.start_interactive_run(
            experiment.workspace._opened,
            experiment.name,
            user=getpass.getuser(),
            display_name=display_name,
        )
        return cls(experiment, record.id)._own()

    def _own(self) -> Run:
        """This process drives the run: heartbeat it and end it at exit if nobody else did."""
        _watch_uncaught_errors()
        settings = self._ws.settings
        self._heartbeat = Heartbeat(self._ws.store, self.id, settings.heartbeat_interval_s).start()
        atexit.register(self._end_at_exit)
        return self

    def _end_at_exit(self) -> None:
        try:
            if _uncaught_error is None:
                self._end(RunStatus.COMPLETED)
            else:
                self._end(RunStatus.FAILED, f"uncaught {_uncaught_error}")
        except ModelyardError as error:  # at exit nobody can catch it: say it in one line
            print(f"modelyard: could not end run {self.id}: {error.message}", file=sys.stderr)

    @property
    def _ws(self) -> Any:
        return self.experiment.workspace._opened

    # Logging ---------------------------------------------------------------------------------

    def log(self, name: str, value: float, step: int | None = None, description: str = "") -> None:
        """Add a point to the metric `name`; without `step`, points are numbered 0, 1, 2…

        In a job's run, a point at a step an earlier attempt of the run already logged is left
        out (the earlier value stays: a resumed job repeats the steps after its checkpoint, and
        a seeded one finds the same values), and numbering without `step` continues after the
        earlier attempts' last step.
        """
        with self._lock:
            earlier = self._steps_of_earlier_attempts()
            step = self._steps[name] if step is None else step
            check_metric(name, value, step)
            self._steps[name] = step + 1
            if step in earlier.get(name, ()):
                return
        self._metrics_buffer().add(name, value, step)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        for name, value in metrics.items():
            self.log(name, value, step)

    def log_param(self, key: str, value: object) -> None:
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, object]) -> None:
        """Params are immutable: the same value again is fine, a different one is an error."""
        self._ws.store.log_batch(self.id, params={k: str(v) for k, v in params.items()})

    def set_tag(self, key: str, value: object) -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, object]) -> None:
        self._ws.store.log_batch(self.id, tags={k: str(v) for k, v in tags.items()})

    def add_properties(self, properties: Mapping[str, object]) -> None:
        self._ws.store.add_properties(self.id, {k: str(v) for k, v in properties.items()})

    def flush(self) -> None:
        if self._buffer is not None:
            self._buffer.flush()

    def _steps_of_earlier_attempts(self) -> dict[str, set[int]]:
        """Called under the lock; read once, at the first point this process logs."""
        if not self._skips_earlier_attempts:
            return {}
        if self._earlier_steps is None:
            earlier: dict[str, set[int]] = defaultdict(set)
            for metric in self._ws.store.get_metric_history(self.id):
                earlier[metric.name].add(metric.step)
            for name, steps in earlier.items():
                self._steps[name] = max(self._steps[name], max(steps) + 1)
            self._earlier_steps = dict(earlier)
        return self._earlier_steps

    def _metrics_buffer(self) -> MetricsBuffer:
        if self._buffer is None:
            with self._lock:
                if self._buffer is None:
                    settings = self._ws.settings
                    self._buffer = MetricsBuffer(
                        self._ws.store,
                        self.id,
                        settings.metric_flush_size,
                        settings.metric_flush_interval_s,
                    )
                    atexit.register(self._buffer.close)
        return self._buffer

    # Files -----------------------------------------------------------------------------------

    def upload_file(self, name: str, path_or_stream: str | Path) -> str:
        return self._ws.artifacts.put_file(self.id, name, Path(path_or_stream)).path  # type: ignore[no-any-return]

    def upload_folder(self, name: str, path: str | Path) -> list[str]:
        return [info.path for info in self._ws.artifacts.put_folder(self.id, name, Path(path))]

    def download_file(self, name: str, output_file_path: str | Path = ".") -> Path:
        return self._ws.artifacts.download(self.id, name, Path(output_file_path))  # type: ignore[no-any-return]

    def download_files(self, prefix: str = "", output_directory: str | Path = ".") -> list[Path]:
        return list(self._ws.artifacts.download_folder(self.id, prefix, Path(output_directory)))

    def get_file_names(self) -> list[str]:
        return [info.path for info in self._ws.artifacts.list(self.id)]

    def register_model(
        self,
        model_name: str,
        model_path: str = "outputs",
        tags: Mapping[str, object] | None = None,
        properties: Mapping[str, object] | None = None,
        description: str | None = None,
        model_framework: str | None = None,
    ) -> Model:
        """Register the run's artifact file or folder `model_path` (its outputs by default) as
        the next version of `model_name`, with this run as its lineage. A submitted job's
        outputs are the run's once the job has ended (its supervisor uploads them then):
        register after `wait_for_completion()`, or upload the files first."""
        return Model._register_run(
            self.experiment.workspace,
            self.id,
            model_name,
            model_path,
            tags=tags,
            properties=properties,
            description=description,
            framework=model_framework,
        )

    # Preemption and resuming -----------------------------------------------------------------

    @property
    def checkpoint_dir(self) -> Path:
        """Where this job keeps checkpoints: the same folder in every attempt of the run, kept
        after the job's working copy is gone; outside a job, ./checkpoints."""
        return preemption.checkpoint_dir()

    @property
    def attempt(self) -> int:
        """1 for a run's first attempt, one more each time it was preempted and queued again."""
        return preemption.attempt()

    @property
    def stop_requested(self) -> bool:
        """True once the job has been asked to stop (preempted): save a checkpoint and exit
        soon, or the grace period's SIGKILL ends it. Reading it once opts in to the stop:
        until a script reads it (or calls `on_stop`), SIGTERM ends it at once, as always."""
        return preemption.stop_requested()

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Call `callback` when the job is asked to stop (once; keep it short, it runs in the
        signal handler). Opts in, as reading `stop_requested` does."""
        preemption.on_stop(callback)

    # Reading ---------------------------------------------------------------------------------

    @property
    def display_name(self) -> str:
        return str(self._ws.store.get_run(self.id).display_name)

    def get_status(self) -> str:
        return runs.get_run(self._ws, self.id).status.value

    def get_details(self) -> dict[str, Any]:
        return runs.get_run_details(self._ws, self.id).to_dict()

    def get_metrics(self, name: str | None = None) -> dict[str, Any]:
        """Each metric as its single value, or as a list of values when it is a series."""
        self.flush()
        series: dict[str, list[float]] = defaultdict(list)
        for metric in self._ws.store.get_metric_history(self.id, name):
            series[metric.name].append(metric.value)
        return {key: values[0] if len(values) == 1 else values for key, values in series.items()}

    def get_params(self) -> dict[str, str]:
        return dict(self._ws.store.get_run_data(self.id).params)

    def get_tags(self) -> dict[str, str]:
        return dict(self._ws.store.get_run_data(self.id).tags)

    def get_properties(self) -> dict[str, str]:
        return dict(self._ws.store.get_run_data(self.id).properties)

    # Children and lifecycle ------------------------------------------------------------------

    def child_run(self, name: str | None = None) -> Run:
        record = runs.start_interactive_run(
            self._ws,
            self.experiment.name,
            user=getpass.getuser(),
            display_name=name,
            parent_id=self.id,
        )
        return Run(self.experiment, record.id)._own()

    def get_children(self) -> list[Run]:
        return [Run(self.experiment, r.id) for r in self._ws.store.list_runs(parent_id=self.id)]

    def complete(self) -> None:
        """End the run Completed. Inside its own job this only flushes: the job's exit ends it."""
        if self._in_own_job():
            self.flush()
            return
        self._end_driven_here(RunStatus.COMPLETED)

    def fail(self, error: str = "failed by the user") -> None:
        """End the run Failed with `error`. Inside its own job, the run ends Failed with `error`
        once the script exits (whatever its exit code): the job's end is its supervisor's to
        record."""
        if self._in_own_job():
            self.flush()
            if job_error.report_failure(error):
                return
        self._end_driven_here(RunStatus.FAILED, error)

    def _in_own_job(self) -> bool:
        return self._heartbeat is None and os.environ.get(RUN_ID_ENV) == self.id

    def _end_driven_here(self, status: RunStatus, error: str | None = None) -> None:
        """End a run this process drives. One driven elsewhere (its job, or the session that
        started it) records its own end: from here it can only be canceled, never silently
        left as it was."""
        if self._heartbeat is None and not self._ws.store.get_run(self.id).status.is_terminal:
            raise InvalidTransition(
                f"run {self.id} is driven by another process (its job, or the session that"
                " started it), which records its end: stop it with run.cancel(); inside its"
                " job, Run.get_context().fail(reason) ends it Failed",
                run_id=self.id,
            )
        self._end(status, error)

    def cancel(self) -> None:
        self.flush()
        runs.cancel_run(self._ws, self.id)

    def _end(self, status: RunStatus, error: str | None = None) -> None:
        if self._buffer is not None:
            self._buffer.close()
        if self._heartbeat is not None:
            self._heartbeat.stop()
            runs.end_run(self._ws, self.id, status, error)
            self._heartbeat = None

    def wait_for_completion(
        self,
        show_output: bool = False,
        timeout: float | None = None,
        raise_on_error: bool = True,
        stream: TextIO | None = None,
    ) -> dict[str, Any]:
        if show_output:
            out = stream or sys.stdout
            out.write(f"RunId: {self.id}\nWeb View: {self.get_portal_url() or 'no server'}\n\n")
            for chunk in jobs.follow_log(self._ws, self.id, path=STD_LOG):
                out.write(chunk)
                out.flush()
        record = jobs.wait_for_completion(self._ws, self.id, timeout)
        if raise_on_error and record.status is RunStatus.FAILED:
            raise JobFailed(f"run {self.id} failed: {record.error}", run_id=self.id)
        return self.get_details()

    def get_portal_url(self) -> str | None:
        """The run's page in the portal (Azure ML's "monitor current run" link); None while no
        `modelyard server` serves this workspace."""
        return portal_links.portal_link(self._ws, self.id)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, error_type: object, error: object, _tb: object) -> None:
        if error is None:
            self.complete()
        else:
            self.fail(f"{type(error).__name__}: {error}")

    def __repr__(self) -> str:
        return f"Run(experiment={self.experiment.name!r}, id={self.id!r})"


class HyperDriveRun(Run):
    """A sweep's parent run (Azure's HyperDriveRun): its children are the trials."""

    def get_best_run_by_primary_metric(self) -> Run | None:
        """The completed trial with the best final value of the primary metric; None while
        none has completed."""
        best = read_leaderboard(self._ws, self.id).best
        return None if best is None else Run(self.experiment, best.run_id)

    def get_children_sorted_by_primary_metric(self, top: int = 0) -> list[dict[str, Any]]:
        """Each trial as `run_id`, `hyperparameters`, `best_primary_metric` (its final
        value) and `status`, the best first; `top` keeps that many (0: all)."""
        entries = read_leaderboard(self._ws, self.id).entries
        rows = [
            {
                "run_id": entry.run_id,
                "hyperparameters": dict(entry.params),
                "best_primary_metric": entry.value,
                "status": entry.status.value,
            }
            for entry in entries
        ]
        return rows[:top] if top else rows

    def get_leaderboard(self) -> dict[str, Any]:
        """The leaderboard as the sweep's `leaderboard.json` holds it."""
        return read_leaderboard(self._ws, self.id).to_dict()

    def resume(self) -> None:
        """Queue the sweep again after its driver died or it was canceled (`modelyard sweep
        resume`): it carries on from the trials recorded; none runs twice."""
        resume.resume_job(self._ws, self.id, ResumableJob.SWEEP)


class PipelineRun(Run):
    """A pipeline's parent run: its children are the steps' runs."""

    def get_steps(self) -> list[dict[str, Any]]:
        """Each step's run: `step`, `run_id`, `status`, `reused_from` (the run whose outputs
        it reused), `reason` (why it ran) and `error`, in the pipeline's order."""
        return [step.to_dict() for step in pipeline_steps(self._ws, self.id)]

    def rerun(self, from_step: str | None = None, force_rerun: bool = False) -> PipelineRun:
        """A new run of this pipeline run's definition (`modelyard pipeline rerun`)."""
        new = pipeline_submission.rerun_pipeline(
            self._ws, self.id, from_step=from_step, force_rerun=force_rerun
        )
        return PipelineRun(self.experiment, new.id)

    def resume(self) -> None:
        """Queue the pipeline again after its driver was killed or it was canceled (`modelyard
        run resume`): it goes on from the steps recorded; no completed step runs again."""
        resume.resume_job(self._ws, self.id, ResumableJob.PIPELINE)


class AutoMLRun(Run):
    """An AutoML-for-tables run (Azure's AutoMLRun): its children are the model families
    searched, its outputs the best model. `AutoMLRun(experiment, run_id)` names one that
    exists."""

    def get_leaderboard(self) -> dict[str, Any] | None:
        """The families ranked by the primary metric, as `outputs/leaderboard.json` holds
        them; None until the run has written it."""
        return automl.read_leaderboard(self._ws, self.id)

    def resume(self) -> None:
        """Queue the run again after its process was killed or it was canceled (`modelyard
        run resume`): it searches only the families no earlier attempt finished."""
        resume.resume_job(self._ws, self.id, ResumableJob.AUTOML)


_uncaught_error: str | None = None
_uncaught_at: str | None = None  # file:line where it was raised
_previous_excepthook = sys.excepthook


def _watch_uncaught_errors() -> None:
    """Remember an uncaught exception, so runs ended at exit are Failed rather than Completed."""

    def hook(error_type: type[BaseException], error: BaseException, tb: Any) -> None:
        global _uncaught_error, _uncaught_at
        if isinstance(error, RunEnded):
            # A script outliving its run (canceled, or failed when its job died): one line
            # says why it stops, and there is no run left to report a failure to.
            print(f"modelyard: stopping: {error.message}", file=sys.stderr)
            return
        _uncaught_error = f"{error_type.__name__}: {error}"
        frames = traceback.extract_tb(tb)
        _uncaught_at = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else None
        _previous_excepthook(error_type, error, tb)

    if sys.excepthook is _previous_excepthook:
        sys.excepthook = hook


def _job_run(run_id: str, root: str) -> Run:
    workspace = Workspace.get(root)
    record = workspace._opened.store.get_run(run_id)
    _watch_uncaught_errors()
    _report_uncaught_error_at_exit()
    preemption.watch_for_stop()
    run = Run(Experiment(workspace, validate_experiment_name(record.experiment_name)), run_id)
    run._skips_earlier_attempts = True
    return run


_reporting_uncaught_errors = False


def _report_uncaught_error_at_exit() -> None:
    """A job script that dies of an exception fails its run with that exception as the reason
    (its traceback stays in the log), unless it gave a reason of its own with `fail()`."""
    global _reporting_uncaught_errors
    if _reporting_uncaught_errors:
        return
    _reporting_uncaught_errors = True

    def report() -> None:
        if _uncaught_error is not None:
            where = f" (at {_uncaught_at})" if _uncaught_at else ""
            job_error.report_failure(f"uncaught {_uncaught_error}{where}", keep_earlier=True)

    atexit.register(report)


class OfflineRun:
    """What `Run.get_context()` returns outside a job: warns once, records nothing."""

    id = "OfflineRun"
    _warned = False

    def _warn(self) -> None:
        if not OfflineRun._warned:
            OfflineRun._warned = True
            warnings.warn(
                "not inside a Modelyard job: metrics, params and files are not recorded."
                " Submit the script with `modelyard job submit` to track it.",
                stacklevel=3,
            )

    def log(self, name: str, value: float, step: int | None = None, description: str = "") -> None:
        self._warn()

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        self._warn()

    def log_param(self, key: str, value: object) -> None:
        self._warn()

    def log_params(self, params: Mapping[str, object]) -> None:
        self._warn()

    def set_tag(self, key: str, value: object) -> None:
        self._warn()

    def set_tags(self, tags: Mapping[str, object]) -> None:
        self._warn()

    def add_properties(self, properties: Mapping[str, object]) -> None:
        self._warn()

    def upload_file(self, name: str, path_or_stream: str | Path) -> str:
        self._warn()
        return name

    def upload_folder(self, name: str, path: str | Path) -> list[str]:
        self._warn()
        return []

    def flush(self) -> None:
        pass

    def complete(self) -> None:
        pass

    @property
    def checkpoint_dir(self) -> Path:
        """./checkpoints (or MODELYARD_CHECKPOINT_DIR where set): the same script resumes from
        it whether run by hand or as a job."""
        return preemption.checkpoint_dir()

    @property
    def attempt(self) -> int:
        return preemption.attempt()

    @property
    def stop_requested(self) -> bool:
        """Always False: nothing preempts a script outside a job (SIGTERM keeps its default)."""
        return False

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Nothing stops a script outside a job: `callback` is never called."""
