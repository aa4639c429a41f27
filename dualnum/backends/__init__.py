"""Speed only: numba kernels per rule (kernels.py), fused elementwise loops (fusion.py), the allocator setting
(allocator.py). With them switched off (DUALNUM_NUMBA=0) every result is the same."""
