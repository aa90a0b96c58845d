"""indexes/<mixture> materializes through Dagster, goes stale when the mixture is rebuilt,
and `pilehouse trace` / `count` answer from it, by mixture or by training run."""

from __future__ import annotations

import json

import dagster as dg
import yaml
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._core.loader import LoadingContextForTest

from assets.indexes import index_asset, index_key
from assets.mixtures import mixture_asset
from orchestration.cli import main
from orchestration.resources import LakehouseResource
from spark_jobs.lake import Lake
from spark_jobs.lineage import start_training_run
from spark_jobs.mixtures.recipe import MixtureRecipe

from .conftest import PLANTED_ONE, PLANTED_SHARED, RECIPE, write_planted_lake


def _status(instance: dg.DagsterInstance, assets: list, key: dg.AssetKey) -> StaleStatus:
    graph = dg.Definitions(
        assets=assets, resources={"lakehouse": LakehouseResource()}
    ).resolve_asset_graph()
    return CachingStaleStatusResolver(instance, graph, LoadingContextForTest(instance)).get_status(
        key
    )


def test_index_asset_staleness_and_the_cli(tmp_path, monkeypatch, capsys):
    lake = Lake(str(tmp_path / "lake"))
    write_planted_lake(lake)
    tracking = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("PILEHOUSE_HOME", str(tmp_path))
    monkeypatch.setenv("PILEHOUSE_LAKE_URI", lake.root_uri)
    monkeypatch.setenv("PILEHOUSE_MLFLOW_TRACKING_URI", tracking)
    items = tmp_path / "planted.jsonl"
    items.write_text(
        json.dumps({"item_id": "leak", "question": PLANTED_SHARED})
        + "\n"
        + json.dumps({"item_id": "novel", "question": "Why do tides lag the moon by an hour?"})
    )
    monkeypatch.setenv("PILEHOUSE_BENCHMARKS", str(items))
    path = tmp_path / "index-mix.yaml"
    path.write_text(yaml.safe_dump(RECIPE))
    mixture, index = mixture_asset(MixtureRecipe.from_yaml(path)), index_asset("index-mix")
    instance = dg.DagsterInstance.ephemeral()
    resources = {"lakehouse": LakehouseResource()}

    built = dg.materialize([mixture, index], instance=instance, resources=resources)
    assert built.success
    meta = built.asset_materializations_for_node("indexes__index_mix")[0].metadata
    made = built.asset_materializations_for_node("mixtures__index_mix")[0].metadata
    assert meta["mixture version"].value == made["table version"].value == 0
    assert meta["tokenizer version"].value == made["tokenizer version"].value
    assert meta["tokens"].value == made["tokens"].value
    assert meta["benchmark items checked"].value == 2
    assert meta["benchmark items contaminated"].value == 1
    assert _status(instance, [mixture, index], index_key("index-mix")) == StaleStatus.FRESH

    assert main(["contamination", "index-mix", "--no-record"]) == 0
    out = capsys.readouterr().out
    assert "planted: 1/2 contaminated" in out and "CONTAMINATED planted/leak" in out

    sentence = PLANTED_ONE.split(" ", 1)[1]  # from the second word: tokenized as in the page
    assert main(["count", f" {sentence}", "--mixture", "index-mix"]) == 0
    count = int(capsys.readouterr().out.split("\t")[0])
    assert count >= 1
    run_id = start_training_run(lake, "index-mix", tracking_uri=tracking)
    assert main(["trace", f"They said: {PLANTED_ONE}", "--run", run_id]) == 0
    out = capsys.readouterr().out
    assert f"run {run_id} trained on mixtures.index-mix v0" in out
    assert "web-0001" in out and f"{count} occurrence(s)" in out

    # A newer mixture build: the index is stale in Dagster and says so when queried; a run
    # keeps resolving the index of the version it trained on.
    assert dg.materialize([mixture], instance=instance, resources=resources).success
    assert _status(instance, [mixture, index], index_key("index-mix")) == StaleStatus.STALE
    assert main(["count", f" {sentence}", "--mixture", "index-mix"]) == 0
    captured = capsys.readouterr()
    assert "stale: this index was built from mixtures.index-mix v0" in captured.err
    assert main(["trace", PLANTED_ONE, "--run", run_id, "--json"]) == 0
    assert '"built_from": "mixtures.index-mix v0"' in capsys.readouterr().out

    assert main(["trace", "anything", "--mixture", "no-such-mix"]) == 2
    assert "no export" in capsys.readouterr().err
