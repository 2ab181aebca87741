"""The one failure type a guest sees, handles and raises."""


class Error(Exception):
    """A failure with a short machine-readable `code` and a `message` for people.

    Raise it from a function or a bin to fail the call with that code and message; the
    host's calls (`functions.call`, `vars.set`, ...) raise it when they fail.
    """

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @classmethod
    def _from_wit(cls, err) -> "Error":
        """The SDK error of a `componentize_py_types.Err` carrying a WIT `error`."""
        value = getattr(err, "value", err)
        return cls(getattr(value, "code", "InternalError"), getattr(value, "message", str(value)))

    def _to_wit(self):
        from componentize_py_types import Err
        from wit_world.imports.types import Error as WitError

        return Err(WitError(code=self.code, message=self.message))


def _host_call(call, *args):
    """Call a host import, turning its WIT error into `Error`."""
    from componentize_py_types import Err

    try:
        return call(*args)
    except Err as err:
        raise Error._from_wit(err) from None
