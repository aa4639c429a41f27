"""Linear algebra -- ``np.linalg.inv``, ``det``, ``solve``, ``eigh``, ``svd``, ``norm``, ... -- each with its value,
jvp and vjp side by side (the format of dualnum/primitive.py), for both modes and every order; stacks of
matrices (..., M, N) wherever numpy takes them.

Conventions where numpy's function has no derivative (documented per entry):

* ``eigh``, ``eigvalsh``, ``cholesky``, ``svd``/``pinv`` with ``hermitian=True`` read one triangle of the
  matrix (numpy's UPLO; ``cholesky(upper=True)`` the upper one). The derivative is that of the function numpy
  computes: for a symmetric perturbation it is the usual one (autograd's and JAX's convention), and a change
  of the unread triangle changes nothing.
* Eigen- and singular vectors of a repeated eigen-/singular value have no derivative: forward mode gives NaN
  in those tangents (the values' tangents stay right), reverse mode raises where they are used.
* ``svd(full_matrices=True)`` of a non-square matrix and ``qr(mode='complete')`` of a tall one add columns
  numpy picks arbitrarily: their derivative is refused (forward mode always, reverse mode where they are used).
* Norms at 0 take the subgradient 0 (PyTorch's choice), every ord; |x| inside a norm has derivative sign(x), 0 at
  x = 0 (np.abs alone takes +1 there).
* At a repeated eigenvalue (singular value) the values' derivative is diag(Vᵀ dA V) for numpy's vectors, as in
  autograd, JAX and PyTorch: right for every symmetric function of the repeated ones (their sum, a norm), one
  choice among the one-sided derivatives for each alone; second derivatives there go through the vectors (NaN).
  A zero singular value's derivative likewise uses numpy's singular vectors (the spectral norm -2, the nuclear
  norm of a rank-deficient matrix).
* ``pinv``/``lstsq``: the derivative for perturbations that keep the rank (the only ones it exists for).
"""
import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from .primitive import composite, define

_LinAlgError = np.linalg.LinAlgError


# ---- helpers ------------------------------------------------------------------------------------------------

def _T(a):
    return np.swapaxes(a, -1, -2)


def _diag(a):
    return np.diagonal(a, axis1=-2, axis2=-1)


def _up(g, n=2):
    """g with n unit axes added at the end: a scalar per matrix broadcast over the matrix."""
    return np.reshape(g, np.shape(g) + (1,) * n)


def _shape(a):
    return np.shape(a)


def _sym(dA, UPLO):
    """The symmetric matrix numpy reads from dA's lower ('L') or upper ('U') triangle."""
    if UPLO in ("U", "u"):
        return np.triu(dA) + _T(np.triu(dA, 1))
    return np.tril(dA) + _T(np.tril(dA, -1))


def _sym_adjoint(G, UPLO):
    """The adjoint of :func:`_sym`: an off-diagonal entry read once stands for two, the unread triangle is 0."""
    if UPLO in ("U", "u"):
        return np.triu(G) + np.triu(_T(G), 1)
    return np.tril(G) + np.tril(_T(G), -1)


_MEMO = []


def _once(y, key, compute):
    """compute(), remembered for the result object ``y``: forward mode calls a jvp once per direction with the
    same y, and the factors (eigenvectors, inverse, ...) need computing once (y is new at every call)."""
    for entry in list(_MEMO):
        if entry[0] is y and entry[1] == key:
            return entry[2]
    r = compute()
    _MEMO.insert(0, (y, key, r))
    del _MEMO[2:]  # (two: an outer level's entry outlives its inner ones; more would only hold memory)
    return r


def _quotients(P, lam):
    """P_ij / (lam_j - lam_i) off the diagonal and off ties, 0 elsewhere; and where lam_i == lam_j (i ≠ j) with
    P_ij ≠ 0: there the quotient has no value (a repeated value's vectors have no derivative)."""
    D = lam[..., None, :] - lam[..., :, None]
    off = np.asarray(D != 0)  # (the diagonal is always 0)
    q = np.where(off, P / np.where(off, D, 1.0), 0.0)
    tie = ~off & ~np.eye(off.shape[-1], dtype=bool)
    return q, tie & np.asarray(P != 0) if tie.any() else None


def _gaps(P, lam):
    """P_ij / (lam_j - lam_i), 0 on the diagonal; NaN where a tie leaves it without a value (forward mode)."""
    q, bad = _quotients(P, lam)
    return np.where(bad, np.nan, q) if bad is not None and bad.any() else q


