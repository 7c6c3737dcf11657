"""What an import loads: the layers below the SDK stay light, and no extra is needed to import
the SDK or the CLI. (The layering itself is checked by `lint-imports` in `make lint`.)"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import modelyard
from base_install.blocking import EXTRAS_MODULES, python_without_extras

PACKAGE = Path(modelyard.__file__).parent
_SUBMODULES = {
    "modelyard."
    + ".".join(path.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__")
    for path in PACKAGE.rglob("*.py")
}
# The demo is the SDK's user, as a user writes it: the one module allowed the front door.
ALLOWED = {PACKAGE / "demo" / "run_demo.py"}
LOADED = """
import json, sys
{imports}
print(json.dumps(sorted(sys.modules)))
"""


def loaded_by(imports: str, cwd: Path) -> set[str]:
    """The modules a fresh python (extras blocked) has loaded after `imports`."""
    result = python_without_extras("-c", LOADED.format(imports=imports), cwd=cwd)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout))


def test_the_errors_module_loads_neither_the_sdk_nor_the_database_layer(tmp_path: Path) -> None:
    loaded = loaded_by("import modelyard.errors", tmp_path)
    ours = {name for name in loaded if name.split(".")[0] == "modelyard"}
    assert ours == {"modelyard", "modelyard._version", "modelyard.errors"}
    assert "sqlalchemy" not in loaded


def test_the_sdk_and_the_cli_import_without_any_extra(tmp_path: Path) -> None:
    loaded = loaded_by(
        "import modelyard\n"
        "from modelyard import *\n"  # every public name, each imported on first use
        "import modelyard.cli.main",
        tmp_path,
    )
    assert {"modelyard.sdk._objects", "modelyard.cli.main"} <= loaded
    assert not {name.split(".")[0] for name in loaded} & set(EXTRAS_MODULES)


def test_predict_without_the_vision_extra_is_an_import_error_naming_it(tmp_path: Path) -> None:
    code = (
        "try:\n"
        "    import modelyard.predict\n"
        "except ImportError as error:\n"
        "    print(type(error).__name__, error)\n"
    )
    result = python_without_extras("-c", code, cwd=tmp_path)
    assert result.stdout.startswith("MissingExtra modelyard.predict needs the 'vision' extra")
    assert result.stdout.strip().endswith("pip install 'modelyard[vision]'")


def _imports_of_the_root_package(source: Path) -> list[int]:
    """Lines of `source` that import the root package itself (`import modelyard`,
    `from modelyard import …`), not one of its modules."""
    lines = []
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module == "modelyard" and node.level == 0:
            names = [f"modelyard.{alias.name}" for alias in node.names]
            names = ["modelyard" for name in names if name not in _SUBMODULES]
        else:
            continue
        if "modelyard" in names:
            lines.append(node.lineno)
    return lines


def test_no_module_of_the_package_imports_its_root() -> None:
    """The root package is the SDK's front door: a module that imports it loads the SDK (and
    with it the database layer) and closes an import cycle through it."""
    offenders = {
        str(source.relative_to(PACKAGE)): lines
        for source in sorted(PACKAGE.rglob("*.py"))
        if source not in ALLOWED and source != PACKAGE / "__init__.py"
        if (lines := _imports_of_the_root_package(source))
    }
    assert offenders == {}, "import the module that defines the name instead"


def test_this_check_sees_a_root_import(tmp_path: Path) -> None:
    source = tmp_path / "example.py"
    source.write_text("from modelyard import errors\nfrom modelyard import Run\nimport modelyard\n")
    assert _imports_of_the_root_package(source) == [2, 3]
