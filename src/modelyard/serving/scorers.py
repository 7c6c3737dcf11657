"""The two things a replica can serve, behind one interface the HTTP app calls.

- `ImageScorer`: the no-code scorer of an image-classification model folder; the images of
  concurrent requests are batched into one onnxruntime call (`batcher.AdaptiveBatcher`).
- `ScriptScorer`: a user's entry script, `init()` once and `run(raw_data)` per request.

`init()` is blocking and runs in a thread while the replica already answers liveness probes;
`score()` takes the request's Content-Type and body and returns what the answer's JSON holds.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from modelyard.serving import openapi
from modelyard.serving.batcher import AdaptiveBatcher
from modelyard.serving.config import ReplicaConfig
from modelyard.serving.entry_script import call_run, expose_model_dir, load_entry_script
from modelyard.serving.image_inputs import ImageRequest, read_image_request
from modelyard.serving.image_model import ImageModel, ModelOutput, load_image_model
from modelyard.serving.metrics import ReplicaMetrics

Input = npt.NDArray[np.float32]


class Scorer(Protocol):
    def init(self) -> None: ...

    async def score(self, content_type: str | None, body: bytes) -> Any: ...

    def openapi(self) -> dict[str, Any]: ...

    async def close(self) -> None: ...


def scorer_for(config: ReplicaConfig, metrics: ReplicaMetrics) -> Scorer:
    expose_model_dir(config.model_dir)
    if config.entry_script is not None:
        return ScriptScorer(config)
    return ImageScorer(config, metrics)


class ImageScorer:
    def __init__(self, config: ReplicaConfig, metrics: ReplicaMetrics) -> None:
        self._config = config
        self._metrics = metrics
        self._pool = ThreadPoolExecutor(config.worker_threads, thread_name_prefix="decode")
        self._model: ImageModel | None = None
        self._batcher: AdaptiveBatcher[Input, ModelOutput] | None = None

    def init(self) -> None:
        model = load_image_model(self._config.model_dir)
        # A graph exported with a fixed batch of one cannot take more at once.
        largest = min(self._config.max_batch_size, model.max_batch_size or 2**31)
        self._batcher = AdaptiveBatcher(
            model.predict,
            max_batch_size=largest,
            max_wait_s=self._config.max_wait_ms / 1000,
            on_batch=self._metrics.batch_handled,
        )
        self._model = model

    async def score(self, content_type: str | None, body: bytes) -> Any:
        model, batcher = self._ready()
        loop = asyncio.get_running_loop()
        request, inputs = await loop.run_in_executor(
            self._pool, _prepare, model, content_type, body
        )
        outputs = await asyncio.gather(*(batcher.submit(item) for item in inputs))
        return list(outputs) if request.is_batch else outputs[0]

    def openapi(self) -> dict[str, Any]:
        labels = self._model.labels if self._model is not None else []
        return openapi.image_scorer_document(labels)

    async def close(self) -> None:
        if self._batcher is not None:
            await self._batcher.close()
        self._pool.shutdown(wait=False)

    def _ready(self) -> tuple[ImageModel, AdaptiveBatcher[Input, ModelOutput]]:
        if self._model is None or self._batcher is None:
            raise RuntimeError("score() before init() finished")
        return self._model, self._batcher


def _prepare(
    model: ImageModel, content_type: str | None, body: bytes
) -> tuple[ImageRequest, list[Input]]:
    request = read_image_request(content_type, body)
    return request, [model.preprocess(image) for image in request.images]


class ScriptScorer:
    def __init__(self, config: ReplicaConfig) -> None:
        self._config = config
        self._pool = ThreadPoolExecutor(config.worker_threads, thread_name_prefix="run")
        self._module: ModuleType | None = None

    def init(self) -> None:
        assert self._config.entry_script is not None
        module = load_entry_script(self._config.entry_script, self._config.source_directory)
        module.init()
        self._module = module

    async def score(self, content_type: str | None, body: bytes) -> Any:
        if self._module is None:
            raise RuntimeError("score() before init() finished")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, call_run, self._module, body)

    def openapi(self) -> dict[str, Any]:
        return openapi.script_document(self._config.entry_script)

    async def close(self) -> None:
        self._pool.shutdown(wait=False)
