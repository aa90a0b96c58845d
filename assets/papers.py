"""Papers: LaTeX tarballs, PDFs and JSONL/Parquet dumps -> raw.papers -> annotated.papers -> curated.papers."""

from assets.corpus import corpus_assets, corpus_keys

RAW_PAPERS, ANNOTATED_PAPERS, CURATED_PAPERS = corpus_keys("papers")
papers_assets = corpus_assets("papers")
