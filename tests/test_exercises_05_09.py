"""Exercises 05-09: mistakes a student makes that the automatic mutants do not plant (a transposed gradient, the
wrong axis, keepdims, the last match instead of the first, |max| for max |·|, a dropped log-sum-exp shift, a
hard-coded constant where a parameter belongs, ...) each fail at least one check, with a hint."""
import pytest

from tutorials.exercises import __main__ as cli
from tutorials.exercises import exercise, grader

# a planted mistake overflows (that is what some of them plant): numpy's warnings about it are expected
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

# (exercise, text in the solution (its last occurrence, inside a block), the mistake)
MISTAKES = [
    (5, "g[1:] += 200", "g[1:] = 200"),                                          # overwrites the first share
    (5, "- 2 * (1 - x[:-1])\n", "+ 2 * (1 - x[:-1])\n"),                         # a sign
    (5, "10 * (v[1:] - 2 * x[:-1] * v[:-1])", "10 * (v[1:] - x[:-1] * v[:-1])"),  # the chain rule's 2
    (5, "np.sum(100", "np.mean(100"),                                            # mean for sum
    (6, "np.sum(Zbar, axis=1)", "np.sum(Zbar, axis=0)"),                         # the batch axis
    (6, "np.sum(Zbar, axis=1)", "np.sum(Zbar, axis=1, keepdims=True)"),          # b̄ of shape (n, 1)
    (6, "return Cbar @ B.T, A.T @ Cbar", "return Cbar @ B.T, Cbar.T @ A"),       # B̄ transposed
    (6, "return Cbar @ B.T, A.T @ Cbar", "return Cbar @ B, A.T @ Cbar"),         # a missing transpose
    (6, "-zbar * x / y ** 2", "-zbar * x / y"),                                  # y instead of y²
    (6, "sin_vjp(C, Sbar) + Cbar_direct", "sin_vjp(C, Sbar)"),                   # a node used twice
    (7, "return len(tape(y).lines)", "return len(tape(y).lines) - 1"),           # parameters not counted
    (7, "return [line.op for line in tape(y).lines if line.leaf]",
     "return sorted(line.op for line in tape(y).lines if line.leaf)"),            # sorted, not the tape's order
    (7, "for line in t.lines:", "for line in reversed(t.lines):"),               # the last match
    (7, "np.max(np.abs(line.grad))", "np.abs(np.max(line.grad))"),               # |max| for max |·|
    (7, "np.max(np.abs(line.grad))", "np.max(line.grad)"),                       # a negative gradient
    (7, "leaves = [line for line in t.lines if line.leaf]", "leaves = list(t.lines)"),  # not only parameters
    (8, "/ np.sqrt(n_in)", "/ n_in"),                                            # the variance
    (8, "rng.standard_normal((n_out, n_in))", "rng.standard_normal((n_in, n_out)).T"),  # drawn transposed
    (8, "self.b[:, None]", "self.b[None, :]"),                                   # b along the batch
    (8, "tracker.param(np.zeros(n_out))", "np.zeros(n_out)"),                    # b not tracked
    (8, "nn.functor(Affine)", "nn.functor(Affine, ('W',))"),                     # b left out of params
    (9, "np.sum(y * z, axis=0)", "np.sum(y * z)"),                               # summed over the batch too
    (9, "m[0] + np.log(np.sum(np.exp(z - m), axis=0))", "np.log(np.sum(np.exp(z), axis=0))"),  # no shift
    (9, "np.stack([zeros, z])", "np.stack([zeros, z], axis=-1)"),                # the zeros on the wrong axis
    (9, "np.minimum(np.abs(r), delta)", "np.minimum(np.abs(r), 1.0)"),           # delta ignored
    (9, "if s != t:", "if len(s) != len(t):"),                                   # (3,) against (3, 1) let through
]


def _results(n, source):
    ex = exercise(n)
    checker = cli._checker(ex)
    module = grader.load_module(ex.solution, f"planted_e{n:02d}", source=source)
    return list(grader.run_checks(checker, module, ex.solution))


@pytest.mark.parametrize("n, old, new", MISTAKES, ids=[f"e{n:02d}: {new.strip()[:40]}" for n, _, new in MISTAKES])
def test_a_planted_mistake_fails_a_check_with_a_hint(n, old, new):
    text = open(exercise(n).solution, encoding="utf-8").read()
    assert old in text, (n, old)
    i = text.rindex(old)  # the code, not the docstring that quotes it
    results = _results(n, text[:i] + new + text[i + len(old):])
    failed = [r for r in results if not r.ok]
    assert failed, f"exercise {n}: {old!r} -> {new!r} passes every check"
    assert all(r.hint for r in failed), [r.label for r in failed if not r.hint]


@pytest.mark.parametrize("n", [5, 6, 7, 8, 9])
def test_the_solution_passes_in_process(n):
    """The same runner as above on the untouched solution: every check passes (so the failures are the mistake's)."""
    results = _results(n, open(exercise(n).solution, encoding="utf-8").read())
    assert results and all(r.ok for r in results), [r.lines() for r in results if not r.ok]
