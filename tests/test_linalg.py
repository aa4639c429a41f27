"""np.linalg in both modes, first and second order: every function against central differences and against
the closed forms of its derivative (d det = det·tr(A⁻¹dA), d inv = -A⁻¹ dA A⁻¹, Hellmann-Feynman for eigenvalues,
dA = dQ R + Q dR for QR, ...); Hessians forward over forward vs forward over reverse vs central differences of
the gradient vs reverse over reverse; the conventions where numpy's function has no derivative."""
import numpy as np
import pytest

import dualnum
from dualnum import tracker
from dualnum.testing import numeric_gradient

RNG = np.random.default_rng(7)


def rand(*shape, salt=0):
    return np.random.default_rng(abs(hash((shape, salt))) % 2**32).normal(size=shape)


def well(*shape, salt=0):
    """Square matrices (or stacks) far from singular."""
    return rand(*shape, salt=salt) * 0.4 + 2 * np.eye(shape[-1])


def spd(*shape, salt=0):
    x = rand(*shape, salt=salt)
    return x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])


def sym(A):
    return (A + np.swapaxes(A, -1, -2)) / 2


A3, S3, TALL, WIDE = well(3, 3), spd(3, 3), rand(4, 3, salt=1), rand(3, 4, salt=2)
STACK, TALLS = well(2, 3, 3, salt=3), rand(2, 4, 3, salt=4)


# ---- first order: both modes against central differences -------------------------------------------------------

def weighted(g, shape_of):
    """sum(g(A) * W) for fixed weights W of each output's shape: every output element gets its own weight."""
    cache = {}

    def f(A):
        out = g(A)
        outs = out if isinstance(out, tuple) else (out,)
        total = 0.0
        for i, o in enumerate(outs):
            if i not in cache:
                cache[i] = np.random.default_rng(i).uniform(0.5, 1.5, np.shape(dualnum.value(o)))
            total = total + np.sum(o * cache[i])
        return total
    f(shape_of)  # fixes the weights on plain values
    return f


