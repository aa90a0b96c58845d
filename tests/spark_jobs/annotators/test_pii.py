import pydoc_data.topics

import pytest
from faker import Faker

from spark_jobs.annotators.pii import PII_TYPES, pii_counts


def test_technical_prose_has_no_pii():
    """Python's documentation is full of versions, slices, hex and big numbers: none is PII."""
    for name, text in list(pydoc_data.topics.topics.items())[:200]:
        found = {t: n for t, n in pii_counts(text).items() if n}
        assert not found, f"{name}: {found}"


@pytest.mark.parametrize("seed", range(5))
def test_planted_entities_are_counted_by_type(seed):
    fake = Faker("en_US")
    fake.seed_instance(seed)
    text = (
        f"Contact {fake.name()} at {fake.email()} or +1 415-555-{seed:04d}. "
        f"Server {fake.ipv4_public()} and {fake.ipv6()}; "
        "key AKIAIOSFODNN7EXAMPLE; card 4111 1111 1111 1111."
    )
    counts = pii_counts(text)
    assert set(counts) == set(PII_TYPES)
    for kind in ("email", "phone", "ipv4", "ipv6", "aws_key", "card"):
        assert counts[kind] >= 1, (kind, text)
    assert counts["private_key"] == 0
