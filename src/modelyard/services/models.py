"""The model registry: register, list, show, resolve, download and delete model versions, and
their tags, properties and aliases. CLI, SDK and REST call these; nothing else decides.

Files are immutable once registered: each is copied, hashed as it is copied, into the
workspace's model store (`<workspace>/models/`, content-addressed blobs, `store/blobs.py`)
before the version's row is written, and the row names each file's SHA-256. A registration that
fails midway removes the blobs it added (unless another version uses them) and writes no row; a
process killed midway leaves only unreferenced blobs, which the reaper's sweep collects once
they are old (`services/leftovers.py`).

A workspace behind a server registers through the server: a folder is sent as one tar archive
(`model.json`, then `files/…`), a run's artifacts are named by run id and path and never leave
the server. `model_dir` gives the files of a version as a read-only folder on this machine
(cached under `cache/models/`, keyed by the files' hashes), for scoring code.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from modelyard.entities import limits
from modelyard.entities.endpoints import DeploymentState
from modelyard.entities.registry import (
    Lineage,
    ModelAlias,
    ModelFile,
    ModelReference,
    ModelVersion,
    ModelVersionRequest,
    RegisteredModel,
    parse_model_reference,
)
from modelyard.errors import (
    AlreadyExists,
    Conflict,
    InvalidValue,
    LimitExceeded,
    ModelyardError,
    NotFound,
)
from modelyard.fileio import TEMP_PREFIX, materialise_once, storage_errors
from modelyard.services.model_recognition import recognise
from modelyard.services.workspaces import OpenWorkspace
from modelyard.store.artifacts import safe_relative_path
from modelyard.store.blobs import READ_ONLY, BlobStore

if TYPE_CHECKING:
    from modelyard.store.base import ModelStore
    from modelyard.store.rest_models import RestModels

MODELS_FOLDER: Final = "models"  # the blobs, in the workspace folder
CACHE_FOLDER: Final = "models"  # materialised versions, in the cache
MODEL_DIR_ENV: Final = "MODELYARD_MODEL_DIR"
DATA_HASH_PROPERTY: Final = "data_content_hash"  # what a training run records of its data
DEFAULT_RUN_PATH: Final = "outputs"


# Registering ---------------------------------------------------------------------------------


def register_model(
    ws: OpenWorkspace,
    path: Path,
    request: ModelVersionRequest,
    *,
    user: str | None = None,
) -> ModelVersion:
    """Register the file or folder at `path` as the next version of `request.name`. A folder
    holding an image classifier (Model Builder's three files) registers as that model, unless
    `request.framework` says what it is."""
    request = request.check()
    files, request = planned_files(Path(path), request)
    request = _with_run_lineage(ws, request)
    if ws.server_url is not None:
        return _remote(ws).register_files(request, files)
    return _register_here(ws, request, files, user or local_user())


def register_run_model(
    ws: OpenWorkspace,
    run_id: str,
    request: ModelVersionRequest,
    path: str = DEFAULT_RUN_PATH,
    *,
    user: str | None = None,
) -> ModelVersion:
    """Register the run's artifact file or folder `path` (its `outputs` by default), with the
    run as the version's lineage. Outputs are the run's once its job has uploaded them: at its
    end for a submitted job."""
    relative = safe_relative_path(path)
    request = replace(request, lineage=replace(request.lineage, run_id=run_id)).check()
    if ws.server_url is not None:
        return _remote(ws).register_run_artifacts(request, run_id, relative)
    ws.store.get_run(run_id)
    source = ws.local_artifacts.local_path(run_id, relative)
    if not source.exists():
        raise NotFound(
            f"run {run_id} has no artifact {relative!r}: list its files with `modelyard run"
            f" artifacts list {run_id}`; a job's outputs are uploaded when it ends",
            run_id=run_id,
            path=relative,
        )
    return register_model(ws, source, request, user=user)


def planned_files(
    path: Path, request: ModelVersionRequest
) -> tuple[dict[str, Path], ModelVersionRequest]:
    """The files to register (relative path → file) and the request with what was recognised."""
    files = _files_at(path)
    recognised = None if request.framework is not None else recognise(files)
    if recognised is None:
        return files, request
    return recognised.files, replace(
        request,
        framework=recognised.framework,
        input_schema=request.input_schema or recognised.input_schema,
        output_schema=request.output_schema or recognised.output_schema,
        properties={**recognised.properties, **request.properties},
    )


def _files_at(path: Path) -> dict[str, Path]:
    if not path.exists():
        raise NotFound(f"model path {str(path)!r} not found: check the path", path=str(path))
    if path.is_file():
        return {safe_relative_path(path.name): path}
    files: dict[str, Path] = {}
    for folder, names, file_names in os.walk(path):  # links to folders are not followed
        names[:] = sorted(name for name in names if not name.startswith(TEMP_PREFIX))
        for name in sorted(file_names):
            file = Path(folder) / name
            if file.is_symlink() or not file.is_file() or name.startswith(TEMP_PREFIX):
                continue
            files[safe_relative_path(file.relative_to(path).as_posix())] = file
    if not files:
        raise InvalidValue(f"model folder {str(path)!r} holds no files: nothing to register")
    if len(files) > limits.MODEL_FILES_MAX:
        raise LimitExceeded(
            f"model folder {str(path)!r} holds {len(files)} files, over the limit of"
            f" {limits.MODEL_FILES_MAX}: register the model's own files, or pack them into one",
            limit=limits.MODEL_FILES_MAX,
        )
    return files


def _with_run_lineage(ws: OpenWorkspace, request: ModelVersionRequest) -> ModelVersionRequest:
    """A run's experiment and data hash, filled in from the run when the request names one."""
    lineage = request.lineage
    if lineage.run_id is None or (lineage.experiment and lineage.data_hash):
        return request
    run = ws.store.get_run(lineage.run_id)
    data_hash = lineage.data_hash or ws.store.get_run_data(run.id).properties.get(
        DATA_HASH_PROPERTY
    )
    filled = Lineage(run.id, lineage.experiment or run.experiment_name, data_hash or None)
    return replace(request, lineage=filled)


def _register_here(
    ws: OpenWorkspace, request: ModelVersionRequest, files: dict[str, Path], user: str
) -> ModelVersion:
    blobs, store = blob_store(ws), model_store(ws)
    added: list[str] = []
    try:
        recorded = []
        for relative, source in files.items():
            sha, size, created = blobs.put_file(source)
            recorded.append(ModelFile(relative, sha, size))
            if created:
                added.append(sha)

        def check_blobs() -> None:  # under the registry's lock: none collected meanwhile
            for file in recorded:
                if not blobs.has(file.sha256):
                    blobs.restore(file.sha256, files[file.path])

        return store.create_model_version(request, recorded, user, check_blobs)
    except BaseException:
        with contextlib.suppress(ModelyardError, OSError):
            store.collect_unreferenced_blobs(added, blobs.remove)
        raise


def register_uploaded(
    ws: OpenWorkspace, folder: Path, request: ModelVersionRequest, user: str
) -> ModelVersion:
    """A server's end of a registration sent as an archive, unpacked into `folder`."""
    files, request = planned_files(folder, request)
    return _register_here(ws, _with_run_lineage(ws, request.check()), files, user)


# Reading -------------------------------------------------------------------------------------


def list_models(ws: OpenWorkspace) -> list[RegisteredModel]:
    if ws.server_url is not None:
        return _remote(ws).list_models()
    return model_store(ws).list_models()


def get_model(ws: OpenWorkspace, name: str) -> RegisteredModel:
    if ws.server_url is not None:
        return _remote(ws).get_model(name)
    return model_store(ws).get_model(name)


def list_versions(ws: OpenWorkspace, name: str) -> list[ModelVersion]:
    """Newest first."""
    if ws.server_url is not None:
        return _remote(ws).list_versions(name)
    return model_store(ws).list_model_versions(name)


def list_run_versions(ws: OpenWorkspace, run_id: str) -> list[ModelVersion]:
    """The versions registered from run `run_id`, by name and version."""
    if ws.server_url is not None:
        return _remote(ws).list_run_versions(run_id)
    return model_store(ws).list_run_model_versions(run_id)


def get_model_version(ws: OpenWorkspace, reference: str | ModelReference) -> ModelVersion:
    """The version a reference names: `NAME` (latest), `NAME:VERSION`, `NAME@ALIAS`,
    `models:/NAME/VERSION`."""
    parsed = _parsed(reference)
    if ws.server_url is not None:
        return _remote(ws).resolve(parsed)
    return model_store(ws).resolve_model_version(parsed)


def model_dir(ws: OpenWorkspace, reference: str | ModelReference) -> Path:
    """The version's files as a read-only folder on this machine, materialised once into the
    cache (keyed by the files' hashes, so a recreated name never reads an old copy)."""
    version = get_model_version(ws, reference)
    target = ws.cache_dir / CACHE_FOLDER / version.name / f"{version.version}-{files_key(version)}"
    return materialise_once(target, lambda staging: _write_files(ws, version, staging, True))


def files_key(version: ModelVersion) -> str:
    listing = "\n".join(f"{file.path}\0{file.sha256}" for file in version.files)
    return hashlib.sha256(listing.encode()).hexdigest()[:16]


def download(
    ws: OpenWorkspace, reference: str | ModelReference, target: Path, exist_ok: bool = False
) -> list[Path]:
    """Copy the version's files into the folder `target` (created if missing), keeping their
    paths; an existing file there is refused unless `exist_ok`, which replaces it."""
    version = get_model_version(ws, reference)
    target = Path(target)
    clashes = [file.path for file in version.files if (target / file.path).exists()]
    if clashes and not exist_ok:
        raise AlreadyExists(
            f"{target / clashes[0]} already exists: download into another folder, or pass"
            " exist_ok=True (--overwrite) to replace it",
            path=str(target / clashes[0]),
        )
    source = model_dir(ws, version.reference)
    written = []
    for file in version.files:
        destination = target / file.path
        destination.parent.mkdir(parents=True, exist_ok=True)
        with storage_errors(destination):
            temp = destination.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex}")
            shutil.copyfile(source / file.path, temp)
            os.replace(temp, destination)
        written.append(destination)
    return written


