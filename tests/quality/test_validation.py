import pytest

from quality.suites import CURATED_DOCUMENTS, curated_documents_suite
from quality.validation import validate_dataframe

pytestmark = pytest.mark.spark

SCHEMA = "id string, text string, license string, license_evidence string"


def test_clean_table_passes(spark):
    df = spark.createDataFrame(
        [("a", "text", "MIT", "declared"), ("b", "more", "CC0-1.0", "declared")], SCHEMA
    )
    report = validate_dataframe(df, CURATED_DOCUMENTS, curated_documents_suite())
    assert report.success and not report.failures
    assert len(report.outcomes) == len(curated_documents_suite())


def test_violations_fail_and_name_the_offending_ids(spark):
    df = spark.createDataFrame(
        [
            ("dup", "one", "MIT", "declared"),
            ("dup", "two", "MIT", "declared"),
            ("empty", "", "MIT", "declared"),
            ("nolicense", "text", None, "declared"),
        ],
        SCHEMA,
    )
    report = validate_dataframe(df, CURATED_DOCUMENTS, curated_documents_suite())
    assert not report.success
    failed = {(o.expectation, o.column): o for o in report.failures}
    assert set(failed) == {
        ("expect_column_values_to_be_unique", "id"),
        ("expect_column_value_lengths_to_be_between", "text"),
        ("expect_column_values_to_not_be_null", "license"),
    }
    assert failed[("expect_column_values_to_be_unique", "id")].sample_ids == ["dup", "dup"]
    assert failed[("expect_column_value_lengths_to_be_between", "text")].sample_ids == ["empty"]
    assert failed[("expect_column_values_to_not_be_null", "license")].sample_ids == ["nolicense"]
