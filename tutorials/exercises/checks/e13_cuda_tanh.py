"""Checks for exercise 13 (a CUDA kernel for the dual tanh), on numba's CUDA simulator.

The simulator must be switched on (NUMBA_ENABLE_CUDASIM=1) before numba is first imported. When the process that
imported the student's file simulates already (NUMBA_ENABLE_CUDASIM=1 in its environment: ``ENV`` below says so to
a runner that sets it), the kernel runs here; otherwise every case runs once, in a child Python with the variable
set, on the code this process loaded (marshalled, so a planted mistake loaded from memory is what runs), and the
results come back in a file.
The references: numpy's tanh, dualnum.jvp, and the derivative in dualnum's rules table; every output array starts
as NaN, so an element the grid-stride loop skips is seen."""
import json
import marshal
import os
import re
import subprocess
import sys
import tempfile
import types

import numpy as np

from tutorials.exercises import grader

NAME = "a CUDA kernel for the dual tanh"
TASK = "write a grid-stride numba.cuda kernel giving tanh x and (1 - tanh²x)·ẋ, run on the simulator"
FOLLOWS = "tutorial 5 (the chain rule as one loop, its last section) and the rules table, dualnum/rules.py"
TIME_LIMIT = 60
ENV = {"NUMBA_ENABLE_CUDASIM": "1"}

# (name, n, blocks, threads): the kernel launched directly; n > blocks·threads needs the grid-stride loop
KERNEL_CASES = [
    ("one element, one thread", 1, 1, 1),
    ("n = 7 < 32 threads", 7, 2, 16),
    ("n = 257 on 1 block of 4 threads (grid-stride)", 257, 1, 4),
    ("n = 1000 on 2 blocks of 16 (grid-stride)", 1000, 2, 16),
    ("n = 10000 on 4 blocks of 8 (grid-stride)", 10_000, 4, 8),
]
# (name, n, blocks, threads or None for dual_tanh's defaults): the host function dual_tanh
LAUNCH_CASES = [
    ("dual_tanh, n = 500, its default launch", 500, None, None),
    ("dual_tanh, n = 3000, 3 blocks of 8", 3000, 3, 8),
]


def _inputs(n, k):
    """x in [-4, 4] with 0 and two saturated values (tanh ≈ ±1, slope ≈ 0) among them; ẋ random, of both signs."""
    rng = np.random.default_rng(1300 + k)
    x = rng.uniform(-4.0, 4.0, n)
    x[: min(n, 3)] = [0.0, 20.0, -20.0][: min(n, 3)] if n > 1 else 0.7
    return x, rng.standard_normal(n) * 2.0


# ---- running the student's kernel: here, or in a child process with the simulator on --------------------------

_CHILD = r"""
import json, os, sys
import numpy as np
student_file, out = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.getcwd())
from tutorials.exercises import grader
from tutorials.exercises.checks import e13_cuda_tanh as me
res = {}
def fail(key, e):
    res[key] = {"error": type(e).__name__ if isinstance(e, NotImplementedError) else "other",
                "message": (str(e) + grader._where(e, student_file, False)) if isinstance(e, NotImplementedError)
                           else grader.describe_exception(e, student_file)}
try:
    import numba.cuda  # noqa: F401
except Exception as e:
    res["import"] = {"error": "numba", "message": f"{type(e).__name__}: {e}"}
else:
    try:
        student = grader.load_module(student_file)
        me.use_codes(student, sys.argv[3])
    except BaseException as e:
        fail("import", e)
    else:
        arrays = {}
        for key, value in me.run_all(student, fail).items():
            for i, a in enumerate(value):
                arrays[f"{key}|{i}"] = a
        np.savez(out, **arrays)
with open(out + ".json", "w") as f:
    json.dump(res, f)
"""


def _key(kind, k):
    return f"{kind}{k}"


