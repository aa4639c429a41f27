"""Checks for exercise 12 (a learning rate from the landscape): the grid against the loss, the Hessian from the grid
and from dualnum against closed forms, the rates against eigenvalues (numpy's, and the 2×2 closed form), and
gradient descent: its path against numpy, convergence at the chosen rate, divergence at 1.1 × 2/λmax."""
import numpy as np

import nn
from tutorials.exercises import grader

NAME = "a learning rate from the landscape"
TASK = "read the Hessian off the loss landscape and dualnum.hessian; pick a rate below 2/λmax"
FOLLOWS = "tutorials 4 and 2 (the cost surface and why one rate diverges)"
TIME_LIMIT = 30

# the checker's own line-fit data (not the student file's)
X = np.linspace(0.0, 2.0, 25)
Y = 1.5 * X - 0.5 + 0.2 * np.cos(4 * X)
# the Hessian of mean((m x + b - y)²) is the same everywhere: 2·[[mean x², mean x], [mean x, 1]]
H_LINE = 2 * np.array([[np.mean(X ** 2), np.mean(X)], [np.mean(X), 1.0]])


def line_loss(m, b):
    return np.mean((m * X + b - Y) ** 2, axis=-1)


def _line_grad(p):
    r = p[0] * X + p[1] - Y
    return np.array([2 * np.mean(r * X), 2 * np.mean(r)])


def quartic(m, b):
    """A bowl that is not quadratic. Its Hessian: [[12(m-1)² + 2b², 1 + 4mb], [1 + 4mb, 6 + 2m²]]."""
    return (m - 1) ** 4 + m * b + 3 * b ** 2 + m ** 2 * b ** 2


def _quartic_fd_hessian(m, b, hm, hb):
    """What the central differences of the task give for quartic, exactly: (m-1)⁴'s second difference is
    12(m-1)² + 2hm² (its Taylor series stops at h⁴: 24·h⁴/4! · 2 / h²); every other term is at most quadratic in
    each variable, so its differences are exact (the cross difference of m²b² is (4mh)(4bk) / 4hk = 4mb)."""
    return np.array([[12 * (m - 1) ** 2 + 2 * hm ** 2 + 2 * b ** 2, 1 + 4 * m * b],
                     [1 + 4 * m * b, 6 + 2 * m ** 2]])


def _eig2(H):
    """The eigenvalues of a symmetric 2×2 [[a, c], [c, d]]: (a+d)/2 ∓ √(((a-d)/2)² + c²)."""
    (a, c), (_, d) = H
    r = np.hypot((a - d) / 2, c)
    return (a + d) / 2 - r, (a + d) / 2 + r


