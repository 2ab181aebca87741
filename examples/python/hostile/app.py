"""A Python guest that misbehaves on request, for the sandbox tests.

Input `{"action": ...}`: `echo` returns the input, `error` raises `Error("Boom", ...)`,
`raise` raises a plain `ValueError`, `loop` never returns, `bomb` allocates until the
memory cap stops it, `print` writes `n` lines of 1 KiB to stdout.
"""

from cloudexec import Error, function


@function
def handle(input: dict):
    action = input.get("action")
    if action == "echo":
        return input
    if action == "error":
        raise Error("Boom", "guest chose to fail")
    if action == "raise":
        raise ValueError("the input was not to my taste")
    if action == "loop":
        n = 0
        while True:
            n += 1
    if action == "bomb":
        hoard = []
        while True:
            hoard.append(bytearray(1 << 20))
    if action == "print":
        for i in range(int(input.get("n", 1))):
            print(f"{i:05} " + "x" * 1018)
        return {"ok": True}
    raise Error("InvalidArgument", f"unknown action {action!r}")
