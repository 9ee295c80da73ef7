"""Compiled (Cython) kernels of the QKD stack. Each ``*.pyx`` here is built at install by setup.py, and each
has a ``.pyi`` stub beside it (shipped as package data) that types its Python surface.

* ``sift_kernels`` — slot assignment, sifting and counting, the fused sifting pass;
* ``cascade`` — Cascade reconciliation, re-exporting ``cascade_passes`` (pass kinds, plans, question codes),
  ``cascade_shuffle`` (pass orders), ``cascade_alice`` (Alice's parity oracle), ``cascade_bob`` (Bob's
  bisections) and ``cascade_pool`` (work buffers, a C-level API);
* ``gf2`` — GF(2)[x] products, the Toeplitz hash, GF(2^128) polynomial hashing;
* ``philox`` — the emulated transmitter's record; ``detector_events`` — dead time and afterpulsing;
  ``timetag_decode`` — PicoQuant T2 records; ``bitops`` — bit kernels and the one bit packing;
* ``coincidence_match`` — pairing two stations' tag streams (BBM92); ``ldpc_decode`` — LDPC sum-product /
  min-sum decoding.

Shared C, each written once: ``splitmix64.h`` (the generator of every kernel's draws) and ``packed_bits.h``
(packed-word bit operations), declared for Cython in ``splitmix64.pxd`` and ``packed_bits.pxd``.
"""