def _gaps_reverse(P, lam, name):
    """:func:`_gaps` in reverse mode: raises where the cotangent reaches a repeated value's vectors."""
    q, bad = _quotients(P, lam)
    if bad is not None and bad.any():
        raise ValueError(f"{name}: the vectors of a repeated value have no derivative (reverse mode); "
                         "differentiate a function of the values only, or of an invariant subspace's projector")
    return q


def _rsolve(Y, R):
    """Y R⁻¹ (solve, not an inverse)."""
    return _T(np.linalg.solve(_T(R), _T(Y)))


def _refuse(name, what, mode, instead):
    return TypeError(f"{name}: {what} is not supported in {mode} mode; {instead}")


# ---- inverse, determinant, solve -------------------------------------------------------------------------------

# inv: Y = A⁻¹  ->  dY = -Y dA Y,  Ā = -Yᵀ Ȳ Yᵀ
define(np.linalg.inv,
       jvp=lambda dx, Y, A: -(Y @ dx[0] @ Y),
       vjp=lambda g, Y, A: (-(_T(Y) @ g @ _T(Y)),))


def _cofactor(y, A):
    """adj(A)ᵀ = det(A)·A⁻ᵀ, the derivative of det; where a det is 0, from the SVD A = U S Vh:
    adj(A)ᵀ = det(U) det(Vh) · U diag(Π_{j≠i} s_j) Vh (the derivative exists there too)."""
    def compute():
        if not np.asarray(y == 0).any():
            return _up(y) * _T(np.linalg.inv(A))
        U, s, Vh = np.linalg.svd(A)
        n = s.shape[-1]
        others = np.prod(np.where(np.eye(n, dtype=bool), 1.0, s[..., None, :]), axis=-1)
        sign = np.linalg.det(U) * np.linalg.det(Vh)
        return _up(sign) * ((U * others[..., None, :]) @ Vh)
    return _once(y, "det", compute)


# det: d det = det · tr(A⁻¹ dA) = Σ adj(A)ᵀ ∘ dA,  Ā = ȳ · adj(A)ᵀ
define(np.linalg.det,
       jvp=lambda dx, y, A: np.sum(_cofactor(y, A) * dx[0], axis=(-2, -1)),
       vjp=lambda g, y, A: (_up(g) * _cofactor(y, A),))


def _inverse_T(y, A):
    """A⁻ᵀ, and NaN for a singular matrix (sign 0: log|det| = -inf has no derivative there)."""
    def compute():
        singular = np.asarray(y[0] == 0)
        if not singular.any():
            return _T(np.linalg.inv(A))
        flag = singular[..., None, None]
        return np.where(flag, np.nan, _T(np.linalg.inv(np.where(flag, np.eye(np.shape(A)[-1]), A))))
    return _once(y, "inv", compute)


# slogdet: (sign, log|det A|): d log|det| = tr(A⁻¹ dA),  Ā = ȳ A⁻ᵀ; the sign is a constant
define(np.linalg.slogdet,
       jvp=lambda dx, y, A: (None, np.sum(_inverse_T(y, A) * dx[0], axis=(-2, -1))),
       vjp=lambda g, y, A: (None if g[1] is None else _up(g[1]) * _inverse_T(y, A),),
       constant=(0,))


def _solve_jvp(dx, X, A, b):
    # X = A⁻¹ b  ->  dX = A⁻¹ (db - dA X); a 1-d b is one vector (numpy 2), worked as a column
    dA, db = dx
    vec = np.ndim(b) == 1
    Xm = X[..., None] if vec else X
    r = 0.0 if db is None else (db[..., None] if vec else db)
    if dA is not None:
        r = r - dA @ Xm
    dX = np.linalg.solve(A, r)
    return dX[..., 0] if vec else dX


def _solve_vjp(g, X, A, b):
    # b̄ = A⁻ᵀ Ȳ,  Ā = -b̄ Xᵀ
    vec = np.ndim(b) == 1
    bbar = np.linalg.solve(_T(A), g[..., None] if vec else g)
    Abar = -(bbar @ _T(X[..., None] if vec else X))
    return Abar, bbar[..., 0] if vec else bbar


define(np.linalg.solve, jvp=_solve_jvp, vjp=_solve_vjp, argnums=(0, 1))


# ---- factorisations ------------------------------------------------------------------------------------------

def _phi(X):
    """The lower triangle of X with half its diagonal."""
    return np.tril(X) - 0.5 * X * np.eye(X.shape[-1])


