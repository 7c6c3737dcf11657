"""A train/test split keeps the layout it was given (a table stays one table of the same name,
images stay in their label folders), is the same for the same seed, keeps each class's share
when stratified, and refuses bad input in one line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from modelyard.data.split import SplitConfig, split_data
from modelyard.errors import InvalidValue, NotFound


def write_table(path: Path, rows: int, classes: tuple[str, ...] = ("a", "b")) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["x", "note", "label"])
        for index in range(rows):
            writer.writerow([index, f"row, {index}", classes[index % len(classes)]])
    return path


def read_rows(path: Path) -> list[list[str]]:
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def write_images(folder: Path, per_label: dict[str, int]) -> Path:
    for label, count in per_label.items():
        (folder / label / "nested").mkdir(parents=True, exist_ok=True)
        for index in range(count):
            name = f"{index}.png" if index % 2 else f"nested/{index}.png"
            (folder / label / name).write_bytes(f"{label}{index}".encode())
    (folder / ".DS_Store").write_bytes(b"hidden")
    return folder


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_a_table_splits_into_one_table_of_the_same_name_in_each_output(tmp_path: Path) -> None:
    table = write_table(tmp_path / "in" / "iris.csv", 20)
    counts = split_data(SplitConfig(str(table), test_size=0.25), tmp_path / "tr", tmp_path / "te")
    assert (counts.train, counts.test, counts.kind) == (15, 5, "table")
    train, test = read_rows(tmp_path / "tr" / "iris.csv"), read_rows(tmp_path / "te" / "iris.csv")
    original = read_rows(table)
    assert train[0] == test[0] == original[0]  # the header, quoted commas and all kept
    assert sorted(train[1:] + test[1:]) == sorted(original[1:])
    assert train[1:] == [row for row in original[1:] if row in train[1:]]  # in the file's order


def test_the_same_seed_gives_the_same_split_and_another_seed_another(tmp_path: Path) -> None:
    folder = write_table(tmp_path / "in" / "t.csv", 30).parent  # a folder of one table
    tests = []
    for run, seed in enumerate((7, 7, 8)):
        split_data(
            SplitConfig(str(folder), seed=seed), tmp_path / f"tr{run}", tmp_path / f"te{run}"
        )
        tests.append(read_rows(tmp_path / f"te{run}" / "t.csv"))
    assert tests[0] == tests[1]
    assert tests[0] != tests[2]


def test_a_stratified_table_keeps_each_classes_share(tmp_path: Path) -> None:
    table = write_table(tmp_path / "t.csv", 40, classes=("a", "a", "a", "b"))
    config = SplitConfig(str(table), test_size=0.2, stratify_column="label")
    split_data(config, tmp_path / "tr", tmp_path / "te")
    test = read_rows(tmp_path / "te" / "t.csv")[1:]
    assert sorted(row[2] for row in test) == ["a"] * 6 + ["b"] * 2


def test_images_split_per_label_into_the_same_label_folders(tmp_path: Path) -> None:
    source = write_images(tmp_path / "images", {"cat": 10, "dog": 5})
    counts = split_data(SplitConfig(str(source), test_size=0.2), tmp_path / "tr", tmp_path / "te")
    assert (counts.train, counts.test, counts.kind) == (12, 3, "images")
    train, test = files_under(tmp_path / "tr"), files_under(tmp_path / "te")
    assert not train & test
    assert train | test == files_under(source) - {".DS_Store"}
    assert sum(name.startswith("cat/") for name in test) == 2
    assert sum(name.startswith("dog/") for name in test) == 1
    some = sorted(test)[0]
    assert (tmp_path / "te" / some).read_bytes() == (source / some).read_bytes()


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"test_size": 1.5},
            "test_size 1.5 is out of range: give the test share as a number between 0 and 1",
        ),
        ({"test_size": 0}, "test_size 0 is out of range"),
        ({"seed": "x"}, "seed 'x' is not a whole number"),
        (
            {"stratify_column": "colour"},
            "stratify_column 'colour' is not a column of table 't.csv': use one of x, note, label",
        ),
    ],
)
def test_bad_settings_are_one_line(
    tmp_path: Path, config: dict[str, object], expected: str
) -> None:
    table = write_table(tmp_path / "t.csv", 10)
    with pytest.raises(InvalidValue) as raised:
        split_data(SplitConfig(str(table), **config), tmp_path / "tr", tmp_path / "te")
    assert expected in raised.value.message
    assert "\n" not in raised.value.message
    assert not (tmp_path / "tr").exists()


def test_bad_data_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("x,label\n")
    write_images(tmp_path / "lonely", {"cat": 4, "dog": 1})
    write_table(tmp_path / "rare.csv", 9, classes=("a", "a", "a", "a", "a", "a", "a", "a", "b"))
    (tmp_path / "nothing").mkdir()
    cases = {
        "empty.csv": "is empty (no rows under its header)",
        "lonely": "label 'dog' has 1 item: a split needs at least 2",
        "nothing": "holds neither a table (.csv, .tsv) nor images in a folder per label",
        "missing": "does not exist",
    }
    for name, expected in cases.items():
        with pytest.raises((InvalidValue, NotFound)) as raised:
            split_data(SplitConfig(str(tmp_path / name)), tmp_path / "tr", tmp_path / "te")
        assert expected in raised.value.message, name
    with pytest.raises(InvalidValue, match="class 'b' of column 'label' has 1 item"):
        rare = SplitConfig(str(tmp_path / "rare.csv"), stratify_column="label")
        split_data(rare, tmp_path / "tr", tmp_path / "te")
