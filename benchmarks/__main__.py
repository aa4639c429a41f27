"""Run every benchmark module ``benchmarks/bN_*.py`` (each has ``main(quick: bool)``), or the ones named."""
import importlib
import pathlib
import sys


def main(argv):
    from dualnum.backends import fusion, kernels
    # the benchmarks time long runs in their steady state: every kernel and fused loop compiled once hot (how a
    # short run on a cold cache fares, compiles included, is b8's subject: it times fresh processes)
    kernels.PAYBACK = fusion.PAYBACK = 0.0
    quick = "--quick" in argv
    names = [a for a in argv if not a.startswith("--")]
    here = pathlib.Path(__file__).parent
    if "gpu" in names:  # on a machine with an NVIDIA GPU only: not part of the default run
        print("\n=== gpu ===", flush=True)
        for target, measured, want, ok in importlib.import_module("benchmarks.gpu").main(quick) or []:
            from .targets import record
            record(f"{target} ({want})", measured, ok)
        names = [n for n in names if n != "gpu"]
        if not names:
            from .targets import report
            report()
            return
    mods = sorted(p.stem for p in here.glob("b[0-9]*_*.py"))
    for m in mods:
        if names and not any(m.startswith(n) for n in names):
            continue
        print(f"\n=== {m} ===", flush=True)
        importlib.import_module(f"benchmarks.{m}").main(quick)
    from .targets import report
    report()


if __name__ == "__main__":
    main(sys.argv[1:])
