"""A scoring replica under load, beside `mlflow models serve` on the same machine (issue 14).

    .venv/bin/python benchmarks/serving.py [--quick] [--seconds 10] [--skip-mlflow]
                                           [--skip-lite0]

Side by side, in one run:

1. The same trivial ONNX classifier (3×224×224 input, global average pool, linear to 5 classes,
   built and exported here) behind `python -m modelyard.serving` (a Model Builder folder:
   bestModel.onnx + bestModelMap.json; requests are 224×224 JPEG bytes, decoded and resized by the
   replica) and behind `mlflow models serve --env-manager local` (the model saved with
   `mlflow.onnx.save_model` in the MLflow virtualenv that the other benchmarks use; requests are
   the JSON tensor `{"inputs": {"input1": [[[[...]]]]}}` as MLflow's docs show). Requests/s and
   p50/p99 latency at 4 and 32 concurrent clients: an asyncio httpx load generator in this
   process, `--seconds` per level after a warm-up, bodies built once beforehand.
2. The demo's real backbone, EfficientNet-Lite0 with its ImageNet weights and a 5-class head,
   exported to ONNX as training exports it: images/s and p99 at 32 concurrent clients through
   the replica's adaptive batching (Modelyard only; no other serving framework is run here).
3. Idle RSS of each server's whole process tree (psutil), after it has answered one request.

A benchmark, not a test: timings are printed, never asserted; every answer must be a 200.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import psutil
from _mlflow_env import MlflowUnavailable, ensure_mlflow_venv, run_side
from _report import Result, print_rows
from _servers import BenchmarkFailed, answers, exit_on_sigterm, free_port, running

CLASSES = 5
CONCURRENCY = (4, 32)
LITE0_CONCURRENCY = 32
KEY = "bench-key-0123456789"
TARGET_RPS_TIMES_MLFLOW = 20
TARGET_RSS_MIB = 150
MLFLOW_ONNX_EXTRAS = ("onnx", "onnxruntime")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="scoring replica vs mlflow models serve.")
    add = parser.add_argument
    add("--seconds", type=float, default=10.0, help="measured seconds per server and level")
    add("--warmup-seconds", type=float, default=2.0, help="unmeasured load before each level")
    add("--quick", action="store_true", help="2 s per level, 0.5 s warm-up")
    add("--skip-mlflow", action="store_true", help="Modelyard only")
    add("--skip-lite0", action="store_true", help="no EfficientNet-Lite0 measurement")
    add("--install-timeout", type=float, default=900, help="seconds for installing MLflow")
    add("--start-timeout", type=float, default=180, help="seconds for a server to get ready")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.warmup_seconds = 2.0, 0.5
    return args


# Models -----------------------------------------------------------------------------------------


def trivial_network() -> object:
    import torch

    class PoolLinear(torch.nn.Module):
        """Global average pool + linear: next to nothing to compute, so the server is measured."""

        def __init__(self) -> None:
            super().__init__()
            self.pool = torch.nn.AdaptiveAvgPool2d(1)
            self.head = torch.nn.Linear(3, CLASSES)

        def forward(self, batch: torch.Tensor) -> torch.Tensor:
            logits: torch.Tensor = self.head(torch.flatten(self.pool(batch), 1))
            return logits

    torch.manual_seed(0)
    return PoolLinear().eval()


def lite0_network() -> object:
    import torch

    from modelyard.vision.backbones import OFFLINE_BACKBONE, load_backbone

    backbone = load_backbone(OFFLINE_BACKBONE, "imagenet")
    torch.manual_seed(0)
    head = torch.nn.Linear(backbone.feature_dim, CLASSES)
    return torch.nn.Sequential(backbone.network, head).eval()


def model_builder_folder(network: object, folder: Path) -> Path:
    """bestModel.onnx + bestModelMap.json, exported as training exports its models."""
    from modelyard.vision.features import export_onnx
    from modelyard.vision.package import LABEL_MAP_FILE, MODEL_FILE, OUTPUT_NAME, write_label_map

    folder.mkdir(parents=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_onnx(network, folder / MODEL_FILE, 224, OUTPUT_NAME)  # type: ignore[arg-type]
    write_label_map(folder / LABEL_MAP_FILE, [f"class {i}" for i in range(CLASSES)])
    return folder


def jpeg_224() -> bytes:
    """A 224×224 photo-like JPEG (noise over a gradient), the same for every request."""
    from PIL import Image

    rng = np.random.default_rng(0)
    gradient = np.linspace(0, 200, 224, dtype=np.float32)[None, :, None]
    pixels = np.clip(gradient + rng.normal(0, 25, (224, 224, 3)), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def tensor_json() -> bytes:
    """MLflow's request: the normalised 1×3×224×224 float tensor as `{"inputs": {...}}` JSON."""
    rng = np.random.default_rng(0)
    tensor = rng.normal(0, 1, (1, 3, 224, 224)).astype(np.float32).round(4)
    return json.dumps({"inputs": {"input1": tensor.tolist()}}).encode()


