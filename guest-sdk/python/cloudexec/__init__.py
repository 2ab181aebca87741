"""Write cloudexec functions and bins as plain Python functions.

A **function** takes one JSON value and returns one JSON value, or raises `Error`::

    from cloudexec import function, log

    @function
    def handle(input: dict) -> dict:
        name = input.get("name") or "world"
        log.info(f"greeting {name}")
        return {"greeting": f"Hello, {name}!"}

A **bin** declares a `Manifest` and runs once per batch of variable `Updates`, using
`vars`, `functions` and `state_machine`; see `bin`.

Build with componentize-py against the SDK's WIT (`cloudexec build` does this)::

    componentize-py -d wit -w function componentize app -p . -p <sdk> -o app.wasm

The generated bindings (`wit_world`) are an implementation detail: nothing here
exposes them, so the same code runs whichever world it was built for.
"""

from . import functions, log, state_machine, vars
from ._errors import Error
from ._manifest import FunctionDecl, Manifest, StateMachineDecl, Transition
from ._updates import Updates
from ._worlds import bin, function
from .vars import TypedValue, Variable

__all__ = [
    "Error",
    "FunctionDecl",
    "Manifest",
    "StateMachineDecl",
    "Transition",
    "TypedValue",
    "Updates",
    "Variable",
    "bin",
    "function",
    "functions",
    "log",
    "state_machine",
    "vars",
]
