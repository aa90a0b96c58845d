"""Training mixtures: recipes, the tokenizer, the deterministic build, packed token shards with
a manifest, and proxy training on them (see docs/mixtures.md)."""