# Servers ----------------------------------------------------------------------------------------


@contextmanager
def replica(model_dir: Path, scratch: Path, timeout_s: float) -> Iterator[tuple[int, str]]:
    """`python -m modelyard.serving` on the folder, with a keys file: (pid, URL)."""
    port, keys = free_port(), scratch / "keys.json"
    keys.write_text(json.dumps({"primaryKey": KEY, "secondaryKey": ""}))
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "modelyard.serving", "--model-dir", str(model_dir),
               "--port", str(port), "--keys-file", str(keys)]  # fmt: skip
    log = scratch / f"replica-{model_dir.name}.log"
    with running("the scoring replica", command, log, lambda: answers(f"{url}/health/ready"),
                 timeout_s) as process:  # fmt: skip
        yield process.pid, url


@contextmanager
def mlflow_models_serve(
    python: Path, model: Path, scratch: Path, timeout_s: float
) -> Iterator[tuple[int, str]]:
    """`mlflow models serve --env-manager local` from the MLflow virtualenv: (pid, URL)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(python.parent / "mlflow"), "models", "serve", "-m", str(model),
               "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    # It starts `uvicorn` by name: the virtualenv's bin must come first on PATH.
    path = {"PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    with running("mlflow models serve", command, scratch / "mlflow-serve.log",
                 lambda: answers(f"{url}/ping"), timeout_s, env=path) as process:  # fmt: skip
        yield process.pid, url


SAVE_ONNX = """
import json, sys
import numpy as np, onnx, mlflow, mlflow.onnx
from mlflow.models import infer_signature
example = {"input1": np.zeros((1, 3, 224, 224), dtype=np.float32)}
mlflow.onnx.save_model(onnx.load(sys.argv[1]), sys.argv[2],
                       signature=infer_signature(example, np.zeros((1, 5), dtype=np.float32)))
print(json.dumps({"mlflow": mlflow.__version__}))
"""


def mlflow_model(python: Path, onnx_file: Path, scratch: Path) -> tuple[Path, str]:
    """The same ONNX file as an MLflow model (with a float32 signature, so JSON numbers are cast
    to the model's input type); MLflow's version."""
    target = scratch / "mlflow-model"
    saved = run_side([str(python), "-c", SAVE_ONNX, str(onnx_file), str(target)], 300, scratch)
    return target, str(saved["mlflow"])


def tree_rss_mib(pid: int) -> float:
    """RSS of the process and everything it started (workers), in MiB."""
    root = psutil.Process(pid)
    processes = [root, *root.children(recursive=True)]
    return sum(p.memory_info().rss for p in processes) / 2**20


# Load -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    latencies_ms: list[float]

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        return float(np.percentile(self.latencies_ms, p))


async def load(
    url: str, body: bytes, headers: dict[str, str], clients: int, seconds: float
) -> Load:
    """`clients` loops sending the same request one after another for `seconds`."""
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        latencies: list[float] = []
        deadline = time.perf_counter() + seconds

        async def one_client() -> None:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                response = await client.post(url, content=body, headers=headers)
                if response.status_code != 200:
                    raise BenchmarkFailed(f"{url} answered {response.status_code}: {response.text}")
                latencies.append((time.perf_counter() - start) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return Load(len(latencies), elapsed, latencies)


def measure(
    url: str, body: bytes, headers: dict[str, str], clients: int, args: argparse.Namespace
) -> Load:
    asyncio.run(load(url, body, headers, clients, args.warmup_seconds))
    return asyncio.run(load(url, body, headers, clients, args.seconds))


@dataclass
class Side:
    """One server's numbers: a Load per concurrency level and its idle RSS."""

    loads: dict[int, Load]
    rss_mib: float


def measure_side(
    pid: int, url: str, body: bytes, headers: dict[str, str], args: argparse.Namespace
) -> Side:
    first = httpx.post(url, content=body, headers=headers, timeout=120)
    if first.status_code != 200:
        raise BenchmarkFailed(f"{url} answered {first.status_code}: {first.text[:300]}")
    time.sleep(1.0)
    rss = tree_rss_mib(pid)
    return Side({clients: measure(url, body, headers, clients, args) for clients in CONCURRENCY},
                rss)  # fmt: skip


def measure_modelyard(
    model_dir: Path, image: bytes, scratch: Path, args: argparse.Namespace
) -> Side:
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "image/jpeg"}
    with replica(model_dir, scratch, args.start_timeout) as (pid, url):
        return measure_side(pid, f"{url}/score", image, headers, args)


