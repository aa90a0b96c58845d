"""Configuration mistakes give one line naming the file, the line, the key and what is allowed
(golden messages), and `pilehouse validate` checks every file without importing Spark."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestration.cli import main
from orchestration.settings import load_settings, read_profiles
from spark_jobs.config_files import ConfigError
from spark_jobs.dedup.config import DedupConfig
from spark_jobs.mixtures.recipe import MixtureRecipe
from spark_jobs.recipe import CurationRecipe
from spark_jobs.sources import load_sources

ROOT = Path(__file__).parents[1]
LICENSES = (
    "allowed: an SPDX id or expression classified in spark_jobs/licenses/classes.yaml "
    "(MIT, CC-BY-4.0, PublicDomain, ...), or detect"
)
ENTRY = "    corpus: web\n    format: warc\n    location: /landing/a\n    license: MIT\n"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Files are named relative to the working directory, as a user would type them."""
    monkeypatch.chdir(tmp_path)
    for name in ("PILEHOUSE_PROFILE", "PILEHOUSE_SOURCES_FILE", "PILEHOUSE_RECIPES_DIR"):
        monkeypatch.delenv(name, raising=False)


def error_of(load, name: str, text: str) -> str:
    Path(name).write_text(text)
    with pytest.raises(ConfigError) as caught:
        load(Path(name))
    return str(caught.value)


def sources(path: Path):
    return load_sources(path, landing_uri="/landing")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "sources:\n  arxiv:\n    corpus: paperz\n",
            "sources.yaml:3: sources.arxiv.corpus: 'paperz' is not a corpus family "
            "(did you mean papers?); allowed: web, code, papers, licensed",
        ),
        (
            "sources:\n  a:\n" + ENTRY.replace("MIT", "CC-BY-4"),
            f"sources.yaml:6: sources.a.license: 'CC-BY-4' is not a classified license "
            f"(did you mean CC-BY-4.0?); {LICENSES}",
        ),
        (
            "sources:\n  a:\n" + ENTRY.replace("MIT", "unknown"),
            f"sources.yaml:6: sources.a.license: 'unknown' is not a classified license; {LICENSES}",
        ),
        (
            "sources:\n  a:\n" + ENTRY.replace("MIT", "MIT OR Foo-1.0"),
            f"sources.yaml:6: sources.a.license: 'Foo-1.0' is not a classified license; {LICENSES}",
        ),
        (
            "sources:\n  a:\n" + ENTRY.replace("    location: /landing/a\n", ""),
            "sources.yaml:2: sources.a.location: required key missing; allowed: a local "
            "directory or s3://bucket/prefix; {landing} is the landing URI",
        ),
        (
            "sources:\n  a:\n" + ENTRY.replace("license:", "licence:"),
            "sources.yaml:6: sources.a.licence: unknown key (did you mean license?); "
            "allowed: corpus, format, location, license, license_evidence, options, "
            "license_overrides",
        ),
        (
            "sources:\n  a:\n" + ENTRY.replace("/landing/a", "'{landng}/a'"),
            "sources.yaml:5: sources.a.location: unknown placeholder {landng}; allowed: a local "
            "directory or s3://bucket/prefix; {landing} is the landing URI",
        ),
        (
            "sources:\n  a:\n" + ENTRY + "    options:\n      limits:\n        max_bytes: 10\n",
            "sources.yaml:9: sources.a.options.limits.max_bytes: unknown read limit(s) max_bytes "
            "in the source's options.limits; allowed: max_decompressed_bytes, max_line_bytes, "
            "max_json_depth, max_walk_depth, max_walk_entries, object_seconds, "
            "object_memory_bytes, max_unreadable_fraction, unreadable_min_units",
        ),
        (
            "sources:\n  a:\n" + ENTRY + "    options: {limits: {object_seconds: soon}}\n",
            "sources.yaml:7: sources.a.options.limits.object_seconds: "
            "options.limits.object_seconds must be a number, not 'soon'",
        ),
        (
            "sources:\n  a:\n    corpus: web\n   format: warc\n",
            "sources.yaml:4: not valid YAML: expected <block end>, but found "
            "'<block mapping start>' (check the indentation)",
        ),
        (
            "sources:\n  a:\n" + ENTRY + "  a:\n" + ENTRY,
            "sources.yaml:7: sources.a: duplicate key (first at line 2)",
        ),
        (
            "opt_out_domains: example.org\n",
            "sources.yaml:1: opt_out_domains: 'example.org' is not a list; allowed: a list of "
            "domains whose owners opted out of training use",
        ),
        (
            "sourcse:\n  a: {}\n",
            "sources.yaml:1: sourcse: unknown key (did you mean sources?); "
            "allowed: opt_out_domains, sources",
        ),
    ],
)
def test_source_registry_mistakes(text, message):
    assert error_of(sources, "sources.yaml", text) == message


