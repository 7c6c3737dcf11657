"""How well an image classifier does on its validation set, as numbers, JSON and a picture.

`evaluate` turns class indices (and, when the model gives them, class probabilities) into an
`Evaluation`: accuracy, macro / micro / weighted precision, recall and F1, the same per class,
the confusion matrix (rows are true classes, columns predicted ones, both in label order), the
log-loss and the misclassified images, most confident mistakes first. The numbers follow
scikit-learn's conventions, so they can be checked against it: an undefined ratio (a class never
predicted, or with no images) counts as 0 and is explained in `notes`, never NaN.

`write_evaluation` writes the run artifacts: evaluation.json, confusion_matrix.json,
confusion_matrix.png (drawn by `render_confusion_png`) and misclassified.json, with thumbnails
of the most confident mistakes (`thumbnails.py`) for the portal to show.

NumPy and Pillow only: this runs inside training jobs, where plotting libraries are not installed.
"""

from __future__ import annotations

import io
import math
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from modelyard.errors import InvalidValue
from modelyard.fileio import write_bytes_atomic, write_json_atomic
from modelyard.vision.thumbnails import THUMBNAILS_MAX, write_thumbnails

EVALUATION_FILE: Final = "evaluation.json"
CONFUSION_JSON_FILE: Final = "confusion_matrix.json"
CONFUSION_PNG_FILE: Final = "confusion_matrix.png"
MISCLASSIFIED_FILE: Final = "misclassified.json"

# Probabilities from a float32 softmax over many classes drift from 1 by far less than this;
# anything further off is logits or unnormalised scores, which would make the log-loss meaningless.
SCORE_SUM_TOLERANCE: Final = 1e-3
_LOG_EPS: Final = float(np.finfo(np.float64).eps)  # clip as scikit-learn does, so log(0) is finite

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Indices = Sequence[int] | npt.NDArray[Any]
CountMatrix = Sequence[Sequence[int]] | npt.NDArray[Any]


@dataclass(frozen=True)
class AveragedScores:
    precision: float
    recall: float
    f1: float

    def to_dict(self, prefix: str) -> dict[str, float]:
        """Flat keys (`macro_f1`), usable as run metric names as they are."""
        return {
            f"{prefix}_precision": self.precision,
            f"{prefix}_recall": self.recall,
            f"{prefix}_f1": self.f1,
        }


@dataclass(frozen=True)
class ClassScores:
    label: str
    precision: float  # 0 when the class was never predicted
    recall: float  # 0 when the class has no images in the validation set
    f1: float
    support: int  # images whose true class this is
    predicted: int  # images predicted as this class

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "support": self.support,
            "predicted": self.predicted,
        }


@dataclass(frozen=True)
class MisclassifiedItem:
    index: int  # position in the validation set
    source: str | None  # the image path, when sources were given
    label: str
    predicted: str
    score: float | None  # the model's probability for the predicted class, when scores were given

    def to_dict(self, thumbnail: str | None = None) -> dict[str, Any]:
        return {
            "index": self.index,
            "source": self.source,
            "label": self.label,
            "predicted": self.predicted,
            "score": self.score,
            "thumbnail": thumbnail,  # relative to misclassified.json's folder; null: none saved
        }


@dataclass(frozen=True)
class Evaluation:
    labels: tuple[str, ...]
    sample_count: int
    accuracy: float
    macro: AveragedScores
    micro: AveragedScores  # equal to accuracy for single-label classification
    weighted: AveragedScores  # averaged with each class weighted by its support
    per_class: tuple[ClassScores, ...]
    confusion_matrix: tuple[tuple[int, ...], ...]  # [true][predicted], label order
    log_loss: float | None  # natural log, None without scores
    misclassified: tuple[MisclassifiedItem, ...]  # most confident mistakes first
    notes: tuple[str, ...]  # why some per-class numbers are 0

    def to_dict(self) -> dict[str, Any]:
        """The evaluation.json artifact (misclassified items are counted here, listed apart)."""
        return {
            "summary": self.summary_line(),
            "sample_count": self.sample_count,
            "class_count": len(self.labels),
            **self.metrics(),
            "log_loss": self.log_loss,  # again, so the key is there (null) without scores
            "per_class": [scores.to_dict() for scores in self.per_class],
            "misclassified_count": len(self.misclassified),
            "notes": list(self.notes),
        }

    def metrics(self) -> dict[str, float]:
        """The headline numbers by metric name, for `run.log_metrics` (log_loss when known)."""
        numbers = {
            "accuracy": self.accuracy,
            **self.macro.to_dict("macro"),
            **self.micro.to_dict("micro"),
            **self.weighted.to_dict("weighted"),
        }
        if self.log_loss is not None:
            numbers["log_loss"] = self.log_loss
        return numbers

    def confusion_dict(self) -> dict[str, Any]:
        return {"labels": list(self.labels), "matrix": [list(row) for row in self.confusion_matrix]}

    def misclassified_dicts(self, thumbnails: dict[int, str] | None = None) -> list[dict[str, Any]]:
        """misclassified.json; `thumbnails` maps an item's index to its saved thumbnail."""
        saved = thumbnails or {}
        return [item.to_dict(saved.get(item.index)) for item in self.misclassified]

    def summary_line(self) -> str:
        line = (
            f"accuracy {self.accuracy:.1%} on {self.sample_count} images in "
            f"{len(self.labels)} classes, macro F1 {self.macro.f1:.3f}"
        )
        if self.log_loss is not None:
            line += f", log-loss {self.log_loss:.4f}"
        return f"{line}; {len(self.misclassified)} misclassified"


