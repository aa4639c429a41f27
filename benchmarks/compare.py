"""Two versions side by side in one run: the same B1-B5 timings in fresh processes, taken in turns.

    python -m benchmarks.compare --before DIR [--after DIR]   # DIR holds a dualnum/ package (e.g. git archive)
    python -m benchmarks.compare --mallopt                    # this dualnum with DUALNUM_MALLOPT=0 and =1

Each case runs in a fresh process per variant (each variant has its own numba cache directory), case by case
and variant after variant so that a slow spell of a shared machine hits both alike, and the table gives medians over the
rounds and the ratio second/first.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

CHILD = r'''
import sys, numpy as np
import dualnum as dn
print("dualnum from", dn.__file__)
from benchmarks.timing import median_time


def b1(x):  # benchmarks/b1_jvp.py's f and b2's rosenbrock, written here: those modules import this version's
    return np.sum(np.sin(x) * np.exp(-x) + x**2 / (1 + x**2))  # speed modules by their current paths


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


cases = {
    "B1 jvp n=1e5": (lambda x, v: lambda: dn.jvp(b1, x, v))(np.random.default_rng(0).random(10**5), np.ones(10**5)),
    "B1 jvp n=1e6": (lambda x, v: lambda: dn.jvp(b1, x, v))(np.random.default_rng(0).random(10**6), np.ones(10**6)),
    "B2 grad n=10": (lambda x: lambda: dn.gradient(rosenbrock, x))(np.linspace(-1.0, 1.5, 10)),
    "B2 grad n=100": (lambda x: lambda: dn.gradient(rosenbrock, x))(np.linspace(-1.0, 1.5, 100)),
    "B3 hessian n=10": (lambda x: lambda: dn.hessian(rosenbrock, x))(np.linspace(-1.0, 1.5, 10)),
    "B3 hessian n=100": (lambda x: lambda: dn.hessian(rosenbrock, x))(np.linspace(-1.0, 1.5, 100)),
}
from benchmarks.b4_latency import f as b4
from benchmarks.b5_mlp import make_data, mlp_loss
from dualnum.tracker import gradient as reverse_gradient
ws, x5, y5 = make_data(np.float64)
cases["B4 derivative"] = lambda: dn.derivative(b4, 2.0)
cases["B4 second derivative"] = lambda: dn.derivative(b4, 2.0, order=2)
cases["B5 mlp gradient"] = lambda: reverse_gradient(lambda a, b, c, d: mlp_loss(a, b, c, d, x5, y5), *ws)
from dualnum import fusion  # (the path every version answers to: older ones had no folders)


def unfused(fn):  # every operation on its own: the numpy path for small arrays, the per-rule kernels for big
    try:
        from dualnum.backends import use
    except ImportError:  # a version from before backends.use: its module flag
        def run():
            fusion.ENABLED = False
            try:
                return fn()
            finally:
                fusion.ENABLED = True
        return run

    def run():
        with use("kernels"):
            return fn()
    return run


for name in list(cases):
    cases[name + " unfused"] = unfused(cases[name])
for name in sys.argv[1].split(","):
    fn = cases[name]
    for _ in range(20):
        fn()  # fused loops compile (or load) on a tree's 16th computation
    print(name, "=", median_time(fn, repeat=5), flush=True)
'''


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def measure(pythonpath, env_extra, names, cache):
    env = dict(os.environ, DUALNUM_CACHE_DIR=cache, **env_extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pythonpath, REPO) if p)
    # run outside the repository: python puts the working directory first on sys.path, before PYTHONPATH
    out = subprocess.run([sys.executable, "-c", CHILD, ",".join(names)], capture_output=True, text=True, env=env,
                         check=True, timeout=1200, cwd=tempfile.gettempdir())
    where = os.path.dirname(os.path.dirname(out.stdout.split("dualnum from ")[1].split()[0]))
    assert os.path.samefile(where, pythonpath or REPO), f"measured the dualnum in {where}, not {pythonpath}"
    return {line.split(" = ")[0]: float(line.split(" = ")[1]) for line in out.stdout.splitlines() if " = " in line}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--before")
    ap.add_argument("--after", default="")
    ap.add_argument("--mallopt", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cases", default="B1 jvp n=1e5,B1 jvp n=1e6,B2 grad n=10,B2 grad n=100,B3 hessian n=10,"
                                       "B3 hessian n=100")
    a = ap.parse_args(argv)
    names = a.cases.split(",")
    if a.mallopt:
        variants = [("DUALNUM_MALLOPT=0", "", {"DUALNUM_MALLOPT": "0"}), ("DUALNUM_MALLOPT=1", "", {"DUALNUM_MALLOPT": "1"})]
    else:
        variants = [("before", a.before, {}), ("after", a.after, {})]
    caches = [tempfile.mkdtemp(prefix="dualnum-bench-") for _ in variants]
    times = {v[0]: {n: [] for n in names} for v in variants}
    for r in range(a.rounds):  # case by case, the variants in turns: a busy spell hits both alike
        for name in names:
            for (label, path, env), cache in zip(variants, caches):
                times[label][name].extend(measure(path, env, [name], cache).values())
    (l0, *_), (l1, *_) = variants
    print(f"{'case':<18} {l0:>18} {l1:>18} {'ratio':>6}   (medians of {a.rounds} rounds, each a median of 5)")
    for n in names:
        t0, t1 = statistics.median(times[l0][n]), statistics.median(times[l1][n])
        print(f"{n:<18} {t0 * 1e3:>15.3f} ms {t1 * 1e3:>15.3f} ms {t1 / t0:>6.2f}")


if __name__ == "__main__":
    main()
