"""The kernel cache on disk is keyed by the rules' formulas, and survives damage: each case in fresh processes.

A rule registered outside rules.py, or registered again with another formula, must be computed by its own
formula on big arrays (per-rule kernels and fused loops), in the process that changed it and after a restart
with the same cache directory. A damaged numba cache, a damaged generated file, no home directory and a
DUALNUM_CACHE_DIR that is a file must all still give the right numbers, with one warning naming the directory.
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("numba")

SCRIPT = textwrap.dedent('''
    import sys, warnings
    warnings.simplefilter("always")
    import numpy as np, dualnum as dn
    from dualnum.backends import fusion, kernels
    from dualnum import rules
    from dualnum.functions import apply
    fusion.HOT, fusion.PAYBACK, kernels.PAYBACK = 1, 0.0, 0.0  # compile at once: the cache is the subject
    n = kernels.MIN_SIZE
    x = dn.DualArray(np.linspace(-1.0, 1.0, n), np.ones((1, n)))
    print("sin", np.max(np.abs(np.sin(x).partials[0] - np.cos(x.value))))
    for scale in map(float, sys.argv[1:]):  # a user's rule, registered (again) with another formula
        rules.rule("softplus2", lambda v: np.log1p(np.exp(v)), lambda v, z: scale / (1.0 + np.exp(-v)))
        want = scale / (1.0 + np.exp(-x.value))
        r = rules.RULES["softplus2"]
        one = apply(r, x).partials[0]  # the per-rule kernel
        fused = [(apply(r, x) * x).partials[0] for _ in range(2)]  # a fused loop, compiled then reused
        err = max(np.max(np.abs(one - want)),
                  *(np.max(np.abs(f - (want * x.value + np.log1p(np.exp(x.value))))) for f in fused))
        print("rule", scale, err)
    LN2 = 7.0  # this module's global; rules.py has one of the same name (ln 2): the formula must read this one
    rules.rule("times_ln2_user", lambda v: LN2 * v, lambda v, z: LN2 + 0.0 * v)
    print("rule", "LN2", np.max(np.abs(apply(rules.RULES["times_ln2_user"], x).partials - 7.0)))
    print("module", kernels.module() is not None, kernels.cache_dir())
''')


def run(cache, *args, env=None, prelude=""):
    e = dict(os.environ, DUALNUM_CACHE_DIR=str(cache), **(env or {}))
    out = subprocess.run([sys.executable, "-c", prelude + SCRIPT, *args], capture_output=True, text=True, env=e,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    results = {}
    for line in out.stdout.splitlines():
        key, *rest = line.split()
        results.setdefault(key, []).append(rest)
    return results, out.stderr


def assert_right(results):
    assert float(results["sin"][0][0]) < 1e-12
    for scale, err in results.get("rule", []):
        assert float(err) < 1e-9, f"rule with scale {scale} served a stale derivative (error {err})"
    assert results["module"][0][0] == "True"


def test_user_rules_and_changed_rules_are_never_served_stale(tmp_path):
    results, _ = run(tmp_path, "1", "2")  # registered, then changed in this process
    assert_right(results)
    assert len(results["rule"]) == 3
    results, _ = run(tmp_path, "2", "1")  # after a restart, with the cache the first process wrote
    assert_right(results)


def test_damaged_numba_cache_and_generated_files_are_repaired(tmp_path):
    assert_right(run(tmp_path)[0])
    index = list((tmp_path / "__pycache__").glob("*.nbi"))
    code = list((tmp_path / "__pycache__").glob("*.nbc"))
    assert index and code
    for f in index:
        f.write_bytes(b"garbage")
    for f in code:
        f.write_bytes(f.read_bytes()[:10])
    results, err = run(tmp_path)
    assert_right(results)
    assert err.count(str(tmp_path)) >= 1 and "deleted" in err
    results, err = run(tmp_path)  # repaired: nothing left to warn about
    assert_right(results)
    assert "RuntimeWarning" not in err
    gen = next(tmp_path.glob("dualnum_kernels_*.py"))
    gen.write_text(gen.read_text()[:len(gen.read_text()) // 2])  # cut short mid-function
    results, err = run(tmp_path)
    assert_right(results)
    assert "repaired" in err and str(tmp_path) in err
    assert gen.read_text().startswith("# Generated") and "# end of generated source" in gen.read_text()


def test_no_home_and_a_cache_dir_that_is_a_file(tmp_path):
    no_home = ("import pathlib\n"
               "def _no_home(cls=None):\n    raise RuntimeError('Could not determine home directory.')\n"
               "pathlib.Path.home = classmethod(_no_home)\n")
    env = {k: v for k, v in os.environ.items() if k != "HOME"}
    e = dict(env, DUALNUM_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", no_home + SCRIPT], capture_output=True, text=True, env=e, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"module True {tmp_path}" in out.stdout  # numba on, in the configured directory
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    results, err = run(blocker)
    assert_right(results)
    assert err.count(f"DUALNUM_CACHE_DIR={blocker}") == 1  # one warning, naming it
    assert results["module"][0][1] != str(blocker)


def test_digest_follows_the_formulas_not_only_rules_py():
    from dualnum.backends import kernels
    from dualnum import rules
    before = kernels._digest()
    saved = rules.RULES.get("times3_test"), dict(rules.BY_FUNCTION)
    f = lambda v: 3.0 * v  # noqa: E731
    try:
        rules.rule("times3_test", f, lambda v, z: 3.0)
        a = kernels._digest()
        rules.rule("times3_test", f, lambda v, z: 4.0)  # same name, another constant in the formula
        b = kernels._digest()
    finally:
        rules.RULES.pop("times3_test", None)
        rules.BY_FUNCTION.clear()
        rules.BY_FUNCTION.update(saved[1])
    assert len({before, a, b}) == 3 and kernels._digest() == before
    np.testing.assert_equal(kernels._content(lambda v: v * 2.0, set()), kernels._content(lambda v: v * 2.0, set()))
