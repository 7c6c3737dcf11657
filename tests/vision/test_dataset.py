"""Finding the images of a data set (label folders or a table) and decoding each one to RGB."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from modelyard.errors import InvalidValue, NotFound
from modelyard.vision.dataset import (
    MAX_IMAGE_PIXELS,
    ImageRecord,
    ImageUnreadable,
    check_before_submission,
    content_hash,
    dataset_fingerprint,
    decode_image,
    discover_folder,
    load_dataset,
    read_table,
    scan_dataset,
    scan_folder,
)
from modelyard.vision.preprocessing import to_rgb

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)


def save_image(path: Path, colour: tuple[int, int, int] = RED, size: tuple[int, int] = (16, 12)):
    """A small picture: a coloured square on a white background."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, WHITE)
    image.paste(colour, (size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4))
    image.save(path)
    return path


def assert_close(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 8) -> None:
    assert len(actual) == len(expected)
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True)), actual


def decode_reason(path: Path) -> str:
    with pytest.raises(ImageUnreadable) as caught:
        decode_image(path)
    return caught.value.reason


# --- folders -----------------------------------------------------------------------------------


def test_discover_folder_labels_by_sub_folder_sorted_and_recursive(tmp_path: Path) -> None:
    save_image(tmp_path / "dog" / "b.png")
    save_image(tmp_path / "dog" / "a.jpg")
    save_image(tmp_path / "cat" / "indoor" / "deep" / "z.bmp")
    save_image(tmp_path / "cat" / "y.gif")

    records = discover_folder(tmp_path)

    assert [(r.label, r.path.relative_to(tmp_path).as_posix()) for r in records] == [
        ("cat", "cat/indoor/deep/z.bmp"),
        ("cat", "cat/y.gif"),
        ("dog", "dog/a.jpg"),
        ("dog", "dog/b.png"),
    ]
    assert all(record.path.is_absolute() for record in records)


def test_discover_folder_from_a_relative_root_gives_absolute_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_image(tmp_path / "data" / "cat" / "1.png")
    monkeypatch.chdir(tmp_path)

    (record,) = discover_folder(Path("data"))

    assert record.path == tmp_path / "data" / "cat" / "1.png"


def test_unicode_and_spaces_in_labels_and_file_names(tmp_path: Path) -> None:
    save_image(tmp_path / "golden retriever" / "my dog 1.png")
    save_image(tmp_path / "café 猫" / "фото кошки.jpg")

    records = discover_folder(tmp_path)

    assert {(r.label, r.path.name) for r in records} == {
        ("golden retriever", "my dog 1.png"),
        ("café 猫", "фото кошки.jpg"),
    }
    assert all(decode_image(record.path).mode == "RGB" for record in records)


def test_hidden_files_and_folders_and_non_images_are_ignored(tmp_path: Path) -> None:
    save_image(tmp_path / "cat" / "1.png")
    save_image(tmp_path / "cat" / ".thumbnail.png")
    save_image(tmp_path / "cat" / ".cache" / "2.png")
    save_image(tmp_path / ".git" / "3.png")
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / "cat" / "Thumbs.db").write_bytes(b"\0")

    records = discover_folder(tmp_path)

    assert records == [ImageRecord(tmp_path / "cat" / "1.png", "cat")]


def test_image_extensions_match_case_insensitively(tmp_path: Path) -> None:
    save_image(tmp_path / "cat" / "UPPER.JPG")
    save_image(tmp_path / "cat" / "mixed.WebP")

    assert {r.path.name for r in discover_folder(tmp_path)} == {"UPPER.JPG", "mixed.WebP"}


def test_symlinked_label_folder_is_followed(tmp_path: Path) -> None:
    save_image(tmp_path / "elsewhere" / "x.png")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "cat").symlink_to(tmp_path / "elsewhere")

    (record,) = discover_folder(tmp_path / "data")

    assert record == ImageRecord(tmp_path / "data" / "cat" / "x.png", "cat")


