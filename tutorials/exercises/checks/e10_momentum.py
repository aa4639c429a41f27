"""Checks for exercise 10 (the Momentum optimiser): hand-computed steps, nn.Momentum step by step, and a descent
on a quadratic against the closed-form linear recurrence of momentum."""
import numpy as np

import nn
from tutorials.exercises import grader

NAME = "the Momentum optimiser"
TASK = "write Flux's Momentum (v ← ρv + ηΔ, x ← x - v) and a descent loop with it"
FOLLOWS = "tutorial 3 (a modern ML library: Momentum uses x)"
TIME_LIMIT = 20

_FORMULA = "v ← ρ·v + η·Δ, and the step is v"


def _steps(opt, x, grads):
    """The steps opt.apply gives for x, one gradient after another (copied: a later call must not change them)."""
    return [np.array(opt.apply(x, g), dtype=float, copy=True) for g in grads]


def _reference_steps(eta, rho, x, grads):
    ref = nn.Momentum(eta, rho)
    return [np.array(nn.apply(ref, x, g), dtype=float) for g in grads]


def _recurrence(K, x0, eta, rho, steps):
    """Momentum on f(x) = ½ Σ K x², ∇f = K x, as a linear map of the state (x, v):
    v' = ρ v + η K x and x' = x - v' = (1 - η K) x - ρ v -- so (x, v) ← M (x, v) with M = [[1-ηK, -ρ], [ηK, ρ]]."""
    x, v, out = np.array(x0, dtype=float), np.zeros_like(x0, dtype=float), []
    for _ in range(steps):
        x, v = (1 - eta * K) * x - rho * v, eta * K * x + rho * v
        out.append(x)
    return np.array(out)


