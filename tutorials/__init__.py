"""Step-by-step tutorials that reproduce the source documents; ``python -m tutorials`` runs them all.

Each tutorial is a script of top-level ``# %%`` cells (it opens as a notebook), so importing one runs it: use
``tutorials.common.run(N, fast=False)``, which runs it and returns its globals."""
