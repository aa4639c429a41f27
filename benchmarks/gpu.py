"""GPU: B1's dual JVP against the device's copy bandwidth, the dual matmul against cuBLAS, a training step against
the CPU -- each measured side by side in one run on the device (``python -m benchmarks gpu [--quick]``), after
the CUDA tests run once compiled for the device (``--no-tests`` skips them; ``--profile`` shows where a training
step's time goes instead).

Targets: B1 at n = 1e8 reaches >= 80 % of the device-to-device copy bandwidth (bytes it must read, x and v, over
its time); the 4096 x 4096 float32 dual matmul reaches >= 25 % of cuBLAS's TFLOP/s (PyTorch or CuPy on the same
device, TF32 off); one training step of Chain(Dense(1024, 1024, relu), Dense(1024, 1024, relu), Dense(1024, 10)),
batch 1024, is >= 10 x faster than the CPU path. Without a GPU this prints why and returns.
"""
from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np


def _sync():
    from numba import cuda
    cuda.synchronize()


def timed(fn, repeat=5, warmup=1, sync=_sync):
    """(first call's seconds, median of ``repeat`` later calls), each call synchronised with the device by
    ``sync`` (numba's by default; PyTorch's or CuPy's for their references)."""
    t = time.perf_counter()
    fn()
    sync()
    cold = time.perf_counter() - t
    for _ in range(warmup - 1):
        fn()
    sync()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return cold, statistics.median(times)


def _verdict(ok):
    return "met" if ok else "NOT met"


def copy_bandwidth(n):
    """Bytes per second of a device-to-device copy (cudaMemcpy), counting bytes read and written."""
    from numba import cuda
    a = cuda.device_array(n, dtype=np.float64)
    b = cuda.device_array(n, dtype=np.float64)
    _, t = timed(lambda: b.copy_to_device(a), repeat=10, warmup=2)
    best = 2 * 8 * n / t
    try:  # PyTorch's copy where it is installed: the higher of the two is the reference
        import torch
        if torch.cuda.is_available():
            ta, tb = torch.empty(n, dtype=torch.float64, device="cuda"), torch.empty(n, dtype=torch.float64,
                                                                                      device="cuda")
            _, t = timed(lambda: tb.copy_(ta), repeat=10, warmup=2, sync=torch.cuda.synchronize)
            best = max(best, 2 * 8 * n / t)
    except ImportError:
        pass
    return best


def b1(n, rows):
    import dualnum as dn
    from dualnum.backends.cuda import to_device

    def f(x):
        return np.sum(np.sin(x) * np.exp(-x) + x**2 / (1 + x**2))

    rng = np.random.default_rng(0)
    bw = copy_bandwidth(n)
    effs = {}
    for dt in (np.float64, np.float32):
        x, v = to_device(rng.random(n).astype(dt)), to_device(rng.random(n).astype(dt))
        cold, t = timed(lambda: dn.jvp(f, x, v), repeat=5, warmup=2)
        effs[dt] = eff = 2 * x.dtype.itemsize * n / t  # the bytes a JVP must read (x and v) over its time
        print(f"  B1 dual JVP, n = {n:.0e}, {np.dtype(dt).name}: cold {cold:.3f} s, warm {t * 1e3:.2f} ms; "
              f"{eff / 1e12:.2f} TB/s of {bw / 1e12:.2f} TB/s copy bandwidth = {eff / bw:.0%} "
              f"(target >= 80 %: {_verdict(eff >= 0.8 * bw)})")
        del x, v
    eff = effs[np.float64]
    # the same JVP on the host path, for correctness at a smaller size
    m = 10_000
    xh, vh = rng.random(m), rng.random(m)
    yd, dyd = dn.jvp(f, to_device(xh), to_device(vh))
    yh, dyh = dn.jvp(f, xh, vh)
    ok = np.isclose(float(yd), float(yh), rtol=1e-10) and np.isclose(float(dyd), float(dyh), rtol=1e-10)
    print(f"  B1 device result equals the CPU's at n = {m}: {ok}")
    rows.append(("B1 dual JVP n=1e8 float64 vs copy bandwidth", f"{eff / bw:.0%}", ">= 80 %", eff >= 0.8 * bw))
    e32 = effs[np.float32]
    rows.append(("B1 dual JVP n=1e8 float32 vs copy bandwidth", f"{e32 / bw:.0%}", ">= 80 %", e32 >= 0.8 * bw))


