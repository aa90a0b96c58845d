"""Fault cases for Delta commits: racing writers, two independent S3 writers, a dead endpoint.

    python -m bench.faults_delta                 # all cases, printed as a table
    python -m bench.faults_delta --rounds 30     # more racing rounds

`cases(workdir)` returns one dict per case (group "commits"), for bench/faults.py:
- racing writers (local table): writer processes released at the same instant by a Barrier,
  round after round; every returned `CommitResult.version` must be the version whose
  commitInfo holds that write's commit id, and no two writes may share a version.
- two S3 writers (only where SeaweedFS's `weed` is installed): two independent processes
  (subprocesses) append 50 times each to one table on a SeaweedFS server; all 100 commits
  must be there, versions 0..99 contiguous, no duplicate rows.
- unreachable endpoint: a write to an S3 endpoint that refuses connections (closed port),
  and to one that drops them (no answer at all), must fail within 15 s with one line naming
  the endpoint, the table and the cause, and commit nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

GROUP = "commits"
REPO = Path(__file__).resolve().parent.parent
RACE_WRITERS = 3
RACE_ROUNDS = 12
S3_WRITERS = 2
S3_COMMITS_EACH = 50
UNREACHABLE_BOUND_S = 15.0


# ---------------------------------------------------------------------------------------
# Racing writers (local table, processes released together)
# ---------------------------------------------------------------------------------------


def _race_writer(uri: str, writer: int, rounds: int, barrier: Any, results: Any) -> None:
    """One writer process: each round, wait for the others, then append one row."""
    from spark_jobs.delta import write_arrow

    for round_ in range(rounds):
        try:
            barrier.wait(timeout=300)
        except Exception as error:  # a broken barrier: another writer died
            results.put({"writer": writer, "round": round_, "error": f"barrier: {error!r}"})
            return
        row = pa.table({"writer": [writer], "round": [round_]})
        try:
            result = write_arrow(
                row,
                uri,
                mode="append",
                metadata={"fault.writer": writer, "fault.round": round_},
            )
        except Exception as error:
            results.put({"writer": writer, "round": round_, "error": f"{error!r}"[:500]})
            continue
        results.put(
            {
                "writer": writer,
                "round": round_,
                "version": result.version,
                "commit_id": getattr(result, "commit_id", None),
            }
        )


def race_writers(uri: str, *, writers: int = RACE_WRITERS, rounds: int = RACE_ROUNDS) -> list[dict]:
    """Run `writers` processes (spawn: delta-rs's runtime does not survive fork) that each
    append once per round, all released by one Barrier; return what every write reported
    (writer, round, version, commit_id, or error)."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(writers)
    results = context.Queue()
    processes = [
        context.Process(target=_race_writer, args=(uri, w, rounds, barrier, results))
        for w in range(writers)
    ]
    for process in processes:
        process.start()
    reports: list[dict] = []
    deadline = time.monotonic() + 120 + 30 * rounds
    while len(reports) < writers * rounds and time.monotonic() < deadline:
        try:
            reports.append(results.get(timeout=5))
        except Exception:  # queue.Empty: check the writers are still alive
            if not any(p.is_alive() for p in processes) and results.empty():
                break
    for process in processes:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
    return sorted(reports, key=lambda r: (r["round"], r["writer"]))


def read_commit_info(uri: str, version: int) -> dict[str, Any] | None:
    """The commitInfo of one version, read straight from its log entry (local tables)."""
    path = Path(uri) / "_delta_log" / f"{version:020d}.json"
    if not path.exists():
        return None
    for line in path.read_text().splitlines():
        if line.strip():
            action = json.loads(line)
            if "commitInfo" in action:
                return action["commitInfo"]
    return None


def check_race(uri: str, reports: list[dict], expected: int) -> list[str]:
    """What is wrong with a racing-writers run: each reported version must hold that write's
    commit (its writer/round tags and commit id), versions distinct and 0..n-1 contiguous."""
    problems = []
    errors = [r for r in reports if "error" in r]
    problems += [f"writer {r['writer']} round {r['round']} failed: {r['error']}" for r in errors]
    done = [r for r in reports if "error" not in r]
    if len(reports) != expected:
        problems.append(f"{len(reports)} of {expected} writes reported back")
    versions = [r["version"] for r in done]
    if len(set(versions)) != len(versions):
        problems.append(f"versions returned twice: {sorted(versions)}")
    for r in done:
        info = read_commit_info(uri, r["version"])
        if info is None:
            problems.append(f"writer {r['writer']} round {r['round']}: no version {r['version']}")
            continue
        tags = (info.get("fault.writer"), info.get("fault.round"))
        if tags != (str(r["writer"]), str(r["round"])):
            problems.append(
                f"writer {r['writer']} round {r['round']} was told version {r['version']}, "
                f"which holds writer {tags[0]} round {tags[1]}"
            )
        elif r.get("commit_id") is not None and info.get("pilehouse.commit_id") != r["commit_id"]:
            problems.append(f"version {r['version']} does not hold commit id {r['commit_id']}")
    log = sorted(int(p.stem) for p in (Path(uri) / "_delta_log").glob("*.json"))
    if log != list(range(expected)):
        problems.append(f"log versions {log[:5]}...{log[-5:]} are not 0..{expected - 1}")
    return problems


# ---------------------------------------------------------------------------------------
# Two independent S3 writers (subprocesses) on one table
# ---------------------------------------------------------------------------------------


def _s3_writer_main(argv: list[str]) -> int:
    """`python -m bench.faults_delta s3-writer ...`: append `--commits` times, one row each,
    then print one JSON line per commit (version, commit id) to stdout."""
    parser = argparse.ArgumentParser(prog="bench.faults_delta s3-writer")
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--uri", required=True)
    parser.add_argument("--writer", type=int, required=True)
    parser.add_argument("--commits", type=int, required=True)
    parser.add_argument("--start-at", type=float, default=0.0, help="time.time() to start at")
    args = parser.parse_args(argv)

    from spark_jobs.delta import write_arrow
    from spark_jobs.storage import ObjectStore

    store = ObjectStore(endpoint_url=args.endpoint)
    time.sleep(max(0.0, args.start_at - time.time()))
    failures = 0
    for i in range(args.commits):
        row = pa.table({"writer": [args.writer], "seq": [i]})
        try:
            result = write_arrow(
                row, args.uri, mode="append", store=store, metadata={"fault.writer": args.writer}
            )
        except Exception as error:
            failures += 1
            print(json.dumps({"seq": i, "error": f"{error!r}"[:500]}), flush=True)
            continue
        print(
            json.dumps({"seq": i, "version": result.version, "commit_id": result.commit_id}),
            flush=True,
        )
    return 1 if failures else 0


def s3_two_writers(
    endpoint_url: str,
    uri: str,
    *,
    writers: int = S3_WRITERS,
    commits: int = S3_COMMITS_EACH,
    timeout_s: float = 600,
) -> dict[str, Any]:
    """Start `writers` independent processes appending `commits` times each to `uri` at the
    same moment; return their reports and what the table holds afterwards.

    The S3 keys are taken from this process's environment (AWS_ACCESS_KEY_ID/SECRET).
    """
    from spark_jobs.delta import read_arrow, table_history
    from spark_jobs.storage import ObjectStore

    start_at = time.time() + 8  # both interpreters import pyarrow/deltalake/pyspark first
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.faults_delta", "s3-writer", "--endpoint", endpoint_url,
             "--uri", uri, "--writer", str(w), "--commits", str(commits),
             "--start-at", str(start_at)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(writers)
    ]  # fmt: skip
    reports: list[dict] = []
    stderr_tails = []
    for w, process in enumerate(processes):
        try:
            out, err = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        stderr_tails.append(err[-2000:])
        for line in out.splitlines():
            if line.startswith("{"):
                reports.append({"writer": w, **json.loads(line)})
    store = ObjectStore(endpoint_url=endpoint_url)
    rows = read_arrow(uri, store=store)
    history = table_history(uri, store)
    return {
        "reports": reports,
        "returncodes": [p.returncode for p in processes],
        "stderr": stderr_tails,
        "rows": sorted(zip(rows["writer"].to_pylist(), rows["seq"].to_pylist(), strict=True)),
        "history": history,
    }


