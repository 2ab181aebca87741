//! `cloudexec serve` as a real subprocess, and the CLI's bin commands as its client:
//! `bin upload`, `bind`, `instance create|run|get|path|destroy` walk the shop through
//! cart → ordered → paid over the app's cloud functions, and failures keep their exit codes.

mod common;

use anyhow::{Context, ensure};
use common::{Server, TOKEN, cloudexec, guest};
use serde_json::Value;

/// The shop's function keys, without the method.
const KEY: &str = "utcook.jar:com.ut.BuzMethod";

/// Uploads `guest` as a bin and creates an instance of it; returns (binId, executeInstanceId).
fn new_instance(server: &Server, guest_name: &str) -> anyhow::Result<(String, String)> {
    let uploaded = server.cli(&["bin", "upload", &guest(guest_name)?])?.expect(0)?;
    let bin_id = uploaded.value("bin: ")?;
    let created = server.cli(&["instance", "create", &bin_id])?.expect(0)?;
    Ok((bin_id, created.value("instance: ")?))
}

#[test]
fn the_shop_walks_cart_ordered_paid_through_the_cli() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("data"), dir.path(), Some(TOKEN), &[])?;

    for (name, guest_name, method) in
        [("cart", "shop-cart", "shoppingCart"), ("order", "shop-order", "order"), ("pay", "shop-pay", "payOrder")]
    {
        server.cli(&["deploy", &guest(guest_name)?, "--name", name])?.expect(0)?;
        let key = format!("{KEY}.{method}");
        server
            .cli(&["bind", &key, "--function", name])?
            .expect(0)?
            .shows(&[&format!("bound {key} to function {name}")])?;
    }

    let uploaded = server.cli(&["bin", "upload", &guest("shop")?])?.expect(0)?;
    let uploaded = uploaded.shows(&[
        &format!("{KEY}.shoppingCart  shoppingCart(string) -> bool"),
        &format!("{KEY}.order         order(string, double) -> string"),
        "1 order: states cart, ordered, paid; initial cart; cart -> ordered, ordered -> paid",
    ])?;
    let bin_id = uploaded.value("bin: ")?;
    ensure!(bin_id.len() == 36, "{uploaded:#?}");

    let created = server.cli(&["instance", "create", &bin_id])?.expect(0)?;
    let id = created.value("instance: ")?;
    ensure!(id.len() == 36 && id != bin_id, "{created:#?}");

    let cart = server.cli(&["instance", "run", &id, "--vars", r#"{"item":"apple"}"#])?.expect(0)?;
    cart.shows(&[
        "result: ok",
        "committed: yes",
        "runs: 1",
        r#"item = "apple" (type 66"#,
        "inCart = true (type 1, len 1)",
        "1: cart (path: cart)",
        "apple is in the cart",
        "peak memory:",
    ])?;
    let ordered = server.cli(&["instance", "run", &id, "--vars", r#"{"amount":2.5}"#])?.expect(0)?;
    let ordered = ordered.shows(&["result: ok", "amount = 2.5 (type 65", "1: ordered (path: cart -> ordered)"])?;
    ensure!(ordered.value("  orderId = ")?.starts_with('"'), "{ordered:#?}");
    let paid = server.cli(&["instance", "run", &id, "--vars", r#"{"pay":true}"#])?.expect(0)?;
    paid.shows(&[
        "result: ok",
        "runs: 3",
        "paid = true",
        r#"state = "paid""#,
        "1: paid (path: cart -> ordered -> paid)",
    ])?;

    let path = server.cli(&["instance", "path", &id, "--machine", "1"])?.expect(0)?;
    path.shows(&["state machine 1: paid", "path: cart -> ordered -> paid"])?;
    let json = server.cli(&["instance", "path", &id, "--machine", "1", "--json"])?.expect(0)?;
    let json: Value = serde_json::from_str(&json.stdout)?;
    let states: Vec<&str> = json["path"].as_array().into_iter().flatten().filter_map(|p| p["state"].as_str()).collect();
    assert_eq!(states, ["cart", "ordered", "paid"], "{json}");

    let got = server.cli(&["instance", "get", &id])?.expect(0)?;
    got.shows(&[&format!("instance: {id}"), &format!("bin: {bin_id}"), "status: idle", "runs: 3", "paid = true"])?;
    let got = server.cli(&["instance", "get", &id, "--json"])?.expect(0)?;
    let got: Value = serde_json::from_str(&got.stdout)?;
    assert_eq!((&got["runs"], &got["stateMachines"]["1"]["current"]), (&Value::from(3), &Value::from("paid")), "{got}");

    server.cli(&["instance", "destroy", &id])?.expect(0)?.shows(&[&format!("destroyed instance {id}")])?;
    let gone = server.cli(&["instance", "get", &id])?.expect(10)?;
    assert!(gone.stderr.contains("InstanceNotExists"), "{gone:#?}");
    server.cli(&["instance", "run", &id, "--vars", r#"{"pay":true}"#])?.expect(10)?;

    // The same bin as services: a dynamic flow's instances, a static flow's runs, a revoke.
    server.cli(&["service", "publish", "shop-dyn", &bin_id, "--flow", "dynamic"])?.expect(0)?;
    let dynamic = server.cli(&["service", "instance", "shop-dyn"])?.expect(0)?;
    let dynamic_id = dynamic.value("instance: ")?;
    server
        .cli(&["instance", "run", &dynamic_id, "--vars", r#"{"item":"pear"}"#])?
        .expect(0)?
        .shows(&["inCart = true"])?;
    server.cli(&["service", "publish", "shop-static", &bin_id, "--flow", "static"])?.expect(0)?;
    let once = server.cli(&["service", "run", "shop-static", "--vars", r#"{"item":"fig"}"#])?.expect(0)?;
    once.shows(&["result: ok", r#"item = "fig""#, "runs: 1"])?;
    server.cli(&["service", "publish", "shop-dyn", &bin_id, "--flow", "dynamic"])?.expect(8)?;
    server.cli(&["service", "revoke", "shop-dyn"])?.expect(0)?.shows(&["revoked shop-dyn"])?;
    let refused = server.cli(&["instance", "run", &dynamic_id, "--vars", r#"{"item":"kiwi"}"#])?.expect(7)?;
    assert!(refused.stderr.contains("revoked"), "{refused:#?}");
    server.cli(&["service", "run", "nope"])?.expect(10)?;
    server.cli(&["instance", "destroy", &id])?.expect(10)?;
    Ok(())
}

#[test]
fn failed_runs_and_refused_requests_have_their_exit_codes() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("data"), dir.path(), Some(TOKEN), &[])?;
    let (_, id) = new_instance(&server, "hostile-bin")?;

    server.cli(&["instance", "run", &id, "--vars", r#"{"incr":1}"#])?.expect(0)?.shows(&["counter = 1"])?;
    // The bin's own error: exit 1, and the state it chose is committed.
    let failed = server.cli(&["instance", "run", &id, "--vars", r#"{"fail":true}"#])?.expect(1)?;
    failed.shows(&["result: failed", "error: ", "(guest_error)", "committed: yes", "beforeFail = true", "runs: 2"])?;
    // A trap: exit 6, as `run-bin` gives locally, and nothing of the run is kept.
    let trapped = server.cli(&["instance", "run", &id, "--vars", r#"{"trap":true}"#])?.expect(6)?;
    let trapped = trapped.shows(&["result: failed", "(trap)", "committed: no", "runs: 2", "1: a (path: a)"])?;
    ensure!(!trapped.stdout.contains("touched"), "{trapped:#?}");
    let json = server.cli(&["instance", "run", &id, "--vars", r#"{"fail":true}"#, "--json"])?.expect(1)?;
    let json: Value = serde_json::from_str(&json.stdout)?;
    assert_eq!((&json["result"], &json["committed"]), (&Value::from("failed"), &Value::from(true)), "{json}");

    // Not found: instances, bins, state machines, functions to bind.
    let missing = "00000000-0000-4000-8000-000000000000";
    server.cli(&["instance", "get", missing])?.expect(10)?;
    server.cli(&["instance", "create", missing])?.expect(10)?;
    let machine = server.cli(&["instance", "path", &id, "--machine", "9"])?.expect(10)?;
    assert!(machine.stderr.contains("StateMachineNotExists"), "{machine:#?}");
    let unbound = server.cli(&["bind", "some.key", "--function", "missing"])?.expect(10)?;
    assert!(unbound.stderr.contains("FunctionNotExists"), "{unbound:#?}");

    // Invalid input.
    let bad = server.cli(&["instance", "run", &id, "--vars", "{nope"])?.expect(7)?;
    assert!(bad.stderr.contains("--vars is not valid JSON"), "{bad:#?}");
    server.cli(&["bind", "some.key", "--url", "ftp://example.com"])?.expect(7)?;
    server.cli(&["bind", "some.key"])?.expect(2)?;
    server.cli(&["bind", "some.key", "--function", "f", "--url", "http://x"])?.expect(2)?;
    let url = server.cli(&["bind", "some.key", "--url", "http://127.0.0.1:9/fn", "--json"])?.expect(0)?;
    let url: Value = serde_json::from_str(&url.stdout)?;
    assert_eq!(url["url"], "http://127.0.0.1:9/fn", "{url}");

    // A function component is not a bin; junk is not a component.
    let rejected = server.cli(&["bin", "upload", &guest("hello")?])?.expect(3)?;
    assert!(rejected.stderr.contains("error: "), "{rejected:#?}");
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"junk")?;
    server.cli(&["bin", "upload", junk.to_str().context("non-UTF-8 temp path")?])?.expect(3)?;

    // No token: the same message as the other client commands.
    let no_token =
        cloudexec(&["instance", "get", &id, "--server", &server.url, "--data-dir", "/nonexistent/data"])?.expect(7)?;
    assert!(no_token.stderr.contains("no token found"), "{no_token:#?}");
    let no_token =
        cloudexec(&["instance", "destroy", &id, "--server", &server.url, "--data-dir", "/nonexistent/data"])?;
    no_token.expect(7)?;
    Ok(())
}
