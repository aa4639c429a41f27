"""The exercise set and its grader: every solution passes, every untouched student file fails readably, the student
files are what ``build`` makes, planted mistakes are caught; the grader's own behaviour (messages, time limit,
crashes, exit codes); ``dualnum.rules.override`` keeps a student's rule in its block, in both modes."""
import math
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import dualnum
from dualnum import rules, tracker
from dualnum.backends import kernels
from dualnum.functions import apply
from dualnum.rules import Rule, override
from tutorials.exercises import __main__ as cli
from tutorials.exercises import build, exercise, exercises, grader, mutate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NUMBERS = [e.number for e in exercises()]


def _cli(*args, timeout=300):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "tutorials.exercises", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout, env=env)


# ---- the set -------------------------------------------------------------------------------------------------------

def test_exercises_are_found_with_their_metadata():
    assert NUMBERS[:4] == [1, 2, 3, 4]
    for ex in exercises():
        c = cli._checker(ex)
        for field in ("NAME", "TASK", "FOLLOWS"):
            assert isinstance(getattr(c, field, None), str) and getattr(c, field), (ex.filename, field)
        assert callable(c.checks)
        text = open(ex.solution, encoding="utf-8").read()
        doc = text.split('"""')[1]
        assert f"Exercise {ex.number:02d}" in doc and "tutorial" in doc.lower(), ex.filename


@pytest.mark.parametrize("n", NUMBERS)
def test_every_solution_passes_every_check(n):
    ex = exercise(n)
    results, output = cli.run_child(ex, ex.solution)
    bad = [r for r in results if not r.ok]
    assert results and not bad, "\n".join(line for r in bad for line in r.lines()) + "\n" + output[-2000:]


@pytest.mark.parametrize("n", NUMBERS)
def test_every_untouched_student_file_fails_readably(n):
    ex = exercise(n)
    results, _ = cli.run_child(ex, ex.student)
    assert results
    for r in results:
        assert not r.ok, f"{ex.filename}: the check {r.label!r} passes on the untouched student file"
        assert r.message and "Traceback" not in r.message
    assert any("not written yet" in r.message for r in results)
    assert all(ex.filename in r.message for r in results if "not written yet" in r.message)  # the student's line


def test_the_teachers_page_lists_every_exercise():
    text = open(os.path.join(ROOT, "tutorials", "exercises", "README.md"), encoding="utf-8").read()
    for ex in exercises():
        assert f"\n| {ex.number:<2} | " in text, f"README.md's table has no row for exercise {ex.number}"
    for command in ("list", "check 3", "build", "mutate"):
        assert f"python -m tutorials.exercises {command}" in text


def test_build_is_reproducible():
    for ex, text in build.build(write=False):
        with open(ex.student, encoding="utf-8") as f:
            assert f.read() == text, f"{ex.filename} differs from what `python -m tutorials.exercises build` makes"
    assert _cli("build", "--check").returncode == 0


def test_build_stubs_every_block_and_keeps_the_rest():
    src = textwrap.dedent('''\
        """doc"""
        def f(x):
            y = 1
            # BEGIN SOLUTION: the square of x
            # x times itself
            return x * x
            # END SOLUTION

        def g():
            # BEGIN SOLUTION
            return 2
            # END SOLUTION
        ''')
    out = build.student_text(src, 7, "e07_x.py")
    assert "x * x" not in out and "return 2" not in out and "y = 1" in out and '"""doc"""' in out
    assert "    # TODO: x times itself\n    raise NotImplementedError('exercise 07: the square of x')" in out
    assert "    # TODO: write this part\n    raise NotImplementedError('exercise 07: write this part')" in out
    compile(out, "x", "exec")
    with pytest.raises(build.BuildError, match="never closed"):
        build.student_text("# BEGIN SOLUTION\nx = 1\n", 1, "e01.py")
    with pytest.raises(build.BuildError, match="without a # BEGIN"):
        build.student_text("x = 1\n# END SOLUTION\n", 1, "e01.py")


# ---- mutation testing ---------------------------------------------------------------------------------------------

