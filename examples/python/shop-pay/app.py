"""`payOrder` (key `utcook.jar:com.ut.BuzMethod.payOrder`) of the `shop` bin, in Python.

Parameters `[order_id: string]` -> `true` if it is an order id the shop issued.
"""

from cloudexec import Error, function


@function
def pay_order(params: list) -> bool:
    if not isinstance(params, list) or len(params) != 1 or not isinstance(params[0], str):
        raise Error("InvalidArgument", "invalid input: expected [order_id]")
    return params[0].startswith("order-")
