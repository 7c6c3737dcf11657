"""Evaluation: a classifier's validation results as metrics, JSON artifacts and a heat map."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageFont

from modelyard.errors import InvalidValue
from modelyard.vision.evaluation import (
    Evaluation,
    evaluate,
    render_confusion_png,
    write_evaluation,
)
from modelyard.vision.thumbnails import THUMBNAIL_PX

sklearn_metrics = pytest.importorskip("sklearn.metrics")

# A hand-checked case: cat 3 images, dog 2, fox 3; one cat taken for a dog, one fox for a cat.
LABELS = ["cat", "dog", "fox"]
Y_TRUE = [0, 0, 0, 1, 1, 2, 2, 2]
Y_PRED = [0, 1, 0, 1, 1, 2, 0, 2]
SCORES = np.array(
    [
        [0.8, 0.1, 0.1],
        [0.3, 0.6, 0.1],
        [0.5, 0.25, 0.25],
        [0.1, 0.8, 0.1],
        [0.2, 0.7, 0.1],
        [0.1, 0.1, 0.8],
        [0.9, 0.05, 0.05],
        [0.25, 0.25, 0.5],
    ]
)
SOURCES = [f"val/{index}.png" for index in range(8)]


def hand_case() -> Evaluation:
    return evaluate(LABELS, Y_TRUE, Y_PRED, SCORES, SOURCES)


def strict_json(text: str) -> Any:
    """json.loads that refuses NaN and Infinity, which are not JSON."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in JSON")

    return json.loads(text, parse_constant=refuse)


