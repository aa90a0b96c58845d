"""What every sample manifest shares: it is a dataclass that round-trips through JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Self


class JsonManifest:
    """Mixin for a sample's manifest dataclass: `_manifest.json` in, `_manifest.json` out."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)  # type: ignore[call-overload]

    @classmethod
    def from_json(cls, text: str) -> Self:
        return cls(**json.loads(text))