def _cholesky_jvp(dx, C, A, upper=False):
    # A = L Lᵀ  ->  dL = L Φ(L⁻¹ dA L⁻ᵀ)  (dA: the symmetric matrix of the triangle numpy reads)
    L = _T(C) if upper else C
    dS = _sym(dx[0], "U" if upper else "L")
    X = np.linalg.solve(L, _T(np.linalg.solve(L, dS)))
    dL = L @ _phi(X)
    return _T(dL) if upper else dL


def _cholesky_vjp(g, C, A, upper=False):
    # Ā = L⁻ᵀ Φ(Lᵀ L̄) L⁻¹, folded onto the triangle numpy reads
    L = _T(C) if upper else C
    Lbar = _T(g) if upper else g
    P = _phi(_T(L) @ Lbar)
    G = np.linalg.solve(_T(L), _T(np.linalg.solve(_T(L), _T(P))))
    return (_sym_adjoint(G, "U" if upper else "L"),)


define(np.linalg.cholesky, jvp=_cholesky_jvp, vjp=_cholesky_vjp)


def _eigh_jvp(dx, y, A, UPLO="L"):
    # A V = V diag(w), P = Vᵀ dA V  ->  dw = diag(P),  dV = V (P_ij / (w_j - w_i))
    w, V = y
    P = _T(V) @ _sym(dx[0], UPLO) @ V
    return _diag(P), V @ _gaps(P, w)


def _eigh_vjp(g, y, A, UPLO="L"):
    # Ā = V (diag(w̄) + (VᵀV̄)_ij / (w_j - w_i)) Vᵀ, folded onto the triangle numpy reads
    w, V = y
    wbar, Vbar = g
    inner = _T(V) @ Vbar
    inner = 0.5 * (inner - _T(inner))  # only the part that changes a symmetric Ā (the quotient is antisymmetric)
    M = _gaps_reverse(inner, w, "np.linalg.eigh") + wbar[..., None, :] * np.eye(w.shape[-1])
    return (_sym_adjoint(V @ M @ _T(V), UPLO),)


define(np.linalg.eigh, jvp=_eigh_jvp, vjp=_eigh_vjp)


def _eigvectors(w, A, UPLO):
    return _once(w, ("eigh", UPLO), lambda: np.linalg.eigh(A, UPLO)[1])


# eigvalsh: dw = diag(Vᵀ dA V),  Ā = V diag(w̄) Vᵀ (on numpy's triangle)
define(np.linalg.eigvalsh,
       jvp=lambda dx, w, A, UPLO="L": np.sum(_eigvectors(w, A, UPLO) * (_sym(dx[0], UPLO) @
                                                                        _eigvectors(w, A, UPLO)), axis=-2),
       vjp=lambda g, w, A, UPLO="L": (_sym_adjoint((_eigvectors(w, A, UPLO) * g[..., None, :]) @
                                                   _T(_eigvectors(w, A, UPLO)), UPLO),))


def _svd_parts(y, A, full_matrices, compute_uv, hermitian):
    """U (m×k), s, V (n×k): the reduced SVD, from y or computed once."""
    m, n = _shape(A)[-2:]
    k = min(m, n)
    if not compute_uv:
        U, s, Vh = _once(y, ("svd", hermitian), lambda: np.linalg.svd(A, full_matrices=False, hermitian=hermitian))
        return U, s, _T(Vh)
    U, s, Vh = y
    return U[..., :, :k], s, _T(Vh[..., :k, :])


def _svd_jvp(dx, y, A, full_matrices=True, compute_uv=True, hermitian=False):
    # A = U S Vᵀ, P = Uᵀ dA V  ->  ds = diag(P),
    # dU = U (F ∘ (P S + S Pᵀ)) + (I - UUᵀ) dA V S⁻¹,  dV = V (F ∘ (S P + Pᵀ S)) + (I - VVᵀ) dAᵀ U S⁻¹,
    # F_ij = 1 / (s_j² - s_i²)
    m, n = _shape(A)[-2:]
    k = min(m, n)
    if compute_uv and full_matrices and m != n:
        raise _refuse("np.linalg.svd", f"the derivative of u and vh with full_matrices=True of a {m}×{n} matrix",
                      "forward", "numpy picks their extra columns arbitrarily, they have no derivative; use "
                      "full_matrices=False, or compute_uv=False for the singular values")
    dA = _sym(dx[0], "L") if hermitian else dx[0]
    U, s, V = _svd_parts(y, A, full_matrices, compute_uv, hermitian)
    if not compute_uv:
        return np.sum(U * (dA @ V), axis=-2)
    P = _T(U) @ dA @ V
    S = s[..., None, :]  # (X * S scales columns by s, S_T * X scales rows)
    s2 = s * s
    dU = U @ _gaps(P * S + _T(S) * _T(P), s2)
    dV = V @ _gaps(_T(S) * P + _T(P) * S, s2)
    if m > k:
        dU = dU + _over_s(dA @ V - U @ (_T(U) @ dA @ V), s)
    if n > k:
        dV = dV + _over_s(_T(dA) @ U - V @ (_T(V) @ _T(dA) @ U), s)
    return dU, _diag(P), _T(dV)


