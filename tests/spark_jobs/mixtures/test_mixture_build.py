import json

import numpy as np
import pyarrow as pa
import pytest

from spark_jobs.delta import read_arrow, table_history
from spark_jobs.mixtures.build import (
    build_mixture,
    export_shards,
    materialize_mixture,
    recipe_conformance,
)
from spark_jobs.mixtures.recipe import MixtureRecipe
from spark_jobs.mixtures.shards import read_shard
from spark_jobs.mixtures.tokenizer import load_tokenizer_file


def test_same_seed_and_versions_give_identical_shards(sample_lake, recipe, tmp_path):
    first = materialize_mixture(sample_lake, recipe, export_uri=str(tmp_path / "a"))
    second = materialize_mixture(sample_lake, recipe, export_uri=str(tmp_path / "b"))
    shards = [(s["file"], s["sha256"], s["index_sha256"]) for s in first.manifest["shards"]]
    assert len(shards) >= 2
    assert shards == [
        (s["file"], s["sha256"], s["index_sha256"]) for s in second.manifest["shards"]
    ]
    # The manifests differ only in the mixture table version they were cut from.
    assert [first.build.version, second.build.version] == [0, 1]
    for exported in (first, second):
        exported.manifest["mixture"].pop("version")
    assert first.manifest == second.manifest
    assert first.build.rows.equals(second.build.rows)
    # Every input's version is in the manifest and in the mixture table's commit metadata.
    inputs = {i["table"]: i["version"] for i in first.manifest["inputs"]}
    assert inputs == {"curated.code": 0, "curated.web": 0}
    commit = table_history(first.build.uri)[0]
    assert commit["lineage.input.curated.web"] == "0"
    assert commit["lineage.tokenizer_version"] == first.manifest["tokenizer"]["version"]
    assert first.manifest["totals"]["tokens"] == sum(s["tokens"] for s in first.manifest["shards"])

    changed = materialize_mixture(
        sample_lake,
        MixtureRecipe.from_dict({**recipe.to_dict(), "seed": 8}),
        export_uri=str(tmp_path / "c"),
    )
    assert changed.manifest["shards"][0]["sha256"] != shards[0][1]


@pytest.mark.parametrize("weights", [{"web": 3, "code": 1}, {"web": 1, "code": 1}])
def test_weights_set_the_token_shares_within_one_percent(sample_lake, recipe, weights):
    build = build_mixture(sample_lake, recipe.with_weights(**weights))
    shares = build.token_shares("component")
    total = sum(weights.values())
    for name, weight in weights.items():
        assert shares[name] == pytest.approx(weight / total, abs=0.01)
    tokens = pa.compute.sum(read_arrow(build.uri)["token_count"]).as_py()
    assert tokens == pytest.approx(recipe.token_budget, rel=0.01)
    # Code is small: reaching its share up-samples it, and repetitions are recorded.
    code = build.rows.filter(pa.compute.equal(build.rows["component"], "code"))
    assert max(code["repetition"].to_pylist()) >= 1


def test_conformance_gate_catches_a_wrong_license_or_share(sample_lake, recipe, tmp_path):
    manifest = materialize_mixture(sample_lake, recipe, export_uri=str(tmp_path / "m")).manifest
    assert recipe_conformance(recipe, manifest)["passed"]
    totals = manifest["totals"]
    totals["license"]["GPL-2.0-only"] = {"tokens": 10, "documents": 1, "rows": 1}
    totals["component"]["code"]["tokens"] *= 2
    problems = recipe_conformance(recipe, manifest)["problems"]
    assert problems[0] == "license GPL-2.0-only is not allowed by policy permissive-only"
    assert any(p.startswith("component code has") for p in problems)


def test_license_and_language_filters_keep_documents_out(sample_lake, recipe):
    rows = build_mixture(sample_lake, recipe).rows.to_pylist()
    licenses = {r["license"] for r in rows}
    assert "GPL-2.0-only" not in licenses and "CC-BY-SA-4.0" not in licenses
    assert {"MIT", "PSF-2.0"} <= licenses
    assert {r["language"] for r in rows if r["corpus"] == "web"} == {"en"}


