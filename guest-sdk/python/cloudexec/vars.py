"""Variables of the current execution instance (bins only; a function gets `Error`)."""

from dataclasses import dataclass
from typing import Any, Optional

from wit_world.imports import types as _types
from wit_world.imports import vars as _vars

from ._errors import _host_call
from ._values import from_python, host_python


@dataclass
class TypedValue:
    """A variable as seed 000 stores it: the value with its `len` and `type_code`."""

    value: Any
    len: int
    type_code: int


@dataclass
class Variable:
    """A named variable of an execution instance."""

    key: str
    value: TypedValue


def _typed(wit) -> TypedValue:
    return TypedValue(host_python(wit.value), wit.len, wit.type_code)


def get(key: str, default: Any = None) -> Any:
    """The variable's value: the instance's own, else the engine layer's answer (the bin's
    `getVarUrl`, seed 000 4.3); `default` when neither has it. Raises `Error` when the
    engine layer's answer failed."""
    typed = fetch_typed(key)
    return default if typed is None else typed.value


def fetch_typed(key: str) -> Optional[TypedValue]:
    """As `get`, with the seed 000 `len` and `type_code`."""
    wit = _host_call(_vars.fetch, key)
    return None if wit is None else _typed(wit)


def get_typed(key: str) -> Optional[TypedValue]:
    """The instance's own variable with its `len` and `type_code`, or None (the engine
    layer is not asked)."""
    wit = _vars.get(key)
    return None if wit is None else _typed(wit)


def set(key: str, value: Any) -> None:
    """Set a variable; the host infers its `type_code` and `len`."""
    _host_call(_vars.set, key, from_python(value))


def set_typed(key: str, value: TypedValue) -> None:
    """Set a variable with an explicit `type_code` and `len`."""
    wit = _types.TypedValue(from_python(value.value), value.len, value.type_code)
    _host_call(_vars.set_typed, key, wit)


def list() -> "list[Variable]":
    """Every variable of the instance, ordered by key."""
    return [Variable(v.key, _typed(v.value)) for v in _vars.list()]
