"""What tables and lines show people: whole ids, paths and URLs at any width, rounded numbers."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from modelyard.cli import output


@pytest.fixture
def printed(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """The CLI's console, 60 columns wide and not a terminal, as when piped."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=60, soft_wrap=True, color_system=None)
    monkeypatch.setattr(output, "console", console)
    return buffer


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.7047549999999999, "0.7048"),
        (21.0, "21"),
        (-3.0, "-3"),
        (12345.678912, "12345.6789"),
        (0.000012345, "1.234e-05"),
        (0.5, "0.5"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
    ],
)
def test_numbers_are_rounded_for_people(value: float, shown: str) -> None:
    assert output.format_number(value) == shown


def test_a_narrow_table_wraps_words_but_never_breaks_an_id_path_or_url(
    printed: io.StringIO,
) -> None:
    run_id = "b523b72f" * 4
    path = "/home/someone/projects/flowers/model/with/a/long/path/MLModel.zip"
    url = "http://127.0.0.1:8765/runs/" + run_id
    error = "the script exited with code 1 after printing a long explanation of what went wrong"
    output.emit_mapping("Run", {"id": run_id, "path": path, "url": url, "error": error}, False)
    text = printed.getvalue()
    for whole in (run_id, path, url):
        assert whole in text, text
    assert "…" not in text
    assert "the script exited" in text and "went wrong" in text  # wrapped between words


def test_a_long_line_is_never_wrapped(printed: io.StringIO) -> None:
    token = "myd_" + "a" * 24 + "_" + "b" * 43
    output.console.print(f"Created the admin API token (shown once):\n  {token}")
    assert f"  {token}\n" in printed.getvalue()


def test_durations_and_times_for_people() -> None:
    assert output.format_duration(None) == ""
    assert output.format_duration(4.25) == "4.2s"
    assert output.format_duration(125) == "2m 05s"
    assert output.format_duration(3 * 3600 + 62) == "3h 01m 02s"
    assert output.format_time("2030-01-02T03:04:05.678901+00:00").count(":") == 2


def test_a_table_wider_than_the_terminal_keeps_every_column(printed: io.StringIO) -> None:
    path = "/tmp/" + "deep/" * 15 + "red circle/notes 00.png"  # longer than the 60 columns
    output.emit_table("Files", ["reason", "files", "first files"], [["not_an_image", 58, path]],
                      whole={"first files"})  # fmt: skip
    text = printed.getvalue()
    assert path in text and "not_an_image" in text and "58" in text
