//! `payOrder` (key `utcook.jar:com.ut.BuzMethod.payOrder`) of the `shop` bin.
//!
//! Parameters `[order_id: string]` → `true` if it is an order id the shop issued.

use cloudexec_sdk::{Error, function};

#[function]
fn pay_order((order_id,): (String,)) -> Result<bool, Error> {
    Ok(order_id.starts_with("order-"))
}
