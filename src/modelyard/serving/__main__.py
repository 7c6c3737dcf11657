"""A scoring replica: `python -m modelyard.serving --model-dir D --port P --keys-file F`.

argparse, not the CLI's Typer app: a replica imports only what scoring needs (onnxruntime,
Pillow, NumPy, Starlette, uvicorn: the `serving` extra). Known errors (a port in use, a bad keys
file, no keys, a missing extra) print one line, `error: …`, and exit 1, as the CLI's do; a
mistyped command line exits 2; init() failing logs its traceback and exits 3. With
`--preflight` it runs init() and one sample request, prints the result as JSON, exits 0 or 1.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import socket
import sys
from pathlib import Path
from typing import Final

from modelyard.errors import Conflict, InvalidValue, ModelyardError
from modelyard.extras import require_extra
from modelyard.serving import config as defaults
from modelyard.serving.config import ReplicaConfig

KNOWN_ERROR: Final = 1
INIT_FAILED: Final = 3


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m modelyard.serving", description=__doc__)
    p.add_argument("--model-dir", type=Path, required=True, help="the model's folder")
    p.add_argument("--entry-script", type=Path, help="score.py with init() and run(raw_data)")
    p.add_argument("--source-directory", type=Path, help="the entry script's folder (sys.path)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5001)
    p.add_argument(
        "--keys-file",
        type=Path,
        help='JSON {"primaryKey", "secondaryKey"}, re-read '
        "when it changes (else the MODELYARD_SCORING_*_KEY variables)",
    )
    p.add_argument("--no-auth", action="store_true", help="accept requests without a key")
    p.add_argument("--cpus", help="pin the replica to these CPUs (e.g. 0,1): its --cpu-cores")
    p.add_argument(
        "--memory-gb",
        type=float,
        help="stop the replica when it uses more (its supervisor starts it again)",
    )
    p.add_argument("--max-batch", type=int, default=defaults.DEFAULT_MAX_BATCH)
    p.add_argument("--max-wait-ms", type=float, default=defaults.DEFAULT_MAX_WAIT_MS)
    p.add_argument("--max-body-mb", type=float, default=defaults.DEFAULT_MAX_BODY_MB)
    p.add_argument(
        "--header-timeout-s",
        type=float,
        default=defaults.DEFAULT_HEADER_TIMEOUT_S,
        help="close a connection whose request headers take longer",
    )
    p.add_argument("--threads", type=int, help="worker threads (decoding images, calling run())")
    p.add_argument("--log-requests", action="store_true", help="log request and response bodies")
    p.add_argument(
        "--preflight",
        action="store_true",
        help="init() and one sample request, then print the result as JSON and exit",
    )
    p.add_argument("--sample", type=Path, help="the preflight's request body (a file)")
    p.add_argument("--sample-content-type", default="application/json")
    return p


def config_from(args: argparse.Namespace) -> ReplicaConfig:
    return ReplicaConfig(
        model_dir=args.model_dir,
        entry_script=args.entry_script,
        source_directory=args.source_directory,
        max_batch_size=args.max_batch,
        max_wait_ms=args.max_wait_ms,
        max_body_mb=args.max_body_mb,
        threads=args.threads,
        log_requests=args.log_requests,
    )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    try:
        _apply_limits(args)
        require_extra("serving", "a scoring replica")
        if args.preflight:
            return _preflight(args)
        return _serve(args)
    except ModelyardError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return KNOWN_ERROR


def _apply_limits(args: argparse.Namespace) -> None:
    """Before anything sizes its thread pools or allocates (serving/limits.py)."""
    from modelyard.compute.local.resources import parse_indexes
    from modelyard.serving.limits import pin_to_cpus, watch_memory

    if args.cpus:
        pin_to_cpus(parse_indexes(args.cpus))
    if args.memory_gb is not None:
        if args.memory_gb <= 0:
            raise InvalidValue(f"--memory-gb must be positive, not {args.memory_gb}")
        watch_memory(args.memory_gb)


def _preflight(args: argparse.Namespace) -> int:
    from modelyard.serving.preflight import preflight

    sample = args.sample.read_bytes() if args.sample else None
    result = preflight(config_from(args), sample, args.sample_content_type)
    print(json.dumps(result.to_dict(), indent=2, default=str))
    return 0 if result.ok else 1


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from modelyard.serving.app import Replica, build_app
    from modelyard.serving.http_protocol import uvicorn_options
    from modelyard.serving.keys import KeyRing
    from modelyard.serving.metrics import ReplicaMetrics
    from modelyard.serving.scorers import scorer_for

    config = config_from(args)
    keys = None if args.no_auth else KeyRing.from_environment(args.keys_file)
    listener = bind(args.host, args.port)  # before init(): a taken port fails at once
    metrics = ReplicaMetrics()
    server: uvicorn.Server | None = None

    def stop_serving() -> None:
        assert server is not None
        server.should_exit = True

    replica = Replica(config, scorer_for(config, metrics), keys, metrics, stop_serving)
    uvicorn_config = uvicorn.Config(
        build_app(replica),
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
        **uvicorn_options(args.header_timeout_s),
    )
    server = uvicorn.Server(uvicorn_config)
    logging.getLogger("modelyard.serving").info(
        "serving %s on http://%s:%d", config.model_dir, args.host, listener.getsockname()[1]
    )
    server.run(sockets=[listener])
    return INIT_FAILED if replica.state == "failed" else 0


def bind(host: str, port: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            raise Conflict(
                f"port {port} on {host} is in use; fix: pick another --port or stop what holds it",
                port=port,
            ) from error
        raise Conflict(f"cannot listen on {host}:{port} ({error.strerror})", port=port) from error
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener


if __name__ == "__main__":
    sys.exit(main())
