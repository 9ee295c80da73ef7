# cython: language_level=3
"""Work buffers of laid-out Cascade passes, reused across blocks.

The n-sized arrays of a laid-out pass (orders, positions, bits in pass order, prefix parities, known-node
tables) are large: a fresh multi-megabyte array is a fresh mmap, and its first touches are page faults that
cost more than the pass itself (about a quarter of a 10^6-bit run). So the oracles and searches of the
process take them from this pool and give them back when they are done. Buffers that held key bits are
wiped when given back; the pool keeps at most POOL_LIMIT_BYTES.

An *owner* is a list that records the buffers one user took (``(buffer, holds_key_bits)`` pairs), so that
:func:`give` can return them all at once.
"""

import numpy as np
cimport numpy as cnp
from libc.string cimport memset

cnp.import_array()

cdef enum:
    POOL_MIN_BYTES = 1 << 16       # smaller buffers are not pooled (a fresh one is cheap)
    POOL_LIMIT_BYTES = 1 << 27     # the pool keeps at most this much
    BUFFER_ALIGN = 64              # buffer sizes are rounded up to whole cache lines

cdef list _pool = []
cdef Py_ssize_t _pool_bytes = 0
cdef long long _fresh_bytes = 0, _reused_bytes = 0, _dropped_bytes = 0


def pool_stats():
    """(bytes allocated fresh, bytes served from the pool, bytes given back but not kept, bytes kept now)."""
    return _fresh_bytes, _reused_bytes, _dropped_bytes, _pool_bytes


cdef object take(list owner, Py_ssize_t count, object dtype, bint zero):
    """An array of ``count`` items of ``dtype`` on a pooled buffer (recorded in ``owner`` for :func:`give`):
    the smallest pooled buffer that fits and is at most twice the need, else a fresh one."""
    global _pool_bytes, _fresh_bytes, _reused_bytes
    cdef Py_ssize_t item = np.dtype(dtype).itemsize
    cdef Py_ssize_t need = ((count * item + BUFFER_ALIGN - 1) // BUFFER_ALIGN) * BUFFER_ALIGN
    cdef Py_ssize_t size, best = -1, best_size = 0, i
    cdef object buf = None
    if need >= POOL_MIN_BYTES:
        for i in range(len(_pool)):
            size = (<cnp.ndarray>_pool[i]).shape[0]
            if need <= size <= 2 * need and (best < 0 or size < best_size):
                best, best_size = i, size
        if best >= 0:
            buf = _pool.pop(best)
            _pool_bytes -= best_size
    if buf is None:
        buf = np.empty(max(need, BUFFER_ALIGN), dtype=np.uint8)
        if need >= POOL_MIN_BYTES:
            _fresh_bytes += need
    else:
        _reused_bytes += need
    if zero:
        memset(cnp.PyArray_DATA(buf), 0, need)
    owner.append((buf, False))
    return buf[:count * item].view(dtype)


cdef object take_secret(list owner, Py_ssize_t count, object dtype):
    """As :func:`take`, for a buffer that will hold key bits: wiped when given back."""
    arr = take(owner, count, dtype, False)
    owner[len(owner) - 1] = (owner[len(owner) - 1][0], True)
    return arr


cdef void give(list owner):
    """Return the buffers of ``owner`` to the pool (key-bearing ones wiped first)."""
    global _pool_bytes, _dropped_bytes
    cdef Py_ssize_t size
    if owner is None or _pool is None:    # _pool is None only while the module is torn down
        return
    for buf, holds_key_bits in owner:
        size = (<cnp.ndarray>buf).shape[0]
        if holds_key_bits:
            memset(cnp.PyArray_DATA(buf), 0, size)
        if size >= POOL_MIN_BYTES and _pool_bytes + size <= POOL_LIMIT_BYTES:
            _pool.append(buf)
            _pool_bytes += size
        elif size >= POOL_MIN_BYTES:
            _dropped_bytes += size
    del owner[:]
