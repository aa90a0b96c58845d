"""Where tables and landing files live: one object store config for local paths and s3:// URIs.

Commits on S3 are safe against concurrent writers from independent processes by default:
delta-rs 1.6 writes each log entry with a conditional put (`If-None-Match: *`, object_store's
`aws_conditional_put=etag`), so two writers can never both create version N; the loser gets
"version exists" and retries on the next version. That is only safe if the store honours
the header, so before the first commit to a bucket this process checks that it does
(`ObjectStore.check_conditional_put`) and refuses to commit where it does not. See
docs/storage.md for which stores were verified.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import pyarrow.fs as pafs

log = logging.getLogger(__name__)


def is_s3(uri: str) -> bool:
    return uri.startswith(("s3://", "s3a://"))


class S3EndpointUnreachable(ConnectionError):
    """The S3 endpoint did not accept a connection while reading or writing a table."""


class UnsafeS3CommitsError(RuntimeError):
    """The S3 store does not honour conditional put, so concurrent commits could be lost."""


class UnsafeS3CommitWarning(UserWarning):
    """Commits to this store are not protected against concurrent writers."""


# (endpoint, bucket) pairs whose conditional put this process has verified.
_VERIFIED: set[tuple[str, str]] = set()
_VERIFIED_LOCK = threading.Lock()
_WARNED_UNSAFE: set[str] = set()
# Errors of the probe's first put that say nothing about conditional put support.
_NOT_ABOUT_CONDITIONAL_PUT = {
    "AccessDenied",
    "NoSuchBucket",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
}


def _duration(seconds: float) -> str:
    # delta-rs and object_store parse durations with humantime, which takes no fractions.
    return f"{max(1, round(seconds * 1000))}ms"


@dataclass(frozen=True)
class ObjectStore:
    """How to reach s3:// URIs. Local paths need none of it.

    Credentials are deliberately not fields: they are read from the environment
    (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) where they are used, so they are never
    pickled into Spark closures, printed in reprs, or written to commit metadata.

    Attributes:
        endpoint_url: the S3 endpoint (e.g. http://127.0.0.1:8333); None for AWS.
        region: the bucket's region.
        connect_timeout_s: how long one connection attempt may take.
        request_timeout_s: delta-rs: the limit for one whole request; pyarrow: how long a
            request may go without receiving data. Big data files are uploaded in parts, so
            this bounds a part, not a file.
        max_retries: retries of a failed request (delta-rs and pyarrow alike), with backoff.
        retry_timeout_s: delta-rs gives up retrying a request after this long.
        allow_unsafe_rename: opt out of the commit safety check, for a store that does not
            honour conditional put and has exactly one writer per table. Commits then go
            through unchecked: two concurrent writers can overwrite each other's version
            (a lost commit). Passes delta-rs's AWS_S3_ALLOW_UNSAFE_RENAME and warns.

    With the defaults a write to an endpoint that refuses connections fails in well under a
    second, one that drops them (no answer at all) in about 4 x connect_timeout_s (three
    attempts, then the reachability check), and one that accepts connections but never
    answers in about request_timeout_s (retry_timeout_s stops the retries).
    """

    endpoint_url: str | None = None
    region: str = "us-east-1"
    connect_timeout_s: float = 2.0
    request_timeout_s: float = 30.0
    max_retries: int = 2
    retry_timeout_s: float = 10.0
    allow_unsafe_rename: bool = False

    @property
    def allow_http(self) -> bool:
        return bool(self.endpoint_url and self.endpoint_url.startswith("http://"))

    @property
    def endpoint(self) -> str:
        """The endpoint URL in use, AWS's regional one when none is configured."""
        return self.endpoint_url or f"https://s3.{self.region}.amazonaws.com"

    def _credentials(self) -> tuple[str | None, str | None]:
        return os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")

    def delta_storage_options(self, uri: str) -> dict[str, str] | None:
        """Options for delta-rs (`storage_options=`); None for local tables."""
        if not is_s3(uri):
            return None
        key, secret = self._credentials()
        options = {
            "AWS_REGION": self.region,
            # object_store's client and retry settings (delta-rs passes them through).
            "connect_timeout": _duration(self.connect_timeout_s),
            "timeout": _duration(self.request_timeout_s),
            "max_retries": str(self.max_retries),
            "retry_timeout": _duration(self.retry_timeout_s),
            "backoff_config.init_backoff": "100ms",
            "backoff_config.max_backoff": "2s",
        }
        if self.allow_unsafe_rename:
            self._warn_unsafe()
            options["AWS_S3_ALLOW_UNSAFE_RENAME"] = "true"
        else:
            # object_store's default in delta-rs 1.6 already; explicit so that a changed
            # default cannot silently turn commits into plain overwrites.
            options["aws_conditional_put"] = "etag"
        if self.endpoint_url:
            options["AWS_ENDPOINT_URL"] = self.endpoint_url
        if self.allow_http:
            options["AWS_ALLOW_HTTP"] = "true"
        if key and secret:
            options["AWS_ACCESS_KEY_ID"] = key
            options["AWS_SECRET_ACCESS_KEY"] = secret
        return options

    def filesystem(self, uri: str) -> tuple[pafs.FileSystem, str]:
        """A pyarrow filesystem and the path inside it, for a local path or an s3:// URI."""
        if is_s3(uri):
            parsed = urlparse(uri)
            key, secret = self._credentials()
            endpoint = urlparse(self.endpoint_url) if self.endpoint_url else None
            fs = pafs.S3FileSystem(
                access_key=key,
                secret_key=secret,
                region=self.region,
                endpoint_override=endpoint.netloc if endpoint else None,
                scheme=endpoint.scheme if endpoint else "https",
                connect_timeout=self.connect_timeout_s,
                request_timeout=self.request_timeout_s,
                retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=self.max_retries + 1),
            )
            return fs, f"{parsed.netloc}{parsed.path}".rstrip("/")
        path = uri[len("file://") :] if uri.startswith("file://") else uri
        return pafs.LocalFileSystem(), os.path.abspath(path)

    # -----------------------------------------------------------------------------------
    # Reachability and commit safety
    # -----------------------------------------------------------------------------------

    def unreachable_cause(self) -> str | None:
        """Why a TCP connection to the endpoint fails (None: it connects)."""
        parsed = urlparse(self.endpoint)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            with socket.create_connection((parsed.hostname, port), self.connect_timeout_s):
                return None
        except OSError as error:
            return f"{type(error).__name__}: {error}"

    def unreachable_error(
        self, uri: str, action: str, cause: str, note: str = ""
    ) -> S3EndpointUnreachable:
        """The one-line error for an endpoint that does not answer."""
        return S3EndpointUnreachable(
            f"S3 endpoint {self.endpoint} unreachable while {action} {uri}: {cause}; check "
            "that the S3 server is running and that the store's endpoint_url (setting "
            f"s3_endpoint_url) points at it{note}"
        )

    def _warn_unsafe(self) -> None:
        if self.endpoint in _WARNED_UNSAFE:
            return
        _WARNED_UNSAFE.add(self.endpoint)
        message = (
            f"allow_unsafe_rename=True for S3 endpoint {self.endpoint}: commits are not "
            "checked for conditional-put support, and two concurrent writers to one table "
            "can overwrite each other's commit; use it only with a single writer per table"
        )
        log.warning(message)
        warnings.warn(message, UnsafeS3CommitWarning, stacklevel=3)

    def check_conditional_put(self, uri: str) -> None:
        """Make sure the store refuses to overwrite an existing key under `If-None-Match: *`.

        delta-rs relies on that to keep concurrent commits apart. Checked once per endpoint
        and bucket per process: writes a probe object under the table's root twice
        (the second put must fail with 412 Precondition Failed), then deletes it. Skipped
        (with a warning) when `allow_unsafe_rename` is set, and for local tables.

        Raises:
            UnsafeS3CommitsError: the store overwrote the probe, or rejected the header.
        """
        if not is_s3(uri):
            return
        if self.allow_unsafe_rename:
            self._warn_unsafe()
            return
        parsed = urlparse(uri)
        bucket, prefix = parsed.netloc, parsed.path.strip("/")
        with _VERIFIED_LOCK:
            if (self.endpoint, bucket) in _VERIFIED:
                return
        key = "/".join(p for p in (prefix, f"_pilehouse_put_probe_{uuid.uuid4().hex}") if p)
        client = self._boto3_client()
        refusal = None
        try:
            client.put_object(Bucket=bucket, Key=key, Body=b"1", IfNoneMatch="*")
        except client.exceptions.ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in _NOT_ABOUT_CONDITIONAL_PUT:
                raise  # let the caller see the real problem
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            refusal = f"a put with If-None-Match: * failed with {status} {code}"
        else:
            try:
                client.put_object(Bucket=bucket, Key=key, Body=b"2", IfNoneMatch="*")
                refusal = "it overwrote an existing object despite If-None-Match: *"
            except client.exceptions.ClientError as error:
                status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if status not in (412, 409):  # 409: AWS's "conditional request conflict"
                    raise
            finally:
                try:
                    client.delete_object(Bucket=bucket, Key=key)
                except Exception as error:  # best effort; the probe is a 1-byte object
                    log.warning("could not delete probe s3://%s/%s: %s", bucket, key, error)
        if refusal:
            raise UnsafeS3CommitsError(
                f"S3 endpoint {self.endpoint} does not support conditional put ({refusal}), "
                f"so concurrent commits to {uri} could overwrite each other; use a store that "
                "honours If-None-Match (see docs/storage.md), or, if exactly one process ever "
                "writes each table, ObjectStore(allow_unsafe_rename=True)"
            )
        with _VERIFIED_LOCK:
            _VERIFIED.add((self.endpoint, bucket))

    def _boto3_client(self) -> Any:
        import boto3
        from botocore.config import Config

        key, secret = self._credentials()
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(
                connect_timeout=self.connect_timeout_s,
                read_timeout=self.request_timeout_s,
                retries={"max_attempts": self.max_retries + 1, "mode": "standard"},
                s3={"addressing_style": "path"} if self.endpoint_url else None,
            ),
        )


LOCAL = ObjectStore()
