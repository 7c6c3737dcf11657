"""The batch-scoring output on a real disk: appended per mini-batch, and read back on resume as
the one account of what is done, whatever point a kill stopped the job at."""

from __future__ import annotations

import json
from pathlib import Path

from modelyard.serving.batch.ledger import (
    PREDICTIONS_FILE,
    PROGRESS_FILE,
    UNREADABLE_FILE,
    Ledger,
    Progress,
)


def prediction(name: str) -> dict[str, object]:
    return {"file": name, "Prediction": "cat", "Score": {"cat": 0.9, "dog": 0.1}}


def unreadable(name: str) -> dict[str, object]:
    return {"file": name, "reason": "corrupt", "detail": "broken"}


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_resumed_ledger_knows_every_file_already_written(tmp_path: Path) -> None:
    first = Ledger(tmp_path)
    first.append([prediction("a.png"), prediction("b.png")], [unreadable("c.jpg")])
    first.append([prediction("d/é.png")], [])

    again = Ledger(tmp_path)
    assert again.done == {"a.png", "b.png", "c.jpg", "d/é.png"}
    assert again.progress == Progress(scored=3, failed=1)
    assert again.recorded_progress() == Progress(scored=3, failed=1)
    assert [r["file"] for r in lines(tmp_path / PREDICTIONS_FILE)] == ["a.png", "b.png", "d/é.png"]


def test_lines_written_after_the_last_progress_record_still_count_as_done(tmp_path: Path) -> None:
    """A kill between appending a mini-batch and recording its progress: the output wins."""
    ledger = Ledger(tmp_path)
    ledger.append([prediction("a.png")], [])
    record = (tmp_path / PROGRESS_FILE).read_bytes()
    ledger.append([prediction("b.png")], [unreadable("c.jpg")])
    (tmp_path / PROGRESS_FILE).write_bytes(record)  # as if killed before this was written

    resumed = Ledger(tmp_path)
    assert resumed.recorded_progress() == Progress(scored=1, failed=0)
    assert resumed.done == {"a.png", "b.png", "c.jpg"}
    resumed.append([prediction("d.png")], [])
    names = [r["file"] for r in lines(tmp_path / PREDICTIONS_FILE)]
    assert names == ["a.png", "b.png", "d.png"]


def test_a_line_torn_by_a_kill_is_cut_off_and_its_file_scored_again(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    ledger.append([prediction("a.png")], [])
    with open(tmp_path / PREDICTIONS_FILE, "ab") as handle:
        handle.write(b'{"file":"b.png","Predic')  # the write a SIGKILL interrupted

    resumed = Ledger(tmp_path)
    assert resumed.done == {"a.png"}
    resumed.append([prediction("b.png")], [])
    assert [r["file"] for r in lines(tmp_path / PREDICTIONS_FILE)] == ["a.png", "b.png"]


def test_a_file_listed_twice_is_kept_once(tmp_path: Path) -> None:
    path = tmp_path / PREDICTIONS_FILE
    text = "".join(json.dumps(prediction(n)) + "\n" for n in ("a.png", "b.png", "a.png"))
    path.write_text(text, encoding="utf-8")

    assert Ledger(tmp_path).done == {"a.png", "b.png"}
    assert [r["file"] for r in lines(path)] == ["a.png", "b.png"]


def test_publish_copies_whole_files_and_leaves_predictions_out_when_asked(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "checkpoints")
    ledger.append([prediction("a.png")], [unreadable("b.jpg")])

    ledger.publish(tmp_path / "failed-outputs", include_predictions=False)
    assert sorted(p.name for p in (tmp_path / "failed-outputs").iterdir()) == [UNREADABLE_FILE]
    ledger.publish(tmp_path / "outputs")
    assert lines(tmp_path / "outputs" / PREDICTIONS_FILE) == [prediction("a.png")]
    assert lines(tmp_path / "outputs" / UNREADABLE_FILE) == [unreadable("b.jpg")]


def test_a_run_with_no_unreadable_file_publishes_an_empty_list(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "checkpoints")
    ledger.append([prediction("a.png")], [])
    ledger.publish(tmp_path / "outputs")
    assert (tmp_path / "outputs" / UNREADABLE_FILE).read_bytes() == b""
