"""Guardrails: a data set is checked, file by file, before any training starts."""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

import PIL
import pytest
from PIL import Image

from modelyard.vision import guardrails
from modelyard.vision.dataset import ImageRecord, dataset_fingerprint, read_table, scan_folder
from modelyard.vision.guardrails import (
    GuardrailIssue,
    GuardrailReport,
    VerdictCache,
    check_dataset,
    verdict_cache_key,
    write_report,
)


def add_images(root: Path, label: str, count: int, start: int = 0) -> list[Path]:
    """`count` small PNGs under root/label, each with different pixels."""
    folder = root / label
    folder.mkdir(parents=True, exist_ok=True)
    seed = zlib.crc32(label.encode())
    paths = []
    for index in range(start, start + count):
        image = Image.new("RGB", (8, 8), (seed % 256, (seed >> 8) % 256, (seed >> 16) % 256))
        image.putpixel((index % 8, index // 8 % 8), (index % 256, 0, index // 256 % 256))
        path = folder / f"{index:04d}.png"
        image.save(path)
        paths.append(path)
    return paths


def check_folder(root: Path) -> GuardrailReport:
    scan = scan_folder(root)
    return check_dataset(scan.records, scan.skipped)


def kinds(issues: list[GuardrailIssue]) -> list[str]:
    return [issue.kind for issue in issues]


def assert_one_line_with_fix(issue: GuardrailIssue) -> None:
    assert issue.detail and issue.fix
    assert "\n" not in issue.message
    assert issue.message == f"{issue.detail}; fix: {issue.fix}"


def test_a_good_data_set_passes_with_every_image_usable(tmp_path: Path) -> None:
    add_images(tmp_path, "cat", 12)
    add_images(tmp_path, "dog", 10)

    report = check_folder(tmp_path)

    assert report.passed
    assert report.errors == [] and report.warnings == []
    assert report.class_counts == {"cat": 12, "dog": 10}
    assert report.file_count == len(report.usable) == 22
    assert report.summary_line() == "guardrails passed: 22 usable images in 2 classes"


def test_empty_data_set_fails(tmp_path: Path) -> None:
    report = check_folder(tmp_path)

    assert not report.passed
    assert kinds(report.errors) == ["empty_dataset"]
    assert_one_line_with_fix(report.errors[0])
    assert report.summary_line().startswith(
        "guardrails failed: 1 error (the data set has no images)"
    )


def test_one_class_only_fails_naming_the_class(tmp_path: Path) -> None:
    add_images(tmp_path, "cat", 12)

    report = check_folder(tmp_path)

    assert not report.passed
    assert kinds(report.errors) == ["too_few_classes"]
    assert "one class only: 'cat'" in report.errors[0].detail
    assert_one_line_with_fix(report.errors[0])


def test_a_class_with_one_image_fails(tmp_path: Path) -> None:
    add_images(tmp_path, "cat", 12)
    add_images(tmp_path, "golden retriever", 1)

    report = check_folder(tmp_path)

    assert kinds(report.errors) == ["too_few_images"]
    (error,) = report.errors
    assert error.label == "golden retriever"
    assert "class 'golden retriever' has 1 usable image (of 1 file), needs at least 2" in (
        error.detail
    )
    assert_one_line_with_fix(error)


def test_a_class_whose_images_are_all_broken_has_no_usable_image(tmp_path: Path) -> None:
    add_images(tmp_path, "cat", 30)
    (tmp_path / "dog").mkdir()
    (tmp_path / "dog" / "a.jpg").write_text("not a picture")
    (tmp_path / "dog" / "b.jpg").touch()

    report = check_folder(tmp_path)

    assert report.class_counts == {"cat": 30, "dog": 0}
    assert "too_few_images" in kinds(report.errors)
    assert "class 'dog' has 0 usable images (of 2 files)" in report.errors[0].detail


def test_small_classes_are_a_warning_under_ten(tmp_path: Path) -> None:
    add_images(tmp_path, "cat", 10)
    add_images(tmp_path, "dog", 9)

    report = check_folder(tmp_path)

    assert report.passed
    assert kinds(report.warnings) == ["few_images"]
    assert report.warnings[0].label == "dog"
    assert_one_line_with_fix(report.warnings[0])


def test_bad_files_are_listed_one_by_one_and_skipped(tmp_path: Path) -> None:
    add_images(tmp_path, "cat", 15)
    add_images(tmp_path, "dog", 14)
    empty = tmp_path / "dog" / "empty.jpg"
    empty.touch()

    report = check_folder(tmp_path)

    assert report.passed  # 1 bad file of 30 is under 10 %
    assert kinds(report.warnings) == ["unreadable"]
    (issue,) = report.warnings
    assert issue.path == str(empty)
    assert issue.label == "dog"
    assert issue.detail.startswith("empty: ")
    assert_one_line_with_fix(issue)
    assert empty not in [record.path for record in report.usable]
    assert report.class_counts == {"cat": 15, "dog": 14}
    assert report.bad_file_count == 1


def test_every_kind_of_bad_file_is_reported_with_its_reason(tmp_path: Path) -> None:
    add_images(tmp_path, "cat", 40)
    add_images(tmp_path, "dog", 40)
    (tmp_path / "dog" / "zero.png").touch()
    (tmp_path / "dog" / "text.jpg").write_text("hello")
    truncated = tmp_path / "dog" / "truncated.jpg"
    Image.effect_noise((64, 64), 64).convert("RGB").save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:-1000])
    Image.new("1", (10_001, 10_001)).save(tmp_path / "dog" / "huge.png")
    os.symlink(tmp_path / "nowhere.png", tmp_path / "dog" / "dangling.png")

    report = check_folder(tmp_path)

    reasons = {
        Path(issue.path or "").name: issue.detail.split(":")[0]
        for issue in report.warnings
        if issue.kind == "unreadable"
    }
    assert reasons == {
        "zero.png": "empty",
        "text.jpg": "not_an_image",
        "truncated.jpg": "truncated",
        "huge.png": "too_large",
        "dangling.png": "missing",
    }
    assert report.passed  # 5 of 85 is under 10 %