def evaluate(
    labels: Sequence[str],
    y_true: Indices,
    y_pred: Indices,
    scores: np.ndarray | None = None,
    sources: Sequence[str] | None = None,
) -> Evaluation:
    """Score predictions; y_true and y_pred hold indices into `labels`, scores[i] probabilities."""
    names = _checked_labels(labels)
    true = _checked_indices("y_true", y_true, len(names))
    pred = _checked_indices("y_pred", y_pred, len(names))
    _check_same_length("y_pred", len(pred), len(true))
    if sources is not None:
        _check_same_length("sources", len(sources), len(true))
    probabilities = None if scores is None else _checked_scores(scores, len(true), len(names))
    matrix = confusion_counts(true, pred, len(names))
    per_class = _per_class_scores(names, matrix)
    return Evaluation(
        labels=names,
        sample_count=len(true),
        accuracy=_accuracy(matrix),
        macro=_macro_average(per_class),
        micro=_micro_average(matrix),
        weighted=_weighted_average(per_class),
        per_class=per_class,
        confusion_matrix=tuple(tuple(int(count) for count in row) for row in matrix),
        log_loss=None if probabilities is None else _log_loss(true, probabilities),
        misclassified=_misclassified(names, true, pred, probabilities, sources),
        notes=_undefined_score_notes(per_class),
    )


def write_evaluation(
    evaluation: Evaluation, folder: Path, thumbnails_max: int = THUMBNAILS_MAX
) -> dict[str, Path]:
    """Write the four artifacts atomically, and up to `thumbnails_max` thumbnails of
    misclassified images in `folder/misclassified/`; returns the four paths by file name."""
    paths = {
        name: folder / name
        for name in (EVALUATION_FILE, CONFUSION_JSON_FILE, CONFUSION_PNG_FILE, MISCLASSIFIED_FILE)
    }
    # Drawing is the step most likely to fail, so it goes before anything is written.
    png = render_confusion_png(evaluation.labels, evaluation.confusion_matrix)
    write_json_atomic(paths[EVALUATION_FILE], evaluation.to_dict())
    write_json_atomic(paths[CONFUSION_JSON_FILE], evaluation.confusion_dict())
    write_bytes_atomic(paths[CONFUSION_PNG_FILE], png)
    sources = [(item.index, item.source) for item in evaluation.misclassified]
    thumbnails = write_thumbnails(sources, folder, thumbnails_max)
    write_json_atomic(paths[MISCLASSIFIED_FILE], evaluation.misclassified_dicts(thumbnails))
    return paths


def confusion_counts(y_true: IntArray, y_pred: IntArray, class_count: int) -> IntArray:
    """counts[t, p] = images of true class t predicted as p (indices already checked)."""
    flat = np.bincount(y_true * class_count + y_pred, minlength=class_count * class_count)
    return flat.reshape(class_count, class_count).astype(np.int64)


# --- metrics ---------------------------------------------------------------------------------


def _per_class_scores(labels: tuple[str, ...], matrix: IntArray) -> tuple[ClassScores, ...]:
    hits = np.diag(matrix)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    precision = _ratio(hits, predicted)
    recall = _ratio(hits, support)
    # 2·tp / (2·tp + fp + fn) is the harmonic mean of precision and recall without dividing by
    # a zero precision; it is scikit-learn's formula too.
    f1 = _ratio(2 * hits, support + predicted)
    return tuple(
        ClassScores(
            label,
            float(precision[index]),
            float(recall[index]),
            float(f1[index]),
            int(support[index]),
            int(predicted[index]),
        )
        for index, label in enumerate(labels)
    )


