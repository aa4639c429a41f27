"""``python -m tutorials``: run every tutorial in order and redraw figures/; ``python -m tutorials N`` runs the N-th.

``--fast`` runs each with smaller data/fewer steps (what the tests use); the numbers the sources print are the same,
and its coarser figures go to a temporary folder, so the committed figures/ stay as the full run drew them.
Each tutorial runs as a script (``tutorials.common.run``), the way it runs top to bottom as a notebook.
"""
import pathlib
import sys
import tempfile
import time

from tutorials import common
from tutorials.common import TUTORIALS, run


def main(argv):
    fast = "--fast" in argv
    if fast:
        common.FIGURES = pathlib.Path(tempfile.mkdtemp(prefix="dualnum-figures-fast-"))
        print(f"--fast: figures go to {common.FIGURES}")
    picks = [int(a) for a in argv if a.isdigit()]
    for n in picks:
        if not 1 <= n <= len(TUTORIALS):
            sys.exit(f"python -m tutorials N: N counts from 1 to {len(TUTORIALS)}, got {n}")
    for i, name in enumerate(TUTORIALS, start=1):
        if picks and i not in picks:
            continue
        print(f"\n{'=' * 100}\nTutorial {i}: {name}\n{'=' * 100}", flush=True)
        t0 = time.perf_counter()
        run(name, fast=fast)
        print(f"[tutorial {i} took {time.perf_counter() - t0:.1f} s]", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