def test_symlink_loop_is_reported_not_walked_forever(tmp_path: Path) -> None:
    save_image(tmp_path / "cat" / "1.png")
    save_image(tmp_path / "dog" / "2.png")
    os.symlink("..", tmp_path / "cat" / "loop")
    os.symlink(".", tmp_path / "dog" / "self")

    scan = scan_folder(tmp_path)

    assert [(r.label, r.path.name) for r in scan.records] == [("cat", "1.png"), ("dog", "2.png")]
    assert {(Path(s.path).name, s.reason) for s in scan.skipped} == {
        ("loop", "symlink_loop"),
        ("self", "symlink_loop"),
    }
    for skipped in scan.skipped:
        assert "\n" not in skipped.detail
        assert skipped.path in skipped.detail
        assert "fix:" in skipped.detail


def test_discover_folder_logs_what_it_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    save_image(tmp_path / "cat" / "1.png")
    os.symlink("..", tmp_path / "cat" / "loop")

    discover_folder(tmp_path)

    assert "symlink loop" in caplog.text


def test_empty_label_folders_and_loose_images_are_reported(tmp_path: Path) -> None:
    save_image(tmp_path / "cat" / "1.png")
    (tmp_path / "dog").mkdir()
    save_image(tmp_path / "stray.png")

    scan = scan_folder(tmp_path)

    assert [r.label for r in scan.records] == ["cat"]
    assert sorted((Path(s.path).name, s.reason) for s in scan.skipped) == [
        ("dog", "empty_label_folder"),
        ("stray.png", "no_label"),
    ]


def test_an_empty_folder_has_no_records(tmp_path: Path) -> None:
    assert discover_folder(tmp_path) == []


# --- tables ------------------------------------------------------------------------------------


def test_csv_table_paths_resolve_against_its_folder_and_may_step_back_inside_it(
    tmp_path: Path,
) -> None:
    table = tmp_path / "labels.csv"
    table.write_text("imagesource,LABEL\nimages/a.png,cat\nimages/../other/./b.png, dog \n\n")

    assert read_table(table) == [
        ImageRecord(tmp_path / "images" / "a.png", "cat"),
        ImageRecord(tmp_path / "other" / "b.png", "dog"),
    ]


def test_rows_outside_the_tables_folder_are_refused_one_by_one(tmp_path: Path) -> None:
    absolute = save_image(tmp_path / "other" / "b.png")
    table = tmp_path / "meta" / "labels.csv"
    table.parent.mkdir()
    table.write_text(
        "ImageSource,Label\ninside.png,cat\n../../elsewhere/x.png,cat\n"
        f"{absolute},dog\nsub/../../y.png,dog\n"
    )

    with pytest.raises(InvalidValue) as caught:
        read_table(table)

    message = caught.value.message
    assert "\n" not in message
    assert f"table {str(table)!r}: 3 rows name an image outside the table's folder" in message
    assert "line 3 '../../elsewhere/x.png' (climbs out of the table's folder)" in message
    assert f"line 4 {str(absolute)!r} (an absolute path)" in message
    assert "line 5 'sub/../../y.png' (climbs out" in message
    assert "fix:" in message and "--allow-paths-outside-table" in message
    assert caught.value.context["lines"] == [3, 4, 5]


def test_many_rows_outside_are_counted_past_the_first_ten(tmp_path: Path) -> None:
    table = tmp_path / "labels.csv"
    rows = "".join(f"../up{index}.png,cat\n" for index in range(25))
    table.write_text("ImageSource,Label\n" + rows)

    with pytest.raises(InvalidValue) as caught:
        read_table(table)

    assert "25 rows" in caught.value.message and "and 15 more" in caught.value.message
    assert "up9.png" in caught.value.message and "up10.png" not in caught.value.message
    assert caught.value.context["lines"] == list(range(2, 27))