def _ratio(numerator: IntArray, denominator: IntArray) -> FloatArray:
    """numerator / denominator, 0 where the denominator is 0 (no warning, no NaN)."""
    result = np.zeros(numerator.shape, dtype=np.float64)
    np.divide(numerator, denominator, out=result, where=denominator > 0)
    return result


def _accuracy(matrix: IntArray) -> float:
    return float(np.trace(matrix) / matrix.sum())


def _micro_average(matrix: IntArray) -> AveragedScores:
    # With one label per image every mistake is one false positive and one false negative, so
    # micro precision, recall and F1 all equal the accuracy.
    accuracy = _accuracy(matrix)
    return AveragedScores(accuracy, accuracy, accuracy)


def _macro_average(per_class: tuple[ClassScores, ...]) -> AveragedScores:
    return AveragedScores(
        float(np.mean([scores.precision for scores in per_class])),
        float(np.mean([scores.recall for scores in per_class])),
        float(np.mean([scores.f1 for scores in per_class])),
    )


def _weighted_average(per_class: tuple[ClassScores, ...]) -> AveragedScores:
    weights = np.array([scores.support for scores in per_class], dtype=np.float64)
    return AveragedScores(
        float(np.average([scores.precision for scores in per_class], weights=weights)),
        float(np.average([scores.recall for scores in per_class], weights=weights)),
        float(np.average([scores.f1 for scores in per_class], weights=weights)),
    )


def _log_loss(y_true: IntArray, probabilities: FloatArray) -> float:
    true_class_probability = probabilities[np.arange(len(y_true)), y_true]
    clipped = np.clip(true_class_probability, _LOG_EPS, 1 - _LOG_EPS)
    return float(-np.mean(np.log(clipped)))


def _misclassified(
    labels: tuple[str, ...],
    y_true: IntArray,
    y_pred: IntArray,
    probabilities: FloatArray | None,
    sources: Sequence[str] | None,
) -> tuple[MisclassifiedItem, ...]:
    items = [
        MisclassifiedItem(
            index=index,
            source=None if sources is None else str(sources[index]),
            label=labels[y_true[index]],
            predicted=labels[y_pred[index]],
            score=None if probabilities is None else float(probabilities[index, y_pred[index]]),
        )
        for index in np.flatnonzero(y_true != y_pred).tolist()
    ]
    # Confident mistakes first: they are the likeliest labelling errors in the data set.
    items.sort(key=lambda item: (-(item.score or 0.0), item.index))
    return tuple(items)


def _undefined_score_notes(per_class: tuple[ClassScores, ...]) -> tuple[str, ...]:
    notes = []
    for scores in per_class:
        if scores.predicted == 0:
            notes.append(
                f"class {scores.label!r} was never predicted: its precision is undefined and "
                "counted as 0"
            )
        if scores.support == 0:
            notes.append(
                f"class {scores.label!r} has no images in the validation set: its recall is "
                "undefined and counted as 0"
            )
    return tuple(notes)


# --- input checks ----------------------------------------------------------------------------


def _checked_labels(labels: Sequence[str]) -> tuple[str, ...]:
    names = tuple(str(label) for label in labels)
    if not names:
        raise InvalidValue(
            "no class labels given; fix: pass the label names in class-index order",
            labels=[],
        )
    duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicates:
        raise InvalidValue(
            f"duplicate class labels {', '.join(map(repr, duplicates))}; fix: pass each label "
            "once, in class-index order",
            duplicates=duplicates,
        )
    return names


def _checked_indices(name: str, values: Indices, class_count: int) -> IntArray:
    array = np.asarray(values)
    if array.size == 0:
        raise InvalidValue(
            f"{name} is empty: there are no predictions to evaluate; fix: evaluate on a "
            "validation set with at least one image",
            argument=name,
        )
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise InvalidValue(
            f"{name} must be a flat sequence of integer class indices, got shape "
            f"{array.shape} of {array.dtype}; fix: pass one class index per image (argmax of "
            "the scores), not labels, one-hot rows or probabilities",
            argument=name,
            shape=list(array.shape),
            dtype=str(array.dtype),
        )
    _check_in_range(name, array, class_count)
    return array.astype(np.int64)


