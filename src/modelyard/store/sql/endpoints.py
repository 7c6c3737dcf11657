"""Online endpoints and deployments in the SQL store (the `EndpointStore` part of `SqlStore`).

A deployment's state moves only along `DEPLOYMENT_TRANSITIONS` (entities/endpoints.py), checked
here inside the write transaction, so two processes never both take a deployment from one state.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractContextManager

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelyard.entities.endpoints import (
    Deployment,
    DeploymentRequest,
    DeploymentState,
    Endpoint,
    ReplicaHandle,
    Traffic,
)
from modelyard.errors import AlreadyExists, Conflict, NotFound
from modelyard.store.sql.models import DeploymentRow, EndpointRow, utcnow


class SqlEndpointStore:
    """Mixed into `SqlStore`, which provides the sessions."""

    def _session(self, write: bool = False) -> AbstractContextManager[Session]:
        raise NotImplementedError

    # Endpoints -------------------------------------------------------------------------------

    def create_endpoint(
        self, name: str, port: int, keys: tuple[str, str], description: str | None = None
    ) -> Endpoint:
        now = utcnow()
        row = EndpointRow(
            name=name,
            port=port,
            auth_mode="key",
            primary_key=keys[0],
            secondary_key=keys[1],
            traffic=json.dumps(Traffic().to_dict()),
            description=description,
            created_at=now,
            updated_at=now,
        )
        try:
            with self._session(write=True) as session:
                taken = session.scalars(
                    select(EndpointRow).where(
                        (EndpointRow.name == name) | (EndpointRow.port == port)
                    )
                ).first()
                if taken is not None:
                    raise _taken(taken, name, port)
                session.add(row)
                session.flush()
                return row.to_entity()
        except IntegrityError:  # a concurrent create won the race
            raise AlreadyExists(f"endpoint {name} or port {port} is already taken") from None

    def get_endpoint(self, name: str) -> Endpoint:
        with self._session() as session:
            return _endpoint_row(session, name).to_entity()

    def list_endpoints(self) -> list[Endpoint]:
        with self._session() as session:
            rows = session.scalars(select(EndpointRow).order_by(EndpointRow.name))
            return [row.to_entity() for row in rows]

    def set_traffic(self, name: str, traffic: Traffic) -> Endpoint:
        """Checked against the endpoint's deployments inside the transaction."""
        with self._session(write=True) as session:
            row = _endpoint_row(session, name)
            names = set(
                session.scalars(select(DeploymentRow.name).where(DeploymentRow.endpoint == name))
            )
            row.traffic = json.dumps(traffic.check(names).to_dict())
            row.updated_at = utcnow()
            session.flush()
            return row.to_entity()

    def set_endpoint_key(self, name: str, which: str, key: str) -> Endpoint:
        with self._session(write=True) as session:
            row = _endpoint_row(session, name)
            if which == "primary":
                row.primary_key = key
            else:
                row.secondary_key = key
            row.updated_at = utcnow()
            session.flush()
            return row.to_entity()

    def set_endpoint_host(self, name: str, handle: str | None) -> Endpoint:
        with self._session(write=True) as session:
            row = _endpoint_row(session, name)
            row.host_handle = handle
            session.flush()
            return row.to_entity()

    def delete_endpoint(self, name: str) -> None:
        with self._session(write=True) as session:
            _endpoint_row(session, name)
            session.execute(delete(DeploymentRow).where(DeploymentRow.endpoint == name))
            session.execute(delete(EndpointRow).where(EndpointRow.name == name))

    # Deployments -----------------------------------------------------------------------------

    def create_deployment(
        self, request: DeploymentRequest, model_name: str, model_version: int
    ) -> Deployment:
        """A new deployment, Creating; a Failed one of that name is replaced (retried)."""
        now = utcnow()
        with self._session(write=True) as session:
            _endpoint_row(session, request.endpoint)
            row = session.get(DeploymentRow, (request.endpoint, request.name))
            if row is not None:
                state = DeploymentState(row.state)
                if state is not DeploymentState.FAILED:
                    raise AlreadyExists(
                        f"deployment {request.name} of endpoint {request.endpoint} already "
                        f"exists ({state.value}); fix: `modelyard endpoint update "
                        f"{request.endpoint} --deployment {request.name} --model …`",
                        endpoint=request.endpoint,
                        deployment=request.name,
                    )
                state.check_transition(DeploymentState.CREATING, request.name)
            else:
                row = DeploymentRow(endpoint=request.endpoint, name=request.name, created_at=now)
                session.add(row)
            _fill(row, request, model_name, model_version)
            row.state, row.error, row.replica_handles, row.updated_at = (
                DeploymentState.CREATING.value,
                None,
                "[]",
                now,
            )
            session.flush()
            return row.to_entity()

    def get_deployment(self, endpoint: str, name: str) -> Deployment:
        with self._session() as session:
            return _deployment_row(session, endpoint, name).to_entity()

    def list_deployments(self, endpoint: str | None = None) -> list[Deployment]:
        with self._session() as session:
            query = select(DeploymentRow).order_by(DeploymentRow.endpoint, DeploymentRow.created_at)
            if endpoint is not None:
                query = query.where(DeploymentRow.endpoint == endpoint)
            return [row.to_entity() for row in session.scalars(query)]

    def set_deployment_state(
        self,
        endpoint: str,
        name: str,
        state: DeploymentState,
        error: str | None = None,
        replicas: Sequence[ReplicaHandle] | None = None,
    ) -> Deployment:
        with self._session(write=True) as session:
            row = _deployment_row(session, endpoint, name)
            current = DeploymentState(row.state)
            if current is not state:
                current.check_transition(state, name)
            row.state, row.updated_at = state.value, utcnow()
            if error is not None:
                row.error = error
            if replicas is not None:
                row.replica_handles = json.dumps([r.to_dict() for r in replicas])
            session.flush()
            return row.to_entity()

    def finish_update(
        self,
        request: DeploymentRequest,
        model_name: str,
        model_version: int,
        replicas: Sequence[ReplicaHandle],
    ) -> Deployment:
        """Updating → Succeeded with the new spec and its (ready) replicas, in one write."""
        with self._session(write=True) as session:
            row = _deployment_row(session, request.endpoint, request.name)
            DeploymentState(row.state).check_transition(DeploymentState.SUCCEEDED, request.name)
            _fill(row, request, model_name, model_version)
            row.state, row.error, row.updated_at = DeploymentState.SUCCEEDED.value, None, utcnow()
            row.replica_handles = json.dumps([r.to_dict() for r in replicas])
            session.flush()
            return row.to_entity()

    def record_replica(self, endpoint: str, name: str, replica: ReplicaHandle) -> Deployment:
        """A replica restarted by the endpoint's supervisor: its new handle."""
        with self._session(write=True) as session:
            row = _deployment_row(session, endpoint, name)
            kept = [r for r in json.loads(row.replica_handles) if int(r["index"]) != replica.index]
            replicas = sorted([*kept, replica.to_dict()], key=lambda r: int(r["index"]))
            row.replica_handles = json.dumps(replicas)
            session.flush()
            return row.to_entity()

    def delete_deployment(self, endpoint: str, name: str) -> None:
        with self._session(write=True) as session:
            _deployment_row(session, endpoint, name)
            session.execute(
                delete(DeploymentRow).where(
                    DeploymentRow.endpoint == endpoint, DeploymentRow.name == name
                )
            )


