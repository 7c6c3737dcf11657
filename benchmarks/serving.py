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
   the replica's adaptive batching, beside the same ONNX file behind LitServe with its own
   adaptive batching (the same batch bound and wait), in a virtualenv of its own
   (`benchmarks/.cache/litserve-venv`, created on the first run; `_litserve_side.py`); the
   same JPEG sent base64 in JSON, as LitServe takes images (see `_litserve_side.py`); and
   beside the featurization ceiling: the training path's `featurize()` of the same backbone
   in-process on 512 distinct JPEGs (image_classification.py's measurement; target ≥ 80 %).
3. Idle RSS of each server's whole process tree (psutil), after it has answered one request.

A benchmark, not a test: timings are printed, never asserted; every answer must be a 200.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import numpy as np
import psutil
from _mlflow_env import MlflowUnavailable, ensure_mlflow_venv, run_side
from _report import Result, print_rows
from _servers import BenchmarkFailed, answers, exit_on_sigterm, free_port, running

HERE = Path(__file__).resolve().parent
LITSERVE_VENV = HERE / ".cache" / "litserve-venv"
LITSERVE_REQUIREMENTS = ("litserve", "onnxruntime", "pillow", "numpy")
CLASSES = 5
MAX_BATCH, MAX_WAIT_MS = 32, 3.0  # the replica's defaults, given to LitServe too
CONCURRENCY = (4, 32)
LITE0_CONCURRENCY = 32
KEY = "bench-key-0123456789"
TARGET_RPS_TIMES_MLFLOW = 20
TARGET_RSS_MIB = 150
TARGET_CEILING_SHARE = 0.8  # of featurize()'s images/s on the same machine
CEILING_IMAGES = 512
MLFLOW_ONNX_EXTRAS = ("onnx", "onnxruntime")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="scoring replica vs mlflow models serve.")
    add = parser.add_argument
    add("--seconds", type=float, default=10.0, help="measured seconds per server and level")
    add("--warmup-seconds", type=float, default=2.0, help="unmeasured load before each level")
    add("--quick", action="store_true", help="2 s per level, 0.5 s warm-up")
    add("--skip-mlflow", action="store_true", help="Modelyard only")
    add("--skip-lite0", action="store_true", help="no EfficientNet-Lite0 measurement")
    add("--skip-litserve", action="store_true", help="Lite0 on Modelyard only")
    add("--skip-ceiling", action="store_true", help="no featurize() ceiling for Lite0")
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


def jpeg_224(seed: int = 0) -> bytes:
    """A 224×224 photo-like JPEG (noise over a gradient), the same for every request."""
    from PIL import Image

    rng = np.random.default_rng(seed)
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
    return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 2**20


def tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of the process and everything it started."""
    root = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in [root, *root.children(recursive=True)])


class LitServeUnavailable(Exception):
    """LitServe could not be installed or started: printed in place of its results."""


def ensure_litserve_venv(timeout_s: float) -> Path:
    """The LitServe virtualenv's python, created and installed on the first run only."""
    python = LITSERVE_VENV / "bin" / "python"
    stamp = LITSERVE_VENV / ".benchmark-installed"
    if stamp.exists():
        return python
    log = LITSERVE_VENV.parent / "litserve-install.log"
    LITSERVE_VENV.parent.mkdir(parents=True, exist_ok=True)
    print(f"installing LitServe into {LITSERVE_VENV} (once; log: {log})", file=sys.stderr)
    with log.open("w") as out:
        for command in ([sys.executable, "-m", "venv", str(LITSERVE_VENV)],
                        [str(python), "-m", "pip", "install", *LITSERVE_REQUIREMENTS]):  # fmt: skip
            try:
                subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=True,
                               stdin=subprocess.DEVNULL, timeout=timeout_s)  # fmt: skip
            except (subprocess.SubprocessError, OSError) as error:
                why = f"installing LitServe failed ({error}); log: {log}"
                raise LitServeUnavailable(why) from None
    stamp.write_text("\n".join(LITSERVE_REQUIREMENTS) + "\n")
    return python


