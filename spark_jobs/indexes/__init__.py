"""Suffix-array n-gram indexes over a mixture's tokens (or a curated table at a version):
`build` writes them next to the shards, `query` counts n-grams and traces text back to
documents."""