def test_mutants_are_the_planned_kinds():
    src = textwrap.dedent('''\
        def f(a, b):
            # BEGIN SOLUTION
            c = a + 2.0 * b
            return np.hypot(a, c) - g(a, c) / (a - b) ** 2
            # END SOLUTION

        def h(x):
            return x + 1
        ''')
    whats = [m.what for m in mutate.mutants(src)]
    text = "\n".join(whats)
    for kind in ("+ -> -", "* -> /", "constant 2.0 -> 3.0", "dropped the right operand of +",
                 "swapped the first two arguments: 'g(a, c)'", "swapped the operands of /", "dropped the statement"):
        assert kind in text, kind
    assert "np.hypot(a, c)' -> '(np.hypot(c, a))" not in text  # a symmetric function: an equivalent mutant
    assert "swapped the operands of -: 'a - b'" not in text  # squared: its sign cannot matter
    assert all(m.line in (3, 4) for m in mutate.mutants(src))  # only inside the block
    assert not mutate.mutants(src.replace("    return np.hypot", "    return np.hypot  # no-mutate: test")
                              .replace("c = a + 2.0 * b", "c = a  # no-mutate: test"))


def test_mutation_score_of_every_exercise():
    """Mutants of every solution block (a fixed sample, to stay fast) are caught by the exercise's checks: every
    core mistake; mistakes of one variable for another are reported (they include equivalent mutants)."""
    t0 = time.monotonic()
    report, missed = [], []
    for n in NUMBERS:
        s = cli.mutation_score(n, limit=21)
        assert s["error"] is None, (n, s["error"])
        rows = s["rows"]
        assert rows, f"exercise {n}: no mutants (no solution block?)"
        report.append(f"exercise {n:2d}: {sum(r['caught'] for r in rows)}/{len(rows)} caught (of {s['total']}): "
                      f"core {cli._score(rows, 'core')}, variable {cli._score(rows, 'variable')}")
        missed += [f"exercise {n}: line {r['line']}: {r['what']}" for r in rows
                   if not r["caught"] and r["kind"] == "core"]
    print("\n".join(report))
    assert not missed, "mistakes the checks do not catch:\n" + "\n".join(missed)
    assert time.monotonic() - t0 < 60


def test_mutate_cli_samples_and_reports():
    ms = mutate.mutants(open(exercise(1).solution, encoding="utf-8").read())
    assert len(mutate.sample(ms, 10)) == 10 and mutate.sample(ms, 10) == mutate.sample(ms, 10)
    r = _cli("mutate", "4", "--sample=6")
    assert r.returncode == 0 and "8/8 mutants caught" in r.stdout and "core mistakes 6/6" in r.stdout
    kinds = {m.kind for m in ms}
    assert kinds == {"core", "variable"}
    assert any("used .deriv instead of .value" in m.what for m in ms)


# ---- the grader's checks -------------------------------------------------------------------------------------------

def _run(check):
    return check.run()


def test_close_reports_expected_got_and_the_elements_that_disagree():
    assert _run(grader.close("a", lambda: 0.5, 0.5)).ok
    r = _run(grader.close("a", lambda: -0.5, 0.5, hint="a sign"))
    assert not r.ok and "expected 0.5, got -0.5" in r.message and r.hint == "a sign"
    assert "hint: a sign" in "\n".join(r.lines())
    r = _run(grader.close("v", np.array([1.0, 5.0, 3.0]), np.array([1.0, 2.0, 3.0])))
    assert "1 of 3 elements disagree" in r.message and "(1,)" in r.message
    m = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert "transpose" in _run(grader.close("t", m.T, m)).message
    assert "transpose" in _run(grader.close("t", np.ones((2, 3)), np.ones((3, 2)))).message
    assert "-expected" in _run(grader.close("s", -np.arange(1.0, 4.0), np.arange(1.0, 4.0))).message
    assert _run(grader.close("tuple", lambda: (1.0, np.ones(2)), (1.0, np.ones(2)))).ok
    r = _run(grader.close("tuple", lambda: (1.0,), (1.0, np.ones(2))))
    assert not r.ok and "2 items" in r.message
    assert _run(grader.close("rtol", 1.0 + 1e-9, 1.0, rtol=1e-8)).ok
    assert not _run(grader.close("rtol", 1.0 + 1e-6, 1.0, rtol=1e-8)).ok
    assert _run(grader.close("nan", float("nan"), float("nan"))).ok


