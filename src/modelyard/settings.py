"""Settings in one typed object.

Precedence, written once: explicit flag > environment (`MODELYARD_<NAME>`) > workspace config
(`settings` in the workspace's config.json) > user config (`~/.modelyard/config.json`) > default.
Every value is coerced to the type of its default, so a bad value fails here, by name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from modelyard.errors import InvalidValue

ENV_PREFIX = "MODELYARD_"


def default_home() -> Path:
    return Path(os.environ.get("MODELYARD_HOME") or Path.home() / ".modelyard")


@dataclass(frozen=True)
class Settings:
    # A job's supervisor writes a heartbeat this often...
    heartbeat_interval_s: float = 5.0
    # ...and a run whose last heartbeat is older than this is NotResponding.
    heartbeat_timeout_s: float = 30.0
    # Metrics are buffered in the job and written in one transaction per flush.
    metric_flush_interval_s: float = 1.0
    metric_flush_size: int = 1000
    # SIGTERM first; SIGKILL for whatever is left of the process tree after this.
    cancel_grace_s: float = 10.0
    # How often waiting clients look at the store.
    poll_interval_s: float = 0.5
    # SQLite waits this long for a lock before giving up.
    sqlite_busy_timeout_s: float = 60.0
    # The server refuses (413) an artifact upload larger than this.
    max_upload_mb: int = 2048
    # ...and a JSON or form body larger than this (a full log batch is about 1.2 MB).
    max_json_kb: int = 4096
    # A client gets this long to send a JSON or form body, and at most this long between two
    # chunks of an upload: a slow client must not hold the server's resources.
    request_body_timeout_s: float = 30.0
    # ...and this long to send a request's line and headers once connected (or after the
    # previous response on a kept-alive connection).
    request_header_timeout_s: float = 10.0
    # Host names (comma-separated) the server answers to besides the loopback names and the
    # address it listens on: what clients type in their URL when the server is behind a name.
    allowed_hosts: str = ""
    # The URL jobs on other machines (a Ray cluster) use to reach the workspace server; empty:
    # http://HOST:PORT of the bind, with this machine's name for a wildcard bind (0.0.0.0).
    advertised_url: str = ""
    # What killed writes leave (`.tmp-…` files, staging folders) is removed once this old...
    temp_file_max_age_s: float = 3600.0
    # ...by a sweep the reaper runs at most this often per workspace.
    leftover_sweep_interval_s: float = 600.0
    # A server reaps, schedules and copies remote jobs' logs this often (one server at a time).
    background_interval_s: float = 2.0
    # Where an online endpoint's front listens (its replicas stay on 127.0.0.1 behind it, with
    # a key only the front holds). 0.0.0.0 lets other machines call a team server's endpoints
    # with their keys; read when a front starts.
    endpoint_listen_host: str = "127.0.0.1"

    @classmethod
    def resolve(
        cls,
        flags: Mapping[str, Any] | None = None,
        workspace_config: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        user_config: Mapping[str, Any] | None = None,
    ) -> Settings:
        environ = os.environ if environ is None else environ
        user_config = _read_user_settings() if user_config is None else user_config
        layers: list[tuple[str, Mapping[str, Any]]] = [
            ("user config", user_config),
            ("workspace config", workspace_config or {}),
            ("environment", _from_environ(environ)),
            ("flag", {k: v for k, v in (flags or {}).items() if v is not None}),
        ]
        settings = cls()
        for origin, layer in layers:
            settings = settings._overlay(origin, layer)
        return settings

    def _overlay(self, origin: str, values: Mapping[str, Any]) -> Settings:
        known = {f.name: f for f in fields(self)}
        changes: dict[str, Any] = {}
        for name, raw in values.items():
            if name not in known:
                continue
            changes[name] = _coerce(origin, name, raw, type(getattr(self, name)))
        return replace(self, **changes)


def _from_environ(environ: Mapping[str, str]) -> dict[str, str]:
    names = {f.name for f in fields(Settings)}
    return {
        name: environ[ENV_PREFIX + name.upper()]
        for name in names
        if ENV_PREFIX + name.upper() in environ
    }


def _coerce(origin: str, name: str, raw: Any, target: type) -> Any:
    try:
        value = target(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or (isinstance(value, int | float) and value < 0):
        raise InvalidValue(
            f"invalid setting {name}={raw!r} from {origin}: expected a non-negative"
            f" {target.__name__}; fix or remove it",
            setting=name,
            value=str(raw),
        )
    return value


def _read_user_settings() -> dict[str, Any]:
    path = default_home() / "config.json"
    if not path.is_file():
        return {}
    try:
        settings = json.loads(path.read_text()).get("settings", {})
    except (OSError, ValueError, AttributeError) as error:
        raise InvalidValue(
            f"cannot read user config {path}: {error}; fix the JSON or delete the file",
            path=str(path),
        ) from error
    return dict(settings) if isinstance(settings, dict) else {}
