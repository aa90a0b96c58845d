"""External training runs, `pilehouse lineage` and `pilehouse takedown`, end to end through
the CLI on a small real lake, real Delta commits and a real MLflow store."""

import json

import mlflow
import pyarrow.compute as pc
import pytest
import yaml

from orchestration import cli
from spark_jobs.delta import read_arrow, table_history
from spark_jobs.lake import Lake
from spark_jobs.lineage import tables_holding
from spark_jobs.mixtures.sample import write_sample_lake
from spark_jobs.tracking import TableSnapshot, log_dataset_run

RECIPE = {
    "seed": 3,
    "token_budget": 20000,
    "license_policy": "permissive-only",
    "languages": ["en"],
    "sequence_length": 32,
    "sequences_per_shard": 128,
    "tokenizer": {"vocab_size": 300, "sample_docs": 100},
    "components": [
        {"name": "web", "corpus": "web", "weight": 2},
        {"name": "code", "corpus": "code", "languages": None, "weight": 1},
    ],
}


@pytest.fixture
def home(tmp_path, monkeypatch):
    lake = Lake(str(tmp_path / "lake"))
    write_sample_lake(lake)
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / "small-mix.yaml").write_text(yaml.safe_dump(RECIPE))
    monkeypatch.setenv("PILEHOUSE_HOME", str(tmp_path))
    monkeypatch.setenv("PILEHOUSE_LAKE_URI", lake.root_uri)
    monkeypatch.setenv("PILEHOUSE_MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.setenv("PILEHOUSE_MIXTURES_DIR", str(recipes))
    return lake


def _run(capsys, *argv: str) -> str:
    assert cli.main(list(argv)) == 0
    return capsys.readouterr().out


def test_runs_lineage_and_takedown_end_to_end(home, capsys, tmp_path):
    lake = home
    built = _run(capsys, "mixture", "build", "small-mix")
    assert "mixtures.small-mix v0" in built and "tokens by license" in built

    # An external job registers itself, and another run consumed curated.web directly.
    started = _run(capsys, "training", "start", "--mixture", "small-mix")
    run_id = started.split()[0]
    curated_run = log_dataset_run(
        f"sqlite:///{tmp_path}/mlflow.db",
        "pilehouse",
        "curated-web-v0",
        [TableSnapshot("curated.web", lake.uri("curated.web"), 0, 60)],
    )

    # A job that opened its own run attaches to it; the run stays RUNNING for the job.
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")
    own = client.create_run(client.create_experiment("my-trainer")).info.run_id
    _run(capsys, "training", "start", "--mixture", "small-mix", "--run-id", own)
    attached = client.get_run(own)
    assert attached.info.status == "RUNNING"
    assert {d.dataset.name for d in attached.inputs.dataset_inputs} == {
        "curated.web",
        "curated.code",
        "mixtures.small-mix",
    }

    lineage = _run(capsys, "lineage", run_id)
    assert f"run {run_id}" in lineage
    assert "mixture small-mix v0" in lineage
    assert f"curated.web @ v0  {lake.uri('curated.web')}  [mixture drawn from]" in lineage
    assert "mixtures.small-mix @ v0" in lineage and "[trained on]" in lineage
    assert "licenses (tokens): Apache-2.0" in lineage and "PSF-2.0" in lineage
    assert "GPL-2.0-only" not in lineage.split("mixtures.small-mix")[1]
    assert "sources (tokens): crawl-a" in lineage

    # A page of the mixture, and a page that curation rejected once (it is in rejects too).
    mixture = read_arrow(lake.uri("mixtures.small-mix"))
    doc = mixture.filter(pc.equal(mixture["corpus"], "web"))["id"][0].as_py()
    document = _run(capsys, "lineage", "--document", doc)
    assert "curated.web @ v0" in document and "raw.web @ v0" in document
    assert "mixtures.small-mix @ v0 (current)" in document
    assert "shard-0000" in document
    assert run_id in document and curated_run in document

    # A dry run by domain finds every page of the host and deletes nothing.
    dry = _run(capsys, "takedown", "--domain", "site1.example.org", "--dry-run")
    assert "12 document(s) matched" in dry and "would delete" in dry
    assert table_history(lake.uri("curated.web"))[0]["version"] == 0

    report = _run(capsys, "takedown", "--ids", doc, "web-0000", "--reason", "opt-out #1")
    assert "2 document(s) matched" in report
    for table in ("raw.web", "annotated.web", "curated.web", "rejects", "mixtures.small-mix"):
        assert f"  {table}: deleted" in report
    assert run_id in report and curated_run in report
    assert "shard-00000.bin" in report and "immutable" in report

    # Gone from every current table version, still there by time travel.
    assert tables_holding(lake, [doc, "web-0000"]) == {}
    assert doc in read_arrow(lake.uri("curated.web"), version=0)["id"].to_pylist()
    assert "web-0000" in read_arrow(lake.uri("rejects"), version=0)["id"].to_pylist()
    delete = table_history(lake.uri("curated.web"))[0]
    assert delete["lineage.takedown.reason"] == "opt-out #1"
    assert delete["lineage.takedown.request_id"].startswith("takedown-")

    recorded = read_arrow(lake.uri("ops.takedowns")).to_pylist()
    assert len(recorded) == 1
    request = recorded[0]
    assert sorted(request["document_ids"]) == sorted([doc, "web-0000"])
    assert json.loads(request["criteria"])["reason"] == "opt-out #1"
    tables = {t["table"]: t for t in request["tables"]}
    assert tables["curated.web"]["version_before"] == 0
    assert tables["curated.web"]["version_written"] == delete["version"] > 0
    assert tables["raw.web"]["rows_deleted"] == 2
    assert set(request["affected_runs"]) == {run_id, curated_run, own}
    assert request["affected_shards"]

    # Afterwards the document's lineage still shows what consumed it, and nothing holds it now.
    after = _run(capsys, "lineage", "--document", doc)
    assert "in no current table version" in after
    assert "mixtures.small-mix @ v0:" in after and run_id in after


def test_takedown_needs_a_criterion_and_lineage_needs_a_run(home, capsys):
    assert cli.main(["takedown"]) == 2
    assert "at least one criterion" in capsys.readouterr().err
    assert cli.main(["lineage", "no-such-run"]) == 2


def test_takedown_criteria_select_the_right_documents(tmp_path):
    from spark_jobs.takedown import TakedownRequest, find_documents

    lake = Lake(str(tmp_path / "lake"))
    write_sample_lake(lake)
    site3 = {f"web-{i:04d}" for i in range(60) if i % 5 == 3}
    assert set(find_documents(lake, TakedownRequest(domain="site3.example.org"))) == site3
    # Subdomains of the host match, other hosts that merely end the same way do not.
    assert set(find_documents(lake, TakedownRequest(domain="example.org"))) == {
        f"web-{i:04d}" for i in range(60)
    }
    assert find_documents(lake, TakedownRequest(domain="ample.org")) == []
    pattern = TakedownRequest(url_pattern=r"/page/1[0-2]$")
    assert find_documents(lake, pattern) == ["web-0010", "web-0011", "web-0012"]
    gpl = find_documents(lake, TakedownRequest(license="GPL-2.0-only"))
    assert gpl == [f"code-{i:04d}" for i in range(3, 24, 4)]
    # Criteria combine with OR; locator is matched where a table has no url column.
    both = TakedownRequest(source="crawl-b", url_pattern=r"^repo0/")
    found = set(find_documents(lake, both))
    assert found == {f"web-{i:04d}" for i in range(1, 60, 2)} | {
        f"code-{i:04d}" for i in range(0, 24, 3)
    }
    with pytest.raises(ValueError, match="at least one criterion"):
        TakedownRequest(reason="no criterion")