def run_all(student, fail):
    """Run every case: {key: (x, dx, y, dy, x after, dx after[, launches])}; a case that raises goes to fail(key, e)."""
    from numba import cuda
    out, report = {}, fail

    def fail(key, e):
        # the simulator prefixes a thread's exception with its thread and block ids: noise for a student
        if e.args and isinstance(e.args[0], str):
            e.args = (re.sub(r"^tid=\[[^]]*\] ctaid=\[[^]]*\]: ", "", e.args[0]),) + e.args[1:]
        report(key, e)

    for k, (_, n, blocks, threads) in enumerate(KERNEL_CASES):
        x, dx = _inputs(n, k)
        xs, dxs = x.copy(), dx.copy()
        try:
            d_x, d_dx = cuda.to_device(x), cuda.to_device(dx)
            d_y, d_dy = cuda.to_device(np.full(n, np.nan)), cuda.to_device(np.full(n, np.nan))
            student.dual_tanh_kernel[blocks, threads](d_x, d_dx, d_y, d_dy)
            out[_key("k", k)] = (xs, dxs, d_y.copy_to_host(), d_dy.copy_to_host(), d_x.copy_to_host(),
                                 d_dx.copy_to_host())
        except Exception as e:
            fail(_key("k", k), e)
    for k, (_, n, blocks, threads) in enumerate(LAUNCH_CASES):
        x, dx = _inputs(n, 10 + k)
        xs, dxs = x.copy(), dx.copy()
        kernel, spy = student.dual_tanh_kernel, _Spy(student.dual_tanh_kernel)
        student.dual_tanh_kernel = spy   # dual_tanh looks the kernel up when it runs: the spy sees the launch
        try:
            r = student.dual_tanh(x, dx) if blocks is None else student.dual_tanh(x, dx, blocks, threads)
            if not (isinstance(r, tuple) and len(r) == 2):
                raise TypeError(f"dual_tanh returned {type(r).__name__}, not the pair (y, dy)")
            for name, a in zip(("y", "dy"), r):
                if not isinstance(a, np.ndarray):
                    raise TypeError(f"dual_tanh returned {name} as {type(a).__name__}, not a numpy array on the "
                                    "host: copy it back with .copy_to_host()")
            y, dy = r
            out[_key("l", k)] = (xs, dxs, y, dy, x, dx, np.array(spy.launches, dtype=float).reshape(-1, 2))
        except Exception as e:
            fail(_key("l", k), e)
        finally:
            student.dual_tanh_kernel = kernel
    return out


class _Spy:
    """Stands in for the kernel: records each launch configuration [blocks, threads], then launches the kernel."""

    def __init__(self, kernel):
        self.kernel, self.launches = kernel, []

    def __getitem__(self, config):
        self.launches.append([int(np.prod(c)) for c in config[:2]])
        return self.kernel[config]


def _functions(module):
    """{name: (function, its kernel or None)} for the functions and kernels defined in module."""
    out = {}
    for name, obj in vars(module).items():
        f = getattr(obj, "py_func", obj)
        if isinstance(f, types.FunctionType) and f.__module__ == module.__name__:
            out[name] = (f, None if f is obj else obj)
    return out


def _codes(module):
    """The code of every function of module, marshalled: the child runs exactly the code this process loaded
    (which need not be the file's text: the mutation test loads solutions with planted mistakes from memory)."""
    return marshal.dumps({name: f.__code__ for name, (f, _) in _functions(module).items()})


def use_codes(module, path):
    """In the child: replace each function (or kernel) of module whose code differs from the parent's."""
    with open(path, "rb") as fh:
        codes = marshal.loads(fh.read())
    for name, (f, kernel) in _functions(module).items():
        code = codes.get(name)
        if code is None or marshal.dumps(code) == marshal.dumps(f.__code__):
            continue
        g = types.FunctionType(code, module.__dict__, name, f.__defaults__, f.__closure__)
        if kernel is None:
            setattr(module, name, g)
        else:
            from numba import cuda
            setattr(module, name, cuda.jit(device=bool(getattr(kernel, "_device", False)))(g))


class _Runs:
    """The results of every case, computed once, on the first check that asks."""

    def __init__(self, student):
        self.student, self.results, self.errors = student, None, {}

    def _simulated_here(self):
        config = sys.modules.get("numba.core.config")
        return config is not None and bool(getattr(config, "ENABLE_CUDASIM", False))

    def get(self):
        if self.results is None:
            self.results = {}
            if self._simulated_here():
                def fail(key, e):
                    self.errors[key] = e
                self.results = run_all(self.student, fail)
            else:
                self._in_child()
        return self.results

    def _in_child(self):
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
        path = os.path.abspath(self.student.__file__)
        env = dict(os.environ, **ENV)
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "results.npz")
            codes = os.path.join(tmp, "codes.marshal")
            with open(codes, "wb") as f:
                f.write(_codes(self.student))
            try:
                p = subprocess.run([sys.executable, "-c", _CHILD, path, out, codes], cwd=root, env=env,
                                   capture_output=True, text=True, timeout=TIME_LIMIT - 10)
            except subprocess.TimeoutExpired:
                self.errors["import"] = grader.Mismatch(
                    f"the simulator's run of your file took longer than {TIME_LIMIT - 10} s (a loop that never "
                    "ends? i must grow by cuda.gridsize(1) on every pass)")
                return
            if not os.path.exists(out + ".json"):
                tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
                self.errors["import"] = grader.Mismatch("the simulator's run of your file stopped without a "
                                                        "result: " + " | ".join(tail))
                return
            with open(out + ".json") as f:
                errs = json.load(f)
            for key, e in errs.items():
                if e["error"] == "NotImplementedError":
                    self.errors[key] = NotImplementedError(e["message"])
                elif e["error"] == "numba":
                    self.errors[key] = grader.Mismatch(
                        f"numba.cuda cannot be imported here ({e['message']}): install numba (pip install numba) "
                        "to run this exercise; its simulator needs no GPU")
                else:
                    self.errors[key] = grader.Mismatch(e["message"])
            if os.path.exists(out):
                with np.load(out) as z:
                    grouped = {}
                    for name in z.files:
                        key, i = name.split("|")
                        grouped.setdefault(key, {})[int(i)] = z[name]
                self.results = {k: tuple(v[i] for i in range(len(v))) for k, v in grouped.items()}

    def case(self, key):
        results = self.get()
        for k in ("import", key):
            if k in self.errors:
                raise self.errors[k]
        return results[key]