def test_a_wrong_type_is_a_failed_check_with_a_message():
    r = _run(grader.close("type", lambda: dualnum.Dual(1.0, 2.0), 1.0))
    assert not r.ok and "expected a number" in r.message and "Dual" in r.message
    r = _run(grader.close("type", lambda: "1.0", 1.0))
    assert not r.ok and "got a str" in r.message
    r = _run(grader.close("none", lambda: None, np.ones(3)))
    assert not r.ok and "an array of shape (3,)" in r.message and "NoneType" in r.message
    r = _run(grader.equal("eq", lambda: 3, "3"))
    assert not r.ok and "an int, expected a str" in r.message
    assert _run(grader.equal("eq", lambda: (2, 3), (2, 3))).ok
    assert not _run(grader.equal("eq", lambda: np.ones(2), np.ones(3))).ok
    r = _run(grader.true("pred", lambda: 1.0))
    assert not r.ok and "True or False" in r.message


def test_true_and_raises():
    assert _run(grader.true("t", lambda: True)).ok
    r = _run(grader.true("t", lambda: False, detail=lambda: "x is 3"))
    assert not r.ok and r.message == "x is 3"
    assert _run(grader.raises("r", lambda: 1 / 0, ZeroDivisionError)).ok
    assert _run(grader.raises("r", lambda: int("x"), ValueError, match="invalid")).ok
    r = _run(grader.raises("r", lambda: int("x"), ValueError, match="shape"))
    assert not r.ok and "does not mention" in r.message
    r = _run(grader.raises("r", lambda: 1, ValueError))
    assert not r.ok and "it returned 1" in r.message
    r = _run(grader.raises("r", lambda: {}["k"], ValueError))
    assert not r.ok and "KeyError" in r.message


def test_fd_gradient_is_central_differences():
    assert abs(grader.fd_derivative(math.sin, 0.3) - math.cos(0.3)) < 1e-9
    x = np.array([0.5, -1.0, 2.0])
    g = grader.fd_gradient(lambda v: np.sum(v ** 3), x)
    assert g.shape == x.shape and np.allclose(g, 3 * x ** 2, rtol=1e-8)
    assert isinstance(grader.fd_gradient(lambda v: v * v, 3.0), float)


def test_a_reference_that_fails_is_the_checkers_fault():
    r = _run(grader.close("ref", 1.0, lambda: 1 / 0))
    assert not r.ok and "fault in the checker" in r.message


STUDENT = '''\
def ok():
    return 1.0

def stub():
    raise NotImplementedError("exercise 99: write stub")

def crash(x):
    return x / 0

def loop():
    while True:
        pass
'''


def test_student_exceptions_name_the_line_in_the_students_file(tmp_path):
    p = tmp_path / "student.py"
    p.write_text(STUDENT)
    mod = grader.load_module(str(p), "student_lines")
    r = grader.close("c", lambda: mod.crash(1.0), 1.0).run(str(p))
    assert "ZeroDivisionError" in r.message and "line 8 of student.py: return x / 0" in r.message
    r = grader.close("s", lambda: mod.stub(), 1.0).run(str(p))
    assert r.message.startswith("not written yet: exercise 99: write stub") and "line 5 of student.py" in r.message
    r = grader.close("rec", lambda: (lambda f: f(f))(lambda f: f(f)), 1.0).run(str(p))
    assert "RecursionError" in r.message


def test_an_endless_loop_is_a_failed_check_and_the_rest_still_reported(tmp_path):
    p = tmp_path / "student.py"
    p.write_text(STUDENT)
    mod = grader.load_module(str(p), "student_loop")

    class Checker:
        TIME_LIMIT = 1

        @staticmethod
        def checks(s):
            yield grader.close("first", s.ok, 1.0)
            yield grader.close("loops", lambda: s.loop(), 1.0)
            yield grader.close("after", s.ok, 1.0)

    t0 = time.monotonic()
    results = list(grader.run_checks(Checker, mod, str(p)))
    assert time.monotonic() - t0 < 5
    assert results[0].ok and not results[1].ok and "took longer than 1 s" in results[1].message
    assert all(not r.ok for r in results[1:])


def test_a_checker_that_stops_with_an_exception(tmp_path):
    p = tmp_path / "student.py"
    p.write_text(STUDENT)
    mod = grader.load_module(str(p), "student_gen")

    class Checker:
        @staticmethod
        def checks(s):
            yield grader.close("first", s.ok, 1.0)
            s.crash(2.0)  # the checker itself calls the student's code
            yield grader.close("never", s.ok, 1.0)

    results = list(grader.run_checks(Checker, mod, str(p)))
    assert results[0].ok and not results[1].ok and "line 8 of student.py" in results[1].message
    assert "remaining checks could not run" in results[1].message


