//! `shoppingCart` (key `utcook.jar:com.ut.BuzMethod.shoppingCart`) of the `shop` bin.
//!
//! Parameters `[item: string]` → `true` if the item can go into the cart: anything but
//! an empty name or `"sold-out"`.

use cloudexec_sdk::{Error, function};

/// Positional parameters arrive as a JSON array, so a tuple takes them apart.
#[function]
fn shopping_cart((item,): (String,)) -> Result<bool, Error> {
    Ok(!item.is_empty() && item != "sold-out")
}