def random_case(
    seed: int, class_count: int, sample_count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predictions right about half the time, with softmax scores of random logits."""
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, class_count, sample_count)
    guesses = rng.integers(0, class_count, sample_count)
    y_pred = np.where(rng.random(sample_count) < 0.5, y_true, guesses)
    logits = rng.normal(size=(sample_count, class_count))
    scores = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y_true, y_pred, scores


def decode_png(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_drawn(image: Image.Image) -> None:
    """Not blank: the picture has both light and dark pixels, with real spread."""
    gray = np.asarray(image.convert("L"), dtype=np.float64)
    assert gray.std() > 20
    assert gray.min() < 80 and gray.max() == 255


# --- hand-computed numbers -------------------------------------------------------------------


def test_the_confusion_matrix_has_true_classes_as_rows_in_label_order() -> None:
    evaluation = hand_case()

    assert evaluation.confusion_matrix == ((2, 1, 0), (0, 2, 0), (1, 0, 2))
    assert evaluation.confusion_dict() == {
        "labels": ["cat", "dog", "fox"],
        "matrix": [[2, 1, 0], [0, 2, 0], [1, 0, 2]],
    }


def test_per_class_scores_match_the_hand_computed_values() -> None:
    per_class = {scores.label: scores for scores in hand_case().per_class}

    assert per_class["cat"].precision == pytest.approx(2 / 3)
    assert per_class["cat"].recall == pytest.approx(2 / 3)
    assert per_class["cat"].f1 == pytest.approx(2 / 3)
    assert per_class["dog"].precision == pytest.approx(2 / 3)
    assert per_class["dog"].recall == pytest.approx(1.0)
    assert per_class["dog"].f1 == pytest.approx(0.8)
    assert per_class["fox"].precision == pytest.approx(1.0)
    assert per_class["fox"].recall == pytest.approx(2 / 3)
    assert per_class["fox"].f1 == pytest.approx(0.8)
    assert [scores.support for scores in per_class.values()] == [3, 2, 3]
    assert [scores.predicted for scores in per_class.values()] == [3, 3, 2]


def test_averages_match_the_hand_computed_values() -> None:
    evaluation = hand_case()

    assert evaluation.accuracy == pytest.approx(0.75)
    assert evaluation.macro.precision == pytest.approx(7 / 9)
    assert evaluation.macro.recall == pytest.approx(7 / 9)
    assert evaluation.macro.f1 == pytest.approx(34 / 45)
    assert evaluation.weighted.precision == pytest.approx(19 / 24)
    assert evaluation.weighted.recall == pytest.approx(0.75)
    assert evaluation.weighted.f1 == pytest.approx(0.75)
    assert dataclasses.astuple(evaluation.micro) == pytest.approx((0.75, 0.75, 0.75))


def test_log_loss_is_the_mean_negative_log_probability_of_the_true_class() -> None:
    true_class_probabilities = [0.8, 0.3, 0.5, 0.8, 0.7, 0.8, 0.05, 0.5]
    expected = -sum(math.log(p) for p in true_class_probabilities) / 8

    assert hand_case().log_loss == pytest.approx(expected)


def test_misclassified_items_come_most_confident_first_with_their_source() -> None:
    items = hand_case().misclassified_dicts()

    assert items == [
        {"index": 6, "source": "val/6.png", "label": "fox", "predicted": "cat", "score": 0.9}
        | {"thumbnail": None},
        {"index": 1, "source": "val/1.png", "label": "cat", "predicted": "dog", "score": 0.6}
        | {"thumbnail": None},
    ]


def test_without_scores_there_is_no_log_loss_and_mistakes_keep_their_order() -> None:
    evaluation = evaluate(LABELS, Y_TRUE, Y_PRED)

    assert evaluation.log_loss is None
    assert [(item.index, item.source, item.score) for item in evaluation.misclassified] == [
        (1, None, None),
        (6, None, None),
    ]


def test_numpy_arrays_are_accepted_as_indices() -> None:
    evaluation = evaluate(LABELS, np.array(Y_TRUE, dtype=np.int32), np.array(Y_PRED))

    assert evaluation.confusion_matrix == hand_case().confusion_matrix


def test_an_evaluation_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        hand_case().accuracy = 1.0  # type: ignore[misc]


# --- against scikit-learn on random data -----------------------------------------------------


@pytest.mark.parametrize(
    ("seed", "class_count", "sample_count"),
    [(0, 2, 50), (1, 5, 200), (2, 17, 300), (3, 40, 120), (4, 100, 1000)],
)
def test_every_number_matches_scikit_learn(seed: int, class_count: int, sample_count: int) -> None:
    y_true, y_pred, scores = random_case(seed, class_count, sample_count)
    labels = [f"class {index}" for index in range(class_count)]
    every_class = list(range(class_count))

    evaluation = evaluate(labels, y_true, y_pred, scores)

    def sklearn_prf(average: str | None) -> Any:
        return sklearn_metrics.precision_recall_fscore_support(
            y_true, y_pred, labels=every_class, average=average, zero_division=0
        )

    precision, recall, f1, support = sklearn_prf(None)
    per_class = evaluation.per_class
    assert [scores.precision for scores in per_class] == pytest.approx(precision)
    assert [scores.recall for scores in per_class] == pytest.approx(recall)
    assert [scores.f1 for scores in per_class] == pytest.approx(f1)
    assert [scores.support for scores in per_class] == support.tolist()
    for average in ("macro", "micro", "weighted"):
        expected = sklearn_prf(average)[:3]
        assert dataclasses.astuple(getattr(evaluation, average)) == pytest.approx(expected)
    assert evaluation.accuracy == pytest.approx(sklearn_metrics.accuracy_score(y_true, y_pred))
    assert np.array_equal(
        evaluation.confusion_matrix,
        sklearn_metrics.confusion_matrix(y_true, y_pred, labels=every_class),
    )
    expected_loss = sklearn_metrics.log_loss(y_true, scores, labels=every_class)
    assert evaluation.log_loss == pytest.approx(expected_loss)


def test_log_loss_matches_scikit_learn_when_the_true_class_has_probability_zero() -> None:
    scores = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    y_true = [1, 1, 0]

    evaluation = evaluate(["a", "b"], y_true, [0, 1, 0], scores)

    assert evaluation.log_loss is not None and math.isfinite(evaluation.log_loss)
    assert evaluation.log_loss == pytest.approx(sklearn_metrics.log_loss(y_true, scores))


# --- undefined ratios ------------------------------------------------------------------------


def test_a_class_never_predicted_gets_precision_0_and_a_note_without_warnings() -> None:
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        evaluation = evaluate(["cat", "dog", "fox"], [0, 1, 2, 2], [0, 1, 1, 0])

    fox = evaluation.per_class[2]
    assert (fox.precision, fox.recall, fox.f1, fox.predicted) == (0.0, 0.0, 0.0, 0)
    assert evaluation.notes == (
        "class 'fox' was never predicted: its precision is undefined and counted as 0",
    )
    expected = sklearn_metrics.precision_recall_fscore_support(
        [0, 1, 2, 2], [0, 1, 1, 0], labels=[0, 1, 2], average="macro", zero_division=0
    )
    assert dataclasses.astuple(evaluation.macro) == pytest.approx(expected[:3])


def test_a_class_without_images_gets_recall_0_and_json_has_no_nan() -> None:
    evaluation = evaluate(["cat", "dog", "fox"], [0, 0, 1], [0, 2, 1])

    fox = evaluation.per_class[2]
    assert (fox.precision, fox.recall, fox.support) == (0.0, 0.0, 0)
    assert any("'fox' has no images" in note for note in evaluation.notes)
    strict_json(json.dumps(evaluation.to_dict()))


def test_metrics_are_flat_names_for_run_logging_and_also_in_to_dict() -> None:
    evaluation = hand_case()

    metrics = evaluation.metrics()

    assert metrics["accuracy"] == pytest.approx(0.75)
    assert metrics["macro_precision"] == pytest.approx(7 / 9)
    assert metrics["weighted_precision"] == pytest.approx(19 / 24)
    assert metrics["micro_f1"] == pytest.approx(0.75)
    assert metrics["log_loss"] == evaluation.log_loss
    assert evaluation.to_dict().items() >= metrics.items()
    assert "log_loss" not in evaluate(LABELS, Y_TRUE, Y_PRED).metrics()
    assert evaluate(LABELS, Y_TRUE, Y_PRED).to_dict()["log_loss"] is None


def test_to_dict_holds_plain_python_numbers_only() -> None:
    y_true, y_pred, scores = random_case(5, 4, 60)

    payload = evaluate(list("abcd"), y_true, y_pred, scores).to_dict()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        else:
            assert value is None or type(value) in (str, int, float, bool), type(value)

    walk(payload)
    assert set(evaluate(list("abcd"), y_true, y_pred).metrics()) == {
        "accuracy",
        *(
            f"{average}_{score}"
            for average in ("macro", "micro", "weighted")
            for score in ("precision", "recall", "f1")
        ),
    }
    per_class_f1 = [scores["f1"] for scores in payload["per_class"]]
    assert payload["macro_f1"] == pytest.approx(sum(per_class_f1) / 4)
    assert payload["misclassified_count"] == int((y_true != y_pred).sum())
    assert payload["per_class"][0]["label"] == "a"
    assert payload["summary"].startswith("accuracy ")


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (([], [0], [0]), "no class labels given"),
        ((["a", "b", "a"], [0], [0]), "duplicate class labels 'a'"),
        ((["a", "b"], [], []), "y_true is empty"),
        ((["a", "b"], [0, 1], []), "y_pred is empty"),
        ((["a", "b"], [0, 1, 1], [0, 1]), "y_pred has 2 entries but y_true has 3"),
        ((["a", "b"], [0, 1], [0, 2]), "y_pred has class index 2 at position 1"),
        ((["a", "b"], [-1, 1], [0, 1]), "y_true has class index -1 at position 0"),
        ((["a", "b"], [0.0, 1.0], [0, 1]), "y_true must be a flat sequence of integer"),
        ((["a", "b"], [[0, 1]], [0, 1]), "y_true must be a flat sequence of integer"),
    ],
)
def test_bad_input_is_refused_in_one_line_naming_the_value_and_the_fix(
    arguments: tuple[Any, Any, Any], expected: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        evaluate(*arguments)

    message = str(caught.value)
    assert expected in message
    assert "; fix: " in message and "\n" not in message


def test_sources_of_the_wrong_length_are_refused() -> None:
    with pytest.raises(InvalidValue, match="sources has 2 entries but y_true has 8"):
        evaluate(LABELS, Y_TRUE, Y_PRED, sources=["a.png", "b.png"])


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        (SCORES[:, :2], r"scores has shape \(8, 2\), expected \(8, 3\)"),
        (SCORES * 3, "scores row 0 is not a probability distribution"),
        (np.where(SCORES == 0.9, np.nan, SCORES), "scores row 6 is not a probability"),
        (np.vstack([[1.2, -0.1, -0.1], SCORES[1:]]), r"scores row 0 .* min -0\.1"),
    ],
)
def test_scores_must_be_one_probability_row_per_image(scores: np.ndarray, expected: str) -> None:
    with pytest.raises(InvalidValue, match=expected) as caught:
        evaluate(LABELS, Y_TRUE, Y_PRED, scores)

    assert "fix: " in str(caught.value)


def test_refusals_carry_their_values_as_context() -> None:
    with pytest.raises(InvalidValue) as caught:
        evaluate(["a", "b"], [0, 1, 5], [0, 1, 1])

    assert caught.value.context == {
        "argument": "y_true",
        "position": 2,
        "value": 5,
        "class_count": 2,
    }


# --- the heat map ----------------------------------------------------------------------------


def test_the_png_is_a_drawn_heat_map_of_sensible_size() -> None:
    image = decode_png(render_confusion_png(LABELS, hand_case().confusion_matrix))

    assert image.format == "PNG" and image.mode == "RGB"
    assert 150 <= image.width <= 1000 and 150 <= image.height <= 1000
    assert_drawn(image)


def test_the_heat_map_is_shaded_by_each_rows_share() -> None:
    # A perfect classifier: the diagonal cells are fully dark, every other cell white.
    image = decode_png(render_confusion_png(["a", "b"], [[50, 0], [0, 1]]))

    pixels = np.asarray(image).reshape(-1, 3)
    dark_blue = np.all(pixels == (8, 48, 107), axis=1)
    assert dark_blue.sum() > 2 * 30 * 30  # two cells, most of each shaded fully


def test_two_classes_render() -> None:
    image = decode_png(render_confusion_png(["no", "yes"], [[3, 1], [0, 4]]))

    assert_drawn(image)


def test_a_hundred_classes_render_without_growing_without_bound() -> None:
    y_true, y_pred, _ = random_case(6, 100, 3000)
    labels = [f"n{index:08d}_some_long_imagenet_style_name" for index in range(100)]
    evaluation = evaluate(labels, y_true, y_pred)

    image = decode_png(render_confusion_png(labels, evaluation.confusion_matrix))

    assert 1000 <= image.width <= 2500 and 1000 <= image.height <= 2500
    assert_drawn(image)


def test_very_many_classes_still_render() -> None:
    counts = np.eye(400, dtype=np.int64) * 3

    image = decode_png(render_confusion_png([str(index) for index in range(400)], counts))

    assert image.width <= 2500 and image.height <= 2500
    assert_drawn(image)


UNICODE_LABELS = [
    "猫",
    "chien 🐕",
    "كلب",
    "Ñandú",
    "line\nbreak\ttab",
    "",
    "\ud800 lone surrogate",
    "x" * 5000,
    "e\u0301\u0301\u0301 combining",
]


def test_accented_labels_are_drawn_without_their_accents_as_the_font_lacks_them() -> None:
    # Pillow's built-in font has no "Ñ" or "ú": the picture of "Ñandú" must equal that of "Nandu".
    counts = [[3, 1], [0, 4]]

    accented = render_confusion_png(["Ñandú", "cat"], counts)

    assert accented == render_confusion_png(["Nandu", "cat"], counts)


def test_unicode_and_odd_labels_render() -> None:
    counts = np.arange(81, dtype=np.int64).reshape(9, 9)

    image = decode_png(render_confusion_png(UNICODE_LABELS, counts))

    assert image.width <= 1000
    assert_drawn(image)


def test_unicode_labels_render_with_the_bitmap_fallback_font(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without FreeType, Pillow's default font is a Latin-1 bitmap font that cannot encode "猫".
    monkeypatch.setattr(ImageFont, "load_default", lambda: ImageFont.load_default_imagefont())
    counts = np.arange(81, dtype=np.int64).reshape(9, 9)

    assert_drawn(decode_png(render_confusion_png(UNICODE_LABELS, counts)))


@pytest.mark.parametrize(
    "matrix",
    [[[1, 2, 3], [4, 5, 6]], [[1, -2], [3, 4]], [[0.5, 1], [1, 1]], []],
)
def test_a_matrix_that_is_not_square_counts_is_refused(matrix: Any) -> None:
    labels = ["a", "b"] if matrix else []

    with pytest.raises(InvalidValue, match="fix: "):
        render_confusion_png(labels, matrix)


# --- artifacts -------------------------------------------------------------------------------


def test_write_evaluation_writes_four_valid_artifacts(tmp_path: Path) -> None:
    evaluation = hand_case()
    folder = tmp_path / "run" / "evaluation"

    paths = write_evaluation(evaluation, folder)

    assert set(paths) == {
        "evaluation.json",
        "confusion_matrix.json",
        "confusion_matrix.png",
        "misclassified.json",
    }
    assert sorted(path.name for path in folder.iterdir()) == sorted(paths)  # no temp files
    assert strict_json(paths["evaluation.json"].read_text()) == evaluation.to_dict()
    assert strict_json(paths["confusion_matrix.json"].read_text()) == evaluation.confusion_dict()
    misclassified = strict_json(paths["misclassified.json"].read_text())
    assert [item["index"] for item in misclassified] == [6, 1]
    assert_drawn(decode_png(paths["confusion_matrix.png"].read_bytes()))


def test_write_evaluation_replaces_earlier_artifacts(tmp_path: Path) -> None:
    write_evaluation(hand_case(), tmp_path)

    paths = write_evaluation(evaluate(["a", "b"], [0, 1], [0, 1]), tmp_path)

    assert strict_json(paths["misclassified.json"].read_text()) == []
    assert strict_json(paths["evaluation.json"].read_text())["accuracy"] == 1.0


def write_images(folder: Path, count: int, size: tuple[int, int] = (400, 300)) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"{index}.png"
        Image.new("RGB", size, (index * 20 % 256, 90, 160)).save(path)
        paths.append(str(path))
    return paths


def test_misclassified_images_are_saved_as_small_thumbnails_named_in_the_json(
    tmp_path: Path,
) -> None:
    sources = write_images(tmp_path / "val", 8)
    evaluation = evaluate(LABELS, Y_TRUE, Y_PRED, SCORES, sources)
    folder = tmp_path / "evaluation"

    paths = write_evaluation(evaluation, folder)

    misclassified = strict_json(paths["misclassified.json"].read_text())
    assert [item["thumbnail"] for item in misclassified] == [
        "misclassified/6.jpg",
        "misclassified/1.jpg",
    ]
    with Image.open(folder / "misclassified" / "6.jpg") as thumbnail:
        assert thumbnail.format == "JPEG"
        assert max(thumbnail.size) == THUMBNAIL_PX
        assert thumbnail.size == (THUMBNAIL_PX, THUMBNAIL_PX * 3 // 4)  # the aspect kept


def test_thumbnails_are_bounded_most_confident_first_and_unreadable_ones_are_null(
    tmp_path: Path,
) -> None:
    sources = write_images(tmp_path / "val", 8)
    Path(sources[6]).write_bytes(b"not an image any more")
    evaluation = evaluate(LABELS, Y_TRUE, Y_PRED, SCORES, sources)

    paths = write_evaluation(evaluation, tmp_path / "evaluation", thumbnails_max=1)

    misclassified = strict_json(paths["misclassified.json"].read_text())
    # Index 6 is the most confident mistake but unreadable; index 1 is past the limit of 1.
    assert [item["thumbnail"] for item in misclassified] == [None, None]
    assert not (tmp_path / "evaluation" / "misclassified").exists()


def test_a_new_evaluation_removes_the_thumbnails_of_the_earlier_one(tmp_path: Path) -> None:
    sources = write_images(tmp_path / "val", 8)
    folder = tmp_path / "evaluation"
    write_evaluation(evaluate(LABELS, Y_TRUE, Y_PRED, SCORES, sources), folder)

    write_evaluation(evaluate(["a", "b"], [0, 1], [1, 1], sources=sources[:2]), folder)

    assert sorted(p.name for p in (folder / "misclassified").iterdir()) == ["0.jpg"]