# ---- the command line ----------------------------------------------------------------------------------------------

def test_list_prints_one_line_per_exercise():
    r = _cli("list")
    numbers = [e.number for e in exercises()]  # (now: an exercise may have been added since this file loaded)
    lines = r.stdout.strip().splitlines()
    assert r.returncode == 0 and len(lines) == len(numbers)
    for n, line in zip(numbers, lines):
        assert line.split()[0] == str(n)
    assert "dual arithmetic by hand" in lines[0]


def test_check_exit_codes_and_report():
    r = _cli("check", "1", exercise(1).solution)
    assert r.returncode == 0 and "PASS" in r.stdout and "FAIL" not in r.stdout
    r = _cli("check", "1")  # the untouched student file
    assert r.returncode == 1 and "FAIL" in r.stdout and "not written yet" in r.stdout and "hint:" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr
    assert _cli("check", "99").returncode == 2
    assert _cli("check", "1", "/no/such/file.py").returncode == 2
    assert _cli("frobnicate").returncode == 2


def test_check_a_broken_submission(tmp_path):
    sol = open(exercise(1).solution, encoding="utf-8").read()
    wrong = tmp_path / "wrong.py"
    wrong.write_text(sol.replace("(self.deriv * o.value - self.value * o.deriv)",
                                 "(self.deriv * o.value + self.value * o.deriv)"))
    r = _cli("check", "1", str(wrong))
    assert r.returncode == 1
    assert "FAIL  Dual(3, 0) / Dual(2, 1)" in r.stdout and "expected" in r.stdout and "got" in r.stdout
    assert "hint: the second term of the quotient rule" in r.stdout
    syntax = tmp_path / "syntax.py"
    syntax.write_text(sol.replace("def derivative(f, x):", "def derivative(f, x)"))
    r = _cli("check", "1", str(syntax))
    assert r.returncode == 1 and "SyntaxError" in r.stdout and "syntax.py" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr
    dies = tmp_path / "dies.py"
    dies.write_text(sol.replace("    y = f(Dual(x, 1.0))", "    import os; os._exit(3)"))
    r = _cli("check", "1", str(dies))
    assert r.returncode == 1 and "exited (status 3)" in r.stdout


