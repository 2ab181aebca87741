"""The variable updates a bin's run receives (already applied to the instance)."""

from typing import Any, Iterator, List, Optional

from .vars import TypedValue, Variable


class Updates:
    """The variables this run was given, in the order the client sent them."""

    def __init__(self, variables: List[Variable]):
        self._vars = variables

    def get(self, key: str, default: Any = None) -> Any:
        """The updated value of `key`, or `default` when this run did not update it."""
        typed = self.get_typed(key)
        return default if typed is None else typed.value

    def get_typed(self, key: str) -> Optional[TypedValue]:
        """The update of `key` with its seed 000 `len` and `type_code`."""
        for var in self._vars:
            if var.key == key:
                return var.value
        return None

    def __contains__(self, key: str) -> bool:
        return any(var.key == key for var in self._vars)

    def keys(self) -> List[str]:
        """The updated keys, in order."""
        return [var.key for var in self._vars]

    def __iter__(self) -> Iterator[Variable]:
        return iter(self._vars)

    def __len__(self) -> int:
        return len(self._vars)
