"""The checks an exercise's checker yields, and the runner that turns a student's mistake into a readable failure.

A checker (``checks/eNN_<name>.py``) yields lazy checks; nothing runs until the grader runs them::

    yield grader.close("d(x/y)/dx at (3, 2)", lambda: (Dual(3, 1) / Dual(2, 0)).eps, 0.5,
                       hint="the quotient rule: (a'b - ab')/b²; check the sign of the second term")

* ``close(label, got, expected, hint)``: numbers or arrays, ``allclose`` with matching shapes;
* ``equal(label, got, expected, hint)``: exact (ints, strings, shapes, bools);
* ``true(label, predicate, hint, detail=None)``: ``predicate()`` must return True;
* ``raises(label, fn, exc_type, hint, match=None)``: ``fn()`` must raise ``exc_type``;
* ``fd_gradient(f, x, h=1e-6)``: central differences (f(x+h) - f(x-h)) / 2h, a reference.

``got`` (and ``expected``) may be a zero-argument callable: the grader calls it and catches everything. A student's
exception becomes a failed check naming the exception and the line of the student's file it came from; the
``NotImplementedError`` of an untouched stub becomes "not written yet: ..."; a check that runs past its time
becomes "took longer than T s".
"""
from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

__all__ = ["Check", "Result", "Mismatch", "close", "equal", "true", "raises", "fd_gradient", "fd_derivative",
           "run_checks", "load_module", "StudentError"]


@dataclass
class Result:
    """The outcome of one check: ``ok``, its label, and for a failure the message (expected vs got) and hint."""

    label: str
    ok: bool
    message: str = ""
    hint: str = ""

    def lines(self):
        """The report's lines: ``PASS label`` or ``FAIL label: message`` then the hint, indented."""
        if self.ok:
            return [f"PASS  {self.label}"]
        msg = self.message.splitlines() or [""]
        out = [f"FAIL  {self.label}: {msg[0]}"]
        out += ["      " + m for m in msg[1:]]
        if self.hint:
            out.append(f"      hint: {self.hint}")
        return out

    def as_dict(self):
        return dict(label=self.label, ok=self.ok, message=self.message, hint=self.hint)


class Mismatch(Exception):
    """A check's comparison failed: the message says expected vs got."""


class StudentError(Exception):
    """The student's code raised: the message names the exception and the line in the student's file."""


class _Timeout(BaseException):
    """A check ran past its time (BaseException: a student's ``except Exception`` cannot swallow it)."""


class Check:
    """One lazy check: ``run()`` evaluates it and returns a :class:`Result`, never raising."""

    def __init__(self, label: str, body: Callable[[], None], hint: str = ""):
        self.label, self.body, self.hint = label, body, hint

    def run(self, student_file: Optional[str] = None) -> Result:
        try:
            self.body()
        except Mismatch as e:
            return Result(self.label, False, str(e), self.hint)
        except _Timeout:
            raise
        except NotImplementedError as e:
            return Result(self.label, False, f"not written yet: {e}" + _where(e, student_file, False), self.hint)
        except (Exception, SystemExit, RecursionError) as e:  # the student's code (or a reference) raised
            return Result(self.label, False, describe_exception(e, student_file), self.hint)
        return Result(self.label, True)

    def __repr__(self):
        return f"Check({self.label!r})"


# ---- formatting ---------------------------------------------------------------------------------------------

def _where(e: BaseException, student_file: Optional[str], source: bool = True) -> str:
    """' (line N of file.py: source)' for the deepest frame of the traceback in the student's file, or ''."""
    if not student_file:
        return ""
    target = os.path.realpath(student_file)
    found = None
    for fs in traceback.extract_tb(e.__traceback__):
        if os.path.realpath(fs.filename) == target:
            found = fs
    if found is None and isinstance(e, SyntaxError) and e.filename and \
            os.path.realpath(e.filename) == target:
        return f" (line {e.lineno} of {os.path.basename(student_file)}: {(e.text or '').strip()})"
    if found is None:
        return ""
    src = (found.line or "").strip() if source else ""
    return f" (line {found.lineno} of {os.path.basename(student_file)}" + (f": {src})" if src else ")")


