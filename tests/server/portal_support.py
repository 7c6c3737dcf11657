"""What the portal tests share: workspaces full of runs, jobs that hold a compute's nodes, and
a login token."""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from modelyard.entities import Metric, Run, RunStatus
from modelyard.server import create_app
from modelyard.services import auth, jobs
from modelyard.services.runs import cancel_run
from modelyard.services.workspaces import OpenWorkspace
from server.serving import serve

API = "/api/v1"
SLEEPER = "import time\nprint('sleeping', flush=True)\ntime.sleep(600)\n"
WORDS = ("alpha", "beta", "gamma", "delta")  # lowercase letters only: one order in every collation
STATUSES = (
    RunStatus.COMPLETED,
    RunStatus.FAILED,
    RunStatus.CANCELED,
    RunStatus.NOT_STARTED,
    RunStatus.COMPLETED,
)


@dataclass(frozen=True)
class Served:
    url: str
    token: str | None  # None when auth is off


@contextmanager
def served(ws: OpenWorkspace, *, auth_on: bool = True) -> Iterator[Served]:
    token = auth.ensure_admin(ws) if auth_on else None
    with serve(create_app(ws, auth=auth_on)) as url:
        yield Served(url, token)


@contextmanager
def logged_in_client(site: Served) -> Iterator[httpx.Client]:
    """A client holding the portal's login cookie, as a browser would after logging in."""
    with httpx.Client(base_url=site.url, follow_redirects=False) as client:
        if site.token is not None:
            answer = client.post("/login", data={"token": site.token, "next": "/"})
            assert answer.status_code == 303, answer.text
        yield client


def populate(ws: OpenWorkspace, count: int, experiment: str = "sweep") -> list[str]:
    """`count` ended runs with varied names, statuses, tags and an `accuracy` series.

    Every 7th run logs no accuracy, every 11th ends on a NaN: both sort last, match no filter.
    """
    run_ids = []
    for index in range(count):
        status = STATUSES[index % len(STATUSES)]
        run = ws.store.create_run(
            experiment,
            user="ana",
            display_name=f"{WORDS[index % len(WORDS)]}{(index * 37) % 101:03d}",
            status=RunStatus.NOT_STARTED if status is RunStatus.NOT_STARTED else RunStatus.RUNNING,
        )
        metrics = [] if index % 7 == 0 else _accuracy_series(index)
        tags = {"team": "vision" if index % 3 == 0 else "speech", "seed": str(index % 5)}
        ws.store.log_batch(run.id, metrics, params={"lr": f"0.0{index % 4 + 1}"}, tags=tags)
        if status is not RunStatus.NOT_STARTED:  # logged first: an ended run takes no more
            ws.store.transition_run(run.id, status)
        run_ids.append(run.id)
    return run_ids


def _accuracy_series(index: int) -> list[Metric]:
    final = float("nan") if index % 11 == 0 else ((index * 53) % 97) / 100
    now = time.time()
    # Logged out of step order on purpose: the latest value is the one at the highest step.
    return [
        Metric("accuracy", final, 3, now),
        Metric("accuracy", 0.1, 1, now),
        Metric("accuracy", 0.2, 2, now),
        Metric("loss", 1.0 - index / 1000, 3, now),
    ]


def png_bytes(width: int = 48, height: int = 32) -> bytes:
    """A small real PNG (an RGB gradient), written with zlib alone: no imaging library needed."""
    rows = b"".join(
        b"\0" + bytes(channel for x in range(width) for channel in (x * 5 % 256, y * 8 % 256, 128))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    chunks = [(b"IHDR", header), (b"IDAT", zlib.compress(rows)), (b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        for kind, data in chunks
    )


def confusion_matrix_png() -> bytes:
    """The trainer's own confusion-matrix picture when the vision extra is installed."""
    try:
        from modelyard.vision.evaluation import render_confusion_png
    except ImportError:
        return png_bytes(240, 160)
    counts = [[27, 2, 1], [3, 22, 0], [0, 4, 31]]
    return render_confusion_png(["daisy", "rose", "tulip"], counts)


def screenshot_dir() -> Path:
    folder = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def sleeping_jobs(ws: OpenWorkspace, folder: Path, compute: str, count: int) -> Iterator[list[Run]]:
    """`count` real jobs that sleep until canceled, submitted to `compute` in order and named
    sleeper-1, sleeper-2, …; all canceled when the block ends."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sleep.py").write_text(SLEEPER)
    submitted: list[Run] = []
    try:
        for number in range(1, count + 1):
            job = jobs.ScriptJob(
                experiment="sleepers",
                source_directory=folder,
                script="sleep.py",
                compute_target=compute,
                display_name=f"sleeper-{number}",
            )
            submitted.append(jobs.submit(ws, job))
        yield submitted
    finally:
        # The last first: canceling a run that holds a node would launch the next one queued.
        for run in reversed(submitted):
            cancel_run(ws, run.id)
