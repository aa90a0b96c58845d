"""`pilehouse takedown --purge`: after it, no file of the lake, the exported shards or the
MLflow store still holds a taken-down document's text; before it, old versions still do.

A unique marker is planted in one document of the small sample lake (the lake the other
takedown tests use, written with delta-rs: no Spark), a mixture with token and jsonl.zst text
shards is built and a training run registered on it (tokenizer and manifest as MLflow
artifacts); then every file under the home directory is scanned (`bench.faults_takedown`:
raw bytes, Parquet string values, decompressed .zst/.gz, token shards decoded)."""

import hashlib
import json
from pathlib import Path

import pyarrow.compute as pc
import pytest
import yaml

from bench.faults_takedown import DOCUMENT, RECIPE, files_holding, new_marker, plant
from orchestration import cli
from spark_jobs.delta import read_arrow, table_history
from spark_jobs.lake import Lake
from spark_jobs.lineage import tables_holding
from spark_jobs.mixtures import sample
from spark_jobs.mixtures.shards import read_shard


@pytest.fixture
def planted(tmp_path, monkeypatch):
    """A home whose sample lake holds the marker in DOCUMENT's text (raw, annotated, curated)."""
    marker = new_marker()
    original = sample.sample_documents
    monkeypatch.setattr(
        sample, "sample_documents", lambda *a, **k: plant(original(*a, **k), DOCUMENT, marker)
    )
    lake = Lake(str(tmp_path / "lake"))
    sample.write_sample_lake(lake)
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    recipe = {k: v for k, v in RECIPE.items() if k != "name"}
    (recipes / "small-mix.yaml").write_text(yaml.safe_dump(recipe))
    monkeypatch.setenv("PILEHOUSE_HOME", str(tmp_path))
    monkeypatch.setenv("PILEHOUSE_LAKE_URI", lake.root_uri)
    monkeypatch.setenv("PILEHOUSE_MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.setenv("PILEHOUSE_MIXTURES_DIR", str(recipes))
    return lake, marker


def _run(capsys, *argv: str) -> str:
    assert cli.main(list(argv)) == 0
    return capsys.readouterr().out


def test_purge_removes_the_text_from_every_file(planted, capsys, tmp_path):
    lake, marker = planted
    _run(capsys, "mixture", "build", "small-mix")
    _run(capsys, "training", "start", "--mixture", "small-mix")
    export = Path(lake.root_uri) / "_exports" / "mixtures" / "small-mix" / "v0"
    assert DOCUMENT in read_arrow(lake.uri("mixtures.small-mix"))["id"].to_pylist()
    assert list((tmp_path / "mlflow-artifacts").rglob("manifest.json"))
    assert list((tmp_path / "mlflow-artifacts").rglob("tokenizer.json"))

    # The scan sees the marker in every kind of file that holds it.
    before = files_holding(marker, [tmp_path])
    for kind in ("parquet values", "decoded tokens", "zstd content"):
        assert any(kind in hit for hit in before), (kind, before)
    assert sum("/lake/curated/web/" in hit for hit in before) == 1

    # Takedown alone: current versions lose it, old files and shards still hold it.
    report = _run(capsys, "takedown", "--ids", DOCUMENT, "--reason", "opt-out")
    assert "immutable files until `pilehouse takedown --purge`" in report
    assert tables_holding(lake, [DOCUMENT]) == {}
    assert files_holding(marker, [tmp_path]) == before
    assert DOCUMENT in read_arrow(lake.uri("curated.web"), version=0)["id"].to_pylist()

    # A dry run changes nothing; --retention-hours needs --purge.
    dry = _run(capsys, "takedown", "--purge", "--retention-hours", "0", "--dry-run")
    assert "purge (dry run)" in dry and "would rewrite" in dry
    assert files_holding(marker, [tmp_path]) == before
    assert cli.main(["takedown", "--ids", DOCUMENT, "--retention-hours", "0"]) == 2
    capsys.readouterr()

    # Purge with the default retention (7 days): exports rewritten, table files kept.
    default = _run(capsys, "takedown", "--purge")
    assert "default 7 days" in default
    assert ".bin: rewritten" in default
    assert "text-00000.jsonl.zst: rewritten (1 line(s)" in default
    assert "curated.web: vacuum (168 h, the default) deleted 0 data file(s)" in default
    kept = files_holding(marker, [tmp_path])
    assert kept and all("/_exports/" not in hit for hit in kept)
    assert all("parquet values" in hit for hit in kept)
    assert DOCUMENT in read_arrow(lake.uri("curated.web"), version=0)["id"].to_pylist()

    # The rewritten export is consistent: checksums, indexes, ops.shard_exports, mark.
    manifest = json.loads((export / "manifest.json").read_text())
    [mark] = manifest["takedowns"]
    assert mark["document_ids"] == [DOCUMENT] and mark["positions"]
    exports = {r["shard"]: r for r in read_arrow(lake.uri("ops.shard_exports")).to_pylist()}
    for entry in manifest["shards"]:
        data = (export / entry["file"]).read_bytes()
        assert (
            hashlib.sha256(data).hexdigest() == entry["sha256"] == exports[entry["file"]]["sha256"]
        )
        shard = read_shard(str(export / entry["file"]))
        assert len(shard.tokens) == entry["tokens"] == int(shard.segments["length"].sum())
        assert not set(shard.segments["position"].tolist()) & set(mark["positions"])
    assert manifest["totals"]["tokens"] == sum(e["tokens"] for e in manifest["shards"])
    assert manifest["totals"]["rows"] == read_arrow(lake.uri("mixtures.small-mix")).num_rows
    text = (export / manifest["text_shards"][0]["name"]).read_bytes()
    assert hashlib.sha256(text).hexdigest() == manifest["text_shards"][0]["sha256"]

    # Purge with retention 0: nothing anywhere holds the text; time travel to v0 ends.
    zero = _run(capsys, "takedown", "--purge", "--retention-hours", "0")
    for table in ("raw.web", "annotated.web", "curated.web"):
        assert f"{table}: vacuum (0 h) deleted 1 data file(s)" in zero
    assert "physically removed 3 file(s)" in zero
    # Mixture tables hold no text and keep their versions: they map export positions.
    assert "mixtures.small-mix: vacuum" not in zero
    assert DOCUMENT in read_arrow(lake.uri("mixtures.small-mix"), version=0)["id"].to_pylist()
    assert files_holding(marker, [tmp_path]) == []
    with pytest.raises((FileNotFoundError, OSError)):
        read_arrow(lake.uri("curated.web"), version=0)
    assert read_arrow(lake.uri("curated.web")).num_rows == 59
    vacuum = table_history(lake.uri("curated.web"))[0]
    assert vacuum["operation"] == "VACUUM END" and vacuum["lineage.takedown.purge"]

    # Purging again finds nothing left to remove; lineage still answers.
    again = _run(capsys, "takedown", "--purge", "--retention-hours", "0")
    assert "physically removed 0 file(s), rewrote 0 shard file(s)" in again
    after = _run(capsys, "lineage", "--document", DOCUMENT)
    assert "in no current table version" in after
    web = read_arrow(lake.uri("mixtures.small-mix"))
    assert DOCUMENT not in web.filter(pc.equal(web["corpus"], "web"))["id"].to_pylist()

    # A second takedown purged in one go: the manifest gets a second mark, totals follow.
    other = web.filter(pc.equal(web["corpus"], "web"))["id"][0].as_py()
    both = _run(capsys, "takedown", "--ids", other, "--purge", "--retention-hours", "0")
    assert "1 document(s) matched" in both and ".bin: rewritten" in both
    manifest = json.loads((export / "manifest.json").read_text())
    assert [m["document_ids"] for m in manifest["takedowns"]] == [[DOCUMENT], [other]]
    assert manifest["totals"]["rows"] == read_arrow(lake.uri("mixtures.small-mix")).num_rows
    assert manifest["totals"]["tokens"] == sum(e["tokens"] for e in manifest["shards"])
    assert files_holding(marker, [tmp_path]) == []
