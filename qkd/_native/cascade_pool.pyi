"""The work-buffer pool of the Cascade kernels (cascade_pool.pyx): a C-level API only (cimport
``qkd._native.cascade_pool``: ``take``, ``take_secret``, ``give``); nothing is exported to Python."""
