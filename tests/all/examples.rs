//! The examples behave as their READMEs say.

use cloudexec::engine::EngineError;
use serde_json::json;

use crate::support::{bin, function};

const CART: &str = "utcook.jar:com.ut.BuzMethod.shoppingCart";
const ORDER: &str = "utcook.jar:com.ut.BuzMethod.order";
const PAY: &str = "utcook.jar:com.ut.BuzMethod.payOrder";

#[test]
fn hello_greets_by_name_and_logs_a_line() -> anyhow::Result<()> {
    let hello = function("hello")?;
    let out = hello.invoke(json!({"name": "Ada"}));
    assert_eq!(out.result?, json!({"greeting": "Hello, Ada!"}));
    assert!(out.log.text.contains("[INFO] greeting Ada"), "log was {:?}", out.log.text);
    assert!(out.peak_memory_bytes > 0);
    let anonymous = hello.invoke(json!({}));
    assert_eq!(anonymous.result?, json!({"greeting": "Hello, world!"}));
    Ok(())
}

#[test]
fn hello_rejects_input_of_the_wrong_shape_as_a_guest_error() -> anyhow::Result<()> {
    let out = function("hello")?.invoke(json!({"name": 42}));
    match out.result {
        Err(EngineError::Guest { code, message }) => {
            assert_eq!(code, "InvalidArgument");
            assert!(message.contains("invalid input"), "{message}");
        }
        other => panic!("expected a guest error, got {other:?}"),
    }
    Ok(())
}

#[test]
fn shop_bin_declares_the_seed_functions_and_its_state_machine() -> anyhow::Result<()> {
    let shop = bin("shop")?;
    let manifest = &shop.module().manifest;
    let keys: Vec<_> = manifest.functions.iter().map(|f| f.function_key.as_str()).collect();
    assert_eq!(keys, [CART, ORDER, PAY]);
    assert_eq!(manifest.functions[1].params_typelist, ["string", "double"]);
    assert_eq!(manifest.functions[1].return_type, "string");
    assert_eq!(manifest.state_machines[0].states, ["cart", "ordered", "paid"]);
    Ok(())
}

#[test]
fn shop_walks_cart_ordered_paid_through_the_real_functions() -> anyhow::Result<()> {
    let shop = bin("shop")?;
    let mut instance = shop.instance();
    instance
        .bind(CART, &function("shop-cart")?)
        .bind(ORDER, &function("shop-order")?)
        .bind(PAY, &function("shop-pay")?);

    let run = instance.run(json!({"item": "apple"}))?;
    assert!(run.result.is_ok(), "{:?}", run.result);
    assert_eq!(instance.var("inCart"), Some(&json!(true)));
    assert_eq!(instance.current(1), Some("cart"));

    instance.run(json!({"amount": 2.5}))?.result?;
    assert_eq!(instance.var("orderId"), Some(&json!("order-apple-250")));
    assert_eq!(instance.current(1), Some("ordered"));

    let paid = instance.run(json!({"pay": true}))?;
    paid.result?;
    assert_eq!(instance.path(1), ["cart", "ordered", "paid"]);
    assert_eq!(instance.var("paid"), Some(&json!(true)));
    assert_eq!(instance.var("state"), Some(&json!("paid")));
    assert!(paid.log.text.contains(&format!("call {PAY:?} ok")), "{}", paid.log.text);
    let times: Vec<u64> = instance.state().machines[&1].path.iter().map(|p| p.at_ms).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "path timestamps ordered: {times:?}");
    Ok(())
}

#[test]
fn shop_keeps_its_state_when_a_called_function_fails() -> anyhow::Result<()> {
    let shop = bin("shop")?;
    let mut instance = shop.instance();
    instance.bind(CART, &function("shop-cart")?).bind(ORDER, &function("shop-order")?);
    instance.run(json!({"item": "pear"}))?.result?;
    let run = instance.run(json!({"amount": -1}))?;
    assert!(run.result.is_ok(), "the bin handles the failure itself: {:?}", run.result);
    assert_eq!(instance.var("lastError"), Some(&json!("amount must be positive")));
    assert_eq!(instance.path(1), ["cart"]);
    assert!(run.log.text.contains("failed"), "{}", run.log.text);
    Ok(())
}

#[test]
fn shop_reports_unbound_keys_to_the_bin_as_errors() -> anyhow::Result<()> {
    let shop = bin("shop")?;
    let mut instance = shop.instance();
    let run = instance.run(json!({"item": "apple"}))?;
    assert!(run.result.is_ok());
    let last_error = instance.var("lastError").and_then(|v| v.as_str()).unwrap_or_default();
    assert!(last_error.contains("no function is bound"), "{last_error}");
    Ok(())
}

#[test]
fn shop_accepts_the_seed_variable_shape_and_stores_unknown_keys() -> anyhow::Result<()> {
    let shop = bin("shop")?;
    let mut instance = shop.instance();
    let seed = json!({"varList": [{"varPtr": {"variableKey": "1"}, "object": {"data": 1, "len": 4, "type": 64}}]});
    instance.run(seed)?.result?;
    let stored = &instance.state().variables["1"];
    assert_eq!((stored.data.clone(), stored.len, stored.type_code), (json!(1), 4, 64));
    Ok(())
}

#[test]
fn flow_nodes_add_and_check_numbers() -> anyhow::Result<()> {
    let start = function("flow-start-node")?;
    assert_eq!(start.invoke(json!({"left": 512, "right": 512})).result?, json!({"result_number": 1024}));
    let end = function("flow-end-node")?;
    let ok = end.invoke(json!({"result_number": 1024, "expect_number": 1024})).result?;
    assert_eq!(ok["success"], json!(true));
    match end.invoke(json!({"result_number": 3, "expect_number": 4})).result {
        Err(EngineError::Guest { code, .. }) => assert_eq!(code, "Mismatch"),
        other => panic!("expected a mismatch, got {other:?}"),
    }
    Ok(())
}