def describe_exception(e: BaseException, student_file: Optional[str] = None) -> str:
    """'ZeroDivisionError: float division by zero (line 12 of e01_dual.py: return a / b)'."""
    if isinstance(e, RecursionError):
        text = "RecursionError: a function calls itself without end (maximum recursion depth exceeded)"
    else:
        text = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
    return "raised " + text + _where(e, student_file)


def fmt(v) -> str:
    """A short readable form of a value: numbers with 10 significant digits, small arrays in full."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.10g}"
    if isinstance(v, np.ndarray) and v.dtype.kind in "biuf":
        with np.printoptions(precision=8, threshold=20, edgeitems=3, linewidth=100):
            return np.array2string(v, separator=", ").replace("\n", "")
    if isinstance(v, (tuple, list)):
        inner = ", ".join(fmt(x) for x in v)
        return f"({inner}{',' if len(v) == 1 else ''})" if isinstance(v, tuple) else f"[{inner}]"
    r = repr(v)
    return r if len(r) <= 200 else r[:197] + "..."


def _type_name(v) -> str:
    """'an int', 'a numpy.ndarray', 'a student_e01.Dual': the type of v with its article."""
    t = type(v)
    name = t.__name__ if t.__module__ in ("builtins", None) else f"{t.__module__}.{t.__qualname__}"
    return ("an " if name[0] in "aeiou" else "a ") + name


def _value(v):
    """A value, or the value a zero-argument callable returns."""
    return v() if callable(v) and not isinstance(v, (np.ndarray, type)) else v


_NUMERIC = (int, float, bool, np.integer, np.floating, np.bool_)


def _as_numbers(v, what: str):
    """v as a float array, if it is a plain number, numpy array, or (nested) list/tuple of them; else Mismatch."""
    def plain(x):
        if isinstance(x, _NUMERIC):
            return True
        if isinstance(x, np.ndarray):
            return x.dtype.kind in "biuf"
        if isinstance(x, (list, tuple)):
            return all(plain(y) for y in x)
        return False

    if not plain(v):
        raise Mismatch(f"expected {what}, got {_type_name(v)}: {fmt(v)}")
    try:
        return np.asarray(v, dtype=float)
    except ValueError:  # a ragged list
        raise Mismatch(f"expected {what}, got a ragged {_type_name(v)[2:].strip()}: {fmt(v)}") from None


# ---- the checks ---------------------------------------------------------------------------------------------

def _compare_close(got, expected, rtol, atol, path=""):
    """Raise Mismatch when got and expected (numbers, arrays, or tuples of them) are not allclose."""
    where = f" (item {path})" if path else ""
    if isinstance(expected, (tuple, list)) and not _regular(expected):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            n = len(got) if isinstance(got, (tuple, list)) else None
            raise Mismatch(f"expected a sequence of {len(expected)} items{where}, got "
                           + (f"{n} items" if n is not None else _type_name(got)) + f": {fmt(got)}")
        for i, (g, e) in enumerate(zip(got, expected)):
            _compare_close(g, e, rtol, atol, f"{path}[{i}]")
        return
    e = np.asarray(expected, dtype=float)
    what = "a number" if e.ndim == 0 else f"an array of shape {e.shape}"
    g = _as_numbers(got, what + where)
    if g.shape != e.shape:
        t = " (got is the transpose of expected)" if g.ndim == 2 and g.T.shape == e.shape else ""
        raise Mismatch(f"expected shape {e.shape}{where}, got shape {g.shape}{t}: expected {fmt(expected)}, "
                       f"got {fmt(got)}")
    good = np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
    if good.all():
        return
    if e.ndim == 0:
        raise Mismatch(f"expected {fmt(float(e))}, got {fmt(float(g))}{where}")
    bad = np.argwhere(~good)
    rows = [f"{len(bad)} of {e.size} elements disagree{where}: expected {fmt(e)}, got {fmt(g)}",
            f"  {'index':>10} {'expected':>14} {'got':>14}"]
    for idx in bad[:5]:
        i = tuple(int(k) for k in idx)
        rows.append(f"  {str(i):>10} {e[i]:>14.8g} {g[i]:>14.8g}")
    if len(bad) > 5:
        rows.append(f"  ... and {len(bad) - 5} more")
    # a transposed answer is a common mistake: say so when it would match
    if e.ndim == 2 and g.T.shape == e.shape and np.allclose(g.T, e, rtol=rtol, atol=atol):
        rows.append("  (got is the transpose of expected)")
    elif np.allclose(-g, e, rtol=rtol, atol=atol):
        rows.append("  (got is -expected: a sign)")
    raise Mismatch("\n".join(rows))


def _regular(seq) -> bool:
    """seq is a regular nested list of numbers (one array), not a tuple of differently shaped items."""
    try:
        a = np.asarray(seq, dtype=float)
    except (ValueError, TypeError):
        return False
    return a.dtype.kind == "f"


def close(label: str, got, expected, hint: str = "", rtol: float = 1e-7, atol: float = 1e-10) -> Check:
    """got ≈ expected: numbers or arrays (or tuples of them) allclose with matching shapes."""
    def body():
        exp = _reference(expected)
        _compare_close(_value(got), exp, rtol, atol)
    return Check(label, body, hint)


def equal(label: str, got, expected, hint: str = "") -> Check:
    """got == expected exactly (ints, strings, shapes, bools; arrays by np.array_equal)."""
    def body():
        exp = _reference(expected)
        g = _value(got)
        if isinstance(exp, np.ndarray) or isinstance(g, np.ndarray):
            same = isinstance(g, np.ndarray) and np.shape(g) == np.shape(exp) and bool(np.array_equal(g, exp))
        else:
            same = type(g) is type(exp) or (isinstance(g, _NUMERIC) and isinstance(exp, _NUMERIC))
            same = same and bool(g == exp)
        if not same:
            if isinstance(exp, str) and isinstance(g, str):
                raise Mismatch(f"expected {exp!r}, got {g!r}")
            tail = "" if type(g) is type(exp) else f" ({_type_name(g)}, expected {_type_name(exp)})"
            raise Mismatch(f"expected {fmt(exp)}, got {fmt(g)}{tail}")
    return Check(label, body, hint)


def true(label: str, predicate: Callable[[], bool], hint: str = "", detail=None) -> Check:
    """predicate() must return True; detail (a string, or a callable giving one) explains a failure."""
    def body():
        r = predicate()
        if not isinstance(r, (bool, np.bool_)):
            raise Mismatch(f"expected True or False, got {_type_name(r)}: {fmt(r)}")
        if not r:
            d = detail() if callable(detail) else detail
            raise Mismatch(d or "the condition does not hold")
    return Check(label, body, hint)


def raises(label: str, fn: Callable[[], object], exc_type, hint: str = "", match: Optional[str] = None) -> Check:
    """fn() must raise exc_type (whose message contains the regular expression match, if given)."""
    import re
    names = " or ".join(t.__name__ for t in exc_type) if isinstance(exc_type, tuple) else exc_type.__name__

    def body():
        try:
            r = fn()
        except exc_type as e:
            if match is not None and not re.search(match, str(e)):
                raise Mismatch(f"raised {type(e).__name__} as expected, but its message {str(e)!r} "
                               f"does not mention {match!r}") from None
            return
        except NotImplementedError:
            raise
        except Exception as e:
            raise Mismatch(f"expected {names}, but it raised {type(e).__name__}: {e}") from e
        raise Mismatch(f"expected {names}, but it returned {fmt(r)}")
    return Check(label, body, hint)


def _reference(expected):
    """The expected value; a reference that raises is the checker's fault, said so plainly."""
    try:
        return _value(expected)
    except NotImplementedError:
        raise
    except Exception as e:
        raise Mismatch(f"the reference value could not be computed ({type(e).__name__}: {e}); "
                       f"this is a fault in the checker, tell the teacher") from e


