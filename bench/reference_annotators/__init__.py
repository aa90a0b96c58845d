"""Frozen copies of annotators as they were before an optimisation: equivalence references."""
