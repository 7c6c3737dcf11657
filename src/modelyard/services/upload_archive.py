"""What a client sends a server as one tar archive (a job, a model version, a deployment's
code): a JSON description, then the files under one folder. `packed` writes one on the client;
`unpack` reads it on the server, checked whole before anything else happens: the description
bounded in size and a JSON object, every other member a regular file (or, where allowed, a
folder) under the files' folder, every name through `safe_relative_path`, no name twice, and
nothing written outside the staging folder.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from modelyard.errors import InvalidValue
from modelyard.store.artifacts import safe_relative_path


@dataclass(frozen=True)
class ArchiveForm:
    """The shape one kind of upload takes, and how it is refused."""

    description: str  # the JSON member's name: "job.json"
    description_max_bytes: int
    files_prefix: str  # the files' folder in the archive: "snapshot/"
    refused: Callable[[str], InvalidValue]  # the one-line error, from the problem
    folders: bool = False  # whether folder members (empty folders) are taken


@contextmanager
def packed(
    description_name: str,
    files_prefix: str,
    description: Mapping[str, Any],
    stage: Callable[[Path], None],
) -> Iterator[Path]:
    """A temporary tar archive (deleted when the block ends): `description` as JSON named
    `description_name`, then the files `stage` writes into the (new) folder it is given, under
    `files_prefix`."""
    with tempfile.TemporaryDirectory(prefix="modelyard-upload-") as scratch:
        files = Path(scratch) / "files"
        stage(files)
        archive = Path(scratch) / "upload.tar"
        with tarfile.open(archive, "w") as tar:
            data = json.dumps(description).encode()
            info = tarfile.TarInfo(description_name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
            for file in sorted(path for path in files.rglob("*") if path.is_file()):
                tar.add(file, files_prefix + file.relative_to(files).as_posix())
        yield archive


def upload_refusal(upload: str, fix: str) -> Callable[[str], InvalidValue]:
    """How one kind of upload is refused: `{upload} refused: {problem}; {fix}`, one line."""

    def refused(problem: str) -> InvalidValue:
        return InvalidValue(f"{upload} refused: {problem}; {fix}", problem=problem)

    return refused


def unpack(archive: IO[bytes], files: Path, form: ArchiveForm) -> dict[str, Any]:
    """Unpack the files into `files` (created); returns the description."""
    files.mkdir(parents=True)
    description: dict[str, Any] | None = None
    try:
        with tarfile.open(fileobj=archive, mode="r:") as tar:
            for member in tar:
                if member.name == form.description and member.isfile():
                    description = _read_description(tar, member, form)
                else:
                    _extract(tar, member, files, form)
    except tarfile.TarError as error:
        raise form.refused(f"the body is not a readable tar archive ({error})") from error
    if description is None:
        raise form.refused(f"the archive has no {form.description}")
    return description


def _read_description(
    tar: tarfile.TarFile, member: tarfile.TarInfo, form: ArchiveForm
) -> dict[str, Any]:
    if member.size > form.description_max_bytes:
        raise form.refused(
            f"{form.description} is {member.size} bytes, over {form.description_max_bytes}"
        )
    handle = tar.extractfile(member)
    try:
        data = json.loads(handle.read() if handle else b"")
    except ValueError as error:
        raise form.refused(f"{form.description} is not JSON ({error})") from error
    if not isinstance(data, dict):
        raise form.refused(f"{form.description} is {type(data).__name__}, not a JSON object")
    return data


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, files: Path, form: ArchiveForm) -> None:
    taken = member.isfile() or (form.folders and member.isdir())
    if not member.name.startswith(form.files_prefix) or not taken:
        kind = "a file or folder" if form.folders else "a file"
        problem = f"archive member {member.name!r} is not {kind} under {form.files_prefix}"
        raise form.refused(problem)
    name = member.name[len(form.files_prefix) :].rstrip("/")
    if not name and member.isdir():
        return  # the files' folder itself
    target = files.joinpath(*PurePosixPath(safe_relative_path(name)).parts)
    try:
        if member.isdir():
            target.mkdir(parents=True, exist_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        source = tar.extractfile(member)
        assert source is not None  # a regular file always has content
        with open(target, "xb") as out:  # "x": a name twice in one archive is refused
            shutil.copyfileobj(source, out)
    except (FileExistsError, NotADirectoryError) as error:
        # The same name twice, or as a file and a folder ('a', then 'a/' or 'a/b').
        raise form.refused(f"archive member {member.name!r} clashes with an earlier one") from error
