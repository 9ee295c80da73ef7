"""JSON that any standard parser reads: NaN and ±inf (which ``json`` would write as bare ``NaN``/``Infinity``)
become ``null``, numpy arrays and scalars become Python lists and numbers. One place for every ``--json``."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np


def standard(o: Any) -> Any:
    """``o`` with every non-finite float (recursively through dicts, lists and tuples) replaced by None."""
    if isinstance(o, float):
        return None if (math.isnan(o) or math.isinf(o)) else o
    if isinstance(o, dict):
        return {k: standard(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [standard(v) for v in o]
    return o


def _fallback(o: Any) -> Any:
    """``default=`` of json.dumps: numpy values as Python ones (non-finite as None), anything else as its str."""
    if isinstance(o, np.ndarray):
        return standard(o.tolist())
    if isinstance(o, np.generic):
        return standard(o.item())
    return str(o)


def dumps(data: Any) -> str:
    """``data`` as indented, key-sorted standard JSON."""
    return json.dumps(standard(data), indent=2, sort_keys=True, default=_fallback, allow_nan=False)