def test_rows_outside_the_tables_folder_are_read_when_allowed(tmp_path: Path) -> None:
    save_image(tmp_path / "images" / "a.png")
    absolute = save_image(tmp_path / "other" / "b.png")
    table = tmp_path / "meta" / "labels.csv"
    table.parent.mkdir()
    table.write_text(f"imagesource,LABEL\n../images/a.png,cat\n{absolute}, dog \n\n")

    records = read_table(table, allow_paths_outside_table=True)

    assert records == [
        ImageRecord(tmp_path / "images" / "a.png", "cat"),
        ImageRecord(absolute, "dog"),
    ]
    assert scan_dataset(table, allow_paths_outside_table=True).records == records
    with pytest.raises(InvalidValue, match="outside the table's folder"):
        scan_dataset(table)


def test_tsv_table_with_unicode_spaces_and_a_byte_order_mark(tmp_path: Path) -> None:
    table = tmp_path / "labels.tsv"
    table.write_text("\ufeffLabel\tImageSource\nchat noir\tphotos/été 1.jpg\n", encoding="utf-8")

    assert read_table(table) == [ImageRecord(tmp_path / "photos" / "été 1.jpg", "chat noir")]


def test_table_delimiter_is_sniffed_without_a_known_extension(tmp_path: Path) -> None:
    tabbed = tmp_path / "labels.txt"
    tabbed.write_text("ImageSource\tLabel\na, b.png\tcat\n")
    commas = tmp_path / "labels.list"
    commas.write_text('ImageSource,Label\n"a\tb.png",cat\n')

    assert read_table(tabbed) == [ImageRecord(tmp_path / "a, b.png", "cat")]
    assert read_table(commas) == [ImageRecord(tmp_path / "a\tb.png", "cat")]


def test_table_rows_for_missing_files_are_kept_for_the_guardrails(tmp_path: Path) -> None:
    table = tmp_path / "labels.csv"
    table.write_text("ImageSource,Label\nnowhere.png,cat\n")

    assert read_table(table) == [ImageRecord(tmp_path / "nowhere.png", "cat")]


def test_table_missing_a_column_names_it_the_columns_found_and_the_fix(tmp_path: Path) -> None:
    table = tmp_path / "labels.csv"
    table.write_text("ImageSource,Class\na.png,cat\n")

    with pytest.raises(InvalidValue) as caught:
        read_table(table)

    message = caught.value.message
    assert "\n" not in message
    assert "missing column 'Label'" in message
    assert "'ImageSource', 'Class'" in message
    assert "fix:" in message and "ImageSource,Label" in message
    assert caught.value.context["missing"] == ["Label"]


def test_empty_table_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "labels.csv"
    table.write_text("")

    with pytest.raises(InvalidValue, match=r"is empty; fix: add a header row ImageSource,Label"):
        read_table(table)


def test_header_only_table_has_no_records(tmp_path: Path) -> None:
    table = tmp_path / "labels.csv"
    table.write_text("ImageSource,Label\n")

    assert read_table(table) == []


def test_rows_with_an_empty_cell_are_refused_by_line_number(tmp_path: Path) -> None:
    table = tmp_path / "labels.csv"
    table.write_text("ImageSource,Label\na.png,cat\nb.png,\n,dog\n")

    with pytest.raises(InvalidValue) as caught:
        read_table(table)

    assert "line 3, 4" in caught.value.message
    assert "fix:" in caught.value.message
    assert caught.value.context["lines"] == [3, 4]


def test_binary_file_as_table_is_refused_in_one_line(tmp_path: Path) -> None:
    table = save_image(tmp_path / "labels.png")

    with pytest.raises(InvalidValue, match=r"is not UTF-8 text .*; fix: save it as a UTF-8 CSV"):
        read_table(table)


# --- checked before submission --------------------------------------------------------------


