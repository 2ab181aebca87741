//! `order` (key `utcook.jar:com.ut.BuzMethod.order`) of the `shop` bin.
//!
//! Parameters `[item: string, amount: double]` → the order id `"order-<item>-<cents>"`;
//! an amount that is not positive is an `InvalidArgument` error.

use cloudexec_sdk::{Error, function};

#[function]
fn order((item, amount): (String, f64)) -> Result<String, Error> {
    if amount <= 0.0 {
        return Err(Error::new("InvalidArgument", "amount must be positive"));
    }
    let cents = (amount * 100.0).round() as i64;
    Ok(format!("order-{item}-{cents}"))
}
