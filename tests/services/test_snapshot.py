"""Code snapshots: ignore files decide what is copied, limits are checked first, all or nothing."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from modelyard.errors import AlreadyExists, InvalidValue, LimitExceeded, NotFound
from modelyard.services import snapshot
from modelyard.services.snapshot import SnapshotSummary, snapshot_files, take_snapshot


def make_tree(root: Path, files: dict[str, str]) -> Path:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def copied(source: Path) -> list[str]:
    return [path.as_posix() for path in snapshot_files(source)]


def everything_below(root: Path) -> list[str]:
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "project", {"train.py": "print('train')\n"})


# Ignore rules ------------------------------------------------------------------------------


def test_without_ignore_files_everything_is_copied(project: Path) -> None:
    make_tree(project, {"lib/util.py": "", "data/labels.csv": "cat\n", ".env.example": ""})

    assert copied(project) == [".env.example", "data/labels.csv", "lib/util.py", "train.py"]


def test_the_root_gitignore_is_honoured_with_git_semantics(project: Path) -> None:
    make_tree(
        project,
        {
            ".gitignore": "*.log\n!keep.log\ndata/\n/build\n# a comment\n",
            "run.log": "",
            "keep.log": "",
            "lib/deep/debug.log": "",
            "data/images/cat.png": "",
            "lib/data/x.py": "",  # 'data/' matches folders at any depth
            "build/out.bin": "",
            "lib/build/y.py": "",  # '/build' is anchored to the root
        },
    )

    assert copied(project) == [".gitignore", "keep.log", "lib/build/y.py", "train.py"]


def test_nested_gitignore_files_apply_below_their_folder_and_override_parents(
    project: Path,
) -> None:
    make_tree(
        project,
        {
            ".gitignore": "*.csv\n",
            "a.tmp": "",
            "pkg/.gitignore": "*.tmp\n!important.csv\n/local.py\n",
            "pkg/a.tmp": "",
            "pkg/sub/b.tmp": "",
            "pkg/important.csv": "",
            "pkg/other.csv": "",
            "pkg/local.py": "",
            "pkg/sub/local.py": "",
            "other/important.csv": "",
        },
    )

    assert copied(project) == [
        ".gitignore",
        "a.tmp",
        "pkg/.gitignore",
        "pkg/important.csv",
        "pkg/sub/local.py",
        "train.py",
    ]


def test_nothing_inside_an_ignored_folder_can_be_brought_back(project: Path) -> None:
    make_tree(
        project,
        {
            ".gitignore": "cache/\n!cache/keep.txt\n",
            "cache/keep.txt": "",
            "cache/.gitignore": "!*\n",  # never read: git does not enter ignored folders
        },
    )

    assert copied(project) == [".gitignore", "train.py"]


def test_modelyardignore_replaces_every_gitignore(project: Path) -> None:
    make_tree(
        project,
        {
            ".modelyardignore": "data/\n",
            ".gitignore": "*.log\n",
            "pkg/.gitignore": "*.py\n",
            "run.log": "",
            "pkg/model.py": "",
            "data/big.bin": "",
        },
    )

    assert copied(project) == [
        ".gitignore",
        ".modelyardignore",
        "pkg/.gitignore",
        "pkg/model.py",
        "run.log",
        "train.py",
    ]


@pytest.mark.parametrize("ignore_file", [".gitignore", ".modelyardignore"])
def test_tool_folders_and_bytecode_are_always_skipped(project: Path, ignore_file: str) -> None:
    make_tree(
        project,
        {
            ignore_file: "!*.pyc\n!.venv/\n!__pycache__/\n",
            ".git/HEAD": "ref: refs/heads/main\n",
            ".venv/bin/python": "",
            ".modelyard/config.json": "{}",
            "__pycache__/train.cpython-311.pyc": "",
            "pkg/__pycache__/mod.cpython-311.pyc": "",
            "pkg/.venv/x": "",
            "pkg/stale.pyc": "",
            "pkg/mod.py": "",
        },
    )

    assert copied(project) == sorted([ignore_file, "pkg/mod.py", "train.py"])


def test_links_out_of_the_source_are_skipped_and_links_inside_are_copied(
    tmp_path: Path, project: Path
) -> None:
    outside = make_tree(tmp_path / "outside", {"secret.txt": "secret", "lib/x.py": ""})
    make_tree(project, {"lib/real.py": "real = 1\n"})
    (project / "leak.txt").symlink_to(outside / "secret.txt")
    (project / "outside_lib").symlink_to(outside / "lib", target_is_directory=True)
    (project / "alias.py").symlink_to(project / "lib" / "real.py")
    (project / "lib_alias").symlink_to(project / "lib", target_is_directory=True)
    (project / "dangling.py").symlink_to(project / "missing.py")

    summary = take_snapshot(project, tmp_path / "snapshot")

    assert summary.paths == ("alias.py", "lib/real.py", "train.py")
    assert (tmp_path / "snapshot" / "alias.py").read_text() == "real = 1\n"
    assert not (tmp_path / "snapshot" / "alias.py").is_symlink()


# Taking the snapshot -----------------------------------------------------------------------


def test_a_snapshot_copies_the_files_and_summarises_them(tmp_path: Path, project: Path) -> None:
    make_tree(project, {"lib/util.py": "x = 1\n", ".gitignore": "*.log\n", "run.log": "log"})
    (project / "train.py").chmod(0o755)
    destination = tmp_path / "staging" / "abc" / "snapshot"

    summary = take_snapshot(project, destination)

    assert summary == SnapshotSummary(
        files=3,
        bytes=len("print('train')\n") + len("x = 1\n") + len("*.log\n"),
        paths=(".gitignore", "lib/util.py", "train.py"),
    )
    assert everything_below(destination) == [".gitignore", "lib", "lib/util.py", "train.py"]
    assert (destination / "lib" / "util.py").read_text() == "x = 1\n"
    assert os.access(destination / "train.py", os.X_OK)
    assert [path.name for path in destination.parent.iterdir()] == ["snapshot"]  # no temp left


def test_snapshot_files_matches_what_take_snapshot_copies(tmp_path: Path, project: Path) -> None:
    make_tree(project, {".gitignore": "out/\n", "out/x": "", "src/a.py": ""})

    summary = take_snapshot(project, tmp_path / "snapshot")

    assert tuple(copied(project)) == summary.paths == (".gitignore", "src/a.py", "train.py")


def test_too_many_files_is_refused_before_anything_is_copied(
    tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "SNAPSHOT_FILES_MAX", 2)
    make_tree(project, {"a.py": "", "b.py": "", ".gitignore": "ignored/\n", "ignored/c.py": ""})
    destination = tmp_path / "staging" / "snapshot"

    with pytest.raises(LimitExceeded) as caught:
        take_snapshot(project, destination)

    message = str(caught.value)
    assert "has 4 files, over the limit of 2" in message
    assert ".modelyardignore" in message
    assert "\n" not in message
    assert caught.value.context == {"files": 4, "limit": 2}
    assert not (tmp_path / "staging").exists()


def test_too_many_bytes_is_refused_before_anything_is_copied(
    tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "SNAPSHOT_BYTES_MAX", 100)
    make_tree(project, {"data/weights.bin": "w" * 200, ".modelyardignore": "*.ckpt\n"})
    destination = tmp_path / "snapshot"

    with pytest.raises(LimitExceeded) as caught:
        take_snapshot(project, destination)

    message = str(caught.value)
    assert "over the limit of 100 bytes" in message
    assert "'data/weights.bin'" in message  # the largest file, the likely culprit
    assert "add large files and data folders to .modelyardignore" in message
    assert not destination.exists()
    assert [path.name for path in tmp_path.iterdir()] == ["project"]


def test_ignored_files_do_not_count_towards_the_limits(
    tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "SNAPSHOT_BYTES_MAX", 100)
    monkeypatch.setattr(snapshot, "SNAPSHOT_FILES_MAX", 2)
    make_tree(project, {".gitignore": "data/\n", "data/a": "x" * 500, "data/b": "", "data/c": ""})

    summary = take_snapshot(project, tmp_path / "snapshot")

    assert summary.paths == (".gitignore", "train.py")


def test_a_copy_failing_midway_leaves_nothing(tmp_path: Path, project: Path) -> None:
    # A real failure without mocks: the source's deepest file fits the OS path limit, but its
    # copy under a longer destination folder does not, so the copy fails after 'a.py' is done.
    make_tree(project, {"a.py": "a = 1\n"})
    levels = (4000 - len(str(project))) // 201
    deep = project.joinpath(*["n" * 200] * levels)
    deep.mkdir(parents=True)
    (deep / "x.py").write_text("")
    destination_parent = tmp_path / ("d" * 250)
    destination_parent.mkdir()

    with pytest.raises(OSError) as caught:
        take_snapshot(project, destination_parent / "snapshot")

    assert caught.value.errno == errno.ENAMETOOLONG
    assert list(destination_parent.iterdir()) == []


def test_a_missing_source_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound) as caught:
        take_snapshot(tmp_path / "nowhere", tmp_path / "snapshot")
    assert "nowhere" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_file_as_source_is_invalid(tmp_path: Path, project: Path) -> None:
    with pytest.raises(InvalidValue) as caught:
        snapshot_files(project / "train.py")
    assert "train.py" in str(caught.value)


def test_an_existing_destination_is_refused_and_left_alone(tmp_path: Path, project: Path) -> None:
    destination = make_tree(tmp_path / "snapshot", {"old.py": "old"})

    with pytest.raises(AlreadyExists):
        take_snapshot(project, destination)

    assert everything_below(destination) == ["old.py"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["project", "snapshot"]
