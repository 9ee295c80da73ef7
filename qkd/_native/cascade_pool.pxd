# cython: language_level=3
"""The work-buffer pool of the Cascade kernels (cascade_pool.pyx)."""

cdef object take(list owner, Py_ssize_t count, object dtype, bint zero)
cdef object take_secret(list owner, Py_ssize_t count, object dtype)
cdef void give(list owner)
