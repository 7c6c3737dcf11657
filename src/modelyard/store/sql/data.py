"""Data assets in the SQL store (the `DataStore` part of `SqlStore`), and the data versions
each run read (`run_inputs`).

Every write holds the data lock for its transaction (SQLite's write lock, PostgreSQL's
advisory lock): two creations of one name get consecutive versions, and a creation compares
its content with the latest version and adds a version in one serialised step, so the same
content sent twice at once makes one version.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelyard.entities.data import (
    DataAsset,
    DataReference,
    DataType,
    DataVersion,
    DataVersionRequest,
    RunInput,
)
from modelyard.errors import NotFound
from modelyard.store.sql.engine import serialise_writes
from modelyard.store.sql.models import (
    DataAssetRow,
    DataVersionRow,
    DataVersionTagRow,
    RunInputRow,
    RunRow,
    utcnow,
)
from modelyard.store.sql.versions import latest_version_number, listed_versions, version_count

_DATA_LOCK_KEY = 0x6D79_6474  # "mydt"


class SqlDataStore:
    """Mixed into `SqlStore`, which provides the sessions."""

    def _session(self, write: bool = False) -> AbstractContextManager[Session]:
        raise NotImplementedError

    @contextmanager
    def _data_write(self) -> Any:
        with self._session(write=True) as session:
            serialise_writes(session, _DATA_LOCK_KEY)
            yield session

    # Creating --------------------------------------------------------------------------------

    def create_data_version(
        self,
        request: DataVersionRequest,
        content: tuple[str, int, int],
        created_by: str,
        check_blobs: Callable[[], None] = lambda: None,
    ) -> tuple[DataVersion, bool]:
        """The name's next version with `content` (content hash, file count, bytes), its parent
        the latest not archived; or that latest one, unchanged, when its content is the same
        (and False). `check_blobs` runs under the lock first."""
        request = request.check()
        content_hash, file_count, total_bytes = content
        with self._data_write() as session:
            check_blobs()
            now = utcnow()
            asset = session.get(DataAssetRow, request.name)
            if asset is None:
                asset = DataAssetRow(
                    name=request.name,
                    created_at=now,
                    updated_at=now,
                    next_version=1,
                    archived=False,
                )
                session.add(asset)
                session.flush()
            latest = _latest_number(session, request.name)
            if latest is not None:
                row = _version_row_of(session, request.name, latest)
                if row.content_hash == content_hash:
                    return self._data_version_entity(session, request.name, latest), False
            version = asset.next_version
            asset.next_version, asset.updated_at, asset.archived = version + 1, now, False
            session.add(
                DataVersionRow(
                    name=request.name,
                    version=version,
                    type=request.type.value,
                    description=request.description,
                    parent_version=latest,
                    content_hash=content_hash,
                    file_count=file_count,
                    total_bytes=total_bytes,
                    created_at=now,
                    created_by=created_by,
                    archived=False,
                )
            )
            session.flush()
            session.add_all(
                DataVersionTagRow(name=request.name, version=version, key=key, value=value)
                for key, value in request.tags.items()
            )
            session.flush()
            return self._data_version_entity(session, request.name, version), True

    # Reading ---------------------------------------------------------------------------------

    def resolve_data_version(self, reference: DataReference) -> DataVersion:
        with self._session() as session:
            number = reference.version
            if number is None:
                number = _latest_number(session, reference.name)
                if number is None:
                    _asset_row(session, reference.name)
                    raise NotFound(
                        f"data asset {reference.name!r} has no version that is not archived:"
                        f" name one (data:{reference.name}:VERSION), or restore one with"
                        f" `modelyard data restore {reference.name}:VERSION`",
                        name=reference.name,
                    )
            return self._data_version_entity(session, reference.name, number)

    def list_data_assets(self, include_archived: bool = False) -> list[DataAsset]:
        with self._session() as session:
            query = select(DataAssetRow).order_by(DataAssetRow.name)
            if not include_archived:
                query = query.where(DataAssetRow.archived.is_(False))
            return [self._data_asset_entity(session, row) for row in session.scalars(query).all()]

    def get_data_asset(self, name: str) -> DataAsset:
        with self._session() as session:
            return self._data_asset_entity(session, _asset_row(session, name))

    def list_data_versions(self, name: str, include_archived: bool = False) -> list[DataVersion]:
        """Newest first."""
        with self._session() as session:
            _asset_row(session, name)
            query = select(DataVersionRow.version).where(DataVersionRow.name == name)
            if not include_archived:
                query = query.where(DataVersionRow.archived.is_(False))
            numbers = session.scalars(query.order_by(DataVersionRow.version.desc())).all()
            return [self._data_version_entity(session, name, number) for number in numbers]

    def find_data_versions(self, content_hash: str) -> list[DataVersion]:
        """Every version holding exactly this content, by name and version."""
        with self._session() as session:
            keys = session.execute(
                select(DataVersionRow.name, DataVersionRow.version)
                .where(DataVersionRow.content_hash == content_hash)
                .order_by(DataVersionRow.name, DataVersionRow.version)
            ).all()
            return [self._data_version_entity(session, name, number) for name, number in keys]

    # Archiving -------------------------------------------------------------------------------

    def set_data_version_archived(self, name: str, version: int, archived: bool) -> DataVersion:
        with self._data_write() as session:
            _version_row_of(session, name, version).archived = archived
            _asset_row(session, name).updated_at = utcnow()
            session.flush()
            return self._data_version_entity(session, name, version)

    def set_data_asset_archived(self, name: str, archived: bool) -> DataAsset:
        """The asset, hidden from lists (its versions keep their own flags)."""
        with self._data_write() as session:
            row = _asset_row(session, name)
            row.archived, row.updated_at = archived, utcnow()
            session.flush()
            return self._data_asset_entity(session, row)

    # Runs' inputs ----------------------------------------------------------------------------

    def record_run_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        with self._session(write=True) as session:
            session.add_all(
                RunInputRow(
                    run_id=run_id, input_name=item.input_name, name=item.name, version=item.version
                )
                for item in inputs
            )

    def list_run_inputs(self, run_id: str) -> list[RunInput]:
        with self._session() as session:
            rows = session.scalars(
                select(RunInputRow).where(RunInputRow.run_id == run_id).order_by("input_name")
            ).all()
            return [RunInput(row.run_id, row.input_name, row.name, row.version) for row in rows]

    def list_data_version_readers(self, name: str, version: int) -> list[RunInput]:
        """The runs that read `name:version`, oldest first."""
        with self._session() as session:
            rows = session.execute(
                select(RunInputRow)
                .join(RunRow, RunRow.id == RunInputRow.run_id)
                .where(RunInputRow.name == name, RunInputRow.version == version)
                .order_by(RunRow.created_at, RunRow.id)
            ).scalars()
            return [RunInput(row.run_id, row.input_name, row.name, row.version) for row in rows]

    # Helpers ---------------------------------------------------------------------------------

    def _data_version_entity(self, session: Session, name: str, version: int) -> DataVersion:
        row = _version_row_of(session, name, version)
        tags = session.execute(
            select(DataVersionTagRow.key, DataVersionTagRow.value)
            .filter_by(name=name, version=version)
            .order_by(DataVersionTagRow.key)
        ).all()
        return row.to_entity({key: value for key, value in tags})

    def _data_asset_entity(self, session: Session, row: DataAssetRow) -> DataAsset:
        number = _latest_number(session, row.name)
        latest = None if number is None else session.get(DataVersionRow, (row.name, number))
        return DataAsset(
            name=row.name,
            created_at=row.created_at,
            updated_at=row.updated_at,
            latest_version=number,
            version_count=version_count(session, DataVersionRow, row.name),
            archived=row.archived,
            latest_type=None if latest is None else DataType.parse(latest.type),
            latest_description=None if latest is None else latest.description,
        )


def _latest_number(session: Session, name: str) -> int | None:
    return latest_version_number(session, DataVersionRow, name)


def _asset_row(session: Session, name: str) -> DataAssetRow:
    row = session.get(DataAssetRow, name)
    if row is None:
        raise NotFound(
            f"data asset {name!r} not found: list assets with `modelyard data list`, or create"
            f" it with `modelyard data create {name} --path PATH`",
            name=name,
        )
    return row


def _version_row_of(session: Session, name: str, version: int) -> DataVersionRow:
    row = session.get(DataVersionRow, (name, version))
    if row is None:
        _asset_row(session, name)
        listed = listed_versions(session, DataVersionRow, name)
        raise NotFound(
            f"data asset {name!r} has no version {version}: its versions are {listed}",
            name=name,
            version=version,
        )
    return row
