"""Code snapshots: the files of a job's source folder, copied once, honouring ignore files.

Which files are copied:

- If the source folder has a `.modelyardignore` at its top, it alone decides (like Azure ML's
  `.amlignore`); `.gitignore` files are then not read.
- Otherwise every `.gitignore` in the tree counts, with git's rules: a pattern is relative to the
  folder of its file, a deeper file overrides a shallower one, the last matching line of a file
  wins, and nothing inside an ignored folder can be brought back with `!`.
- `.git/`, `__pycache__/`, `.venv/`, `.modelyard/` and `*.pyc` are always skipped, whatever the
  ignore files say.
- Symbolic links: a link to a file inside the source folder is copied as that file; links that
  leave the folder, and links to folders (which could loop or copy files twice), are skipped.

Limits are checked before anything is copied, and the copy lands in a temp sibling folder that is
renamed to the destination at the end, so a refused or failed snapshot leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pathspec import GitIgnoreSpec

from modelyard.entities.limits import SNAPSHOT_BYTES_MAX, SNAPSHOT_FILES_MAX
from modelyard.errors import AlreadyExists, InvalidValue, LimitExceeded, NotFound

MODELYARD_IGNORE = ".modelyardignore"
GIT_IGNORE = ".gitignore"
ALWAYS_SKIPPED = (".git/", "__pycache__/", ".venv/", ".modelyard/", "*.pyc")
_ALWAYS_SKIPPED_SPEC = GitIgnoreSpec.from_lines(ALWAYS_SKIPPED)
_TOP = PurePosixPath()


@dataclass(frozen=True)
class SnapshotSummary:
    files: int
    bytes: int
    paths: tuple[str, ...]  # relative POSIX paths copied, sorted


@dataclass(frozen=True)
class _SourceFile:
    relative: str  # POSIX path inside the source folder
    real: Path  # the file to read (a link's target, for links)
    size: int


def snapshot_files(source_dir: Path) -> list[Path]:
    """The files `take_snapshot` would copy, relative to `source_dir`, sorted."""
    return [Path(file.relative) for file in _collect(Path(source_dir))]


def take_snapshot(source_dir: Path, destination: Path) -> SnapshotSummary:
    """Copy the source folder's files to `destination`, which must not exist yet."""
    source_dir, destination = Path(source_dir), Path(destination)
    files = _collect(source_dir)
    _refuse_existing(destination)
    _refuse_over_limits(source_dir, files)
    _copy_atomically(files, destination)
    return SnapshotSummary(
        files=len(files),
        bytes=sum(file.size for file in files),
        paths=tuple(file.relative for file in files),
    )


# Choosing the files --------------------------------------------------------------------------


class _IgnoreRules:
    """Whether a path is excluded, from `.modelyardignore` or the `.gitignore` files met so far."""

    def __init__(self, root: Path) -> None:
        self.uses_gitignore = not (root / MODELYARD_IGNORE).is_file()
        self.specs: dict[PurePosixPath, GitIgnoreSpec] = {}  # folder -> its patterns
        if not self.uses_gitignore:
            self.specs[_TOP] = _read_spec(root / MODELYARD_IGNORE)

    def enter(self, relative_folder: PurePosixPath, folder: Path) -> None:
        """Read the folder's `.gitignore`; called top-down, before the folder's entries."""
        if self.uses_gitignore and (folder / GIT_IGNORE).is_file():
            self.specs[relative_folder] = _read_spec(folder / GIT_IGNORE)

    def excludes(self, relative: PurePosixPath, is_folder: bool) -> bool:
        suffix = "/" if is_folder else ""  # patterns ending in '/' match folders only
        if _ALWAYS_SKIPPED_SPEC.match_file(relative.as_posix() + suffix):
            return True
        for base in relative.parents:  # deepest first: a deeper ignore file overrides
            spec = self.specs.get(base)
            decision = (
                spec.check_file(relative.relative_to(base).as_posix() + suffix) if spec else None
            )
            if decision is not None and decision.include is not None:
                return bool(decision.include)
        return False


def _read_spec(ignore_file: Path) -> GitIgnoreSpec:
    return GitIgnoreSpec.from_lines(
        ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
    )


