"""What every tutorial shares: the list in order, where figures go, and a headless matplotlib."""
import pathlib

import matplotlib

matplotlib.use("Agg")  # tutorials run on machines without a screen; figures are files

#: in the order ``python -m tutorials N`` counts them (from 1)
TUTORIALS = [
    "t1_how_flux_works",        # seed 002: gradients and layers
    "t2_gentle_introduction",   # seed 001: why gradients, dual numbers, the tracker, the loss landscape
    "t3_modern_ml_library",     # seed 000: Params, Grads, optimisers, train!, a real MLP
    "t4_teaching_myself_ml",    # seed 003: Line and Parabola models, learning rates, the cost surface
    "t5_dual_numbers_from_scratch",  # new: a 30-line Dual, nesting, forward vs reverse cost
]

FIGURES = pathlib.Path(__file__).resolve().parent.parent / "figures"


def figure_path(name: str) -> pathlib.Path:
    FIGURES.mkdir(exist_ok=True)
    return FIGURES / name


def save(fig, name: str) -> pathlib.Path:
    """Save a matplotlib figure into figures/ and say so (the tutorial's output names every figure)."""
    path = figure_path(name)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    print(f"  -> wrote figures/{name}")
    return path
