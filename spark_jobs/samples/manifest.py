"""What every sample manifest shares: it is a dataclass that round-trips through JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Self


class JsonManifest:
    """Mixin for a sample's manifest dataclass: `_manifest.json` in, `_manifest.json` out."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)  # type: ignore[call-overload]

    @classmethod
    def from_json(cls, text: str) -> Self:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Plant:
    """A planted sample input: its kind, its format, and what ingest must make of it."""

    category: str
    format: str  # e.g. latex | pdf | jsonl | parquet | text | text_gz
    disposition: str  # kept | skipped | quarantined
    reason: str | None = None