def test_more_than_ten_percent_bad_files_fails(tmp_path: Path) -> None:
    add_images(tmp_path, "cat", 9)
    add_images(tmp_path, "dog", 9)
    for index in range(3):
        (tmp_path / "dog" / f"bad{index}.jpg").write_text("not an image")

    report = check_folder(tmp_path)

    assert not report.passed
    assert kinds(report.errors) == ["too_many_bad_files"]
    assert "3 of 21 files (14 %) are unusable, over the 10 % limit" in report.errors[0].detail
    assert kinds(report.warnings).count("unreadable") == 3
    line = report.summary_line()
    assert "\n" not in line
    assert line.startswith("guardrails failed: 1 error (3 of 21 files")
    assert "; fix: replace or remove the files listed as unreadable" in line


def test_exactly_ten_percent_bad_files_still_passes(tmp_path: Path) -> None:
    add_images(tmp_path, "cat", 9)
    add_images(tmp_path, "dog", 9)
    (tmp_path / "dog" / "bad0.jpg").write_text("x")
    (tmp_path / "dog" / "bad1.jpg").write_text("x")

    assert check_folder(tmp_path).passed  # 2 of 20


def test_missing_table_rows_are_bad_files(tmp_path: Path) -> None:
    add_images(tmp_path / "images", "cat", 2)
    add_images(tmp_path / "images", "dog", 2)
    table = tmp_path / "labels.csv"
    rows = [
        f"images/{label}/{index:04d}.png,{label}" for label in ("cat", "dog") for index in (0, 1)
    ]
    table.write_text("ImageSource,Label\n" + "\n".join([*rows, "images/gone.png,dog"]) + "\n")

    report = check_dataset(read_table(table))

    assert not report.passed
    assert kinds(report.errors) == ["too_many_bad_files"]
    (missing,) = [issue for issue in report.warnings if issue.kind == "unreadable"]
    assert missing.path == str(tmp_path / "images" / "gone.png")
    assert missing.detail.startswith("missing: ")


def test_same_image_under_two_labels_is_a_warning_listing_both(tmp_path: Path) -> None:
    add_images(tmp_path, "cat", 10)
    add_images(tmp_path, "dog", 10)
    copy = tmp_path / "dog" / "actually a cat.png"
    copy.write_bytes((tmp_path / "cat" / "0003.png").read_bytes())

    report = check_folder(tmp_path)

    assert report.passed
    assert kinds(report.warnings) == ["conflicting_labels"]
    (issue,) = report.warnings
    assert "labelled 'cat' and 'dog'" in issue.detail
    assert str(tmp_path / "cat" / "0003.png") in issue.detail
    assert str(copy) in issue.detail
    assert_one_line_with_fix(issue)