def _collect(source_dir: Path) -> list[_SourceFile]:
    root = _existing_source(source_dir)
    rules = _IgnoreRules(root)
    found: list[_SourceFile] = []
    for dirpath, dirnames, filenames in os.walk(root):  # followlinks=False
        folder = Path(dirpath)
        relative_folder = PurePosixPath(folder.relative_to(root).as_posix())
        rules.enter(relative_folder, folder)
        dirnames[:] = [
            name for name in dirnames if _keeps_folder(folder / name, relative_folder / name, rules)
        ]
        found.extend(_files_kept(root, folder, relative_folder, filenames, rules))
    return sorted(found, key=lambda file: file.relative)


def _existing_source(source_dir: Path) -> Path:
    if not source_dir.exists():
        raise NotFound(
            f"source directory {str(source_dir)!r} not found: pass the folder that holds the"
            " job's code (--source-dir)",
            source_dir=str(source_dir),
        )
    if not source_dir.is_dir():
        raise InvalidValue(
            f"source directory {str(source_dir)!r} is not a folder: pass the folder that holds"
            " the script, not the script itself",
            source_dir=str(source_dir),
        )
    return source_dir.resolve()


def _keeps_folder(folder: Path, relative: PurePosixPath, rules: _IgnoreRules) -> bool:
    return not folder.is_symlink() and not rules.excludes(relative, is_folder=True)


def _files_kept(
    root: Path,
    folder: Path,
    relative_folder: PurePosixPath,
    names: list[str],
    rules: _IgnoreRules,
) -> Iterator[_SourceFile]:
    for name in names:
        relative = relative_folder / name
        if rules.excludes(relative, is_folder=False):
            continue
        real = _file_to_read(folder / name, root)
        if real is not None:
            yield _SourceFile(relative.as_posix(), real, real.stat().st_size)


def _file_to_read(entry: Path, root: Path) -> Path | None:
    """The regular file behind `entry`, or None for links out of `root` and special files."""
    try:
        real = entry.resolve() if entry.is_symlink() else entry
    except (OSError, RuntimeError):  # a link loop
        return None
    if not real.is_relative_to(root) or not real.is_file():
        return None
    return real


# Limits and copying --------------------------------------------------------------------------


def _refuse_existing(destination: Path) -> None:
    if destination.exists() or destination.is_symlink():
        raise AlreadyExists(
            f"snapshot destination {str(destination)!r} already exists: snapshots never"
            " overwrite; pass a folder that does not exist yet",
            destination=str(destination),
        )


def _refuse_over_limits(source_dir: Path, files: list[_SourceFile]) -> None:
    fix = _ignore_fix(source_dir)
    if len(files) > SNAPSHOT_FILES_MAX:
        raise LimitExceeded(
            f"snapshot of {str(source_dir)!r} has {len(files)} files, over the limit of"
            f" {SNAPSHOT_FILES_MAX}: {fix}",
            files=len(files),
            limit=SNAPSHOT_FILES_MAX,
        )
    total = sum(file.size for file in files)
    if total > SNAPSHOT_BYTES_MAX:
        largest = max(files, key=lambda file: file.size)
        raise LimitExceeded(
            f"snapshot of {str(source_dir)!r} is {_size(total)}, over the limit of"
            f" {_size(SNAPSHOT_BYTES_MAX)} (largest file: {largest.relative!r},"
            f" {_size(largest.size)}): {fix}",
            bytes=total,
            limit=SNAPSHOT_BYTES_MAX,
        )


def _ignore_fix(source_dir: Path) -> str:
    fix = f"add large files and data folders to {MODELYARD_IGNORE}, like 'data/' or '*.ckpt'"
    if (source_dir / MODELYARD_IGNORE).is_file():
        return fix
    # Creating the file switches .gitignore off for snapshots: say so, or the user is surprised.
    return f"{fix} (once it exists, {GIT_IGNORE} files no longer apply to snapshots)"


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def _copy_atomically(files: list[_SourceFile], destination: Path) -> None:
    """Copy into a temp sibling, then rename it to `destination`: all of the snapshot or none."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = destination.with_name(f".tmp-{uuid.uuid4().hex}")
    staging.mkdir()
    try:
        for file in files:
            _copy_one(file, staging)
        staging.rename(destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _copy_one(file: _SourceFile, staging: Path) -> None:
    target = staging.joinpath(*PurePosixPath(file.relative).parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(file.real, target)  # copy2 keeps the executable bit of scripts
