"""`RestArtifactStore`: run artifacts behind `modelyard server`, streamed both ways.

Uploads send the file as it is read (the server writes it atomically and refuses what is over its
limit with 413); downloads are written to a temporary file beside the destination and renamed once
complete, as the local store does. Paths are checked here with the same `safe_relative_path` the
server applies, so a bad path fails before a byte is sent.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from typing import BinaryIO

from modelyard.store.artifacts import (
    CHUNK_SIZE,
    ArtifactInfo,
    ArtifactRepository,
    limited_chunks,
    safe_relative_path,
)
from modelyard.store.rest_client import RestClient, segment

# Downloads up to this size stay in memory when opened for reading; larger ones spill to disk.
SPOOL_MAX_BYTES = 8 * 1024 * 1024


class RestArtifactStore(ArtifactRepository):
    def __init__(self, client: RestClient) -> None:
        self.client = client

    def put_stream(
        self, run_id: str, path: str, chunks: Iterable[bytes], max_bytes: int | None = None
    ) -> ArtifactInfo:
        url = self._url(run_id, path)  # a bad path fails before anything is read or sent
        limited = limited_chunks(chunks, max_bytes, f"artifact {path!r}", path=path)
        headers = {"content-type": "application/octet-stream"}
        found = self.client.call("PUT", url, content=limited, headers=headers)
        return ArtifactInfo(str(found["path"]), int(found["size"]))

    def open_read(self, run_id: str, path: str) -> BinaryIO:
        # Not a `with`: the caller gets the open file and closes it.
        copy = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES)  # noqa: SIM115
        try:
            with self.client.stream("GET", self._url(run_id, path)) as response:
                for chunk in response.iter_bytes(CHUNK_SIZE):
                    copy.write(chunk)
        except BaseException:
            copy.close()
            raise
        copy.seek(0)
        return copy  # type: ignore[return-value]

    def list(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        params = {"prefix": safe_relative_path(prefix)} if prefix else {}
        found = self.client.call("GET", f"/runs/{segment(run_id)}/artifacts", params=params)
        return [ArtifactInfo(str(item["path"]), int(item["size"])) for item in found]

    def delete_run(self, run_id: str) -> None:
        """Nothing to do: the server deletes a run's artifacts when it deletes the run."""

    def _has_folder(self, run_id: str, relative: str) -> bool:
        return bool(self.list(run_id, relative))

    def _url(self, run_id: str, path: str) -> str:
        relative = safe_relative_path(path)
        return f"/runs/{segment(run_id)}/artifacts/" + "/".join(
            segment(part) for part in relative.split("/")
        )
