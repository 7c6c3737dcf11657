"""Registered components in Azure ML v2's SDK shape (`ml_client.components`), over
`services.components`::

    train = load_component("components/train.yml")
    registered = ws.components.create_or_update(train)     # azureml:train:1 (or the same one)
    ws.components.get("train", version=1); ws.components.get("train", label="latest")
    ws.components.list(); ws.components.list(name="train"); ws.components.archive("train", 1)

What `get` returns is called inside a `@pipeline` function like a loaded component; its step
runs the version's code snapshot and records the version it ran.
"""

from __future__ import annotations

import builtins
from typing import Protocol

from modelyard.entities.components import (
    LATEST,
    ComponentReference,
    ComponentVersion,
    validate_component_version,
)
from modelyard.errors import InvalidValue
from modelyard.sdk._dsl import Component
from modelyard.services import components as service
from modelyard.services.workspaces import OpenWorkspace


class _HasOpenWorkspace(Protocol):
    """The SDK's `Workspace` (sdk/_objects.py), as far as components need it."""

    _opened: OpenWorkspace


class ComponentOperations:
    """Azure v2's `ml_client.components`: `ws.components`."""

    def __init__(self, workspace: _HasOpenWorkspace) -> None:
        self._opened = workspace._opened

    def create_or_update(self, component: Component) -> Component:
        """A new version of a loaded component, or the one already holding its content
        (`created` False on the returned component)."""
        if component.source is None:
            raise InvalidValue(
                f"component {component.name!r} was not loaded from a file: pass"
                " load_component('component.yml')"
            )
        result = service.create_component(self._opened, component.source)
        found = self._of(result.version)
        found.created = result.created
        return found

    def get(
        self, name: str, version: str | int | None = None, label: str | None = None
    ) -> Component:
        """A version (`version=2`), or the latest not archived (`label="latest"`, or neither)."""
        if label is not None and label != LATEST:
            raise InvalidValue(f"label {label!r} is not known: use label='latest' or version=N")
        number = None if version is None else validate_component_version(version, name)
        return self._of(
            service.get_component_version(self._opened, ComponentReference(name, number))
        )

    def list(self, name: str | None = None) -> builtins.list[Component]:
        """The latest version of each component, or every version of `name` (newest first)."""
        if name is not None:
            return [self._of(v) for v in service.list_versions(self._opened, name)]
        return [
            self.get(found.name)
            for found in service.list_components(self._opened)
            if found.latest_version is not None
        ]

    def archive(self, name: str, version: str | int) -> None:
        service.set_archived(self._opened, f"{name}:{version}", True)

    def restore(self, name: str, version: str | int) -> None:
        service.set_archived(self._opened, f"{name}:{version}", False)

    def _of(self, version: ComponentVersion) -> Component:
        code = service.code_path(self._opened, version)
        return Component(version.spec, code, registered=version)