def _over_s(X, s):
    """X S⁻¹; NaN in the columns of a zero singular value where X is not 0 (no derivative there)."""
    zero = np.asarray(s == 0)
    if not zero.any():
        return X / s[..., None, :]
    zero = np.broadcast_to(zero[..., None, :], np.shape(X))
    q = X / np.where(zero, 1.0, s[..., None, :])
    return np.where(zero & np.asarray(X != 0), np.nan, np.where(zero, 0.0, q))


def _svd_vjp(g, y, A, full_matrices=True, compute_uv=True, hermitian=False):
    # Ā = U [diag(s̄) + (F ∘ (UᵀŪ - ŪᵀU)) S + S (F ∘ (VᵀV̄ - V̄ᵀV))] Vᵀ + (I - UUᵀ) Ū S⁻¹ Vᵀ + U S⁻¹ V̄ᵀ (I - VVᵀ)
    m, n = _shape(A)[-2:]
    k = min(m, n)
    U, s, V = _svd_parts(y, A, full_matrices, compute_uv, hermitian)
    if not compute_uv:
        G = (U * g[..., None, :]) @ _T(V)
    else:
        Ubar, sbar, Vhbar = g
        if full_matrices and m != n:
            if np.asarray(Ubar[..., :, k:] != 0).any() or np.asarray(Vhbar[..., k:, :] != 0).any():
                raise _refuse("np.linalg.svd", f"the derivative of u's or vh's extra columns (full_matrices=True, "
                              f"a {m}×{n} matrix)", "reverse", "numpy picks them arbitrarily, they have no "
                              "derivative; use full_matrices=False")
            Ubar, Vhbar = Ubar[..., :, :k], Vhbar[..., :k, :]
        Vbar = _T(Vhbar)
        S = s[..., None, :]
        s2 = s * s
        EU = _T(U) @ Ubar
        EV = _T(V) @ Vbar
        core = (_gaps_reverse(EU - _T(EU), s2, "np.linalg.svd") * S
                + _T(S) * _gaps_reverse(EV - _T(EV), s2, "np.linalg.svd")
                + sbar[..., None, :] * np.eye(k))
        G = U @ core @ _T(V)
        if m > k:
            G = G + _over_s(Ubar - U @ (_T(U) @ Ubar), s) @ _T(V)
        if n > k:
            G = G + U @ _T(_over_s(Vbar - V @ (_T(V) @ Vbar), s))
    return (_sym_adjoint(G, "L") if hermitian else G,)


define(np.linalg.svd, jvp=_svd_jvp, vjp=_svd_vjp)


def _qr_prepare(args, kwargs):
    mode = args[1] if len(args) > 1 else kwargs.get("mode", "reduced")
    if mode == "raw":
        raise TypeError("np.linalg.qr(mode='raw') is not supported with derivatives (forward or reverse mode): "
                        "its Householder reflectors have no derivative here; use mode='reduced'")
    return args, kwargs


def _qr_square_jvp(dA, Q, R):
    # A = QR (m ≥ n), X = Qᵀ dA R⁻¹, K = triu(X) + tril(X, -1)ᵀ  ->  dR = K R,  dQ = dA R⁻¹ - Q K
    X = _T(Q) @ _rsolve(dA, R)
    K = np.triu(X) + _T(np.tril(X, -1))
    return _rsolve(dA, R) - Q @ K, K @ R


def _qr_square_vjp(Qbar, Rbar, Q, R):
    # M = R̄ Rᵀ - Qᵀ Q̄, N = triu(M) + tril(Mᵀ, -1)  ->  Ā = (Q̄ + Q N) R⁻ᵀ
    M = Rbar @ _T(R) - _T(Q) @ Qbar
    N = np.triu(M) + np.tril(_T(M), -1)
    return _T(np.linalg.solve(R, _T(Qbar + Q @ N)))


