"""One-way layers, checked on the import graph (every import statement, function-level ones too).

orchestration (Dagster code location, CLI) -> assets -> quality -> engine (spark_jobs) -> lake
layer (Delta tables, storage, config files, Spark session). Settings sit beside the lake layer
but only orchestration and assets read them: the engine and the gates receive values as
arguments. infra (starting local services) is a leaf that only orchestration uses. See
docs/architecture.md.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("orchestration", "assets", "spark_jobs", "quality", "infra")

# The layer of a module is the one of its longest listed prefix.
LAYER_OF_PREFIX = {
    "orchestration": "orchestration",
    "assets": "assets",
    "quality": "quality",
    "spark_jobs": "engine",
    # The lake layer: how tables are stored, committed, read and described.
    "spark_jobs.delta": "lake",
    "spark_jobs.lake": "lake",
    "spark_jobs.storage": "lake",
    "spark_jobs.config_files": "lake",
    "spark_jobs.session": "lake",
    # The one settings object (it reads PILEHOUSE_* and profiles.yaml).
    "spark_jobs.settings": "settings",
    "infra": "infra",
}
MAY_IMPORT = {
    "orchestration": {"orchestration", "assets", "quality", "engine", "lake", "settings", "infra"},
    "assets": {"assets", "quality", "engine", "lake", "settings"},
    # Gates measure what the engine computes (PII spans, license classes); never the reverse.
    "quality": {"quality", "engine", "lake"},
    "engine": {"engine", "lake"},
    "settings": {"settings", "lake"},
    "lake": {"lake"},
    "infra": {"infra"},
}
# Neither the engine nor the gates know about the orchestrator.
NO_DAGSTER = {"quality", "engine", "lake", "settings", "infra"}
# Below the settings object nothing reads PILEHOUSE_* variables or the orchestration folder.
RECEIVES_SETTINGS = {"assets", "quality", "engine", "lake"}
# Known and dated; each names what removes it.
EXCEPTIONS = {
    # The shipped mixture recipes are registered as tables when the module loads, so SQL and
    # the catalog of a fresh process know mixtures/<name>. The one table registry (issue 16)
    # finds them in storage instead and removes this.
    "spark_jobs/lake.py: finds a file under orchestration/ by path (take it as an argument)",
}


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        layer = LAYER_OF_PREFIX.get(".".join(parts[:end]))
        if layer is not None:
            return layer
    return None


def modules(root: Path) -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


def imported_modules(module: str, path: Path, tree: ast.AST) -> Iterator[tuple[int, str, str]]:
    """(line, module as written, what it names) for every import, relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from spark_jobs import settings` imports the module spark_jobs.settings.
            for alias in node.names:
                yield node.lineno, base, f"{base}.{alias.name}"


def violations(root: Path) -> list[str]:
    found = []
    for module, path in modules(root):
        layer = layer_of(module)
        tree = ast.parse(path.read_text(), filename=str(path))
        where = path.relative_to(root)
        for line, written, target in imported_modules(module, path, tree):
            top = target.split(".")[0]
            if top == "dagster" or top.startswith("dagster_"):
                if layer in NO_DAGSTER:
                    found.append(f"{where}:{line}: the {layer} layer imports {written}")
                continue
            if top not in PACKAGES:
                continue
            target_layer = layer_of(target)
            if target_layer not in MAY_IMPORT[layer]:
                found.append(
                    f"{where}:{line}: {module} ({layer}) imports {written} ({target_layer})"
                )
        if layer in RECEIVES_SETTINGS:
            found.extend(f"{where}:{line}: {what}" for line, what in _settings_read(tree))
    return sorted(set(found))


def _settings_read(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            continue
        if re.fullmatch(r"PILEHOUSE_[A-Z0-9_]*", node.value):
            yield node.lineno, f"reads {node.value} itself (a Settings field belongs there)"
        elif node.value == "orchestration":
            yield node.lineno, "finds a file under orchestration/ by path (take it as an argument)"


def test_no_layer_imports_a_higher_one() -> None:
    found = [v for v in violations(ROOT) if re.sub(r":\d+:", ":", v, count=1) not in EXCEPTIONS]
    assert not found, "layers imported the wrong way (docs/architecture.md):\n" + "\n".join(found)


def test_every_module_has_a_layer() -> None:
    assert [module for module, _ in modules(ROOT) if layer_of(module) is None] == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("spark_jobs/x.py", "def f():\n    from orchestration.settings import load_settings\n", 1),
        ("quality/x.py", "import dagster as dg\n", 1),
        ("assets/x.py", "from orchestration import resources\n", 1),
        ("spark_jobs/x.py", "import os\nos.environ.get('PILEHOUSE_MIXTURES_DIR')\n", 1),
        ("spark_jobs/x.py", "from pathlib import Path\nP = Path('a') / 'orchestration'\n", 1),
        ("spark_jobs/delta.py", "from spark_jobs.stages import run\n", 1),
        ("spark_jobs/x.py", "from spark_jobs.settings import Settings\n", 1),
        ("infra/x.py", "from spark_jobs.lake import Lake\n", 1),
        ("spark_jobs/sub/x.py", "from .. import lake\n", 0),
        (
            "orchestration/x.py",
            "from assets.corpus import corpus_keys\nimport infra.seaweedfs\n",
            0,
        ),
        ("assets/x.py", "from spark_jobs.settings import Settings\n", 0),
    ],
)
def test_the_check_sees_upward_imports(
    tmp_path: Path, module: str, source: str, expected: int
) -> None:
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    path = tmp_path / module
    path.parent.mkdir(exist_ok=True)
    path.write_text(source)
    assert len(violations(tmp_path)) == expected, violations(tmp_path)
