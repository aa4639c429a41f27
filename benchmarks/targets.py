"""The targets the benchmarks check, collected as they run: ``python -m benchmarks`` prints them at the end,
each beside what this run measured, with met / not met."""

ROWS: list = []


def record(target: str, measured: str, ok):
    """One target: what it asks, what this run measured, and whether it is met (None: no reference here)."""
    ROWS.append((target, measured, ok))


def report():
    if not ROWS:
        return
    print("\n=== targets ===")
    width = max(len(t) for t, _, _ in ROWS)
    for target, measured, ok in ROWS:
        verdict = "n/a (no reference here)" if ok is None else ("met" if ok else "NOT met")
        print(f"  {target:{width}s}  {measured:>28s}  {verdict}")
