"""Side-by-side benchmarks: ``python -m benchmarks [--quick] [b1 b2 ...]``; results in RESULTS.md."""