def test_a_folder_or_table_with_an_image_passes_the_submission_check(tmp_path: Path) -> None:
    save_image(tmp_path / "data" / "cat" / "deep" / "1.png")
    (tmp_path / "data" / "dog").mkdir()  # empty: for the guardrails to report, not refused here
    table = tmp_path / "labels.csv"
    table.write_text("ImageSource,Label\nmissing.png,cat\n")  # missing: the guardrails' call

    check_before_submission(tmp_path / "data")
    check_before_submission(table)


def test_a_folder_without_images_is_refused_before_submission(tmp_path: Path) -> None:
    (tmp_path / "cat").mkdir()
    (tmp_path / "dog").mkdir()
    (tmp_path / "dog" / "notes.txt").write_text("not an image")

    with pytest.raises(InvalidValue) as caught:
        check_before_submission(tmp_path)

    message = caught.value.message
    assert "\n" not in message
    assert f"--data {str(tmp_path)!r} has nothing to train on: no sub-folder of it" in message
    assert "fix: put the images in one sub-folder per label" in message


def test_images_outside_any_label_folder_are_named_as_the_cause(tmp_path: Path) -> None:
    save_image(tmp_path / "1.png")
    save_image(tmp_path / "2.png")

    with pytest.raises(InvalidValue, match="its images sit directly in it, outside any label"):
        check_before_submission(tmp_path)


def test_a_table_with_a_header_only_or_rows_outside_is_refused_before_submission(
    tmp_path: Path,
) -> None:
    header_only = tmp_path / "empty.csv"
    header_only.write_text("ImageSource,Label\n\n")
    outside = tmp_path / "outside.csv"
    outside.write_text("ImageSource,Label\n../x.png,cat\n")

    with pytest.raises(InvalidValue, match=r"has a header but no rows: nothing to train on; fix"):
        check_before_submission(header_only)
    with pytest.raises(InvalidValue, match=r"line 2 '../x.png' \(climbs out"):
        check_before_submission(outside)
    check_before_submission(outside, allow_paths_outside_table=True)


# --- load_dataset --------------------------------------------------------------------------


def test_load_dataset_takes_a_folder_or_a_table(tmp_path: Path) -> None:
    save_image(tmp_path / "data" / "cat" / "1.png")
    table = tmp_path / "labels.csv"
    table.write_text("ImageSource,Label\ndata/cat/1.png,kitten\n")

    assert load_dataset(tmp_path / "data") == [
        ImageRecord(tmp_path / "data" / "cat" / "1.png", "cat")
    ]
    assert load_dataset(table) == [ImageRecord(tmp_path / "data" / "cat" / "1.png", "kitten")]
    assert scan_dataset(table).skipped == []


def test_load_dataset_of_nothing_is_not_found_with_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "flowers"

    with pytest.raises(NotFound) as caught:
        load_dataset(missing)

    assert caught.value.message == (
        f"--data {str(missing)!r}: no such folder or table; pass a folder with one sub-folder "
        "per label, or a CSV/TSV with ImageSource,Label"
    )
    with pytest.raises(NotFound):
        discover_folder(missing)


# --- decoding: formats ---------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".bmp", ".gif", ".webp"])
def test_every_supported_format_decodes_to_rgb(tmp_path: Path, suffix: str) -> None:
    path = save_image(tmp_path / f"picture{suffix}", BLUE, size=(64, 32))

    image = decode_image(path)

    assert image.mode == "RGB"
    assert image.size == (64, 32)
    assert_close(image.getpixel((32, 16)), BLUE, tolerance=12)  # lossy formats: close enough
    assert_close(image.getpixel((0, 0)), WHITE, tolerance=12)


def test_animated_gif_gives_its_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (8, 8), colour) for colour in (RED, GREEN, BLUE)]
    path = tmp_path / "animated.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(path).n_frames == 3

    image = decode_image(path)

    assert image.mode == "RGB"
    assert image.getpixel((4, 4)) == RED