def matmul(n, rows):
    from dualnum import DualArray
    from dualnum.backends.cuda import to_device
    rng = np.random.default_rng(1)
    A, dA, B, dB = (to_device(rng.standard_normal((n, n)).astype(np.float32)) for _ in range(4))
    a, b = DualArray(A, dA[None]), DualArray(B, dB[None])
    cold, t = timed(lambda: a @ b, repeat=5, warmup=2)
    ours = 3 * 2 * n**3 / t  # A·B, dA·B and A·dB
    cold_v, tv = timed(lambda: A @ B, repeat=5, warmup=2)
    ours_v = 2 * n**3 / tv
    A64, B64 = to_device(rng.standard_normal((n, n))), to_device(rng.standard_normal((n, n)))
    _, t64 = timed(lambda: A64 @ B64, repeat=3, warmup=2)
    print(f"  value-only matmul {n}x{n} float64: {2 * n**3 / t64 / 1e12:.1f} TFLOP/s")
    ref, name = _cublas(n)
    print(f"  dual matmul {n}x{n} float32: {t * 1e3:.2f} ms = {ours / 1e12:.1f} TFLOP/s (cold {cold:.2f} s); "
          f"value only {ours_v / 1e12:.1f} TFLOP/s")
    if ref is None:
        print("  cuBLAS: neither PyTorch nor CuPy sees the GPU here: no reference")
        rows.append(("dual matmul 4096 f32 vs cuBLAS", f"{ours / 1e12:.1f} TFLOP/s", ">= 25 %", None))
        return
    print(f"  cuBLAS ({name}, TF32 off): {ref / 1e12:.1f} TFLOP/s; dual matmul = {ours / ref:.0%} of it, value "
          f"only {ours_v / ref:.0%} (target >= 25 %: {_verdict(ours >= 0.25 * ref)})")
    # correctness against the host at a smaller, odd size
    m = 257
    Ah, Bh, dAh, dBh = (rng.standard_normal((m, m)) for _ in range(4))
    r = DualArray(to_device(Ah), to_device(dAh)[None]) @ DualArray(to_device(Bh), to_device(dBh)[None])
    ok = np.allclose(r.value.get(), Ah @ Bh) and np.allclose(r.partials.get()[0], dAh @ Bh + Ah @ dBh)
    print(f"  dual matmul equals the host's at {m}x{m} float64: {ok}")
    rows.append(("dual matmul 4096 f32 vs cuBLAS", f"{ours / ref:.0%}", ">= 25 %", ours >= 0.25 * ref))


def _cublas(n):
    try:
        import torch
        if torch.cuda.is_available():
            torch.backends.cuda.matmul.allow_tf32 = False
            a = torch.randn(n, n, device="cuda")
            b = torch.randn(n, n, device="cuda")
            _, t = timed(lambda: a @ b, repeat=10, warmup=3, sync=torch.cuda.synchronize)
            return 2 * n**3 / t, "PyTorch " + torch.__version__
    except ImportError:
        pass
    try:
        import cupy
        a = cupy.random.standard_normal((n, n), dtype=cupy.float32)
        b = cupy.random.standard_normal((n, n), dtype=cupy.float32)
        _, t = timed(lambda: a @ b, repeat=10, warmup=3, sync=cupy.cuda.Device().synchronize)
        return 2 * n**3 / t, "CuPy " + cupy.__version__
    except Exception:
        return None, None


def training(rows, width=1024, batch=1024, steps=5):
    import nn
    nn.seed(0)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((width, batch))
    y = nn.onehot(rng.integers(0, 10, batch), 10).astype(float)

    def make():
        nn.seed(0)
        return nn.Chain(nn.Dense(width, width, nn.relu), nn.Dense(width, width, nn.relu), nn.Dense(width, 10))

    def step(model, opt, xs, ys):
        ps = nn.params(model)
        gs = nn.gradient(lambda: nn.logitcrossentropy(model(xs), ys), ps)
        nn.update(opt, ps, gs)

    cpu_model, gpu_model = make(), nn.gpu(make())
    xg, yg = nn.gpu(x), nn.gpu(y)
    opt_c, opt_g = nn.Descent(0.01), nn.Descent(0.01)
    for _ in range(2):  # step for step: the same weights after the same steps
        step(cpu_model, opt_c, x, y)
        step(gpu_model, opt_g, xg, yg)
    lc = float(nn.logitcrossentropy(cpu_model(x), y))
    lg = float(nn.logitcrossentropy(gpu_model(xg), yg))
    print(f"  loss after 2 steps: CPU {lc:.12f}, GPU {lg:.12f} (equal to 1e-9: {abs(lc - lg) <= 1e-9 * abs(lc)})")
    cold_g, tg = timed(lambda: step(gpu_model, opt_g, xg, yg), repeat=steps, warmup=2)
    t0 = time.perf_counter()
    step(cpu_model, opt_c, x, y)
    cold_c = time.perf_counter() - t0
    tc = statistics.median(_wall(lambda: step(cpu_model, opt_c, x, y)) for _ in range(steps))
    print(f"  training step, 3 Dense layers of {width}, batch {batch}: GPU {tg * 1e3:.1f} ms (cold {cold_g:.2f} s), "
          f"CPU {tc * 1e3:.1f} ms: {tc / tg:.1f} x (target >= 10 x: {_verdict(tc >= 10 * tg)})")
    rows.append(("training step vs CPU", f"{tc / tg:.1f} x", ">= 10 x", tc >= 10 * tg))


