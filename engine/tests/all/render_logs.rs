//! The log-rendering example (`examples/render-logs/`) end to end, against
//! nginx serving the example's auth answers and log shards.

use pappus_engine::{Engine, Limits};

use crate::support::*;

fn render_logs_engine() -> Engine {
    let engine = io_engine(|_| {});
    for f in ["access", "fan_out", "render"] {
        engine
            .register_function(f, &wasm(f), Limits::default())
            .unwrap();
    }
    let source =
        std::fs::read_to_string(repo_root().join("examples/render-logs/render-logs.pap")).unwrap();
    assert_eq!(
        engine.register_compositions(&source).unwrap(),
        ["RenderLogs"]
    );
    engine
}

fn page(engine: &Engine, server: &str, token: &str) -> pappus_engine::Result<String> {
    let request = format!("server: {server}\ntoken: {token}\n");
    let answer = engine.invoke(
        "RenderLogs",
        sets(&[("Request", vec![item("", 0, &request)])]),
    )?;
    let page = &answer.outputs["Page"];
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].name, "index.html");
    Ok(String::from_utf8(page[0].data.to_vec()).unwrap())
}

#[test]
fn renders_every_granted_shard_escaped() {
    let nginx = pappus_testkit::nginx_serving(&repo_root().join("examples/render-logs/www"));
    let engine = render_logs_engine();
    let html = page(&engine, &nginx.url(), "alice-7f3a").unwrap();
    assert!(html.contains("<h1>Logs for alice</h1>"), "{html}");
    assert!(
        html.contains("<p>3 shards, 14 lines, 2 errors, 3 warnings.</p>"),
        "{html}"
    );
    // Shards in the order the auth service listed them.
    let order: Vec<usize> = ["web-1.log", "web-2.log", "db-1.log"]
        .iter()
        .map(|s| html.find(&format!("<h2>/logs/{s}</h2>")).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    // Log text is escaped, never interpreted.
    assert!(html.contains("q=&lt;script&gt;"), "{html}");
    assert!(!html.contains("<script>"));
    assert!(html.contains("&quot;partner &amp; co&quot;"));
}

#[test]
fn a_missing_shard_and_a_refused_token_are_pages_not_failures() {
    let nginx = pappus_testkit::nginx_serving(&repo_root().join("examples/render-logs/www"));
    let engine = render_logs_engine();
    let bob = page(&engine, &nginx.url(), "bob-19c2").unwrap();
    assert!(
        bob.contains("<h2>/logs/archived.log</h2>\n<p class=\"missing\">unavailable: HTTP 404</p>"),
        "{bob}"
    );
    assert!(
        bob.contains("2 shards, 4 lines, 0 errors, 1 warnings."),
        "{bob}"
    );

    let nobody = page(&engine, &nginx.url(), "nobody").unwrap();
    assert!(nobody.contains("<h1>Access denied</h1>"), "{nobody}");
    assert!(nobody.contains("HTTP 404"), "{nobody}");
}

#[test]
fn bad_requests_and_a_dead_auth_service_fail_clearly() {
    let engine = render_logs_engine();
    let err = page(&engine, "http://127.0.0.1:1", "../../etc/passwd").unwrap_err();
    assert!(err.to_string().contains("`access`"), "{err}");
    assert!(err.to_string().contains("the token may hold only"), "{err}");

    let mut nginx = pappus_testkit::nginx_serving(&repo_root().join("examples/render-logs/www"));
    let url = nginx.url();
    nginx.stop();
    let err = page(&engine, &url, "alice-7f3a").unwrap_err();
    assert!(
        err.to_string().contains(&format!("{url}/auth/alice-7f3a")),
        "{err}"
    );

    // The engine keeps serving.
    let nginx = pappus_testkit::nginx_serving(&repo_root().join("examples/render-logs/www"));
    assert!(page(&engine, &nginx.url(), "alice-7f3a")
        .unwrap()
        .contains("Logs for alice"));
}
