"""A validation folder's images, compared with the training data's by content hash.

An image in both sets is validated on after being trained on: it inflates the validation
accuracy that picks the best epoch and stops training early, so it is left out of the
validation set (and counted). The same image under another label in the other set contradicts
itself: that is refused, naming both files, as nothing says which label is right. Paths don't
matter, only bytes: the same file copied into both folders is the same image.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from modelyard.errors import GuardrailFailed
from modelyard.vision.dataset import ImageRecord, fingerprint_from_hashes
from modelyard.vision.guardrails import GuardrailReport

_CONFLICTS_SHOWN = 3


@dataclass(frozen=True)
class HeldOutImages:
    """The validation images kept: none of them is an image of the training data."""

    records: list[ImageRecord]
    hashes: list[str]
    dropped: int  # images of the validation folder that the training data holds too

    def content_hash(self) -> str:
        pairs = zip((record.label for record in self.records), self.hashes, strict=True)
        return str(fingerprint_from_hashes(pairs)["content_hash"])


def held_out_images(
    training: GuardrailReport, validation: GuardrailReport, source: Path
) -> HeldOutImages:
    """The validation report's usable images that the training report's lack."""
    trained = _labels_by_hash(training)
    pairs = list(zip(validation.usable, validation.usable_hashes, strict=True))
    conflicts = [
        (record, trained[digest])
        for record, digest in pairs
        if digest in trained and record.label not in {r.label for r in trained[digest]}
    ]
    if conflicts:
        raise _conflicting_labels(conflicts)
    kept = [(record, digest) for record, digest in pairs if digest not in trained]
    if not kept:
        raise GuardrailFailed(
            f"validation data {str(source)!r} holds only images of the training data"
            f" ({len(pairs)} the same, by content): validate on images the model does not"
            " train on",
            errors=1,
        )
    records = [record for record, _ in kept]
    return HeldOutImages(records, [digest for _, digest in kept], len(pairs) - len(kept))


def combined_content_hash(training_hash: str, held_out: HeldOutImages) -> str:
    """One fingerprint of what a run trained and validated on: either set changed changes it."""
    both = {"training": training_hash, "validation": held_out.content_hash()}
    return hashlib.sha256(json.dumps(both, sort_keys=True).encode()).hexdigest()


def _labels_by_hash(report: GuardrailReport) -> dict[str, list[ImageRecord]]:
    found: defaultdict[str, list[ImageRecord]] = defaultdict(list)
    for record, digest in zip(report.usable, report.usable_hashes, strict=True):
        found[digest].append(record)
    return found


def _conflicting_labels(
    conflicts: list[tuple[ImageRecord, list[ImageRecord]]],
) -> GuardrailFailed:
    shown = "; ".join(
        f"{str(record.path)!r} ({record.label!r}) is"
        f" {' and '.join(f'{str(r.path)!r} ({r.label!r})' for r in trained)}"
        for record, trained in conflicts[:_CONFLICTS_SHOWN]
    )
    more = len(conflicts) - _CONFLICTS_SHOWN
    tail = f" and {more} more" if more > 0 else ""
    return GuardrailFailed(
        f"the same image is labelled differently in the validation and training data:"
        f" {shown}{tail}: keep each image under one label only",
        errors=len(conflicts),
    )
