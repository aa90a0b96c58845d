"""Seeded sample inputs built from real offline material, with planted cases in known numbers."""
