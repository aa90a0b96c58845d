"""The test S3 server takes as many buckets as a test session creates."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.s3


def test_many_buckets_each_take_writes(s3) -> None:
    # Each bucket is a SeaweedFS collection with its own volumes; with the default cap of
    # eight volumes the third bucket's first write failed, after earlier tests' buckets.
    client = s3.client()
    for i in range(6):
        bucket = f"many-buckets-{i}"
        s3.create_bucket(bucket)
        client.put_object(Bucket=bucket, Key="object", Body=b"x" * 1000)
        assert client.get_object(Bucket=bucket, Key="object")["Body"].read() == b"x" * 1000
