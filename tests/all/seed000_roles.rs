//! Seed 000's two roles: the application developer publishes, the service user runs. A
//! service user's token walks every `/serviceUser/…` and instance route and is refused,
//! in the seed's `{"errmsg"}` shape, on every developer route; nothing it is refused
//! changes anything.

use reqwest::Method;
use serde_json::{Value, json};

use crate::seed000::{shop, var_list};
use crate::server::{ADMIN_TOKEN, TestServer};

/// Issues a token of `role` for app 1 with the admin token; returns it and its id.
async fn issue(server: &TestServer, role: Option<&str>) -> anyhow::Result<(String, i64, Value)> {
    let request = server.with_token(ADMIN_TOKEN, Method::POST, "/v1/apps/1/tokens");
    let request = match role {
        Some(role) => request.json(&json!({ "role": role })),
        None => request,
    };
    let answer = request.send().await?;
    assert_eq!(answer.status(), 201);
    let body: Value = answer.json().await?;
    let token = body["token"].as_str().unwrap_or_default().to_string();
    Ok((token, body["id"].as_i64().unwrap_or_default(), body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_user_runs_published_services_and_is_refused_a_developers_routes() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let bin_id = shop(&server).await?;
    for (alias, category) in [("shop-dyn", 1), ("shop-static", 0)] {
        let publish = json!({"appKey": 1, "alias": alias, "category": category, "binId": bin_id});
        let published = server.as_app(Method::POST, "/serviceDeveloper/publish").json(&publish).send().await?;
        assert_eq!(published.status(), 200);
    }
    let (user, user_id, issued) = issue(&server, Some("service_user")).await?;
    assert_eq!(issued["role"], "service_user");
    let (_, _, default) = issue(&server, None).await?;
    assert_eq!(default["role"], "developer", "a token without options is the developer's");
    let listed: Value = server.with_token(ADMIN_TOKEN, Method::GET, "/v1/apps/1/tokens").send().await?.json().await?;
    let roles: Vec<&str> =
        listed["items"].as_array().into_iter().flatten().filter_map(|t| t["role"].as_str()).collect();
    assert!(roles.contains(&"service_user") && roles.contains(&"developer"), "{listed}");

    // The service user's side of the seed.
    let created = server
        .with_token(&user, Method::POST, "/serviceUser/instance/create")
        .json(&json!({"alias": "shop-dyn"}))
        .send()
        .await?;
    assert_eq!(created.status(), 200);
    let created: Value = created.json().await?;
    let id = created["executeInstanceId"].as_str().unwrap_or_default().to_string();
    let run = json!({"executeInstanceId": id, "param": var_list("item", json!("apple")), "version": "1"});
    let ran: Value = server
        .with_token(&user, Method::POST, "/serviceUser/serviceUser/dynamicFlow/run")
        .json(&run)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(ran, json!({"status": "running"}));
    let put = json!({"executeInstanceId": id, "updateVarInfo": var_list("amount", json!(2.5))});
    let put_answer = server.with_token(&user, Method::PUT, "/instance").json(&put).send().await?;
    assert_eq!(put_answer.status(), 200);
    let queried: Value = server
        .with_token(&user, Method::GET, &format!("/instance?executeInstanceId={id}"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(queried["variables"]["state"]["data"], "ordered");
    let path = server
        .with_token(&user, Method::GET, &format!("/instance/path?executeInstanceId={id}&stateMachineNo=1"))
        .send()
        .await?;
    assert_eq!(path.json::<Value>().await?, json!("cart->ordered"));
    let static_run = json!({"alias": "shop-static", "param": var_list("item", json!("pear")), "version": "1"});
    let ran: Value = server
        .with_token(&user, Method::POST, "/serviceUser/flowService/run")
        .json(&static_run)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(ran["status"], "running");
    // And the native routes for the same things.
    let native =
        server.with_token(&user, Method::POST, "/v1/services/shop-dyn/instances").json(&json!({})).send().await?;
    assert_eq!(native.status(), 201, "{}", native.text().await?);
    let native_get = server.with_token(&user, Method::GET, &format!("/v1/instances/{id}")).send().await?;
    assert_eq!(native_get.status(), 200);

    // Every developer route refuses it: 403, in the seed's shape on the seed's routes.
    let developer_seed_routes = [
        ("/instance", json!({"binId": bin_id})),
        ("/serviceDeveloper/publish", json!({"appKey": 1, "alias": "mine", "category": 1, "binId": bin_id})),
        ("/serviceDeveloper/revoke", json!({"appKey": 1, "alias": "shop-dyn", "category": 1})),
    ];
    for (route, body) in developer_seed_routes {
        let refused = server.with_token(&user, Method::POST, route).json(&body).send().await?;
        assert_eq!(refused.status(), 403, "{route}");
        let refused: Value = refused.json().await?;
        let errmsg = refused["errmsg"].as_str().unwrap_or_default();
        assert!(errmsg.contains("service user"), "{route}: {refused}");
        assert_eq!(refused.as_object().map(|o| o.len()), Some(1), "only `errmsg`: {refused}");
    }
    let wasm = cloudexec_tests::guest_bytes("hello")?;
    let native_refusals = [
        (Method::POST, "/v1/functions?name=mine".to_string(), Some(wasm.clone())),
        (Method::GET, "/v1/functions".to_string(), None),
        (Method::POST, "/v1/bins".to_string(), Some(wasm)),
        (Method::POST, "/v1/services".to_string(), None),
        (Method::DELETE, "/v1/services/shop-dyn".to_string(), None),
        (Method::PUT, "/v1/bindings/some.key".to_string(), None),
        (Method::POST, "/v1/instances".to_string(), None),
        (Method::POST, "/v1/flows?name=f".to_string(), None),
    ];
    for (method, route, body) in native_refusals {
        let request = server.with_token(&user, method.clone(), &route);
        let request = match body {
            Some(bytes) => request.header("content-type", "application/wasm").body(bytes),
            None => request.json(&json!({"function": "x", "binId": bin_id, "alias": "a", "category": 0})),
        };
        let refused = request.send().await?;
        assert_eq!(refused.status(), 403, "{method} {route}");
        let refused: Value = refused.json().await?;
        assert_eq!(refused["code"], "AccessDenied", "{method} {route}: {refused}");
    }

    // Nothing it was refused happened: the service is still published and runs.
    let still =
        server.as_app(Method::POST, "/serviceUser/instance/create").json(&json!({"alias": "shop-dyn"})).send().await?;
    assert_eq!(still.status(), 200, "the refused revoke changed nothing");
    let functions: Value = server.as_app(Method::GET, "/v1/functions").send().await?.json().await?;
    assert!(!functions.to_string().contains("\"mine\""), "{functions}");

    // Another app's service user sees none of app 1's instances; a revoked token is refused.
    let (other_key, _) = server.new_app("b").await?;
    let other_user: Value = server
        .with_token(ADMIN_TOKEN, Method::POST, &format!("/v1/apps/{other_key}/tokens"))
        .json(&json!({"role": "service_user"}))
        .send()
        .await?
        .json()
        .await?;
    let other_user = other_user["token"].as_str().unwrap_or_default();
    let foreign =
        server.with_token(other_user, Method::GET, &format!("/instance?executeInstanceId={id}")).send().await?;
    assert_eq!(foreign.status(), 404);
    let revoked =
        server.with_token(ADMIN_TOKEN, Method::DELETE, &format!("/v1/apps/1/tokens/{user_id}")).send().await?;
    assert_eq!(revoked.status(), 204);
    let after = server.with_token(&user, Method::GET, &format!("/instance?executeInstanceId={id}")).send().await?;
    assert_eq!(after.status(), 401);
    assert!(after.json::<Value>().await?["errmsg"].is_string(), "a refused token in the seed's shape too");
    let bad_role = server
        .with_token(ADMIN_TOKEN, Method::POST, "/v1/apps/1/tokens")
        .json(&json!({"role": "owner"}))
        .send()
        .await?;
    assert_eq!(bad_role.status(), 400);
    server.stop().await?;
    Ok(())
}