FIRST = {
    "det": (np.linalg.det, A3), "det stack": (np.linalg.det, STACK),
    "slogdet": (lambda A: np.linalg.slogdet(A)[1], STACK),
    "inv": (np.linalg.inv, STACK),
    "solve vector": (lambda A: np.linalg.solve(A, np.arange(3.0)), A3),
    "solve stack, one vector": (lambda A: np.linalg.solve(A, np.arange(3.0)), STACK),
    "solve matrix b": (lambda A: np.linalg.solve(A[..., :3, :3], A[..., :3, 1:] ** 2), STACK),
    "solve b differentiated": (lambda b: np.linalg.solve(A3, b), rand(3, 2)),
    "cholesky": (np.linalg.cholesky, S3), "cholesky stack": (np.linalg.cholesky, spd(2, 3, 3)),
    "cholesky upper": (lambda A: np.linalg.cholesky(A, upper=True), S3),
    "eigh": (np.linalg.eigh, rand(4, 4)), "eigh U": (lambda A: np.linalg.eigh(A, UPLO="U"), rand(2, 3, 3)),
    "eigvalsh": (np.linalg.eigvalsh, rand(2, 4, 4)), "eigvalsh U": (lambda A: np.linalg.eigvalsh(A, "U"), S3),
    "svd square": (np.linalg.svd, A3), "svd tall reduced": (lambda A: np.linalg.svd(A, full_matrices=False), TALLS),
    "svd wide reduced": (lambda A: np.linalg.svd(A, full_matrices=False), WIDE),
    "svd values": (lambda A: np.linalg.svd(A, compute_uv=False), TALLS),
    "svd hermitian": (lambda A: np.linalg.svd(A, hermitian=True), S3),
    "svdvals": (np.linalg.svdvals, WIDE),
    "qr square": (np.linalg.qr, A3), "qr tall": (np.linalg.qr, TALLS), "qr wide": (np.linalg.qr, WIDE),
    "qr r": (lambda A: np.linalg.qr(A, mode="r"), TALL), "qr complete wide": (lambda A: np.linalg.qr(A, "complete"), WIDE),
    "pinv tall": (np.linalg.pinv, TALLS), "pinv wide": (np.linalg.pinv, WIDE),
    "pinv hermitian": (lambda A: np.linalg.pinv(A, hermitian=True), rand(3, 3)),
    "norm 2 matrix": (lambda A: np.linalg.norm(A, 2), TALL), "norm -2": (lambda A: np.linalg.norm(A, -2), TALL),
    "norm nuc": (lambda A: np.linalg.norm(A, "nuc"), WIDE), "norm fro": (np.linalg.norm, TALLS),
    "norm 1": (lambda A: np.linalg.norm(A, 1, axis=(1, 2), keepdims=True), TALLS),
    "norm inf": (lambda A: np.linalg.norm(A, np.inf), TALL), "norm -inf": (lambda A: np.linalg.norm(A, -np.inf), TALL),
    "norm -1": (lambda A: np.linalg.norm(A, -1), TALL),
    "norm vectors 3": (lambda A: np.linalg.norm(A, 3, axis=-1), TALLS),
    "norm vectors -1.5": (lambda A: np.linalg.norm(A, -1.5, axis=0), TALL),
    "norm vectors 0.5": (lambda A: np.linalg.norm(A, 0.5, axis=1), TALL),
    "vector_norm tuple axis": (lambda A: np.linalg.vector_norm(A, axis=(0, 2), ord=3), TALLS),
    "matrix_norm stack": (lambda A: np.linalg.matrix_norm(A, ord=2), TALLS),
    "matrix_power 5": (lambda A: np.linalg.matrix_power(A, 5), STACK),
    "matrix_power -3": (lambda A: np.linalg.matrix_power(A, -3), A3),
    "multi_dot": (lambda A: np.linalg.multi_dot([A[0], A[1].T, A[0], np.arange(3.0)]), TALLS),
    "cond": (np.linalg.cond, STACK), "cond 1": (lambda A: np.linalg.cond(A, 1), A3),
    "lstsq": (lambda A: np.linalg.lstsq(A, np.arange(4.0))[0], TALL),
    "lstsq residuals": (lambda A: np.linalg.lstsq(A, np.ones((4, 2)))[1], TALL),
    "tensorinv": (lambda A: np.linalg.tensorinv(A.reshape(6, 2, 3), ind=1), well(6, 6)),
    "tensorsolve": (lambda A: np.linalg.tensorsolve(A.reshape(2, 3, 6), np.arange(6.0).reshape(2, 3)), well(6, 6)),
    "linalg.trace": (lambda A: np.linalg.trace(A, offset=1), TALLS),
    "linalg.diagonal": (lambda A: np.linalg.diagonal(A, offset=-1) ** 2, TALLS),
    "matrix_transpose": (lambda A: np.linalg.matrix_transpose(A) @ A, TALLS),
}


@pytest.mark.parametrize("name", FIRST)
def test_gradients_match_central_differences_in_both_modes(name):
    g, A = FIRST[name]
    f = weighted(g, A)
    fd = numeric_gradient(f, A)[0]
    np.testing.assert_allclose(dualnum.gradient(f, A)[0], fd, rtol=1e-5, atol=1e-6, err_msg="forward")
    np.testing.assert_allclose(tracker.gradient(f, A)[0], fd, rtol=1e-5, atol=1e-6, err_msg="reverse")


# ---- first order: closed forms -----------------------------------------------------------------------------------

def directional(f, A, dA):
    """ḟ along dA, by forward mode."""
    return dualnum.jvp(f, A, dA)[1]


def tangents(f, n, A, dA):
    """The tangents of f's n results along dA (dualnum.jvp takes one result at a time)."""
    return tuple(directional(lambda A, i=i: f(A)[i], A, dA) for i in range(n))


def test_det_is_det_times_trace_of_inverse_times_dA():
    dA = rand(2, 3, 3, salt=9)
    expect = np.linalg.det(STACK) * np.trace(np.linalg.solve(STACK, dA), axis1=-2, axis2=-1)
    np.testing.assert_allclose(directional(np.linalg.det, STACK, dA), expect, rtol=1e-10)
    np.testing.assert_allclose(tracker.gradient(lambda A: np.sum(np.linalg.det(A)), STACK)[0],
                               np.linalg.det(STACK)[:, None, None] * np.swapaxes(np.linalg.inv(STACK), -1, -2),
                               rtol=1e-10)


def cofactors(A):
    return np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(A, i, 0), j, 1)) for j in range(3)]
                     for i in range(3)])