def _qr_factors(y, A, mode):
    if mode == "r":
        return _once(y, "qr", lambda: tuple(np.linalg.qr(A)))
    return y


def _qr_jvp(dx, y, A, mode="reduced"):
    m, n = _shape(A)[-2:]
    if mode == "complete" and m > n:
        raise _refuse("np.linalg.qr", f"the derivative of q with mode='complete' of a {m}×{n} matrix", "forward",
                      "numpy picks its last columns arbitrarily, they have no derivative; use mode='reduced'")
    Q, R = _qr_factors(y, A, mode)
    dA = dx[0]
    if m >= n:
        dQ, dR = _qr_square_jvp(dA, Q, R)
    else:  # A = Q [R₁ R₂]: Q R₁ is the QR of A's first m columns, R₂ = Qᵀ A₂
        dQ, dR1 = _qr_square_jvp(dA[..., :m], Q, R[..., :m])
        dR = np.concatenate([dR1, _T(dQ) @ A[..., m:] + _T(Q) @ dA[..., m:]], axis=-1)
    return dR if mode == "r" else (dQ, dR)


def _qr_vjp(g, y, A, mode="reduced"):
    m, n = _shape(A)[-2:]
    Q, R = _qr_factors(y, A, mode)
    Qbar, Rbar = (np.zeros(np.shape(Q)), g) if mode == "r" else g
    if mode == "complete" and m > n:
        if np.asarray(Qbar[..., n:] != 0).any():
            raise _refuse("np.linalg.qr", f"the derivative of q's last columns (mode='complete', a {m}×{n} matrix)",
                          "reverse", "numpy picks them arbitrarily, they have no derivative; use mode='reduced'")
        Q, R, Qbar, Rbar = Q[..., :n], R[..., :n, :], Qbar[..., :n], Rbar[..., :n, :]
    if m >= n:
        return (_qr_square_vjp(Qbar, Rbar, Q, R),)
    A2 = A[..., m:]
    Abar1 = _qr_square_vjp(Qbar + A2 @ _T(Rbar[..., m:]), Rbar[..., :m], Q, R[..., :m])
    return (np.concatenate([Abar1, Q @ Rbar[..., m:]], axis=-1),)


define(np.linalg.qr, jvp=_qr_jvp, vjp=_qr_vjp, prepare=_qr_prepare)


def _pinv_jvp(dx, Y, A, rcond=None, hermitian=False, **kw):
    # dA⁺ = -A⁺ dA A⁺ + A⁺A⁺ᵀ dAᵀ (I - A A⁺) + (I - A⁺A) dAᵀ A⁺ᵀA⁺   (rank kept)
    if hermitian:  # numpy reads A's lower triangle
        A, dA = _sym(A, "L"), _sym(dx[0], "L")
    else:
        dA = dx[0]
    dAT = _T(dA)
    return (-(Y @ dA @ Y) + Y @ (_T(Y) @ (dAT - (dAT @ A) @ Y))
            + (dAT - Y @ (A @ dAT)) @ (_T(Y) @ Y))


def _pinv_vjp(g, Y, A, rcond=None, hermitian=False, **kw):
    # Ā = -A⁺ᵀ Ȳ A⁺ᵀ + (I - A A⁺) Ȳᵀ A⁺A⁺ᵀ + A⁺ᵀA⁺ Ȳᵀ (I - A⁺A)
    A = _sym(A, "L") if hermitian else A
    gT = _T(g)
    YT = _T(Y)
    G = -(YT @ g @ YT) + (gT - A @ (Y @ gT)) @ (Y @ YT) + (YT @ Y) @ (gT - (gT @ Y) @ A)
    return (_sym_adjoint(G, "L") if hermitian else G,)


define(np.linalg.pinv, jvp=_pinv_jvp, vjp=_pinv_vjp)


# ---- functions written with the ones above -------------------------------------------------------------------

def _ndim(x):
    return len(np.shape(x))


def _sqrt0(s):
    """√s with derivative 0 where s == 0 (the subgradient; 1/(2√0)·0 would be NaN)."""
    zero = np.asarray(s == 0)
    if not zero.any():
        return np.sqrt(s)
    return np.where(zero, 0.0, np.sqrt(np.where(zero, 1.0, s)))


def _root0(s, p):
    """s^(1/p) with derivative 0 where s == 0 (a p-norm of a zero vector)."""
    zero = np.asarray(s == 0)
    if not zero.any():
        return s ** (1.0 / p)
    return np.where(zero, 0.0, np.where(zero, 1.0, s) ** (1.0 / p))


