"""Data assets: create a version from a folder or file, list, show, download, archive and
restore, resolve a reference to a read-only copy on this machine, and lineage. CLI, SDK and
REST call these; nothing else decides.

A version's identity is its content (`data/manifest.py`): creating a version whose manifest
hash equals the latest version's makes none and returns that one. A new version's files are
copied, each checked against the hash its manifest records, into the workspace's data store
(`<workspace>/data/`, content-addressed blobs shared by every version holding the same bytes;
the manifest itself is the blob named by the content hash), before its row is written: a
version never changes when the user's folder does. Re-versioning a large unchanged folder reads
no file: the hash cache knows each file by path, size, mtime and inode, and equal content stops
before any copy.

A workspace behind a server creates through the server: the client builds the manifest, asks
the server for the latest version's hash (equal: nothing sent), else sends the files as one tar
archive. `data_path` materialises a version read-only under `cache/data/` (downloaded from the
server there), what a job on this machine reads.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final

from modelyard.data.manifest import HashCache, build_manifest_of, list_files_to_version
from modelyard.entities.data import (
    DataAsset,
    DataLineage,
    DataReference,
    DataType,
    DataVersion,
    DataVersionRequest,
    Manifest,
    ManifestEntry,
    RunInput,
    parse_data_reference,
)
from modelyard.errors import AlreadyExists, Conflict, InvalidValue, NotFound, StorageError
from modelyard.fileio import folder_written_atomically, materialise_once, storage_errors
from modelyard.services import models
from modelyard.services.workspaces import OpenWorkspace
from modelyard.store.blobs import READ_ONLY, BlobStore

if TYPE_CHECKING:
    from modelyard.store.base import DataStore
    from modelyard.store.rest_data import RestData

DATA_FOLDER: Final = "data"  # the blobs, in the workspace folder
CACHE_FOLDER: Final = "data"  # materialised versions, in the cache


@dataclass(frozen=True)
class DataCreated:
    """What `create_data` did: the version, whether it is new (False: the latest version
    holds the same content), and how many files were read or known unchanged."""

    version: DataVersion
    created: bool
    hashed: int = 0
    cached: int = 0


# Creating ------------------------------------------------------------------------------------


def create_data(
    ws: OpenWorkspace,
    path: Path,
    request: DataVersionRequest,
    *,
    verify: bool = False,
    user: str | None = None,
) -> DataCreated:
    """A version of `request.name` holding the file or folder at `path`, or the latest one
    when its content is the same. `verify` reads every file again instead of trusting the
    hash cache."""
    request = request.check()
    path = Path(path)
    files = list_files_to_version(path)
    _check_type(request.type, path)
    manifest = build_manifest_of(files, HashCache.in_cache_dir(ws.cache_dir), verify)
    if ws.server_url is not None:
        version, created = _remote(ws).create(request, manifest, files)
        return DataCreated(version, created, manifest.hashed, manifest.cached)
    return _create_here(ws, request, manifest, files, user or models.local_user())


def _check_type(kind: DataType, path: Path) -> None:
    if kind is DataType.URI_FILE and path.is_dir():
        raise InvalidValue(
            f"--type uri_file with folder {str(path)!r}: pass a file, or --type uri_folder",
            path=str(path),
        )
    if kind is DataType.URI_FOLDER and not path.is_dir():
        raise InvalidValue(
            f"--type uri_folder with file {str(path)!r}: pass a folder, or --type uri_file",
            path=str(path),
        )


def _create_here(
    ws: OpenWorkspace,
    request: DataVersionRequest,
    manifest: Manifest,
    files: dict[str, Path],
    user: str,
) -> DataCreated:
    same = _latest_with_content(ws, request.name, manifest.content_hash)
    if same is None:
        store_files(ws, manifest, files)
        content = (manifest.content_hash, manifest.file_count, manifest.total_bytes)
        version, created = data_store(ws).create_data_version(request, content, user)
    else:
        version, created = same, False
    return DataCreated(version, created, manifest.hashed, manifest.cached)


def _latest_with_content(ws: OpenWorkspace, name: str, content_hash: str) -> DataVersion | None:
    try:
        latest = data_store(ws).resolve_data_version(DataReference(name))
    except NotFound:
        return None
    return latest if latest.content_hash == content_hash else None


def store_files(ws: OpenWorkspace, manifest: Manifest, files: dict[str, Path]) -> None:
    """Each file's blob (copied unless present, and checked against the manifest's hash),
    then the manifest's own, then one sync for all."""
    blobs, written = blob_store(ws), False
    for entry in manifest.entries:
        if blobs.has(entry.sha256):
            continue
        sha, _size, created = blobs.put_file(files[entry.relpath], durable=False)
        written = True
        if sha != entry.sha256:
            if created:
                blobs.remove(sha)
            raise Conflict(
                f"{entry.relpath!r} changed while it was being versioned (or since its hash was"
                " cached with the same size and mtime): create the version again once the"
                " folder stops changing, with --verify",
                path=str(files[entry.relpath]),
            )
    sha, _size, manifest_written = blobs.put_stream(iter([manifest.text().encode("utf-8")]), False)
    if written or manifest_written:
        blobs.sync()  # before the row names them
    if sha != manifest.content_hash:  # the manifest's lines are its hash's input, by definition
        raise StorageError(f"the manifest of {manifest.content_hash} was stored as {sha}")