def test_unsupported_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "picture.tiff"
    Image.new("RGB", (4, 4)).save(path)

    assert decode_reason(path) == "not_an_image"


def test_decoded_image_does_not_hold_the_file_open(tmp_path: Path) -> None:
    path = save_image(tmp_path / "a.png")

    image = decode_image(path)
    path.unlink()

    assert image.getpixel((8, 6)) == RED
    assert image.getpixel((0, 0)) == WHITE


# --- decoding: modes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "colour", "suffix", "expected"),
    [
        ("L", 0, ".png", (0, 0, 0)),
        ("L", 200, ".jpg", (200, 200, 200)),
        ("LA", (0, 0), ".png", WHITE),  # fully transparent black is white
        ("LA", (0, 255), ".png", (0, 0, 0)),
        ("RGBA", (255, 0, 0, 0), ".png", WHITE),
        ("RGBA", (255, 0, 0, 255), ".png", RED),
        ("RGBA", (0, 0, 0, 128), ".png", (127, 127, 127)),  # half-transparent black: grey
        ("CMYK", (0, 255, 255, 0), ".jpg", RED),
        ("CMYK", (0, 0, 0, 0), ".jpg", WHITE),
        ("I;16", 65535, ".png", WHITE),  # 16-bit white stays white
        ("I;16", 0, ".png", (0, 0, 0)),
        ("I;16", 32896, ".png", (128, 128, 128)),  # mid-grey scales, not clips
        ("1", 1, ".png", WHITE),
        ("1", 0, ".bmp", (0, 0, 0)),
    ],
)
def test_every_mode_converts_to_rgb(
    tmp_path: Path, mode: str, colour: object, suffix: str, expected: tuple[int, int, int]
) -> None:
    path = tmp_path / f"image{suffix}"
    Image.new(mode, (8, 8), colour).save(path)  # type: ignore[arg-type]
    assert Image.open(path).mode == mode

    image = decode_image(path)

    assert image.mode == "RGB"
    assert_close(image.getpixel((4, 4)), expected, tolerance=3)


def test_palette_image_with_transparency_goes_through_rgba_onto_white(tmp_path: Path) -> None:
    palette = Image.new("P", (8, 8), 1)
    palette.putpalette([0, 0, 0, *RED])
    palette.putpixel((0, 0), 0)
    path = tmp_path / "palette.png"
    palette.save(path, transparency=0)
    assert Image.open(path).mode == "P"

    image = decode_image(path)

    assert image.getpixel((0, 0)) == WHITE  # the transparent palette entry
    assert image.getpixel((4, 4)) == RED


def test_palette_image_without_transparency_keeps_its_colours(tmp_path: Path) -> None:
    palette = Image.new("P", (8, 8), 1)
    palette.putpalette([0, 0, 0, *GREEN])
    path = tmp_path / "palette.bmp"
    palette.save(path)

    assert decode_image(path).getpixel((4, 4)) == GREEN


def test_32_bit_integer_mode_scales_the_16_bit_range() -> None:
    image = Image.new("I", (2, 1), 65535)
    image.putpixel((1, 0), 257 * 100)

    rgb = to_rgb(image)

    assert rgb.getpixel((0, 0)) == WHITE
    assert rgb.getpixel((1, 0)) == (100, 100, 100)


# --- decoding: orientation ---------------------------------------------------------------------


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    picture = Image.new("RGB", (40, 20), WHITE)
    picture.paste(RED, (0, 0, 10, 20))  # red on the left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display turned 90° clockwise
    path = tmp_path / "phone.jpg"
    picture.save(path, exif=exif, quality=95)

    image = decode_image(path)

    assert image.size == (20, 40)
    assert_close(image.getpixel((10, 2)), RED, tolerance=40)  # the left edge is now on top
    assert_close(image.getpixel((10, 37)), WHITE, tolerance=40)


