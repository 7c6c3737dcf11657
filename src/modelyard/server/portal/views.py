"""What the run page shows besides the run record: artifact folders, previews, reports, log tail.

Artifacts are read through the `ArtifactStore`, so every path given in a URL goes through its
safe-path checks; nothing here touches the file system by itself.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO, Final

from modelyard.errors import ModelyardError
from modelyard.services.run_files import STD_LOG
from modelyard.services.workspaces import OpenWorkspace
from modelyard.store.artifacts import ArtifactInfo, safe_relative_path

# Written by the image-classification trainer (modelyard.vision.train; not imported: torch).
GUARDRAILS_PATH: Final = "outputs/guardrails.json"
CONFUSION_MATRIX_PATH: Final = "outputs/evaluation/confusion_matrix.png"
LOGS_FOLDER: Final = "logs"
LOG_TAIL_BYTES: Final = 64 * 1024  # the run page starts the log this far from its end
PREVIEW_BYTES: Final = 256 * 1024
REPORT_BYTES_MAX: Final = 8 * 1024 * 1024
ISSUES_SHOWN_MAX: Final = 200

# Shown inline by the browser. SVG and HTML are not: they can carry scripts.
IMAGE_TYPES: Final = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
}
TEXT_SUFFIXES: Final = frozenset(
    {".txt", ".log", ".json", ".jsonl", ".csv", ".tsv", ".yaml", ".yml", ".md", ".py", ".toml"}
    | {".cfg", ".ini", ".sh", ".tmpl", ".out", ".err"}
)


@dataclass(frozen=True)
class ArtifactFolder:
    name: str
    path: str
    file_count: int
    size: int


@dataclass(frozen=True)
class ArtifactFile:
    name: str
    path: str
    size: int


@dataclass(frozen=True)
class ArtifactListing:
    folder: str  # "" for the run's top folder
    crumbs: list[tuple[str, str]]  # (name, folder path) from the top down to `folder`
    folders: list[ArtifactFolder]
    files: list[ArtifactFile]


def list_folder(ws: OpenWorkspace, run_id: str, folder: str) -> ArtifactListing:
    """The files and sub-folders directly in `folder` of the run's artifacts."""
    folder = safe_relative_path(folder) if folder else ""
    below: dict[str, list[ArtifactInfo]] = {}
    files: list[ArtifactFile] = []
    for info in ws.artifacts.list(run_id, folder):
        relative = PurePosixPath(info.path)
        relative = relative.relative_to(folder) if folder else relative
        if len(relative.parts) == 1:
            files.append(ArtifactFile(relative.name, info.path, info.size))
        else:
            below.setdefault(relative.parts[0], []).append(info)
    folders = [
        ArtifactFolder(name, _join(folder, name), len(items), sum(i.size for i in items))
        for name, items in sorted(below.items())
    ]
    return ArtifactListing(folder, _crumbs(folder), folders, files)


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _crumbs(folder: str) -> list[tuple[str, str]]:
    parts = PurePosixPath(folder).parts if folder else ()
    return [(part, "/".join(parts[: index + 1])) for index, part in enumerate(parts)]


def media_type(path: str) -> str | None:
    """The type to serve `path` inline with, or None: then it is only downloaded."""
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in IMAGE_TYPES:
        return IMAGE_TYPES[suffix]
    if suffix in TEXT_SUFFIXES:
        return "text/plain; charset=utf-8"
    return None


@dataclass(frozen=True)
class Preview:
    kind: str  # "image", "text" or "none"
    size: int
    text: str = ""
    truncated: bool = False


def preview(ws: OpenWorkspace, run_id: str, path: str) -> Preview:
    with ws.artifacts.open_read(run_id, path) as handle:
        head = handle.read(PREVIEW_BYTES + 1)
        size = file_size(handle)
    kind = media_type(path)
    if kind in IMAGE_TYPES.values():
        return Preview("image", size)
    if kind is None and (b"\0" in head[:8192] or not _is_text(head[:8192])):
        return Preview("none", size)
    text = head[:PREVIEW_BYTES].decode("utf-8", errors="replace")
    truncated = len(head) > PREVIEW_BYTES
    if path.endswith(".json") and not truncated:
        text = _pretty_json(text)
    return Preview("text", size, text, truncated)


def file_size(handle: BinaryIO) -> int:
    return os.fstat(handle.fileno()).st_size


def _is_text(sample: bytes) -> bool:
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start >= len(sample) - 4  # a character cut at the sample's end
    return True


def _pretty_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def read_json_artifact(ws: OpenWorkspace, run_id: str, path: str) -> Any | None:
    """The parsed JSON artifact, or None when the run has no such file (or it is unreadable)."""
    try:
        with ws.artifacts.open_read(run_id, path) as handle:
            data = handle.read(REPORT_BYTES_MAX + 1)
    except (ModelyardError, OSError):
        return None  # no such file, or a path that is not a readable file
    if len(data) > REPORT_BYTES_MAX:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def artifact_exists(ws: OpenWorkspace, run_id: str, path: str) -> bool:
    try:
        return ws.local_artifacts.local_path(run_id, path).is_file()
    except ModelyardError:
        return False


def guardrails_view(report: Any) -> dict[str, Any] | None:
    """guardrails.json as the page's tables need it; None if it is not such a report."""
    if not isinstance(report, dict) or "passed" not in report:
        return None
    issues = [
        {**issue, "severity": severity}
        for severity in ("errors", "warnings")
        for issue in report.get(severity) or []
        if isinstance(issue, dict)
    ]
    counts = report.get("class_counts") or {}
    return {
        "passed": bool(report.get("passed")),
        "summary": str(report.get("summary", "")),
        "file_count": report.get("file_count"),
        "usable_count": report.get("usable_count"),
        "bad_file_count": report.get("bad_file_count"),
        "class_counts": sorted(counts.items()) if isinstance(counts, dict) else [],
        "issues": issues[:ISSUES_SHOWN_MAX],
        "issues_hidden": max(0, len(issues) - ISSUES_SHOWN_MAX),
        "limits": sorted((report.get("limits") or {}).items()),
    }


@dataclass(frozen=True)
class LogFile:
    path: str
    size: int
    tail_offset: int  # where the page starts reading: the last LOG_TAIL_BYTES


def log_files(ws: OpenWorkspace, run_id: str) -> list[LogFile]:
    """The run's logs, `logs/std_log.txt` (the job's own output) first."""
    found = {info.path: info.size for info in ws.artifacts.list(run_id, LOGS_FOLDER)}
    found.setdefault(STD_LOG, 0)  # not written yet: the page follows it from the start
    ordered = sorted(found, key=lambda path: (path != STD_LOG, path))
    return [LogFile(path, found[path], max(0, found[path] - LOG_TAIL_BYTES)) for path in ordered]


# Formatting (Jinja filters) -------------------------------------------------------------------


def format_duration(start: datetime | None, end: datetime | None = None) -> str:
    if start is None:
        return ""
    seconds = int(((end or datetime.now(UTC)) - start).total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def format_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def format_metric(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def format_time(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""