def test_duplicates_within_one_label_are_not_a_conflict(tmp_path: Path) -> None:
    add_images(tmp_path, "cat", 10)
    add_images(tmp_path, "dog", 10)
    (tmp_path / "dog" / "again.png").write_bytes((tmp_path / "dog" / "0001.png").read_bytes())

    assert check_folder(tmp_path).warnings == []


def test_imbalance_over_ten_to_one_is_a_warning(tmp_path: Path) -> None:
    add_images(tmp_path, "cat", 110)
    add_images(tmp_path, "dog", 10)
    add_images(tmp_path, "fox", 12)

    report = check_folder(tmp_path)

    assert report.passed
    assert kinds(report.warnings) == ["imbalance"]
    assert "'cat' has 110 images, 'dog' has 10 (11:1, over 10:1)" in report.warnings[0].detail
    assert_one_line_with_fix(report.warnings[0])


def test_ten_to_one_exactly_is_not_an_imbalance(tmp_path: Path) -> None:
    add_images(tmp_path, "cat", 100)
    add_images(tmp_path, "dog", 10)

    assert check_folder(tmp_path).warnings == []


def test_folder_scan_findings_become_warnings(tmp_path: Path) -> None:
    add_images(tmp_path, "cat", 10)
    add_images(tmp_path, "dog", 10)
    os.symlink("..", tmp_path / "cat" / "loop")
    (tmp_path / "bird").mkdir()

    report = check_folder(tmp_path)

    assert report.passed
    assert sorted(kinds(report.warnings)) == ["empty_label_folder", "symlink_loop"]
    assert report.class_counts == {"cat": 10, "dog": 10}
    for issue in report.warnings:
        assert_one_line_with_fix(issue)


def test_several_errors_make_one_summary_line(tmp_path: Path) -> None:
    add_images(tmp_path, "café 猫", 1)
    (tmp_path / "café 猫" / "bad.jpg").write_text("x")

    line = check_folder(tmp_path).summary_line()

    assert "\n" not in line
    assert line.startswith("guardrails failed: 3 errors (one class only: 'café 猫'")
    assert "class 'café 猫' has 1 usable image (of 2 files)" in line
    assert "1 of 2 files (50 %)" in line
    assert "; fix: add a second label folder" in line


def test_passed_summary_counts_warnings_by_kind(tmp_path: Path) -> None:
    add_images(tmp_path, "cat", 20)
    add_images(tmp_path, "dog", 5)
    (tmp_path / "cat" / "bad.jpg").touch()

    line = check_folder(tmp_path).summary_line()

    assert line == (
        "guardrails passed: 25 usable images in 2 classes; 2 warnings "
        "(1 few_images, 1 unreadable), see guardrails.json"
    )


def test_fingerprint_covers_the_usable_images_only(tmp_path: Path) -> None:
    add_images(tmp_path, "cat", 10)
    add_images(tmp_path, "dog", 10)
    (tmp_path / "dog" / "bad.jpg").touch()

    report = check_folder(tmp_path)

    assert report.fingerprint == dataset_fingerprint(report.usable)
    assert report.fingerprint["file_count"] == 20


def test_report_is_written_as_json(tmp_path: Path) -> None:
    add_images(tmp_path / "data", "cat", 10)
    add_images(tmp_path / "data", "dog", 3)
    (tmp_path / "data" / "dog" / "bad.jpg").touch()
    report = check_folder(tmp_path / "data")
    target = tmp_path / "run" / "guardrails.json"

    write_report(report, target)

    written = json.loads(target.read_text())
    assert written["passed"] is True
    assert written["summary"] == report.summary_line()
    assert written["class_counts"] == {"cat": 10, "dog": 3}
    assert written["file_count"] == 14
    assert written["usable_count"] == 13
    assert written["bad_file_count"] == 1
    assert [w["kind"] for w in written["warnings"]] == ["unreadable", "few_images"]
    assert written["warnings"][0]["path"] == str(tmp_path / "data" / "dog" / "bad.jpg")
    assert written["warnings"][0]["message"].startswith("empty: ")
    assert written["limits"]["max_bad_file_percent"] == 10
    assert written["fingerprint"]["file_count"] == 13
    assert json.loads(json.dumps(report.to_dict())) == written


