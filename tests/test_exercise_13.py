"""Exercise 13 (a CUDA kernel for the dual tanh) is graded on numba's simulator by two routes: in the grading
process itself when it already simulates (NUMBA_ENABLE_CUDASIM=1 before numba was imported), or in a child
process with the variable set. Both routes must pass the solution, fail the untouched stub readably, and catch
planted mistakes -- including ones loaded from memory, as the mutation test loads them."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLUTION = os.path.join(ROOT, "tutorials", "exercises", "solutions", "e13_cuda_tanh.py")
STUDENT = os.path.join(ROOT, "tutorials", "exercises", "e13_cuda_tanh.py")

pytest.importorskip("numba")

ROUTES = {"in the grading process": "1", "in a child process": None}


def _env(sim):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    if sim:
        env["NUMBA_ENABLE_CUDASIM"] = sim
    return env


def _check(path, sim):
    p = subprocess.run([sys.executable, "-m", "tutorials.exercises", "check", "13", path], cwd=ROOT,
                       env=_env(sim), capture_output=True, text=True, timeout=180)
    return p.returncode, p.stdout + p.stderr


# mistakes planted in the solution's text, each graded from memory (grader.load_module(..., source=...)), all in
# one process per route; prints one JSON list of result lines per mistake
_FROM_MEMORY = r"""
import json, sys
from tutorials.exercises import grader
path, checker_path, planted = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
src = open(path).read()
checker = grader.load_module(checker_path, "checks_e13")
out = []
for k, (old, new) in enumerate(planted):
    assert old in src, old
    mod = grader.load_module(path, f"planted_e13_{k}", source=src.replace(old, new))
    out.append([line for r in grader.run_checks(checker, mod, path) for line in r.lines()])
print(json.dumps(out))
"""

PLANTED = [
    # (what, old, new, a check that must fail, words its hint must contain)
    ("a sign in the derivative", "(1.0 - z * z) * dx[i]", "(1.0 + z * z) * dx[i]",
     "dy = (1 - tanh²x)", "one minus the square"),
    ("the tangent dropped", "(1.0 - z * z) * dx[i]", "(1.0 - z * z)", "dy = (1 - tanh²x)", "tangent dx[i]"),
    ("one thread per element, no loop", "for i in range(start, x.shape[0], stride):",
     "for i in range(start, min(start + 1, x.shape[0])):", "every element of y and dy written", "cuda.gridsize(1)"),
    ("stride of one block", "stride = cuda.gridsize(1)", "stride = cuda.gridsize(1) * 2",
     "every element of y and dy written", "cuda.gridsize(1)"),
    ("blocks and threads swapped", "dual_tanh_kernel[blocks, threads]", "dual_tanh_kernel[threads, blocks]",
     "one launch", "blocks first"),
    ("outputs swapped", "return d_y.copy_to_host(), d_dy.copy_to_host()",
     "return d_dy.copy_to_host(), d_y.copy_to_host()", "on the host vs dualnum.jvp", "copy_to_host"),
]


@pytest.mark.parametrize("route", list(ROUTES))
def test_solution_passes(route):
    rc, out = _check(SOLUTION, ROUTES[route])
    assert rc == 0, out
    assert "FAIL" not in out and "checks passed" in out


@pytest.mark.parametrize("route", list(ROUTES))
def test_untouched_student_file_fails_readably(route):
    rc, out = _check(STUDENT, ROUTES[route])
    assert rc == 1, out
    assert "Traceback" not in out, out
    fails = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert fails and all("not written yet: exercise 13" in line and "line " in line for line in fails), out
    assert "tid=" not in out   # the simulator's thread ids are stripped from the message


@pytest.fixture(scope="module")
def planted_results():
    checker = os.path.join(ROOT, "tutorials", "exercises", "checks", "e13_cuda_tanh.py")
    pairs = json.dumps([(old, new) for _, old, new, _, _ in PLANTED])
    results = {}
    for route, sim in ROUTES.items():
        p = subprocess.run([sys.executable, "-c", _FROM_MEMORY, SOLUTION, checker, pairs], cwd=ROOT,
                           env=_env(sim), capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stdout + p.stderr
        results[route] = json.loads(p.stdout.strip().splitlines()[-1])
    return results


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("k", range(len(PLANTED)), ids=[p[0] for p in PLANTED])
def test_planted_mistake_is_caught_from_memory(planted_results, route, k):
    what, _, _, label, hint = PLANTED[k]
    lines = planted_results[route][k]
    failed = [j for j, line in enumerate(lines) if line.startswith("FAIL") and label in line]
    assert failed, f"{what}: no failing check about {label!r}\n" + "\n".join(lines)
    hint_line = next(line for line in lines[failed[0] + 1:] if line.strip().startswith("hint:"))
    assert hint in hint_line, (what, hint_line)


def test_simulator_is_needed_only_in_the_child():
    """Grading from a process without the simulator leaves that process's numba as it was (no GPU target
    switched on behind its back): the child does the simulating."""
    code = ("import sys; from tutorials.exercises import grader; "
            "c = grader.load_module(sys.argv[2], 'c'); m = grader.load_module(sys.argv[1]); "
            "bad = [r for r in grader.run_checks(c, m, sys.argv[1]) if not r.ok]; "
            "from numba.core import config; print(len(bad), config.ENABLE_CUDASIM)")
    checker = os.path.join(ROOT, "tutorials", "exercises", "checks", "e13_cuda_tanh.py")
    p = subprocess.run([sys.executable, "-c", code, SOLUTION, checker], cwd=ROOT, env=_env(None),
                       capture_output=True, text=True, timeout=180)
    assert p.stdout.split()[-2:] == ["0", "0"], p.stdout + p.stderr
