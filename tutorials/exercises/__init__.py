"""Classroom exercises with an autograder: ``python -m tutorials.exercises list | check N [PATH] | build | mutate N``.

Solutions (``solutions/``) are the one source of truth; the student files beside this module are generated from
them; ``checks/`` holds one checker per exercise, written with :mod:`tutorials.exercises.grader`. The teacher's
page is README.md in this folder."""
