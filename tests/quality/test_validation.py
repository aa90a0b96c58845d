import pydoc_data.topics

import pytest

from quality.bounds import load_bounds
from quality.licenses import license_policy
from quality.suites import (
    document_integrity,
    licensing,
    no_pii,
    with_license_class,
    with_pii_spans,
)

pytestmark = pytest.mark.spark

SCHEMA = "id string, corpus string, source string, text string, byte_length long, license string, license_evidence string"
BOUNDS = load_bounds("curated.web")


def _docs(spark, rows):
    return spark.createDataFrame(
        [(i, "web", "s", text, len(text.encode()), lic, "declared") for i, text, lic in rows],
        SCHEMA,
    )


def _pii_report(validate, df):
    # As the curated gate does: one detector pass counts every type (with_pii_spans); the
    # per-type UDF path on a plain frame is covered by tests/quality/test_pii_gate.py.
    return validate(with_pii_spans(df), "pii", no_pii(BOUNDS))


def _failed(report) -> dict:
    return {o.description: o for o in report.failures}


def test_clean_documents_keep_the_integrity_promises(spark, validate):
    df = _docs(spark, [("a", "text", "MIT"), ("b", "more", "CC0-1.0")])
    expectations = document_integrity(BOUNDS, annotated=False)
    report = validate(df, "integrity", expectations)
    assert report.success and len(report.outcomes) == len(expectations)


def test_integrity_violations_name_the_offending_ids(spark, validate):
    df = _docs(spark, [("dup", "one", "MIT"), ("dup", "two", "MIT"), ("empty", "", "MIT")])
    df = df.drop("corpus")
    report = validate(df, "integrity", document_integrity(BOUNDS, annotated=False))
    failed = _failed(report)
    assert failed["no two documents share an id"].sample_ids == ["dup", "dup"]
    assert failed["no document's text is empty"].sample_ids == ["empty"]
    assert failed["every document is 1 to 2000000 bytes"].sample_ids == ["empty"]
    assert failed["column corpus exists and is a StringType"].observed.startswith("error")


def test_license_policies_judge_spdx_classes(spark, validate):
    df = with_license_class(
        _docs(
            spark,
            [
                ("dual", "x", "MIT OR GPL-2.0-only"),
                ("gpl", "x", "GPL-3.0-only"),
                ("sa", "x", "CC-BY-SA-4.0"),
                ("unknown", "x", "LicenseRef-All-Rights-Reserved"),
            ],
        )
    )
    permissive = validate(df, "lic", licensing(license_policy("permissive-only")))
    platform = validate(df, "lic", licensing(license_policy("platform")))
    assert sorted(permissive.failures[0].sample_ids) == ["gpl", "sa", "unknown"]
    assert platform.failures[0].sample_ids == ["unknown"]


def test_pii_email_fails_with_the_document_id_and_never_shows_the_text(spark, validate):
    df = _docs(spark, [("clean", "nothing to see", "MIT"), ("leak", "mail bob@example.com", "MIT")])
    report = _pii_report(validate, df)
    [failure] = report.failures
    assert failure.description == "no email in any document's text"
    assert failure.sample_ids == ["leak"]
    assert "bob@example.com" not in str(report.outcomes)
    assert "bob@example.com" not in str(report.gx_results[0][1].to_json_dict())


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("phone", "call (555) 123-4567 today"),
        ("ipv4", "the host 192.168.1.20 answered"),
        ("ipv6", "route to 2001:db8::7 added"),
        ("card", "card 4111 1111 1111 1111 on file"),
        ("private_key", "-----BEGIN RSA PRIVATE KEY-----"),
        ("aws_key", "key AKIAIOSFODNN7EXAMPLE set"),
    ],
)
def test_each_pii_type_is_caught(spark, validate, kind, text):
    report = _pii_report(validate, _docs(spark, [("doc", text, "MIT")]))
    assert [f.description for f in report.failures] == [f"no {kind} in any document's text"]


def test_pii_patterns_find_nothing_in_python_documentation(spark, validate):
    """The sample corpus is CPython's docs: version numbers, slices and long integers
    (3.11.7, a[1::2], 2**53 + 1) must not look like addresses, keys or card numbers."""
    topics = list(pydoc_data.topics.topics.items())
    df = _docs(spark, [(name, text, "PSF-2.0") for name, text in topics])
    report = _pii_report(validate, df)
    assert report.success, [(f.description, f.sample_ids) for f in report.failures]
