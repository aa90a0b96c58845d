"""Source code: repositories (directories or tarballs) -> raw.code -> annotated.code -> curated.code."""

from assets.corpus import corpus_assets, corpus_keys

RAW_CODE, ANNOTATED_CODE, CURATED_CODE = corpus_keys("code")
code_assets = corpus_assets("code")