def test_shards_decode_back_to_the_documents_in_mixture_order(sample_lake, recipe, tmp_path):
    exported = materialize_mixture(sample_lake, recipe, export_uri=str(tmp_path / "x"))
    manifest = json.loads((tmp_path / "x" / "manifest.json").read_text())
    tokenizer = load_tokenizer_file(tmp_path / "x" / "tokenizer.json")
    assert tokenizer.version == manifest["tokenizer"]["version"]
    shard = read_shard(str(tmp_path / "x" / manifest["shards"][0]["file"]))
    assert shard.tokens.dtype == np.uint16 and shard.sequence_length == 32
    first = shard.segments[0]
    assert int(first["position"]) == 0 and int(first["start"]) == 0
    doc = exported.build.rows.slice(0, 1).to_pylist()[0]
    tokens = shard.tokens[: int(first["length"])]
    assert int(tokens[-1]) == manifest["tokenizer"]["eos_id"]
    curated = read_arrow(sample_lake.uri(f"curated.{doc['corpus']}")).to_pylist()
    text = next(r["text"] for r in curated if r["id"] == doc["id"])
    assert tokenizer.tokenizer.decode(tokens[:-1].tolist()) == text
    assert manifest["sources"][int(first["source"])] == doc["source"]
    # The segments of every shard cover its tokens exactly once.
    for entry in manifest["shards"]:
        data = read_shard(str(tmp_path / "x" / entry["file"]))
        assert int(data.segments["length"].sum()) == len(data.tokens) == entry["tokens"]


def test_text_export_writes_jsonl_zst(sample_lake, recipe, tmp_path):
    text_recipe = MixtureRecipe.from_dict({**recipe.to_dict(), "text_export": True})
    exported = materialize_mixture(sample_lake, text_recipe, export_uri=str(tmp_path / "t"))
    files = exported.manifest["text_shards"]
    stream = pa.input_stream(str(tmp_path / "t" / files[0]["name"]), compression="zstd")
    lines = stream.read().decode().splitlines()
    assert len(lines) == exported.build.rows.num_rows
    assert json.loads(lines[0])["id"] == exported.build.rows["id"][0].as_py()


def test_bad_recipes_say_what_to_fix(sample_lake, recipe):
    with pytest.raises(ValueError, match="set exactly one of weight, epochs"):
        MixtureRecipe.from_dict({**recipe.to_dict(), "components": [{"corpus": "web"}]})
    with pytest.raises(ValueError, match="'anything' is not a license policy"):
        MixtureRecipe.from_dict({**recipe.to_dict(), "license_policy": "anything"})
    papers = {**recipe.to_dict(), "components": [{"corpus": "papers", "epochs": 1}]}
    with pytest.raises(FileNotFoundError, match=r"curated\.papers"):
        build_mixture(sample_lake, MixtureRecipe.from_dict(papers))
    nothing = {**recipe.to_dict(), "languages": ["fr"]}
    with pytest.raises(ValueError, match="matches no document"):
        build_mixture(sample_lake, MixtureRecipe.from_dict(nothing))


def test_shipped_recipes_load():
    from pathlib import Path

    from spark_jobs.lake import TABLES
    from spark_jobs.mixtures.recipe import load_recipes

    recipes = load_recipes(Path(__file__).parents[3] / "orchestration" / "mixtures")
    assert {"comma-permissive", "web-heavy"} <= set(recipes)
    assert all(f"mixtures.{name}" in TABLES for name in recipes)


@pytest.mark.s3
def test_export_to_s3(sample_lake, recipe, s3):
    from spark_jobs.lake import Lake
    from spark_jobs.storage import ObjectStore

    s3.create_bucket("exports")
    store = ObjectStore(endpoint_url=s3.endpoint_url)
    lake = Lake(sample_lake.root_uri, store)
    build = build_mixture(lake, recipe)
    exported = export_shards(lake, build, "s3://exports/mixtures/test-mix")
    entry = exported.manifest["shards"][0]
    shard = read_shard(f"{exported.directory}/{entry['file']}", store)
    assert len(shard.tokens) == entry["tokens"]