def _check_in_range(name: str, array: npt.NDArray[Any], class_count: int) -> None:
    outside = np.flatnonzero((array < 0) | (array >= class_count))
    if outside.size == 0:
        return
    position = int(outside[0])
    raise InvalidValue(
        f"{name} has class index {int(array[position])} at position {position} ("
        f"{outside.size} out of range in all), outside 0..{class_count - 1} for "
        f"{class_count} labels; fix: pass indices into labels, or add the missing labels",
        argument=name,
        position=position,
        value=int(array[position]),
        class_count=class_count,
    )


def _check_same_length(name: str, length: int, expected: int) -> None:
    if length != expected:
        raise InvalidValue(
            f"{name} has {length} entries but y_true has {expected}; fix: pass one entry per "
            "validation image, in the same order",
            argument=name,
            length=length,
            expected=expected,
        )


def _checked_scores(scores: np.ndarray, sample_count: int, class_count: int) -> FloatArray:
    array = np.asarray(scores, dtype=np.float64)
    if array.shape != (sample_count, class_count):
        raise InvalidValue(
            f"scores has shape {array.shape}, expected ({sample_count}, {class_count}) (one row "
            "per image, one column per label); fix: pass the model's class probabilities",
            shape=list(array.shape),
            expected=[sample_count, class_count],
        )
    _check_probability_rows(array)
    return array


def _check_probability_rows(array: FloatArray) -> None:
    sums = array.sum(axis=1)
    bad_rows = np.flatnonzero(
        ~np.isfinite(sums) | (array < 0).any(axis=1) | (np.abs(sums - 1) > SCORE_SUM_TOLERANCE)
    )
    if bad_rows.size == 0:
        return
    row = int(bad_rows[0])
    raise InvalidValue(
        f"scores row {row} is not a probability distribution (sum {float(sums[row]):.4g}, min "
        f"{float(array[row].min()):.4g}; {bad_rows.size} such rows); fix: pass softmax "
        "probabilities (non-negative, each row summing to 1), not logits",
        row=row,
        bad_row_count=int(bad_rows.size),
    )


# --- confusion-matrix picture ----------------------------------------------------------------

Font = ImageFont.ImageFont | ImageFont.FreeTypeFont

MAX_CELL_PX: Final = 64  # a 2-class matrix is still a compact picture
MIN_CELL_PX: Final = 3  # below this a cell is not visible any more
GRID_TARGET_PX: Final = 1600  # the grid shrinks its cells to stay about this wide
MAX_LABEL_PX: Final = 150  # longer label names are shortened in the middle
_MAX_LABEL_CHARS: Final = 200  # far more than MAX_LABEL_PX holds
_ZERO_COUNT_MIN_CELL_PX: Final = 24
_PAD: Final = 10
_GAP: Final = 4
_WHITE: Final = (255, 255, 255)
_BLACK: Final = (0, 0, 0)
_DARK_BLUE: Final = (8, 48, 107)  # the dark end of matplotlib's "Blues"
_ZERO_GREY: Final = (170, 170, 170)
_LINE_GREY: Final = (215, 215, 215)


@dataclass(frozen=True)
class _Layout:
    class_count: int
    cell: int
    line_height: int
    text_height: int  # of the glyphs alone, without the space between lines
    label_width: int
    grid_left: int
    grid_top: int
    width: int
    height: int

    @property
    def grid_size(self) -> int:
        return self.cell * self.class_count

    @property
    def label_stride(self) -> int:
        """Label every k-th row and column when the cells are thinner than a line of text."""
        return max(1, math.ceil(self.text_height / self.cell))

    def cell_box(self, row: int, column: int) -> tuple[int, int, int, int]:
        left = self.grid_left + column * self.cell
        top = self.grid_top + row * self.cell
        return left, top, left + self.cell - 1, top + self.cell - 1


def render_confusion_png(labels: Sequence[str], matrix: CountMatrix) -> bytes:
    """A heat map of counts[true][predicted], shaded by each true class's share, as PNG bytes."""
    counts = _checked_matrix(labels, matrix)
    font = ImageFont.load_default()
    names = [_fit_text(_displayable(label, font), font, MAX_LABEL_PX) for label in labels]
    titles = _titles(counts)
    layout = _layout(len(names), names, titles, font)
    image = Image.new("RGB", (layout.width, layout.height), _WHITE)
    draw = ImageDraw.Draw(image)
    _draw_titles(draw, titles, font, layout)
    _draw_cells(draw, counts, font, layout)
    _draw_row_labels(draw, names, font, layout)
    _draw_column_labels(image, names, font, layout)
    _draw_axis_titles(image, draw, font, layout)
    return _png_bytes(image)


