"""Web crawl corpus: WARC/WET landing files -> raw.web -> annotated.web -> curated.web."""

from assets.corpus import corpus_assets, corpus_keys

RAW_WEB, ANNOTATED_WEB, CURATED_WEB = corpus_keys("web")
web_assets = corpus_assets("web")
