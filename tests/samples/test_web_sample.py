"""The sample crawl is deterministic and contains exactly what its manifest says."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from spark_jobs.samples.web import WebSampleManifest, generate_web_sample
from spark_jobs.web.extract import Page, Quarantine, Skip, extract_page
from spark_jobs.web.warc import CorruptRecord, iter_warc_records


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WebSampleManifest]:
    out = tmp_path_factory.mktemp("web-sample")
    return out, generate_web_sample(out, pages=240, files=3, seed=11)


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first = generate_web_sample(tmp_path / "a", pages=40, files=2, seed=5)
    again = generate_web_sample(tmp_path / "b", pages=40, files=2, seed=5)
    other = generate_web_sample(tmp_path / "c", pages=40, files=2, seed=6)
    assert first == again
    for name in [*first.files, "_manifest.json"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / first.files[0]).read_bytes() != (
        tmp_path / "c" / other.files[0]
    ).read_bytes()


def test_manifest_round_trips_through_json(sample: tuple[Path, WebSampleManifest]) -> None:
    out, manifest = sample
    assert WebSampleManifest.from_json((out / "_manifest.json").read_text()) == manifest
    assert sum(manifest.counts.values()) == manifest.pages == 240
    assert all(count >= 1 for count in manifest.counts.values())


def test_records_and_verdicts_match_the_manifest(sample: tuple[Path, WebSampleManifest]) -> None:
    out, manifest = sample
    record_types: Counter[str] = Counter()
    verdicts: Counter[tuple[str, str | None]] = Counter()
    texts: dict[str, str] = {}
    for name in manifest.files:
        with open(out / name, "rb") as stream:
            for item in iter_warc_records(stream, max_record_bytes=8 * 2**20):
                if isinstance(item, CorruptRecord):
                    record_types["corrupt"] += 1
                    verdicts[("quarantined", item.reason)] += 1
                    continue
                record_types[item.warc_type] += 1
                if item.warc_type != "response":
                    continue
                verdict = extract_page(item)
                if isinstance(verdict, Page):
                    verdicts[("kept", None)] += 1
                    texts.setdefault(item.target_uri, verdict.text)  # refetches: first text
                else:
                    kind = "skipped" if isinstance(verdict, Skip) else "quarantined"
                    assert isinstance(verdict, Skip | Quarantine)
                    verdicts[(kind, verdict.reason)] += 1

    assert record_types == {
        "warcinfo": manifest.warcinfo_records,
        "request": manifest.request_records,
        "response": manifest.response_records,
        "corrupt": manifest.corrupt_records,
    }
    dispositions: Counter[str] = Counter()
    for (disposition, _), count in verdicts.items():
        dispositions[disposition] += count
    assert dispositions == manifest.expected_dispositions
    assert {reason: n for (_, reason), n in verdicts.items() if reason} == manifest.expected_reasons

    # The planted text cases are what they claim to be.
    for duplicate, original in manifest.duplicate_of.items():
        if duplicate in manifest.urls["exact_duplicate"]:
            assert texts[duplicate] == texts[original]
        else:
            assert texts[duplicate] != texts[original]
            assert texts[duplicate] == texts[original].lower()
    assert all(len(texts[url].split()) < 50 for url in manifest.urls["low_quality"])
    assert all(len(texts[url].split()) >= 150 for url in manifest.urls["clean"])
    assert set(manifest.languages.values()) == {"de", "fr", "es", "it", "ru", "nl", "pl"}
    russian = next(url for url, code in manifest.languages.items() if code == "ru")
    # Cyrillic letters: the windows-1251 bytes were decoded by their <meta> charset.
    assert sum("\u0400" <= ch <= "\u04ff" for ch in texts[russian]) > 100
    # No unplanned duplicates: kept texts are unique apart from the planted exact ones.
    clean_texts = [texts[url] for url in manifest.urls["clean"]]
    assert len(set(clean_texts)) == len(clean_texts)


def test_too_small_a_sample_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pages"):
        generate_web_sample(tmp_path, pages=20, files=4)
