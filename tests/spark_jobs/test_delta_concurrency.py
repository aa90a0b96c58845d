"""Commits that are never wrong and never lost: racing writers, S3 conditional put, dead endpoints.

No Spark session: `write_arrow` goes through the same files-then-commit path as `write_table`.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import warnings
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import CommitProperties, DeltaTable

from bench import faults_delta
from spark_jobs import delta
from spark_jobs.delta import commit as delta_commit
from spark_jobs.storage import (
    ObjectStore,
    S3EndpointUnreachable,
    UnsafeS3CommitsError,
    UnsafeS3CommitWarning,
)


def commit_info(uri: str, version: int) -> dict:
    info = faults_delta.read_commit_info(uri, version)
    assert info is not None, f"no commitInfo at version {version}"
    return info


# ---------------------------------------------------------------------------------------
# The committed version comes from the commit itself
# ---------------------------------------------------------------------------------------


def test_racing_writer_processes_are_each_told_their_own_version(tmp_path):
    uri = str(tmp_path / "race")
    writers, rounds = 3, 12

    reports = faults_delta.race_writers(uri, writers=writers, rounds=rounds)

    assert [r for r in reports if "error" in r] == []
    assert len(reports) == writers * rounds
    assert sorted(r["version"] for r in reports) == list(range(writers * rounds))
    for report in reports:
        info = commit_info(uri, report["version"])
        assert info[delta.COMMIT_ID_KEY] == report["commit_id"]
        assert (info["fault.writer"], info["fault.round"]) == (
            str(report["writer"]),
            str(report["round"]),
        )
    assert faults_delta.check_race(uri, reports, writers * rounds) == []


def _log_entry_without_commit_info(uri: str, version: int) -> None:
    # commitInfo is optional in the Delta protocol: other writers may leave it out.
    entry = {"txn": {"appId": "another-engine", "version": version}}
    path = Path(uri) / "_delta_log" / f"{version:020d}.json"
    with open(path, "x") as handle:  # "x": like a conditional put, never overwrite
        handle.write(json.dumps(entry) + "\n")


def test_a_commit_landing_right_after_ours_does_not_change_our_version(tmp_path, monkeypatch):
    uri = str(tmp_path / "docs")
    delta.write_arrow(pa.table({"doc_id": [1]}), uri, mode="append")
    real_commit_once = delta_commit._commit_once

    def another_engine_commits_right_after(*args, **kwargs):
        real_commit_once(*args, **kwargs)
        _log_entry_without_commit_info(uri, DeltaTable(uri).version() + 1)

    monkeypatch.setattr(delta_commit, "_commit_once", another_engine_commits_right_after)
    result = delta.write_arrow(pa.table({"doc_id": [2]}), uri, mode="append")

    assert result.version == 1
    assert commit_info(uri, 1)[delta.COMMIT_ID_KEY] == result.commit_id
    assert DeltaTable(uri).version() == 2


def test_history_labels_each_entry_with_its_own_version(tmp_path):
    uri = str(tmp_path / "docs")
    first = delta.write_arrow(pa.table({"doc_id": [1]}), uri, mode="append", metadata={"n": 1})
    _log_entry_without_commit_info(uri, 1)
    third = delta.write_arrow(pa.table({"doc_id": [2]}), uri, mode="append", metadata={"n": 3})

    history = delta.table_history(uri)

    assert (first.version, third.version) == (0, 2)
    assert [(h["version"], h["n"]) for h in history] == [(2, "3"), (0, "1")]
    assert history[0][delta.COMMIT_ID_KEY] == third.commit_id
    # delta-rs's own history() counts down from the snapshot version and skips the entry
    # without commitInfo, so it labels the first commit as version 1.
    assert [h["version"] for h in DeltaTable(uri).history()] == [2, 1]
    assert delta.vacuum_orphans(uri) == []


# ---------------------------------------------------------------------------------------
# S3 settings, the conditional-put check, and unreachable endpoints (no server needed)
# ---------------------------------------------------------------------------------------


def test_s3_defaults_are_conditional_put_with_bounded_retries():
    options = ObjectStore(endpoint_url="http://127.0.0.1:9").delta_storage_options("s3://b/t")

    assert options["aws_conditional_put"] == "etag"
    assert "AWS_S3_ALLOW_UNSAFE_RENAME" not in options
    assert options["max_retries"] == "2"
    assert options["connect_timeout"] == "2000ms"
    assert options["retry_timeout"] == "10000ms"
    assert ObjectStore().delta_storage_options("/local/table") is None


def test_unsafe_rename_is_an_explicit_opt_in_with_a_warning():
    store = ObjectStore(endpoint_url="http://127.0.0.1:19", allow_unsafe_rename=True)

    with pytest.warns(UnsafeS3CommitWarning, match="single writer per table"):
        options = store.delta_storage_options("s3://b/t")
    assert options["AWS_S3_ALLOW_UNSAFE_RENAME"] == "true"
    assert "aws_conditional_put" not in options
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store.check_conditional_put("s3://b/t")  # skipped: no request, warned only once


# An S3 look-alike that stores nothing and answers every PUT with 200, If-None-Match or not:
# what a store without conditional put support does. It runs in its own process: delta-rs
# holds the GIL while it waits for an answer, so a server thread in this process could not
# answer.
_S3_IGNORING_CONDITIONS = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LISTING = (b'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult '
           b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>lake</Name>'
           b'<KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys>'
           b'<IsTruncated>false</IsTruncated></ListBucketResult>')
MISSING = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code></Error>'
log = open(sys.argv[1], "a", buffering=1)

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body=b""):
        log.write(json.dumps([self.command, self.path, self.headers.get("If-None-Match")]) + "\n")
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"0123456789abcdef0123456789abcdef"')
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_PUT(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.answer(200)

    def do_DELETE(self):
        self.answer(204)

    def do_GET(self):
        self.answer(200, LISTING) if "list-type=2" in self.path else self.answer(404, MISSING)

    do_HEAD = do_GET

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@pytest.fixture
def s3_ignoring_conditions(monkeypatch, tmp_path):
    """(endpoint, path of the request log: one JSON [method, path, If-None-Match] a line)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    requests = tmp_path / "requests.jsonl"
    server = subprocess.Popen(
        [sys.executable, "-c", _S3_IGNORING_CONDITIONS, str(requests)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(server.stdout.readline())
        yield f"http://127.0.0.1:{port}", requests
    finally:
        server.kill()
        server.wait(timeout=10)


def test_a_store_that_ignores_conditional_put_gets_no_files_and_no_commit(s3_ignoring_conditions):
    endpoint, request_log = s3_ignoring_conditions
    store = ObjectStore(endpoint_url=endpoint)

    with pytest.raises(UnsafeS3CommitsError, match="does not support conditional put") as caught:
        delta.write_arrow(pa.table({"x": [1]}), "s3://lake/t", mode="append", store=store)

    assert "allow_unsafe_rename=True" in str(caught.value)
    requests = [json.loads(line) for line in request_log.read_text().splitlines()]
    puts = [(path, condition) for method, path, condition in requests if method == "PUT"]
    assert len(puts) == 2  # the probe, twice; no data file, no log entry
    assert all("_pilehouse_put_probe_" in path and condition == "*" for path, condition in puts)


def test_a_write_to_an_unreachable_endpoint_fails_fast_in_one_line(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")

    outcome = faults_delta.unreachable_write("s3://lake/web/docs")

    message = outcome["error"]
    assert outcome["error_type"] == S3EndpointUnreachable.__name__
    assert message.startswith(
        f"S3 endpoint {outcome['endpoint']} unreachable while writing s3://lake/web/docs: "
    )
    assert "Connection refused" in message and "; check " in message
    assert "nothing was committed" in message
    assert "\n" not in message
    assert outcome["seconds"] < 60  # a hang guard; with the defaults it takes about a second


def test_a_read_from_an_unreachable_endpoint_fails_in_one_line(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    store = ObjectStore(endpoint_url=f"http://127.0.0.1:{faults_delta.closed_port()}")

    with pytest.raises(S3EndpointUnreachable, match=r"unreachable while reading s3://lake/t: "):
        delta.read_arrow("s3://lake/t", store=store)


# ---------------------------------------------------------------------------------------
# A real S3 server (SeaweedFS)
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_store(s3) -> ObjectStore:
    s3.create_bucket("race")
    return ObjectStore(endpoint_url=s3.endpoint_url)


@pytest.mark.s3
def test_seaweedfs_refuses_to_overwrite_under_if_none_match(s3, s3_store):
    client = s3.client()
    client.put_object(Bucket="race", Key="probe/1.json", Body=b"first", IfNoneMatch="*")

    with pytest.raises(client.exceptions.ClientError) as caught:
        client.put_object(Bucket="race", Key="probe/1.json", Body=b"second", IfNoneMatch="*")

    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert client.get_object(Bucket="race", Key="probe/1.json")["Body"].read() == b"first"
    s3_store.check_conditional_put("s3://race/anything")  # the write path's check agrees


@pytest.mark.s3
@pytest.mark.parametrize("allow_unsafe_rename", [False, True])
def test_a_stale_writer_cannot_overwrite_a_version_on_s3(s3, allow_unsafe_rename):
    store = ObjectStore(endpoint_url=s3.endpoint_url, allow_unsafe_rename=allow_unsafe_rename)
    uri = f"s3://race/stale-{allow_unsafe_rename}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnsafeS3CommitWarning)
        delta.write_arrow(pa.table({"x": [1]}), uri, mode="append", store=store)
        stale = DeltaTable(uri, storage_options=store.delta_storage_options(uri))
    # Another process commits version 1 after `stale` was loaded.
    key = f"stale-{allow_unsafe_rename}/_delta_log/{1:020d}.json"
    other = json.dumps({"commitInfo": {"operation": "WRITE", "writer": "other"}}) + "\n"
    s3.client().put_object(Bucket="race", Key=key, Body=other.encode(), IfNoneMatch="*")

    stale.create_write_transaction(
        [], "append", stale.schema(), commit_properties=CommitProperties({"writer": "stale"})
    )

    # delta-rs 1.6 commits with If-None-Match: * in both modes: version 1 survives.
    body = s3.client().get_object(Bucket="race", Key=key)["Body"].read().decode()
    assert json.loads(body)["commitInfo"]["writer"] == "other"
    history = delta.table_history(uri, store)
    assert [(h["version"], h.get("writer")) for h in history][:2] == [(2, "stale"), (1, "other")]


@pytest.mark.s3
def test_two_processes_commit_50_times_each_to_one_s3_table(s3, s3_store):
    writers, commits = 2, 50

    outcome = faults_delta.s3_two_writers(
        s3.endpoint_url, "s3://race/two-writers", writers=writers, commits=commits
    )

    assert outcome["returncodes"] == [0, 0], outcome["stderr"]
    assert [r for r in outcome["reports"] if "error" in r] == []
    expected = sorted((w, i) for w in range(writers) for i in range(commits))
    assert outcome["rows"] == expected  # none lost, none twice
    assert sorted(h["version"] for h in outcome["history"]) == list(range(writers * commits))
    versions = [r["version"] for r in outcome["reports"]]
    assert sorted(versions) == list(range(writers * commits))
    by_version = {h["version"]: h[delta.COMMIT_ID_KEY] for h in outcome["history"]}
    assert all(by_version[r["version"]] == r["commit_id"] for r in outcome["reports"])
    assert faults_delta.check_s3_two_writers(outcome, writers, commits) == []
    # The writers really ran at the same time: their commits interleave in the log.
    order = [h["fault.writer"] for h in sorted(outcome["history"], key=lambda h: h["version"])]
    assert sum(a != b for a, b in itertools.pairwise(order)) >= 10, order