def _abs0(x):
    """|x| with derivative sign(x): 0 at x = 0 (a norm's subgradient there; np.abs takes +1)."""
    return x * np.sign(x)


@composite(np.linalg.norm)
def norm(x, ord=None, axis=None, keepdims=False):
    """‖x‖ as numpy computes it: vectors (Σ|x|ᵖ)^(1/p), max/min |x|, count of non-zeros (p = 0); matrices
    √Σx² ('fro'), Σ s (nuclear), max/min s (2, -2), max/min column (1, -1) or row (inf, -inf) sums of |x|."""
    nd = _ndim(x)
    if axis is None and (ord is None or (ord in ("f", "fro") and nd == 2) or (ord == 2 and nd == 1)):
        r = _sqrt0(np.sum(x * x))
        return np.reshape(r, (1,) * nd) if keepdims else r
    if axis is None:
        axis = tuple(range(nd))
    elif not isinstance(axis, tuple):
        try:
            axis = int(axis)
        except Exception as e:
            raise TypeError("'axis' must be None, an integer or a tuple of integers") from e
        axis = (axis,)
    if len(axis) == 1:
        return _vector_norm(x, ord, axis, keepdims)
    if len(axis) != 2:
        raise ValueError("Improper number of dimensions to norm.")
    row, col = normalize_axis_index(axis[0], nd), normalize_axis_index(axis[1], nd)
    if row == col:
        raise ValueError("Duplicate axes given.")
    if ord in (2, -2, "nuc"):
        s = np.linalg.svd(np.moveaxis(x, (row, col), (-2, -1)), compute_uv=False)
        r = np.max(s, axis=-1) if ord == 2 else np.min(s, axis=-1) if ord == -2 else np.sum(s, axis=-1)
        zero = np.asarray(s[..., 0] == 0)  # a zero matrix: the subgradient 0, as for the other norms
        if zero.any():
            r = np.where(zero, 0.0, r)
    elif ord in (1, -1):
        c = col - 1 if col > row else col
        sums = np.sum(_abs0(x), axis=row)
        r = np.max(sums, axis=c) if ord == 1 else np.min(sums, axis=c)
    elif ord in (np.inf, -np.inf):
        rw = row - 1 if row > col else row
        sums = np.sum(_abs0(x), axis=col)
        r = np.max(sums, axis=rw) if ord == np.inf else np.min(sums, axis=rw)
    elif ord in (None, "fro", "f"):
        r = _sqrt0(np.sum(x * x, axis=axis))
    else:
        raise ValueError("Invalid norm order for matrices.")
    if keepdims:
        shape = list(np.shape(x))
        shape[axis[0]] = 1
        shape[axis[1]] = 1
        r = np.reshape(r, shape)
    return r


def _vector_norm(x, ord, axis, keepdims):
    kw = dict(axis=axis, keepdims=keepdims)
    if ord == np.inf:
        return np.max(_abs0(x), **kw)
    if ord == -np.inf:
        return np.min(_abs0(x), **kw)
    if ord == 0:  # the number of non-zero elements: piecewise constant, derivative 0
        return np.sum(np.asarray(x != 0), **kw).astype(float)
    if ord == 1:
        return np.sum(_abs0(x), **kw)
    if ord is None or ord == 2:
        return _sqrt0(np.sum(x * x, **kw))
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    return _p_norm(x, ord, kw)


def _p_norm(x, p, kw):
    """(Σ|x|ᵖ)^(1/p); a zero element adds the constant 0ᵖ (0, or inf for p < 0: then the norm is the constant 0),
    derivative 0 there in both modes (PyTorch's choice; |x|ᵖ has no derivative at 0 for p ≤ 1)."""
    nz = np.asarray(x != 0)
    if nz.all():
        return _root0(np.sum(_abs0(x) ** p, **kw), p)
    s = np.sum(np.where(nz, _abs0(np.where(nz, x, 1.0)) ** p, 0.0 if p > 0 else np.inf), **kw)
    if p > 0:
        return _root0(s, p)
    flat = np.asarray(s == np.inf)
    return np.where(flat, 0.0, np.where(flat, 1.0, s) ** (1.0 / p))


