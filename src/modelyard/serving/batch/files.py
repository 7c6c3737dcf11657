"""Which files of a data folder a batch-scoring job scores (no NumPy or Pillow needed here:
the submitting side checks a folder with this before any job exists)."""

from __future__ import annotations

from pathlib import Path


def list_data_files(data: Path) -> list[str]:
    """Every file under `data` (its subfolders too), as sorted relative POSIX paths; hidden
    files and folders (`.DS_Store`, `.git/`) are not data."""
    files = [
        path.relative_to(data).as_posix()
        for path in data.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(data).parts)
    ]
    return sorted(files)
