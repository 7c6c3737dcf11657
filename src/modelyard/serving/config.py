"""How one replica is set up: what it serves and its limits (the CLI's flags, as data)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

DEFAULT_MAX_BATCH: Final = 32
DEFAULT_MAX_WAIT_MS: Final = 3.0
DEFAULT_MAX_BODY_MB: Final = 32.0
# Decoding images is pure CPU work per request; a user's run() may not be thread-safe, so it
# gets one thread unless asked for more (Azure's inference server runs one at a time per worker).
DEFAULT_IMAGE_THREADS: Final = 4
DEFAULT_SCRIPT_THREADS: Final = 1
# A client must deliver a request's line and headers within this many seconds of connecting (or
# of its previous request): a caller that connects and sends nothing holds no connection for ever.
DEFAULT_HEADER_TIMEOUT_S: Final = 10.0


@dataclass(frozen=True)
class ReplicaConfig:
    """What one replica serves: the no-code image scorer, or an entry script when one is given."""

    model_dir: Path
    entry_script: Path | None = None
    source_directory: Path | None = None
    max_batch_size: int = DEFAULT_MAX_BATCH
    max_wait_ms: float = DEFAULT_MAX_WAIT_MS
    max_body_mb: float = DEFAULT_MAX_BODY_MB
    threads: int | None = None  # None: the default for the kind of scorer
    log_requests: bool = False

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    @property
    def worker_threads(self) -> int:
        if self.threads is not None:
            return self.threads
        return DEFAULT_SCRIPT_THREADS if self.entry_script else DEFAULT_IMAGE_THREADS
