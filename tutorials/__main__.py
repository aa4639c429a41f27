"""``python -m tutorials``: run every tutorial in order and redraw figures/; ``python -m tutorials N`` runs the N-th.

``--fast`` runs each with smaller data/fewer steps (what the tests use); the numbers the sources print are the same,
and its coarser figures go to a temporary folder, so the committed figures/ stay as the full run drew them.
``--help`` prints the usage and the list of tutorials, and runs nothing.
Each tutorial runs as a script (``tutorials.common.run``), the way it runs top to bottom as a notebook.
"""
import argparse
import ast
import pathlib
import sys
import tempfile
import time

from tutorials import common
from tutorials.common import TUTORIALS, run


def title(name: str) -> str:
    """A tutorial's one-line title: the first line of its docstring, read without running it."""
    path = pathlib.Path(common.__file__).with_name(f"{name}.py")
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or name
    first = doc.strip().splitlines()[0]
    return first.split(" -- ", 1)[1] if " -- " in first else first


def parser() -> argparse.ArgumentParser:
    listing = "\n".join(f"  {i}. {title(name)}" for i, name in enumerate(TUTORIALS, start=1))
    p = argparse.ArgumentParser(
        prog="python -m tutorials",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run the tutorials top to bottom: each prints what it teaches and draws its figures into\n"
                    "figures/. With no N, run them all, in order.",
        epilog=f"tutorials:\n{listing}\n\nEach is also a notebook: open tutorials/<name>.py with jupytext, VS Code "
               "or PyCharm\n(the '# %%' cells), or convert it: jupytext --to notebook tutorials/<name>.py")
    p.add_argument("numbers", nargs="*", type=int, metavar="N",
                   help=f"run only tutorial N (counting from 1 to {len(TUTORIALS)}); several may be given")
    p.add_argument("--fast", action="store_true",
                   help="smaller data and fewer steps (what the tests use); figures go to a temporary folder")
    return p


def main(argv):
    p = parser()
    args = p.parse_args(argv)   # --help prints the usage and exits here, before anything runs
    for n in args.numbers:
        if not 1 <= n <= len(TUTORIALS):
            p.error(f"N counts from 1 to {len(TUTORIALS)}, got {n}")
    if args.fast:
        common.FIGURES = pathlib.Path(tempfile.mkdtemp(prefix="dualnum-figures-fast-"))
        print(f"--fast: figures go to {common.FIGURES}")
    for i, name in enumerate(TUTORIALS, start=1):
        if args.numbers and i not in args.numbers:
            continue
        print(f"\n{'=' * 100}\nTutorial {i}: {name}\n{'=' * 100}", flush=True)
        t0 = time.perf_counter()
        run(name, fast=args.fast)
        print(f"[tutorial {i} took {time.perf_counter() - t0:.1f} s]", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
