"""One endpoint's host process: its front on the endpoint's port, the supervisor of its
replicas, and the follower of the registry aliases its deployments name.
`python -m modelyard.runtime.endpoint_host --workspace W --routing F --port P`, started detached
by services/endpoints.py, so it outlives the CLI and a server restart.

The supervisor looks at every local replica the routing file names once a second (a Ray Serve
application's replicas are Ray's to restart); one whose process is gone (crashed, killed) is
started again with the same command on the same port, and its new handle recorded in the store.
While it restarts the front sends that deployment's requests to its other replicas. A replica
is only restarted while the routing file still names it: the service unpublishes a replica
before it stops one on purpose.

The alias follower looks every few seconds whether a deployment made from `NAME@ALIAS` still
serves the version the alias names, and rolls it when not (services.endpoints.follow_aliases):
moving `champion` rolls the model whether or not a workspace server runs. It has a thread of
its own, so a roll (a preflight, replicas starting) never delays restarting a dead replica.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from pathlib import Path
from typing import Final

from modelyard.entities.endpoints import ReplicaHandle, RoutedReplica
from modelyard.errors import ModelyardError
from modelyard.services import endpoint_processes as processes
from modelyard.services.endpoints import follow_aliases
from modelyard.services.workspaces import open_workspace
from modelyard.serving.config import DEFAULT_HEADER_TIMEOUT_S
from modelyard.serving.front import RoutingFile, build_front
from modelyard.serving.http_protocol import uvicorn_options

SUPERVISION_INTERVAL_S: Final = 1.0
# A replica that keeps dying (its init() fails after a restart, the model's files are gone)
# is started again after 1, 2, 4 … up to 60 s, not every second; one that then lives a minute
# starts over from 1 s.
MAX_BACKOFF_S: Final = 60.0
ALIAS_CHECK_INTERVAL_S: Final = 2.0
_log = logging.getLogger("modelyard.endpoint_host")


class ReplicaSupervisor:
    """Starts a dead replica again; remembers what it started over the routing file's handle
    until the service republishes it."""

    def __init__(self, routing: RoutingFile, workspace: Path) -> None:
        self.routing = routing
        self.workspace = workspace
        self._restarted: dict[tuple[str, int, str], str] = {}
        self._restarts: dict[tuple[str, int, str], int] = {}
        self._not_before: dict[tuple[str, int, str], float] = {}
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(SUPERVISION_INTERVAL_S):
            try:
                self.check_once()
            except Exception as error:  # the supervisor outlives any one bad round
                _log.warning("supervision round failed: %s", error)

    def stop(self) -> None:
        self._stopped.set()

    def check_once(self) -> None:
        for replica in self.routing.current().replicas:
            if not replica.supervised:  # a Ray Serve application: Ray restarts its replicas
                continue
            key = (replica.deployment, replica.index, replica.handle)
            handle = self._restarted.get(key, replica.handle)
            if time.monotonic() < self._not_before.get(key, 0.0):
                continue
            if processes.is_running(handle):
                if time.monotonic() > self._not_before.get(key, 0.0) + MAX_BACKOFF_S:
                    self._restarts.pop(key, None)
            elif self._still_routed(replica):
                self._restart(key, replica)

    def _still_routed(self, replica: RoutedReplica) -> bool:
        return replica in self.routing.current().replicas

    def _restart(self, key: tuple[str, int, str], replica: RoutedReplica) -> None:
        _log.warning("replica %s-%d died; starting it again", replica.deployment, replica.index)
        started = processes.start_replica(replica)
        self._restarted[key] = started.handle
        self._restarts[key] = restarts = self._restarts.get(key, 0) + 1
        self._not_before[key] = time.monotonic() + min(2.0 ** (restarts - 1), MAX_BACKOFF_S)
        ws = open_workspace(self.workspace)
        try:
            endpoint = self.routing.current().endpoint
            ws.endpoint_store.record_replica(
                endpoint,
                replica.deployment,
                ReplicaHandle(replica.index, replica.port, started.handle),
            )
        except ModelyardError as error:
            _log.warning("could not record the restarted replica: %s", error.message)
        finally:
            ws.close()


class AliasFollower:
    """Rolls this endpoint's deployments whose registry alias moved, on the workspace it keeps
    open for its lifetime (one look is two small queries)."""

    def __init__(self, routing: RoutingFile, workspace: Path) -> None:
        self.routing = routing
        self.workspace = workspace
        self._stopped = threading.Event()

    def run(self) -> None:
        ws = open_workspace(self.workspace)
        try:
            while not self._stopped.wait(ALIAS_CHECK_INTERVAL_S):
                try:
                    for rolled in follow_aliases(ws, self.routing.current().endpoint):
                        _log.info("rolled %s to %s", rolled.name, rolled.resolved_model)
                except Exception as error:  # the follower outlives any one bad round
                    _log.warning("following aliases failed: %s", error)
        finally:
            ws.close()

    def stop(self) -> None:
        self._stopped.set()


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m modelyard.runtime.endpoint_host")
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--routing", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1", help="where the front listens")
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    supervisor = ReplicaSupervisor(RoutingFile(args.routing), args.workspace)
    follower = AliasFollower(supervisor.routing, args.workspace)
    threading.Thread(target=supervisor.run, name="replica-supervisor", daemon=True).start()
    threading.Thread(target=follower.run, name="alias-follower", daemon=True).start()
    uvicorn.run(
        build_front(args.routing),
        host=args.host,
        port=args.port,
        log_level="warning",
        timeout_graceful_shutdown=5,
        **uvicorn_options(DEFAULT_HEADER_TIMEOUT_S),
    )
    supervisor.stop()
    follower.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
