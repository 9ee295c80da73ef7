# cython: language_level=3
"""Compiled PTU T2 record decoder: one pass over 32-bit records, overflow state carried between calls.

Layouts and overflow rules as documented in ``qkd.events.formats.ptu`` (PicoQuant's published format
description): PicoHarp T2 (kind 0), HydraHarp V1 T2 (kind 1), HydraHarp V2 / TimeHarp 260 / generic T2
(kind 2).
"""

import numpy as np
cimport numpy as cnp
from libc.stdint cimport int64_t, uint8_t, uint32_t

cnp.import_array()


def decode_t2(const uint32_t[::1] rec, int kind, int64_t ovf_units, int64_t scale_num, uint8_t sync_channel):
    """Decode T2 records. ``scale_num`` multiplies time units into ps (1 for 1 ps resolution, 4 for the
    PicoHarp's 4 ps). Returns (t_ps int64, channel uint8, ovf_units, n_markers, n_overflow_records)."""
    cdef Py_ssize_t n = rec.shape[0], i, m = 0
    t_out = np.empty(n, dtype=np.int64)
    c_out = np.empty(n, dtype=np.uint8)
    cdef int64_t[::1] to = t_out
    cdef uint8_t[::1] co = c_out
    cdef uint32_t r, ch, tt
    cdef Py_ssize_t n_mark = 0, n_ovf = 0
    with nogil:
        if kind == 0:
            for i in range(n):
                r = rec[i]
                ch = r >> 28
                tt = r & 0x0FFFFFFF
                if ch == 0xF:
                    if (tt & 0xF) == 0:
                        ovf_units += 210698240
                        n_ovf += 1
                    else:
                        n_mark += 1
                    continue
                to[m] = (ovf_units + tt) * scale_num
                co[m] = <uint8_t>ch
                m += 1
        else:
            for i in range(n):
                r = rec[i]
                ch = (r >> 25) & 0x3F
                tt = r & 0x1FFFFFF
                if r >> 31:
                    if ch == 0x3F:
                        n_ovf += 1
                        if kind == 1:
                            ovf_units += 33552000
                        else:
                            ovf_units += (<int64_t>(tt if tt != 0 else 1)) << 25
                        continue
                    if ch == 0:
                        to[m] = (ovf_units + tt) * scale_num
                        co[m] = sync_channel
                        m += 1
                    elif ch <= 15:
                        n_mark += 1      # markers 1..15; other special codes are undefined and dropped
                    continue
                to[m] = (ovf_units + tt) * scale_num
                co[m] = <uint8_t>ch
                m += 1
    return t_out[:m], c_out[:m], ovf_units, n_mark, n_ovf
