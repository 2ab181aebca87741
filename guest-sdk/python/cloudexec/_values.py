"""Conversions between the WIT `value` variant and plain Python values.

The rules are those of the Rust SDK (`cloudexec_sdk::value`): null ↔ None, boolean ↔
bool, integer ↔ int (fits in 64 bits), float ↔ float, text ↔ str, bytes → list of
ints (one way), json ↔ list/dict (as JSON text).
"""

import json
import math

from wit_world.imports import types

_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1


def to_python(value):
    """A WIT value as a Python value; `ValueError` if a json case is not JSON."""
    if isinstance(value, types.Value_Null):
        return None
    if isinstance(value, types.Value_Bytes):
        return list(value.value)
    if isinstance(value, types.Value_Json):
        return json.loads(value.value)
    return value.value


def host_python(value):
    """A value the host produced; text that is not JSON stays a string."""
    try:
        return to_python(value)
    except ValueError:
        return value.value


def from_python(value):
    """A Python value (anything `json.dumps` takes) as a WIT value."""
    if value is None:
        return types.Value_Null()
    if isinstance(value, bool):
        return types.Value_Boolean(value)
    if isinstance(value, int):
        if _I64_MIN <= value <= _I64_MAX:
            return types.Value_Integer(value)
        return types.Value_Float(float(value))
    if isinstance(value, float):
        return types.Value_Float(value) if math.isfinite(value) else types.Value_Null()
    if isinstance(value, str):
        return types.Value_Text(value)
    if isinstance(value, (bytes, bytearray)):
        return types.Value_Json(json.dumps(list(value)))
    if isinstance(value, tuple):
        value = list(value)
    return types.Value_Json(json.dumps(value, allow_nan=False))
