"""Build the Cython extension modules: every ``qkd/**/*.pyx`` becomes one extension.

Packaging metadata lives in ``pyproject.toml``; this file only declares the compiled parts so that
later modules are picked up by dropping a ``.pyx`` file next to its package.
"""

from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).parent


def _extensions() -> list[Extension]:
    exts = []
    for pyx in sorted((HERE / "qkd").rglob("*.pyx")):
        rel = pyx.relative_to(HERE)
        module = ".".join(rel.with_suffix("").parts)
        exts.append(
            Extension(
                module,
                [str(rel)],
                # our C headers and Cython declarations next to the .pyx (``cdef extern from "x.h"``, ``cimport``):
                # a change to one recompiles
                depends=sorted(str(d.relative_to(HERE)) for glob in ("*.h", "*.pxd") for d in pyx.parent.glob(glob)),
                include_dirs=[numpy.get_include()],
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                # no fused multiply-add contraction: compiled doubles (slot assignment in sift_kernels) must
                # equal numpy's bit for bit on every target, FMA-capable ones included (no-op on x86-64 baseline)
                extra_compile_args=["-O3", "-ffp-contract=off"],
            )
        )
    return exts


setup(
    ext_modules=cythonize(
        _extensions(),
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
    )
)