def test_images_are_not_kept_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    add_images(tmp_path, "cat", 3)
    add_images(tmp_path, "dog", 3)
    opened: list[Image.Image] = []
    real_open = Image.open

    def tracking_open(*args: object, **kwargs: object) -> Image.Image:
        image = real_open(*args, **kwargs)  # type: ignore[arg-type]
        opened.append(image)
        return image

    monkeypatch.setattr(Image, "open", tracking_open)

    check_folder(tmp_path)

    assert len(opened) == 6
    assert all(getattr(image, "fp", None) is None for image in opened)


def test_records_keep_their_order_in_usable() -> None:
    assert check_dataset([]).usable == []
    records = [ImageRecord(Path("/nowhere/b.png"), "b"), ImageRecord(Path("/nowhere/a.png"), "a")]
    report = check_dataset(records)
    assert report.usable == []
    assert report.class_counts == {"a": 0, "b": 0}


# --- the verdict cache: decoded once per workspace, by content hash ---------------------------


def check_cached(root: Path, cache_root: Path) -> tuple[GuardrailReport, VerdictCache]:
    scan = scan_folder(root)
    verdicts = VerdictCache(cache_root)
    return check_dataset(scan.records, scan.skipped, verdicts), verdicts


def forbid_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: Path) -> Image.Image:
        raise AssertionError(f"{path} was decoded although its verdict is cached")

    monkeypatch.setattr(guardrails, "decode_image", refuse)


def test_unchanged_bytes_take_their_verdict_from_the_cache_without_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_images(tmp_path / "data", "cat", 12)
    add_images(tmp_path / "data", "dog", 12)
    (tmp_path / "data" / "dog" / "text.jpg").write_text("hello")
    first, cold = check_cached(tmp_path / "data", tmp_path / "cache")
    forbid_decoding(monkeypatch)

    second, warm = check_cached(tmp_path / "data", tmp_path / "cache")

    assert (cold.hits, warm.hits) == (0, 25)
    assert second.to_dict() == first.to_dict()
    assert second.usable_hashes == first.usable_hashes
    assert second.warnings[0].detail.startswith("not_an_image: ")


def test_changed_bytes_are_decoded_again(tmp_path: Path) -> None:
    add_images(tmp_path / "data", "cat", 12)
    (changed,) = add_images(tmp_path / "data", "dog", 12)[:1]
    first, _ = check_cached(tmp_path / "data", tmp_path / "cache")
    changed.write_text("no longer an image")

    second, verdicts = check_cached(tmp_path / "data", tmp_path / "cache")

    assert first.passed and not first.warnings
    assert verdicts.hits == 23
    (issue,) = second.warnings
    assert issue.path == str(changed)
    assert issue.detail.startswith("not_an_image: ")
    assert changed not in [record.path for record in second.usable]


def test_a_corrupt_cache_entry_is_ignored_and_written_again(tmp_path: Path) -> None:
    add_images(tmp_path / "data", "cat", 12)
    add_images(tmp_path / "data", "dog", 12)
    first, verdicts = check_cached(tmp_path / "data", tmp_path / "cache")
    entries = sorted(verdicts.folder.glob("*/*.json"))
    assert len(entries) == 24
    entries[0].write_bytes(b"\x00 not json")
    entries[1].write_text('{"reason": 7, "detail": null}')  # JSON, but not a verdict
    entries[2].write_text("[]")

    second, damaged = check_cached(tmp_path / "data", tmp_path / "cache")
    third, repaired = check_cached(tmp_path / "data", tmp_path / "cache")

    assert damaged.hits == 21 and repaired.hits == 24
    assert second.to_dict() == third.to_dict() == first.to_dict()
    assert json.loads(entries[0].read_text()) == {"reason": None, "detail": ""}


def test_files_that_cannot_be_read_are_reported_and_never_cached(tmp_path: Path) -> None:
    add_images(tmp_path / "data", "cat", 12)
    add_images(tmp_path / "data", "dog", 12)
    os.symlink(tmp_path / "nowhere.png", tmp_path / "data" / "dog" / "dangling.png")

    report, verdicts = check_cached(tmp_path / "data", tmp_path / "cache")

    (issue,) = report.warnings
    assert issue.detail.startswith("missing: ")
    assert len(list(verdicts.folder.glob("*/*.json"))) == 24


def test_the_cache_key_changes_with_the_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = [verdict_cache_key()]
    monkeypatch.setattr(PIL, "__version__", "0.0.1")
    keys.append(verdict_cache_key())
    monkeypatch.setattr(guardrails, "VERDICT_CACHE_VERSION", guardrails.VERDICT_CACHE_VERSION + 1)
    keys.append(verdict_cache_key())
    assert len(set(keys)) == 3