@contextmanager
def litserve(
    python: Path, onnx_file: Path, scratch: Path, timeout_s: float
) -> Iterator[tuple[int, str]]:
    """`_litserve_side.py` serving the ONNX file with the replica's batch bound and wait."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(python), str(HERE / "_litserve_side.py"), str(onnx_file), str(port),
               str(MAX_BATCH), str(MAX_WAIT_MS / 1000)]  # fmt: skip
    with running("LitServe", command, scratch / "litserve.log",
                 lambda: answers(f"{url}/health"), timeout_s) as process:  # fmt: skip
        yield process.pid, url


def base64_json(image: bytes) -> bytes:
    """LitServe's request: `{"image": "<base64>"}`."""
    return json.dumps({"image": base64.b64encode(image).decode()}).encode()


# Load -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    latencies_ms: list[float]
    server_cpu_s: float = 0.0  # CPU time of the server's process tree while it was measured
    rss_mib: float = 0.0  # the server's process tree after the load

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms_per_request(self) -> float:
        """Less sensitive to the neighbours than a rate: what one answer costs the server."""
        return 1000 * self.server_cpu_s / self.requests

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
    pid: int,
    url: str,
    body: bytes,
    headers: dict[str, str],
    clients: int,
    args: argparse.Namespace,
) -> Load:
    asyncio.run(load(url, body, headers, clients, args.warmup_seconds))
    before = tree_cpu_s(pid)
    measured = asyncio.run(load(url, body, headers, clients, args.seconds))
    return replace(measured, server_cpu_s=tree_cpu_s(pid) - before)


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
    loads = {clients: measure(pid, url, body, headers, clients, args) for clients in CONCURRENCY}
    return Side(loads, rss)


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


def measure_lite0(image: bytes, folder: Path, scratch: Path, args: argparse.Namespace) -> Load:
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "image/jpeg"}
    with replica(folder, scratch, args.start_timeout) as (pid, url):
        load = measure(pid, f"{url}/score", image, headers, LITE0_CONCURRENCY, args)
        return replace(load, rss_mib=tree_rss_mib(pid))


def lite0_featurization_ceiling(scratch: Path, images: int) -> float:
    """Lite0's images/s through the training path's own `featurize()` in this process (decode,
    preprocess, onnxruntime in batches of 32, no HTTP): the featurization ceiling as
    `image_classification.py` measures it (its `featurize_with`, same engine), here for the
    served backbone and `images` distinct JPEGs like the requests'."""
    from types import SimpleNamespace

    from image_classification import featurize_with

    from modelyard.vision import preprocessing
    from modelyard.vision.backbones import OFFLINE_BACKBONE, load_backbone
    from modelyard.vision.dataset import content_hash
    from modelyard.vision.features import FeatureCache

    folder = scratch / "ceiling-images"
    folder.mkdir()
    paths = []
    for index in range(images):
        paths.append(folder / f"{index:05}.jpg")
        paths[-1].write_bytes(jpeg_224(seed=index + 1))
    data = SimpleNamespace(paths=paths, hashes=[content_hash(path) for path in paths])
    backbone = load_backbone(OFFLINE_BACKBONE, "imagenet")
    cache = FeatureCache(scratch / "ceiling-cache", backbone, preprocessing.default_spec())
    rate, _ = featurize_with("onnxruntime", backbone, data, cache)
    return rate


def measure_litserve(image: bytes, folder: Path, scratch: Path, args: argparse.Namespace) -> Load:
    python = ensure_litserve_venv(args.install_timeout)
    body, content_type = base64_json(image), "application/json"
    onnx_file = folder / "bestModel.onnx"
    with litserve(python, onnx_file, scratch, args.start_timeout) as (pid, url):
        first = httpx.post(f"{url}/predict", content=body,
                           headers={"Content-Type": content_type}, timeout=120)  # fmt: skip
        if first.status_code != 200:
            raise LitServeUnavailable(f"LitServe answered {first.status_code}: {first.text[:300]}")
        load = measure(pid, f"{url}/predict", body, {"Content-Type": content_type},
                       LITE0_CONCURRENCY, args)  # fmt: skip
        return replace(load, rss_mib=tree_rss_mib(pid))


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
            Result(f"trivial model, {clients} clients: server CPU ms/req",
                   mine.cpu_ms_per_request, other.cpu_ms_per_request if other else None),
        ]  # fmt: skip
    results.append(
        Result("idle RSS of the process tree, MiB", ours.rss_mib,
               theirs.rss_mib if theirs else None, unit="MiB", target=TARGET_RSS_MIB)
    )  # fmt: skip
    return results


