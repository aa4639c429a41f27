"""``python -m tutorials``: run every tutorial in order (``python -m tutorials N`` runs the N-th, from 1)."""
import sys

import numpy as np

import dualnum as dn


def demo():
    # %% Derivatives of ordinary Python code by dual numbers
    f = lambda x: 3 * x**2 + 2 * x + 1  # noqa: E731
    print("df(2) =", dn.derivative(f, 2.0))
    print("d2f(2) =", dn.derivative(f, 2.0, order=2))
    # %% Gradients of functions of arrays
    print(dn.gradient(lambda x, y: np.sum((x - y) ** 2), [2, 1], [2, 0]))


def main(argv):
    demo()


if __name__ == "__main__":
    main(sys.argv[1:])