def test_declared_licenses_that_are_accepted():
    licenses = ["detect", "MIT OR Apache-2.0", "GPL-2.0", "GFDL-1.3-or-later", "OFL-1.1"]
    text = "sources:\n" + "".join(
        f"  s{i}:\n" + ENTRY.replace("MIT", f"'{lic}'") for i, lic in enumerate(licenses)
    )
    Path("sources.yaml").write_text(text)
    assert [s.license for s in sources(Path("sources.yaml")).values()] == licenses


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'name: x\nmin_language_score: "high"\n',
            "recipe.yaml:2: min_language_score: 'high' is not a number; "
            "allowed: a number from 0 to 1 (the least language-ID score kept)",
        ),
        (
            "name: x\nmin_language_score: 1.5\n",
            "recipe.yaml:2: min_language_score: 1.5 is too large; "
            "allowed: a number from 0 to 1 (the least language-ID score kept)",
        ),
        (
            "name: x\nlanguage: [en]\n",
            "recipe.yaml:2: language: unknown key (did you mean languages?); allowed: name, "
            "corpus, license_policy, languages, min_language_score, rules, pii, "
            "decontamination, dedup, keep_order",
        ),
        (
            "name: x\nrules:\n  gopher: {}\n",
            "recipe.yaml:3: rules.gopher: 'gopher' is not a rule set; "
            "allowed: gopher_quality, gopher_repetition, c4, c4_no_terminal_punct, fineweb, "
            "fineweb_after_c4, code",
        ),
        (
            "name: x\nrules:\n  c4:\n    min_sentences: 3\n",
            "recipe.yaml:4: rules.c4.min_sentences: unknown threshold of rule set c4 "
            "(did you mean min_num_sentences?); "
            "allowed: filter_lorem_ipsum, filter_curly_bracket, min_num_sentences",
        ),
        (
            "name: x\nrules:\n  c4: {filter_curly_bracket: 1}\n",
            "recipe.yaml:3: rules.c4.filter_curly_bracket: 1 is not true or false",
        ),
        (
            "name: x\npii: {policy: mask}\n",
            "recipe.yaml:2: pii.policy: 'mask' is not a PII policy; allowed: redact, drop",
        ),
        (
            "name: x\npii:\n  policy: drop\n",
            "recipe.yaml:2: pii.max_spans: required when policy is drop; allowed: a whole "
            "number >= 0 (documents with more PII spans are dropped)",
        ),
        (
            "name: x\npii:\n  types:\n    - email\n    - phon\n",
            "recipe.yaml:5: pii.types[1]: 'phon' is not a PII type (did you mean phone?); "
            "allowed: email, phone, ipv4, ipv6, card, iban, us_ssn, uk_nino, nl_bsn, es_dni, "
            "private_key, aws_key, github_token, slack_token, stripe_key, secret",
        ),
        (
            "name: x\nlicense_policy: permisive-only\n",
            "recipe.yaml:2: license_policy: 'permisive-only' is not a license policy "
            "(did you mean permissive-only?); "
            "allowed: platform, permissive-only (spark_jobs/licenses/classes.yaml), or null",
        ),
        (
            "name: x\ncorpus: webb\n",
            "recipe.yaml:2: corpus: 'webb' is not a corpus family (did you mean web?); "
            "allowed: web, code, papers, licensed",
        ),
        (
            "name: x\ndedup: {exact: yes please}\n",
            "recipe.yaml:2: dedup.exact: 'yes please' is not true or false; allowed: true or false",
        ),
        (
            "name: x\n\tlanguages: [en]\n",
            "recipe.yaml:2: not valid YAML: found character '\\t' that cannot start any token",
        ),
    ],
)
def test_curation_recipe_mistakes(text, message):
    assert error_of(CurationRecipe.from_yaml, "recipe.yaml", text) == message