def lite0_rows(ours: Load, theirs: Load | None, ceiling: float | None) -> list[Result]:
    label = f"Lite0, {LITE0_CONCURRENCY} clients"
    share = [
        Result("Lite0: images/s vs in-process featurize()", ours.per_s, ceiling,
               unit="img/s", target=ceiling * TARGET_CEILING_SHARE if ceiling else None)
    ]  # fmt: skip
    return [*share,
        Result(f"{label}: images/s", ours.per_s, theirs.per_s if theirs else None,
               unit="img/s", target=theirs.per_s if theirs else None),
        Result(f"{label}: p50 ms", ours.percentile(50),
               theirs.percentile(50) if theirs else None),
        Result(f"{label}: p99 ms", ours.percentile(99), theirs.percentile(99) if theirs else None,
               target=theirs.percentile(99) if theirs else None),
        Result(f"{label}: server CPU ms/image", ours.cpu_ms_per_request,
               theirs.cpu_ms_per_request if theirs else None),
        Result(f"{label}: RSS after the load, MiB", ours.rss_mib,
               theirs.rss_mib if theirs else None, unit="MiB"),
    ]  # fmt: skip


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
    failures, mlflow_version, theirs, lite0, litserve_load = [], "", None, None, None
    ceiling: float | None = None
    with tempfile.TemporaryDirectory(prefix="modelyard-bench-serving-") as tmp:
        scratch = Path(tmp)
        trivial = model_builder_folder(trivial_network(), scratch / "trivial")
        lite0_dir = None
        if not args.skip_lite0:
            lite0_dir = model_builder_folder(lite0_network(), scratch / "lite0")
        image = jpeg_224()
        try:
            ours = measure_modelyard(trivial, image, scratch, args)
            lite0 = measure_lite0(image, lite0_dir, scratch, args) if lite0_dir else None
        except (BenchmarkFailed, httpx.HTTPError) as error:
            print(f"Modelyard could not be measured: {error}")
            return 1
        if not args.skip_mlflow:
            try:
                theirs, mlflow_version = measure_mlflow(trivial / "bestModel.onnx", scratch, args)
            except (MlflowUnavailable, BenchmarkFailed, httpx.HTTPError) as error:
                failures.append(f"MLflow was not measured: {error}")
        if lite0_dir and not args.skip_ceiling:
            ceiling = lite0_featurization_ceiling(scratch, CEILING_IMAGES)
        if lite0_dir and not args.skip_litserve:
            try:
                litserve_load = measure_litserve(image, lite0_dir, scratch, args)
            except (LitServeUnavailable, BenchmarkFailed, httpx.HTTPError) as error:
                failures.append(f"LitServe was not measured: {error}")
    print_header(args, mlflow_version)
    print_rows(rows(ours, theirs))
    if lite0:
        print(
            f"EfficientNet-Lite0 (ONNX, 5 classes), {LITE0_CONCURRENCY} clients; adaptive"
            f" batching on both sides (≤ {MAX_BATCH} images, ≤ {MAX_WAIT_MS:g} ms wait)."
        )
        print_rows(lite0_rows(lite0, litserve_load, ceiling), peer="LitServe")
        if ceiling is not None:
            print(
                f"First row: beside featurize()'s {ceiling:.0f} images/s in-process (target"
                f" ≥ {TARGET_CEILING_SHARE:.0%} of it), not beside LitServe."
            )
    for failure in failures:
        print(failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
