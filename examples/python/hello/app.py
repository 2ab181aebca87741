"""`hello` in Python: the same answers and log line as the Rust example.

`{"name": "Ada"}` -> `{"greeting": "Hello, Ada!"}`; a missing or null name greets the
world. Logs `greeting <name>` at info level.
"""

from cloudexec import Error, function, log


@function
def hello(input: dict) -> dict:
    if not isinstance(input, dict):
        raise Error("InvalidArgument", "invalid input: expected an object")
    name = input.get("name") or "world"
    log.info(f"greeting {name}")
    return {"greeting": f"Hello, {name}!"}
