"""B5: the gradient of an MLP loss through the tracker, beside a hand-written numpy backprop (and PyTorch eager).

Dense(64→32, relu) → Dense(32→10) → logit cross-entropy, batch 256 (columns are samples), float32 and float64.
All implementations compute the same loss and the gradients of W1, b1, W2, b2; the tracker's are checked against
the hand-written ones before timing. Times are medians of 21 batches per column, the columns timed in turns
(numpy, tracker, explicit, torch, numpy, ...) in this run, on this machine.
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


def interleaved_medians(fns, repeat, budget):
    """Median seconds per call of each function, measured in turns: one batch of calls of each, ``repeat`` times.

    On a busy machine the load drifts within seconds; taking every column's batches side by side makes the
    ratios between them far steadier than timing one column after the other.
    """
    import statistics
    import time
    numbers = {}
    for name, fn in fns.items():
        fn()  # warm-up: caches, allocations
        t0 = time.perf_counter()
        fn()
        numbers[name] = max(1, int(budget / len(fns) / repeat / max(time.perf_counter() - t0, 1e-7)))
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            n = numbers[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            times[name].append((time.perf_counter() - t0) / n)
    return {name: statistics.median(ts) for name, ts in times.items()}


def main(quick: bool = False):
    repeat = 7 if quick else 21
    budget = 0.5 if quick else 4.0  # seconds per dtype, all columns together
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
        fns = dict(numpy=lambda: numpy_backprop(*ws, x, y), tracker=tracker_implicit, explicit=tracker_explicit)
        if torch:
            step = torch_setup(torch, ws, x, y)
            for a, r in zip(step(), ref):
                np.testing.assert_allclose(a.numpy(), r, rtol=tol, atol=tol)
            fns["torch"] = step
        row = interleaved_medians(fns, repeat, budget)
        t_np, t_tr, t_ex = row["numpy"], row["tracker"], row["explicit"]
        line = (f"{np.dtype(dtype).name:8} {fmt_time(t_np):>14} {fmt_time(t_tr):>10} {t_tr / t_np:6.2f}"
                f" {fmt_time(t_ex):>10} {t_ex / t_np:6.2f}")
        if torch:
            line += f" {fmt_time(row['torch']):>12} {row['torch'] / t_np:6.2f}"
        rows[np.dtype(dtype).name] = row
        print(line, flush=True)
        from .targets import record
        limit = 1.4 if dtype == np.float32 else 1.3
        record(f"B5 tracker <= {limit} x numpy by hand, {np.dtype(dtype).name}", f"{t_tr / t_np:.2f} x",
               t_tr <= limit * t_np)
        record(f"B5 tracker faster than PyTorch eager, {np.dtype(dtype).name}",
               f"{t_tr / row['torch']:.2f} x torch" if torch else "torch not installed",
               (t_tr < row["torch"]) if torch else None)
    print("ratio = time / numpy-by-hand time; every column timed in turns in this run (target: tracker < ~1.5)")
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
    from .targets import record
    record(f"B5 chain of {n:_} scalar ops < 1 s", f"{statistics.median(times):.3f} s", statistics.median(times) < 1)
    print(f"chain of {n:_} scalar ops, forward + backward: {statistics.median(times):.3f} s "
          f"(the loop on plain floats: {plain * 1e3:.1f} ms; target < 1 s)")


if __name__ == "__main__":
    import sys
    main("--quick" in sys.argv)
