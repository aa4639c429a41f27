"""Hypothesis runs derandomized, so CI sees the same examples every time (a red CI must be reproducible)."""
from hypothesis import settings

settings.register_profile("dualnum", derandomize=True, print_blob=True)
settings.load_profile("dualnum")