def _write_files(ws: OpenWorkspace, version: ModelVersion, folder: Path, read_only: bool) -> None:
    remote = _remote(ws) if ws.server_url is not None else None
    for file in version.files:
        destination = folder / file.path
        destination.parent.mkdir(parents=True, exist_ok=True)
        if remote is not None:
            remote.download_file(version, file, destination)
        else:
            with blob_store(ws).open_read(file.sha256) as handle, open(destination, "wb") as out:
                shutil.copyfileobj(handle, out, 1024 * 1024)
        if read_only:
            os.chmod(destination, READ_ONLY)


def open_file(ws: OpenWorkspace, version: ModelVersion, path: str) -> Any:
    """One file of a version, open for reading (the server's download route)."""
    for file in version.files:
        if file.path == path:
            return blob_store(ws).open_read(file.sha256)
    raise NotFound(
        f"model {version.reference} has no file {path!r}: see its files with `modelyard model"
        f" show {version.reference}`",
        model=version.name,
        version=version.version,
        path=path,
    )


# Changing ------------------------------------------------------------------------------------


def update_version(
    ws: OpenWorkspace,
    reference: str | ModelReference,
    *,
    set_tags: Mapping[str, str] | None = None,
    delete_tags: list[str] | None = None,
    add_properties: Mapping[str, str] | None = None,
    description: str | None = None,
) -> ModelVersion:
    """Tags set and deleted, properties added (a changed one refused), the description set."""
    version = get_model_version(ws, reference)
    if ws.server_url is not None:
        return _remote(ws).update_version(
            version, set_tags, delete_tags, add_properties, description
        )
    checked = ModelVersionRequest(
        version.name, description, dict(set_tags or {}), dict(add_properties or {})
    ).check()
    store, name, number = model_store(ws), version.name, version.version
    if delete_tags:
        version = store.delete_model_tags(name, number, delete_tags)
    if set_tags:
        version = store.set_model_tags(name, number, checked.tags)
    if add_properties:
        version = store.add_model_properties(name, number, checked.properties)
    if description is not None:
        version = store.set_model_description(name, number, description)
    return version


