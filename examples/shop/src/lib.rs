//! `shop`: a bin that walks an order through cart → ordered → paid.
//!
//! Each run reacts to the updated variables, in this order: `item` puts an item into
//! the cart, `amount` orders it, `pay` pays the order. Problems are reported in the
//! variable `lastError`; `state` always ends up holding the order's current state.

use cloudexec_sdk::{Error, FunctionDecl, Manifest, StateMachineDecl, Transition, Updates};
use cloudexec_sdk::{bin, functions, info, state_machine, vars, warn};

const CART: &str = "utcook.jar:com.ut.BuzMethod.shoppingCart";
const ORDER: &str = "utcook.jar:com.ut.BuzMethod.order";
const PAY: &str = "utcook.jar:com.ut.BuzMethod.payOrder";
/// The number of the order state machine.
const MACHINE: u32 = 1;

const MANIFEST: Manifest = Manifest {
    functions: &[
        FunctionDecl { key: CART, name: "shoppingCart", params: &["string"], returns: "bool" },
        FunctionDecl { key: ORDER, name: "order", params: &["string", "double"], returns: "string" },
        FunctionDecl { key: PAY, name: "payOrder", params: &["string"], returns: "bool" },
    ],
    state_machines: &[StateMachineDecl {
        id: MACHINE,
        name: "order",
        states: &["cart", "ordered", "paid"],
        initial: "cart",
        transitions: &[Transition { from: "cart", to: "ordered" }, Transition { from: "ordered", to: "paid" }],
    }],
};

#[bin(manifest = MANIFEST)]
fn run(updates: Updates) -> Result<(), Error> {
    let outcome = react(&updates);
    vars::set("state", &state())?;
    outcome
}

fn react(updates: &Updates) -> Result<(), Error> {
    if let Some(item) = updates.get::<String>("item")? {
        add_to_cart(&item)?;
    }
    if let Some(amount) = updates.get::<f64>("amount")? {
        if state() != "cart" || vars::get::<bool>("inCart")? != Some(true) {
            return vars::set("lastError", "nothing in the cart to order");
        }
        let item = vars::get::<String>("item")?.unwrap_or_default();
        match functions::call::<String>(ORDER, (item, amount)) {
            Ok(id) => {
                vars::set("orderId", &id)?;
                state_machine::transition(MACHINE, "ordered")?;
            }
            Err(e) => vars::set("lastError", &e.message)?,
        }
    }
    if updates.contains("pay") {
        pay()?;
    }
    Ok(())
}

fn add_to_cart(item: &str) -> Result<(), Error> {
    match functions::call::<bool>(CART, (item,)) {
        Ok(true) => {
            info!("{item} is in the cart");
            vars::set("inCart", &true)
        }
        Ok(false) => {
            vars::set("inCart", &false)?;
            vars::set("lastError", "item rejected")
        }
        Err(e) => {
            warn!("shoppingCart failed: {e}");
            vars::set("lastError", &e.message)
        }
    }
}

fn pay() -> Result<(), Error> {
    if state() != "ordered" {
        return vars::set("lastError", "no order to pay");
    }
    let order_id = vars::get::<String>("orderId")?.unwrap_or_default();
    match functions::call::<bool>(PAY, (order_id,)) {
        Ok(true) => {
            state_machine::transition(MACHINE, "paid")?;
            vars::set("paid", &true)
        }
        Ok(false) => vars::set("lastError", "payment declined"),
        Err(e) => vars::set("lastError", &e.message),
    }
}

fn state() -> String {
    state_machine::current(MACHINE).unwrap_or_default()
}
