"""Step-by-step tutorials that reproduce the seed documents; ``python -m tutorials`` runs them all."""