MIXTURE = "token_budget: 1000\ncomponents:\n  - corpus: web\n    weight: 1\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            MIXTURE + "  - corpus: paperz\n    weight: 1\n",
            "mix.yaml:5: components[1].corpus: 'paperz' is not a corpus family "
            "(did you mean papers?); allowed: web, code, papers, licensed, synthetic",
        ),
        (
            MIXTURE + "    epochs: 2\n",
            "mix.yaml:3: components[0]: set exactly one of weight, epochs; allowed: weight "
            "(a share of the token budget) or epochs (passes over the slice)",
        ),
        (
            MIXTURE.replace("token_budget: 1000\n", ""),
            "mix.yaml:1: token_budget: required key missing; allowed: a positive number of "
            "tokens (weighted components share it)",
        ),
        (
            "name: other\n" + MIXTURE,
            "mix.yaml:1: name: 'other' is not the file name's stem; allowed: mix",
        ),
        (
            MIXTURE + "tokenizer: {vocab_size: 100}\n",
            "mix.yaml:5: tokenizer.vocab_size: 100 is too small; "
            "allowed: a whole number >= 260 (256 bytes + specials)",
        ),
        (
            MIXTURE + "sequence_lenght: 64\n",
            "mix.yaml:5: sequence_lenght: unknown key (did you mean sequence_length?); allowed: "
            "name, components, seed, token_budget, license_policy, languages, tokenizer, "
            "sequence_length, sequences_per_shard, text_export, substring_dedup",
        ),
    ],
)
def test_mixture_recipe_mistakes(text, message):
    assert error_of(MixtureRecipe.from_yaml, "mix.yaml", text) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "minhash:\n  shingles: 5\n",
            "dedup.yaml:2: minhash.shingles: unknown key (did you mean shingle_size?); "
            "allowed: shingle_size, bands, rows, seed, verify_threshold, normalization",
        ),
        (
            "minhash:\n  bands: many\n",
            "dedup.yaml:2: minhash.bands: 'many' is not a whole number; allowed: a whole number >= 1",
        ),
        (
            "keep_policy: [licensed_first, newest]\n",
            "dedup.yaml:1: keep_policy[1]: 'newest' is not a keep rule; "
            "allowed: licensed_first, quality_desc, oldest, id (or define it under keep_rules)",
        ),
        (
            "keep_rules:\n  newest:\n    columns: [fetch_date]\n    order: newest-first\n",
            "dedup.yaml:4: keep_rules.newest.order: 'newest-first' is not a sort order; "
            "allowed: asc, desc (nulls always sort last)",
        ),
    ],
)
def test_dedup_settings_mistakes(text, message):
    assert error_of(DedupConfig.from_yaml, "dedup.yaml", text) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "local:\n  spark_mastr: local[2]\n",
            "profiles.yaml:2: local.spark_mastr: unknown key (did you mean spark_master?); "
            "allowed: home, lake_uri, landing_uri, spark_master, spark_conf, s3_endpoint_url, "
            "s3_region, s3_connect_timeout_s, s3_request_timeout_s, s3_max_retries, s3_allow_unsafe_rename, mlflow_tracking_uri, mlflow_artifacts_uri, mlflow_experiment, "
            "dagster_postgres_url, "
            "sources_file, recipes_dir, mixtures_dir, synthetic_dir, benchmarks, sample_pages, "
            "sample_seed, outputs_port, outputs_base_url, spark_driver_host, "
            "spark_driver_bind_address, spark_cores, spark_tasks_per_core, "
            "spark_shuffle_partitions_per_core, spark_max_records_per_file, "
            "spark_max_bytes_per_file, spark_max_partition_bytes",
        ),
        (
            "cluster:\n  sample_pages: lots\n",
            "profiles.yaml:2: cluster.sample_pages: 'lots' is not a whole number",
        ),
        ("staging: {}\n", "profiles.yaml:1: staging: unknown key; allowed: local, cluster"),
    ],
)
def test_profile_mistakes(text, message):
    assert error_of(read_profiles, "profiles.yaml", text) == message


def test_environment_mistakes(monkeypatch):
    monkeypatch.setenv("PILEHOUSE_PROFILE", "clustr")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    profiles = ROOT / "orchestration" / "profiles.yaml"
    assert str(caught.value) == (
        f"environment: PILEHOUSE_PROFILE: 'clustr' is not a profile of {profiles} "
        "(did you mean cluster?); allowed: local, cluster"
    )
    monkeypatch.setenv("PILEHOUSE_PROFILE", "local")
    monkeypatch.setenv("PILEHOUSE_SAMPLE_PAGES", "many")
    with pytest.raises(ConfigError, match=r"^environment: PILEHOUSE_SAMPLE_PAGES: 'many' is not"):
        load_settings()


