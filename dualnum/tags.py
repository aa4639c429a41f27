"""Perturbation tags: every differentiation call gets a fresh, larger tag.

Nested calls (a derivative inside a derivative) create duals of different tags. When two duals of different
tags meet, the one with the larger tag (the inner, more recent call) is the outer layer and the other is treated
as a constant at that level, so an inner perturbation never leaks into an outer derivative (no "perturbation
confusion", Siskind & Pearlmutter 2005). Tag 0 is for duals a user builds by hand.
"""
import itertools

_counter = itertools.count(1)


def new_tag() -> int:
    return next(_counter)


#: tags of the forward-mode calls in progress (in any thread; tags are unique): a dual of any other tag but 0
#: (built by hand) has escaped the call that made it
LIVE: set = set()
