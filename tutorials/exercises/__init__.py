"""Classroom exercises with an autograder: ``python -m tutorials.exercises list | check N [PATH] | build | mutate N``.

Solutions (``solutions/``) are the one source of truth; the student files beside this module are generated from
them; ``checks/`` holds one checker per exercise, written with :mod:`tutorials.exercises.grader`. The teacher's
page is README.md in this folder."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
SOLUTIONS = os.path.join(HERE, "solutions")
CHECKS = os.path.join(HERE, "checks")
_FILE = re.compile(r"^e(\d\d)_(\w+)\.py$")


@dataclass(frozen=True)
class Exercise:
    """Exercise ``number``: its solution, checker and student file (the same file name in three folders)."""

    number: int
    filename: str  # eNN_<name>.py

    @property
    def solution(self):
        return os.path.join(SOLUTIONS, self.filename)

    @property
    def checker(self):
        return os.path.join(CHECKS, self.filename)

    @property
    def student(self):
        return os.path.join(HERE, self.filename)


def exercises():
    """Every exercise with both a solution and a checker, by number (found by scanning the two folders)."""
    found = {}
    for f in sorted(os.listdir(SOLUTIONS)) if os.path.isdir(SOLUTIONS) else []:
        m = _FILE.match(f)
        if m and os.path.exists(os.path.join(CHECKS, f)):
            found[int(m.group(1))] = Exercise(int(m.group(1)), f)
    return [found[n] for n in sorted(found)]


def exercise(number: int) -> Exercise:
    """Exercise ``number``, or ValueError listing the numbers there are."""
    for e in exercises():
        if e.number == number:
            return e
    have = ", ".join(str(e.number) for e in exercises()) or "none"
    raise ValueError(f"there is no exercise {number}; the exercises are {have} (`python -m tutorials.exercises "
                     f"list`)")
