"""The model registry in the SQL store (the `ModelStore` part of `SqlStore`).

Every write takes the registry's lock for its transaction (SQLite: the write lock of BEGIN
IMMEDIATE; PostgreSQL: a transaction-level advisory lock), so that two registrations of one
name get consecutive versions, and a blob is never collected while a registration that uses it
is being recorded: the registration checks its blobs and the collection checks its references
under the same lock.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from modelyard.entities.registry import (
    ModelAlias,
    ModelFile,
    ModelReference,
    ModelVersion,
    ModelVersionRequest,
    RegisteredModel,
    check_description,
    validate_alias,
)
from modelyard.errors import Conflict, NotFound
from modelyard.store.sql.engine import serialise_writes
from modelyard.store.sql.models import (
    ModelAliasRow,
    ModelFileRow,
    ModelPropertyRow,
    ModelTagRow,
    ModelVersionRow,
    RegisteredModelRow,
    utcnow,
)
from modelyard.store.sql.unreferenced import remove_unreferenced

_REGISTRY_LOCK_KEY = 0x6D79_7267  # "myrg"
_VERSION_TABLES = (ModelFileRow, ModelTagRow, ModelPropertyRow, ModelAliasRow)


class SqlModelRegistry:
    """Mixed into `SqlStore`, which provides the sessions."""

    def _session(self, write: bool = False) -> AbstractContextManager[Session]:
        raise NotImplementedError

    @contextmanager
    def _registry_write(self) -> Any:
        with self._session(write=True) as session:
            serialise_writes(session, _REGISTRY_LOCK_KEY)
            yield session

    # Registering -----------------------------------------------------------------------------

    def create_model_version(
        self,
        request: ModelVersionRequest,
        files: Sequence[ModelFile],
        created_by: str,
        check_blobs: Callable[[], None] = lambda: None,
    ) -> ModelVersion:
        """The next version of `request.name` (the model is created with its first), with
        `files` as its files. `check_blobs` runs under the registry's lock, before anything is
        written: it makes sure every file's blob is (still) in the blob store."""
        request = request.check()
        with self._registry_write() as session:
            check_blobs()
            now = utcnow()
            model = session.get(RegisteredModelRow, request.name)
            if model is None:
                model = RegisteredModelRow(
                    name=request.name, created_at=now, updated_at=now, next_version=1
                )
                session.add(model)
                session.flush()  # no ORM relationships: rows go in in the order flushed
            version = model.next_version
            model.next_version, model.updated_at = version + 1, now
            session.add(_version_row(request, version, created_by, now))
            session.flush()
            session.add_all(_file_rows(request.name, version, files))
            session.add_all(_pair_rows(ModelTagRow, request.name, version, request.tags))
            session.add_all(_pair_rows(ModelPropertyRow, request.name, version, request.properties))
            session.flush()
            return self._version_entity(session, request.name, version)

    # Reading ---------------------------------------------------------------------------------

    def resolve_model_version(self, reference: ModelReference) -> ModelVersion:
        with self._session() as session:
            version = self._resolved_number(session, reference)
            return self._version_entity(session, reference.name, version)

    def list_models(self) -> list[RegisteredModel]:
        with self._session() as session:
            rows = session.scalars(select(RegisteredModelRow).order_by(RegisteredModelRow.name))
            return [self._model_entity(session, row) for row in rows.all()]

    def get_model(self, name: str) -> RegisteredModel:
        with self._session() as session:
            return self._model_entity(session, _model_row(session, name))

    def list_model_versions(self, name: str) -> list[ModelVersion]:
        """Newest first."""
        with self._session() as session:
            _model_row(session, name)
            numbers = session.scalars(
                select(ModelVersionRow.version)
                .where(ModelVersionRow.name == name)
                .order_by(ModelVersionRow.version.desc())
            ).all()
            return [self._version_entity(session, name, number) for number in numbers]

    def list_run_model_versions(self, run_id: str) -> list[ModelVersion]:
        """The versions registered from run `run_id` (their lineage's run), by name and
        version. A run registers a handful at most: the scan of the versions stays small."""
        with self._session() as session:
            keys = session.execute(
                select(ModelVersionRow.name, ModelVersionRow.version)
                .where(ModelVersionRow.run_id == run_id)
                .order_by(ModelVersionRow.name, ModelVersionRow.version)
            ).all()
            return [self._version_entity(session, name, number) for name, number in keys]

    # Changing --------------------------------------------------------------------------------

    def set_model_tags(self, name: str, version: int, tags: Mapping[str, str]) -> ModelVersion:
        with self._registry_write() as session:
            _version_row_of(session, name, version)
            for key, value in tags.items():
                session.merge(ModelTagRow(name=name, version=version, key=key, value=value))
            session.flush()
            return self._version_entity(session, name, version)

    def delete_model_tags(self, name: str, version: int, keys: Iterable[str]) -> ModelVersion:
        with self._registry_write() as session:
            _version_row_of(session, name, version)
            current = self._version_pairs(session, ModelTagRow, name, version)
            missing = [key for key in keys if key not in current]
            if missing:
                raise NotFound(
                    f"model {name}:{version} has no tag {missing[0]!r}: see its tags with"
                    f" `modelyard model show {name}:{version}`",
                    model=name,
                    version=version,
                    tag=missing[0],
                )
            session.execute(
                delete(ModelTagRow).where(
                    ModelTagRow.name == name,
                    ModelTagRow.version == version,
                    ModelTagRow.key.in_(list(keys)),
                )
            )
            return self._version_entity(session, name, version)

    def add_model_properties(
        self, name: str, version: int, properties: Mapping[str, str]
    ) -> ModelVersion:
        """Properties are add-only: the same value again is a no-op, a different one refused."""
        with self._registry_write() as session:
            _version_row_of(session, name, version)
            current = self._version_pairs(session, ModelPropertyRow, name, version)
            for key, value in properties.items():
                if key in current and current[key] != value:
                    raise Conflict(
                        f"property {key!r} of model {name}:{version} is already"
                        f" {_short(current[key])}: properties are add-only; add a new key,"
                        " or use a tag for a value that changes",
                        model=name,
                        version=version,
                        property=key,
                    )
            session.add_all(
                ModelPropertyRow(name=name, version=version, key=key, value=value)
                for key, value in properties.items()
                if key not in current
            )
            session.flush()
            return self._version_entity(session, name, version)

    def set_model_description(
        self, name: str, version: int, description: str | None
    ) -> ModelVersion:
        check_description(description)
        with self._registry_write() as session:
            _version_row_of(session, name, version).description = description
            session.flush()
            return self._version_entity(session, name, version)

    def set_model_alias(self, name: str, alias: str, version: int) -> ModelAlias:
        """Point `name@alias` at `version`, moving it if it pointed elsewhere."""
        validate_alias(alias)
        with self._registry_write() as session:
            _version_row_of(session, name, version)
            session.merge(ModelAliasRow(name=name, alias=alias, version=version))
            _model_row(session, name).updated_at = utcnow()
            return ModelAlias(name, alias, version)

    def delete_model_alias(self, name: str, alias: str) -> ModelAlias:
        with self._registry_write() as session:
            row = session.get(ModelAliasRow, (name, alias))
            if row is None:
                _model_row(session, name)
                raise _no_alias(name, alias)
            deleted = ModelAlias(name, alias, row.version)
            session.delete(row)
            return deleted

    # Deleting --------------------------------------------------------------------------------

    def delete_model_version(self, name: str, version: int) -> list[str]:
        """Delete the version (its aliases with it); the SHA-256s of its files, for
        `collect_unreferenced_blobs`."""
        with self._registry_write() as session:
            _version_row_of(session, name, version)
            shas = self._shas_of(session, name, [version])
            where = {"name": name, "version": version}
            for table in _VERSION_TABLES:
                session.execute(delete(table).filter_by(**where))
            session.execute(delete(ModelVersionRow).filter_by(**where))
            _model_row(session, name).updated_at = utcnow()
            return shas

    def delete_model(self, name: str) -> list[str]:
        """Delete the model and every version; the SHA-256s of their files."""
        with self._registry_write() as session:
            _model_row(session, name)
            versions = session.scalars(
                select(ModelVersionRow.version).where(ModelVersionRow.name == name)
            ).all()
            shas = self._shas_of(session, name, list(versions))
            for table in _VERSION_TABLES:
                session.execute(delete(table).filter_by(name=name))
            session.execute(delete(ModelVersionRow).filter_by(name=name))
            session.execute(delete(RegisteredModelRow).filter_by(name=name))
            return shas

    def collect_unreferenced_blobs(
        self, shas: Iterable[str], remove: Callable[[str], None]
    ) -> list[str]:
        """Call `remove` for each of `shas` that no version uses, under the registry's lock
        (a registration checks its blobs under it too); returns those removed."""
        candidates = sorted(set(shas))
        if not candidates:
            return []
        with self._registry_write() as session:
            return remove_unreferenced(session, ModelFileRow.sha256, candidates, remove)

    # Helpers ---------------------------------------------------------------------------------

    def _resolved_number(self, session: Session, reference: ModelReference) -> int:
        name = reference.name
        if reference.version is not None:
            _version_row_of(session, name, reference.version)
            return reference.version
        if reference.alias is not None:
            row = session.get(ModelAliasRow, (name, reference.alias))
            if row is None:
                _model_row(session, name)
                raise _no_alias(name, reference.alias)
            return row.version
        latest = session.scalar(
            select(func.max(ModelVersionRow.version)).where(ModelVersionRow.name == name)
        )
        if latest is None:
            _model_row(session, name)
            raise NotFound(f"model {name!r} has no versions: register one", model=name)
        return int(latest)

    def _version_entity(self, session: Session, name: str, version: int) -> ModelVersion:
        row = _version_row_of(session, name, version)
        files = session.scalars(
            select(ModelFileRow).filter_by(name=name, version=version).order_by(ModelFileRow.path)
        ).all()
        aliases = session.scalars(
            select(ModelAliasRow.alias).filter_by(name=name, version=version)
        ).all()
        return row.to_entity(
            [file.to_entity() for file in files],
            self._version_pairs(session, ModelTagRow, name, version),
            self._version_pairs(session, ModelPropertyRow, name, version),
            list(aliases),
        )

    def _model_entity(self, session: Session, row: RegisteredModelRow) -> RegisteredModel:
        count, latest = session.execute(
            select(func.count(), func.max(ModelVersionRow.version)).where(
                ModelVersionRow.name == row.name
            )
        ).one()
        aliases = session.execute(
            select(ModelAliasRow.alias, ModelAliasRow.version).filter_by(name=row.name)
        ).all()
        framework = None
        if latest is not None:
            framework = session.scalar(
                select(ModelVersionRow.framework).filter_by(name=row.name, version=latest)
            )
        return RegisteredModel(
            name=row.name,
            created_at=row.created_at,
            updated_at=row.updated_at,
            latest_version=None if latest is None else int(latest),
            version_count=int(count),
            aliases={alias: int(version) for alias, version in sorted(aliases)},
            framework=framework,
        )

    def _version_pairs(
        self, session: Session, table: type[ModelTagRow | ModelPropertyRow], name: str, v: int
    ) -> dict[str, str]:
        rows = session.execute(
            select(table.key, table.value).filter_by(name=name, version=v).order_by(table.key)
        ).all()
        return {key: value for key, value in rows}

    def _shas_of(self, session: Session, name: str, versions: list[int]) -> list[str]:
        return list(
            session.scalars(
                select(ModelFileRow.sha256)
                .where(ModelFileRow.name == name, ModelFileRow.version.in_(versions))
                .distinct()
            ).all()
        )