def set_alias(ws: OpenWorkspace, name: str, alias: str, version: int) -> ModelAlias:
    """Point `name@alias` at `version` (moving it if it pointed elsewhere)."""
    if ws.server_url is not None:
        return _remote(ws).set_alias(name, alias, version)
    return model_store(ws).set_model_alias(name, alias, version)


def delete_alias(ws: OpenWorkspace, name: str, alias: str) -> ModelAlias:
    if ws.server_url is not None:
        return _remote(ws).delete_alias(name, alias)
    return model_store(ws).delete_model_alias(name, alias)


def delete_version(ws: OpenWorkspace, reference: str | ModelReference) -> ModelVersion:
    """Delete one version; its aliases go with it (MLflow's rule), its files once no other
    version holds the same bytes."""
    version = get_model_version(ws, reference)
    if ws.server_url is not None:
        _remote(ws).delete_version(version.name, version.version)
        return version
    _refuse_if_deployed(ws, version.name, version.version)
    shas = model_store(ws).delete_model_version(version.name, version.version)
    _collect(ws, shas)
    return version


def delete_model(ws: OpenWorkspace, name: str) -> list[ModelVersion]:
    """Delete the model and all its versions."""
    versions = list_versions(ws, name)
    if ws.server_url is not None:
        _remote(ws).delete_model(name)
        return versions
    _refuse_if_deployed(ws, name)
    _collect(ws, model_store(ws).delete_model(name))
    return versions


