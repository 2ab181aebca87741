"""The manifest a bin declares: the functions it calls and its state machines."""

from dataclasses import dataclass, field
from typing import List


@dataclass(frozen=True)
class FunctionDecl:
    """A function the bin calls (seed 000: `appData.executionData.appFunction[]`)."""

    key: str
    name: str
    params: List[str] = field(default_factory=list)
    returns: str = "void"


@dataclass(frozen=True)
class Transition:
    """An allowed move between two states."""

    from_: str
    to: str


@dataclass(frozen=True)
class StateMachineDecl:
    """A state machine, numbered as the seed's `stateMachineNo`.

    Empty `transitions` means any declared state may follow any other.
    """

    id: int
    name: str
    states: List[str]
    initial: str
    transitions: List[Transition] = field(default_factory=list)


@dataclass(frozen=True)
class Manifest:
    """What a bin calls and which state machines it has."""

    functions: List[FunctionDecl] = field(default_factory=list)
    state_machines: List[StateMachineDecl] = field(default_factory=list)

    def _to_wit(self):
        from wit_world.imports import manifest_types as mt

        return mt.Manifest(
            functions=[
                mt.FunctionDecl(f.key, f.name, list(f.params), f.returns) for f in self.functions
            ],
            state_machines=[
                mt.StateMachineDecl(
                    m.id,
                    m.name,
                    list(m.states),
                    m.initial,
                    [mt.TransitionDecl(t.from_, t.to) for t in m.transitions],
                )
                for m in self.state_machines
            ],
        )