def _tanh_rule(x, dx):
    """The derivative as dualnum's rules table states it: d tanh = partial(x, z)·dx with z = tanh x."""
    from dualnum import rules
    r = rules.RULES["tanh"]
    z = r.f(x)
    return z, r.partials[0](x, z) * dx


def _jvp(x, dx):
    import dualnum
    return dualnum.jvp(np.tanh, x, dx)


def _unwritten(y):
    bad = np.flatnonzero(np.isnan(y))
    return f"{bad.size} of {y.size} elements were never written, e.g. indices {bad[:6].tolist()}"


def checks(student):
    runs = _Runs(student)

    for k, (name, n, blocks, threads) in enumerate(KERNEL_CASES):
        key = _key("k", k)
        x, dx = _inputs(n, k)
        if n > blocks * threads:
            yield grader.true(f"kernel, {name}: every element of y and dy written",
                              lambda key=key: bool(not np.isnan(runs.case(key)[2]).any()
                                                   and not np.isnan(runs.case(key)[3]).any()),
                              detail=lambda key=key: _unwritten(runs.case(key)[2] + runs.case(key)[3]),
                              hint=f"only {blocks * threads} threads run: each must loop, i = cuda.grid(1), then "
                                   "i += cuda.gridsize(1) (all threads of all blocks), while i < n")
        yield grader.close(f"kernel, {name}: y = tanh x", lambda key=key: runs.case(key)[2], np.tanh(x),
                           rtol=1e-12, atol=1e-15,
                           hint="y[i] = math.tanh(x[i]), at the same index i it reads")
        reference = _tanh_rule if k % 2 else (lambda a, b: _jvp(a, b))
        yield grader.close(f"kernel, {name}: dy = (1 - tanh²x)·ẋ vs "
                           + ("dualnum's rules table" if k % 2 else "dualnum.jvp(np.tanh, x, ẋ)"),
                           lambda key=key: runs.case(key)[3], lambda x=x, dx=dx, f=reference: f(x, dx)[1],
                           rtol=1e-12, atol=1e-15,
                           hint="dy[i] = (1 - z²)·dx[i] with z = tanh x[i]: one minus the square, times the "
                                "tangent dx[i] of the same element")
    yield grader.close("the kernel leaves its inputs x and ẋ unchanged (n = 1000)",
                       lambda: np.array(runs.case(_key("k", 3))[4:6]), np.array(_inputs(1000, 3)),
                       hint="write only into y and dy")

    for k, (name, n, blocks, threads) in enumerate(LAUNCH_CASES):
        key = _key("l", k)
        x, dx = _inputs(n, 10 + k)
        yield grader.close(f"{name}: (y, dy) on the host vs dualnum.jvp(np.tanh, x, ẋ)",
                           lambda key=key: np.array(runs.case(key)[2:4]), lambda x=x, dx=dx: np.array(_jvp(x, dx)),
                           rtol=1e-12, atol=1e-15,
                           hint="copy x and dx to the device, launch dual_tanh_kernel[blocks, threads] with the "
                                "blocks and threads given, and return (y, dy) copied back with .copy_to_host()")
        launch = [2, 16] if blocks is None else [blocks, threads]
        yield grader.close(f"{name}: one launch, dual_tanh_kernel[{launch[0]}, {launch[1]}]",
                           lambda key=key: runs.case(key)[6], np.array([launch], dtype=float),
                           hint="launch the kernel once, as dual_tanh_kernel[blocks, threads](...): blocks first, "
                                "then threads per block, the numbers dual_tanh was given")
