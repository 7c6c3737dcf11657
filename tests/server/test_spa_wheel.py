"""A wheel built from the tree (`python -m build`, as `pip install .` builds one) carries the
portal app's page and its scripts: the server of an installed Modelyard serves /app/."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from server.spa_support import REPO, require_built_app

BUILD_TIMEOUT_S = 240
WHEEL_APP = "modelyard/server/spa/dist"


def test_a_wheel_built_from_the_tree_carries_the_app(tmp_path: Path) -> None:
    index = require_built_app()
    pytest.importorskip("build", reason="the dev extra's `build` package (make test installs it)")
    tree = tmp_path / "tree"  # a copy: setuptools' scratch folders stay out of the checkout
    tree.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, tree / name)
    ignored = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(REPO / "src", tree / "src", ignore=ignored)
    # No isolation: the build needs no download (setuptools is the dev venv's own).
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", "dist", "."],
        cwd=tree,
        check=True,
        capture_output=True,
        timeout=BUILD_TIMEOUT_S,
    )
    (wheel,) = (tree / "dist").glob("modelyard-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert f"{WHEEL_APP}/index.html" in names
    scripts = re.findall(r'src="/app/(assets/[^"]+\.js)"', index.read_text())
    assert scripts, "the page names no script"
    assert {f"{WHEEL_APP}/{script}" for script in scripts} <= names
    built = {f"{WHEEL_APP}/{path.relative_to(index.parent)}" for path in index.parent.rglob("*")}
    assert {name for name in built if "." in name.rsplit("/", 1)[-1]} <= names