def test_a_command_reading_a_bad_file_prints_one_line_and_exits_2(tmp_path, monkeypatch, capsys):
    mixtures = tmp_path / "mixtures"
    mixtures.mkdir()
    (mixtures / "mix.yaml").write_text(MIXTURE.replace("weight: 1", "weight: -1"))
    monkeypatch.setenv("PILEHOUSE_MIXTURES_DIR", str(mixtures))
    assert main(["mixture", "list"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "mixtures/mix.yaml:4: components[0].weight: -1 is too small; "
        "allowed: a positive share of the token budget (or set epochs)\n"
    )
    with pytest.raises(ConfigError):
        main(["--debug", "mixture", "list"])


def _pilehouse(
    *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            f"import sys; from orchestration.cli import main; sys.exit(main({list(args)!r}))",
        ],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, time.monotonic() - started


def test_validate_checks_every_shipped_file_without_spark():
    done, seconds = _pilehouse("validate")
    print(f"\npilehouse validate: {seconds:.2f} s wall (with -X importtime)")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == [
        "orchestration/profiles.yaml: ok",
        "environment: ok",
        "orchestration/sources.yaml: ok",
    ]
    assert {
        f"orchestration/recipes/{c}-default.yaml: ok" for c in ("web", "code", "papers", "licensed")
    } <= set(lines)
    assert "orchestration/recipes/dedup.yaml: ok" in lines
    assert "orchestration/mixtures/comma-permissive.yaml: ok" in lines
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert not {name for name in imported if name.split(".")[0] in ("pyspark", "dagster")}


def test_validate_reports_each_bad_file_and_exits_2(tmp_path):
    (tmp_path / "sources.yaml").write_text("sources:\n  a:\n" + ENTRY.replace("web", "paperz"))
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    for corpus in ("web", "code", "papers", "licensed"):
        (recipes / f"{corpus}-default.yaml").write_text(f"name: {corpus}\n")
    (recipes / "web-default.yaml").write_text('name: web\nmin_language_score: "high"\n')
    env = {
        "PILEHOUSE_SOURCES_FILE": str(tmp_path / "sources.yaml"),
        "PILEHOUSE_RECIPES_DIR": str(recipes),
    }
    done, _ = _pilehouse("validate", env=env)
    assert done.returncode == 2
    lines = done.stdout.splitlines()
    assert (
        f"{tmp_path}/sources.yaml:3: sources.a.corpus: 'paperz' is not a corpus family (did you mean papers?); allowed: web, code, papers, licensed"
        in lines
    )
    assert (
        f"{recipes}/web-default.yaml:2: min_language_score: 'high' is not a number; allowed: a number from 0 to 1 (the least language-ID score kept)"
        in lines
    )
    assert f"{recipes}/code-default.yaml: ok" in lines
    assert "Traceback" not in done.stderr
    debug, _ = _pilehouse("validate", "--debug", env=env)
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_sensors_and_assets_get_the_same_one_line_error(tmp_path, monkeypatch):
    from orchestration.resources import registered_sources

    (tmp_path / "sources.yaml").write_text("sources:\n  a:\n" + ENTRY.replace("MIT", "MTI"))
    monkeypatch.setenv("PILEHOUSE_SOURCES_FILE", str(tmp_path / "sources.yaml"))
    with pytest.raises(ConfigError) as caught:
        registered_sources(load_settings(), "web")
    assert (
        str(caught.value)
        == f"sources.yaml:6: sources.a.license: 'MTI' is not a classified license; {LICENSES}"
    )


@pytest.mark.parametrize(
    ("license", "message"),
    [
        (
            "NOASSERTION",
            "sources.yaml:6: sources.a.license: NOASSERTION has license class unknown: no "
            "document of this source could reach a curated table; declare the license, use "
            "detect, or add license_overrides for the parts whose license you know",
        ),
        (
            "LicenseRef-Acme",
            "sources.yaml:6: sources.a.license: 'LicenseRef-Acme' has license class unknown: no "
            f"document of this source could reach a curated table; {LICENSES} (classify it in "
            "classes.yaml)",
        ),
    ],
)
def test_a_source_whose_license_has_class_unknown_is_refused(license, message):
    """Its documents would otherwise all be rejected, one by one, as license_not_allowed."""
    assert error_of(
        sources, "sources.yaml", "sources:\n  a:\n" + ENTRY.replace("MIT", license)
    ) == (message)


def test_license_overrides_for_a_mixed_crawl():
    from spark_jobs.sources import license_override

    overrides = (
        "    license_overrides:\n"
        "      - {domain: www.Docs.Python.org, license: PSF-2.0}\n"
        "      - {domain: wiki.example.org, path: '/wiki/*', license: CC-BY-SA-4.0}\n"
    )
    text = "sources:\n  a:\n" + ENTRY.replace("MIT", "NOASSERTION") + overrides
    Path("sources.yaml").write_text(text)
    source = sources(Path("sources.yaml"))["a"]
    pick = source.license_overrides
    assert license_override(pick, domain="docs.python.org", path="/3/").license == "PSF-2.0"
    assert license_override(pick, domain="en.docs.python.org", path="/").license == "PSF-2.0"
    assert license_override(pick, domain="notdocs.python.org", path="/") is None
    assert license_override(pick, domain="wiki.example.org", path="/wiki/Main").license == (
        "CC-BY-SA-4.0"
    )
    assert license_override(pick, domain="wiki.example.org", path="/blog/1") is None
    bad = "    license_overrides:\n      - {domain: example.org, license: LicenseRef-X}\n"
    message = error_of(sources, "sources.yaml", "sources:\n  a:\n" + ENTRY + bad)
    assert message.startswith(
        "sources.yaml:8: sources.a.license_overrides[0].license: 'LicenseRef-X' has license "
        "class unknown"
    )
