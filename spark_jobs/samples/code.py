"""A seeded sample of code repositories built from real Python distributions (their source
files and license files, a snapshot shipped in spark_jobs/samples/data/), as directories and
tarballs, with planted hard cases whose ingest outcome the manifest states.

The snapshot, not the environment, is the material: the same seed gives the same bytes on any
machine, whatever happens to be installed. `python -m spark_jobs.samples.code --write-snapshot`
rebuilds it from the installed distributions (a reviewed change, like any data file).

Planted: a dual-licensed repository, a GPL repository (a GPL text shipped by an installed
distribution, else SPDX headers), one without any license, one licensed only by SPDX headers,
one only by pyproject.toml metadata, a truncated tarball, and in the ordinary repositories
vendored code, lock files, minified JavaScript, a binary, an image, an oversized file,
generated code, a Latin-1 file, an empty file, an extensionless script with a shebang, a
.git directory and a config file with faker-generated PII.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import importlib.metadata as md
import io
import json
import random
import re
import struct
import tarfile
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from faker import Faker

from spark_jobs.licenses import canonical_expression, is_license_file_name, license_class
from spark_jobs.samples.manifest import JsonManifest

SPECIAL_CASES = ("dual", "gpl", "unlicensed", "spdx_headers", "metadata_only", "corrupt")
MIN_ORDINARY = 3  # the ordinary repositories that carry the planted hard files
SOURCE_FILES_PER_REPO = 3
_MAX_SOURCE_BYTES = 32 * 1024
_SOURCES_PER_DIST = 12  # plain source files looked for per distribution, in path order
_OVERSIZED_BYTES = 2**20 + 4096  # just over the reader's default max_file_bytes
# A copied source file must be plainly hand-written, so that its expected verdict is "kept".
_NOT_PLAIN = re.compile(r"generat|do not edit|SPDX-License-Identifier", re.IGNORECASE)
_VENDOR_PARTS = {"_vendor", "vendor", "vendored", "third_party", "node_modules", "site-packages"}
SNAPSHOT = Path(__file__).with_name("data") / "code_distributions.tar.gz"
_SNAPSHOT_ORDINARY = 40  # ordinary distributions kept in the snapshot
_SNAPSHOT_SOURCES = 5  # plain source files kept per distribution
_SNAPSHOT_SOURCE_BYTES = 12 * 1024


@dataclass
class CodeSampleManifest(JsonManifest):
    """What a generated sample holds, so tests can assert exact ingest outcomes."""

    seed: int
    # repo name -> location (dir or tarball, relative), format, case, distribution,
    # license (canonical SPDX expression or NOASSERTION), license_class, evidence prefix
    repos: dict[str, dict] = field(default_factory=dict)
    # locator (<repo>/<path>) -> [disposition, reason or None], for every file of readable repos
    files: dict[str, list] = field(default_factory=dict)
    corrupt_units: list[str] = field(default_factory=list)  # tarballs to quarantine whole
    pii: dict[str, list[str]] = field(default_factory=dict)  # locator -> planted PII values
    languages: dict[str, str] = field(default_factory=dict)  # locator -> expected language
    gpl_source: str = ""  # where the GPL repository's license came from
    expected_dispositions: dict[str, int] = field(default_factory=dict)
    expected_reasons: dict[str, int] = field(default_factory=dict)
    rows: int = 0  # files of the readable repositories + one per corrupt tarball


@dataclass
class _Dist:
    name: str
    version: str
    expression: str | None  # License-Expression, canonical
    license_files: dict[str, bytes]  # root license files of the dist-info: name -> bytes
    sources: list[tuple[str, bytes]]  # (path inside the distribution, bytes), plain .py files


@dataclass
class _Repo:
    name: str
    case: str
    fmt: str  # directory | tar.gz | tar
    dist: str
    license: str
    evidence: str
    files: dict[str, bytes] = field(default_factory=dict)
    expected: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    languages: dict[str, str] = field(default_factory=dict)  # path -> expected language
    pii: dict[str, list[str]] = field(default_factory=dict)  # path -> planted PII values
    note: str = ""

    def add(self, path: str, data: bytes, disposition: str = "kept", reason: str | None = None):
        self.files[path] = data
        self.expected[path] = (disposition, reason)


def generate_code_sample(
    out_dir: str | Path, *, repos: int = 12, seed: int = 0
) -> CodeSampleManifest:
    """Write `repos` repositories and `_manifest.json` to out_dir; the same seed gives the same
    bytes on any machine (the distributions come from the shipped snapshot)."""
    if repos < len(SPECIAL_CASES) + MIN_ORDINARY:
        raise ValueError(f"need repos >= {len(SPECIAL_CASES) + MIN_ORDINARY}; got {repos}")
    rng = random.Random(seed)
    faker = Faker("en_US")
    faker.seed_instance(seed)
    dists = snapshot_distributions()
    ordinary = [d for d in dists if _is_ordinary(d)]
    needed = repos - len(SPECIAL_CASES) + 4  # the single-license special cases use one each
    picked = rng.sample(ordinary, min(needed, len(ordinary)))
    while len(picked) < needed:  # more repositories than distributions: copies, renamed
        dist = rng.choice(ordinary)
        picked.append(replace(dist, name=f"{dist.name}-copy{len(picked)}"))
    built = [_ordinary_repo(dist, "ordinary", rng) for dist in picked[: repos - len(SPECIAL_CASES)]]
    spare = picked[repos - len(SPECIAL_CASES) :]
    built += [
        _dual_repo(dists, rng),
        _gpl_repo(dists, rng),
        _unlicensed_repo(spare[0], rng),
        _spdx_header_repo(spare[1], rng),
        _metadata_repo(spare[2], rng),
        _ordinary_repo(spare[3], "corrupt", rng),
    ]
    _plant_path_cases(built[0], dists, rng)
    _plant_content_cases(built[1], rng)
    _plant_generated_cases(built[2], faker)

    manifest = CodeSampleManifest(seed=seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    formats = ("directory", "tar.gz")
    for i, repo in enumerate(built):
        if repo.case == "corrupt":
            repo.fmt = "tar.gz"
        elif repo.case == "metadata_only":
            repo.fmt = "tar"
        elif i < 3:
            repo.fmt = ("directory", "tar.gz", "directory")[i]
        else:
            repo.fmt = formats[i % 2]
        location = _write_repo(out, repo)
        manifest.repos[repo.name] = {
            "location": location,
            "format": repo.fmt,
            "case": repo.case,
            "distribution": repo.dist,
            "license": repo.license,
            "license_class": license_class(repo.license),
            "evidence": repo.evidence,
        }
        if repo.case == "corrupt":
            manifest.corrupt_units.append(location)
            continue
        for path, expected in repo.expected.items():
            manifest.files[f"{repo.name}/{path}"] = list(expected)
        for path, values in repo.pii.items():
            manifest.pii[f"{repo.name}/{path}"] = values
        for path, language in repo.languages.items():
            manifest.languages[f"{repo.name}/{path}"] = language
        if repo.case == "gpl":
            manifest.gpl_source = repo.note
    _plant_git_dir(out / built[0].name)  # built[0] is always a directory
    outcomes = Counter(d for d, _ in manifest.files.values())
    outcomes["quarantined"] += len(manifest.corrupt_units)
    manifest.expected_dispositions = {k: outcomes[k] for k in ("kept", "skipped", "quarantined")}
    reasons = Counter(r for _, r in manifest.files.values() if r)
    reasons["corrupt_archive"] += len(manifest.corrupt_units)
    manifest.expected_reasons = dict(sorted(reasons.items()))
    manifest.rows = len(manifest.files) + len(manifest.corrupt_units)
    (out / "_manifest.json").write_text(manifest.to_json())
    return manifest


# --- installed distributions -----------------------------------------------------------------


@functools.cache
def max_repos() -> int:
    """The most repositories `generate_code_sample` can build from the shipped snapshot of
    real distributions (each ordinary repository is a different distribution)."""
    ordinary = sum(_is_ordinary(d) for d in snapshot_distributions())
    return ordinary + len(SPECIAL_CASES) - 4


def snapshot_distributions(path: Path = SNAPSHOT) -> tuple[_Dist, ...]:
    """The distributions of the shipped snapshot, sorted by name."""
    with tarfile.open(path, "r:gz") as tar:
        index = json.loads(tar.extractfile("index.json").read())
        dists = []
        for entry in index["distributions"]:
            base = entry["name"]
            files = {
                name: tar.extractfile(f"{base}/license/{name}").read()
                for name in entry["license_files"]
            }
            sources = [(p, tar.extractfile(f"{base}/src/{p}").read()) for p in entry["sources"]]
            dists.append(_Dist(base, entry["version"], entry["expression"], files, sources))
    return tuple(dists)


def write_snapshot(path: Path = SNAPSHOT) -> tuple[_Dist, ...]:
    """Snapshot the installed distributions the sample needs: the first ordinary ones by name,
    every dual-licensed candidate, and a few sources each (deterministic tar: no times, no
    owners)."""
    every = _installed_distributions()
    ordinary = [d for d in every if _is_ordinary(d)][:_SNAPSHOT_ORDINARY]
    dual = [d for d in every if _is_dual_candidate(d)]
    chosen = sorted({d.name: d for d in [*ordinary, *dual]}.values(), key=lambda d: d.name)
    trimmed = []
    for dist in chosen:
        small = [(p, b) for p, b in dist.sources if len(b) <= _SNAPSHOT_SOURCE_BYTES]
        trimmed.append(replace(dist, sources=small[:_SNAPSHOT_SOURCES]))
    index = {
        "about": "real files of installed Python distributions, for the code sample "
        "(spark_jobs/samples/code.py); each keeps its own license",
        "distributions": [
            {
                "name": d.name,
                "version": d.version,
                "expression": d.expression,
                "license_files": sorted(d.license_files),
                "sources": [p for p, _ in d.sources],
            }
            for d in trimmed
        ],
    }
    members = [("index.json", json.dumps(index, indent=1, sort_keys=True).encode())]
    for d in trimmed:
        members += [(f"{d.name}/license/{n}", b) for n, b in sorted(d.license_files.items())]
        members += [(f"{d.name}/src/{p}", b) for p, b in d.sources]
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw.getvalue(), mtime=0))
    snapshot_distributions.cache_clear()
    return tuple(trimmed)


@functools.cache
def _installed_distributions() -> tuple[_Dist, ...]:
    """Every installed distribution, once, sorted by name, with its root license files and
    its plain source files (read once per process: the environment does not change)."""
    found: dict[str, _Dist] = {}
    for dist in md.distributions():
        name = re.sub(r"[-_.]+", "-", dist.metadata["Name"] or "").lower()
        if not name or name in found or name == "pilehouse":
            continue
        license_files: dict[str, bytes] = {}
        sources: list[tuple[str, bytes]] = []
        for path in sorted(dist.files or [], key=str):
            parts = path.parts
            if parts[0].endswith(".dist-info"):
                at_root = len(parts) == 2 or (len(parts) == 3 and parts[1] == "licenses")
                if at_root and is_license_file_name(parts[-1]):
                    license_files[parts[-1]] = _read(dist, path) or b""
            elif path.suffix == ".py" and len(sources) < _SOURCES_PER_DIST:
                if _VENDOR_PARTS & set(parts) or is_license_file_name(parts[-1]):
                    continue
                data = _read(dist, path)
                if data and "_pb2" not in parts[-1] and _plain_source(data):
                    sources.append(("/".join(parts), data))
        expression = dist.metadata.get("License-Expression")
        try:
            expression = canonical_expression(expression) if expression else None
        except ValueError:
            expression = None
        found[name] = _Dist(name, dist.version, expression, license_files, sources)
    return tuple(found[name] for name in sorted(found))


def _read(dist: md.Distribution, path: md.PackagePath) -> bytes | None:
    try:
        return Path(dist.locate_file(path)).read_bytes()
    except OSError:
        return None


def _plain_source(data: bytes) -> bool:
    if not 200 <= len(data) <= _MAX_SOURCE_BYTES or b"\x00" in data:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    head = "\n".join(text.splitlines()[:12])
    return (
        not _NOT_PLAIN.search(head)
        and "SPDX-License-Identifier" not in text[:4096]
        and max(len(line) for line in text.splitlines()) <= 200
    )


def _is_ordinary(dist: _Dist) -> bool:
    return (
        dist.expression is not None
        and " " not in dist.expression
        and license_class(dist.expression) != "unknown"
        and len(dist.license_files) == 1
        and len(dist.sources) >= SOURCE_FILES_PER_REPO
    )


# --- repositories ----------------------------------------------------------------------------


def _base_repo(dist: _Dist, case: str, name: str, license: str, evidence: str, rng) -> _Repo:
    repo = _Repo(
        name=name,
        case=case,
        fmt="",
        dist=f"{dist.name}=={dist.version}",
        license=license,
        evidence=evidence,
    )
    for path, data in rng.sample(dist.sources, SOURCE_FILES_PER_REPO):
        repo.add(f"src/{path}", data)
    readme = f"# {dist.name}\n\nSample repository: files of the installed distribution {dist.name} {dist.version}.\n"
    repo.add("README.md", readme.encode())
    repo.add(
        "pyproject.toml", f'[project]\nname = "{dist.name}"\nversion = "{dist.version}"\n'.encode()
    )
    return repo


def _ordinary_repo(dist: _Dist, case: str, rng) -> _Repo:
    (license_name,) = dist.license_files
    prefix = "corrupt-" if case == "corrupt" else ""
    repo = _base_repo(
        dist, case, f"{prefix}{dist.name}", dist.expression, f"detected:{license_name}", rng
    )
    repo.add(license_name, dist.license_files[license_name])
    return repo


def _is_dual_candidate(d: _Dist) -> bool:
    return bool(
        d.expression
        and " OR " in d.expression
        and " AND " not in d.expression
        and all(license_class(i) == "permissive" for i in d.expression.split(" OR "))
        and len(d.license_files) >= 2
        and len(d.sources) >= SOURCE_FILES_PER_REPO
    )


def _dual_repo(dists: Sequence[_Dist], rng) -> _Repo:
    """A distribution declaring `A OR B` and shipping several license files, copied as is."""
    candidates = [d for d in dists if _is_dual_candidate(d)]
    if not candidates:
        raise RuntimeError(
            "no installed distribution declares a dual license with its license files"
        )
    dist = rng.choice(candidates)
    # Which files state a license (and so appear in the evidence) is the detector's call.
    repo = _base_repo(dist, "dual", f"dual-{dist.name}", dist.expression, "detected:", rng)
    for name, data in sorted(dist.license_files.items()):
        repo.add(name, data)
    return repo


_GPL_TITLE = re.compile(rb"^\s*GNU GENERAL PUBLIC LICENSE\s+Version ([23]),")


def _gpl_repo(dists: Sequence[_Dist], rng) -> _Repo:
    """A real GPL text from an installed distribution as COPYING; without one, SPDX headers."""
    for dist in dists:
        for name, data in sorted(dist.license_files.items()):
            match = _GPL_TITLE.match(data)
            if match and len(dist.sources) >= SOURCE_FILES_PER_REPO:
                # The GPL text alone does not say "or later": that is -only.
                license = f"GPL-{match.group(1).decode()}.0-only"
                repo = _base_repo(dist, "gpl", f"gpl-{dist.name}", license, "detected:COPYING", rng)
                repo.add("COPYING", data)
                repo.note = f"{dist.name}=={dist.version}: {name}"
                return repo
    dist = rng.choice([d for d in dists if len(d.sources) >= SOURCE_FILES_PER_REPO])
    repo = _header_repo(dist, "gpl", f"gpl-{dist.name}", "GPL-3.0-or-later", rng)
    repo.note = "no GPL text installed: SPDX-License-Identifier: GPL-3.0-or-later headers"
    return repo


def _unlicensed_repo(dist: _Dist, rng) -> _Repo:
    return _base_repo(dist, "unlicensed", f"nolicense-{dist.name}", "NOASSERTION", "none", rng)


def _header_repo(dist: _Dist, case: str, name: str, expression: str, rng) -> _Repo:
    repo = _base_repo(dist, case, name, expression, "header:SPDX", rng)
    for path in list(repo.files):
        if path.endswith(".py"):
            header = f"# SPDX-License-Identifier: {expression}\n".encode()
            repo.files[path] = header + repo.files[path]
    return repo


def _spdx_header_repo(dist: _Dist, rng) -> _Repo:
    return _header_repo(dist, "spdx_headers", f"spdx-{dist.name}", dist.expression, rng)


def _metadata_repo(dist: _Dist, rng) -> _Repo:
    repo = _base_repo(
        dist,
        "metadata_only",
        f"metadata-{dist.name}",
        dist.expression,
        "metadata:pyproject.toml",
        rng,
    )
    repo.files["pyproject.toml"] += f'license = "{dist.expression}"\n'.encode()
    return repo


# --- planted hard files ----------------------------------------------------------------------


def _plant_path_cases(repo: _Repo, dists: Sequence[_Dist], rng) -> None:
    """Files skipped by their path: vendored code, lock files, minified JavaScript."""
    donor = rng.choice([d for d in dists if d.sources])
    path, data = rng.choice(donor.sources)
    repo.add(f"vendor/{PurePosixPath(path).name}", data, "skipped", "vendored")
    repo.add(
        "node_modules/left-pad/index.js",
        b"module.exports = leftPad;\nfunction leftPad(s, n) {\n  return String(s).padStart(n);\n}\n",
        "skipped",
        "vendored",
    )
    lock = {"name": repo.name, "lockfileVersion": 3, "packages": {"": {"name": repo.name}}}
    repo.add("package-lock.json", json.dumps(lock, indent=2).encode(), "skipped", "lock_file")
    repo.add(
        "poetry.lock",
        b'[[package]]\nname = "attrs"\nversion = "26.1.0"\n\n[metadata]\nlock-version = "2.0"\n',
        "skipped",
        "lock_file",
    )
    words = re.findall(rb"[A-Za-z_]{4,}", data)[:400] or [b"value"]
    body = b";".join(b"var %s=%d" % (w, i) for i, w in enumerate(words))
    repo.add("static/app.min.js", body + b"\n", "skipped", "minified")
    long_line = b"(function(){" + body * max(1, 3000 // max(len(body), 1) + 1) + b"})();\n"
    repo.add("static/bundle.js", long_line, "skipped", "minified")


def _plant_content_cases(repo: _Repo, rng) -> None:
    """Files skipped or kept by their bytes: binary, image, oversized, shebang script, empty."""
    blob = bytes(rng.randrange(256) for _ in range(2048))
    repo.add("assets/model.dat", b"PHMODEL\x00\x01" + blob, "skipped", "binary")
    repo.add("docs/logo.png", _png(8, 8), "skipped", "not_source")
    sources = [data for path, data in repo.files.items() if path.endswith(".py")]
    lines = b"".join(sources).splitlines(keepends=True)
    big = bytearray()
    while len(big) < _OVERSIZED_BYTES:
        big += b"".join(lines)
    repo.add("data/fixtures_dump.py", bytes(big), "skipped", "oversized")
    script = b"#!/usr/bin/env python3\n" + sources[0]
    repo.add("bin/run-tool", script)
    repo.add("src/py.typed", b"", "skipped", "empty")
    repo.languages |= {"bin/run-tool": "Python", "README.md": "Markdown", "pyproject.toml": "TOML"}


def _plant_generated_cases(repo: _Repo, faker: Faker) -> None:
    """Generated code (by name and by header), a Latin-1 file, and a config holding PII."""
    repo.add(
        "gen/service_pb2.py",
        b"from google.protobuf import descriptor as _descriptor\n_sym_db = None\n",
        "skipped",
        "generated",
    )
    go = b"// Code generated by protoc-gen-go. DO NOT EDIT.\n// source: service.proto\n\npackage service\n\ntype Request struct {\n\tName string\n}\n"
    repo.add("gen/client.go", go, "skipped", "generated")
    latin1 = f"Notes written by {faker.name()} in Z\u00fcrich, caf\u00e9 au lait.\n".encode(
        "latin-1"
    )
    repo.add("legacy/notes.txt", latin1, "quarantined", "undecodable")
    email, other, phone = faker.email(), faker.company_email(), faker.phone_number()
    config = (
        "[maintainer]\n"
        f"name = {faker.name()}\n"
        f"email = {email}\n"
        f"phone = {phone}\n\n"
        "[smtp]\n"
        f"sender = {other}\n"
        "port = 587\n"
    )
    repo.add("config/settings.ini", config.encode())
    repo.pii["config/settings.ini"] = [email, other, phone]
    repo.languages |= {"config/settings.ini": "INI", "gen/client.go": "Go"}


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + b"\x80\x40\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# --- writing ---------------------------------------------------------------------------------


def _write_repo(out: Path, repo: _Repo) -> str:
    if repo.fmt == "directory":
        for path, data in repo.files.items():
            target = out / repo.name / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return repo.name
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, data in sorted(repo.files.items()):
            info = tarfile.TarInfo(f"{repo.name}-main/{path}")  # GitHub's archive layout
            info.size, info.mtime, info.mode = len(data), 1_700_000_000, 0o644
            tar.addfile(info, io.BytesIO(data))
    data = buffer.getvalue()
    if repo.fmt == "tar.gz":
        data = gzip.compress(data, mtime=0)  # a fixed header time: same seed, same bytes
    if repo.case == "corrupt":
        data = data[: len(data) // 2]  # an upload cut off halfway
    name = f"{repo.name}.{repo.fmt}"
    (out / name).write_bytes(data)
    return name


def _plant_git_dir(root: Path) -> None:
    """Version control metadata: not repository files, so neither rows nor counted."""
    git = root / ".git"
    (git / "refs" / "heads").mkdir(parents=True, exist_ok=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "refs" / "heads" / "main").write_text("0" * 40 + "\n")
    (git / "objects.pack").write_bytes(b"PACK\x00\x00\x00\x02" + bytes(64))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Rebuild the code sample's snapshot.")
    parser.add_argument("--write-snapshot", action="store_true", required=True)
    parser.parse_args()
    written = write_snapshot()
    print(f"{SNAPSHOT}: {len(written)} distributions, {SNAPSHOT.stat().st_size} bytes")