def _version_row(
    request: ModelVersionRequest, version: int, created_by: str, now: Any
) -> ModelVersionRow:
    return ModelVersionRow(
        name=request.name,
        version=version,
        description=request.description,
        framework=request.framework,
        input_schema=_json_or_none(request.input_schema),
        output_schema=_json_or_none(request.output_schema),
        run_id=request.lineage.run_id,
        experiment=request.lineage.experiment,
        data_hash=request.lineage.data_hash,
        created_at=now,
        created_by=created_by,
    )


def _json_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


def _file_rows(name: str, version: int, files: Sequence[ModelFile]) -> list[ModelFileRow]:
    return [
        ModelFileRow(name=name, version=version, path=f.path, sha256=f.sha256, size=f.size)
        for f in files
    ]


def _pair_rows(
    table: type[ModelTagRow | ModelPropertyRow], name: str, version: int, pairs: Mapping[str, str]
) -> list[Any]:
    return [table(name=name, version=version, key=k, value=v) for k, v in pairs.items()]


def _model_row(session: Session, name: str) -> RegisteredModelRow:
    row = session.get(RegisteredModelRow, name)
    if row is None:
        raise NotFound(
            f"model {name!r} not found: list models with `modelyard model list`, or register"
            f" it with `modelyard model register PATH --name {name}`",
            model=name,
        )
    return row


def _version_row_of(session: Session, name: str, version: int) -> ModelVersionRow:
    row = session.get(ModelVersionRow, (name, version))
    if row is None:
        model = _model_row(session, name)
        known = session.scalars(
            select(ModelVersionRow.version).filter_by(name=model.name).order_by("version")
        ).all()
        listed = ", ".join(map(str, known[-10:])) or "none"
        raise NotFound(
            f"model {name!r} has no version {version}: its versions are {listed}",
            model=name,
            version=version,
        )
    return row


def _no_alias(name: str, alias: str) -> NotFound:
    return NotFound(
        f"model {name!r} has no alias {alias!r}: set it with `modelyard model alias set"
        f" {name} {alias} VERSION`",
        model=name,
        alias=alias,
    )


def _short(value: str, limit: int = 60) -> str:
    return repr(value) if len(value) <= limit else repr(value[:limit]) + "…"
