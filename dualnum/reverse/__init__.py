"""Reverse mode's values: tracked.py records every operation and its adjoint; the sweep and the public API
are dualnum/tracker.py."""
