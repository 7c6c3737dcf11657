"""Store interfaces: `SqlStore` implements both; `RestStore` speaks `TrackingStore` over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from modelyard.entities import (
    ApiToken,
    Experiment,
    Metric,
    Role,
    Run,
    RunData,
    RunSource,
    RunStatus,
    User,
)
from modelyard.entities.components import (
    Component,
    ComponentReference,
    ComponentSpec,
    ComponentVersion,
)
from modelyard.entities.compute import ComputeRequest, ComputeTarget, ProvisioningState
from modelyard.entities.data import (
    DataAsset,
    DataReference,
    DataVersion,
    DataVersionRequest,
    RunInput,
)
from modelyard.entities.metric_series import DEFAULT_MAX_POINTS, MetricSeriesRead
from modelyard.entities.pipelines import StepRecord
from modelyard.entities.records import RunAttempt
from modelyard.entities.registry import (
    ModelAlias,
    ModelFile,
    ModelReference,
    ModelVersion,
    ModelVersionRequest,
    RegisteredModel,
)
from modelyard.entities.run_query import RunPage, RunQuery
from modelyard.entities.scheduling import SchedulingPlan, SchedulingState


@dataclass(frozen=True)
class StoredToken:
    """What checking a request's token needs, read in one go."""

    token: ApiToken
    user: User
    secret_hash: str  # SHA-256 hex of the secret; the secret itself is never stored


class TrackingStore(Protocol):
    # Experiments
    def get_or_create_experiment(self, name: str) -> Experiment: ...
    def get_experiment(self, name: str) -> Experiment: ...
    def list_experiments(self) -> list[Experiment]: ...
    def delete_experiment(self, name: str) -> list[str]:
        """Delete the experiment and its runs; return the deleted run ids."""
        ...

    # Runs
    def create_run(
        self,
        experiment_name: str,
        *,
        user: str,
        display_name: str | None = None,
        source: RunSource | None = None,
        parent_id: str | None = None,
        compute_target: str | None = None,
        status: RunStatus = RunStatus.NOT_STARTED,
    ) -> Run: ...
    def get_run(self, run_id: str) -> Run: ...
    def list_runs(
        self,
        experiment_name: str | None = None,
        *,
        statuses: Sequence[RunStatus] | None = None,
        parent_id: str | None = None,
        id_prefix: str | None = None,
        display_name: str | None = None,
        limit: int = 1000,
    ) -> list[Run]:
        """Newest first; `id_prefix` keeps the runs whose id starts with it (how a user names
        a run by the first characters of its id), `display_name` those with that name."""
        ...

    def transition_run(
        self, run_id: str, target: RunStatus, *, error: str | None = None
    ) -> Run: ...
    def record_process(self, run_id: str, host: str, pid: int, pid_started_at: float) -> None: ...
    def heartbeat(self, run_id: str) -> Run:
        """A sign of life; RunEnded once the run has ended."""
        ...

    def list_runs_silent_since(self, moment: datetime) -> list[Run]:
        """Active or queued runs whose last heartbeat (or start) is older than `moment`."""
        ...

    # Logged data. An ended run refuses metrics, params and properties (RunEnded); its tags
    # stay editable.
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None: ...
    def add_properties(self, run_id: str, properties: Mapping[str, str]) -> None: ...
    def get_metric_history(self, run_id: str, name: str | None = None) -> list[Metric]: ...
    def get_run_data(self, run_id: str) -> RunData: ...

    # Runs tables and charts (the portal's reads; any client may make them)
    def query_runs(self, query: RunQuery) -> RunPage:
        """One page of the runs matching every filter of `query`, how many match in all, and
        the latest values of the metrics a table of them shows; NotFound for an unknown
        experiment."""
        ...

    def read_metric_series(
        self,
        run_id: str,
        names: Sequence[str] = (),
        max_points: int = DEFAULT_MAX_POINTS,
        known_version: str | None = None,
    ) -> MetricSeriesRead:
        """The run's metrics (only `names`, if given) as chart series, each thinned to
        `max_points` with its extremes kept; no series when `known_version` is still current."""
        ...

    def close(self) -> None: ...


