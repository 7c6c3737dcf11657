"""A real uvicorn server on 127.0.0.1, on a free port, in a thread of the test process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from modelyard.serving.http_protocol import Parser, uvicorn_options


@contextmanager
def serve(app: FastAPI, parser: Parser | None = None) -> Iterator[str]:
    """Serve `app` until the block ends; yields the base URL. The HTTP parser and loop are those
    `modelyard server` runs (httptools and uvloop when installed), or `parser`'s."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    header_timeout_s = app.state.ws.settings.request_header_timeout_s
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        # Live log streams stay open while their run runs: don't wait for them at shutdown.
        timeout_graceful_shutdown=2,
        **uvicorn_options(header_timeout_s, parser),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    ws = app.state.ws
    url = f"http://127.0.0.1:{port}"
    advertised_before = ws.served_at
    if ws.served_at is None:
        ws.served_at = url  # as `modelyard server` sets it: where jobs away from here report
    try:
        yield url
    finally:
        ws.served_at = advertised_before
        server.should_exit = True
        thread.join(timeout=20)
        listener.close()
