"""State machines of the current execution instance (bins only)."""

from typing import Optional

from wit_world.imports import state_machine as _sm

from ._errors import _host_call


def transition(machine: int, state: str) -> None:
    """Move `machine` to `state`, recording it on the machine's path; `Error` if refused."""
    _host_call(_sm.transition, machine, state)


def current(machine: int) -> Optional[str]:
    """The machine's current state; None for a machine the manifest does not declare."""
    return _sm.current(machine)
