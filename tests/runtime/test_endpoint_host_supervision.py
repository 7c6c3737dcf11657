"""The endpoint host's supervisor starts dead local replicas again, and never a Ray Serve
application's route: Ray restarts Serve's replicas itself, and there is no process here."""

from __future__ import annotations

from pathlib import Path

from modelyard.entities.endpoints import RoutedReplica, RoutingTable, Traffic
from modelyard.fileio import write_json_atomic
from modelyard.runtime.endpoint_host import ReplicaSupervisor
from modelyard.serving.front import RoutingFile


def test_a_serve_application_in_the_routing_file_is_not_restarted(tmp_path: Path) -> None:
    routed = RoutedReplica(
        "green", 0, 8000, "serve:scorer.green.ab12", (), "green-ray.log", "http://h:8000/s"
    )
    table = RoutingTable("scorer", ("k1", "k2"), "rk", Traffic({"green": 100}), (routed,))
    write_json_atomic(tmp_path / "routing.json", table.to_dict())
    supervisor = ReplicaSupervisor(RoutingFile(tmp_path / "routing.json"), tmp_path)

    supervisor.check_once()  # a restart would try to run an empty command line and raise

    assert supervisor._restarted == {}
