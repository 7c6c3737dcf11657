"""Checks on an image data set before any training starts, as Model Builder does.

Errors stop the run: no images, fewer than two classes, a class with fewer than two usable
images, more than 10 % of the files unusable. Warnings do not: each unusable file (listed one by
one and skipped), small classes, a class imbalance over 10:1, the same image under two labels,
and whatever the folder scan skipped (symlink loops, empty label folders).

Every image is decoded once, one at a time, and dropped straight away: a data set larger than
memory is fine. With a `VerdictCache` (the workspace's `cache/guardrails/`), what decoding found
is kept by the file's content hash, so a later run on the same bytes hashes them and skips the
decoding, by far the larger cost.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import PIL

from modelyard.entities import limits as limits_table
from modelyard.fileio import write_bytes_atomic, write_json_atomic
from modelyard.vision.dataset import (
    IMAGE_FORMATS,
    MAX_IMAGE_PIXELS,
    ImageRecord,
    ImageUnreadable,
    SkippedPath,
    content_hash,
    decode_image,
    fingerprint_from_hashes,
)

GUARDRAILS_FILE: Final = "guardrails.json"  # the report, as a run artifact under outputs/
MIN_CLASSES: Final = limits_table.IMAGE_CLASSES_MIN
MIN_IMAGES_PER_CLASS: Final = limits_table.IMAGES_PER_CLASS_MIN
FEW_IMAGES_PER_CLASS: Final = limits_table.IMAGES_PER_CLASS_FEW
MAX_BAD_FILE_PERCENT: Final = limits_table.BAD_IMAGE_FILES_PERCENT_MAX
MAX_IMBALANCE_RATIO: Final = limits_table.CLASS_IMBALANCE_RATIO_MAX
_SUMMARY_ITEMS: Final = 3
# Bump when decode_image checks something new: every cached verdict is then decided again.
# 2: a file cut inside a JPEG header is "truncated", no longer "corrupt".
VERDICT_CACHE_VERSION: Final = 2
# Reasons that describe the file system at that moment, not the bytes: never cached.
_TRANSIENT_REASONS: Final = frozenset({"missing", "unreadable"})


@dataclass(frozen=True)
class GuardrailIssue:
    """One finding; `detail` names the problem and the values, `fix` says what to do."""

    kind: str
    path: str | None
    label: str | None
    detail: str
    fix: str = ""

    @property
    def message(self) -> str:
        return f"{self.detail}; fix: {self.fix}" if self.fix else self.detail


@dataclass(frozen=True)
class GuardrailReport:
    passed: bool
    errors: list[GuardrailIssue]
    warnings: list[GuardrailIssue]
    usable: list[ImageRecord]  # records that decoded fine, in the order given
    class_counts: dict[str, int]  # usable images per label (0 for a label with none usable)
    file_count: int = 0
    fingerprint: dict[str, Any] = field(default_factory=dict)  # of the usable records
    usable_hashes: list[str] = field(default_factory=list)  # content hash per usable record

    @property
    def bad_file_count(self) -> int:
        return sum(1 for issue in self.warnings if issue.kind == "unreadable")

    def to_dict(self) -> dict[str, Any]:
        """The guardrails.json run artifact (usable records are counted, not listed)."""
        return {
            "passed": self.passed,
            "summary": self.summary_line(),
            "file_count": self.file_count,
            "usable_count": len(self.usable),
            "bad_file_count": self.bad_file_count,
            "class_counts": dict(self.class_counts),
            "errors": [_issue_dict(issue) for issue in self.errors],
            "warnings": [_issue_dict(issue) for issue in self.warnings],
            "fingerprint": dict(self.fingerprint),
            "limits": limits(),
        }

    def summary_line(self) -> str:
        if not self.passed:
            return _failed_line(self.errors)
        line = (
            f"guardrails passed: {len(self.usable)} usable images in "
            f"{len(self.class_counts)} classes"
        )
        if not self.warnings:
            return line
        kinds = Counter(issue.kind for issue in self.warnings)
        listed = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
        return f"{line}; {_plural(len(self.warnings), 'warning')} ({listed}), see guardrails.json"


def limits() -> dict[str, int]:
    return {
        "min_classes": MIN_CLASSES,
        "min_images_per_class": MIN_IMAGES_PER_CLASS,
        "few_images_per_class": FEW_IMAGES_PER_CLASS,
        "max_bad_file_percent": MAX_BAD_FILE_PERCENT,
        "max_imbalance_ratio": MAX_IMBALANCE_RATIO,
    }


def write_report(report: GuardrailReport, path: Path) -> None:
    write_json_atomic(path, report.to_dict())


def check_dataset(
    records: Sequence[ImageRecord],
    skipped: Iterable[SkippedPath] = (),
    verdicts: VerdictCache | None = None,
) -> GuardrailReport:
    """Decode every record once (unless `verdicts` knows its bytes) and apply the rules.

    `skipped` comes from a folder scan.
    """
    notes = [_skipped_issue(item) for item in skipped]
    if not records:
        return GuardrailReport(False, [_empty_dataset()], notes, [], {}, 0, {})
    usable, hashes, bad = _decode_all(records, verdicts)
    counts = _class_counts(records, usable)
    errors = [
        *_too_few_classes(counts),
        *_too_few_images(records, counts),
        *_too_many_bad_files(len(bad), len(records)),
    ]
    warnings = [
        *notes,
        *bad,
        *_few_images(counts),
        *_imbalance(counts),
        *_conflicting_labels(usable, hashes),
    ]
    fingerprint = fingerprint_from_hashes(zip((r.label for r in usable), hashes, strict=True))
    return GuardrailReport(
        not errors, errors, warnings, usable, counts, len(records), fingerprint, hashes
    )


# --- decoding --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecodeVerdict:
    """What decoding one file found: usable, or ImageUnreadable's reason and detail."""

    reason: str | None = None  # None: the file decoded fine
    detail: str = ""

    @property
    def usable(self) -> bool:
        return self.reason is None


