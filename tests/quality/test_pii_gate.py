"""The curated-text PII gate uses the redaction detector: it fails on planted residual PII,
names the documents without publishing their text, and passes what redaction leaves."""

import pytest

from bench.pii_planted import planted_documents
from quality.suites import no_pii, with_pii_spans
from spark_jobs.annotators.pii import PII_TYPES, redact

pytestmark = pytest.mark.spark

SCHEMA = "id string, text string"
CHECKSUM_TYPES = {"pii": ["card", "iban", "us_ssn", "secret"]}


def _failed(report) -> dict[str, list[str]]:
    return {o.description: sorted(o.sample_ids) for o in report.failures}


@pytest.mark.parametrize("prepared", [False, True], ids=["detector-udf", "with_pii_spans"])
def test_gate_fails_on_valid_numbers_and_passes_checksum_invalid_ones(spark, validate, prepared):
    rows = [
        ("card", "charged 4111 1111 1111 1111 twice"),
        ("card-bad-luhn", "order 4111 1111 1111 1112 shipped"),
        ("iban", "pay to DE89 3704 0044 0532 0130 00"),
        ("iban-bad-check", "reference DE88 3704 0044 0532 0130 00"),
        ("ssn", "SSN 256-35-1794 on file"),
        ("ssn-bad-area", "ticket 666-35-1794 closed"),
        ("secret", 'db_password = "s3cr3t-Hunter2"'),
        ("no-secret", "password = getpass.getpass()"),
        ("redacted", redact('card 4111111111111111, password = "s3cr3t-Hunter2"')[0]),
    ]
    df = spark.createDataFrame(rows, SCHEMA)
    if prepared:
        df = with_pii_spans(df, CHECKSUM_TYPES["pii"])
    report = validate(df, "pii", no_pii(CHECKSUM_TYPES))
    assert _failed(report) == {
        "no card in any document's text": ["card"],
        "no iban in any document's text": ["iban"],
        "no us_ssn in any document's text": ["ssn"],
        "no secret in any document's text": ["secret"],
    }
    assert "s3cr3t-Hunter2" not in str(report.outcomes)
    assert "s3cr3t-Hunter2" not in str(report.gx_results[0][1].to_json_dict())


def test_planted_pii_of_every_type_fails_the_gate_and_redacted_text_passes(spark, validate):
    docs = planted_documents(40, seed=3)
    bounds = {"pii": list(PII_TYPES)}
    planted = spark.createDataFrame([(f"d{i}", d.text) for i, d in enumerate(docs)], SCHEMA)
    report = validate(with_pii_spans(planted), "pii", no_pii(bounds))
    assert {o.description for o in report.failures} == {
        f"no {kind} in any document's text" for kind in PII_TYPES
    }
    redacted = spark.createDataFrame(
        [(f"d{i}", redact(d.text)[0]) for i, d in enumerate(docs)], SCHEMA
    )
    report = validate(with_pii_spans(redacted), "pii", no_pii(bounds))
    assert report.success, _failed(report)
