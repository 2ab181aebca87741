"""`shop` in Python: a bin that walks an order through cart -> ordered -> paid.

The same behaviour as the Rust example: each run reacts to the updated variables, in
this order: `item` puts an item into the cart, `amount` orders it, `pay` pays the
order. Problems are reported in the variable `lastError`; `state` always ends up
holding the order's current state.
"""

from cloudexec import (
    Error,
    FunctionDecl,
    Manifest,
    StateMachineDecl,
    Transition,
    Updates,
    bin,
    functions,
    log,
    state_machine,
    vars,
)

CART = "utcook.jar:com.ut.BuzMethod.shoppingCart"
ORDER = "utcook.jar:com.ut.BuzMethod.order"
PAY = "utcook.jar:com.ut.BuzMethod.payOrder"
MACHINE = 1  # the number of the order state machine

MANIFEST = Manifest(
    functions=[
        FunctionDecl(CART, "shoppingCart", ["string"], "bool"),
        FunctionDecl(ORDER, "order", ["string", "double"], "string"),
        FunctionDecl(PAY, "payOrder", ["string"], "bool"),
    ],
    state_machines=[
        StateMachineDecl(
            MACHINE,
            "order",
            ["cart", "ordered", "paid"],
            "cart",
            [Transition("cart", "ordered"), Transition("ordered", "paid")],
        )
    ],
)


@bin(MANIFEST)
def run(updates: Updates) -> None:
    try:
        react(updates)
    finally:
        vars.set("state", state())


def react(updates: Updates) -> None:
    item = updates.get("item")
    if item is not None:
        add_to_cart(str(item))
    amount = updates.get("amount")
    if amount is not None:
        if state() != "cart" or vars.get("inCart") is not True:
            vars.set("lastError", "nothing in the cart to order")
            return
        try:
            order_id = functions.call(ORDER, vars.get("item", ""), float(amount))
        except Error as e:
            vars.set("lastError", e.message)
        else:
            vars.set("orderId", order_id)
            state_machine.transition(MACHINE, "ordered")
    if "pay" in updates:
        pay()


def add_to_cart(item: str) -> None:
    try:
        ok = functions.call(CART, item)
    except Error as e:
        log.warn(f"shoppingCart failed: {e}")
        vars.set("lastError", e.message)
        return
    if ok is True:
        log.info(f"{item} is in the cart")
        vars.set("inCart", True)
    else:
        vars.set("inCart", False)
        vars.set("lastError", "item rejected")


def pay() -> None:
    if state() != "ordered":
        vars.set("lastError", "no order to pay")
        return
    try:
        ok = functions.call(PAY, vars.get("orderId", ""))
    except Error as e:
        vars.set("lastError", e.message)
        return
    if ok is True:
        state_machine.transition(MACHINE, "paid")
        vars.set("paid", True)
    else:
        vars.set("lastError", "payment declined")


def state() -> str:
    return state_machine.current(MACHINE) or ""