def test_det_of_a_singular_matrix_has_the_adjugate_as_gradient():
    for A in (np.array([[0.3, 2.0, 3.0], [0.7, 1.0, 0.5], [0.3, 2.0, 3.0]]),  # a repeated row: det exactly 0
              np.array([[1.0, 2.0, 3.0], [2.0, 1.0, 0.5], [3.0, 3.0, 3.5]])):  # rank 2, det ~ 1e-15
        for grad in (dualnum.gradient(np.linalg.det, A)[0], tracker.gradient(np.linalg.det, A)[0]):
            np.testing.assert_allclose(grad, cofactors(A), atol=1e-12)
        assert np.abs(cofactors(A)).max() > 1  # not the trivial 0
    stack = np.stack([A3, np.array([[0.3, 2.0, 3.0], [0.7, 1.0, 0.5], [0.3, 2.0, 3.0]])])
    expect = np.stack([cofactors(a) for a in stack])
    np.testing.assert_allclose(tracker.gradient(lambda A: np.sum(np.linalg.det(A)), stack)[0], expect, atol=1e-12)
    np.testing.assert_allclose(dualnum.gradient(lambda A: np.sum(np.linalg.det(A)), stack)[0], expect, atol=1e-12)
    H = dualnum.hessian(np.linalg.det, stack[1])  # second order through the SVD form of the adjugate
    np.testing.assert_allclose(H, dualnum.hessian(np.linalg.det, stack[1], method="forward-over-reverse"), atol=1e-10)
    np.testing.assert_allclose(H, _central_hessian(np.linalg.det, stack[1]), atol=1e-5)


def test_slogdet_is_trace_of_inverse_times_dA_and_its_sign_is_constant():
    dA = rand(2, 3, 3, salt=9)
    sign, tangent = None, directional(lambda A: np.linalg.slogdet(A)[1], STACK, dA)
    np.testing.assert_allclose(tangent, np.trace(np.linalg.solve(STACK, dA), axis1=-2, axis2=-1), rtol=1e-10)
    sign = np.linalg.slogdet(dualnum.DualArray(STACK, dA[None]))[0]
    assert type(sign) is np.ndarray  # a constant: numpy's sign, no derivative


def test_inverse_is_minus_inverse_dA_inverse():
    dA = rand(2, 3, 3, salt=9)
    inv = np.linalg.inv(STACK)
    np.testing.assert_allclose(directional(np.linalg.inv, STACK, dA), -inv @ dA @ inv, rtol=1e-10)


def test_solve_is_inverse_of_db_minus_dA_x():
    dA, db = rand(3, 3, salt=9), rand(3, 2, salt=10)
    b = rand(3, 2, salt=11)
    x = np.linalg.solve(A3, b)
    np.testing.assert_allclose(directional(lambda A: np.linalg.solve(A, b), A3, dA), np.linalg.solve(A3, -dA @ x),
                               rtol=1e-10)
    np.testing.assert_allclose(directional(lambda c: np.linalg.solve(A3, c), b, db), np.linalg.solve(A3, db),
                               rtol=1e-10)
    # b̄ = A⁻ᵀ ȳ, Ā = -b̄ xᵀ
    w = rand(3, 2, salt=12)
    gA, gb = tracker.gradient(lambda A, c: np.sum(np.linalg.solve(A, c) * w), A3, b)
    np.testing.assert_allclose(gb, np.linalg.solve(A3.T, w), rtol=1e-10)
    np.testing.assert_allclose(gA, -np.linalg.solve(A3.T, w) @ x.T, rtol=1e-10)


def test_cholesky_tangent_is_lower_and_reproduces_dA():
    dA = sym(rand(2, 3, 3, salt=9))
    A = spd(2, 3, 3)
    L = np.linalg.cholesky(A)
    dL = directional(np.linalg.cholesky, A, dA)
    np.testing.assert_allclose(np.triu(dL, 1), 0, atol=1e-14)
    np.testing.assert_allclose(dL @ np.swapaxes(L, -1, -2) + L @ np.swapaxes(dL, -1, -2), dA, atol=1e-12)
    dU = directional(lambda A: np.linalg.cholesky(A, upper=True), A, dA)
    np.testing.assert_allclose(dU, np.swapaxes(dL, -1, -2), atol=1e-12)