# --- decoding: bad files -----------------------------------------------------------------------


def test_zero_byte_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.touch()

    assert decode_reason(path) == "empty"


def test_text_named_jpg_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("these are my notes, not a photo\n")

    assert decode_reason(path) == "not_an_image"


def test_truncated_jpeg_is_refused_not_padded(tmp_path: Path) -> None:
    path = tmp_path / "whole.jpg"
    Image.effect_noise((128, 128), 64).convert("RGB").save(path, quality=90)
    data = path.read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 2])

    assert decode_reason(cut) == "truncated"


def test_a_jpeg_cut_inside_its_header_is_truncated_too(tmp_path: Path) -> None:
    # Pillow says "Truncated File Read" there, capitalised, not "image file is truncated".
    path = tmp_path / "whole.jpg"
    Image.effect_noise((128, 128), 64).convert("RGB").save(path, quality=90)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(path.read_bytes()[:200])

    with pytest.raises(ImageUnreadable) as caught:
        decode_image(cut)

    assert caught.value.reason == "truncated"
    assert "Truncated File Read" in caught.value.detail


def test_corrupt_png_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "noise.png"
    Image.effect_noise((64, 64), 64).save(path)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)  # zeros in the middle of the compressed pixels
    path.write_bytes(bytes(data))

    assert decode_reason(path) == "corrupt"


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert decode_reason(tmp_path / "gone.png") == "missing"
    (tmp_path / "folder.png").mkdir()
    assert decode_reason(tmp_path / "folder.png") == "not_an_image"


def test_image_over_the_pixel_limit_is_too_large(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    Image.new("1", (10_001, 10_001)).save(path)  # 12 MB in memory, a few KB on disk

    with pytest.raises(ImageUnreadable) as caught:
        decode_image(path)

    assert caught.value.reason == "too_large"
    assert "10001x10001" in str(caught.value)
    assert str(MAX_IMAGE_PIXELS) in str(caught.value)


def test_image_far_over_pillows_own_limit_is_too_large(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    Image.new("1", (20_000, 20_000)).save(path)

    assert decode_reason(path) == "too_large"


def test_exactly_at_the_pixel_limit_is_accepted(tmp_path: Path) -> None:
    # 100,000,000 pixels in a long thin strip keeps the test fast: 10,000 x 10,000 is also fine.
    path = tmp_path / "limit.png"
    Image.new("L", (MAX_IMAGE_PIXELS // 4, 4)).save(path)

    assert decode_image(path).size == (MAX_IMAGE_PIXELS // 4, 4)


# --- hashing -----------------------------------------------------------------------------------


def test_content_hash_is_the_sha256_of_the_bytes(tmp_path: Path) -> None:
    import hashlib

    path = save_image(tmp_path / "a.png")

    assert content_hash(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_fingerprint_ignores_location_and_order_but_not_labels(tmp_path: Path) -> None:
    save_image(tmp_path / "one" / "cat" / "a.png", RED)
    save_image(tmp_path / "one" / "dog" / "b.png", BLUE)
    shutil.copytree(tmp_path / "one", tmp_path / "two")
    first = dataset_fingerprint(discover_folder(tmp_path / "one"))
    second = dataset_fingerprint(reversed(discover_folder(tmp_path / "two")))
    relabelled = dataset_fingerprint(
        [ImageRecord(r.path, "other") for r in discover_folder(tmp_path / "one")]
    )

    assert first == second
    assert first["file_count"] == 2
    assert first["class_counts"] == {"cat": 1, "dog": 1}
    assert len(first["content_hash"]) == 64
    assert relabelled["content_hash"] != first["content_hash"]


def test_fingerprint_of_a_vanished_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"vanished .*; fix: keep the data set unchanged"):
        dataset_fingerprint([ImageRecord(tmp_path / "gone.png", "cat")])