def checks(student):
    M = student.Momentum

    # 1. the first step: v = 0, so v ← η·Δ = 0.1 · [1, -2] = [0.1, -0.2]
    yield grader.close("first step, η = 0.1, ρ = 0.5, Δ = [1, -2] (v starts at 0)",
                       lambda: M(0.1, 0.5).apply(np.zeros(2), np.array([1.0, -2.0])), np.array([0.1, -0.2]),
                       hint="the first step is η·Δ: the velocity starts at zero, and the step is +η·Δ, not -η·Δ")

    # 2. by hand, η = 0.1, ρ = 0.5, Δ = 2, -1, 4:  v₁ = 0.1·2 = 0.2;  v₂ = 0.5·0.2 + 0.1·(-1) = 0;
    #    v₃ = 0.5·0 + 0.1·4 = 0.4
    yield grader.close("three steps by hand, η = 0.1, ρ = 0.5, Δ = 2, -1, 4 (expected 0.2, 0, 0.4)",
                       lambda: np.ravel(_steps(M(0.1, 0.5), np.zeros(1), [np.array([2.0]), np.array([-1.0]),
                                                                           np.array([4.0])])),
                       np.array([0.2, 0.0, 0.4]),
                       hint=f"{_FORMULA}: the old velocity is multiplied by ρ (not η), the new gradient by η; "
                            "keep the new v for the next call")

    # 3. Flux's defaults, η = 0.01, ρ = 0.9, Δ = 1 three times: 0.01, 0.01·(1 + 0.9), 0.01·(1 + 0.9 + 0.81)
    yield grader.close("Momentum() with Flux's defaults, Δ = 1 three times (expected 0.01, 0.019, 0.0271)",
                       lambda: np.ravel(_steps(M(), np.zeros(1), [np.ones(1)] * 3)),
                       np.array([0.01, 0.019, 0.0271]),
                       hint="the defaults are Flux's, η = 0.01 and ρ = 0.9; the steps grow as η(1 + ρ + ρ² + ...)")

    # 4. against nn.Momentum, step by step, on an array parameter with changing gradients
    rng = np.random.default_rng(10)
    grads = [rng.standard_normal((2, 3)) for _ in range(6)]
    W = rng.standard_normal((2, 3))
    yield grader.close("six steps against nn.Momentum(0.05, 0.8), gradients of shape (2, 3)",
                       lambda: np.array(_steps(M(0.05, 0.8), W, grads)),
                       np.array(_reference_steps(0.05, 0.8, W, grads)),
                       hint=f"{_FORMULA}; row k is step k+1: if row 0 is right and later rows are wrong, "
                            "the velocity is not kept (or not updated) between calls")

    # 5. two parameters interleaved: each has its own velocity
    def interleaved(opt_w, opt_b):
        Wp, bp = np.zeros((2, 2)), np.zeros(2)
        gw = [np.full((2, 2), 1.0), np.full((2, 2), -3.0), np.full((2, 2), 2.0)]
        gb = [np.array([5.0, -1.0]), np.array([0.5, 0.5]), np.array([-2.0, 1.0])]
        out = []
        for a, c in zip(gw, gb):
            out.append(np.ravel(opt_w(Wp, a)))
            out.append(np.ravel(opt_b(bp, c)))
        return np.concatenate(out)

    def student_interleaved():
        opt = M(0.1, 0.7)
        return interleaved(lambda x, g: np.array(opt.apply(x, g), dtype=float, copy=True),
                           lambda x, g: np.array(opt.apply(x, g), dtype=float, copy=True))

    def reference_interleaved():
        ref = nn.Momentum(0.1, 0.7)
        return interleaved(lambda x, g: nn.apply(ref, x, g), lambda x, g: nn.apply(ref, x, g))

    yield grader.close("W and b stepped in turn with one optimiser: each keeps its own velocity",
                       student_interleaved, reference_interleaved(),
                       hint="keep one velocity per parameter, looked up by id(x): W's steps must not see b's gradients")

    # 6. identity, not equality: an equal-valued copy is a new parameter with a fresh velocity
    def twin_first_step():
        opt = M(0.1, 0.9)
        x = np.ones(3)
        opt.apply(x, np.ones(3))
        opt.apply(x, np.ones(3))
        return opt.apply(x.copy(), np.ones(3))   # another object with the same numbers

    yield grader.close("an equal-valued copy of x (another object) starts from v = 0: step η·Δ",
                       twin_first_step, np.full(3, 0.1),
                       hint="look the velocity up by identity (id(x), and check the stored x `is` this x), "
                            "not by value: two equal arrays are two parameters")

    # 7. apply returns the step and leaves x alone
    def x_after_apply():
        x = np.array([1.0, 2.0])
        M(0.1, 0.9).apply(x, np.array([3.0, 4.0]))
        return x

    yield grader.close("apply(x, Δ) does not change x (descend subtracts the step)", x_after_apply,
                       np.array([1.0, 2.0]), hint="apply only computes the step; x -= step happens in descend")

    # 8. a step already returned must not change when apply is called again
    def first_step_later():
        opt = M(0.1, 0.5)
        x = np.zeros(2)
        s = opt.apply(x, np.array([1.0, 1.0]))
        opt.apply(x, np.array([7.0, 7.0]))
        return s

    yield grader.close("a returned step stays the same after the next call", first_step_later, np.array([0.1, 0.1]),
                       hint="return a new array (v = ρ*v + η*dx makes one); updating v in place changes the step "
                            "you already returned")

    # 9. descend on f(x) = ½ Σ K x² against the closed-form recurrence of (x, v)
    K = np.array([1.0, 10.0, 0.5])
    x0 = np.array([1.0, -2.0, 3.0])
    expected_path = _recurrence(K, x0, 0.05, 0.9, 25)

    def student_path():
        x = x0.copy()
        return np.array(student.descend(M(0.05, 0.9), x, lambda z: K * z, 25), dtype=float)

    yield grader.close("descend: 25 steps on f(x) = ½ Σ K x², K = [1, 10, 0.5], η = 0.05, ρ = 0.9, vs "
                       "the recurrence x' = (1-ηK)x - ρv", student_path, expected_path,
                       hint="each step is x -= opt.apply(x, grad(x)): subtract the step (do not add it), compute "
                            "the gradient at the current x, and record a copy of x after every step",
                       rtol=1e-9, atol=1e-12)

    def x_in_place():
        x = x0.copy()
        path = student.descend(M(0.05, 0.9), x, lambda z: K * z, 4)
        return np.array([x, path[-1]])

    yield grader.close("descend updates x in place (x after the call == the last recorded x)", x_in_place,
                       np.array([expected_path[3], expected_path[3]]),
                       hint="write into the caller's array (x -= step), do not rebind x to a new array")

    yield grader.equal("descend(opt, x, grad, 7) records 7 points", lambda: len(student.descend(
        M(0.05, 0.9), x0.copy(), lambda z: K * z, 7)), 7,
        hint="one entry per step: range(steps), appended after each step")
