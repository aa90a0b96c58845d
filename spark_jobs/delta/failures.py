"""S3 endpoint failures during a read or write, turned into one line that says what to do."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from spark_jobs.delta.log import COMMIT_ID_KEY
from spark_jobs.storage import ObjectStore, S3EndpointUnreachable, UnsafeS3CommitsError, is_s3


@dataclass
class _WriteState:
    """What a failing write had got to, for its error message."""

    # Set while a commit may be on the store without this process knowing (sent, no answer).
    commit_id: str | None = None


@contextlib.contextmanager
def _s3_failures(uri: str, store: ObjectStore, action: str) -> Iterator[_WriteState]:
    """Turn any failure of an S3 read or write whose endpoint does not answer into one line:
    "S3 endpoint <url> unreachable while <action> <uri>: <cause>; check ...".

    The original error is chained (`raise ... from`). Only when a TCP connection to the
    endpoint fails, or a request timed out: other errors pass through as they are.
    """
    state = _WriteState()
    try:
        yield state
    except (ValueError, TypeError, S3EndpointUnreachable, UnsafeS3CommitsError):
        raise
    except Exception as error:
        if not is_s3(uri):
            raise
        cause = store.unreachable_cause()
        if cause is None and isinstance(error, OSError) and "timed out" in str(error):
            cause = (
                "it accepts connections but did not answer within "
                f"request_timeout_s={store.request_timeout_s:g}"
            )
        if cause is None:
            raise
        note = ""
        if action == "writing":
            note = (
                "; nothing was committed"
                if state.commit_id is None
                else f"; whether commit {state.commit_id} landed is unknown: look for "
                f"{COMMIT_ID_KEY}={state.commit_id} in the table history once it answers"
            )
        raise store.unreachable_error(uri, action, cause, note) from error
