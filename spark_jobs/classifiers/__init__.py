"""Model-based annotation: a fastText quality classifier and PyTorch heads on MiniLM sentence
embeddings, trained from lake tables and a labelled seed set, versioned in MLflow's model
registry, applied by a Spark stage that runs on GPU executors when Spark assigns one."""
