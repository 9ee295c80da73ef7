"""The work-buffer pool of the Cascade kernels (cascade_pool.pyx): a C-level API (cimport
``qkd._native.cascade_pool``: ``take``, ``take_secret``, ``give``) and, for benchmarks, its counters."""

def pool_stats() -> tuple[int, int, int, int]:
    """(bytes allocated fresh, bytes served from the pool, bytes given back but not kept, bytes kept now)."""
