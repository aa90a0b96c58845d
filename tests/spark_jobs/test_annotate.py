"""The annotate stage composes the registered annotators: same columns, types and values as
the stage had before the registry, and a new annotator is one class added to the list."""

import gzip
import json

import pyarrow as pa
import pytest

from bench.annotation_equivalence import SAMPLE
from bench.reference_annotators.annotate import annotate_texts as reference_annotate_texts
from spark_jobs.annotate import (
    annotate_batch,
    annotate_texts,
    annotation_fields,
    annotator_versions,
)
from spark_jobs.annotators import registry
from spark_jobs.annotators.registry import Annotator, Column

COLUMNS = ["language", "language_score", "script", "quality_signals", "text_hash", "pii_counts"]


def _sample(n: int = 60) -> list[str]:
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as lines:
        return [json.loads(line)["text"] for line in lines][:n]


def test_the_stage_writes_the_columns_types_and_values_it_wrote_before_the_registry():
    texts = [*_sample(), "", None, "Contact jane.doe@example.org or +1 415 555 0134."]
    new = annotate_texts(texts)
    old = reference_annotate_texts(texts)
    assert list(new) == list(old) == COLUMNS
    for name in COLUMNS:
        assert new[name].type == old[name].type, name
        assert new[name].to_pylist() == old[name].to_pylist(), name
    assert new["pii_counts"][-1]["email"].as_py() == 1


def test_a_batch_keeps_its_columns_and_gains_the_annotations():
    batch = pa.RecordBatch.from_pydict({"id": ["a", "b"], "text": ["Hello world.", None]})
    out = annotate_batch(batch)
    assert out.schema.names == ["id", "text", *COLUMNS]
    assert out.column("language").to_pylist()[1] == "und"


def test_spark_fields_follow_the_declared_arrow_types():
    fields = {f.name: f for f in annotation_fields()}
    assert list(fields) == COLUMNS and not any(f.nullable for f in fields.values())
    assert fields["language_score"].dataType.typeName() == "double"
    signals = fields["quality_signals"].dataType
    assert (
        signals["word_count"].dataType.typeName() == "long" and not signals["word_count"].nullable
    )
    assert signals["c4_lorem_ipsum"].dataType.typeName() == "boolean"


def test_every_annotator_declares_a_version_recorded_with_the_commit():
    versions = annotator_versions()
    assert set(versions) == {f"annotator.{a.name}.version" for a in registry.registered()}
    assert all(isinstance(v, str) and v for v in versions.values())


class WordLengthAnnotator(Annotator):
    """A new signal in one class: the longest whitespace-separated word."""

    name = "longest_word"
    version = "1"
    columns = (Column("longest_word", pa.int64(), "characters of the longest word"),)

    def annotate(self, texts: list[str]) -> dict[str, pa.Array]:
        return {"longest_word": pa.array([max(map(len, t.split()), default=0) for t in texts])}


class ClashingAnnotator(WordLengthAnnotator):
    columns = (Column("script", pa.string(), "a column another annotator writes"),)


@pytest.fixture
def extra_annotator(monkeypatch):
    def add(spec: str) -> None:
        monkeypatch.setattr(registry, "ANNOTATORS", (*registry.ANNOTATORS, spec))
        registry.registered.cache_clear()

    yield add
    registry.registered.cache_clear()


def test_adding_an_annotator_is_one_class_in_the_list(extra_annotator):
    extra_annotator(f"{__name__}:WordLengthAnnotator")
    columns = annotate_texts(["a bb ccc", ""])
    assert list(columns) == [*COLUMNS, "longest_word"]
    assert columns["longest_word"].to_pylist() == [3, 0]
    assert annotation_fields()[-1].name == "longest_word"
    assert "annotator.longest_word.version" in annotator_versions()


def test_two_annotators_writing_one_column_are_refused(extra_annotator):
    extra_annotator(f"{__name__}:ClashingAnnotator")
    with pytest.raises(ValueError, match="same column"):
        registry.registered()