def _checked_matrix(labels: Sequence[str], matrix: CountMatrix) -> IntArray:
    array = np.asarray(matrix)
    class_count = len(labels)
    if class_count == 0 or array.shape != (class_count, class_count):
        raise InvalidValue(
            f"confusion matrix has shape {array.shape} for {class_count} labels; fix: pass a "
            "square matrix with one row and one column per label",
            shape=list(array.shape),
            class_count=class_count,
        )
    if not np.issubdtype(array.dtype, np.integer) or (array < 0).any():
        raise InvalidValue(
            f"confusion matrix must hold non-negative integer counts, got {array.dtype}; fix: "
            "pass the counts from evaluate(...).confusion_matrix",
            dtype=str(array.dtype),
        )
    return array.astype(np.int64)


def _titles(counts: IntArray) -> tuple[str, str]:
    total = int(counts.sum())
    accuracy = f"accuracy {np.trace(counts) / total:.1%}" if total else "no images"
    return (
        "confusion matrix",
        f"{total} images, {accuracy}; shade = share of the true class",
    )


def _layout(class_count: int, names: list[str], titles: tuple[str, str], font: Font) -> _Layout:
    line_height = _line_height(font)
    cell = max(MIN_CELL_PX, min(MAX_CELL_PX, GRID_TARGET_PX // class_count))
    label_width = max(math.ceil(font.getlength(name)) for name in names)
    grid_left = _PAD + line_height + _GAP + label_width + _GAP
    grid_top = _PAD + 2 * line_height + _PAD + line_height + _GAP + label_width + _GAP
    title_width = max(math.ceil(font.getlength(title)) for title in titles) + 2 * _PAD
    grid_size = cell * class_count
    return _Layout(
        class_count=class_count,
        cell=cell,
        line_height=line_height,
        text_height=_text_height(font),
        label_width=label_width,
        grid_left=grid_left,
        grid_top=grid_top,
        width=max(grid_left + grid_size + _PAD, title_width),
        height=grid_top + grid_size + _PAD,
    )


def _draw_titles(
    draw: ImageDraw.ImageDraw, titles: tuple[str, str], font: Font, layout: _Layout
) -> None:
    for line, title in enumerate(titles):
        draw.text((_PAD, _PAD + line * layout.line_height), title, fill=_BLACK, font=font)


def _draw_cells(draw: ImageDraw.ImageDraw, counts: IntArray, font: Font, layout: _Layout) -> None:
    row_totals = counts.sum(axis=1, keepdims=True)
    shares = np.zeros(counts.shape, dtype=np.float64)
    np.divide(counts, row_totals, out=shares, where=row_totals > 0)
    outline = _LINE_GREY if layout.cell >= 8 else None  # thin cells would be all outline
    for (row, column), count in np.ndenumerate(counts):
        box = layout.cell_box(row, column)
        share = float(shares[row, column])
        draw.rectangle(box, fill=_shade(share), outline=outline)
        _draw_count(draw, int(count), share, box, font)
    right = layout.grid_left + layout.grid_size
    bottom = layout.grid_top + layout.grid_size
    draw.rectangle((layout.grid_left - 1, layout.grid_top - 1, right, bottom), outline=_BLACK)


def _draw_count(
    draw: ImageDraw.ImageDraw,
    count: int,
    share: float,
    box: tuple[int, int, int, int],
    font: Font,
) -> None:
    text = str(count)
    left, top, right, bottom = font.getbbox(text)
    cell = box[2] - box[0] + 1
    if right - left > cell - 2 or bottom - top > cell - 2:
        return  # too dense to write in; the shade still shows the pattern
    if count == 0 and cell < _ZERO_COUNT_MIN_CELL_PX:
        return  # a dense matrix is mostly zeros, and writing them hides the counts that matter
    fill = _ZERO_GREY if count == 0 else (_WHITE if share > 0.5 else _BLACK)
    x = (box[0] + box[2] + 1) / 2 - (left + right) / 2
    y = (box[1] + box[3] + 1) / 2 - (top + bottom) / 2
    draw.text((x, y), text, fill=fill, font=font)


def _shade(share: float) -> tuple[int, int, int]:
    return (
        round(_WHITE[0] + (_DARK_BLUE[0] - _WHITE[0]) * share),
        round(_WHITE[1] + (_DARK_BLUE[1] - _WHITE[1]) * share),
        round(_WHITE[2] + (_DARK_BLUE[2] - _WHITE[2]) * share),
    )


def _draw_row_labels(
    draw: ImageDraw.ImageDraw, names: list[str], font: Font, layout: _Layout
) -> None:
    right_edge = layout.grid_left - _GAP
    for row in range(0, len(names), layout.label_stride):
        name = names[row]
        center = layout.grid_top + row * layout.cell + layout.cell / 2
        _, top, _, bottom = font.getbbox(name or " ")
        x = right_edge - font.getlength(name)
        draw.text((x, center - (top + bottom) / 2), name, fill=_BLACK, font=font)


def _draw_column_labels(image: Image.Image, names: list[str], font: Font, layout: _Layout) -> None:
    # Written bottom to top, ending just above the grid, as plotting libraries do.
    bottom_edge = layout.grid_top - _GAP
    for column in range(0, len(names), layout.label_stride):
        center = layout.grid_left + column * layout.cell + layout.cell / 2
        text = _vertical_text(names[column], font, layout.line_height)
        image.paste(_BLACK, (round(center - text.width / 2), bottom_edge - text.height), mask=text)


def _draw_axis_titles(
    image: Image.Image, draw: ImageDraw.ImageDraw, font: Font, layout: _Layout
) -> None:
    grid_center = layout.grid_size / 2
    predicted_top = _PAD + 2 * layout.line_height + _PAD
    predicted_x = layout.grid_left + grid_center - font.getlength("predicted") / 2
    draw.text((predicted_x, predicted_top), "predicted", fill=_BLACK, font=font)
    true_text = _vertical_text("true", font, layout.line_height)
    true_top = round(layout.grid_top + grid_center - true_text.height / 2)
    image.paste(_BLACK, (_PAD, true_top), mask=true_text)


def _vertical_text(text: str, font: Font, line_height: int) -> Image.Image:
    """A mask with `text` turned a quarter turn anticlockwise, to be pasted in a colour."""
    mask = Image.new("L", (max(1, math.ceil(font.getlength(text))), line_height), 0)
    ImageDraw.Draw(mask).text((0, 0), text, fill=255, font=font)
    return mask.rotate(90, expand=True)


def _text_height(font: Font) -> int:
    _, top, _, bottom = font.getbbox("Hg")
    return math.ceil(bottom - top)


def _line_height(font: Font) -> int:
    return math.ceil(font.getbbox("Hg|")[3]) + 1


def _displayable(label: str, font: Font) -> str:
    """The label as the font can draw it (the JSON artifacts keep it exactly)."""
    if len(label) > _MAX_LABEL_CHARS:  # no point measuring what will be cut anyway
        label = label[: _MAX_LABEL_CHARS // 2] + label[-_MAX_LABEL_CHARS // 2 :]
    # Control characters would start new lines or draw nothing, and lone surrogates cannot be
    # encoded for FreeType.
    text = "".join(char if char.isprintable() else " " for char in label).strip() or "(blank)"
    # Pillow's built-in font has ASCII glyphs only: "Ñandú" reads better as "Nandu" than as
    # boxes. Scripts without an ASCII form (CJK, Arabic) still draw as boxes, without failing.
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in decomposed if not unicodedata.combining(char)) or text
    if isinstance(font, ImageFont.FreeTypeFont):
        return text
    # The bitmap font Pillow falls back to without FreeType cannot encode beyond Latin-1.
    return text.encode("latin-1", errors="replace").decode("latin-1")


def _fit_text(text: str, font: Font, max_width: int) -> str:
    """`text`, shortened in the middle to fit: label names often differ only at their ends."""
    if font.getlength(text) <= max_width:
        return text
    ellipsis = "…" if isinstance(font, ImageFont.FreeTypeFont) else ".."
    kept_low, kept_high = 0, len(text) - 1  # characters kept; binary search for the most
    while kept_low < kept_high:
        kept = (kept_low + kept_high + 1) // 2
        if font.getlength(_middle_cut(text, kept, ellipsis)) <= max_width:
            kept_low = kept
        else:
            kept_high = kept - 1
    return _middle_cut(text, kept_low, ellipsis)


def _middle_cut(text: str, kept: int, ellipsis: str) -> str:
    head = math.ceil(kept * 2 / 3)  # the start says more about a name than its end
    tail = kept - head
    return text[:head] + ellipsis + (text[len(text) - tail :] if tail else "")


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
