"""Where tables and landing files live: one object store config for local paths and s3:// URIs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlparse

import pyarrow.fs as pafs


def is_s3(uri: str) -> bool:
    return uri.startswith(("s3://", "s3a://"))


@dataclass(frozen=True)
class ObjectStore:
    """How to reach s3:// URIs. Local paths need none of it.

    Credentials are deliberately not fields: they are read from the environment
    (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) where they are used, so they are never
    pickled into Spark closures, printed in reprs, or written to commit metadata.
    """

    endpoint_url: str | None = None
    region: str = "us-east-1"

    @property
    def allow_http(self) -> bool:
        return bool(self.endpoint_url and self.endpoint_url.startswith("http://"))

    def _credentials(self) -> tuple[str | None, str | None]:
        return os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")

    def delta_storage_options(self, uri: str) -> dict[str, str] | None:
        """Options for delta-rs (`storage_options=`); None for local tables."""
        if not is_s3(uri):
            return None
        key, secret = self._credentials()
        options = {"AWS_REGION": self.region, "AWS_S3_ALLOW_UNSAFE_RENAME": "true"}
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
            )
            return fs, f"{parsed.netloc}{parsed.path}".rstrip("/")
        path = uri[len("file://") :] if uri.startswith("file://") else uri
        return pafs.LocalFileSystem(), os.path.abspath(path)


LOCAL = ObjectStore()
