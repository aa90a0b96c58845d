"""The lake's named tables: where each lives, how it is partitioned, what it is for."""

from __future__ import annotations

from dataclasses import dataclass

from spark_jobs.storage import LOCAL, ObjectStore


@dataclass(frozen=True)
class TableSpec:
    name: str
    partition_by: tuple[str, ...]
    description: str


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in [
        TableSpec("raw.web", ("source",), "Web pages extracted from WARC files, one row per page"),
        TableSpec(
            "annotated.web",
            ("source",),
            "raw.web plus language, Gopher quality verdict and exact-dedup key",
        ),
        TableSpec("curated.web", ("source",), "Web documents kept by the recipe (gold)"),
        TableSpec(
            "rejects",
            ("corpus", "stage", "source"),
            "Documents removed by a stage, with the reason (one row per removal)",
        ),
        TableSpec(
            "quarantine",
            ("corpus", "source"),
            "Input records that could not be read (corrupt, undecodable), with the error",
        ),
    ]
}


@dataclass(frozen=True)
class Lake:
    """Resolves table names ('curated.web') to Delta table URIs under one root."""

    root_uri: str
    store: ObjectStore = LOCAL

    def uri(self, name: str) -> str:
        return f"{self.root_uri.rstrip('/')}/{name.replace('.', '/')}"

    def spec(self, name: str) -> TableSpec:
        try:
            return TABLES[name]
        except KeyError:
            raise KeyError(
                f"unknown lake table {name!r}; known tables: {', '.join(TABLES)}"
            ) from None