def _refuse_if_deployed(ws: OpenWorkspace, name: str, version: int | None = None) -> None:
    """A version that a deployment serves keeps its files: its replicas read them, and a
    restarted replica would find nothing (Azure deletes it from under the service)."""
    for deployment in ws.endpoint_store.list_deployments():
        live = deployment.state is not DeploymentState.FAILED  # Creating reads them too
        serving = deployment.model_name == name and live
        if serving and version in (None, deployment.model_version):
            served = f"{name}:{deployment.model_version}"
            raise Conflict(
                f"model {served} is served by deployment {deployment.name} of endpoint"
                f" {deployment.endpoint}; fix: delete that deployment first, or update it to"
                " another version",
                model=served,
                endpoint=deployment.endpoint,
            )


def _collect(ws: OpenWorkspace, shas: list[str]) -> None:
    model_store(ws).collect_unreferenced_blobs(shas, blob_store(ws).remove)


def collect_orphan_blobs(ws: OpenWorkspace, max_age_s: float) -> list[str]:
    """Blobs older than `max_age_s` that no version uses (a registration killed between its
    files and its row); a registration in progress that reuses one restores it."""
    if ws.server_url is not None:
        return []
    old = blob_store(ws).blobs_older_than(max_age_s)
    return model_store(ws).collect_unreferenced_blobs(old, blob_store(ws).remove)


# Plumbing ------------------------------------------------------------------------------------


def blob_store(ws: OpenWorkspace) -> BlobStore:
    return BlobStore(ws.root / MODELS_FOLDER)


def model_store(ws: OpenWorkspace) -> ModelStore:
    return ws.model_store


def _parsed(reference: str | ModelReference) -> ModelReference:
    return reference if isinstance(reference, ModelReference) else parse_model_reference(reference)


def local_user() -> str:
    """Who runs this process, for a record's `created_by` on a workspace without a server."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"


def _remote(ws: OpenWorkspace) -> RestModels:
    from modelyard.store.rest_models import RestModels  # httpx only where a server is used

    return RestModels(ws.rest_store.client)
