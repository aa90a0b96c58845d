"""The wheel carries every file the packages read at run time, so an install outside this
checkout works (the tokenizer's rule files, bundled benchmarks, recipes, Data Docs scripts)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("orchestration", "assets", "spark_jobs", "quality", "infra")


def test_the_wheel_holds_every_tracked_package_file(tmp_path: Path) -> None:
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"),
            *("-w", str(tmp_path), str(ROOT)),
        ],
        check=True,
        cwd=tmp_path,
    )
    [wheel] = tmp_path.glob("pilehouse-*.whl")
    inside = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(
        ["git", "ls-files", *PACKAGES], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.split()
    # READMEs are for people reading the tree, not for the code.
    missing = [path for path in tracked if path not in inside and not path.endswith(".md")]
    assert missing == []
    assert "spark_jobs/annotators/flagged_words_en.txt" in inside
    # Exactly the five packages the design fixes: no tests/, bench/ or other generic name.
    top = {name.split("/")[0] for name in inside if not name.startswith("pilehouse-")}
    assert top == set(PACKAGES)
