"""Digits: Chain(Dense(64, 32, relu), Dense(32, 10)) trained on the UCI 8×8 digits -- held-out accuracy and time.

Reverse mode (the tracker) is the default and must reach ≥ 95 % in < 10 s; forward mode (dual numbers, 2,410
parameters seeded in chunks) is timed for one epoch, for the lesson on why reverse mode wins with many
parameters. Needs ``pip install -e ".[digits]"``.
"""
from __future__ import annotations

import os
import platform


def main(quick: bool):
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print('skipped: scikit-learn is not installed (pip install -e ".[digits]")')
        return
    from nn.experiments import digits_experiment

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    digits_experiment(epochs=1)  # warm-up: numba compilation, imports
    runs = 1 if quick else 3
    results = [digits_experiment() for _ in range(runs)]
    best = min(r["seconds"] for r in results)
    r = results[0]
    print(f"reverse mode: {r['epochs']} epochs, {len(r['losses'])} steps: {best:.2f} s "
          f"(best of {runs}; {1e3 * best / len(r['losses']):.2f} ms/step), "
          f"held-out accuracy {100 * r['accuracy']:.1f} %, train accuracy {100 * r['train_accuracy']:.1f} %")
    f = digits_experiment(epochs=1, mode="forward")
    per_epoch_rev = best / r["epochs"]
    print(f"forward mode: 1 epoch, {len(f['losses'])} steps: {f['seconds']:.2f} s "
          f"({f['seconds'] / per_epoch_rev:.0f}x reverse mode's {per_epoch_rev:.3f} s per epoch)")