def test_eigh_values_follow_hellmann_feynman_and_vectors_the_perturbation_equation():
    A, dA = sym(rand(2, 4, 4)), sym(rand(2, 4, 4, salt=9))
    w, V = np.linalg.eigh(A)
    dw, dV = tangents(np.linalg.eigh, 2, A, dA)
    np.testing.assert_allclose(dw, np.einsum("...ki,...kl,...li->...i", V, dA, V), rtol=1e-10)  # vᵢᵀ dA vᵢ
    # A dV + dA V = dV W + V dW, and Vᵀ dV antisymmetric (unit columns)
    np.testing.assert_allclose(A @ dV + dA @ V, dV * w[..., None, :] + V * dw[..., None, :], atol=1e-10)
    VtdV = np.swapaxes(V, -1, -2) @ dV
    np.testing.assert_allclose(VtdV, -np.swapaxes(VtdV, -1, -2), atol=1e-12)
    np.testing.assert_allclose(directional(np.linalg.eigvalsh, A, dA), dw, rtol=1e-10)


def test_eigh_derivative_is_for_the_triangle_numpy_reads():
    """numpy reads the lower (UPLO='L') or upper triangle: the other one has gradient 0, and for a symmetric
    perturbation the derivative is the symmetric one (autograd's and JAX's convention)."""
    A = rand(3, 3)
    for UPLO, unread in (("L", np.triu_indices(3, 1)), ("U", np.tril_indices(3, -1))):
        def f(A):
            w, V = np.linalg.eigh(A, UPLO)
            return np.sum(w ** 3) + np.sum(np.sin(V))
        for grad in (dualnum.gradient(f, A)[0], tracker.gradient(f, A)[0]):
            np.testing.assert_allclose(grad[unread], 0)
            np.testing.assert_allclose(grad, numeric_gradient(f, A)[0], rtol=1e-5, atol=1e-6)
    # through a symmetrised input the gradient is symmetric and matches central differences
    g = lambda A: np.sum(np.linalg.eigh(sym(A))[0] ** 3) + np.sum(np.linalg.eigh(sym(A))[1][:, 0] ** 2 * np.arange(3))
    for grad in (dualnum.gradient(g, A)[0], tracker.gradient(g, A)[0]):
        np.testing.assert_allclose(grad, grad.T, atol=1e-12)
        np.testing.assert_allclose(grad, numeric_gradient(g, A)[0], rtol=1e-5, atol=1e-6)


def test_svd_values_and_vectors_satisfy_the_product_rule():
    for A in (TALLS, rand(2, 3, 5), A3):
        dA = rand(*A.shape, salt=9)
        U, s, Vh = np.linalg.svd(A, full_matrices=False)
        dU, ds, dVh = tangents(lambda A: np.linalg.svd(A, full_matrices=False), 3, A, dA)
        np.testing.assert_allclose(ds, np.einsum("...ki,...kl,...il->...i", U, dA, Vh), rtol=1e-10)  # uᵢᵀ dA vᵢ
        np.testing.assert_allclose((dU * s[..., None, :]) @ Vh + (U * ds[..., None, :]) @ Vh
                                   + (U * s[..., None, :]) @ dVh, dA, atol=1e-10)
        UtdU = np.swapaxes(U, -1, -2) @ dU
        np.testing.assert_allclose(UtdU, -np.swapaxes(UtdU, -1, -2), atol=1e-10)
        np.testing.assert_allclose(directional(lambda A: np.linalg.svd(A, compute_uv=False), A, dA), ds, rtol=1e-10)


def test_qr_tangents_reproduce_dA_with_upper_dR_and_orthogonal_dQ():
    for A in (TALLS, WIDE, A3):
        dA = rand(*A.shape, salt=9)
        Q, R = np.linalg.qr(A)
        dQ, dR = tangents(np.linalg.qr, 2, A, dA)
        np.testing.assert_allclose(dQ @ R + Q @ dR, dA, atol=1e-10)
        np.testing.assert_allclose(np.tril(dR, -1), 0, atol=1e-12)
        QtdQ = np.swapaxes(Q, -1, -2) @ dQ
        np.testing.assert_allclose(QtdQ, -np.swapaxes(QtdQ, -1, -2), atol=1e-10)
        np.testing.assert_allclose(directional(lambda A: np.linalg.qr(A, mode="r"), A, dA), dR, atol=1e-12)


