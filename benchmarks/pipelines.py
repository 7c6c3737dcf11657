"""Pipelines' own costs (issue 16): what a pipeline adds beyond its steps' work, what deciding
to reuse a step over a big data input costs, and how late a schedule fires.

    .venv/bin/python benchmarks/pipelines.py [--steps 20] [--images 10000] [--fires 5]

1. A chain of `--steps` no-op steps (each `python -c pass` after the one before), run once
   (every step runs) and again (every step reused): wall time from submission to the parent's
   end, less the steps' own work (the scripts' start and exit, measured alone beforehand).
2. The reuse check of one step whose input is a folder of `--images` small files: the step's
   key with the folder unchanged (its files' hashes from the workspace's cache) and after one
   file changed, beside hashing every file (`sha256` of each, as without a cache).
3. Schedule firing jitter: a recurrence every minute fired by `fire_due_schedules` polled as
   the server's loop polls it (every `--poll-s`); how long after its time each fire happened.

Embedded workspace (SQLite) in a temporary folder; nothing is left behind. Not a test: the
machine's load moves every figure, so the load average is printed with them.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="steps of the no-op chain")
    parser.add_argument("--images", type=int, default=10_000, help="files of the data input")
    parser.add_argument("--image-kib", type=int, default=64, help="size of each file, KiB")
    parser.add_argument("--fires", type=int, default=3, help="schedule fires to time (1/min)")
    parser.add_argument("--poll-s", type=float, default=2.0, help="the loop's interval")
    args = parser.parse_args(argv)
    if min(args.steps, args.images, args.fires) < 1 or args.poll_s <= 0:
        parser.error("--steps, --images and --fires ≥ 1, --poll-s > 0")
    return args


def chain_pipeline(folder: Path, steps: int) -> Path:
    (folder / "noop.py").write_text("import sys  # a step that does nothing with its arguments\n")
    lines = [
        "type: pipeline",
        "experiment_name: bench-pipeline",
        "display_name: noop-chain",
        "settings: {default_compute: local}",
        "jobs:",
    ]
    for index in range(steps):
        lines += [
            f"  s{index}:",
            "    code: .",
            "    command: python noop.py --out ${{outputs.out}}"
            + (" --after ${{inputs.before}}" if index else ""),
            "    outputs: {out: {type: uri_folder}}",
        ]
        if index:
            lines.append(f"    inputs: {{before: '${{{{parent.jobs.s{index - 1}.outputs.out}}}}'}}")
    path = folder / "pipeline.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def script_alone_s(folder: Path, repeats: int = 5) -> float:
    """A no-op step's own work: the interpreter starting and exiting."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, str(folder / "noop.py")], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_pipeline_s(ws: object, path: Path) -> tuple[float, str]:
    from modelyard.services import jobs
    from modelyard.services.job_file import load_job_file
    from modelyard.services.pipelines.submission import submit_pipeline

    start = time.perf_counter()
    job = load_job_file(path)
    run = submit_pipeline(ws, job)  # type: ignore[arg-type]
    ended = jobs.wait_for_completion(ws, run.id, timeout_s=1800)  # type: ignore[arg-type]
    return time.perf_counter() - start, ended.status.value


def measure_chain(ws: object, scratch: Path, steps: int) -> None:
    folder = scratch / "chain"
    folder.mkdir()
    path = chain_pipeline(folder, steps)
    alone = script_alone_s(folder)
    first, status = run_pipeline_s(ws, path)
    again, status_again = run_pipeline_s(ws, path)
    own = steps * alone
    print(f"{steps}-step no-op chain, every step run: {first:.1f} s ({status}); the steps' own")
    print(f"  work {own:.1f} s ({alone * 1000:.0f} ms each): overhead {first - own:.1f} s,")
    print(f"  {(first - own) / steps:.2f} s a step")
    print(f"the same again, every step reused: {again:.1f} s ({status_again}),")
    print(f"  {again / steps:.2f} s a step")


def write_images(folder: Path, count: int, kib: int) -> None:
    folder.mkdir()
    for index in range(count):
        (folder / f"img{index:05d}.jpg").write_bytes(os.urandom(kib * 1024))


def measure_reuse_check(ws: object, scratch: Path, images: int, kib: int) -> None:
    from modelyard.data.manifest import HashCache, build_manifest

    folder = scratch / "images"
    write_images(folder, images, kib)
    cache = HashCache.in_cache_dir(ws.cache_dir)  # type: ignore[attr-defined]
    time.sleep(2.5)  # files younger than 2 s are not remembered (their time may still move)
    start = time.perf_counter()
    build_manifest(folder, cache)
    first = time.perf_counter() - start
    start = time.perf_counter()
    unchanged = build_manifest(folder, cache)
    cached = time.perf_counter() - start
    (folder / "img00000.jpg").write_bytes(os.urandom(kib * 1024))
    start = time.perf_counter()
    changed = build_manifest(folder, cache)
    one_changed = time.perf_counter() - start
    assert changed.content_hash != unchanged.content_hash
    start = time.perf_counter()
    for file in sorted(folder.iterdir()):
        hashlib.sha256(file.read_bytes()).hexdigest()
    plain = time.perf_counter() - start
    print(f"reuse check of a {images:,}-file input ({kib} KiB each): first {first:.2f} s;")
    print(f"  unchanged {cached:.2f} s; one file changed {one_changed:.2f} s;")
    print(f"  every file hashed, no cache: {plain:.2f} s")


def measure_firing_jitter(ws: object, scratch: Path, fires: int, poll_s: float) -> None:
    from modelyard.entities.schedules import RecurrenceTrigger
    from modelyard.services import schedules

    project = scratch / "tick"
    project.mkdir()
    (project / "tick.py").write_text("pass\n")
    job = project / "tick.yml"
    job.write_text("experiment_name: bench-schedule\ncommand: python tick.py\n")
    trigger = RecurrenceTrigger(frequency="minute", interval=1)
    schedules.create_schedule(ws, schedules.JobSchedule("bench-tick", trigger, job))  # type: ignore[arg-type]
    late: list[float] = []
    deadline = datetime.now(UTC) + timedelta(minutes=fires + 1.5)
    while len(late) < fires and datetime.now(UTC) < deadline:
        time.sleep(poll_s)
        for fire in schedules.fire_due_schedules(ws):  # type: ignore[arg-type]
            late.append((fire.fired_at - fire.fire_time).total_seconds())
    shown = ", ".join(f"{seconds:.2f}" for seconds in late)
    print(f"schedule fires, seconds after their time (loop every {poll_s:g} s): {shown}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="modelyard-bench-pipelines-") as tmp:
        scratch = Path(tmp)
        os.environ["MODELYARD_HOME"] = str(scratch / "home")
        from modelyard.services.workspaces import create_workspace

        ws = create_workspace("bench-pipelines", path=scratch / "ws")
        try:
            load = os.getloadavg()[0]
            print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {load:.1f}")
            measure_chain(ws, scratch, args.steps)
            measure_reuse_check(ws, scratch, args.images, args.image_kib)
            measure_firing_jitter(ws, scratch, args.fires, args.poll_s)
            print(f"load average at the end: {os.getloadavg()[0]:.1f}")
        finally:
            ws.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
