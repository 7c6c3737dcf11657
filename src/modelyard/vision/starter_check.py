"""Running a generated ConsoleApp the way a user would: without Modelyard importable (in
`environments.isolated_python`'s clean interpreter).

`isolated_python(requirements.txt)` gives an interpreter (`python -S -s`) whose import path is
the standard library plus a temporary folder of symbolic links to the distributions the file
names and everything they require, resolved from this environment's installed metadata. No
`.pth` file runs and no site-packages folder is searched, so the editable `modelyard` install
that the tests run from stays out of sight: a generated project that imports Modelyard fails.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from modelyard.environments.isolated_python import isolated_python
from modelyard.errors import InvalidValue, JobFailed, NotFound
from modelyard.vision.codegen import (
    CONSOLE_MAIN_FILE,
    CONSOLE_PROJECT_SUFFIX,
    MODEL_PROJECT_SUFFIX,
    REQUIREMENTS_FILE,
)
from modelyard.vision.predictor import ModelOutput

DEFAULT_TIMEOUT_S: Final = 120.0
STDERR_TAIL_LINES: Final = 5


class RunningConsoleApp:
    """A ConsoleApp started by `console_app_started`; `output()` waits for what it prints."""

    def __init__(self, process: subprocess.Popen[str], main_file: Path, timeout_s: float) -> None:
        self.process = process
        self.main_file = main_file
        self.timeout_s = timeout_s

    def output(self) -> ModelOutput:
        # The time limit runs from here, not from the start: while the caller worked (on the
        # same cores) the app may have finished, or been slowed, and neither is its fault.
        try:
            stdout, stderr = self.process.communicate(timeout=self.timeout_s)
        except subprocess.TimeoutExpired as error:
            raise _timed_out(self.main_file, self.timeout_s) from error
        result = subprocess.CompletedProcess(
            self.process.args, self.process.returncode, stdout, stderr
        )
        return _parse_output(self.main_file, result)


def run_console_app(
    console_dir: Path, image: Path | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
) -> ModelOutput:
    """Run `<console_dir>/main.py --json [image]` in isolation and return what it printed."""
    with console_app_started(console_dir, image, timeout_s) as app:
        return app.output()


@contextmanager
def console_app_started(
    console_dir: Path, image: Path | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
) -> Iterator[RunningConsoleApp]:
    """`run_console_app`, started in the background so the caller can work meanwhile.

    Leaving the block stops the app if it is still running (the caller failed first).
    """
    console_dir = Path(console_dir).absolute()
    main_file = console_dir / CONSOLE_MAIN_FILE
    requirements = model_dir_for(console_dir) / REQUIREMENTS_FILE
    _require_files(main_file, requirements)
    arguments = [str(main_file), "--json"]
    if image is not None:
        arguments.append(str(Path(image).absolute()))
    with (
        isolated_python(requirements) as python,
        python.start(arguments, cwd=console_dir) as process,
    ):
        try:
            yield RunningConsoleApp(process, main_file, timeout_s)
        finally:
            if process.poll() is None:
                process.kill()


def _require_files(*required: Path) -> None:
    for path in required:
        if not path.is_file():
            raise NotFound(
                f"starter project file {str(path)!r}: no such file; fix: generate the "
                "starter projects again",
                path=str(path),
            )


def model_dir_for(console_dir: Path) -> Path:
    """`X.ConsoleApp` predicts with the model project beside it, `X.Model`."""
    if not console_dir.name.endswith(CONSOLE_PROJECT_SUFFIX):
        raise InvalidValue(
            f"{str(console_dir)!r} is not a console project: its name should end with "
            f"{CONSOLE_PROJECT_SUFFIX!r}; fix: pass the folder generate_starter wrote",
            path=str(console_dir),
        )
    name = console_dir.name.removesuffix(CONSOLE_PROJECT_SUFFIX)
    return console_dir.with_name(f"{name}{MODEL_PROJECT_SUFFIX}")


def _timed_out(main_file: Path, timeout_s: float) -> JobFailed:
    return JobFailed(
        f"starter console app {str(main_file)!r} did not finish within {timeout_s:g} s; "
        "fix: check that the model loads, or allow more time with timeout_s",
        path=str(main_file),
    )


def _parse_output(main_file: Path, result: subprocess.CompletedProcess[str]) -> ModelOutput:
    if result.returncode != 0:
        raise JobFailed(
            f"starter console app {str(main_file)!r} exited with {result.returncode}: "
            f"{_tail(result.stderr)}; fix: run it by hand to see the whole error",
            path=str(main_file),
            returncode=result.returncode,
        )
    try:
        printed = json.loads(result.stdout)
        return ModelOutput(str(printed["Prediction"]), [float(x) for x in printed["Score"]])
    except (ValueError, KeyError, TypeError) as error:
        raise JobFailed(
            f"starter console app {str(main_file)!r} printed {result.stdout[:200]!r}, not a "
            "JSON object with Prediction and Score; fix: regenerate the starter projects",
            path=str(main_file),
        ) from error


def _tail(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(lines[-STDERR_TAIL_LINES:]) or "(nothing on stderr)"
