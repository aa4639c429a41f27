"""With numba off (DUALNUM_NUMBA=0) every tutorial step still runs, on numpy alone, with the same numbers."""
import os
import re
import subprocess
import sys

import numpy as np


def test_tutorial_5_runs_without_numba():
    env = dict(os.environ, DUALNUM_NUMBA="0")
    out = subprocess.run([sys.executable, "-m", "tutorials", "5"], env=env, capture_output=True, text=True,
                         timeout=300, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.returncode == 0, out.stderr[-2000:]
    got = re.search(r"y' = \[([^\]]*)\]", out.stdout)
    assert got is not None, out.stdout[-2000:]
    x = np.linspace(0.0, 1.0, 5)
    np.testing.assert_allclose(np.array(got.group(1).split(), dtype=float), np.sin(x) + x * np.cos(x), rtol=1e-7)
    assert "fusion is off" in out.stdout
