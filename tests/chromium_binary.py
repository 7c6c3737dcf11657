"""Which Chromium the browser tests (and `benchmarks/portal.py`) drive: Debian's
`chromium-headless-shell`, or the one `MODELYARD_TEST_CHROMIUM` names. No pytest or Playwright
here, so that the benchmark can import it too."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM_CANDIDATES = (
    "/usr/lib/chromium/chromium-headless-shell",  # Debian's binary itself (no wrapper script)
    "/usr/bin/chromium-headless-shell",
    "/usr/lib/chromium/chromium",
    "/usr/bin/chromium",
)


def chromium_executable() -> str | None:
    configured = os.environ.get("MODELYARD_TEST_CHROMIUM")
    for candidate in (configured, *CHROMIUM_CANDIDATES):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium-headless-shell")