def measure_mlflow(onnx_file: Path, scratch: Path, args: argparse.Namespace) -> tuple[Side, str]:
    python = ensure_mlflow_venv(args.install_timeout, extras=MLFLOW_ONNX_EXTRAS)
    model, version = mlflow_model(python, onnx_file, scratch)
    headers = {"Content-Type": "application/json"}
    with mlflow_models_serve(python, model, scratch, args.start_timeout) as (pid, url):
        return measure_side(pid, f"{url}/invocations", tensor_json(), headers, args), version


def measure_lite0(image: bytes, scratch: Path, args: argparse.Namespace) -> Load:
    folder = model_builder_folder(lite0_network(), scratch / "lite0")
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "image/jpeg"}
    with replica(folder, scratch, args.start_timeout) as (_pid, url):
        return measure(f"{url}/score", image, headers, LITE0_CONCURRENCY, args)


# Report -----------------------------------------------------------------------------------------


def rows(ours: Side, theirs: Side | None) -> list[Result]:
    results = []
    for clients in CONCURRENCY:
        mine, other = ours.loads[clients], theirs.loads[clients] if theirs else None
        rps_target = other.per_s * TARGET_RPS_TIMES_MLFLOW if other else None
        results += [
            Result(f"trivial model, {clients} clients: requests/s", mine.per_s,
                   other.per_s if other else None, unit="req/s", target=rps_target),
            Result(f"trivial model, {clients} clients: p50 ms", mine.percentile(50),
                   other.percentile(50) if other else None),
            Result(f"trivial model, {clients} clients: p99 ms", mine.percentile(99),
                   other.percentile(99) if other else None,
                   target=other.percentile(99) if other else None),
        ]  # fmt: skip
    results.append(
        Result("idle RSS of the process tree, MiB", ours.rss_mib,
               theirs.rss_mib if theirs else None, unit="MiB", target=TARGET_RSS_MIB)
    )  # fmt: skip
    return results


def lite0_rows(lite0: Load) -> list[Result]:
    clients = LITE0_CONCURRENCY
    return [
        Result(f"EfficientNet-Lite0, {clients} clients: images/s", lite0.per_s, unit="img/s"),
        Result(f"EfficientNet-Lite0, {clients} clients: p50 ms", lite0.percentile(50)),
        Result(f"EfficientNet-Lite0, {clients} clients: p99 ms", lite0.percentile(99)),
    ]


def print_header(args: argparse.Namespace, mlflow_version: str) -> None:
    load1, load5, _ = os.getloadavg()
    print(
        f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()},"
        f" load average {load1:.1f} / {load5:.1f} (1 / 5 min) at the end"
    )
    mlflow = f"MLflow {mlflow_version}" if mlflow_version else "MLflow (not measured)"
    print(
        f"{args.seconds:g} s per server and level after {args.warmup_seconds:g} s of warm-up;"
        f" Modelyard: 224×224 JPEG bytes to /score; {mlflow}: a JSON tensor to /invocations."
        f" Targets: requests/s ≥ {TARGET_RPS_TIMES_MLFLOW}× MLflow's, p99 ≤ MLflow's,"
        f" idle RSS ≤ {TARGET_RSS_MIB} MiB."
    )
    print()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    failure, mlflow_version, theirs = "", "", None
    with tempfile.TemporaryDirectory(prefix="modelyard-bench-serving-") as tmp:
        scratch = Path(tmp)
        trivial = model_builder_folder(trivial_network(), scratch / "trivial")
        image = jpeg_224()
        try:
            ours = measure_modelyard(trivial, image, scratch, args)
            lite0 = None if args.skip_lite0 else measure_lite0(image, scratch, args)
        except (BenchmarkFailed, httpx.HTTPError) as error:
            print(f"Modelyard could not be measured: {error}")
            return 1
        if not args.skip_mlflow:
            try:
                theirs, mlflow_version = measure_mlflow(trivial / "bestModel.onnx", scratch, args)
            except (MlflowUnavailable, BenchmarkFailed, httpx.HTTPError) as error:
                failure = str(error)
    print_header(args, mlflow_version)
    print_rows(rows(ours, theirs) + (lite0_rows(lite0) if lite0 else []))
    if failure:
        print(f"MLflow was not measured: {failure}")
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main())