def create_uploaded(
    ws: OpenWorkspace,
    folder: Path,
    request: DataVersionRequest,
    user: str,
    expected_hash: str | None = None,
) -> DataCreated:
    """A server's end of a version sent as an archive, unpacked into `folder` (a single file
    arrives as the folder's one file). Refused before anything is stored when the files are
    not what the client hashed (`expected_hash`), or a `uri_file` holds more than one file."""
    files = list_files_to_version(folder)
    request = request.check()
    if request.type is DataType.URI_FILE and len(files) != 1:
        raise InvalidValue(
            f"a uri_file version holds one file, not {len(files)}: send a file, or send the"
            " folder as uri_folder",
            files=len(files),
        )
    manifest = build_manifest_of(files, None)
    if expected_hash is not None and expected_hash != manifest.content_hash:
        raise InvalidValue(
            f"the files arrived with content {manifest.content_hash}, not {expected_hash}:"
            " a file changed while it was sent; create the version again",
            content_hash=manifest.content_hash,
        )
    return _create_here(ws, request, manifest, files, user)


# Reading -------------------------------------------------------------------------------------


def list_assets(ws: OpenWorkspace, include_archived: bool = False) -> list[DataAsset]:
    if ws.server_url is not None:
        return _remote(ws).list_assets(include_archived)
    return data_store(ws).list_data_assets(include_archived)


def get_asset(ws: OpenWorkspace, name: str) -> DataAsset:
    if ws.server_url is not None:
        return _remote(ws).get_asset(name)
    return data_store(ws).get_data_asset(name)


def list_versions(
    ws: OpenWorkspace, name: str, include_archived: bool = False
) -> list[DataVersion]:
    """Newest first."""
    if ws.server_url is not None:
        return _remote(ws).list_versions(name, include_archived)
    return data_store(ws).list_data_versions(name, include_archived)


def get_data_version(ws: OpenWorkspace, reference: str | DataReference) -> DataVersion:
    """The version a reference names: `NAME`/`data:NAME@latest` (the latest not archived),
    `NAME:VERSION`, `data:NAME:VERSION`, `azureml:…`."""
    parsed = reference if isinstance(reference, DataReference) else parse_data_reference(reference)
    if ws.server_url is not None:
        return _remote(ws).resolve(parsed)
    return data_store(ws).resolve_data_version(parsed)


def read_manifest(ws: OpenWorkspace, version: DataVersion) -> Manifest:
    if ws.server_url is not None:
        return _remote(ws).manifest(version)
    return read_stored_manifest(ws, version.content_hash, version.reference)


def read_stored_manifest(ws: OpenWorkspace, content_hash: str, owner: str) -> Manifest:
    """The manifest blob `content_hash` of this workspace's data store (`owner`: whose, for
    the message), checked against its name."""
    with blob_store(ws).open_read(content_hash) as handle:
        manifest = Manifest.from_text(handle.read().decode("utf-8"))
    if manifest.content_hash != content_hash:
        raise StorageError(
            f"the manifest of {owner} is damaged: restore the workspace's data/ folder from a"
            " backup",
            owner=owner,
        )
    return manifest


def data_path(ws: OpenWorkspace, reference: str | DataReference | DataVersion) -> Path:
    """The version's files as a read-only folder on this machine (a `uri_file` version: its
    one file), materialised once into the cache, keyed by the content hash."""
    version = reference if isinstance(reference, DataVersion) else get_data_version(ws, reference)
    target = (
        ws.cache_dir
        / CACHE_FOLDER
        / version.name
        / f"{version.version}-{version.content_hash[:16]}"
    )
    materialise_once(target, lambda staging: _write_files(ws, version, staging, True))
    if version.type is DataType.URI_FILE:
        return target / read_manifest(ws, version).entries[0].relpath
    return target


