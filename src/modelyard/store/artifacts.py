"""Run artifacts on local disk: `<root>/<run_id>/<relative path>`, safe paths only, atomic writes.

Every path a caller gives goes through `safe_relative_path` first, so no spelling of `..`, an
absolute path, a drive, a URI or an encoded form of them reaches the file system. After that every
path is resolved (symbolic links followed) and must still lie inside the run's folder: a link in
the run folder that points elsewhere is refused, for reading and for writing alike.

Writes go to a `.tmp-…` file beside the target, are fsynced and then renamed over it, so a reader
sees the old file or the new one, never half of either; a failed write leaves nothing, not even the
folders it created. `list()` skips `.tmp-` names and never follows symbolic links. A temp file
whose writer was killed (`kill -9`) is removed by the reaper's sweep once it is an hour old
(`services/leftovers.py`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import shutil
import stat
import unicodedata
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import unquote_to_bytes

from modelyard.entities.limits import ARTIFACT_PATH_MAX
from modelyard.errors import Conflict, InvalidValue, LimitExceeded, NotFound, UnsafePath
from modelyard.fileio import TEMP_PREFIX, storage_errors

log = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
SEGMENT_BYTES_MAX = 255  # NAME_MAX on Linux and macOS: a longer name fails at write time anyway
EXAMPLE_PATH = "outputs/model.onnx"

_RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
# '%2e', and the '%u002e' form some servers (IIS) decode as well.
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})|%[uU]([0-9A-Fa-f]{4})")
_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:")
_DRIVE = re.compile(r"[A-Za-z]:")
_ENCODED_CHARACTERS_REFUSED = frozenset("./\\:")
# Each encoding layer and each NFKC form is checked on its own; a path needing more than this many
# forms is an attack, not a file name.
_DECODED_FORMS_MAX = 8


# Paths ---------------------------------------------------------------------------------------


def safe_relative_path(path: str) -> str:
    """Validate and normalise a user-given artifact path; raise UnsafePath otherwise.

    Returns a POSIX path relative to the run folder. Normalising is limited to what cannot change
    meaning: a trailing '/' is dropped (`'outputs/'` -> `'outputs'`) and repeated '/' collapse
    (`'a//b'` -> `'a/b'`). Everything else that could leave the run folder or be read as something
    other than a relative path is refused rather than repaired:

    - an empty path, or one longer than ARTIFACT_PATH_MAX characters;
    - an absolute path (`'/etc/passwd'`), a backslash, a ':' anywhere (drive letters like `'C:x'`,
      URIs like `'file:x'` or `'s3://b/k'`, Windows data streams);
    - the segments `'.'` and `'..'`, and any segment made only of dots and spaces (Windows trims
      `'.. '` to `'..'`);
    - NUL, control characters, and text that is not valid Unicode;
    - a percent escape of '.', '/', '\\', ':' or a control character (`'%2e%2e%2f'`, also the
      `'%u002e'` form), at any depth of encoding (`'%252e'`), even where the decoded path would be
      harmless (`'a%2fb'`), and percent escapes that are not UTF-8 (`'%c0%ae'`);
    - anything that becomes one of the above under Unicode NFKC normalisation (`'．．／x'`);
    - segments starting with '.tmp-' (reserved for uploads in progress) or over 255 bytes.
    """
    if not isinstance(path, str):
        raise UnsafePath(
            f"unsafe artifact path {path!r}: it is a {type(path).__name__}, not text;"
            f" pass a relative path as a string, like {EXAMPLE_PATH!r}",
            path=repr(path),
        )
    _refuse_empty_or_long(path)
    _refuse_unsafe_forms(path)
    return "/".join(segment for segment in path.split("/") if segment)


def _unsafe(path: str, reason: str, fix: str | None = None) -> UnsafePath:
    fix = fix or f"use a path relative to the run, like {EXAMPLE_PATH!r}"
    return UnsafePath(f"unsafe artifact path {_shown(path)}: {reason}; {fix}", path=path)


def _shown(text: str, limit: int = 80) -> str:
    """The value for a message, cut short so a hostile 100 kB path still makes a one-line error."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"… ({len(text)} characters)"


def _refuse_empty_or_long(path: str) -> None:
    if not path:
        raise _unsafe(path, "it is empty")
    if len(path) > ARTIFACT_PATH_MAX:
        raise _unsafe(
            path,
            f"it is {len(path)} characters, over the limit of {ARTIFACT_PATH_MAX}",
            "use a shorter path",
        )