def fd_gradient(f, x, h: float = 1e-6):
    """Central differences (f(x + h e_i) - f(x - h e_i)) / 2h of a scalar f at a number or array x.

    The step is relative, h·max(1, |x_i|), so large inputs keep their precision. A number x gives a float.
    """
    if isinstance(x, _NUMERIC):
        x = float(x)
        s = h * max(1.0, abs(x))
        return (float(f(x + s)) - float(f(x - s))) / (2 * s)
    base = np.array(x, dtype=float)
    g = np.zeros_like(base)
    for j in range(base.size):
        s = h * max(1.0, abs(base.flat[j]))
        up, dn = base.copy(), base.copy()
        up.flat[j] += s
        dn.flat[j] -= s
        g.flat[j] = (float(np.asarray(f(up))) - float(np.asarray(f(dn)))) / (2 * s)
    return g


def fd_derivative(f, x: float, h: float = 1e-6) -> float:
    """d f / dx at a number x by central differences (f(x+h) - f(x-h)) / 2h."""
    return fd_gradient(f, float(x), h)


# ---- running a checker ----------------------------------------------------------------------------------------

def load_module(path: str, name: Optional[str] = None, source: Optional[str] = None):
    """Import the file at path as a fresh module (from ``source`` instead of the file's text, if given).

    The module's code is compiled with path as its file name, so a traceback names lines of that file."""
    import importlib.util
    import types
    path = os.path.abspath(path)
    name = name or "student_" + os.path.splitext(os.path.basename(path))[0]
    if source is None:
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod  # dataclasses and pickling look the module up by name
        try:
            spec.loader.exec_module(mod)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return mod
    mod = types.ModuleType(name)
    mod.__file__ = path
    sys.modules[name] = mod
    try:
        exec(compile(source, path, "exec"), mod.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return mod


def _alarm(seconds: float):
    """Raise _Timeout in the main thread after seconds (where the platform allows; else nothing)."""
    import threading
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return False  # (signals reach the main thread only: elsewhere the child process's hard limit serves)

    def ring(signum, frame):
        raise _Timeout()
    signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
    return True


def _disarm():
    if hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, 0)