class VerdictCache:
    """Decode verdicts by content hash, one small JSON file each, shared by every run.

    The same bytes decode the same way with the same decoder and limits, so those are in the
    folder's key; an entry that cannot be read is decided again, never trusted or fatal.
    """

    def __init__(self, root: Path) -> None:
        self.folder = Path(root) / verdict_cache_key()
        self.hits = 0

    def get(self, digest: str) -> DecodeVerdict | None:
        try:
            verdict = _verdict_from_json(json.loads(self._path(digest).read_bytes()))
        except (OSError, ValueError):
            return None
        if verdict is not None:
            self.hits += 1
        return verdict

    def put(self, digest: str, verdict: DecodeVerdict) -> None:
        entry = {"reason": verdict.reason, "detail": verdict.detail}
        write_bytes_atomic(self._path(digest), json.dumps(entry).encode(), durable=False)

    def _path(self, digest: str) -> Path:
        return self.folder / digest[:2] / f"{digest}.json"


def verdict_cache_key() -> str:
    # A newer Pillow may decode what an older one refused, and the other way round.
    payload = {
        "version": VERDICT_CACHE_VERSION,
        "pillow": PIL.__version__,
        "max_pixels": MAX_IMAGE_PIXELS,
        "formats": IMAGE_FORMATS,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _verdict_from_json(entry: Any) -> DecodeVerdict | None:
    if not isinstance(entry, dict):
        return None
    reason, detail = entry.get("reason"), entry.get("detail")
    if not (reason is None or isinstance(reason, str)) or not isinstance(detail, str):
        return None
    return DecodeVerdict(reason, detail)


def _decode_all(
    records: Sequence[ImageRecord], verdicts: VerdictCache | None
) -> tuple[list[ImageRecord], list[str], list[GuardrailIssue]]:
    usable: list[ImageRecord] = []
    hashes: list[str] = []
    bad: list[GuardrailIssue] = []
    for record in records:
        digest, verdict = _hash_and_verdict(record.path, verdicts)
        if digest is not None and verdict.usable:
            usable.append(record)
            hashes.append(digest)
        else:
            bad.append(_unreadable(record, verdict.reason or "unreadable", verdict.detail))
    return usable, hashes, bad


def _hash_and_verdict(
    path: Path, verdicts: VerdictCache | None
) -> tuple[str | None, DecodeVerdict]:
    """The file's content hash (None when it can't be read) and what decoding it finds."""
    try:
        digest = content_hash(path)
    except OSError as error:
        verdict = _decode(path)  # says why: missing, a folder, no permission...
        if verdict.usable:  # readable again by now: it changed while we looked
            verdict = DecodeVerdict("unreadable", f"cannot read: {error}")
        return None, verdict
    cached = verdicts.get(digest) if verdicts is not None else None
    if cached is not None:
        return digest, cached
    verdict = _decode(path)
    if verdicts is not None and verdict.reason not in _TRANSIENT_REASONS:
        verdicts.put(digest, verdict)
    return digest, verdict


def _decode(path: Path) -> DecodeVerdict:
    try:
        decode_image(path).close()
    except ImageUnreadable as error:
        return DecodeVerdict(error.reason, error.detail)
    return DecodeVerdict()


def _unreadable(record: ImageRecord, reason: str, detail: str) -> GuardrailIssue:
    return _issue(
        "unreadable",
        f"{reason}: {str(record.path)!r} (label {record.label!r}): {detail}; skipped it",
        f"replace or remove {str(record.path)!r}",
        path=record.path,
        label=record.label,
    )


def _class_counts(records: Sequence[ImageRecord], usable: list[ImageRecord]) -> dict[str, int]:
    counts = Counter(record.label for record in usable)
    return {label: counts[label] for label in sorted({record.label for record in records})}


# --- errors ----------------------------------------------------------------------------------


def _empty_dataset() -> GuardrailIssue:
    return _issue(
        "empty_dataset",
        "the data set has no images",
        "pass a folder with one sub-folder per label holding JPEG, PNG, BMP, GIF or WebP "
        "images, or a CSV/TSV table with ImageSource,Label rows",
    )


def _too_few_classes(counts: dict[str, int]) -> list[GuardrailIssue]:
    if len(counts) >= MIN_CLASSES:
        return []
    (label,) = counts
    return [
        _issue(
            "too_few_classes",
            f"one class only: {label!r} (image classification needs at least {MIN_CLASSES})",
            "add a second label folder (or Label value) with images of another class",
            label=label,
        )
    ]


def _too_few_images(records: Sequence[ImageRecord], counts: dict[str, int]) -> list[GuardrailIssue]:
    files = Counter(record.label for record in records)
    return [
        _issue(
            "too_few_images",
            f"class {label!r} has {_plural(count, 'usable image')} (of "
            f"{_plural(files[label], 'file')}), needs at least {MIN_IMAGES_PER_CLASS}",
            f"add images to class {label!r} or remove it",
            label=label,
        )
        for label, count in counts.items()
        if count < MIN_IMAGES_PER_CLASS
    ]


def _too_many_bad_files(bad: int, total: int) -> list[GuardrailIssue]:
    if bad * 100 <= MAX_BAD_FILE_PERCENT * total:
        return []
    return [
        _issue(
            "too_many_bad_files",
            f"{bad} of {total} files ({bad * 100 / total:.0f} %) are unusable, over the "
            f"{MAX_BAD_FILE_PERCENT} % limit",
            "replace or remove the files listed as unreadable in guardrails.json",
        )
    ]


# --- warnings --------------------------------------------------------------------------------


def _skipped_issue(item: SkippedPath) -> GuardrailIssue:
    detail, _, fix = item.detail.partition("; fix: ")
    return _issue(item.reason, detail, fix, path=item.path)


def _few_images(counts: dict[str, int]) -> list[GuardrailIssue]:
    return [
        _issue(
            "few_images",
            f"class {label!r} has only {_plural(count, 'usable image')}; fewer than "
            f"{FEW_IMAGES_PER_CLASS} often trains poorly",
            f"add more images to class {label!r}",
            label=label,
        )
        for label, count in counts.items()
        if MIN_IMAGES_PER_CLASS <= count < FEW_IMAGES_PER_CLASS
    ]


def _imbalance(counts: dict[str, int]) -> list[GuardrailIssue]:
    present = {label: count for label, count in counts.items() if count > 0}
    if len(present) < MIN_CLASSES:
        return []
    largest = max(present, key=lambda label: present[label])
    smallest = min(present, key=lambda label: present[label])
    ratio = present[largest] / present[smallest]
    if ratio <= MAX_IMBALANCE_RATIO:
        return []
    return [
        _issue(
            "imbalance",
            f"classes are imbalanced: {largest!r} has {present[largest]} images, {smallest!r} "
            f"has {present[smallest]} ({ratio:.0f}:1, over {MAX_IMBALANCE_RATIO}:1)",
            "add images to the smaller classes or use fewer of the larger ones",
        )
    ]


def _conflicting_labels(usable: list[ImageRecord], hashes: list[str]) -> list[GuardrailIssue]:
    by_hash: defaultdict[str, list[ImageRecord]] = defaultdict(list)
    for record, digest in zip(usable, hashes, strict=True):
        by_hash[digest].append(record)
    return [
        _conflict(same) for same in by_hash.values() if len({record.label for record in same}) > 1
    ]


def _conflict(same: list[ImageRecord]) -> GuardrailIssue:
    labels = sorted({record.label for record in same})
    paths = ", ".join(f"{str(record.path)!r} ({record.label!r})" for record in same)
    return _issue(
        "conflicting_labels",
        f"the same image is labelled {' and '.join(map(repr, labels))}: {paths}",
        "keep the image under one label only",
        path=same[0].path,
    )


# --- helpers ---------------------------------------------------------------------------------


def _issue(
    kind: str,
    detail: str,
    fix: str,
    path: Path | str | None = None,
    label: str | None = None,
) -> GuardrailIssue:
    # A decoder's message may span lines; a finding is one line.
    return GuardrailIssue(
        kind,
        None if path is None else str(path),
        label,
        " ".join(detail.splitlines()),
        " ".join(fix.splitlines()),
    )


def _issue_dict(issue: GuardrailIssue) -> dict[str, Any]:
    return {**asdict(issue), "message": issue.message}


def _failed_line(errors: list[GuardrailIssue]) -> str:
    shown = [issue.detail for issue in errors[:_SUMMARY_ITEMS]]
    if len(errors) > _SUMMARY_ITEMS:
        shown.append(f"{len(errors) - _SUMMARY_ITEMS} more")
    fixes = list(dict.fromkeys(issue.fix for issue in errors if issue.fix))[:_SUMMARY_ITEMS]
    line = f"guardrails failed: {_plural(len(errors), 'error')} ({'; '.join(shown)})"
    return f"{line}; fix: {'; '.join(fixes)}" if fixes else line


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
