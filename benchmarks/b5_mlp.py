"""B5: the gradient of an MLP loss through the tracker, beside a hand-written numpy backprop (and PyTorch eager).

Dense(64→32, relu) → Dense(32→10) → logit cross-entropy, batch 256 (columns are samples), float32 and float64.
All implementations compute the same loss and the gradients of W1, b1, W2, b2; the tracker's are checked against
the hand-written ones before timing. Times are medians of several runs, measured in this run, on this machine.
"""
from __future__ import annotations

import numpy as np

from dualnum.functions import relu
from dualnum.tracker import gradient, param, params, value

from .timing import fmt_time, median_time, optional

N_IN, N_HID, N_OUT, BATCH = 64, 32, 10, 256


def make_data(dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N_IN, BATCH)).astype(dtype)
    labels = rng.integers(0, N_OUT, BATCH)
    y = np.zeros((N_OUT, BATCH), dtype=dtype)
    y[labels, np.arange(BATCH)] = 1
    W1 = (rng.standard_normal((N_HID, N_IN)) / np.sqrt(N_IN)).astype(dtype)
    b1 = (0.1 * rng.standard_normal(N_HID)).astype(dtype)
    W2 = (rng.standard_normal((N_OUT, N_HID)) / np.sqrt(N_HID)).astype(dtype)
    b2 = (0.1 * rng.standard_normal(N_OUT)).astype(dtype)
    return (W1, b1, W2, b2), x, y


# ---- the model, written once as ordinary numpy code: it runs on plain and on tracked arrays ---------------------
def logitcrossentropy(z, y):
    """-Σ y log softmax(z) / batch, with log softmax(z) = z - m - log Σ exp(z - m) over features (axis 0)."""
    zm = z - np.max(value(z), axis=0, keepdims=True)  # a constant shift for stability: it cancels in the derivative
    logp = zm - np.log(np.sum(np.exp(zm), axis=0, keepdims=True))
    return np.sum(y * logp) * (-1.0 / z.shape[1])


def mlp_loss(W1, b1, W2, b2, x, y):
    h = relu(W1 @ x + b1[:, None])
    return logitcrossentropy(W2 @ h + b2[:, None], y)


# ---- the reference: backprop by hand ------------------------------------------------------------------------
def numpy_backprop(W1, b1, W2, b2, x, y):
    a1 = W1 @ x + b1[:, None]
    h = np.maximum(a1, 0)
    z = W2 @ h + b2[:, None]
    m = z.max(axis=0, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=0, keepdims=True)
    loss = -np.sum(y * (z - m - np.log(s))) / BATCH
    dz = (e / s - y) / BATCH
    dW2 = dz @ h.T
    db2 = dz.sum(axis=1)
    da1 = (W2.T @ dz) * (a1 > 0)
    dW1 = da1 @ x.T
    db1 = da1.sum(axis=1)
    return loss, (dW1, db1, dW2, db2)


def torch_setup(torch, ws, x, y):
    tw = [torch.tensor(w, requires_grad=True) for w in ws]
    tx, ty = torch.tensor(x), torch.tensor(y)

    def step():
        for w in tw:
            w.grad = None
        W1, b1, W2, b2 = tw
        h = torch.relu(W1 @ tx + b1[:, None])
        z = W2 @ h + b2[:, None]
        loss = -(ty * torch.log_softmax(z, dim=0)).sum() / BATCH
        loss.backward()
        return [w.grad for w in tw]
    return step


def main(quick: bool = False):
    repeat = 5 if quick else 9
    budget = 0.3 if quick else 1.5
    torch = optional("torch")
    print(f"MLP {N_IN}→{N_HID} relu → {N_OUT}, logit cross-entropy, batch {BATCH}; gradient w.r.t. W1, b1, W2, b2")
    print(f"{'dtype':8} {'numpy by hand':>14} {'tracker':>10} {'ratio':>6} {'explicit':>10} {'ratio':>6}"
          + (f" {'torch eager':>12} {'ratio':>6}" if torch else ""))
    rows = {}
    for dtype in (np.float32, np.float64):
        ws, x, y = make_data(dtype)
        ps_list = [param(w) for w in ws]
        ps = params(*ps_list)
        W1, b1, W2, b2 = ps_list

        def tracker_implicit():
            return gradient(lambda: mlp_loss(W1, b1, W2, b2, x, y), ps)

        def tracker_explicit():
            return gradient(lambda a, b, c, d: mlp_loss(a, b, c, d, x, y), *ws)

        # check before timing: same gradients, same precision
        _, ref = numpy_backprop(*ws, x, y)
        gs = tracker_implicit()
        ge = tracker_explicit()
        tol = 1e-4 if dtype == np.float32 else 1e-10
        for p, r, e in zip(ps_list, ref, ge):
            assert gs[p].dtype == dtype and e.dtype == dtype, (gs[p].dtype, e.dtype)
            np.testing.assert_allclose(gs[p], r, rtol=tol, atol=tol)
            np.testing.assert_allclose(e, r, rtol=tol, atol=tol)

        t_np = median_time(lambda: numpy_backprop(*ws, x, y), repeat=repeat, budget=budget)
        t_tr = median_time(tracker_implicit, repeat=repeat, budget=budget)
        t_ex = median_time(tracker_explicit, repeat=repeat, budget=budget)
        line = (f"{np.dtype(dtype).name:8} {fmt_time(t_np):>14} {fmt_time(t_tr):>10} {t_tr / t_np:6.2f}"
                f" {fmt_time(t_ex):>10} {t_ex / t_np:6.2f}")
        row = dict(numpy=t_np, tracker=t_tr, explicit=t_ex)
        if torch:
            step = torch_setup(torch, ws, x, y)
            tg = step()
            for a, r in zip(tg, ref):
                np.testing.assert_allclose(a.numpy(), r, rtol=tol, atol=tol)
            t_to = median_time(step, repeat=repeat, budget=budget)
            line += f" {fmt_time(t_to):>12} {t_to / t_np:6.2f}"
            row["torch"] = t_to
        rows[np.dtype(dtype).name] = row
        print(line, flush=True)
    print("ratio = time / numpy-by-hand time, both measured in this run (target: tracker < ~1.5)")
    chain_rows()
    return rows


def chain_rows(n=100_000):
    """A chain of n scalar multiplications through the tracker (target < 1 s), beside the same loop on floats."""
    import statistics
    import time

    def f(x):
        for _ in range(n):
            x = x * 1.00001
        return x
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        gradient(f, 1.0)
        times.append(time.perf_counter() - t0)
    plain = median_time(lambda: f(1.0), repeat=3)
    print(f"chain of {n:_} scalar ops, forward + backward: {statistics.median(times):.3f} s "
          f"(the loop on plain floats: {plain * 1e3:.1f} ms; target < 1 s)")


if __name__ == "__main__":
    import sys
    main("--quick" in sys.argv)