def run_checks(checker, student, student_file: Optional[str] = None, time_limit: Optional[float] = None):
    """Yield a Result for every check ``checker.checks(student)`` yields, within time_limit seconds in all.

    Never raises for the student's sake: a check that raises, loops past the time left, or a checker generator
    that stops with an exception, each becomes a failed Result."""
    limit = float(time_limit if time_limit is not None else getattr(checker, "TIME_LIMIT", 30))
    start = time.monotonic()
    gen = None
    n = 0
    while True:
        left = limit - (time.monotonic() - start)
        if left <= 0:
            yield Result("time limit", False, f"took longer than {limit:g} s in all: the remaining checks did "
                                              f"not run (a loop that never ends, or a very slow function?)")
            return
        armed = _alarm(left)
        current = f"check {n + 1}"
        try:
            try:
                if gen is None:
                    gen = iter(checker.checks(student))
                check = next(gen)
            except StopIteration:
                return
            except _Timeout:
                raise
            except BaseException as e:  # the checker's own code called the student's and it raised
                if isinstance(e, KeyboardInterrupt):
                    raise
                label = f"check {n + 1}"
                msg = describe_exception(e, student_file)
                if isinstance(e, NotImplementedError):
                    msg = f"not written yet: {e}" + _where(e, student_file, False)
                yield Result(label, False, msg + " (the remaining checks could not run)")
                return
            n += 1
            if not isinstance(check, Check):
                yield Result(f"check {n}", False, f"the checker yielded {_type_name(check)}, not a grader check")
                continue
            current = check.label
            res = check.run(student_file)
        except _Timeout:
            yield Result(current, False,
                         f"took longer than {limit:g} s (a loop that never ends, or a very slow function?)")
            return
        finally:
            if armed:
                _disarm()
        yield res
