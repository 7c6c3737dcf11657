"""Registered models in Azure ML's v1 SDK words::

    model = Model.register(ws, model_path="outputs", model_name="flowers",
                           tags={"stage": "dev"}, properties={"auc": "0.93"})
    model = run.register_model("flowers", "outputs")     # the run as its lineage
    Model(ws, "flowers")                                  # the latest version
    Model(ws, "flowers", version=2); Model(ws, "flowers@champion")
    Model.list(ws)                                        # the latest version of each model
    model.download("here"); model.add_tags({...}); model.add_properties({...})
    Model.get_model_path("flowers")                       # in a scoring script's init()

Inside a scoring replica, `MODELYARD_MODEL_DIR` names the deployed model's folder, and
`Model.get_model_path` answers from it without opening any workspace (Azure's
`AZUREML_MODEL_DIR`). Elsewhere it materialises the version's files on this machine and
returns their folder (or the file, for a model of one file).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from modelyard.entities.registry import (
    Lineage,
    ModelReference,
    ModelVersion,
    ModelVersionRequest,
    parse_model_reference,
)
from modelyard.errors import InvalidValue, NotFound
from modelyard.services import models
from modelyard.services.workspaces import OpenWorkspace

if TYPE_CHECKING:
    from modelyard.sdk._compute import ComputeTarget
    from modelyard.sdk._webservice import (
        DeploymentConfiguration,
        InferenceConfig,
        Webservice,
    )


class _HasOpenWorkspace(Protocol):
    """The SDK's `Workspace` (sdk/_objects.py), as far as a model needs it."""

    _opened: OpenWorkspace