def test_pinv_of_a_full_column_rank_matrix_is_the_derivative_of_the_normal_equations():
    A, dA = TALLS, rand(2, 4, 3, salt=9)
    At, dAt = np.swapaxes(A, -1, -2), np.swapaxes(dA, -1, -2)
    G = np.linalg.inv(At @ A)  # A⁺ = (AᵀA)⁻¹Aᵀ
    expect = -G @ (dAt @ A + At @ dA) @ G @ At + G @ dAt
    np.testing.assert_allclose(directional(np.linalg.pinv, A, dA), expect, atol=1e-10)
    x = np.arange(4.0)  # lstsq is the same map applied to b
    np.testing.assert_allclose(directional(lambda A: np.linalg.lstsq(A, x)[0], A[0], dA[0]), expect[0] @ x,
                               atol=1e-10)


def test_norms_have_their_closed_form_derivatives():
    A, dA = TALL, rand(4, 3, salt=9)
    U, s, Vh = np.linalg.svd(A, full_matrices=False)
    cases = {2: U[:, 0] @ dA @ Vh[0], -2: U[:, -1] @ dA @ Vh[-1], "nuc": np.trace(U.T @ dA @ Vh.T),
             "fro": np.sum(A * dA) / np.linalg.norm(A)}
    for ord, expect in cases.items():
        assert directional(lambda A: np.linalg.norm(A, ord), A, dA) == pytest.approx(expect, rel=1e-10)
    x, dx = rand(5, salt=3), rand(5, salt=4)
    for p in (3, 1.5, -1.0, 0.5):  # d‖x‖ₚ = Σ|x|ᵖ⁻¹ sign(x) dx / ‖x‖ₚᵖ⁻¹
        expect = np.sum(np.abs(x) ** (p - 1) * np.sign(x) * dx) / np.linalg.norm(x, p) ** (p - 1)
        assert directional(lambda x: np.linalg.norm(x, p), x, dx) == pytest.approx(expect, rel=1e-10)
    k = np.argmax(np.abs(x))
    assert directional(lambda x: np.linalg.norm(x, np.inf), x, dx) == pytest.approx(np.sign(x[k]) * dx[k])


def test_matrix_power_is_the_sum_of_its_products():
    A, dA = A3, rand(3, 3, salt=9)
    P = lambda n: np.linalg.matrix_power(A, n)
    expect = sum(P(k) @ dA @ P(4 - k) for k in range(5))  # d A⁵
    np.testing.assert_allclose(directional(lambda A: np.linalg.matrix_power(A, 5), A, dA), expect, rtol=1e-10)
    inv = np.linalg.inv(A)  # d A⁻² = -A⁻¹ dA A⁻² - A⁻² dA A⁻¹
    np.testing.assert_allclose(directional(lambda A: np.linalg.matrix_power(A, -2), A, dA),
                               -inv @ dA @ inv @ inv - inv @ inv @ dA @ inv, rtol=1e-10)
    assert type(np.linalg.matrix_power(dualnum.DualArray(A, dA[None]), 0)) is np.ndarray  # I: a constant


def test_cond_is_the_ratio_of_extreme_singular_values():
    A, dA = A3, rand(3, 3, salt=9)
    U, s, Vh = np.linalg.svd(A)
    d1, dn = U[:, 0] @ dA @ Vh[0], U[:, -1] @ dA @ Vh[-1]
    assert directional(np.linalg.cond, A, dA) == pytest.approx((d1 * s[-1] - s[0] * dn) / s[-1] ** 2, rel=1e-10)


# ---- second order -----------------------------------------------------------------------------------------------

