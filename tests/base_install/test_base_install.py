"""The base-install check (`make base-install-check`), run here with the extras made unimportable:
the same script, without building a venv."""

from __future__ import annotations

from pathlib import Path

from base_install.blocking import python_without_extras

CHECK = Path(__file__).parent / "check_base_install.py"


def test_the_cli_and_sdk_work_without_extras_and_name_the_missing_ones(tmp_path: Path) -> None:
    result = python_without_extras(str(CHECK), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "missing extras are named" in result.stdout
