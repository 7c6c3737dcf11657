"""Checkpoint files of the training loops, and the random states a resumed loop needs back.

A checkpoint is one `torch.save` file written atomically (temp file, then rename), so a job
killed while writing leaves the previous checkpoint whole. It is not fsynced: a preempted job's
process dies, not its machine, and a file that a machine crash left unreadable is treated as no
checkpoint (the training starts over) rather than as an error.

Everything in it loads with `weights_only=True`: tensors, numbers, strings, lists and dicts
(NumPy's generator key is kept as a tensor), never arbitrary pickled objects.
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any, Final

import numpy as np
import torch

from modelyard.fileio import write_bytes_atomic

CHECKPOINT_FORMAT: Final = 1


class TrainingStopped(Exception):
    """The job was asked to stop (preempted) and stopped at a safe point, its checkpoint saved;
    the next attempt of the run resumes from it."""

    def __init__(self, where: str) -> None:
        super().__init__(f"stopped {where}: the next attempt resumes from the checkpoint")
        self.where = where


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, **state}, buffer)
    write_bytes_atomic(path, buffer.getvalue(), durable=False)


def load_checkpoint(path: Path, signature: dict[str, Any]) -> dict[str, Any] | None:
    """The state saved at `path` for a training with this `signature`, or None when there is
    none, it is unreadable, or it belongs to another training (then it starts over)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        return None
    except Exception:  # a torn or foreign file fails in many ways (KeyError, EOFError, …)
        return None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        return None
    if state.get("signature") != signature:
        return None
    return state


def random_states(generator: torch.Generator) -> dict[str, Any]:
    """The loop's own generator and every global one it may draw from, as plain values."""
    numpy_state = np.random.get_state(legacy=False)
    states: dict[str, Any] = {
        "generator": generator.get_state(),
        "torch": torch.get_rng_state(),
        "numpy": {
            "bit_generator": numpy_state["bit_generator"],
            "key": torch.from_numpy(numpy_state["state"]["key"].astype(np.int64)),
            "pos": int(numpy_state["state"]["pos"]),
            "has_gauss": int(numpy_state["has_gauss"]),
            "gauss": float(numpy_state["gauss"]),
        },
        "python": _python_random_state(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_random_states(generator: torch.Generator, states: dict[str, Any]) -> None:
    generator.set_state(states["generator"])
    torch.set_rng_state(states["torch"])
    saved = states["numpy"]
    np.random.set_state(
        {
            "bit_generator": saved["bit_generator"],
            "state": {"key": saved["key"].numpy().astype(np.uint32), "pos": saved["pos"]},
            "has_gauss": saved["has_gauss"],
            "gauss": saved["gauss"],
        }
    )
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def _python_random_state() -> list[Any]:
    version, internal, gauss = random.getstate()
    return [version, list(internal), gauss]
