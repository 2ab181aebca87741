"""The `function` and `bin` decorators: they turn a plain Python function into the
component's exports.

componentize-py looks for a class named `WitWorld` in the app module; the decorators
put one there, so an author writes no binding code. Any exception other than `Error`
fails the call as `execution_failed` with code `Exception` and the exception's text.
"""

import sys
import traceback

from ._errors import Error
from ._values import from_python, to_python
from .vars import TypedValue, Variable
from ._updates import Updates


def _as_error(exc: BaseException) -> Error:
    if isinstance(exc, Error):
        return exc
    # The traceback goes to the call's log (stderr); the error carries the summary.
    traceback.print_exception(exc, file=sys.stderr)
    return Error("Exception", f"{type(exc).__name__}: {exc}")


def _install(fn, world) -> None:
    module = sys.modules.get(fn.__module__)
    if module is None:
        raise RuntimeError(f"cannot find the module of {fn.__qualname__}")
    if getattr(module, "WitWorld", None) is not None:
        raise RuntimeError(f"{module.__name__} already has a cloudexec function or bin")
    module.WitWorld = world


def function(fn):
    """Make `fn(input) -> output` the component's `handle` export.

    `input` is the call's JSON value as Python (dict, list, str, int, float, bool or
    None); the return value must be JSON-serialisable. Raise `Error(code, message)` to
    fail the call with that code.
    """

    class WitWorld:
        def handle(self, input):
            try:
                try:
                    value = to_python(input)
                except ValueError as exc:
                    raise Error("InvalidArgument", f"invalid input: {exc}") from None
                output = fn(value)
                try:
                    return from_python(output)
                except (TypeError, ValueError) as exc:
                    raise Error("InvalidOutput", f"cannot serialize the output: {exc}") from None
            except BaseException as exc:  # noqa: BLE001 - every failure becomes the call's error
                raise _as_error(exc)._to_wit() from None

    _install(fn, WitWorld)
    return fn


def bin(manifest):
    """Make `fn(updates)` the component's `run` export, with `manifest` as its manifest.

    ::

        @bin(MANIFEST)
        def run(updates: Updates) -> None:
            ...
    """
    wit_manifest_cache = []

    def decorate(fn):
        class WitWorld:
            def manifest(self):
                if not wit_manifest_cache:
                    wit_manifest_cache.append(manifest._to_wit())
                return wit_manifest_cache[0]

            def run(self, updates):
                try:
                    from ._values import host_python

                    variables = [
                        Variable(
                            u.key,
                            TypedValue(host_python(u.value.value), u.value.len, u.value.type_code),
                        )
                        for u in updates
                    ]
                    fn(Updates(variables))
                except BaseException as exc:  # noqa: BLE001
                    raise _as_error(exc)._to_wit() from None

        _install(fn, WitWorld)
        return fn

    return decorate