def _refuse_unsafe_forms(path: str) -> None:
    """Check the path, its NFKC form, and every percent-decoded layer of each, all alike."""
    checked: set[str] = set()
    pending = [path]
    while pending:
        form = pending.pop()
        if form in checked:
            continue
        if len(checked) == _DECODED_FORMS_MAX:
            raise _unsafe(path, "it is encoded too many times over")
        _refuse_encoded_separators(path, form)
        _refuse_unsafe_text(path, form)  # before decoding: a lone surrogate cannot be encoded
        checked.add(form)
        pending += [unicodedata.normalize("NFKC", form), _percent_decoded(path, form)]


def _percent_decoded(path: str, form: str) -> str:
    if not _PERCENT_ESCAPE.search(form):
        return form
    try:
        return unquote_to_bytes(form).decode("utf-8")
    except UnicodeDecodeError:
        raise _unsafe(
            path, "its percent escapes are not UTF-8 (like the overlong '%c0%ae')"
        ) from None


def _refuse_encoded_separators(path: str, form: str) -> None:
    for escape in _PERCENT_ESCAPE.finditer(form):
        code = int(escape.group(1) or escape.group(2), 16)
        decoded = chr(code)
        # From 0x80 up, '%xx' is part of a UTF-8 sequence; the decoded form is checked for those.
        if code < 0x80 and (decoded in _ENCODED_CHARACTERS_REFUSED or not decoded.isprintable()):
            found = "it contains" if form == path else "it decodes to"
            raise _unsafe(
                path,
                f"{found} {escape.group(0)!r}, an encoded {decoded!r}, which changes the path"
                " once decoded",
                f"write the path plainly, like {EXAMPLE_PATH!r}",
            )


def _refuse_unsafe_characters(path: str, form: str) -> None:
    for character in form:
        category = unicodedata.category(character)
        if category == "Cc":
            raise _unsafe(path, f"it contains the control character {character!r}")
        if category == "Cs":
            raise _unsafe(path, "it is not valid Unicode text (a lone surrogate)")


def _refuse_unsafe_text(path: str, form: str) -> None:
    _refuse_unsafe_characters(path, form)
    if "\\" in form:
        raise _unsafe(
            path,
            "it contains '\\', a path separator on Windows",
            f"use '/' between folders, like {EXAMPLE_PATH!r}",
        )
    if ":" in form:
        raise _unsafe(path, _colon_reason(form), "remove the ':', like 'outputs/epoch-3.ckpt'")
    if form.startswith("/"):
        raise _unsafe(path, "it is absolute")
    for segment in form.split("/"):
        _refuse_unsafe_segment(path, segment)


def _colon_reason(form: str) -> str:
    if _DRIVE.match(form):
        return f"it starts with the Windows drive {form[:2]!r}"
    if _URI_SCHEME.match(form):
        return f"it reads as a URI with the scheme {form.split(':', 1)[0] + ':'!r}"
    return "it contains ':', which names a drive, a URI scheme or a Windows data stream"


def _refuse_unsafe_segment(path: str, segment: str) -> None:
    if segment == "..":
        raise _unsafe(path, "'..' segments leave the run folder")
    if segment == ".":
        raise _unsafe(path, "'.' segments are not allowed")
    if segment and not segment.strip(". "):
        raise _unsafe(
            path, f"the name {segment!r} is only dots and spaces, which Windows trims to '..' or ''"
        )
    if segment.startswith(TEMP_PREFIX):
        raise _unsafe(
            path, f"names starting with {TEMP_PREFIX!r} are reserved for uploads in progress"
        )
    if len(segment.encode("utf-8")) > SEGMENT_BYTES_MAX:
        raise _unsafe(
            path,
            f"the name {_shown(segment, 40)} is over {SEGMENT_BYTES_MAX} bytes",
            "use a shorter name",
        )


def _join(prefix: str, relative: str) -> str:
    return f"{prefix}/{relative}" if prefix else relative


# The store -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArtifactInfo:
    path: str  # relative POSIX path inside the run
    size: int


