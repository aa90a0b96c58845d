"""Openly licensed collections (books, encyclopedic and government text) -> raw.licensed -> curated.licensed."""

from assets.corpus import corpus_assets, corpus_keys

RAW_LICENSED, ANNOTATED_LICENSED, CURATED_LICENSED = corpus_keys("licensed")
licensed_assets = corpus_assets("licensed")
