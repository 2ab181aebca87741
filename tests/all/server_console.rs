//! The console is served by the binary: `/` leads to it, its page and assets come with a
//! policy that keeps it to this server, and it names no external URL.

use reqwest::Method;

use crate::server::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_offline_from_the_binary() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    for from in ["/", "/console"] {
        let answer = no_redirects.get(server.url(from)).send().await?;
        assert_eq!(answer.status(), 303, "{from}");
        assert_eq!(answer.headers()["location"], "/console/", "{from}");
    }
    let mut texts = Vec::new();
    for (path, content_type) in
        [("/console/", "text/html"), ("/console/app.js", "text/javascript"), ("/console/app.css", "text/css")]
    {
        // The static shell needs no token.
        let answer = server.client.get(server.url(path)).send().await?;
        assert_eq!(answer.status(), 200, "{path}");
        assert!(answer.headers()["content-type"].to_str()?.starts_with(content_type), "{path}");
        let policy = answer.headers()["content-security-policy"].to_str()?.to_string();
        assert!(policy.contains("default-src 'none'") && policy.contains("connect-src 'self'"), "{policy}");
        texts.push(answer.text().await?);
    }
    // Nothing the page loads or calls is outside this server.
    for text in &texts {
        for scheme in ["http://", "https://", "//cdn", "ws://"] {
            assert!(!text.contains(scheme), "an external URL ({scheme}) in the console");
        }
    }
    assert!(texts[0].contains("/console/app.js") && texts[0].contains("/console/app.css"));
    // The page's data comes only through the API, with a token: none without one.
    assert_eq!(server.client.request(Method::GET, server.url("/v1/functions")).send().await?.status(), 401);
    server.stop().await?;
    Ok(())
}