class ArtifactRepository(ABC):
    """Run artifacts wherever they are kept: on this disk (ArtifactStore) or behind a server
    (RestArtifactStore). The conveniences are written once, on four primitives."""

    @abstractmethod
    def put_stream(
        self, run_id: str, path: str, chunks: Iterable[bytes], max_bytes: int | None = None
    ) -> ArtifactInfo:
        """Write the chunks as one artifact; past `max_bytes`, LimitExceeded and nothing left."""

    @abstractmethod
    def open_read(self, run_id: str, path: str) -> BinaryIO: ...

    @abstractmethod
    def delete_run(self, run_id: str) -> None: ...

    @abstractmethod
    def _has_folder(self, run_id: str, relative: str) -> bool: ...

    def put_bytes(self, run_id: str, path: str, data: bytes) -> ArtifactInfo:
        return self.put_stream(run_id, path, [data])

    def put_file(self, run_id: str, path: str, source: Path) -> ArtifactInfo:
        """Copy one file in chunks; a source that is a link out of its own folder is refused."""
        safe_relative_path(path)  # a bad path is reported before anything about the source
        with _open_source(Path(source)) as handle:
            return self.put_stream(run_id, path, _chunks_of(handle))

    def put_folder(self, run_id: str, prefix: str, folder: Path) -> list[ArtifactInfo]:
        """Upload every regular file below `folder` under `prefix` ("" is the run folder).

        Symbolic links are never followed out of `folder`: a link to a file inside it is uploaded
        as a copy of that file, links that leave it and links to folders are skipped (and logged).
        Every name is validated before the first file is written. Each file is atomic; the folder
        as a whole is not.
        """
        base = safe_relative_path(prefix) if prefix else ""
        planned = [
            (safe_relative_path(_join(base, relative)), source)
            for relative, source in _files_below(Path(folder))
        ]
        return [self.put_file(run_id, relative, source) for relative, source in planned]

    def download(self, run_id: str, path: str, destination: Path) -> Path:
        """Copy an artifact to `destination`, or into it when it is an existing folder."""
        destination = Path(destination)
        if destination.is_dir():
            destination = destination / PurePosixPath(safe_relative_path(path)).name
        return self._copy_out(run_id, path, destination)

    def download_folder(self, run_id: str, prefix: str, destination: Path) -> list[Path]:
        """Copy every artifact under `prefix` ("" for all) into `destination`, keeping the tree."""
        base = safe_relative_path(prefix) if prefix else ""
        if base and not self._has_folder(run_id, base):
            raise NotFound(
                f"no artifact folder {base!r} in run {run_id}: list the run's artifacts to see"
                " which folders it has",
                run_id=run_id,
                path=base,
            )
        return [
            self._copy_out(run_id, info.path, Path(destination).joinpath(*_parts_after(base, info)))
            for info in self.list(run_id, base)
        ]

    def _copy_out(self, run_id: str, path: str, target: Path) -> Path:
        with self.open_read(run_id, path) as handle:
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(target, _chunks_of(handle))
        return target

    # Declared last: inside the class body, `list` names this method from here on.
    @abstractmethod
    def list(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        """Files under `prefix` (a folder; "" for the whole run), recursive and sorted by path."""


class ArtifactStore(ArtifactRepository):
    """Artifacts of every run under one root folder, one folder per run id."""

    def __init__(self, root: Path, check_run_open: Callable[[str], None] | None = None) -> None:
        """`check_run_open(run_id)` raises for a run that takes no more files (unknown or
        ended); the workspace passes its store's check, a bare store checks nothing."""
        self.root = Path(root)
        self._check_run_open = check_run_open

    def run_root(self, run_id: str) -> Path:
        if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
            raise UnsafePath(
                f"unsafe run id {_shown(str(run_id))}: run ids are 1 to 128 letters, digits, '_'"
                " or '-'; pass the id of a run, like the one `modelyard run list` shows",
                run_id=str(run_id),
            )
        return self.root / run_id

    def put_stream(
        self,
        run_id: str,
        path: str,
        chunks: Iterable[bytes],
        max_bytes: int | None = None,
    ) -> ArtifactInfo:
        relative = safe_relative_path(path)
        boundary = self.run_root(run_id).resolve()
        if self._check_run_open is not None:
            self._check_run_open(run_id)
        target = boundary / relative
        _resolved_inside(boundary, target, relative, run_id)  # before any folder is made
        with storage_errors(target), _folders_removed_on_failure(target.parent, relative):
            # Resolve the folder again now that it exists, and write the name inside it, so a
            # link at the target itself is replaced, never written through.
            target = _resolved_inside(boundary, target.parent, relative, run_id) / target.name
            _refuse_folder_target(target, relative, run_id)
            size = _write_atomically(
                target, limited_chunks(chunks, max_bytes, f"artifact {relative!r}", path=relative)
            )
        return ArtifactInfo(relative, size)

    def local_path(self, run_id: str, path: str) -> Path:
        """The artifact's resolved path on disk, refused if it leads outside the run folder."""
        relative = safe_relative_path(path)
        boundary = self.run_root(run_id).resolve()
        return _resolved_inside(boundary, boundary / relative, relative, run_id)

    def open_read(self, run_id: str, path: str) -> BinaryIO:
        file = self._existing_file(run_id, path)
        descriptor = os.open(file, os.O_RDONLY | os.O_NOFOLLOW)
        return open(descriptor, "rb")

    def list(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        """Symbolic links are not listed and never followed; a missing folder lists nothing."""
        boundary = self.run_root(run_id).resolve()
        top = self.local_path(run_id, prefix) if prefix else boundary
        if not top.is_dir():
            return []
        return sorted(_regular_files_in(top, boundary), key=lambda info: info.path)

    def delete_run(self, run_id: str) -> None:
        run_root = self.run_root(run_id)
        if run_root.is_symlink():
            run_root.unlink()  # remove the link, never what it points at
            return
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(run_root)

    def _has_folder(self, run_id: str, relative: str) -> bool:
        return self.local_path(run_id, relative).is_dir()

    def _existing_file(self, run_id: str, path: str) -> Path:
        file = self.local_path(run_id, path)
        if not file.is_file():
            raise NotFound(
                f"artifact {safe_relative_path(path)!r} not found in run {run_id}: check the path"
                " against the run's artifact list, like 'outputs/model.onnx'",
                run_id=run_id,
                path=safe_relative_path(path),
            )
        return file


# Containment ---------------------------------------------------------------------------------


def _resolved_inside(boundary: Path, candidate: Path, relative: str, run_id: str) -> Path:
    """`candidate` with every symbolic link resolved; it must stay inside `boundary`."""
    try:
        resolved = candidate.resolve()
    except (OSError, RuntimeError):  # a link loop
        raise _escape(relative, run_id, "goes through a loop of symbolic links") from None
    if resolved != boundary and not resolved.is_relative_to(boundary):
        raise _escape(relative, run_id, "goes through a symbolic link to outside the run folder")
    return resolved


def _escape(relative: str, run_id: str, reason: str) -> UnsafePath:
    return UnsafePath(
        f"unsafe artifact path {relative!r} in run {run_id}: it {reason}; remove the link from"
        " the run folder or use another path",
        path=relative,
        run_id=run_id,
    )


def _refuse_folder_target(target: Path, relative: str, run_id: str) -> None:
    if target.is_dir():
        raise Conflict(
            f"artifact path {relative!r} in run {run_id} is a folder: upload the file under a"
            f" name inside it, like {relative + '/file.bin'!r}",
            path=relative,
            run_id=run_id,
        )


@contextlib.contextmanager
def _folders_removed_on_failure(folder: Path, relative: str) -> Iterator[None]:
    """Create `folder` and its missing parents; remove the ones created if the block fails."""
    created = _missing_folders(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise Conflict(
            f"artifact path {relative!r} runs through an existing file: a file cannot also be a"
            " folder; choose another path",
            path=relative,
        ) from None
    try:
        yield
    except BaseException:
        for made in created:  # deepest first; a folder another upload now uses is not empty
            with contextlib.suppress(OSError):
                made.rmdir()
        raise


def _missing_folders(folder: Path) -> list[Path]:
    missing = []
    for candidate in (folder, *folder.parents):
        if candidate.exists() or candidate.is_symlink():
            break
        missing.append(candidate)
    return missing


# Files ---------------------------------------------------------------------------------------


def _write_atomically(target: Path, chunks: Iterable[bytes]) -> int:
    """Write to a temp file beside `target`, fsync, rename over it; on failure remove the temp."""
    temp = target.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex}")
    # O_EXCL | O_NOFOLLOW: never write through a link someone planted under the temp name.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    try:
        with open(os.open(temp, flags, 0o666), "wb") as handle:
            size = _copy_chunks(chunks, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    _fsync_folder(target.parent)
    return size


def _copy_chunks(chunks: Iterable[bytes], handle: BinaryIO) -> int:
    size = 0
    for chunk in chunks:
        handle.write(chunk)
        size += len(chunk)
    return size


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; best effort, as some file systems refuse it."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def limited_chunks(
    chunks: Iterable[bytes], max_bytes: int | None, what: str, **context: object
) -> Iterator[bytes]:
    """The chunks, and LimitExceeded as soon as they add up to more than `max_bytes`."""
    written = 0
    for chunk in chunks:
        written += len(chunk)
        if max_bytes is not None and written > max_bytes:
            raise LimitExceeded(
                f"{what} is over the upload limit of {max_bytes} bytes: upload a smaller file"
                " or split it into parts",
                **context,
                limit=max_bytes,
            )
        yield chunk


def _chunks_of(handle: BinaryIO) -> Iterator[bytes]:
    return iter(functools.partial(handle.read, CHUNK_SIZE), b"")


def _open_source(source: Path) -> BinaryIO:
    real = _real_source_file(source)
    return open(os.open(real, os.O_RDONLY | os.O_NOFOLLOW), "rb")


def _real_source_file(source: Path) -> Path:
    """The file to read for `source`: a link may point anywhere inside the folder holding it."""
    if not source.exists():
        raise NotFound(
            f"file to upload {str(source)!r} not found: check the path", source=str(source)
        )
    real = source.resolve()
    if source.is_symlink() and not real.is_relative_to(source.parent.resolve()):
        raise UnsafePath(
            f"file to upload {str(source)!r} is a symbolic link to outside its folder:"
            " upload the file it points at by its own path",
            source=str(source),
        )
    if not stat.S_ISREG(real.stat().st_mode):
        raise InvalidValue(
            f"{str(source)!r} is not a regular file: upload files only (use put_folder for"
            " folders)",
            source=str(source),
        )
    return real


def _files_below(folder: Path) -> list[tuple[str, Path]]:
    """(relative POSIX path, file to read) for every regular file below `folder`, sorted."""
    boundary = _existing_folder(folder)
    found = []
    for dirpath, dirnames, filenames in os.walk(boundary):  # does not descend into linked folders
        current = Path(dirpath)
        _log_skipped_links(current, dirnames)
        for name in filenames:
            real = _readable_file(current / name, boundary)
            if real is not None:
                found.append(((current / name).relative_to(boundary).as_posix(), real))
    return sorted(found)


def _existing_folder(folder: Path) -> Path:
    if not folder.exists():
        raise NotFound(f"folder to upload {str(folder)!r} not found: check the path")
    if not folder.is_dir():
        raise InvalidValue(f"{str(folder)!r} is not a folder: use put_file for a single file")
    return folder.resolve()


def _readable_file(entry: Path, boundary: Path) -> Path | None:
    """The regular file to read for `entry`, or None when it must be skipped."""
    real = _link_target_inside(entry, boundary) if entry.is_symlink() else entry
    if real is None:
        log.warning("skipped %s: a symbolic link to outside %s", entry, boundary)
        return None
    if not real.is_file():
        log.warning("skipped %s: not a regular file", entry)
        return None
    return real


def _link_target_inside(link: Path, boundary: Path) -> Path | None:
    try:
        real = link.resolve()
    except (OSError, RuntimeError):  # a link loop
        return None
    return real if real.is_relative_to(boundary) else None


def _log_skipped_links(folder: Path, dirnames: list[str]) -> None:
    for name in dirnames:
        if (folder / name).is_symlink():
            log.warning("skipped %s: symbolic links to folders are not followed", folder / name)


def _regular_files_in(top: Path, boundary: Path) -> Iterator[ArtifactInfo]:
    for dirpath, dirnames, filenames in os.walk(top):  # followlinks=False: never leaves the run
        dirnames[:] = [name for name in dirnames if not name.startswith(TEMP_PREFIX)]
        for name in filenames:
            info = _info_if_regular(Path(dirpath) / name, boundary)
            if info is not None and not name.startswith(TEMP_PREFIX):
                yield info


def _info_if_regular(entry: Path, boundary: Path) -> ArtifactInfo | None:
    try:
        status = entry.lstat()  # lstat: a link is not a regular file, so it is never followed
    except FileNotFoundError:  # deleted while we walked
        return None
    if not stat.S_ISREG(status.st_mode):
        return None
    return ArtifactInfo(entry.relative_to(boundary).as_posix(), status.st_size)


def _parts_after(base: str, info: ArtifactInfo) -> tuple[str, ...]:
    path = PurePosixPath(info.path)
    return path.relative_to(base).parts if base else path.parts