def check_s3_two_writers(outcome: dict[str, Any], writers: int, commits: int) -> list[str]:
    """What is wrong with an s3_two_writers run (empty: nothing)."""
    problems = []
    expected_rows = sorted((w, i) for w in range(writers) for i in range(commits))
    errors = [r for r in outcome["reports"] if "error" in r]
    problems += [f"writer {r['writer']} commit {r['seq']}: {r['error']}" for r in errors]
    if any(outcome["returncodes"]):
        problems.append(f"writer exit codes {outcome['returncodes']}: {outcome['stderr']}")
    rows = outcome["rows"]
    if len(set(rows)) != len(rows):
        problems.append(f"{len(rows) - len(set(rows))} duplicate rows")
    missing = sorted(set(expected_rows) - set(rows))
    if missing:
        problems.append(f"{len(missing)} commits lost, e.g. {missing[:5]}")
    versions = sorted(h["version"] for h in outcome["history"])
    if versions != list(range(writers * commits)):
        problems.append(f"versions {versions[:3]}..{versions[-3:]} not 0..{writers * commits - 1}")
    by_version = {h["version"]: h.get("pilehouse.commit_id") for h in outcome["history"]}
    done = [r for r in outcome["reports"] if "error" not in r]
    if len({r["version"] for r in done}) != len(done):
        problems.append("two writes were told the same version")
    wrong = [r for r in done if by_version.get(r["version"]) != r["commit_id"]]
    if wrong:
        problems.append(f"{len(wrong)} writes told a version that holds another commit")
    return problems