def checks(student):
    ms, bs = np.linspace(-1.0, 3.0, 21), np.linspace(-2.0, 1.0, 13)   # spacings 0.2 and 0.25

    def grid_Z():
        return np.asarray(student.landscape(line_loss, ms, bs).Z, dtype=float)

    expected_Z = np.array([[np.mean((m * X + b - Y) ** 2) for m in ms] for b in bs])
    yield grader.close("landscape: Z[i, j] = loss(ms[j], bs[i]) on a 21 × 13 grid (shape (13, 21))", grid_Z,
                       expected_Z, hint="nn.loss_grid(loss, ms, bs): m along the grid's x axis (columns), b along "
                                        "its y axis (rows)")
    yield grader.equal("landscape labels its axes ('m', 'b')",
                       lambda: tuple(student.landscape(line_loss, ms, bs).labels), ("m", "b"),
                       hint="nn.loss_grid(..., labels=('m', 'b'))")

    # the checker's own grids, so that hessian_from_grid is checked on its own
    g_line = nn.loss_grid(line_loss, ms, bs, labels=("m", "b"))
    yield grader.close("hessian_from_grid on the line's landscape at (ms[13], bs[4]) vs 2·[[mean x², mean x], "
                       "[mean x, 1]]", lambda: student.hessian_from_grid(g_line, 4, 13), H_LINE, rtol=1e-6,
                       atol=1e-8, hint="L_mm is the second difference along a row (j ± 1) over hm², L_bb along a "
                                       "column (i ± 1) over hb², L_mb the four corners over 4·hm·hb")

    qm, qb = np.linspace(-0.5, 2.5, 16), np.linspace(-1.5, 1.5, 11)   # spacings 0.2 and 0.3
    g_q = nn.loss_grid(quartic, qm, qb, labels=("m", "b"))
    i, j = 2, 11   # the point (qm[11], qb[2]) = (1.7, -0.9)
    yield grader.close("hessian_from_grid on a quartic bowl at (1.7, -0.9), spacings 0.2 and 0.3",
                       lambda: student.hessian_from_grid(g_q, i, j), _quartic_fd_hessian(qm[j], qb[i], 0.2, 0.3),
                       rtol=1e-6, atol=1e-8,
                       hint="Z[i, j] is the loss at (xs[j], ys[i]): i picks the row (b), j the column (m); each "
                            "difference is centred on (i, j), and hm is the spacing of xs, hb that of ys")

    # (2.5, -1): 12·1.5² + 2·1 = 29;  1 + 4·2.5·(-1) = -9;  6 + 2·6.25 = 18.5
    yield grader.close("hessian(quartic, 2.5, -1) vs the closed form [[29, -9], [-9, 18.5]]",
                       lambda: student.hessian(quartic, 2.5, -1.0), np.array([[29.0, -9.0], [-9.0, 18.5]]),
                       hint="dualnum.hessian(lambda p: loss(p[0], p[1]), [m, b]): p[0] is m and p[1] is b, at "
                            "the point (m, b) you were given")
    yield grader.close("hessian(line loss, 0.3, 0.2) vs 2·[[mean x², mean x], [mean x, 1]]",
                       lambda: student.hessian(line_loss, 0.3, 0.2), H_LINE,
                       hint="the Hessian of the loss you are given (not of the student file's own data)")

    Hq = np.array([[29.0, -9.0], [-9.0, 18.5]])
    yield grader.close("largest_stable_rate([[29, -9], [-9, 18.5]]) vs 2/λmax from the 2×2 closed form",
                       lambda: student.largest_stable_rate(Hq), 2 / _eig2(Hq)[1],
                       hint="2 / λmax: the LARGEST eigenvalue (np.linalg.eigvalsh sorts them ascending: the last)")
    yield grader.close("largest_stable_rate of the line's Hessian vs 2 / numpy's largest eigvalsh",
                       lambda: student.largest_stable_rate(H_LINE), 2 / np.linalg.eigvalsh(H_LINE)[-1],
                       hint="2 / λmax, with λmax the largest eigenvalue of H (not a diagonal entry)")
    yield grader.close("best_rate([[1, 0], [0, 9]]) (expected 2 / (1 + 9) = 0.2)",
                       lambda: student.best_rate(np.diag([1.0, 9.0])), 0.2,
                       hint="η* = 2 / (λmin + λmax): both ends of the spectrum, added")
    # λmin + λmax of a 2×2 is its trace, 29 + 18.5
    yield grader.close("best_rate([[29, -9], [-9, 18.5]]) (expected 2 / (λmin + λmax) = 2 / 47.5)",
                       lambda: student.best_rate(Hq), 2 / 47.5,
                       hint="η* = 2 / (λmin + λmax) with the eigenvalues of H, not its diagonal")
    # a 3×3 Hessian: the block [[2, 1], [1, 2]] has eigenvalues 1 and 3, the last entry 7 -- so λ = 1, 3, 7
    H3 = np.array([[2.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 7.0]])
    yield grader.close("largest_stable_rate of a 3×3 H with eigenvalues 1, 3, 7 (expected 2/7)",
                       lambda: student.largest_stable_rate(H3), 2 / 7,
                       hint="λmax is the last of np.linalg.eigvalsh's ascending eigenvalues, [-1], for any size of H")
    yield grader.close("best_rate of a 3×3 H with eigenvalues 1, 3, 7 (expected 2 / (1 + 7) = 0.25)",
                       lambda: student.best_rate(H3), 0.25,
                       hint="λmin is the first eigenvalue, [0], λmax the last, [-1] (not [1]: H may be larger "
                            "than 2×2)")

    # gradient descent: the path against numpy's descent with the closed-form gradient
    p10, ref = np.array([0.3, 0.2]), [float(line_loss(0.3, 0.2))]
    for _ in range(10):
        p10 = p10 - 0.25 * _line_grad(p10)
        ref.append(float(line_loss(*p10)))

    def path10():
        m, b, losses = student.descend(line_loss, 0.3, 0.2, 0.25, 10)
        return np.array(losses, dtype=float)

    yield grader.close("descend(line loss, 0.3, 0.2, rate 0.25, 10 steps): losses vs descent in numpy", path10,
                       np.array(ref), rtol=1e-9,
                       hint="losses[0] is the starting loss, then one per step; a step is (m, b) ← (m, b) - "
                            "rate·(∂L/∂m, ∂L/∂b), both from the same dualnum.gradient(loss, m, b) at the old point")

    def end10():
        m, b, _ = student.descend(line_loss, 0.3, 0.2, 0.25, 10)
        return np.array([float(m), float(b)])

    yield grader.close("descend returns the (m, b) reached after 10 steps", end10, p10, rtol=1e-9,
                       hint="return the final m and b (both updated from the same gradient)")

    m_ls, b_ls = np.polyfit(X, Y, 1)

    def converges():
        eta = student.best_rate(student.hessian(line_loss, 0.0, 0.0))
        m, b, _ = student.descend(line_loss, 0.0, 0.0, eta, 150)
        return np.array([float(m), float(b)])

    yield grader.close("descent at best_rate(hessian(...)) reaches np.polyfit(x, y, 1) within 150 steps", converges,
                       np.array([m_ls, b_ls]), rtol=1e-7, atol=1e-9,
                       hint="η* = 2 / (λmin + λmax) of the exact Hessian shrinks every direction by at least "
                            "(κ-1)/(κ+1) per step")

    def below_bound():
        bound = student.largest_stable_rate(student.hessian(line_loss, 0.0, 0.0))
        m, b, _ = student.descend(line_loss, 0.0, 0.0, 0.95 * bound, 400)
        return np.array([float(m), float(b)])

    yield grader.close("descent at 0.95 × largest_stable_rate still converges (400 steps)", below_bound,
                       np.array([m_ls, b_ls]), rtol=1e-6, atol=1e-8,
                       hint="below 2/λmax every |1 - ηλ| < 1: if this diverges, the bound is too large")

    def above_bound():
        bound = student.largest_stable_rate(student.hessian(line_loss, 0.0, 0.0))
        _, _, losses = student.descend(line_loss, 0.0, 0.0, 1.1 * bound, 80)
        return losses[-1] / losses[0]

    yield grader.true("descent at 1.1 × largest_stable_rate diverges (loss × 10⁶ within 80 steps)",
                      lambda: bool(above_bound() > 1e6),
                      detail=lambda: f"the loss changed by a factor {above_bound():.3g} only",
                      hint="above 2/λmax the step along the steepest direction overshoots by more than it "
                           "corrects, |1 - ηλmax| > 1: if it still converges, the bound is too small")