class AuthStore(Protocol):
    """Users and API tokens. Only the server and local admin commands use it, never a client."""

    def create_user(self, name: str, role: Role) -> User: ...
    def get_user(self, name: str) -> User: ...
    def list_users(self) -> list[User]: ...
    def count_users(self) -> int: ...
    def create_token(
        self, user_name: str, name: str, secret_hash: str, run_id: str | None = None
    ) -> ApiToken:
        """Store a new token for an existing user; `secret_hash` is the SHA-256 hex digest;
        `run_id` scopes it to that run (a job's token)."""
        ...

    def get_stored_token(self, token_id: str) -> StoredToken:
        """The token, its user and its stored hash, to check a presented secret against."""
        ...

    def list_tokens(self) -> list[ApiToken]: ...
    def revoke_token(self, token_id: str) -> ApiToken: ...
    def touch_token(self, token_id: str) -> None:
        """Record that the token was just used (its `last_used_at`)."""
        ...


class ComputeStore(Protocol):
    """Compute targets and the scheduler's queue, kept where the workspace's database is: the
    embedded SQLite, or the server's (a client reaches them through the server's routes)."""

    def create_compute(self, request: ComputeRequest) -> ComputeTarget:
        """A new compute, Creating; ComputeErrored while a Failed one holds the name."""
        ...

    def get_compute(self, name: str) -> ComputeTarget: ...
    def list_computes(self) -> list[ComputeTarget]: ...
    def set_compute_state(
        self, name: str, state: ProvisioningState, errors: Iterable[str] = ()
    ) -> ComputeTarget: ...
    def delete_compute(self, name: str) -> None:
        """Conflict while the compute has queued or running jobs."""
        ...

    def schedule(
        self, decide: Callable[[SchedulingState], SchedulingPlan]
    ) -> tuple[SchedulingPlan, list[Run]]:
        """Read the queue, plan with `decide`, apply the plan: one serialised transaction.
        Returns the plan and the runs it admitted (now Starting)."""
        ...

    def record_handle(self, run_id: str, handle: str | None) -> None: ...
    def preempt_run(self, run_id: str, cause: str) -> Run: ...
    def requeue_run(self, run_id: str, outcome: RunStatus, cause: str) -> Run:
        """Back to Queued in its old place, the ended attempt recorded."""
        ...

    def resume_run(self, run_id: str, cause: str) -> Run:
        """An ended (Failed or Canceled) run queued again as its next attempt, the ended one
        recorded with its status and `cause`; InvalidTransition for any other status."""
        ...

    def list_attempts(self, run_id: str) -> list[RunAttempt]: ...
    def acquire_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        """Take or renew lease `name` for `holder`; False while another holds it unexpired."""
        ...


class PipelineStore(Protocol):
    """Pipeline steps' runs and their reuse keys (SQL in `store/sql/pipelines.py`), kept
    where the workspace's database is: a pipeline's driver runs beside it."""

    def record_pipeline_step(self, record: StepRecord) -> None:
        """Kept once per step run; recording it again changes nothing."""
        ...

    def find_reusable_step(self, reuse_key: str) -> StepRecord | None:
        """The newest step run that ran (not reused) with this key and completed."""
        ...

    def latest_pipeline_step(
        self, experiment: str, pipeline: str, step: str, before_pipeline_run: str
    ) -> StepRecord | None: ...
    def list_pipeline_steps(self, pipeline_run_id: str) -> list[StepRecord]: ...