# ---------------------------------------------------------------------------------------
# Unreachable endpoint
# ---------------------------------------------------------------------------------------


def closed_port() -> int:
    """A loopback port that was free a moment ago and has no listener now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def dropping_port() -> Iterator[int]:
    """A loopback port whose listener never completes another handshake: a full accept queue
    makes the kernel drop new connection attempts, like a firewalled or powered-off host."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(3):  # fill the accept queue (and then some)
                filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                filler.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    filler.connect(("127.0.0.1", port))
                fillers.append(filler)
            time.sleep(0.2)
            yield port
        finally:
            for filler in fillers:
                filler.close()


def unreachable_write(
    uri: str = "s3://lake/faults/unreachable", *, port: int | None = None
) -> dict[str, Any]:
    """Write to an S3 endpoint that does not answer (default: a closed port, connections
    refused); return the error and how long it took."""
    from spark_jobs.delta import write_arrow
    from spark_jobs.storage import ObjectStore

    endpoint = f"http://127.0.0.1:{port or closed_port()}"
    store = ObjectStore(endpoint_url=endpoint)
    # Keys as a configured deployment has them (without any, the S3 clients would first go
    # looking for instance credentials).
    missing = [k for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") if k not in os.environ]
    os.environ.update({k: "faults-delta-dummy" for k in missing})
    started = time.monotonic()
    error: BaseException | None = None
    try:
        write_arrow(pa.table({"x": [1]}), uri, mode="append", store=store)
    except Exception as caught:
        error = caught
    finally:
        for key in missing:
            os.environ.pop(key, None)
    return {
        "endpoint": endpoint,
        "uri": uri,
        "seconds": time.monotonic() - started,
        "error": None if error is None else str(error),
        "error_type": None if error is None else type(error).__name__,
    }


# ---------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------


def _case(attack: str, expected: str, run: Callable[[], tuple[str, bool, dict]]) -> dict:
    started = time.monotonic()
    try:
        observed, ok, extra = run()
    except Exception as error:  # a harness failure is a failed case, not a crash of the bench
        observed, ok, extra = f"harness error: {error!r}"[:400], False, {}
    return {
        "group": GROUP,
        "attack": attack,
        "expected": expected,
        "observed": observed,
        "ok": ok,
        "seconds": round(time.monotonic() - started, 2),
        **extra,
    }


def _race_case(workdir: Path, rounds: int) -> dict:
    def run() -> tuple[str, bool, dict]:
        uri = str(workdir / "race")
        reports = race_writers(uri, writers=RACE_WRITERS, rounds=rounds)
        problems = check_race(uri, reports, RACE_WRITERS * rounds)
        wrong_rounds = len({p.split(" was told")[0] for p in problems if "was told" in p})
        observed = (
            f"{len(reports)} writes, all versions right and distinct"
            if not problems
            else f"{len(problems)} problems ({wrong_rounds} writes told a wrong version): "
            + "; ".join(problems[:3])
        )
        return observed, not problems, {}

    return _case(
        f"{RACE_WRITERS} writer processes x {rounds} rounds released together (local table)",
        "each returned version holds that write's commit; versions distinct, 0..n-1",
        run,
    )


def _s3_case(workdir: Path, commits: int) -> dict:
    expected_total = S3_WRITERS * commits

    def run() -> tuple[str, bool, dict]:
        from infra.seaweedfs import SeaweedS3

        server = SeaweedS3(workdir / "seaweedfs")
        saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        os.environ["AWS_ACCESS_KEY_ID"] = server.access_key
        os.environ["AWS_SECRET_ACCESS_KEY"] = server.secret_key
        try:
            with server:
                server.create_bucket("lake")
                outcome = s3_two_writers(
                    server.endpoint_url, "s3://lake/faults/two-writers", commits=commits
                )
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        problems = check_s3_two_writers(outcome, S3_WRITERS, commits)
        found = len(
            set(outcome["rows"]) & {(w, i) for w in range(S3_WRITERS) for i in range(commits)}
        )
        lost = expected_total - found
        observed = f"commits lost {lost}/{expected_total}" + (
            "; " + "; ".join(problems[:3]) if problems else ", versions contiguous, no duplicates"
        )
        extra = {"commits_expected": expected_total, "commits_found": found}
        return observed, not problems, extra

    case = _case(
        f"{S3_WRITERS} independent processes x {commits} appends to one S3 table (SeaweedFS)",
        f"{expected_total} commits, none lost, versions 0..{expected_total - 1}, no duplicate rows",
        run,
    )
    case.setdefault("commits_expected", expected_total)
    case.setdefault("commits_found", 0)
    return case


def _unreachable_case(dropping: bool) -> dict:
    def run() -> tuple[str, bool, dict]:
        if dropping:
            with dropping_port() as port:
                outcome = unreachable_write(port=port)
        else:
            outcome = unreachable_write()
        message = outcome["error"] or ""
        ok = (
            outcome["error"] is not None
            and outcome["seconds"] < UNREACHABLE_BOUND_S
            and "\n" not in message
            and outcome["endpoint"] in message
            and outcome["uri"] in message
            and "unreachable" in message
            and "nothing was committed" in message
        )
        observed = f"failed after {outcome['seconds']:.1f} s: {message[:200]}"
        return observed, ok, {}

    return _case(
        "write to an S3 endpoint that drops connections (full accept queue)"
        if dropping
        else "write to an S3 endpoint with no listener (closed port)",
        f"fails in < {UNREACHABLE_BOUND_S:.0f} s, one line naming endpoint, table and cause",
        run,
    )


def cases(
    workdir: Path, *, rounds: int = RACE_ROUNDS, s3_commits: int = S3_COMMITS_EACH
) -> list[dict]:
    """Run every commit fault case under `workdir`; one dict per case (see module docs)."""
    from infra.seaweedfs import find_weed

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    results = [_race_case(workdir, rounds)]
    try:
        find_weed()
        have_weed = True
    except FileNotFoundError:
        have_weed = False
    if have_weed:
        results.append(_s3_case(workdir, s3_commits))
    results.append(_unreachable_case(dropping=False))
    results.append(_unreachable_case(dropping=True))
    return results


def _print_table(rows: list[dict]) -> None:
    for row in rows:
        mark = "ok  " if row["ok"] else "FAIL"
        print(f"{mark} {row['seconds']:7.1f}s  {row['attack']}")
        print(f"      expected: {row['expected']}")
        print(f"      observed: {row['observed']}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["s3-writer"]:
        return _s3_writer_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=RACE_ROUNDS)
    parser.add_argument("--s3-commits", type=int, default=S3_COMMITS_EACH)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="faults-delta-") as scratch:
        rows = cases(args.workdir or Path(scratch), rounds=args.rounds, s3_commits=args.s3_commits)
    _print_table(rows)
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
