"""numpy's protocols, shared by DualArray and Tracked: axes and keywords (protocol.py), the ndarray-style methods
(arraymethods.py), numpy functions composed of others (composites.py). Plumbing: a student may skip it."""