def profile(width=1024, batch=1024):
    """Where a training step's time goes: seconds per kernel (each launch synchronised) and Python's share."""
    import cProfile
    import collections
    import pstats
    import nn
    from dualnum.backends.cuda import kernels
    rng = np.random.default_rng(2)
    nn.seed(0)
    model = nn.gpu(nn.Chain(nn.Dense(width, width, nn.relu), nn.Dense(width, width, nn.relu), nn.Dense(width, 10)))
    xg = nn.gpu(rng.standard_normal((width, batch)))
    yg = nn.gpu(nn.onehot(rng.integers(0, 10, batch), 10).astype(float))
    opt = nn.Descent(0.01)

    def step():
        ps = nn.params(model)
        gs = nn.gradient(lambda: nn.logitcrossentropy(model(xg), yg), ps)
        nn.update(opt, ps, gs)
    step()
    _sync()
    totals, counts = collections.Counter(), collections.Counter()
    get = kernels.get

    class Timed:
        def __init__(self, name, k):
            self.name, self.k = name, k

        def __getitem__(self, cfg):
            launch = self.k[cfg]

            def run(*args):
                _sync()
                t = time.perf_counter()
                launch(*args)
                _sync()
                totals[self.name] += time.perf_counter() - t
                counts[self.name] += 1
            return run
    kernels.get = lambda name: Timed(name, get(name))
    try:
        t = time.perf_counter()
        step()
        _sync()
        total = time.perf_counter() - t
    finally:
        kernels.get = get
    print(f"  one step with every launch synchronised: {total * 1e3:.1f} ms, {sum(counts.values())} launches, "
          f"kernels {sum(totals.values()) * 1e3:.1f} ms (launch included)")
    for name, sec in totals.most_common(12):
        print(f"    {name:24s} {counts[name]:4d} launches {sec * 1e3:8.2f} ms")
    pr = cProfile.Profile()
    pr.enable()
    for _ in range(3):
        step()
    _sync()
    pr.disable()
    pstats.Stats(pr).sort_stats("tottime").print_stats(14)


def _wall(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def gpu_tests():
    """The CUDA tests compiled for the device instead of the simulator (a child process: the simulator is chosen
    when numba is first imported). Returns pytest's exit status."""
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="0")
    files = sorted(f"tests/{f}" for f in os.listdir(os.path.join(root, "tests")) if f.startswith("test_cuda_"))
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "not ptx", *files],
                          cwd=root, env=env, capture_output=True, text=True)
    tail = [ln for ln in proc.stdout.splitlines() if ln.strip()][-12:]
    print(f"  CUDA tests on the device ({time.perf_counter() - t:.0f} s):")
    print("\n".join("    " + ln for ln in tail))
    return proc.returncode


def main(quick=False):
    from dualnum.backends import cuda
    if not cuda.available() or cuda.simulating():
        print("  no CUDA GPU here (or numba's simulator is on): the GPU benchmarks need a real device")
        return []
    if "--no-tests" not in sys.argv:
        gpu_tests()
    from numba import cuda as nc
    import numba
    dev = nc.get_current_device()
    print(f"  device: {dev.name.decode() if isinstance(dev.name, bytes) else dev.name}; numba {numba.__version__}, "
          f"numpy {np.__version__}, Python {sys.version.split()[0]}")
    if "--profile" in sys.argv:
        profile()
        return []
    rows = []
    b1(10**6 if quick else 10**8, rows)
    matmul(1024 if quick else 4096, rows)
    training(rows, *((256, 256) if quick else (1024, 1024)))
    print("\n  | target | measured | wanted | |\n  |---|---|---|---|")
    for name, got, want, ok in rows:
        print(f"  | {name} | {got} | {want} | {'n/a' if ok is None else _verdict(ok)} |")
    return rows


if __name__ == "__main__":
    main("--quick" in sys.argv)