@composite(np.linalg.vector_norm)
def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """‖x‖ over one axis, several (taken together) or all of them."""
    shape = list(np.shape(x))
    nd = len(shape)
    if axis is None:
        x, ax = np.reshape(x, -1), 0
    elif isinstance(axis, tuple):
        axes = normalize_axis_tuple(axis, nd)
        rest = tuple(i for i in range(nd) if i not in axes)
        x = np.reshape(np.transpose(x, axes + rest), (int(np.prod([shape[i] for i in axes])),) +
                       tuple(shape[i] for i in rest))
        ax = 0
    else:
        ax = axis
    r = norm(x, ord=ord, axis=ax)
    if keepdims:
        for i in normalize_axis_tuple(range(nd) if axis is None else axis, nd):
            shape[i] = 1
        r = np.reshape(r, tuple(shape))
    return r


@composite(np.linalg.matrix_norm)
def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """‖x‖ of each matrix of a stack (the last two axes)."""
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


@composite(np.linalg.svdvals)
def svdvals(x, /):
    """The singular values, largest first."""
    return np.linalg.svd(x, compute_uv=False)


def _square(name, a):
    nd = _ndim(a)
    if nd < 2:
        raise _LinAlgError(f"{nd}-dimensional array given. Array must be at least two-dimensional")
    m, n = np.shape(a)[-2:]
    if m != n:
        raise _LinAlgError("Last 2 dimensions of the array must be square")


@composite(np.linalg.matrix_power)
def matrix_power(a, n):
    """Aⁿ by repeated squaring (numpy's order of products); A⁻ⁿ = (A⁻¹)ⁿ; A⁰ = I (a constant)."""
    _square("np.linalg.matrix_power", a)
    try:
        n = operator.index(n)
    except TypeError as e:
        raise TypeError("exponent must be an integer") from e
    if n == 0:
        return np.broadcast_to(np.eye(np.shape(a)[-1]), np.shape(a)).copy()
    if n < 0:
        a, n = np.linalg.inv(a), -n
    if n == 1:
        return a * 1.0
    if n == 2:
        return a @ a
    if n == 3:
        return a @ a @ a
    z = result = None
    while n > 0:
        z = a if z is None else z @ z
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else result @ z
    return result


def _chain(arrays, i, j, order):
    if i == j:
        return arrays[i]
    return np.dot(_chain(arrays, i, order[i][j], order), _chain(arrays, order[i][j] + 1, j, order))


@composite(np.linalg.multi_dot)
def multi_dot(arrays, *, out=None):
    """A₁ A₂ ⋯ Aₙ in the order of fewest multiplications (the matrix-chain order numpy picks)."""
    if out is not None:
        raise TypeError("np.linalg.multi_dot(..., out=...) is not supported with derivatives: it would write into "
                        "a plain array and drop them; assign the result instead")
    arrays = list(arrays)
    n = len(arrays)
    if n < 2:
        raise ValueError("Expecting at least two arrays.")
    if n == 2:
        return np.dot(arrays[0], arrays[1])
    first, last = _ndim(arrays[0]), _ndim(arrays[-1])
    if first == 1:
        arrays[0] = np.reshape(arrays[0], (1, -1))
    if last == 1:
        arrays[-1] = np.reshape(arrays[-1], (-1, 1))
    for a in arrays:
        if _ndim(a) != 2:
            raise _LinAlgError(f"{_ndim(a)}-dimensional array given. Array must be two-dimensional")
    p = [np.shape(a)[0] for a in arrays] + [np.shape(arrays[-1])[1]]
    cost = [[0] * n for _ in range(n)]
    order = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = np.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if c < cost[i][j]:
                    cost[i][j], order[i][j] = c, k
    r = _chain(arrays, 0, n - 1, order)
    if first == 1 and last == 1:
        return r[0, 0]
    if first == 1 or last == 1:
        return np.reshape(r, -1)
    return r


@composite(np.linalg.cond)
def cond(x, p=None):
    """The condition number: s_max / s_min (p = None, 2; its inverse for -2), else ‖x‖_p ‖x⁻¹‖_p."""
    if p is None or p == 2 or p == -2:
        s = np.linalg.svd(x, compute_uv=False)
        return s[..., -1] / s[..., 0] if p == -2 else s[..., 0] / s[..., -1]
    _square("np.linalg.cond", x)
    try:
        return norm(x, p, axis=(-2, -1)) * norm(np.linalg.inv(x), p, axis=(-2, -1))
    except _LinAlgError:  # numpy's cond of a singular matrix is inf (a constant: no derivative there)
        from .reverse.tracked import value
        v = value(x)
        n = np.shape(v)[-1]
        flat = np.reshape(v, (-1, n, n))
        singular = np.reshape([_singular(a) for a in flat], np.shape(v)[:-2])
        safe = np.where(singular[..., None, None], np.eye(n), x)
        r = norm(safe, p, axis=(-2, -1)) * norm(np.linalg.inv(safe), p, axis=(-2, -1))
        return np.where(singular, np.inf, r)


