"""ORM rows of the SQL tracking store; they never leave it: `to_entity` converts at the edge."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from modelyard.entities import ApiToken, Experiment, Role, Run, RunSource, RunStatus, User, limits
from modelyard.entities.components import ComponentSpec, ComponentVersion
from modelyard.entities.compute import ComputeTarget, ComputeType, Priority, ProvisioningState
from modelyard.entities.data import DataType, DataVersion
from modelyard.entities.endpoints import (
    AuthMode,
    Deployment,
    DeploymentState,
    Endpoint,
    ReplicaHandle,
    Traffic,
)
from modelyard.entities.pipeline_drafts import DraftSummary, PipelineDraft
from modelyard.entities.pipelines import ReuseKey, StepRecord
from modelyard.entities.published_pipelines import (
    PipelineParameter,
    PublishedPipeline,
    PublishedPipelineVersion,
)
from modelyard.entities.records import RunAttempt
from modelyard.entities.registry import Lineage, ModelFile, ModelVersion
from modelyard.entities.schedules import CatchUp, Schedule, ScheduleFire, trigger_from_dict

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite forgets the zone; we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ExperimentRow(Base):
    __tablename__ = "experiments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    run_counter: Mapped[int] = mapped_column(Integer, default=0)

    def to_entity(self, run_count: int = 0) -> Experiment:
        return Experiment(
            id=self.id, name=self.name, created_at=self.created_at, run_count=run_count
        )


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_experiment_id_number", "experiment_id", "number", unique=True),
        Index("ix_runs_status", "status"),
        Index("ix_runs_parent_id", "parent_id"),
        # The runs table's sorts, within an experiment and across the workspace (migration 0003).
        Index("ix_runs_created_at", "created_at"),
        Index("ix_runs_experiment_id_created_at", "experiment_id", "created_at"),
        Index("ix_runs_experiment_id_status", "experiment_id", "status"),
        Index("ix_runs_experiment_id_display_name", "experiment_id", "display_name"),
        # The scheduler's queues: a compute's queued and admitted runs (migration 0009).
        Index("ix_runs_compute_target_status", "compute_target", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    experiment_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("experiments.id", ondelete="CASCADE")
    )
    number: Mapped[int] = mapped_column(Integer)
    display_name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("runs.id", ondelete="CASCADE"), nullable=True
    )
    compute_target: Mapped[str | None] = mapped_column(String(16), nullable=True)
    user_name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The backend's opaque handle of the run's process or submission (migration 0009).
    handle: Mapped[str | None] = mapped_column(String(512), nullable=True)
    attempt: Mapped[int] = mapped_column(Integer, server_default="1", default=1)
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    status_detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    source_script: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    source_arguments: Mapped[str] = mapped_column(Text, default="[]")
    git_commit: Mapped[str | None] = mapped_column(String(64), nullable=True)
    git_dirty: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    git_repository: Mapped[str | None] = mapped_column(String(1024), nullable=True)

    def to_entity(self, experiment_name: str) -> Run:
        return Run(
            id=self.id,
            experiment_id=self.experiment_id,
            experiment_name=experiment_name,
            number=self.number,
            display_name=self.display_name,
            status=RunStatus(self.status),
            parent_id=self.parent_id,
            compute_target=self.compute_target,
            user=self.user_name,
            created_at=self.created_at,
            started_at=self.started_at,
            ended_at=self.ended_at,
            heartbeat_at=self.heartbeat_at,
            error=self.error,
            handle=self.handle,
            attempt=self.attempt,
            queued_at=self.queued_at,
            status_detail=self.status_detail,
            source=RunSource(
                script=self.source_script,
                arguments=tuple(json.loads(self.source_arguments or "[]")),
                git_commit=self.git_commit,
                git_dirty=self.git_dirty,
                git_repository=self.git_repository,
            ),
        )

    @staticmethod
    def source_columns(source: RunSource) -> dict[str, Any]:
        return {
            "source_script": source.script,
            "source_arguments": json.dumps(list(source.arguments)),
            "git_commit": source.git_commit,
            "git_dirty": source.git_dirty,
            "git_repository": source.git_repository,
        }


class MetricRow(Base):
    __tablename__ = "metrics"
    # The value makes it covering: a chart's series is thinned from the index alone (0005).
    # On PostgreSQL the primary key is this index instead, (run_id, name, step, id) carrying
    # the value: one tree to enter each point in, not two (0011).
    __table_args__ = (
        Index("ix_metrics_run_id_name_step_value", "run_id", "name", "step", "value"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    # A foreign key on SQLite; on PostgreSQL the same rules kept by statement-level triggers,
    # which check a batch's runs once instead of once per point (migration 0007).
    run_id: Mapped[str] = mapped_column(String(32), ForeignKey("runs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(250))
    step: Mapped[int] = mapped_column(BigInteger)
    # NULL stands for NaN: SQLite cannot store NaN, and a diverged loss is worth recording.
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    timestamp: Mapped[float] = mapped_column(Float)


class MetricBlockRow(Base):
    """A block of a metric's steps, `block_steps` wide from `block_start`, and its lowest and
    highest finite point (by value, then step). Kept by `log_batch` at a few widths, so that
    a chart of a long series reads blocks instead of every point (migration 0008)."""

    __tablename__ = "metric_blocks"

    run_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(250), primary_key=True)
    block_steps: Mapped[int] = mapped_column(Integer, primary_key=True)
    block_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    low_step: Mapped[int] = mapped_column(BigInteger)
    low_value: Mapped[float] = mapped_column(Float)
    high_step: Mapped[int] = mapped_column(BigInteger)
    high_value: Mapped[float] = mapped_column(Float)


class LatestMetricRow(Base):
    """A run's latest point of one metric: the highest step, then the latest timestamp, then the
    last logged. `log_batch` keeps it in step with `metrics`, in the same transaction, so that
    sorting or filtering runs by a metric reads one row per run instead of ranking its history.
    """

    __tablename__ = "latest_metrics"
    # Each serves `ORDER BY value` and value ranges for one metric, across the workspace or in
    # one experiment (a small experiment in a big workspace would otherwise walk every run's
    # value); run_id makes them covering.
    __table_args__ = (
        Index("ix_latest_metrics_name_value_run_id", "name", "value", "run_id"),
        Index(
            "ix_latest_metrics_experiment_id_name_value_run_id",
            "experiment_id",
            "name",
            "value",
            "run_id",
        ),
    )

    run_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(250), primary_key=True)
    # The run's, copied: a run never changes experiment.
    experiment_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("experiments.id", ondelete="CASCADE")
    )
    step: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)  # NULL stands for NaN
    timestamp: Mapped[float] = mapped_column(Float)
    # Every point of the metric ever logged, and the finite ones among them (0005): a chart
    # learns how long a series is, or that nothing was logged since it last looked, from this
    # row instead of counting a million points.
    points: Mapped[int] = mapped_column(BigInteger, server_default="0")
    finite_points: Mapped[int] = mapped_column(BigInteger, server_default="0")


class _KeyValueMixin:
    run_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ParamRow(_KeyValueMixin, Base):
    __tablename__ = "params"


class TagRow(_KeyValueMixin, Base):
    __tablename__ = "tags"


class PropertyRow(_KeyValueMixin, Base):
    __tablename__ = "properties"


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(limits.USER_NAME_MAX), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    def to_entity(self) -> User:
        return User(id=self.id, name=self.name, role=Role(self.role), created_at=self.created_at)


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(limits.TOKEN_NAME_MAX))
    # SHA-256 hex of the secret; the secret itself is never stored.
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # A job's token acts on this run only (migration 0006).
    run_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("runs.id", ondelete="CASCADE"), nullable=True
    )

    def to_entity(self, user_name: str) -> ApiToken:
        return ApiToken(
            id=self.id,
            user_name=user_name,
            name=self.name,
            created_at=self.created_at,
            last_used_at=self.last_used_at,
            revoked_at=self.revoked_at,
            run_id=self.run_id,
        )


class ComputeRow(Base):
    """A compute target the user created (migration 0009); `local` is built in, not a row."""

    __tablename__ = "computes"

    name: Mapped[str] = mapped_column(String(limits.COMPUTE_NAME_MAX), primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    size: Mapped[str | None] = mapped_column(String(64), nullable=True)
    priority: Mapped[str] = mapped_column(String(16))
    min_nodes: Mapped[int] = mapped_column(Integer)
    max_nodes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    idle_seconds_before_scaledown: Mapped[int] = mapped_column(Integer)
    address: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    description: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    errors: Mapped[str] = mapped_column(Text, default="[]")  # a JSON list of strings
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    def to_entity(self) -> ComputeTarget:
        return ComputeTarget(
            name=self.name,
            type=ComputeType(self.type),
            size=self.size,
            priority=Priority(self.priority),
            min_nodes=self.min_nodes,
            max_nodes=self.max_nodes,
            idle_seconds_before_scaledown=self.idle_seconds_before_scaledown,
            state=ProvisioningState(self.state),
            created_at=self.created_at,
            address=self.address,
            description=self.description,
            errors=tuple(json.loads(self.errors or "[]")),
        )


class RunAttemptRow(Base):
    """How one attempt of a run ended when the run went on (preempted, lost and requeued)."""

    __tablename__ = "run_attempts"

    run_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime())
    outcome: Mapped[str] = mapped_column(String(20))
    cause: Mapped[str] = mapped_column(Text)

    def to_entity(self) -> RunAttempt:
        return RunAttempt(
            attempt=self.attempt,
            started_at=self.started_at,
            ended_at=self.ended_at,
            outcome=RunStatus(self.outcome),
            cause=self.cause,
        )


class LeaseRow(Base):
    """Work one process at a time does for the workspace (the server's background loop)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


# The model registry (migration 0010) ----------------------------------------------------------


class RegisteredModelRow(Base):
    """A model's name; `next_version` numbers its registrations, never reusing a number."""

    __tablename__ = "registered_models"

    name: Mapped[str] = mapped_column(String(limits.MODEL_NAME_MAX), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    next_version: Mapped[int] = mapped_column(Integer)


class ModelVersionRow(Base):
    __tablename__ = "model_versions"

    name: Mapped[str] = mapped_column(
        String(limits.MODEL_NAME_MAX),
        ForeignKey("registered_models.name", ondelete="CASCADE"),
        primary_key=True,
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    framework: Mapped[str | None] = mapped_column(String(64), nullable=True)
    input_schema: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON
    output_schema: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON
    # Lineage as text, no foreign key: a version outlives the run it came from.
    run_id: Mapped[str | None] = mapped_column(String(limits.ID_MAX), nullable=True)
    experiment: Mapped[str | None] = mapped_column(String(255), nullable=True)
    data_hash: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(255))

    def to_entity(
        self,
        files: list[ModelFile],
        tags: dict[str, str],
        properties: dict[str, str],
        aliases: list[str],
    ) -> ModelVersion:
        return ModelVersion(
            name=self.name,
            version=self.version,
            files=tuple(files),
            created_at=self.created_at,
            created_by=self.created_by,
            description=self.description,
            tags=tags,
            properties=properties,
            framework=self.framework,
            input_schema=_json_or_none(self.input_schema),
            output_schema=_json_or_none(self.output_schema),
            lineage=Lineage(self.run_id, self.experiment, self.data_hash),
            aliases=tuple(sorted(aliases)),
        )


def _json_or_none(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _version_key() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["name", "version"], ["model_versions.name", "model_versions.version"], ondelete="CASCADE"
    )


class ModelFileRow(Base):
    """A version's file; its bytes are the blob named by `sha256` (store/blobs.py)."""

    __tablename__ = "model_files"
    __table_args__ = (_version_key(), Index("ix_model_files_sha256", "sha256"))

    name: Mapped[str] = mapped_column(String(limits.MODEL_NAME_MAX), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(limits.ARTIFACT_PATH_MAX), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)

    def to_entity(self) -> ModelFile:
        return ModelFile(path=self.path, sha256=self.sha256, size=self.size)


class _ModelVersionPairMixin:
    name: Mapped[str] = mapped_column(String(limits.MODEL_NAME_MAX), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ModelTagRow(_ModelVersionPairMixin, Base):
    __tablename__ = "model_version_tags"
    __table_args__ = (_version_key(),)


class ModelPropertyRow(_ModelVersionPairMixin, Base):
    __tablename__ = "model_version_properties"
    __table_args__ = (_version_key(),)


class ModelAliasRow(Base):
    """`name@alias` → version; deleting the version deletes the alias (MLflow's rule)."""

    __tablename__ = "model_aliases"
    __table_args__ = (_version_key(),)

    name: Mapped[str] = mapped_column(String(limits.MODEL_NAME_MAX), primary_key=True)
    alias: Mapped[str] = mapped_column(String(limits.MODEL_ALIAS_MAX), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class EndpointRow(Base):
    """An online endpoint (migration 0012): its port, keys and traffic."""

    __tablename__ = "endpoints"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    port: Mapped[int] = mapped_column(Integer, unique=True)
    auth_mode: Mapped[str] = mapped_column(String(16))
    primary_key: Mapped[str] = mapped_column(String(128))
    secondary_key: Mapped[str] = mapped_column(String(128))
    traffic: Mapped[str] = mapped_column(Text)  # JSON: Traffic.to_dict()
    host_handle: Mapped[str | None] = mapped_column(String(512), nullable=True)
    description: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    def to_entity(self) -> Endpoint:
        return Endpoint(
            name=self.name,
            port=self.port,
            primary_key=self.primary_key,
            secondary_key=self.secondary_key,
            created_at=self.created_at,
            updated_at=self.updated_at,
            auth_mode=AuthMode(self.auth_mode),
            traffic=Traffic.from_dict(json.loads(self.traffic)),
            host_handle=self.host_handle,
            description=self.description,
        )


class DeploymentRow(Base):
    """A deployment of an endpoint (migration 0012; autoscaling 0013)."""

    __tablename__ = "deployments"

    endpoint: Mapped[str] = mapped_column(
        String(32), ForeignKey("endpoints.name", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    model: Mapped[str] = mapped_column(String(512))
    model_name: Mapped[str] = mapped_column(String(255))
    model_version: Mapped[int] = mapped_column(Integer)
    entry_script: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    source_directory: Mapped[str | None] = mapped_column(String(4096), nullable=True)
    environment: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON spec
    compute: Mapped[str] = mapped_column(String(32))
    replicas: Mapped[int] = mapped_column(Integer)
    cpu_cores: Mapped[float] = mapped_column(Float)
    memory_gb: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    replica_handles: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Ray Serve's autoscaling (migration 0013); null: a fixed number of replicas.
    min_replicas: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_replicas: Mapped[int | None] = mapped_column(Integer, nullable=True)
    target_ongoing_requests: Mapped[float | None] = mapped_column(Float, nullable=True)

    def to_entity(self) -> Deployment:
        return Deployment(
            endpoint=self.endpoint,
            name=self.name,
            model=self.model,
            model_name=self.model_name,
            model_version=self.model_version,
            state=DeploymentState(self.state),
            created_at=self.created_at,
            updated_at=self.updated_at,
            entry_script=self.entry_script,
            source_directory=self.source_directory,
            environment=self.environment,
            compute=self.compute,
            replicas=self.replicas,
            cpu_cores=self.cpu_cores,
            memory_gb=self.memory_gb,
            error=self.error,
            replica_handles=tuple(
                ReplicaHandle.from_dict(item) for item in json.loads(self.replica_handles)
            ),
            min_replicas=self.min_replicas,
            max_replicas=self.max_replicas,
            target_ongoing_requests=self.target_ongoing_requests,
        )


class DataAssetRow(Base):
    """A data asset's name (migration 0014); `next_version` numbers its versions, never
    reusing a number."""

    __tablename__ = "data_assets"

    name: Mapped[str] = mapped_column(String(limits.DATA_NAME_MAX), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    next_version: Mapped[int] = mapped_column(Integer)
    archived: Mapped[bool] = mapped_column(Boolean)


class DataVersionRow(Base):
    """A version: its manifest is the data blob named by `content_hash` (its files' paths,
    sizes and SHA-256s); each file's bytes are the blob named by its SHA-256."""

    __tablename__ = "data_versions"
    __table_args__ = (Index("ix_data_versions_content_hash", "content_hash"),)

    name: Mapped[str] = mapped_column(
        String(limits.DATA_NAME_MAX),
        ForeignKey("data_assets.name", ondelete="CASCADE"),
        primary_key=True,
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    parent_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    file_count: Mapped[int] = mapped_column(BigInteger)
    total_bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(255))
    archived: Mapped[bool] = mapped_column(Boolean)

    def to_entity(self, tags: dict[str, str]) -> DataVersion:
        return DataVersion(
            name=self.name,
            version=self.version,
            type=DataType(self.type),
            content_hash=self.content_hash,
            file_count=self.file_count,
            total_bytes=self.total_bytes,
            created_at=self.created_at,
            created_by=self.created_by,
            description=self.description,
            tags=tags,
            parent_version=self.parent_version,
            archived=self.archived,
        )


class DataVersionTagRow(Base):
    __tablename__ = "data_version_tags"
    __table_args__ = (
        ForeignKeyConstraint(
            ["name", "version"],
            ["data_versions.name", "data_versions.version"],
            ondelete="CASCADE",
        ),
    )

    name: Mapped[str] = mapped_column(String(limits.DATA_NAME_MAX), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RunInputRow(Base):
    """A data asset version a run read, under its input's name; deleted with the run. The
    version is named, not keyed: versions are never deleted, only archived."""

    __tablename__ = "run_inputs"
    __table_args__ = (Index("ix_run_inputs_name_version", "name", "version"),)

    run_id: Mapped[str] = mapped_column(
        String(limits.ID_MAX), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    input_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(limits.DATA_NAME_MAX))
    version: Mapped[int] = mapped_column(Integer)


class ComponentRow(Base):
    """A component's name (migration 0017); `next_version` numbers its versions, never
    reusing a number."""

    __tablename__ = "components"

    name: Mapped[str] = mapped_column(String(limits.COMPONENT_NAME_MAX), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    next_version: Mapped[int] = mapped_column(Integer)


class ComponentVersionRow(Base):
    """A version: its definition as JSON; its code snapshot's manifest is the data blob named
    by `code_hash`."""

    __tablename__ = "component_versions"
    __table_args__ = (Index("ix_component_versions_name_content_hash", "name", "content_hash"),)

    name: Mapped[str] = mapped_column(
        String(limits.COMPONENT_NAME_MAX),
        ForeignKey("components.name", ondelete="CASCADE"),
        primary_key=True,
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition: Mapped[str] = mapped_column(Text)
    code_hash: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(255))
    archived: Mapped[bool] = mapped_column(Boolean)

    def to_entity(self) -> ComponentVersion:
        return ComponentVersion(
            spec=ComponentSpec.from_definition(self.name, json.loads(self.definition)),
            version=self.version,
            code_hash=self.code_hash,
            content_hash=self.content_hash,
            created_at=self.created_at,
            created_by=self.created_by,
            archived=self.archived,
        )


class PipelineStepRow(Base):
    """A pipeline step's run and its reuse key (migration 0015): a step is reused by one
    indexed lookup of its key, and told why it reran from the latest row of its name."""

    __tablename__ = "pipeline_steps"
    __table_args__ = (
        Index("ix_pipeline_steps_reuse_key", "reuse_key"),
        Index(
            "ix_pipeline_steps_experiment_id_pipeline_step_created_at",
            "experiment_id",
            "pipeline",
            "step",
            "created_at",
        ),
        Index("ix_pipeline_steps_pipeline_run_id", "pipeline_run_id"),
    )

    run_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    pipeline_run_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("runs.id", ondelete="CASCADE")
    )
    experiment_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("experiments.id", ondelete="CASCADE")
    )
    pipeline: Mapped[str] = mapped_column(String(255))
    step: Mapped[str] = mapped_column(String(255))
    reuse_key: Mapped[str] = mapped_column(String(64))
    key_parts: Mapped[str] = mapped_column(Text)  # JSON: ReuseKey.to_dict()
    # The run whose outputs the step has, when it was reused (not a foreign key: that run may
    # be deleted later; this record stays what it was).
    reused_from: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    def to_entity(self, experiment: str) -> StepRecord:
        return StepRecord(
            run_id=self.run_id,
            pipeline_run_id=self.pipeline_run_id,
            experiment=experiment,
            pipeline=self.pipeline,
            step=self.step,
            key=ReuseKey.from_dict(json.loads(self.key_parts)),
            reused_from=self.reused_from,
            reason=self.reason,
            created_at=self.created_at,
        )


class ScheduleRow(Base):
    """A schedule (migration 0016); `trigger` is its JSON form (`Trigger.to_dict()`)."""

    __tablename__ = "schedules"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    job_file: Mapped[str] = mapped_column(Text)
    trigger: Mapped[str] = mapped_column(Text)
    catch_up: Mapped[str] = mapped_column(String(8))
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    next_fire_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    watched: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # An uploaded job's stored archive, by its hash (migration 0020); None: a job file path.
    job_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)

    def to_entity(self) -> Schedule:
        return Schedule(
            name=self.name,
            job_file=self.job_file,
            trigger=trigger_from_dict(json.loads(self.trigger)),
            catch_up=CatchUp(self.catch_up),
            enabled=self.enabled,
            created_by=self.created_by,
            created_at=self.created_at,
            next_fire_at=self.next_fire_at,
            last_fired_at=self.last_fired_at,
            last_error=self.last_error,
            watched=self.watched,
            job_sha256=self.job_sha256,
        )


class ScheduleFireRow(Base):
    """One fire of a schedule (migration 0016): the key makes a time fire at most once."""

    __tablename__ = "schedule_fires"

    schedule: Mapped[str] = mapped_column(
        String(64), ForeignKey("schedules.name", ondelete="CASCADE"), primary_key=True
    )
    fire_time: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    fired_at: Mapped[datetime] = mapped_column(UtcDateTime())
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    def to_entity(self) -> ScheduleFire:
        return ScheduleFire(
            schedule=self.schedule,
            fire_time=self.fire_time,
            fired_at=self.fired_at,
            run_id=self.run_id,
            error=self.error,
        )


class PublishedPipelineRow(Base):
    """A published pipeline's name (migration 0018): its version counter and default."""

    __tablename__ = "published_pipelines"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    description: Mapped[str] = mapped_column(Text)
    latest_version: Mapped[int] = mapped_column(Integer)
    default_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    def to_entity(self) -> PublishedPipeline:
        return PublishedPipeline(
            name=self.name,
            description=self.description,
            latest_version=self.latest_version,
            default_version=self.default_version,
            created_by=self.created_by,
            created_at=self.created_at,
        )


class PublishedPipelineVersionRow(Base):
    """One immutable version of a published pipeline (migration 0018); `parameters` is the
    JSON list of its `PipelineParameter.to_dict()`s."""

    __tablename__ = "published_pipeline_versions"

    name: Mapped[str] = mapped_column(
        String(255), ForeignKey("published_pipelines.name", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    description: Mapped[str] = mapped_column(Text)
    pipeline: Mapped[str] = mapped_column(String(255))
    parameters: Mapped[str] = mapped_column(Text)
    folder: Mapped[str] = mapped_column(String(512))
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    source_run: Mapped[str | None] = mapped_column(String(32), nullable=True)

    def to_entity(self) -> PublishedPipelineVersion:
        return PublishedPipelineVersion(
            name=self.name,
            version=self.version,
            description=self.description,
            pipeline=self.pipeline,
            parameters=tuple(
                PipelineParameter.from_dict(item) for item in json.loads(self.parameters)
            ),
            folder=self.folder,
            enabled=self.enabled,
            created_by=self.created_by,
            created_at=self.created_at,
            source_run=self.source_run,
        )


class PipelineDraftRow(Base):
    """A designer's pipeline draft (migration 0019): its YAML text as saved, its layout (JSON
    `{node: {x, y}}`) and its revision, compared and swapped by each save."""

    __tablename__ = "pipeline_drafts"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    definition: Mapped[str] = mapped_column(Text)
    layout: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    def to_entity(self) -> PipelineDraft:
        summary = DraftSummary(
            name=self.name,
            revision=self.revision,
            created_at=self.created_at,
            created_by=self.created_by,
            updated_at=self.updated_at,
            updated_by=self.updated_by,
        )
        return PipelineDraft(summary, self.definition, json.loads(self.layout))