def test_check_kills_an_endless_loop_numpy_cannot_interrupt(tmp_path):
    """A loop the in-process alarm cannot stop (the signal is ignored) is killed at the time limit by the parent."""
    sol = open(exercise(1).solution, encoding="utf-8").read()
    stuck = tmp_path / "stuck.py"
    stuck.write_text(sol.replace("    y = f(Dual(x, 1.0))",
                                 "    import signal, time; signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                                 "    while True: time.sleep(0.05)"))
    t0 = time.monotonic()
    results, _ = cli.run_child(exercise(1), str(stuck), limit=3, grace=10)
    assert time.monotonic() - t0 < 30
    assert not results[-1].ok and "took longer than 3 s" in results[-1].message
    assert any(r.ok for r in results)  # the checks before the loop are kept


# ---- dualnum.rules.override ----------------------------------------------------------------------------------------

def _sigma(x):
    return 1.0 / (1.0 + np.exp(-x))


SOFTPLUS = Rule("softplus", lambda x: np.logaddexp(0.0, x), (lambda x, z: _sigma(x),), math="d softplus = σ dx")


def _table():
    return dict(rules.RULES), dict(rules.BY_FUNCTION), kernels.ENABLED


def test_override_adds_a_rule_for_the_block_only_in_both_modes_and_orders():
    before = _table()
    with override(SOFTPLUS) as r:
        assert rules.RULES["softplus"] is r and r.compiled is False and r is not SOFTPLUS
        for x0 in (-2.0, 0.3, 1.7):
            fd = grader.fd_derivative(lambda x: math.log1p(math.exp(x)), x0)
            s = 1 / (1 + math.exp(-x0))
            assert abs(dualnum.derivative(lambda x: apply(r, x), x0) - fd) < 1e-8
            assert abs(tracker.gradient(lambda x: apply(r, x), x0)[0] - fd) < 1e-8
            assert abs(dualnum.derivative(lambda x: apply(r, x), x0, order=2) - s * (1 - s)) < 1e-12
            assert abs(tracker.gradient(lambda x: tracker.gradient(lambda y: apply(r, y), x, nest=True)[0], x0)[0]
                       - s * (1 - s)) < 1e-12
        xs = np.linspace(-3, 3, 4000)  # big enough for the compiled kernels, which are off inside the block
        assert np.allclose(dualnum.gradient(lambda x: np.sum(apply(r, x)), xs)[0], _sigma(xs), rtol=1e-12)
        assert np.allclose(tracker.gradient(lambda x: np.sum(apply(r, x)), xs)[0], _sigma(xs), rtol=1e-12)
    assert _table() == before and "softplus" not in rules.RULES


def test_override_replaces_a_numpy_rule_everywhere_then_restores_it(tmp_path, monkeypatch):
    wrong = Rule("tan", np.tan, (lambda x, z: 2.0 + z * z,))  # off by one: visible in every mode
    xs = np.linspace(-1.0, 1.0, 5000)
    monkeypatch.setattr(kernels, "_cache_dir", tmp_path)  # (other processes share the real one)
    before = _table()
    with override(wrong):
        assert dualnum.derivative(np.tan, 0.0) == 2.0
        assert tracker.gradient(np.tan, 0.0)[0] == 2.0
        for _ in range(20):  # a chain that fusion compiles once it is hot
            g = dualnum.gradient(lambda x: np.sum(np.tan(np.sin(x)) * 2.0), xs)[0]
        assert np.allclose(g, 2.0 * (2.0 + np.tan(np.sin(xs)) ** 2) * np.cos(xs))
        assert np.allclose(tracker.gradient(lambda x: np.sum(np.tan(x)), xs)[0], 2.0 + np.tan(xs) ** 2)
        assert list(tmp_path.iterdir()) == []  # nothing compiled, nothing written to the kernel cache
    assert _table() == before
    assert dualnum.derivative(np.tan, 0.0) == 1.0 and tracker.gradient(np.tan, 0.0)[0] == 1.0
    g = dualnum.gradient(lambda x: np.sum(np.tan(x)), xs)[0]
    assert np.allclose(g, 1.0 + np.tan(xs) ** 2)


def test_override_follows_a_rule_into_its_aliases():
    with override(Rule("deg2rad", np.deg2rad, (3.0,))):
        assert dualnum.derivative(np.radians, 1.0) == 3.0 and dualnum.derivative(np.deg2rad, 1.0) == 3.0
    assert abs(dualnum.derivative(np.radians, 1.0) - math.pi / 180) < 1e-15


def test_override_restores_after_an_exception_and_nests():
    before = _table()
    with pytest.raises(KeyError):
        with override(SOFTPLUS):
            raise KeyError("inside")
    assert _table() == before
    other = Rule("softplus", SOFTPLUS.f, (lambda x, z: 2.0 * _sigma(x),))
    with override(SOFTPLUS) as outer:
        with override(other) as inner:
            assert rules.RULES["softplus"] is inner and kernels.ENABLED is False
        assert rules.RULES["softplus"] is outer and kernels.ENABLED is False
    assert _table() == before


def test_override_refuses_what_it_cannot_scope():
    with pytest.raises(ValueError, match="'multiply'.*operators"):
        override(Rule("multiply", np.multiply, (1.0, 1.0)))
    with pytest.raises(TypeError, match="Rule objects"):
        override(("softplus", np.tan))
    with pytest.raises(TypeError, match="at least one"):
        override()
    with pytest.raises(ValueError, match="two rules named"):
        override(SOFTPLUS, SOFTPLUS)
    o = override(SOFTPLUS)
    with o:
        with pytest.raises(RuntimeError, match="already open"):
            o.__enter__()
    assert "softplus" not in rules.RULES


def test_help_anywhere_prints_usage_and_never_rebuilds(capsys, monkeypatch):
    from tutorials.exercises import __main__ as cli
    built = []
    monkeypatch.setattr(cli, "build", lambda *a, **k: built.append(1) or [])
    assert cli.main(["build", "--help"]) == 0
    assert cli.main(["check", "3", "-h"]) == 0
    assert cli.main(["build", "--force"]) == 2  # an unknown option is a usage error, not a build
    assert not built
    assert "build" in capsys.readouterr().out
