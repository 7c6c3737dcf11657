"""Tar archives as a client uploads them (a description, then files), built in memory."""

from __future__ import annotations

import io
import tarfile


def tar_bytes(members: dict[str, bytes]) -> bytes:
    """An archive of regular files: name → content, in order."""
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive.getvalue()
