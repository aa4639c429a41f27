"""``python -m tutorials.exercises list | check N [PATH] | build | mutate N [--all]``.

* ``list``: one line per exercise: number, name, task, the tutorial it follows.
* ``check N [PATH]``: grade exercise N, the student file in place or the file at PATH, in a child process with
  the exercise's time limit; one PASS/FAIL line per check. Exit status 0 when every check passes, 1 when one
  fails, 2 when there is no such exercise or file.
* ``build``: regenerate the student files from ``solutions/`` (``--check``: exit 1 if one is out of date).
* ``mutate N`` (or ``mutate all``; ``--sample=K``, ``-v``): plant mistakes in the solution's blocks and report how
  many the checks catch; exit status 1 when a core mistake (see mutate.py) goes uncaught.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from . import exercise, exercises, grader
from .build import BuildError, build, build_one
from .grader import Result

USAGE = __doc__


def _checker(ex):
    return grader.load_module(ex.checker, f"checks_e{ex.number:02d}")


def time_limit(ex) -> float:
    return float(getattr(_checker(ex), "TIME_LIMIT", 30))


# ---- check ------------------------------------------------------------------------------------------------------

GRACE = 20.0  # seconds the child may take beyond the checks' limit (starting Python, importing numpy and dualnum)


def run_child(ex, path: str, limit: float | None = None, grace: float = GRACE):
    """Grade ``path`` for exercise ``ex`` in a child process: (results, output of the student's code).

    The child reports each result as it finishes; one that is killed at the time limit (an endless loop numpy
    or numba cannot be interrupted in) or that dies (a crash of the interpreter) keeps the results it had and
    gains one failed result saying what happened."""
    limit = time_limit(ex) if limit is None else limit
    fd, out = tempfile.mkstemp(prefix="grade-", suffix=".jsonl")
    os.close(fd)
    cmd = [sys.executable, "-m", "tutorials.exercises", "_run", str(ex.number), path, out, repr(limit)]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")  # a student's folder gets no __pycache__
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(getattr(_checker(ex), "ENV", {}))  # what an exercise needs set before its imports (the simulator)
    extra = None
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=limit + grace, env=env,
                           stdin=subprocess.DEVNULL)  # input() in a student's code: EOFError, not a wait
        text = p.stdout + p.stderr
        rc = p.returncode
    except subprocess.TimeoutExpired as e:
        text = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        rc = None
        extra = Result("time limit", False, f"took longer than {limit:g} s (a loop that never ends, or a very "
                                            f"slow function?); the checks stopped here")
    try:
        with open(out, encoding="utf-8") as f:
            results = [Result(**json.loads(line)) for line in f if line.strip()]
    finally:
        os.unlink(out)
    done = results and results[-1].label == "_done"
    results = [r for r in results if r.label != "_done"]
    if extra is not None:
        results.append(extra)
    elif not done:
        tail = "\n".join(text.strip().splitlines()[-8:])
        results.append(Result("the checks stopped", False,
                              f"the program exited (status {rc}) before every check ran" +
                              (f"; its last output:\n{tail}" if tail else "")))
    return results, text


def _child(number: int, path: str, out: str, limit: float):
    """The child process of ``check``: import the checker and the student's file, run the checks, write results."""
    ex = exercise(number)
    with open(out, "a", encoding="utf-8") as f:
        def put(r):
            f.write(json.dumps(r.as_dict()) + "\n")
            f.flush()
        checker = _checker(ex)
        try:
            student = grader.load_module(path, "student_" + os.path.splitext(os.path.basename(ex.filename))[0])
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            msg = grader.describe_exception(e, path)
            hint = f"the file must import without errors: run `python {path}` to see the problem"
            if isinstance(e, NotImplementedError):
                msg = f"not written yet: {e}" + grader._where(e, path, False)
                hint = "this part runs when the file is imported: write it first, then every check can run"
            put(Result(f"import {os.path.basename(path)}", False, msg + " (no check could run)", hint))
            put(Result("_done", True))
            return
        for r in grader.run_checks(checker, student, path, limit):
            put(r)
        put(Result("_done", True))


def check(number: int, path: str | None = None, verbose: bool = False) -> int:
    try:
        ex = exercise(number)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    path = os.path.abspath(path or ex.student)
    if not os.path.isfile(path):
        print(f"no file {path} to check (exercise {number} is {ex.filename})", file=sys.stderr)
        return 2
    checker = _checker(ex)
    print(f"exercise {number}: {getattr(checker, 'NAME', ex.filename)} -- {path}")
    results, output = run_child(ex, path)
    for r in results:
        print("\n".join(r.lines()))
    passed = sum(r.ok for r in results)
    ok = passed == len(results) and results
    print(f"{passed} of {len(results)} checks passed" + ("" if ok else f" -- exercise {number} is not done yet"))
    if verbose and output.strip():
        print("---- output of the code ----\n" + output.rstrip())
    return 0 if ok else 1


# ---- list ---------------------------------------------------------------------------------------------------------

def list_exercises() -> int:
    for ex in exercises():
        try:
            c = _checker(ex)
            print(f"{ex.number:2d}  {getattr(c, 'NAME', ex.filename)}: {getattr(c, 'TASK', '')} "
                  f"[{getattr(c, 'FOLLOWS', '')}]")
        except Exception as e:  # a broken checker still shows up in the list, with its problem
            print(f"{ex.number:2d}  {ex.filename}: checker does not load ({type(e).__name__}: {e})")
    return 0


# ---- mutate -------------------------------------------------------------------------------------------------------

def _mutate_child(number: int, out: str, limit: int | None):
    """The child process of ``mutate``: every (sampled) mutant of the solution through the checks."""
    from . import mutate as m
    ex = exercise(number)
    checker = _checker(ex)
    src = open(ex.solution, encoding="utf-8").read()
    t0 = time.monotonic()
    base = grader.load_module(ex.solution, f"solution_e{number:02d}", source=src)
    bad = [r for r in grader.run_checks(checker, base, ex.solution) if not r.ok]
    took = time.monotonic() - t0
    with open(out, "a", encoding="utf-8") as f:
        if bad:
            f.write(json.dumps(dict(error=f"the solution itself fails: {bad[0].label}: {bad[0].message}")) + "\n")
            return
        ms = m.mutants(src, ex.solution)
        f.write(json.dumps(dict(total=len(ms))) + "\n")
        # a mutant may loop or crawl: it gets a few times the solution's own time, then counts as caught
        budget = max(3.0, 5 * took)
        # a sample keeps ``limit`` core mistakes and a third as many of one variable for another
        picked = m.sample([mu for mu in ms if mu.kind == "core"], limit) + \
            m.sample([mu for mu in ms if mu.kind != "core"], limit and max(1, limit // 3))
        for k, mu in enumerate(sorted(picked, key=lambda mu: mu.line)):
            caught, why = False, ""
            try:
                mod = grader.load_module(ex.solution, f"mutant_e{number:02d}_{k}", source=mu.source)
                for r in grader.run_checks(checker, mod, ex.solution, budget):
                    if not r.ok:
                        caught, why = True, f"{r.label}: {r.message.splitlines()[0] if r.message else ''}"
                        break
            except BaseException as e:  # the mutant does not even import
                if isinstance(e, KeyboardInterrupt):
                    raise
                caught, why = True, f"import: {type(e).__name__}: {e}"
            f.write(json.dumps(dict(line=mu.line, what=mu.what, kind=mu.kind, caught=caught, why=why)) + "\n")
            f.flush()


def mutation_score(number: int, limit: int | None = None, timeout: float = 600):
    """Run the mutants of exercise ``number`` (at most ``limit``, sampled) in a child process.

    Returns a dict: total (mutants there are), rows [{line, what, caught, why}], error (or None)."""
    fd, out = tempfile.mkstemp(prefix="mutants-", suffix=".jsonl")
    os.close(fd)
    cmd = [sys.executable, "-m", "tutorials.exercises", "_mutate", str(number), out, str(limit or 0)]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(getattr(_checker(exercise(number)), "ENV", {}))
    err = None
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL)
        if p.returncode:
            err = f"the mutation run exited with status {p.returncode}: {p.stderr.strip()[-500:]}"
    except subprocess.TimeoutExpired:
        err = f"the mutation run took longer than {timeout:g} s"
    try:
        with open(out, encoding="utf-8") as f:
            recs = [json.loads(line) for line in f if line.strip()]
    finally:
        os.unlink(out)
    total = next((r["total"] for r in recs if "total" in r), 0)
    err = next((r["error"] for r in recs if "error" in r), err)
    return dict(total=total, rows=[r for r in recs if "line" in r], error=err)


def _score(rows, kind):
    sel = [r for r in rows if r["kind"] == kind]
    return f"{sum(r['caught'] for r in sel)}/{len(sel)}"


def mutate_cmd(which: str, limit: int | None, verbose: bool) -> int:
    try:
        nums = [e.number for e in exercises()] if which == "all" else [exercise(int(which)).number]
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    rc = 0
    for n in nums:
        s = mutation_score(n, limit)
        rows = s["rows"]
        caught = sum(r["caught"] for r in rows)
        if s["error"]:
            print(f"{n:2d}  ERROR: {s['error']}")
            rc = 1
            continue
        sampled = f" (a sample of {len(rows)} of {s['total']})" if len(rows) < s["total"] else ""
        print(f"{n:2d}  {caught}/{len(rows)} mutants caught{sampled}: core mistakes {_score(rows, 'core')}, "
              f"one variable for another {_score(rows, 'variable')}")
        for r in rows:
            if not r["caught"] or verbose:
                print(f"      {'caught' if r['caught'] else 'MISSED'} ({r['kind']}) line {r['line']}: {r['what']}"
                      + (f"  [{r['why']}]" if verbose and r["caught"] else ""))
        rc = rc or any(not r["caught"] and r["kind"] == "core" for r in rows)
    return rc


# ---- main -------------------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in args or "--verbose" in args
    args = [a for a in args if a not in ("-v", "--verbose")]
    if not args or args[0] == "help" or any(a in ("-h", "--help") for a in args):
        print(USAGE)  # (help anywhere: `build --help` must never rebuild, and overwrite, the student files)
        return 0 if args else 2
    cmd, rest = args[0], args[1:]
    if cmd == "list":
        return list_exercises()
    if cmd == "check" and 1 <= len(rest) <= 2 and rest[0].isdigit():
        return check(int(rest[0]), rest[1] if len(rest) > 1 else None, verbose)
    if cmd == "build" and rest in ([], ["--check"]):
        try:
            if "--check" in rest:
                stale = [ex.filename for ex, text in build(write=False)
                         if not os.path.exists(ex.student) or open(ex.student, encoding="utf-8").read() != text]
                for s in stale:
                    print(f"out of date: {s} (run `python -m tutorials.exercises build`)")
                return 1 if stale else 0
            for ex, _ in build():
                print(f"wrote {os.path.relpath(ex.student)}")
        except BuildError as e:
            print(f"build: {e}", file=sys.stderr)
            return 1
        return 0
    if cmd == "mutate" and rest:
        limit = next((int(a.split("=", 1)[1]) for a in rest if a.startswith("--sample=")), None)
        return mutate_cmd(rest[0], limit, verbose)
    if cmd == "_run":
        _child(int(rest[0]), rest[1], rest[2], float(rest[3]))
        return 0
    if cmd == "_mutate":
        _mutate_child(int(rest[0]), rest[1], int(rest[2]) or None)
        return 0
    print(f"unknown command {' '.join(args)!r}\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