SECOND = {
    "det": (np.linalg.det, A3),
    "logabsdet": (lambda A: np.linalg.slogdet(A)[1], A3),
    "sum inv": (lambda A: np.sum(np.linalg.inv(A)), A3),
    "solve": (lambda A: np.sum(np.linalg.solve(A, np.arange(3.0) + 1) ** 2), A3),
    "cholesky": (lambda A: np.sum(np.sin(np.linalg.cholesky(A @ A.T + np.eye(3)))), A3),
    "sum eigvalsh cubed": (lambda A: np.sum(np.linalg.eigvalsh(sym(A)) ** 3), A3),
    "eigh vectors": (lambda A: np.sum(np.sin(np.linalg.eigh(sym(A))[1])), A3),
    "sum singular values": (lambda A: np.sum(np.linalg.svd(A, compute_uv=False)), TALL),
    "svd vectors": (lambda A: np.sum(np.sin(np.linalg.svd(A, full_matrices=False)[0]))
                    + np.sum(np.linalg.svd(A, full_matrices=False)[2] ** 3), WIDE),
    "qr": (lambda A: np.sum(np.sin(np.linalg.qr(A)[0])) + np.sum(np.linalg.qr(A)[1] ** 3), TALL),
    "pinv": (lambda A: np.sum(np.sin(np.linalg.pinv(A))), WIDE),
    "norm fro": (np.linalg.norm, TALL), "norm 2": (lambda A: np.linalg.norm(A, 2), TALL),
    "norm nuc": (lambda A: np.linalg.norm(A, "nuc"), TALL), "norm 3": (lambda A: np.linalg.norm(A.ravel(), 3), TALL),
    "matrix_power -2": (lambda A: np.sum(np.linalg.matrix_power(A, -2)), A3),
    "eigh of a stack": (lambda A: np.sum(np.linalg.eigh(A)[0] ** 3) + np.sum(np.linalg.eigh(A)[1][..., 0] ** 3),
                        sym(rand(2, 3, 3, salt=6))),
    "svd of a stack": (lambda A: np.sum(np.linalg.svd(A, full_matrices=False)[0] ** 3)
                       + np.sum(np.sqrt(np.linalg.svd(A, compute_uv=False))), rand(2, 3, 2, salt=6)),
    "solve, stacked b": (lambda b: np.sum(np.linalg.solve(STACK, b) ** 3), rand(2, 3, 2, salt=6)),
    "cholesky of a stack": (lambda A: np.sum(np.linalg.cholesky(A, upper=True) ** 3), spd(2, 3, 3)),
    "tensorsolve": (lambda A: np.sum(np.linalg.tensorsolve(A.reshape(2, 2, 4), np.ones((2, 2))) ** 2), well(4, 4)),
    "det of a stack": (lambda A: np.sum(np.linalg.det(np.stack([A, A @ A, A.T + np.eye(3)]))), A3),
}


def _central_hessian(f, A, h=1e-5):
    g = lambda Z: tracker.gradient(f, Z)[0]
    H = np.zeros(A.shape + A.shape)
    for i in np.ndindex(A.shape):
        e = np.zeros_like(A)
        e[i] = h
        H[(...,) + i] = (g(A + e) - g(A - e)) / (2 * h)
    return H


@pytest.mark.parametrize("name", SECOND)
def test_hessians_agree_across_methods_and_with_central_differences(name):
    f, A = SECOND[name]
    ff = dualnum.hessian(f, A)
    fr = dualnum.hessian(f, A, method="forward-over-reverse")
    fd = _central_hessian(f, A)
    np.testing.assert_allclose(ff, fd, rtol=1e-4, atol=1e-5, err_msg="forward over forward")
    np.testing.assert_allclose(fr, ff, rtol=1e-8, atol=1e-10, err_msg="forward over reverse")
    v = rand(*A.shape, salt=5)  # reverse over reverse: the gradient of ⟨∇f, v⟩ is H v
    rr = tracker.gradient(lambda Z: np.sum(tracker.gradient(f, Z, nest=True)[0] * v), A)[0]
    np.testing.assert_allclose(rr, np.tensordot(ff, v, axes=A.ndim), rtol=1e-8, atol=1e-10,
                               err_msg="reverse over reverse")


def test_hessian_of_log_det_is_minus_the_trace_of_inverse_products():
    A = A3  # d² log|det| [E, F] = -tr(A⁻¹ E A⁻¹ F)
    inv = np.linalg.inv(A)
    expect = -np.einsum("li,jk->ijkl", inv, inv)
    np.testing.assert_allclose(dualnum.hessian(lambda A: np.linalg.slogdet(A)[1], A), expect, rtol=1e-10)


# ---- where numpy's function has no derivative ---------------------------------------------------------------------

