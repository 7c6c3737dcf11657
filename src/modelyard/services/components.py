"""Registered components: register a version from a component file, list, show, archive and
restore, and a version's code as a folder on this machine (what a pipeline step that names
the component runs). CLI, SDK and REST call these; nothing else decides.

Registering snapshots the code folder (the files a job's snapshot would take, honouring
`.modelyardignore`/`.gitignore`) into the workspace's content-addressed blob store, the one
data assets use: each file's blob, then the manifest's, before the version's row names them,
so a version never changes when the user's folder does. The version's identity is its
definition and the manifest's hash together: the same content registered again returns the
version holding it (`created` false); anything changed gets the next version.

A workspace behind a server registers through the server: the client builds the manifest and
sends the definition and the files as one tar archive; the server stores and versions them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from modelyard.data.manifest import HashCache, build_manifest_of
from modelyard.entities.components import (
    Component,
    ComponentReference,
    ComponentSpec,
    ComponentVersion,
    parse_component_reference,
)
from modelyard.entities.data import Manifest
from modelyard.errors import InvalidValue
from modelyard.fileio import materialise_once
from modelyard.services import data, models
from modelyard.services.component_file import load_component_file
from modelyard.services.snapshot import snapshot_files
from modelyard.services.workspaces import OpenWorkspace

if TYPE_CHECKING:
    from modelyard.store.base import ComponentStore
    from modelyard.store.rest_components import RestComponents

CACHE_FOLDER: Final = "components"  # versions' code, materialised, in the cache


@dataclass(frozen=True)
class ComponentCreated:
    """What `create_component` did: the version, and whether it is new (False: a version
    holding the same content was registered already)."""

    version: ComponentVersion
    created: bool


def create_component(ws: OpenWorkspace, path: Path, user: str | None = None) -> ComponentCreated:
    """A version of the component file at `path`, or the one already holding its content."""
    component = load_component_file(path)
    files = code_files(component.code)
    manifest = build_manifest_of(files, HashCache.in_cache_dir(ws.cache_dir))
    if ws.server_url is not None:
        version, created = _remote(ws).create(component.spec, manifest, files)
        return ComponentCreated(version, created)
    return create_here(ws, component.spec, manifest, files, user or models.local_user())


def code_files(folder: Path) -> dict[str, Path]:
    """The code folder's files a snapshot takes, by POSIX path."""
    return {path.as_posix(): folder / path for path in snapshot_files(folder)}


def create_here(
    ws: OpenWorkspace,
    spec: ComponentSpec,
    manifest: Manifest,
    files: dict[str, Path],
    user: str,
) -> ComponentCreated:
    """The version on this machine's store (a server's end of an upload too)."""
    spec = spec.check()
    data.store_files(ws, manifest, files)
    version, created = component_store(ws).create_component_version(
        spec, manifest.content_hash, user
    )
    return ComponentCreated(version, created)


# Reading -------------------------------------------------------------------------------------


def list_components(ws: OpenWorkspace) -> list[Component]:
    if ws.server_url is not None:
        return _remote(ws).list_components()
    return component_store(ws).list_components()


def list_versions(
    ws: OpenWorkspace, name: str, include_archived: bool = False
) -> list[ComponentVersion]:
    """Newest first."""
    if ws.server_url is not None:
        return _remote(ws).list_versions(name, include_archived)
    return component_store(ws).list_component_versions(name, include_archived)


def get_component_version(
    ws: OpenWorkspace, reference: str | ComponentReference
) -> ComponentVersion:
    """The version a reference names: `NAME`/`NAME@latest` (the latest not archived),
    `NAME:VERSION`, `azureml:…`."""
    parsed = (
        reference
        if isinstance(reference, ComponentReference)
        else parse_component_reference(reference)
    )
    if ws.server_url is not None:
        return _remote(ws).resolve(parsed)
    return component_store(ws).resolve_component_version(parsed)


def read_code_manifest(ws: OpenWorkspace, version: ComponentVersion) -> Manifest:
    if ws.server_url is not None:
        return _remote(ws).manifest(version)
    return data.read_stored_manifest(ws, version.code_hash, version.reference)


def code_path(ws: OpenWorkspace, version: ComponentVersion) -> Path:
    """The version's code as a folder on this machine, materialised once into the cache,
    keyed by its manifest hash (downloaded from the server behind the workspace there)."""
    target = (
        ws.cache_dir / CACHE_FOLDER / version.name / f"{version.version}-{version.code_hash[:16]}"
    )
    remote = _remote(ws) if ws.server_url is not None else None
    download = None if remote is None else functools.partial(remote.download_file, version)

    def fill(staging: Path) -> None:
        manifest = read_code_manifest(ws, version)
        data.write_manifest_files(ws, manifest, staging, download, False)

    return materialise_once(target, fill)


# Archiving -----------------------------------------------------------------------------------


def set_archived(ws: OpenWorkspace, reference: str, archived: bool) -> ComponentVersion:
    """`NAME:VERSION` hidden from lists and from `@latest` (archived) or back (restored); a
    pipeline naming `NAME:VERSION` still runs it."""
    parsed = parse_component_reference(reference)
    if parsed.version is None:
        raise InvalidValue(
            f"component reference {reference!r} names no version: archive one version at a"
            f" time, as in {parsed.name}:1",
            reference=reference,
        )
    if ws.server_url is not None:
        return _remote(ws).set_archived(parsed.name, parsed.version, archived)
    return component_store(ws).set_component_version_archived(parsed.name, parsed.version, archived)


# Plumbing ------------------------------------------------------------------------------------


def component_store(ws: OpenWorkspace) -> ComponentStore:
    return ws.component_store


def _remote(ws: OpenWorkspace) -> RestComponents:
    from modelyard.store.rest_components import RestComponents  # httpx only where a server is

    return RestComponents(ws.rest_store.client)


def step_component_lookup(ws: OpenWorkspace) -> Callable[[str], tuple[ComponentVersion, Path]]:
    """What a pipeline file's steps resolve their `component:` with: the version a reference
    names and its code on this machine."""

    def lookup(reference: str) -> tuple[ComponentVersion, Path]:
        version = get_component_version(ws, reference)
        return version, code_path(ws, version)

    return lookup
