"""Synthetic data with provenance: recipes, the OpenAI-compatible client, the generation stage
writing synthetic.<recipe>, and the curation of samples into curated.synthetic."""