class ModelStore(Protocol):
    """The model registry's records, in the workspace's database (SQL in
    `store/sql/registry.py`); the files are blobs named by their SHA-256 (`blobs.py`).
    A client of a server reaches both through the server's `/models` routes."""

    def create_model_version(
        self,
        request: ModelVersionRequest,
        files: Sequence[ModelFile],
        created_by: str,
        check_blobs: Callable[[], None] = ...,
    ) -> ModelVersion:
        """The name's next version; `check_blobs` runs under the registry's lock first."""
        ...

    def resolve_model_version(self, reference: ModelReference) -> ModelVersion: ...
    def list_models(self) -> list[RegisteredModel]: ...
    def get_model(self, name: str) -> RegisteredModel: ...
    def list_model_versions(self, name: str) -> list[ModelVersion]: ...
    def list_run_model_versions(self, run_id: str) -> list[ModelVersion]: ...
    def set_model_tags(self, name: str, version: int, tags: Mapping[str, str]) -> ModelVersion: ...
    def delete_model_tags(self, name: str, version: int, keys: Iterable[str]) -> ModelVersion: ...
    def add_model_properties(
        self, name: str, version: int, properties: Mapping[str, str]
    ) -> ModelVersion: ...
    def set_model_description(
        self, name: str, version: int, description: str | None
    ) -> ModelVersion: ...
    def set_model_alias(self, name: str, alias: str, version: int) -> ModelAlias: ...
    def delete_model_alias(self, name: str, alias: str) -> ModelAlias: ...
    def delete_model_version(self, name: str, version: int) -> list[str]: ...
    def delete_model(self, name: str) -> list[str]: ...
    def collect_unreferenced_blobs(
        self, shas: Iterable[str], remove: Callable[[str], None]
    ) -> list[str]: ...


class DataStore(Protocol):
    """Data assets' records and the versions runs read, in the workspace's database (SQL in
    `store/sql/data.py`); a version's manifest and files are blobs named by their SHA-256
    (`blobs.py`, under `<workspace>/data/`). A client of a server reaches them through the
    server's `/data` routes (`rest_data.py`)."""

    def create_data_version(
        self,
        request: DataVersionRequest,
        content: tuple[str, int, int],
        created_by: str,
        check_blobs: Callable[[], None] = ...,
    ) -> tuple[DataVersion, bool]:
        """The name's next version, or the latest when its content is the same (False)."""
        ...

    def resolve_data_version(self, reference: DataReference) -> DataVersion: ...
    def list_data_assets(self, include_archived: bool = False) -> list[DataAsset]: ...
    def get_data_asset(self, name: str) -> DataAsset: ...
    def list_data_versions(
        self, name: str, include_archived: bool = False
    ) -> list[DataVersion]: ...
    def find_data_versions(self, content_hash: str) -> list[DataVersion]: ...
    def set_data_version_archived(self, name: str, version: int, archived: bool) -> DataVersion: ...
    def set_data_asset_archived(self, name: str, archived: bool) -> DataAsset: ...
    def record_run_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None: ...
    def list_run_inputs(self, run_id: str) -> list[RunInput]: ...
    def list_data_version_readers(self, name: str, version: int) -> list[RunInput]: ...


class ComponentStore(Protocol):
    """Registered components' versions, in the workspace's database (SQL in
    `store/sql/components.py`); a version's code snapshot is a manifest and files stored as
    blobs named by their SHA-256, beside the data assets' (`<workspace>/data/`). A client of a
    server reaches them through the server's `/components` routes (`rest_components.py`)."""

    def create_component_version(
        self, spec: ComponentSpec, code_hash: str, created_by: str
    ) -> tuple[ComponentVersion, bool]:
        """A new version, or the one already holding this content (False)."""
        ...

    def resolve_component_version(self, reference: ComponentReference) -> ComponentVersion: ...
    def list_components(self) -> list[Component]: ...
    def list_component_versions(
        self, name: str, include_archived: bool = False
    ) -> list[ComponentVersion]: ...
    def set_component_version_archived(
        self, name: str, version: int, archived: bool
    ) -> ComponentVersion: ...
