"""What a client sends this server as one tar archive (a job, a model version): a JSON
description, then the files under one folder. Checked whole before anything else happens: the
description bounded in size and a JSON object, every other member a regular file (or, where
allowed, a folder) under the files' folder, every name through `safe_relative_path`, no name
twice, and nothing written outside the staging folder.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from collections.abc import Callable
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
