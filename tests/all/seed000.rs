//! Seed 000 compatibility: the seed's URLs, methods, field names and example bodies
//! (JSON syntax errors of the document fixed), over a real server.

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::TestServer;

const KEY: &str = "utcook.jar:com.ut.BuzMethod";

/// Deploys and binds the shop's functions, uploads the shop bin; returns its binId.
pub(crate) async fn shop(server: &TestServer) -> anyhow::Result<String> {
    for (name, guest, key) in
        [("cart", "shop-cart", "shoppingCart"), ("order", "shop-order", "order"), ("pay", "shop-pay", "payOrder")]
    {
        server.deploy(name, guest).await?.error_for_status()?;
        server
            .as_app(Method::PUT, &format!("/v1/bindings/{KEY}.{key}"))
            .json(&json!({"function": name}))
            .send()
            .await?
            .error_for_status()?;
    }
    server.upload_bin("shop").await
}

pub(crate) fn var_list(key: &str, data: Value) -> Value {
    json!({"varList": [{"varPtr": {"variableKey": key}, "object": {"data": data}}]})
}

async fn put_run(server: &TestServer, id: &str, info: Value) -> anyhow::Result<Value> {
    let body = json!({"executeInstanceId": id, "updateVarInfo": info});
    Ok(server.as_app(Method::PUT, "/instance").json(&body).send().await?.error_for_status()?.json().await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_walks_the_shop_over_the_seed_routes() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let bin_id = shop(&server).await?;
    let created: Value =
        server.as_app(Method::POST, "/instance").json(&json!({"binId": bin_id})).send().await?.json().await?;
    let id = created["executeInstanceId"].as_str().unwrap_or_default().to_string();
    let app_data: Value = serde_json::from_str(created["appData"].as_str().unwrap_or_default())?;
    assert_eq!(app_data["executionData"]["appFunction"][0]["functionKey"], format!("{KEY}.shoppingCart"));
    assert_eq!(app_data["executionData"]["appFunction"][0]["paramsTypelist"], "[string]");

    // Seed 3.3's example body, verbatim but for its trailing comma.
    let seed_body = json!({"varList": [{"varPtr": {"variableKey": "1"}, "object": {"data": 1, "len": 4, "type": 64}}]});
    assert_eq!(put_run(&server, &id, seed_body).await?, json!({"status": "running"}));
    let wrong_len = json!({"varList": [{"varPtr": {"variableKey": "1"}, "object": {"data": 2, "len": 3, "type": 64}}]});
    let refused = server
        .as_app(Method::PUT, "/instance")
        .json(&json!({"executeInstanceId": id, "updateVarInfo": wrong_len}))
        .send()
        .await?;
    assert_eq!(refused.status(), 400);
    let refused: Value = refused.json().await?;
    assert!(refused["errmsg"].as_str().unwrap_or_default().contains("does not fit type 64"), "{refused}");
    put_run(&server, &id, var_list("item", json!("apple"))).await?;
    put_run(&server, &id, var_list("amount", json!(2.5))).await?;
    put_run(&server, &id, var_list("pay", json!(true))).await?;

    let path =
        server.as_app(Method::GET, &format!("/instance/path?executeInstanceId={id}&stateMachineNo=1")).send().await?;
    assert_eq!(path.json::<Value>().await?, json!("cart->ordered->paid"));
    let queried: Value =
        server.as_app(Method::GET, &format!("/instance?executeInstanceId={id}")).send().await?.json().await?;
    assert_eq!(queried["variables"]["1"], json!({"data": 1, "len": 4, "type": 64}));
    assert_eq!(queried["status"], "idle");

    // The seed lists `executeInstanceId` among DELETE's body parameters.
    let spare: Value =
        server.as_app(Method::POST, "/instance").json(&json!({"binId": bin_id})).send().await?.json().await?;
    let spare = spare["executeInstanceId"].as_str().unwrap_or_default().to_string();
    let by_body = server.as_app(Method::DELETE, "/instance").json(&json!({"executeInstanceId": spare})).send().await?;
    assert_eq!(by_body.status(), 200);
    let gone = server.as_app(Method::GET, &format!("/instance?executeInstanceId={spare}")).send().await?;
    assert_eq!(gone.status(), 404);
    let neither = server.as_app(Method::DELETE, "/instance").send().await?;
    assert_eq!(neither.status(), 400);
    assert!(neither.json::<Value>().await?["errmsg"].as_str().unwrap_or_default().contains("executeInstanceId"));
    let destroyed = server.as_app(Method::DELETE, &format!("/instance?executeInstanceId={id}")).send().await?;
    assert_eq!(destroyed.status(), 200);
    let gone = server.as_app(Method::GET, &format!("/instance?executeInstanceId={id}")).send().await?;
    assert_eq!(gone.status(), 404);
    assert_eq!(gone.json::<Value>().await?, json!({"errmsg": "不存在该实例"}));
    let run_gone = server
        .as_app(Method::PUT, "/instance")
        .json(&json!({"executeInstanceId": id, "updateVarInfo": {"varList": []}}))
        .send()
        .await?;
    assert_eq!(run_gone.status(), 404);
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_publish_run_as_static_and_dynamic_flows_and_revoke() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let bin_id = shop(&server).await?;
    let publish =
        |alias: &str, category: i64| json!({"appKey": 1, "alias": alias, "category": category, "binId": bin_id});
    let ok = server.as_app(Method::POST, "/serviceDeveloper/publish").json(&publish("shop-dyn", 1)).send().await?;
    assert_eq!(ok.status(), 200);
    let twice = server.as_app(Method::POST, "/serviceDeveloper/publish").json(&publish("shop-dyn", 1)).send().await?;
    assert_eq!(twice.status(), 409);
    assert!(twice.json::<Value>().await?["errmsg"].as_str().unwrap_or_default().contains("already exists"));
    let bad_alias =
        server.as_app(Method::POST, "/serviceDeveloper/publish").json(&publish("no spaces", 1)).send().await?;
    assert_eq!(bad_alias.status(), 400);
    let other_app = server
        .as_app(Method::POST, "/serviceDeveloper/publish")
        .json(&json!({"appKey": 7, "alias": "x", "category": 0, "binId": bin_id}))
        .send()
        .await?;
    assert_eq!(other_app.status(), 403);

    let created: Value = server
        .as_app(Method::POST, "/serviceUser/instance/create")
        .json(&json!({"alias": "shop-dyn"}))
        .send()
        .await?
        .json()
        .await?;
    let id = created["executeInstanceId"].as_str().unwrap_or_default().to_string();
    // Seed 3.10's body shape, with `param` as an object and as a JSON string.
    let as_written = json!({"executeInstanceId": id, "param": var_list("item", json!("apple")), "version": "1"});
    let answer: Value = server
        .as_app(Method::POST, "/serviceUser/serviceUser/dynamicFlow/run")
        .json(&as_written)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(answer, json!({"status": "running"}));
    let as_string =
        json!({"executeInstanceId": id, "param": var_list("amount", json!(2.5)).to_string(), "version": "1"});
    let answer: Value =
        server.as_app(Method::POST, "/serviceUser/dynamicFlow/run").json(&as_string).send().await?.json().await?;
    assert_eq!(answer, json!({"status": "running"}));
    let queried: Value =
        server.as_app(Method::GET, &format!("/instance?executeInstanceId={id}")).send().await?.json().await?;
    assert_eq!(queried["variables"]["state"]["data"], "ordered");

    server
        .as_app(Method::POST, "/serviceDeveloper/publish")
        .json(&publish("shop-static", 0))
        .send()
        .await?
        .error_for_status()?;
    let static_run = json!({"alias": "shop-static", "param": var_list("item", json!("pear")), "version": "1"});
    let ran: Value =
        server.as_app(Method::POST, "/serviceUser/flowService/run").json(&static_run).send().await?.json().await?;
    assert_eq!(ran["status"], "running");
    let kept = ran["executeInstanceId"].as_str().unwrap_or_default();
    let inspected: Value =
        server.as_app(Method::GET, &format!("/instance?executeInstanceId={kept}")).send().await?.json().await?;
    assert_eq!(inspected["variables"]["item"]["data"], "pear", "the static run's instance is kept");
    let wrong_kind = server
        .as_app(Method::POST, "/serviceUser/instance/create")
        .json(&json!({"alias": "shop-static"}))
        .send()
        .await?;
    assert_eq!(wrong_kind.status(), 400);

    let revoke = json!({"appKey": 1, "alias": "shop-dyn", "category": 1});
    assert_eq!(server.as_app(Method::POST, "/serviceDeveloper/revoke").json(&revoke).send().await?.status(), 200);
    let after = server.as_app(Method::POST, "/serviceUser/dynamicFlow/run").json(&as_written).send().await?;
    assert_eq!(after.status(), 400);
    assert!(after.json::<Value>().await?["errmsg"].as_str().unwrap_or_default().contains("revoked"));
    let unknown = server
        .as_app(Method::POST, "/serviceUser/flowService/run")
        .json(&json!({"alias": "nope", "param": {}}))
        .send()
        .await?;
    assert_eq!(unknown.status(), 404);
    let queried_again: Value =
        server.as_app(Method::GET, &format!("/instance?executeInstanceId={id}")).send().await?.json().await?;
    assert_eq!(queried_again["variables"]["state"]["data"], "ordered", "nothing changed by the refused run");

    let (_, other) = server.new_app("b").await?;
    let foreign = server.with_token(&other, Method::GET, &format!("/instance?executeInstanceId={id}")).send().await?;
    assert_eq!(foreign.status(), 404);
    assert_eq!(foreign.json::<Value>().await?, json!({"errmsg": "不存在该实例"}));
    server.stop().await?;
    Ok(())
}
