"""Calls to functions by `functionKey` (seed 000, "execute function")."""

from typing import Any, Iterable

from wit_world.imports import functions as _functions

from ._errors import _host_call
from ._values import from_python, host_python


def call(key: str, *params: Any) -> Any:
    """Call the function bound to `key` with positional parameters; its result.

    A bin may only call keys its manifest declares. Raises `Error` when the call fails.
    """
    return call_with(key, params)


def call_with(key: str, params: Iterable[Any]) -> Any:
    """`call` with the parameters as one list."""
    wit_params = [from_python(p) for p in params]
    return host_python(_host_call(_functions.call, key, wit_params))