def _write_files(ws: OpenWorkspace, version: DataVersion, folder: Path, read_only: bool) -> None:
    remote = _remote(ws) if ws.server_url is not None else None
    download = None if remote is None else functools.partial(remote.download_file, version)
    write_manifest_files(ws, read_manifest(ws, version), folder, download, read_only)


def write_manifest_files(
    ws: OpenWorkspace,
    manifest: Manifest,
    folder: Path,
    download: Callable[[ManifestEntry, Path], None] | None,
    read_only: bool,
) -> None:
    """Each file of `manifest` written under `folder`: from this workspace's blobs, or by
    `download` (a server's) when given."""
    for entry in manifest.entries:
        destination = folder / entry.relpath
        destination.parent.mkdir(parents=True, exist_ok=True)
        if download is not None:
            download(entry, destination)
        else:
            with blob_store(ws).open_read(entry.sha256) as handle, open(destination, "wb") as out:
                shutil.copyfileobj(handle, out, 1024 * 1024)
        if read_only:
            destination.chmod(READ_ONLY)


def download(ws: OpenWorkspace, reference: str | DataReference, target: Path) -> DataVersion:
    """The version's files written into the folder `target` (missing or empty), all or
    nothing."""
    version = get_data_version(ws, reference)
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise AlreadyExists(
            f"--output {str(target)!r} already exists and is not an empty folder: choose a new"
            " folder",
            path=str(target),
        )
    with storage_errors(target), folder_written_atomically(target) as partial:
        _write_files(ws, version, partial, read_only=False)
    return version


def open_file(ws: OpenWorkspace, version: DataVersion, path: str) -> BinaryIO:
    """One file of a version, open for reading (the server's download route)."""
    for entry in read_manifest(ws, version).entries:
        if entry.relpath == path:
            return blob_store(ws).open_read(entry.sha256)
    raise NotFound(
        f"data asset {version.reference} has no file {path!r}: see its files with `modelyard"
        f" data show {version.name}:{version.version} --files`",
        name=version.name,
        path=path,
    )


# Archiving -----------------------------------------------------------------------------------


def set_archived(ws: OpenWorkspace, reference: str, archived: bool) -> DataAsset | DataVersion:
    """`NAME`: the asset, hidden from lists; `NAME:VERSION`: that version, hidden from lists
    and from `@latest` (a run that read it keeps naming it, and `NAME:VERSION` still reads it)."""
    parsed = parse_data_reference(reference)
    if ws.server_url is not None:
        return _remote(ws).set_archived(parsed, archived)
    if parsed.version is None:
        return data_store(ws).set_data_asset_archived(parsed.name, archived)
    return data_store(ws).set_data_version_archived(parsed.name, parsed.version, archived)


# Runs' inputs and lineage --------------------------------------------------------------------


def list_run_inputs(ws: OpenWorkspace, run_id: str) -> list[RunInput]:
    """The data asset versions run `run_id` read, by input name."""
    if ws.server_url is not None:
        return _remote(ws).list_run_inputs(run_id)
    return data_store(ws).list_run_inputs(run_id)


def lineage(ws: OpenWorkspace, reference: str | DataReference) -> DataLineage:
    """The version, the runs that read it, the model versions registered from those runs, and
    the deployments serving those model versions."""
    version = get_data_version(ws, reference)
    if ws.server_url is not None:
        return _remote(ws).lineage(version)
    readers = data_store(ws).list_data_version_readers(version.name, version.version)
    runs, registered = [], []
    for item in readers:
        run = ws.store.get_run(item.run_id)
        runs.append(
            {
                "run_id": run.id,
                "experiment": run.experiment_name,
                "status": run.status.value,
                "input_name": item.input_name,
            }
        )
        for model in models.list_run_versions(ws, run.id):
            registered.append({"name": model.name, "version": model.version, "run_id": run.id})
    served = {(model["name"], model["version"]) for model in registered}
    deployments = [
        {
            "endpoint": deployment.endpoint,
            "deployment": deployment.name,
            "model": f"{deployment.model_name}:{deployment.model_version}",
            "state": deployment.state.value,
        }
        for deployment in ws.endpoint_store.list_deployments()
        if (deployment.model_name, deployment.model_version) in served
    ]
    return DataLineage(version, tuple(runs), tuple(registered), tuple(deployments))


# Plumbing ------------------------------------------------------------------------------------


def blob_store(ws: OpenWorkspace) -> BlobStore:
    return BlobStore(ws.root / DATA_FOLDER, kind="data")


def data_store(ws: OpenWorkspace) -> DataStore:
    return ws.data_store


def _remote(ws: OpenWorkspace) -> RestData:
    from modelyard.store.rest_data import RestData  # httpx only where a server is used

    return RestData(ws.rest_store.client)
