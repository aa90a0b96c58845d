"""The code location by domain, one module each with its `defs`: a corpus family (web, code,
papers, licensed), curation, mixtures, training, classifiers, ops. orchestration/definitions.py
merges them."""
