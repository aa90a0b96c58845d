"""The code sample is made of the shipped snapshot, not of whatever is installed: the same seed
gives the same bytes on any machine."""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import subprocess
import sys
from pathlib import Path

from spark_jobs.samples import code
from spark_jobs.samples.code import generate_code_sample

REPO = Path(__file__).resolve().parents[2]


def digest(root: Path) -> str:
    """One hash over every file's relative path and bytes."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def test_the_installed_distributions_do_not_change_the_sample(tmp_path, monkeypatch):
    here = digest(_generate(tmp_path / "here", seed=5))
    # A machine with nothing installed that the old sample drew from.
    monkeypatch.setattr(md, "distributions", lambda **kwargs: iter(()))
    code._installed_distributions.cache_clear()
    assert digest(_generate(tmp_path / "bare", seed=5)) == here
    assert digest(_generate(tmp_path / "other-seed", seed=6)) != here


def test_an_extra_installed_distribution_does_not_change_the_sample(tmp_path):
    """In a fresh interpreter that sees one more distribution (with a license and sources, the
    kind the old sample would have picked), seed 5 still gives the same bytes."""
    extra = tmp_path / "site"
    info = extra / "zzextra-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.4\nName: zzextra\nVersion: 1.0\nLicense-Expression: MIT\n"
    )
    (info / "LICENSE").write_text("MIT License\n")
    sources = [f"zzextra/m{i}.py" for i in range(4)]
    for name in sources:
        (extra / name).parent.mkdir(exist_ok=True)
        (extra / name).write_text("def f():\n    return 1\n" * 20)
    (info / "RECORD").write_text(
        "".join(f"{p},,\n" for p in [*sources, "zzextra-1.0.dist-info/LICENSE"])
    )
    script = (
        "import sys; from pathlib import Path;"
        "from spark_jobs.samples.code import generate_code_sample;"
        "generate_code_sample(Path(sys.argv[1]), repos=12, seed=5)"
    )
    env_path = f"{REPO}:{extra}"
    subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "there")],
        check=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
    )
    assert digest(tmp_path / "there") == digest(_generate(tmp_path / "here", seed=5))


def _generate(out: Path, *, seed: int) -> Path:
    generate_code_sample(out, repos=12, seed=seed)
    return out
