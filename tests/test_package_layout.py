"""The package's docstring is its reading order: every module is in it, with its length, and the layout keeps
the modes apart (only nested.py calls both modes' APIs)."""
import ast
import os
import subprocess
import sys
import pathlib
import re

import dualnum

PACKAGE = pathlib.Path(dualnum.__file__).parent


def _modules():
    return sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
                  if p.name != "__init__.py" or p.parent != PACKAGE)


def _stated_lengths():
    doc = dualnum.__doc__
    lengths = {m: int(n) for m, n in re.findall(r"^\s+([\w/]+\.py)\s.*?(\d+)$", doc, re.M)}
    for folder, inner in re.findall(r"\(([\w/]+?)/: ([^)]*)\)", doc):
        lengths.update({f"{folder}/{m}": int(n) for m, n in re.findall(r"([\w]+\.py) (\d+)", inner)})
    return lengths


def test_every_module_is_in_the_reading_order():
    stated = _stated_lengths()
    missing = [m for m in _modules() if m not in stated and not m.endswith("/__init__.py") or
               m.endswith("/__init__.py") and m not in stated and len((PACKAGE / m).read_text().splitlines()) > 5]
    assert not missing, f"add {missing} to the reading order in dualnum/__init__.py"
    assert not set(stated) - set(_modules()), f"the reading order names files that are gone: {set(stated) - set(_modules())}"


def test_the_stated_lengths_are_about_right():
    wrong = {}
    for m, n in _stated_lengths().items():
        actual = len((PACKAGE / m).read_text().splitlines())
        if abs(actual - n) > max(20, 0.1 * n):
            wrong[m] = (n, actual)
    assert not wrong, f"update the line counts in dualnum/__init__.py (stated, actual): {wrong}"


def _imports(module):
    tree = ast.parse((PACKAGE / module).read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names.update(f"{base}.{a.name}" if not node.module else base for a in node.names)
    return names


def test_forward_mode_and_the_tracker_do_not_call_each_others_api():
    forward_api, tracker_api = _imports("forward/__init__.py"), _imports("tracker.py")
    assert not any("tracker" in n or "nested" in n for n in forward_api)
    assert not any(re.search(r"(^|\.)forward($|\.__init__)", n) or "nested" in n for n in tracker_api)
    nested = _imports("nested.py")
    assert any("forward" in n for n in nested) and any("tracker" in n for n in nested)


def test_importing_dualnum_and_nn_leaves_numba_cuda_alone():
    """numba.cuda costs half a second to import: it is imported when a GPU array is first made, never before."""
    code = ("import sys, dualnum, nn, dualnum.tracker, dualnum.backends.cuda; "
            "print('numba.cuda' in sys.modules, 'numba' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["False", "False"], out.stdout + out.stderr


def test_no_module_under_backends_imports_forward_mode_or_the_tracker():
    """The seam: backends compute on plain arrays; forward mode hands them its arrays (and its class, to build
    pending results), so a backend never reaches back into the modes."""
    for m in _modules():
        if m.startswith("backends/"):
            text = (PACKAGE / m).read_text()
            assert not re.search(r"^\s*from \.\.\.?(forward|reverse|tracker)\b", text, re.M), m
