"""Data asset versioning at 10,000 small images: the first version, the same folder again
unchanged (the hash cache: no file read), again with `--verify` (every file read), and after
one image changed; beside a plain full hash of every file (`sha256sum`'s work, in Python) and
`sha256sum` itself when installed.

    .venv/bin/python benchmarks/data_versioning.py [--images 10000] [--size 12000]

In a temporary workspace (SQLite, `MODELYARD_HOME` there too). The images are random bytes of
`--size` bytes in 10 label folders, their mtimes set a minute back (as data on disk is; the
cache does not trust a file modified in the last seconds). The page cache is warm for every
measurement (each reads what the one before read): the numbers compare work done, not disk.

A benchmark, not a test: timings are printed, never asserted; each version's number is checked.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _images(folder: Path, count: int, size: int) -> None:
    for index in range(count):
        label = folder / f"label-{index % 10}"
        label.mkdir(parents=True, exist_ok=True)
        (label / f"{index:05d}.png").write_bytes(os.urandom(size))
    moment = time.time() - 60
    for file in folder.rglob("*.png"):
        os.utime(file, (moment, moment))


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def _plain_hash(folder: Path) -> int:
    count = 0
    for file in sorted(folder.rglob("*")):
        if file.is_file():
            hashlib.sha256(file.read_bytes()).hexdigest()
            count += 1
    return count


def _sha256sum(folder: Path) -> float | None:
    if shutil.which("sha256sum") is None:
        return None
    files = sorted(str(f) for f in folder.rglob("*") if f.is_file())
    started = time.perf_counter()
    for start in range(0, len(files), 1000):
        subprocess.run(["sha256sum", *files[start : start + 1000]], capture_output=True, check=True)
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=12_000, help="bytes per image")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="modelyard-data-bench-") as scratch:
        os.environ["MODELYARD_HOME"] = str(Path(scratch) / "home")
        from modelyard.entities.data import DataVersionRequest
        from modelyard.services import data
        from modelyard.services.workspaces import create_workspace

        folder = Path(scratch) / "images"
        _images(folder, options.images, options.size)
        ws = create_workspace("bench-data", path=Path(scratch) / "ws")
        request = DataVersionRequest("images")
        rows = []
        seconds, created = _timed(lambda: data.create_data(ws, folder, request))
        assert created.version.version == 1
        rows.append(("first version (hash + copy)", seconds, created.hashed))
        seconds, again = _timed(lambda: data.create_data(ws, folder, request))
        assert not again.created and again.hashed == 0
        rows.append(("again, unchanged (cache)", seconds, again.hashed))
        seconds, verified = _timed(lambda: data.create_data(ws, folder, request, verify=True))
        assert not verified.created
        rows.append(("again, --verify", seconds, verified.hashed))
        changed = folder / "label-0" / "00000.png"
        changed.write_bytes(os.urandom(options.size))
        os.utime(changed, (time.time() - 60, time.time() - 60))
        seconds, second = _timed(lambda: data.create_data(ws, folder, request))
        assert second.version.version == 2
        rows.append(("one image changed", seconds, second.hashed))
        seconds, count = _timed(lambda: _plain_hash(folder))
        rows.append(("plain SHA-256 of every file (Python)", seconds, count))
        tool = _sha256sum(folder)
        if tool is not None:
            rows.append(("sha256sum of every file", tool, options.images))
        ws.close()
    load = os.getloadavg()
    print(
        f"{options.images} images of {options.size} bytes; {platform.processor() or 'cpu'},"
        f" {os.cpu_count()} cores; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print(f"{'what':<40} {'seconds':>9} {'files read':>11}")
    for what, seconds, read in rows:
        print(f"{what:<40} {seconds:>9.3f} {read:>11}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
