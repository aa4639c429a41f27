"""What every tutorial shares: the list in order, where figures go, a headless matplotlib, and the runner.

Each tutorial is a plain script of cells in jupytext's percent format -- ``# %% [markdown]`` cells for the prose,
``# %%`` cells of top-level code -- so it opens as a notebook (jupytext, VS Code, PyCharm), shows its text as text
and runs top to bottom there. ``run`` executes one the same way for ``python -m tutorials`` and the tests, with
``FAST`` set in its globals (a notebook, which has no runner, gets the default: ``FAST = False``).
"""
import contextlib
import pathlib
import runpy
import sys

import matplotlib


def _in_notebook():
    """True inside a Jupyter kernel, where figures should show inline rather than only go to files."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in shell.config


if not _in_notebook():
    matplotlib.use("Agg")  # tutorials run on machines without a screen; figures are files

#: in the order ``python -m tutorials N`` counts them (from 1)
TUTORIALS = [
    "t1_how_flux_works",        # source 002: gradients and layers
    "t2_gentle_introduction",   # source 001: why gradients, dual numbers, the tracker, the loss landscape
    "t3_modern_ml_library",     # source 000: Params, Grads, optimisers, train!, a real MLP
    "t4_teaching_myself_ml",    # source 003: Line and Parabola models, learning rates, the cost surface
    "t5_dual_numbers_from_scratch",  # new: a 30-line Dual, nesting, forward vs reverse cost
    "t6_inside_backprop",       # new: the tape shown and drawn, the chain rule per node, forward vs reverse
    "t7_taylor_and_newton",     # new: Newton's method, Taylor polynomials, f, f′, f″ on a grid
]

FIGURES = _REPO_FIGURES = pathlib.Path(__file__).resolve().parent.parent / "figures"


class SkipRest(Exception):
    """Raised by a tutorial whose remaining cells need something not installed (it has printed why).

    ``run`` stops that tutorial there and carries on; in a notebook the cell shows the message and stops."""


def figure_path(name: str) -> pathlib.Path:
    FIGURES.mkdir(exist_ok=True)
    return FIGURES / name


def save(fig, name: str) -> pathlib.Path:
    """Save a matplotlib figure into figures/ and say so (the tutorial's output names every figure)."""
    path = figure_path(name)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    if not _in_notebook():   # in a notebook, leave it open: the cell shows it below its output
        import matplotlib.pyplot as plt
        plt.close(fig)
    print(f"  -> wrote figures/{name}" + ("" if path.parent == _REPO_FIGURES else f"  (in {path.parent})"))
    return path


def one_blas_thread():
    """A context limiting numpy's BLAS to one thread (a no-op without threadpoolctl, which scikit-learn brings).

    The tutorials' matrices are small (64 × 1348 at most): splitting each product over threads costs more than it
    saves, and on a busy two-core machine the threads wait for each other -- tutorial 3 took 22 s instead of 3 s."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def tutorial_name(n_or_name) -> str:
    """The module name of a tutorial given by its number (from 1) or its name ("t4_teaching_myself_ml")."""
    if isinstance(n_or_name, int):
        if not 1 <= n_or_name <= len(TUTORIALS):
            raise ValueError(f"tutorials count from 1 to {len(TUTORIALS)}, got {n_or_name}")
        return TUTORIALS[n_or_name - 1]
    name = str(n_or_name).removeprefix("tutorials.")
    if name not in TUTORIALS:
        raise ValueError(f"no tutorial named {n_or_name!r}; they are {TUTORIALS}")
    return name


def run(n_or_name, fast=False) -> dict:
    """Run a tutorial top to bottom, as a script, and return its globals (its models, data and functions).

    ``fast=True`` sets ``FAST`` in the tutorial: smaller data and fewer steps (what the tests use); the numbers the
    sources print are the same. numpy's BLAS runs on one thread meanwhile (see ``one_blas_thread``). A tutorial that
    stops early with ``SkipRest`` returns the globals it had at that point, plus ``SKIPPED``: the exception."""
    name = tutorial_name(n_or_name)
    init = {"FAST": bool(fast)}
    with one_blas_thread():
        try:
            return runpy.run_module(f"tutorials.{name}", init_globals=init, run_name="__main__")
        except SkipRest as stop:
            tb = stop.__traceback__
            while tb.tb_next is not None:   # the innermost frame: the tutorial's own top level, which raised it
                tb = tb.tb_next
            namespace = tb.tb_frame.f_globals
            namespace["SKIPPED"] = stop
            return namespace