def test_norms_of_zero_take_the_subgradient_zero():
    vectors = [np.linalg.norm, lambda x: np.linalg.norm(x, 1), lambda x: np.linalg.norm(x, np.inf),
               lambda x: np.linalg.norm(x, 3), lambda x: np.linalg.vector_norm(x, ord=-np.inf)]
    matrices = [np.linalg.norm, lambda x: np.linalg.norm(x, "fro"), lambda x: np.linalg.matrix_norm(x, ord=1),
                lambda x: np.linalg.norm(x, axis=1), lambda x: np.linalg.norm(x, 2), lambda x: np.linalg.norm(x, "nuc"),
                lambda x: np.linalg.norm(x, -np.inf), lambda x: np.linalg.norm(x, -2)]
    for fs, x in ((vectors, np.zeros(3)), (matrices, np.zeros((2, 3)))):
        for f in fs:
            assert np.array_equal(dualnum.gradient(lambda x: np.sum(f(x)), x)[0], np.zeros_like(x))
            assert np.array_equal(tracker.gradient(lambda x: np.sum(f(x)), x)[0], np.zeros_like(x))
    x = np.array([0.0, 3.0, -4.0])  # a zero element of a nonzero vector: the derivative exists (0 there)
    for grad in (dualnum.gradient, tracker.gradient):
        np.testing.assert_allclose(grad(np.linalg.norm, x)[0], x / 5)
        np.testing.assert_allclose(grad(lambda x: np.linalg.norm(x, 3), x)[0], x * np.abs(x) / np.cbrt(91) ** 2)
        for p in (0.5, 1, -1, -2.5, -np.inf):  # |x|ᵖ has no derivative at 0 (p ≤ 1): 0 there, the same in both modes
            g = grad(lambda x: np.linalg.norm(x, p), x)[0]
            assert g[0] == 0 and np.isfinite(g).all()
            if p < 0:  # a zero element makes the norm 0 for every nearby x with that element 0: all 0
                assert np.array_equal(g, np.zeros(3))
        np.testing.assert_allclose(grad(lambda x: np.linalg.norm(x, 0.5), x)[0][1:],
                                   numeric_gradient(lambda x: np.linalg.norm(x, 0.5), x)[0][1:], rtol=1e-6)


def test_repeated_eigenvalues_give_the_values_derivative_and_refuse_the_vectors():
    A = np.diag([1.0, 1.0, 2.0])
    for grad in (dualnum.gradient(lambda A: np.sum(np.linalg.eigh(A)[0] * [1.0, 1.0, 3.0]), A)[0],
                 tracker.gradient(lambda A: np.sum(np.linalg.eigh(A)[0] * [1.0, 1.0, 3.0]), A)[0]):
        np.testing.assert_allclose(grad, np.diag([1.0, 1.0, 3.0]), atol=1e-12)
    with pytest.raises(ValueError, match=r"np\.linalg\.eigh.*repeated.*reverse mode"):
        tracker.gradient(lambda A: np.sum(np.linalg.eigh(A)[1][:, 0] * [1.0, 2.0, 3.0]), A)
    dV = dualnum.jvp(lambda A: np.linalg.eigh(A)[1], A, np.ones((3, 3)))[1]
    assert np.isnan(dV[:, :2]).any()  # no number for the tied vectors, never a made-up one
    assert np.isfinite(dualnum.jvp(lambda A: np.linalg.eigh(A)[0], A, np.ones((3, 3)))[1]).all()


def test_full_svd_of_a_non_square_matrix_refuses_the_extra_vectors_naming_the_mode():
    f = lambda A: np.sum(np.linalg.svd(A)[0])
    with pytest.raises(TypeError, match=r"np\.linalg\.svd.*full_matrices=True.*forward mode"):
        dualnum.gradient(f, TALL)
    with pytest.raises(TypeError, match=r"np\.linalg\.svd.*full_matrices=True.*reverse mode"):
        tracker.gradient(f, TALL)
    # the singular values alone have a derivative: reverse mode gives it (forward mode computes every output)
    g = lambda A: np.sum(np.linalg.svd(A)[1] ** 2)
    np.testing.assert_allclose(tracker.gradient(g, TALL)[0], 2 * TALL, rtol=1e-10)
    # so do u's first columns
    h = lambda A: np.sum(np.linalg.svd(A)[0][:, :3] ** 3)
    np.testing.assert_allclose(tracker.gradient(h, TALL)[0],
                               numeric_gradient(lambda A: np.sum(np.linalg.svd(A)[0][:, :3] ** 3), TALL)[0],
                               rtol=1e-5, atol=1e-6)


