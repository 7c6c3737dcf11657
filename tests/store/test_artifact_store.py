"""ArtifactStore: no spelling of a path leaves the run folder, and every write is all or nothing."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from modelyard.entities.limits import ARTIFACT_PATH_MAX
from modelyard.errors import (
    Conflict,
    InvalidValue,
    LimitExceeded,
    ModelyardError,
    NotFound,
    UnsafePath,
)
from modelyard.store.artifacts import CHUNK_SIZE, ArtifactInfo, ArtifactStore, safe_relative_path

RUN = "run-1"

ATTACKS = {
    "absolute": "/etc/passwd",
    "parent": "../x",
    "parent deep": "outputs/../../x",
    "parent at the end": "outputs/..",
    "parent alone": "..",
    "backslash": "outputs\\..\\x",
    "backslash parent": "..\\x",
    "drive relative": "C:x",
    "drive absolute": "c:/x",
    "drive backslash": "C:\\x",
    "nul": "outputs/a\x00b",
    "newline": "outputs/a\nb",
    "escape character": "a\x1bb",
    "delete character": "a\x7f",
    "c1 control": "a\x85b",
    "file uri": "file:///etc/passwd",
    "file uri relative": "file:x",
    "s3 uri": "s3://bucket/key",
    "http uri": "http://host/x",
    "dot segment": "./x",
    "inner dot segment": "a/./b",
    "dot alone": ".",
    "dots and spaces": ".. /x",
    "fullwidth parent": "．．／x",
    "reserved temp name": "outputs/.tmp-123",
}

MIXED_ENCODINGS = {
    "encoded slash only": "..%2fx",
    "encoded dots only": "%2e%2e/x",
    "half encoded dots": "%2e./x",
    "encoded deep": "outputs/%2e%2e/%2e%2e/x",
    "encoded backslash": "..%5cx",
    "encoded colon": "c%3a/x",
    "encoded nul": "a%00b",
    "nested encoding": "%%32%65%%32%65/x",
    "overlong utf-8 dot": "%c0%ae%c0%ae/x",
    "iis unicode escape": "%u002e%u002e/x",
    "fullwidth percent": "％2e％2e/x",
    "triple encoded": "%25252e%25252e/x",
    # Harmless once decoded, refused anyway: a later decoder must never see a new separator.
    "encoded slash in a name": "outputs%2fmodel.onnx",
    "encoded dot in a name": "model%2Eonnx",
    "double encoded slash in a name": "outputs%252fmodel.onnx",
}


def percent_encoded(text: str, upper: bool = False) -> str:
    """Every character but ASCII letters and digits as %xx of its UTF-8 bytes."""
    hex_format = "%{:02X}" if upper else "%{:02x}"
    return "".join(
        character
        if character.isascii() and character.isalnum()
        else "".join(hex_format.format(byte) for byte in character.encode("utf-8"))
        for character in text
    )


def double_encoded(text: str) -> str:
    return percent_encoded(text).replace("%", "%25")


def every_spelling() -> list[Any]:
    spellings = [pytest.param(attack, id=name) for name, attack in MIXED_ENCODINGS.items()]
    for name, attack in ATTACKS.items():
        spellings += [
            pytest.param(attack, id=name),
            pytest.param(percent_encoded(attack), id=f"{name}, encoded"),
            pytest.param(percent_encoded(attack, upper=True), id=f"{name}, ENCODED"),
            pytest.param(double_encoded(attack), id=f"{name}, double encoded"),
        ]
    return spellings


def tree_state(root: Path) -> dict[str, tuple[str, ...]]:
    """Everything below `root`, links not followed: the thing a refused call must not change."""
    state: dict[str, tuple[str, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            key = path.relative_to(root).as_posix()
            if path.is_symlink():
                state[key] = ("link", os.readlink(path))
            elif path.is_dir():
                state[key] = ("folder",)
            else:
                state[key] = ("file", path.read_bytes().hex())
    return state


def temp_files_below(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.name.startswith(".tmp-")]


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "artifacts")


@pytest.fixture
def run_root(store: ArtifactStore) -> Path:
    root = store.run_root(RUN)
    root.mkdir(parents=True)
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_bytes(b"secret")
    return folder


# Paths -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("outputs/model.onnx", "outputs/model.onnx"),
        ("outputs/", "outputs"),
        ("outputs//logs///train.log", "outputs/logs/train.log"),
        (".hidden", ".hidden"),
        ("..hidden/v1.2/model..bin", "..hidden/v1.2/model..bin"),
        ("résumé €.txt", "résumé €.txt"),
        ("100%", "100%"),
        ("50%25 done/%41", "50%25 done/%41"),
        ("%E2%82%AC.txt", "%E2%82%AC.txt"),
        ("/".join(["a" * 204] * 5), None),  # exactly ARTIFACT_PATH_MAX characters
    ],
)
def test_safe_paths_are_kept_with_only_slashes_normalised(path: str, expected: str | None) -> None:
    assert len("/".join(["a" * 204] * 5)) == ARTIFACT_PATH_MAX
    assert safe_relative_path(path) == (expected or path)


@pytest.mark.parametrize("path", every_spelling())
def test_every_spelling_of_a_path_out_of_the_run_is_refused(path: str) -> None:
    with pytest.raises(UnsafePath) as caught:
        safe_relative_path(path)

    message = str(caught.value)
    assert message.startswith(f"unsafe artifact path {path!r}: ")
    assert "\n" not in message
    assert "like 'outputs/" in message  # the fix
    assert caught.value.context == {"path": path}


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("", id="empty"),
        pytest.param("x" * (ARTIFACT_PATH_MAX + 1), id="too long"),
        pytest.param("outputs/" + "n" * 256, id="name over 255 bytes"),
        pytest.param("a\udcff", id="lone surrogate"),
        pytest.param("%" + "25" * 9 + "41", id="encoded too many times"),
    ],
)
def test_empty_long_and_malformed_paths_are_refused(path: str) -> None:
    with pytest.raises(UnsafePath) as caught:
        safe_relative_path(path)
    assert "\n" not in str(caught.value)
    assert len(str(caught.value)) < 400  # a hostile path cannot flood the message


def test_the_message_names_the_problem_the_value_and_the_fix() -> None:
    with pytest.raises(UnsafePath) as caught:
        safe_relative_path("../x")
    assert str(caught.value) == (
        "unsafe artifact path '../x': '..' segments leave the run folder;"
        " use a path relative to the run, like 'outputs/model.onnx'"
    )


@pytest.fixture
def populated(tmp_path: Path, store: ArtifactStore, run_root: Path) -> dict[str, Path]:
    """A run with one artifact, a file and a folder to upload, a folder to download into."""
    (run_root / "outputs").mkdir()
    (run_root / "outputs" / "existing.txt").write_bytes(b"existing")
    source = tmp_path / "source"
    (source / "folder").mkdir(parents=True)
    (source / "model.bin").write_bytes(b"model")
    (source / "folder" / "a.txt").write_bytes(b"a")
    destination = tmp_path / "destination"
    destination.mkdir()
    return {"file": source / "model.bin", "folder": source / "folder", "into": destination}


def every_use_of_a_path(
    store: ArtifactStore, files: dict[str, Path]
) -> dict[str, Callable[[str], object]]:
    return {
        "put_bytes": lambda path: store.put_bytes(RUN, path, b"x"),
        "put_stream": lambda path: store.put_stream(RUN, path, [b"x"], max_bytes=10),
        "put_file": lambda path: store.put_file(RUN, path, files["file"]),
        "put_folder": lambda path: store.put_folder(RUN, path, files["folder"]),
        "local_path": lambda path: store.local_path(RUN, path),
        "open_read": lambda path: store.open_read(RUN, path),
        "download": lambda path: store.download(RUN, path, files["into"]),
        "download_folder": lambda path: store.download_folder(RUN, path, files["into"]),
        "list": lambda path: store.list(RUN, path),
    }


@pytest.mark.parametrize("path", every_spelling())
def test_every_store_call_refuses_the_path_and_writes_nothing(
    tmp_path: Path, store: ArtifactStore, populated: dict[str, Path], path: str
) -> None:
    before = tree_state(tmp_path)

    for name, use in every_use_of_a_path(store, populated).items():
        with pytest.raises(UnsafePath):
            use(path)
        assert tree_state(tmp_path) == before, name


def test_an_empty_path_is_refused_where_it_names_a_file(
    tmp_path: Path, store: ArtifactStore, populated: dict[str, Path]
) -> None:
    before = tree_state(tmp_path)
    uses = every_use_of_a_path(store, populated)

    for name in ("put_bytes", "put_stream", "put_file", "local_path", "open_read", "download"):
        with pytest.raises(UnsafePath):
            uses[name]("")
        assert tree_state(tmp_path) == before, name


@pytest.mark.parametrize(
    "run_id",
    [
        "",
        "..",
        ".",
        "../other",
        "a/b",
        "a\\b",
        "a b",
        "run\x00",
        "run%2f..",
        "C:",
        "rün",
        "r" * 129,
    ],
)
def test_run_ids_that_are_not_plain_names_are_refused(
    tmp_path: Path, store: ArtifactStore, run_id: str
) -> None:
    before = tree_state(tmp_path)

    with pytest.raises(UnsafePath) as caught:
        store.put_bytes(run_id, "outputs/x", b"x")
    with pytest.raises(UnsafePath):
        store.list(run_id)
    with pytest.raises(UnsafePath):
        store.delete_run(run_id)

    assert "\n" not in str(caught.value)
    assert tree_state(tmp_path) == before


# Symbolic links ----------------------------------------------------------------------------


def test_writing_through_a_link_out_of_the_run_is_refused(
    tmp_path: Path, store: ArtifactStore, run_root: Path, outside: Path
) -> None:
    (run_root / "outputs").symlink_to(outside, target_is_directory=True)
    source = tmp_path / "model.bin"
    source.write_bytes(b"model")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"a")
    before = tree_state(tmp_path)

    writes: list[Callable[[], object]] = [
        lambda: store.put_bytes(RUN, "outputs/planted.txt", b"x"),
        lambda: store.put_bytes(RUN, "outputs/deeper/planted.txt", b"x"),
        lambda: store.put_bytes(RUN, "outputs/secret.txt", b"overwritten"),
        lambda: store.put_stream(RUN, "outputs/planted.txt", [b"x"]),
        lambda: store.put_file(RUN, "outputs/planted.txt", source),
        lambda: store.put_folder(RUN, "outputs", folder),
    ]
    for write in writes:
        with pytest.raises(UnsafePath) as caught:
            write()
        assert "symbolic link" in str(caught.value)
        assert tree_state(tmp_path) == before
    assert sorted(os.listdir(outside)) == ["secret.txt"]


def test_reading_through_a_link_out_of_the_run_is_refused(
    tmp_path: Path, store: ArtifactStore, run_root: Path, outside: Path
) -> None:
    (run_root / "outputs").symlink_to(outside, target_is_directory=True)
    (run_root / "leak.txt").symlink_to(outside / "secret.txt")
    into = tmp_path / "into"
    into.mkdir()

    reads: list[Callable[[], object]] = [
        lambda: store.open_read(RUN, "outputs/secret.txt"),
        lambda: store.open_read(RUN, "leak.txt"),
        lambda: store.local_path(RUN, "outputs/secret.txt"),
        lambda: store.download(RUN, "leak.txt", into),
        lambda: store.download_folder(RUN, "outputs", into),
        lambda: store.list(RUN, "outputs"),
    ]
    for read in reads:
        with pytest.raises(UnsafePath):
            read()
    assert list(into.iterdir()) == []


def test_a_file_link_out_of_the_run_is_not_written_through(
    store: ArtifactStore, run_root: Path, outside: Path
) -> None:
    (run_root / "model.bin").symlink_to(outside / "secret.txt")

    with pytest.raises(UnsafePath):
        store.put_bytes(RUN, "model.bin", b"overwritten")

    assert (outside / "secret.txt").read_bytes() == b"secret"


def test_list_never_follows_links(store: ArtifactStore, run_root: Path, outside: Path) -> None:
    store.put_bytes(RUN, "outputs/model.bin", b"model")
    (run_root / "outputs" / "elsewhere").symlink_to(outside, target_is_directory=True)
    (run_root / "outputs" / "leak.txt").symlink_to(outside / "secret.txt")
    (run_root / "outputs" / "alias.bin").symlink_to(run_root / "outputs" / "model.bin")

    assert store.list(RUN) == [ArtifactInfo("outputs/model.bin", 5)]


def test_a_link_loop_is_refused_without_writing(
    tmp_path: Path, store: ArtifactStore, run_root: Path
) -> None:
    (run_root / "loop").symlink_to(run_root / "loop")
    before = tree_state(tmp_path)

    with pytest.raises(ModelyardError):
        store.put_bytes(RUN, "loop/x", b"x")
    with pytest.raises(ModelyardError):
        store.open_read(RUN, "loop/x")

    assert tree_state(tmp_path) == before


def test_put_file_refuses_a_source_linking_out_of_its_folder(
    tmp_path: Path, store: ArtifactStore, outside: Path
) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "model.bin").symlink_to(outside / "secret.txt")
    before = tree_state(tmp_path)

    with pytest.raises(UnsafePath) as caught:
        store.put_file(RUN, "outputs/model.bin", uploads / "model.bin")

    assert "symbolic link" in str(caught.value)
    assert tree_state(tmp_path) == before


def test_put_file_follows_a_source_link_inside_its_folder(
    tmp_path: Path, store: ArtifactStore
) -> None:
    uploads = tmp_path / "uploads"
    (uploads / "checkpoints").mkdir(parents=True)
    (uploads / "checkpoints" / "epoch-3.pt").write_bytes(b"weights")
    (uploads / "best.pt").symlink_to(uploads / "checkpoints" / "epoch-3.pt")

    info = store.put_file(RUN, "outputs/best.pt", uploads / "best.pt")

    assert info == ArtifactInfo("outputs/best.pt", 7)
    assert not store.local_path(RUN, "outputs/best.pt").is_symlink()


def test_put_folder_skips_links_out_of_the_folder_and_copies_links_inside(
    tmp_path: Path, store: ArtifactStore, outside: Path
) -> None:
    folder = tmp_path / "outputs"
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "checkpoints" / "epoch-3.pt").write_bytes(b"weights")
    (folder / "best.pt").symlink_to(folder / "checkpoints" / "epoch-3.pt")
    (folder / "leak.txt").symlink_to(outside / "secret.txt")
    (folder / "elsewhere").symlink_to(outside, target_is_directory=True)
    (folder / "dangling").symlink_to(folder / "missing")

    infos = store.put_folder(RUN, "outputs", folder)

    assert infos == [
        ArtifactInfo("outputs/best.pt", 7),
        ArtifactInfo("outputs/checkpoints/epoch-3.pt", 7),
    ]
    assert store.list(RUN) == infos
    uploaded = store.run_root(RUN)
    assert all(b"secret" not in path.read_bytes() for path in uploaded.rglob("*") if path.is_file())


# Atomic writes -----------------------------------------------------------------------------


def chunks_then_failure() -> Iterator[bytes]:
    yield b"a" * 1000
    yield b"b" * 1000
    raise ConnectionError("client went away")


def test_a_stream_that_fails_midway_leaves_no_file_no_temp_and_no_folder(
    tmp_path: Path, store: ArtifactStore
) -> None:
    before = tree_state(tmp_path)

    with pytest.raises(ConnectionError):
        store.put_stream(RUN, "outputs/deep/model.bin", chunks_then_failure())

    assert tree_state(tmp_path) == before
    assert temp_files_below(tmp_path) == []


def test_a_failed_overwrite_keeps_the_old_content(store: ArtifactStore) -> None:
    store.put_bytes(RUN, "outputs/model.bin", b"version 1")

    with pytest.raises(ConnectionError):
        store.put_stream(RUN, "outputs/model.bin", chunks_then_failure())

    with store.open_read(RUN, "outputs/model.bin") as handle:
        assert handle.read() == b"version 1"
    assert temp_files_below(store.root) == []


def test_a_stream_over_max_bytes_is_refused_and_leaves_nothing(
    tmp_path: Path, store: ArtifactStore
) -> None:
    before = tree_state(tmp_path)

    with pytest.raises(LimitExceeded) as caught:
        store.put_stream(RUN, "outputs/big.bin", [b"12345", b"678901"], max_bytes=10)

    assert "'outputs/big.bin'" in str(caught.value)
    assert "10 bytes" in str(caught.value)
    assert caught.value.context == {"path": "outputs/big.bin", "limit": 10}
    assert tree_state(tmp_path) == before


def test_a_stream_of_exactly_max_bytes_is_accepted(store: ArtifactStore) -> None:
    info = store.put_stream(RUN, "outputs/fits.bin", [b"12345", b"67890"], max_bytes=10)
    assert info == ArtifactInfo("outputs/fits.bin", 10)


def test_leftover_temp_files_are_not_listed(store: ArtifactStore, run_root: Path) -> None:
    store.put_bytes(RUN, "outputs/model.bin", b"model")
    (run_root / "outputs" / ".tmp-4f2a").write_bytes(b"half a mod")
    (run_root / ".tmp-9c1b").mkdir()
    (run_root / ".tmp-9c1b" / "x").write_bytes(b"x")

    assert store.list(RUN) == [ArtifactInfo("outputs/model.bin", 5)]


def test_writing_where_a_folder_is_raises_conflict(store: ArtifactStore) -> None:
    store.put_bytes(RUN, "outputs/model.bin", b"model")

    with pytest.raises(Conflict):
        store.put_bytes(RUN, "outputs", b"x")
    with pytest.raises(Conflict):
        store.put_bytes(RUN, "outputs/model.bin/weights", b"x")

    assert store.list(RUN) == [ArtifactInfo("outputs/model.bin", 5)]


# Round trips -------------------------------------------------------------------------------


def test_bytes_round_trip_with_the_normalised_path(store: ArtifactStore) -> None:
    info = store.put_bytes(RUN, "outputs//metrics.json", b'{"acc": 0.9}')

    assert info == ArtifactInfo("outputs/metrics.json", 12)
    with store.open_read(RUN, "outputs/metrics.json") as handle:
        assert handle.read() == b'{"acc": 0.9}'


def test_a_file_larger_than_one_chunk_round_trips(tmp_path: Path, store: ArtifactStore) -> None:
    content = os.urandom(2 * CHUNK_SIZE + 123)
    source = tmp_path / "weights.bin"
    source.write_bytes(content)

    info = store.put_file(RUN, "outputs/weights.bin", source)
    downloaded = store.download(RUN, "outputs/weights.bin", tmp_path / "back" / "w.bin")

    assert info == ArtifactInfo("outputs/weights.bin", len(content))
    assert downloaded == tmp_path / "back" / "w.bin"
    assert downloaded.read_bytes() == content


def test_download_into_an_existing_folder_keeps_the_name(
    tmp_path: Path, store: ArtifactStore
) -> None:
    store.put_bytes(RUN, "outputs/model.onnx", b"onnx")
    into = tmp_path / "into"
    into.mkdir()
    (into / "model.onnx").write_bytes(b"old")

    downloaded = store.download(RUN, "outputs/model.onnx", into)

    assert downloaded == into / "model.onnx"
    assert downloaded.read_bytes() == b"onnx"
    assert temp_files_below(into) == []


def test_a_folder_round_trips_and_lists_sorted(tmp_path: Path, store: ArtifactStore) -> None:
    folder = tmp_path / "outputs"
    (folder / "logs").mkdir(parents=True)
    (folder / "model.onnx").write_bytes(b"onnx")
    (folder / "logs" / "train.log").write_bytes(b"loss 0.1\n")
    (folder / "labels.txt").write_bytes(b"cat\ndog\n")

    infos = store.put_folder(RUN, "outputs", folder)
    store.put_bytes(RUN, "std_log.txt", b"log")
    downloaded = store.download_folder(RUN, "outputs", tmp_path / "copy")

    assert infos == [
        ArtifactInfo("outputs/labels.txt", 8),
        ArtifactInfo("outputs/logs/train.log", 9),
        ArtifactInfo("outputs/model.onnx", 4),
    ]
    assert store.list(RUN, "outputs") == infos
    assert [info.path for info in store.list(RUN)] == [
        "outputs/labels.txt",
        "outputs/logs/train.log",
        "outputs/model.onnx",
        "std_log.txt",
    ]
    assert store.list(RUN, "outputs/logs") == [ArtifactInfo("outputs/logs/train.log", 9)]
    assert sorted(downloaded) == sorted(p for p in (tmp_path / "copy").rglob("*") if p.is_file())
    assert tree_state(tmp_path / "copy") == tree_state(folder)


def test_put_folder_with_an_empty_prefix_uploads_to_the_run_folder(
    tmp_path: Path, store: ArtifactStore
) -> None:
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_bytes(b"a")

    assert store.put_folder(RUN, "", folder) == [ArtifactInfo("sub/a.txt", 1)]
    assert store.local_path(RUN, "sub/a.txt") == (store.run_root(RUN) / "sub" / "a.txt").resolve()


def test_put_folder_checks_every_name_before_writing_any(
    tmp_path: Path, store: ArtifactStore
) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"a")
    (folder / "epoch:3.ckpt").write_bytes(b"b")
    before = tree_state(tmp_path)

    with pytest.raises(UnsafePath) as caught:
        store.put_folder(RUN, "outputs", folder)

    assert "'outputs/epoch:3.ckpt'" in str(caught.value)
    assert tree_state(tmp_path) == before


def test_listing_a_run_or_folder_that_is_not_there_lists_nothing(store: ArtifactStore) -> None:
    store.put_bytes(RUN, "outputs/model.bin", b"model")

    assert store.list("no-such-run") == []
    assert store.list(RUN, "missing") == []
    assert store.list(RUN, "outputs/model.bin") == []


def test_missing_things_raise_not_found_naming_them(tmp_path: Path, store: ArtifactStore) -> None:
    store.put_bytes(RUN, "outputs/model.bin", b"model")

    with pytest.raises(NotFound) as caught:
        store.open_read(RUN, "outputs/missing.bin")
    assert "'outputs/missing.bin'" in str(caught.value)
    assert RUN in str(caught.value)
    with pytest.raises(NotFound):
        store.open_read(RUN, "outputs")  # a folder is not a file
    with pytest.raises(NotFound):
        store.download(RUN, "outputs/missing.bin", tmp_path / "x.bin")
    with pytest.raises(NotFound):
        store.download_folder(RUN, "missing", tmp_path / "copy")
    with pytest.raises(NotFound):
        store.put_file(RUN, "outputs/x", tmp_path / "no-such-file")
    with pytest.raises(NotFound):
        store.put_folder(RUN, "outputs", tmp_path / "no-such-folder")
    assert not (tmp_path / "x.bin").exists()
    assert not (tmp_path / "copy").exists()


def test_sources_of_the_wrong_kind_are_invalid(tmp_path: Path, store: ArtifactStore) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "file.txt").write_bytes(b"x")

    with pytest.raises(InvalidValue):
        store.put_file(RUN, "outputs/x", tmp_path / "folder")
    with pytest.raises(InvalidValue):
        store.put_folder(RUN, "outputs", tmp_path / "file.txt")
    assert not store.run_root(RUN).exists()


def test_delete_run_removes_the_folder_and_tolerates_absence(store: ArtifactStore) -> None:
    store.put_bytes(RUN, "outputs/model.bin", b"model")

    store.delete_run(RUN)
    store.delete_run(RUN)

    assert not store.run_root(RUN).exists()
    assert store.list(RUN) == []


def test_delete_run_removes_a_linked_run_folder_but_not_its_target(
    store: ArtifactStore, outside: Path
) -> None:
    store.root.mkdir()
    store.run_root(RUN).symlink_to(outside, target_is_directory=True)

    store.delete_run(RUN)

    assert not store.run_root(RUN).is_symlink()
    assert (outside / "secret.txt").read_bytes() == b"secret"