def _fill(
    row: DeploymentRow, request: DeploymentRequest, model_name: str, model_version: int
) -> None:
    row.model, row.model_name, row.model_version = request.model, model_name, model_version
    row.entry_script, row.source_directory = request.entry_script, request.source_directory
    row.environment, row.compute = request.environment, request.compute
    row.replicas, row.cpu_cores, row.memory_gb = (
        request.replicas,
        request.cpu_cores,
        request.memory_gb,
    )
    row.min_replicas, row.max_replicas, row.target_ongoing_requests = (
        request.min_replicas,
        request.max_replicas,
        request.target_ongoing_requests,
    )


def _endpoint_row(session: Session, name: str) -> EndpointRow:
    row = session.get(EndpointRow, name)
    if row is None:
        raise NotFound(
            f"endpoint {name} not found; `modelyard endpoint list` shows them", endpoint=name
        )
    return row


def _deployment_row(session: Session, endpoint: str, name: str) -> DeploymentRow:
    _endpoint_row(session, endpoint)
    row = session.get(DeploymentRow, (endpoint, name))
    if row is None:
        raise NotFound(
            f"deployment {name} of endpoint {endpoint} not found",
            endpoint=endpoint,
            deployment=name,
        )
    return row


def _taken(existing: EndpointRow, name: str, port: int) -> AlreadyExists | Conflict:
    if existing.name == name:
        return AlreadyExists(
            f"endpoint {name} already exists; fix: pick another name or "
            f"`modelyard endpoint delete {name}`",
            endpoint=name,
        )
    return Conflict(
        f"port {port} is already endpoint {existing.name}'s; fix: pick another --port",
        port=port,
    )
