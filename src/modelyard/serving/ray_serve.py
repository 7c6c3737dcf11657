"""A deployment on a Ray cluster, as Ray Serve runs it: the local replica's scoring app
(`app.Replica` and `build_app`: the same scorers, key check, metrics) behind Serve's HTTP proxy,
one Serve application per version of a deployment.

The service stages a folder (`services/ray_deployments.py`) and submits it as the working_dir
of a Ray job whose entrypoint is `python -m modelyard.serving.ray_serve deploy`:

- the folder holds the model's files (`model/`), the entry script's folder (`source/`), the
  replica keys file, the preflight's sample and `serve-spec.json` (`ServeSpec`); Serve's
  replicas inherit the job's runtime_env, so they find the same files in their working dir,
  on whichever node they run;
- the job runs the preflight first (init() and one sample request, in the cluster's Python),
  then `serve.run` of the application, which returns once every replica's init() has passed
  (`ServeScorer` runs init() in its constructor, so Serve's RUNNING means ready);
- it prints one result line (`RESULT_MARKER` + JSON) that the service reads from the job's log;
  an application it started is deleted again when anything after fails, so a failed deploy
  leaves nothing on the cluster.

`python -m modelyard.serving.ray_serve delete APP…` deletes applications (Serve's own restarts
and scaling need nothing from Modelyard). Ray is imported only inside these functions: the
`ray` extra is needed on the cluster and by the service, never by a base install.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from modelyard.entities.endpoints import Autoscaling
from modelyard.serving.config import ReplicaConfig

SPEC_FILE: Final = "serve-spec.json"
MODEL_FOLDER: Final = "model"
SOURCE_FOLDER: Final = "source"
KEYS_FILE: Final = "replica-keys.json"
SAMPLE_FILE: Final = "preflight-sample"
RESULT_MARKER: Final = "MODELYARD_SERVE_RESULT "
INGRESS_NAME: Final = "scorer"
_log = logging.getLogger("modelyard.serving.ray_serve")


@dataclass(frozen=True)
class ServeSpec:
    """One Serve application of one deployment version: plain values, written by the service
    as `serve-spec.json` and read by the job. Paths are relative to the staged folder."""

    app: str
    route_prefix: str
    http_host: str  # where Serve's proxy listens if this job is the one that starts Serve
    http_port: int
    num_cpus: float
    memory_bytes: int
    num_replicas: int = 1
    autoscaling: Autoscaling | None = None
    entry_script: str | None = None
    source_directory: str | None = None
    sample: str | None = None
    sample_content_type: str = "application/json"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServeSpec:
        scaling = data.get("autoscaling")
        return cls(**{**data, "autoscaling": Autoscaling(**scaling) if scaling else None})

    def replica_config(self, folder: Path) -> ReplicaConfig:
        source = folder / self.source_directory if self.source_directory else None
        return ReplicaConfig(
            model_dir=folder / MODEL_FOLDER,
            entry_script=Path(self.entry_script) if self.entry_script else None,
            source_directory=source,
        )

    def deployment_options(self) -> dict[str, Any]:
        """`Deployment.options(...)`: the replicas (a fixed number, or autoscaling) and each
        replica's CPUs and memory, which Ray reserves on the node it places the replica on."""
        options: dict[str, Any] = {
            "name": INGRESS_NAME,
            "ray_actor_options": {"num_cpus": self.num_cpus, "memory": self.memory_bytes},
        }
        if self.autoscaling is None:
            options["num_replicas"] = self.num_replicas
        else:
            options["num_replicas"] = "auto"
            options["autoscaling_config"] = self.autoscaling.to_dict()
        return options


class ServeScorer:
    """One Serve replica: the scoring app of a local replica around the same scorer. init()
    runs in the constructor, so Serve counts a replica as started only once it can score, and
    a failing init() is Serve's deployment failure with the script's own traceback."""

    def __init__(self, spec: dict[str, Any]) -> None:
        from modelyard.serving.app import Replica
        from modelyard.serving.keys import KeyRing
        from modelyard.serving.metrics import ReplicaMetrics
        from modelyard.serving.scorers import scorer_for

        folder = Path.cwd()  # the job's working_dir, which Serve's replicas inherit
        config = ServeSpec.from_dict(spec).replica_config(folder)
        metrics = ReplicaMetrics()
        keys = KeyRing(keys_file=folder / KEYS_FILE)
        self.replica = Replica(config, scorer_for(config, metrics), keys, metrics)
        self.replica.initialize_now()

    def __serve_build_asgi_app__(self) -> Any:
        from modelyard.serving.app import build_app

        return build_app(self.replica)


def deploy(folder: Path) -> dict[str, Any]:
    """The job's work: preflight, then the application, RUNNING; the result line's content."""
    from modelyard.serving.preflight import preflight

    spec = ServeSpec.from_dict(json.loads((folder / SPEC_FILE).read_text("utf-8")))
    sample = (folder / spec.sample).read_bytes() if spec.sample else None
    checked = preflight(spec.replica_config(folder), sample, spec.sample_content_type)
    if not checked.ok:
        return {**checked.to_dict(), "stage": "preflight"}
    try:
        _run_application(spec)
    except Exception as error:
        _delete_quietly(spec.app)
        message = f"Ray Serve could not start the application: {_first_line(error)}"
        return {"ok": False, "stage": "serve", "message": message, "traceback": _traceback()}
    return {"ok": True, "stage": "serve", "message": f"application {spec.app} is running"}


def _run_application(spec: ServeSpec) -> None:
    from ray import serve

    serve.start(http_options={"host": spec.http_host, "port": spec.http_port})
    ingress = serve.deployment(serve.ingress()(ServeScorer))
    application = ingress.options(**spec.deployment_options()).bind(spec.to_dict())
    serve.run(application, name=spec.app, route_prefix=spec.route_prefix, blocking=False)


def delete(apps: list[str]) -> dict[str, Any]:
    from ray import serve

    for app in apps:
        serve.delete(app)
    return {"ok": True, "stage": "delete", "message": f"deleted {', '.join(apps)}"}


def _delete_quietly(app: str) -> None:
    try:
        delete([app])
    except Exception:  # the result names the first failure; this one is only logged
        _log.exception("could not delete application %s after its failure", app)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:500]


def _traceback() -> str:
    return traceback.format_exc()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m modelyard.serving.ray_serve")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("deploy", help="preflight, then run the staged application")
    remove = commands.add_parser("delete", help="delete Serve applications")
    remove.add_argument("apps", nargs="+")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO)
    try:
        result = deploy(Path.cwd()) if args.command == "deploy" else delete(args.apps)
    except Exception as error:
        result = {"ok": False, "stage": args.command, "message": _first_line(error)}
        result["traceback"] = _traceback()
    print(RESULT_MARKER + json.dumps(result, default=str), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
