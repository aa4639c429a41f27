"""Gradients taken in different threads never mix: adjoints and "being differentiated" live per call."""
import sys
import threading

import numpy as np

from dualnum import tracker as T


def _run(workers):
    errors = []
    start = threading.Barrier(len(workers))

    def wrap(fn):
        def run():
            start.wait()
            try:
                fn()
            except BaseException as e:  # noqa: BLE001  (reported below)
                errors.append(e)
        return run
    threads = [threading.Thread(target=wrap(w)) for w in workers]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, so that their gradients interleave
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    if errors:
        raise errors[0]


def _workers():
    W = T.param(np.array([0.5, -1.0, 2.0]))
    s = T.param(1.5)
    ps = T.params(W, s)
    n = 300

    def implicit(c):
        def run():
            for _ in range(n):
                gs = T.gradient(lambda: c * np.sum(W * W) + c * s * s, ps)
                np.testing.assert_allclose(gs[W], 2 * c * T.value(W))  # d/dW c ΣW² = 2cW
                assert gs[s] == 2 * c * 1.5
        return run

    def explicit(c):
        def run():
            for _ in range(n):
                gw, gs = T.gradient(lambda w, t: c * np.sum(np.sin(w)) * t, W, s)
                np.testing.assert_allclose(gw, c * np.cos(T.value(W)) * 1.5)
                np.testing.assert_allclose(gs, c * np.sum(np.sin(T.value(W))))
        return run
    return implicit, explicit


def test_implicit_gradients_of_shared_params_in_threads():
    implicit, _ = _workers()
    _run([implicit(1.0), implicit(3.0), implicit(-2.0)])


def test_implicit_and_explicit_gradients_of_shared_params_in_threads():
    implicit, explicit = _workers()
    _run([implicit(1.0), implicit(3.0), explicit(2.0), explicit(-1.0)])


def test_float_of_a_param_in_one_thread_while_another_differentiates():
    p = T.param(2.0)
    q = T.param(np.array([1.0, 2.0]))
    done = threading.Event()
    seen = []

    def differentiate():
        try:
            for _ in range(300):
                gs = T.gradient(lambda: p * p + np.sum(q), T.params(p, q))
                assert gs[p] == 4.0
        finally:
            done.set()

    def read():
        while not done.is_set():  # all the while the other thread differentiates
            seen.append(float(p) + float(q[1]))
    _run([differentiate, read])
    assert seen and all(v == 4.0 for v in seen)


def test_float_still_refuses_inside_the_thread_that_differentiates():
    p = T.param(2.0)
    failures = []

    def loss():
        try:
            float(p)
        except TypeError as e:
            failures.append(e)
        return p * 3
    assert T.gradient(loss, T.params(p))[p] == 3.0
    assert len(failures) == 1 and "float() would drop the derivative" in str(failures[0])


def test_back_in_threads_accumulates_per_parameter_grad():
    # back() leaves the gradient in .grad: a parameter per thread, each thread its own closed form
    ps = [T.param(float(i + 1)) for i in range(4)]

    def worker(i):
        def run():
            for _ in range(200):
                p = ps[i]
                p.grad = None
                T.back(p * p * (i + 1))
                assert p.grad == 2 * (i + 1) * (i + 1)
        return run
    _run([worker(i) for i in range(4)])