def _singular(a):
    try:
        np.linalg.inv(a)
        return False
    except _LinAlgError:
        return True


@composite(np.linalg.matrix_rank)
def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """The number of singular values above the tolerance: an integer, read from the values (derivative 0)."""
    from .reverse.tracked import value  # (the plain array inside any level; imported here: tracked imports this module)
    return np.linalg.matrix_rank(value(A), None if tol is None else value(tol), hermitian,
                                 rtol=None if rtol is None else value(rtol))


@composite(np.linalg.lstsq)
def lstsq(a, b, rcond=None):
    """x = A⁺ b (the least-squares solution of smallest norm), residuals Σ(b - A x)², rank, singular values."""
    from .reverse.tracked import value
    if _ndim(a) != 2 or _ndim(b) not in (1, 2):
        bad = a if _ndim(a) != 2 else b
        raise _LinAlgError(f"{_ndim(bad)}-dimensional array given. Array must be two-dimensional")
    m, n = np.shape(a)
    if np.shape(b)[0] != m:
        raise _LinAlgError("Incompatible dimensions")
    if rcond is None or rcond < 0:
        rcond = np.finfo(float).eps * max(m, n)
    x = np.linalg.pinv(a, rcond=rcond) @ b
    s = np.linalg.svd(a, compute_uv=False)
    sv = value(s)
    rank = int(np.sum(sv > rcond * np.max(sv))) if np.size(sv) else 0
    if rank == n and m > n:
        r = b - a @ x
        resid = np.sum(r * r, axis=0)
        resid = np.reshape(resid, (1,)) if _ndim(b) == 1 else resid
    else:
        resid = np.empty((0,))
    return x, resid, rank, s


def _refuse_eig(name):
    def eig(a, *args, **kwargs):
        mode = "reverse" if type(a).__name__ == "Tracked" else "forward"
        raise TypeError(f"{name} is not supported in {mode} mode: the eigenvalues and vectors of a general matrix "
                        "are complex, and dualnum differentiates real functions; for a symmetric matrix use "
                        f"np.linalg.eigh or np.linalg.eigvalsh")
    return eig


composite(np.linalg.eig)(_refuse_eig("np.linalg.eig"))
composite(np.linalg.eigvals)(_refuse_eig("np.linalg.eigvals"))


# ---- numpy 2's np.linalg spellings of other numpy functions (the array API's names; the products
# np.linalg.matmul, tensordot, vecdot, outer, cross live with the contractions) --------------------------------

@composite(np.linalg.diagonal)
def diagonal(x, /, *, offset=0):
    return np.diagonal(x, offset, axis1=-2, axis2=-1)


@composite(np.linalg.trace)
def trace(x, /, *, offset=0, dtype=None):
    return np.trace(x, offset, axis1=-2, axis2=-1, dtype=dtype)


@composite(np.linalg.matrix_transpose)
def matrix_transpose(x, /):
    if _ndim(x) < 2:
        raise ValueError(f"Input array must be at least 2-dimensional, but it is {_ndim(x)}")
    return np.swapaxes(x, -1, -2)


@composite(np.linalg.tensorinv)
def tensorinv(a, ind=2):
    """The inverse of a as a map from its last axes to its first ind axes: inv of a reshaped to a matrix."""
    shape = np.shape(a)
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    rows = int(np.prod(shape[ind:]))
    return np.reshape(np.linalg.inv(np.reshape(a, (rows, -1))), shape[ind:] + shape[:ind])


@composite(np.linalg.tensorsolve)
def tensorsolve(a, b, axes=None):
    """x with tensordot(a, x, x.ndim) = b: solve with a reshaped to a square matrix."""
    an = _ndim(a)
    if axes is not None:
        order = list(range(an))
        for k in axes:
            order.remove(k)
            order.insert(an, k)
        a = np.transpose(a, order)
    shape = np.shape(a)[-(an - _ndim(b)):]
    n = int(np.prod(shape))
    if int(np.prod(np.shape(a))) != n ** 2:
        raise _LinAlgError("Input arrays must satisfy the requirement prod(a.shape[b.ndim:]) == "
                           "prod(a.shape[:b.ndim])")
    return np.reshape(np.linalg.solve(np.reshape(a, (n, n)), np.reshape(b, -1)), shape)