def test_qr_refusals_name_the_function_and_mode():
    with pytest.raises(TypeError, match=r"np\.linalg\.qr.*complete.*forward mode"):
        dualnum.gradient(lambda A: np.sum(np.linalg.qr(A, "complete")[0]), TALL)
    with pytest.raises(TypeError, match=r"np\.linalg\.qr.*complete.*reverse mode"):
        tracker.gradient(lambda A: np.sum(np.linalg.qr(A, "complete")[0]), TALL)
    np.testing.assert_allclose(tracker.gradient(lambda A: np.sum(np.linalg.qr(A, "complete")[1] ** 2), TALL)[0],
                               tracker.gradient(lambda A: np.sum(np.linalg.qr(A)[1] ** 2), TALL)[0], rtol=1e-10)
    for grad in (dualnum.gradient, tracker.gradient):
        with pytest.raises(TypeError, match=r"np\.linalg\.qr\(mode='raw'\).*not supported"):
            grad(lambda A: np.sum(np.linalg.qr(A, mode="raw")[0]), TALL)


def test_eig_is_refused_in_both_modes_pointing_at_eigh():
    for grad, mode in ((dualnum.gradient, "forward"), (tracker.gradient, "reverse")):
        for f in (np.linalg.eig, np.linalg.eigvals):
            with pytest.raises(TypeError, match=rf"{f.__name__} is not supported in {mode} mode.*eigh"):
                grad(lambda A: np.sum(f(A)[0]), S3)


def test_slogdet_of_a_singular_matrix_has_no_derivative():
    A = np.stack([np.ones((2, 2)), np.eye(2)])
    d = dualnum.jvp(lambda A: np.linalg.slogdet(A)[1], A, np.ones((2, 2, 2)))[1]
    assert np.isnan(d[0]) and d[1] == pytest.approx(2.0)  # the nonsingular one keeps tr(A⁻¹ dA)


def test_matrix_rank_is_an_integer_in_both_modes():
    A = rand(3, 3)
    A[2] = A[0] - A[1]
    assert np.linalg.matrix_rank(dualnum.DualArray(A, np.ones((1, 3, 3)))) == 2
    tracker.gradient(lambda A: (np.linalg.matrix_rank(A) == 2 or pytest.fail("rank")) and np.sum(A), A)


def test_third_derivatives_along_a_line_match_closed_forms():
    A, B = A3, rand(3, 3, salt=9)
    M = np.linalg.solve(A, B)
    Ai = np.linalg.inv(A)
    d3 = lambda f: dualnum.derivative(f, 0.0, order=3)
    assert d3(lambda t: np.linalg.det(A + t * B)) == pytest.approx(6 * np.linalg.det(B), rel=1e-10)  # a cubic in t
    assert d3(lambda t: np.linalg.slogdet(A + t * B)[1]) == pytest.approx(2 * np.trace(M @ M @ M), rel=1e-10)
    assert d3(lambda t: np.sum(np.linalg.inv(A + t * B))) == pytest.approx(-6 * np.sum(Ai @ B @ Ai @ B @ Ai @ B @ Ai),
                                                                          rel=1e-10)
    # Σ eigenvalues² = ‖S‖²_F and Σ singular values² = ‖A‖²_F: quadratics in t, third derivative 0
    assert d3(lambda t: np.sum(np.linalg.eigvalsh(sym(A) + t * sym(B)) ** 2)) == pytest.approx(0, abs=1e-9)
    assert d3(lambda t: np.sum(np.linalg.svd(A + t * B, compute_uv=False) ** 2)) == pytest.approx(0, abs=1e-9)


def test_cond_of_a_singular_matrix_is_inf_and_leaves_the_others_derivatives():
    stack = np.stack([np.array([[1.0, 2.0], [2.0, 4.0]]), well(2, 2)])
    for grad in (dualnum.gradient, tracker.gradient):
        got = grad(lambda A: np.linalg.cond(A, 1)[1], stack)[0]
        np.testing.assert_allclose(got[1], grad(lambda A: np.linalg.cond(A, 1), stack[1])[0], rtol=1e-12)
        assert np.array_equal(got[0], np.zeros((2, 2)))
