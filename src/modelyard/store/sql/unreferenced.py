"""Removing blobs that no row names any more: the model registry's files (`model_files`) and
the jobs uploaded with schedules (`schedules.job_sha256`) live in content-keyed blob stores,
where a new row may name a blob that is about to be removed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session


def remove_unreferenced(
    session: Session, column: Any, shas: Sequence[str], remove: Callable[[str], None]
) -> list[str]:
    """Call `remove` for each of `shas` that no row's `column` holds; the SHA-256s it was
    called for. The caller holds the lock under which a new row checks its blob is there
    (so none appears unseen between the read and the removal)."""
    used = set(session.scalars(select(column).where(column.in_(shas))))
    unused = [sha for sha in shas if sha not in used]
    for sha in unused:
        remove(sha)
    return unused
