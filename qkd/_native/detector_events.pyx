# cython: language_level=3
"""Detector dead time and afterpulsing over one detector's time-ordered primary clicks.

Sequential by nature (whether a click is registered depends on the previous registered click), hence
compiled. Model (see ``qkd.physics.detector``): a primary at t is registered unless t < last + dead; each
registered click arms, with probability p_ap, an afterpulse at last + dead + Exp(τ); a pending afterpulse
fires if the detector is not hit by a registered primary before it (a later registered click replaces the
pending one). Gated detectors: an afterpulse lands on the next gate centre (slot grid k·period + phase).
"""

import numpy as np
cimport numpy as cnp
from libc.math cimport log, ceil
from libc.stdint cimport int64_t, uint8_t

cnp.import_array()


def dead_time_afterpulse(const double[::1] t_ps, double dead_ps, double p_ap, double decay_ps,
                         const double[::1] u_ap, const double[::1] u_delay, bint gated, double period_ps,
                         double last_ps, double pending_ps, double until_ps):
    """Registered clicks (times ps, is_afterpulse flag) from sorted primaries ``t_ps``.

    ``u_ap``/``u_delay`` are uniforms in (0,1) (reused cyclically; ≥ len(t_ps)+1 long for independence).
    ``last_ps``/``pending_ps`` carry the detector state between chunks (−1e308 / 1e308 when none); a
    pending afterpulse at or after ``until_ps`` (the chunk end) is carried, not emitted. Returns
    (times, flags, last_ps, pending_ps, n_lost_to_dead_time)."""
    cdef Py_ssize_t n = t_ps.shape[0], i = 0, m = 0, r = 0, nr = u_ap.shape[0]
    cdef Py_ssize_t cap = 2 * n + 64
    out_t = np.empty(cap, dtype=np.float64)
    out_f = np.empty(cap, dtype=np.uint8)
    cdef double[::1] ot = out_t
    cdef uint8_t[::1] of = out_f
    cdef double t, ap
    cdef uint8_t is_ap
    cdef Py_ssize_t n_dead = 0
    if nr == 0 and p_ap > 0:
        raise ValueError("u_ap must not be empty when p_ap > 0")
    with nogil:
        while True:
            if i < n and t_ps[i] <= pending_ps:
                t = t_ps[i]; is_ap = 0; i += 1
            elif pending_ps < 1e300 and pending_ps < until_ps:
                t = pending_ps; is_ap = 1; pending_ps = 1e308
            else:
                break
            if t < last_ps + dead_ps:
                n_dead += 1
                continue
            ot[m] = t; of[m] = is_ap; m += 1
            last_ps = t
            pending_ps = 1e308
            if p_ap > 0:
                # afterpulses can cascade; the buffer bound caps a (vanishingly unlikely) long cascade
                if u_ap[r] < p_ap and m + (n - i) < cap - 1:
                    ap = t + dead_ps - decay_ps * log(u_delay[r])
                    if gated:
                        ap = ceil(ap / period_ps) * period_ps
                    pending_ps = ap
                r += 1
                if r >= nr:
                    r = 0
    return out_t[:m], out_f[:m], last_ps, pending_ps, n_dead
