"""Compiled (Cython) kernels of the QKD stack. Each ``*.pyx`` here is built at install by setup.py."""
