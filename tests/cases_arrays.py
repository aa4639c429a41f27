"""Agreement cases for tests/test_numpy_agreement.py: arrays. ``register(m)`` adds them with the engine's own
``m.cases``, ``m.Case``, ``m.data``, ``m.unary``, ... (m is that test module)."""


def register(m):
    pass
