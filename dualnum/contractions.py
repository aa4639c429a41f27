"""Contractions -- ``einsum``, ``tensordot``, ``kron``, ... -- multilinear maps in the format of
dualnum/primitive.py, for both modes and every order.
"""