class Model:
    """One registered version of a model."""

    def __init__(self, workspace: _HasOpenWorkspace, name: str, version: int | None = None) -> None:
        reference = parse_model_reference(name)
        if version is not None:
            reference = ModelReference(reference.name, version=int(version))
        self._workspace = workspace
        self._record = models.get_model_version(workspace._opened, reference)

    @classmethod
    def _of(cls, workspace: _HasOpenWorkspace, record: ModelVersion) -> Model:
        model = cls.__new__(cls)
        model._workspace, model._record = workspace, record
        return model

    # Registering -----------------------------------------------------------------------------

    @classmethod
    def register(
        cls,
        workspace: _HasOpenWorkspace,
        model_path: str | Path,
        model_name: str,
        tags: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
        description: str | None = None,
        model_framework: str | None = None,
        run_id: str | None = None,
    ) -> Model:
        """The file or folder at `model_path` as the next version of `model_name`."""
        request = _request(model_name, tags, properties, description, model_framework, run_id)
        record = models.register_model(workspace._opened, Path(model_path), request)
        return cls._of(workspace, record)

    @staticmethod
    def deploy(
        workspace: _HasOpenWorkspace,
        name: str,
        models: Sequence[Model],
        inference_config: InferenceConfig | None = None,
        deployment_config: DeploymentConfiguration | None = None,
        deployment_target: ComputeTarget | str | None = None,
    ) -> Webservice:
        """Deploy one model as the web service `name` (an endpoint with one deployment):
        preflight first, then the replicas, ready when this returns. A
        `RayWebservice.deploy_configuration()` deploys to the ray compute `deployment_target`
        (a LocalWebservice's runs on this machine)."""
        from modelyard.sdk._webservice import deploy_model

        return deploy_model(
            workspace, name, models, inference_config, deployment_config, deployment_target
        )

    @classmethod
    def _register_run(
        cls,
        workspace: _HasOpenWorkspace,
        run_id: str,
        model_name: str,
        model_path: str,
        **fields: Any,
    ) -> Model:
        request = _request(model_name, **fields)
        record = models.register_run_model(workspace._opened, run_id, request, model_path)
        return cls._of(workspace, record)

    # Reading ---------------------------------------------------------------------------------

    @staticmethod
    def get_model_path(
        model_name: str, version: int | None = None, _workspace: _HasOpenWorkspace | None = None
    ) -> str:
        """Where the model's files are on this machine: inside a scoring replica, the deployed
        model's folder (`MODELYARD_MODEL_DIR`); elsewhere the version materialised from the
        workspace. A model of one file answers that file's path, as Azure does."""
        deployed = os.environ.get(models.MODEL_DIR_ENV)
        if deployed and _workspace is None:
            return _deployed_path(Path(deployed), model_name)
        if _workspace is None:
            raise InvalidValue(
                f"Model.get_model_path({model_name!r}) outside a deployment needs the workspace:"
                " pass _workspace=ws",
                model=model_name,
            )
        reference = parse_model_reference(model_name)
        if version is not None:
            reference = ModelReference(reference.name, version=int(version))
        folder = models.model_dir(_workspace._opened, reference)
        return _single_file_or(folder)

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def version(self) -> int:
        return self._record.version

    @property
    def id(self) -> str:
        """`NAME:VERSION`, as Azure's model ids read."""
        return self._record.reference

    @property
    def description(self) -> str | None:
        return self._record.description

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._record.tags)

    @property
    def properties(self) -> dict[str, str]:
        return dict(self._record.properties)

    @property
    def framework(self) -> str | None:
        return self._record.framework

    @property
    def aliases(self) -> list[str]:
        return list(self._record.aliases)

    @property
    def run_id(self) -> str | None:
        return self._record.lineage.run_id

    @property
    def lineage(self) -> Lineage:
        return self._record.lineage

    @property
    def created_time(self) -> Any:
        return self._record.created_at

    def serialize(self) -> dict[str, Any]:
        return self._record.to_dict()

    # Changing --------------------------------------------------------------------------------

    def download(self, target_dir: str | Path = ".", exist_ok: bool = False) -> str:
        """Copy the files into `target_dir`; answers the folder (or the file, for one file)."""
        models.download(self._opened, self._record.reference, Path(target_dir), exist_ok)
        return _single_file_or(Path(target_dir), self._record)

    def add_tags(self, tags: Mapping[str, Any]) -> None:
        self._record = models.update_version(
            self._opened, self._record.reference, set_tags=_texts(tags)
        )

    def remove_tags(self, tags: list[str]) -> None:
        self._record = models.update_version(
            self._opened, self._record.reference, delete_tags=list(tags)
        )

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        """Add-only: a key already set to another value raises Conflict."""
        self._record = models.update_version(
            self._opened, self._record.reference, add_properties=_texts(properties)
        )

    def set_alias(self, alias: str) -> None:
        """Point `name@alias` at this version."""
        models.set_alias(self._opened, self.name, alias, self.version)
        self._record = models.get_model_version(self._opened, self._record.reference)

    def delete(self) -> None:
        """Delete this version (its aliases go with it)."""
        models.delete_version(self._opened, self._record.reference)

    @property
    def _opened(self) -> OpenWorkspace:
        return self._workspace._opened

    def __repr__(self) -> str:
        return f"Model(name={self.name!r}, version={self.version})"

    # Declared last: inside the class body, `list` names this method from here on.
    @classmethod
    def list(cls, workspace: _HasOpenWorkspace, name: str | None = None) -> list[Model]:
        """The latest version of every model, or every version of `name` (newest first)."""
        opened = workspace._opened
        if name is not None:
            return [cls._of(workspace, v) for v in models.list_versions(opened, name)]
        return [
            cls._of(workspace, models.get_model_version(opened, model.name))
            for model in models.list_models(opened)
            if model.latest_version is not None
        ]


def _request(
    name: str,
    tags: Mapping[str, Any] | None = None,
    properties: Mapping[str, Any] | None = None,
    description: str | None = None,
    framework: str | None = None,
    run_id: str | None = None,
) -> ModelVersionRequest:
    return ModelVersionRequest(
        name=name,
        description=description,
        tags=_texts(tags or {}),
        properties=_texts(properties or {}),
        framework=framework,
        lineage=Lineage(run_id=run_id),
    )


def _texts(pairs: Mapping[str, Any]) -> dict[str, str]:
    return {str(key): str(value) for key, value in pairs.items()}


def _deployed_path(folder: Path, model_name: str) -> str:
    """The deployed model's folder; a deployment of several models has one folder per name."""
    name = parse_model_reference(model_name).name
    if (folder / name).is_dir() and not (folder / name).is_symlink():
        folder = folder / name
    if not folder.is_dir():
        raise NotFound(
            f"{models.MODEL_DIR_ENV} names {str(folder)!r}, which is not a folder: deploy the"
            f" model {name!r} with this entry script",
            model=name,
        )
    return _single_file_or(folder)


def _single_file_or(folder: Path, record: ModelVersion | None = None) -> str:
    if record is not None:
        paths = [file.path for file in record.files]
    else:
        paths = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
    return str(folder / paths[0]) if len(paths) == 1 else str(folder)
