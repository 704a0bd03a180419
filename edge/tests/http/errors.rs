//! Errors as google.rpc.Status JSON with the HTTP status of DESIGN.md §2,
//! and no request that makes the edge answer 500.

use serde_json::json;
use testkit::TestAuth;
use tonic::Code;

use crate::support::{Edge, start_echo_upstream, upstream, violated_field};

async fn auth_edge() -> (TestAuth, Edge) {
    let auth = TestAuth::start().await;
    let edge = Edge::start(vec![upstream("auth", auth.url())]).await;
    (auth, edge)
}

#[tokio::test]
async fn bad_bodies_are_400_naming_the_field() {
    let (_auth, edge) = auth_edge().await;

    let reply = edge
        .post("/api/register")
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await;
    let body = reply.expect_error(400, Code::InvalidArgument);
    assert_eq!(violated_field(&body), "body");

    let reply = edge
        .post("/api/register")
        .json(&json!({"email": "a@example.com", "password": 12345678}))
        .send()
        .await;
    let body = reply.expect_error(400, Code::InvalidArgument);
    assert_eq!(violated_field(&body), "password");

    let reply = edge
        .post("/api/register")
        .json(&json!({"email": "a@example.com", "is_admin": true}))
        .send()
        .await;
    let body = reply.expect_error(400, Code::InvalidArgument);
    assert_eq!(violated_field(&body), "is_admin");

    let reply = edge.post("/api/register").json(&json!([1, 2])).send().await;
    let body = reply.expect_error(400, Code::InvalidArgument);
    assert_eq!(violated_field(&body), "body");

    // A key given twice is not guessed at (serde_json alone keeps the last),
    // and nothing is registered.
    let reply = edge
        .post("/api/register")
        .header("content-type", "application/json")
        .body(
            r#"{"email": "first@example.com", "email": "second@example.com",
                "password": "long enough password", "display_name": "Twice"}"#,
        )
        .send()
        .await;
    let body = reply.expect_error(400, Code::InvalidArgument);
    assert_eq!(violated_field(&body), "body");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("\"email\" is given twice"), "{message}");
    edge.post("/api/register")
        .json(&json!({"email": "second@example.com", "password": "long enough password", "display_name": "Once"}))
        .send()
        .await
        .expect(200);

    let reply = edge.get("/api/users?page_size=lots").send().await;
    // Auth comes first: no token, no look at the parameters.
    reply.expect_error(401, Code::Unauthenticated);

    let reply = edge
        .post("/api/register")
        .header("content-type", "application/xml")
        .body("<register/>")
        .send()
        .await;
    reply.expect_error(415, Code::InvalidArgument);

    // A compressed body is refused, not read as JSON.
    let reply = edge
        .post("/api/register")
        .header("content-encoding", "gzip")
        .json(&json!({"email": "gzip@example.com", "password": "long enough password", "display_name": "Zip"}))
        .send()
        .await;
    let body = reply.expect_error(415, Code::InvalidArgument);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("gzip"),
        "{body}"
    );
    edge.post("/api/register")
        .header("content-encoding", "identity")
        .json(&json!({"email": "gzip@example.com", "password": "long enough password", "display_name": "Zip"}))
        .send()
        .await
        .expect(200);
}

#[tokio::test]
async fn service_errors_keep_their_field_violations_and_map_by_the_table() {
    let (_auth, edge) = auth_edge().await;
    let reply = edge
        .post("/api/register")
        .json(&json!({"email": "not an email", "password": "long enough password", "display_name": "X"}))
        .send()
        .await;
    let body = reply.expect_error(400, Code::InvalidArgument);
    assert_eq!(
        body["details"][0]["@type"],
        "type.googleapis.com/google.rpc.BadRequest"
    );
    assert_eq!(violated_field(&body), "email");

    let registration = json!({
        "email": "twice@example.com",
        "password": "long enough password",
        "display_name": "Twice",
    });
    edge.post("/api/register")
        .json(&registration)
        .send()
        .await
        .expect(200);
    let reply = edge.post("/api/register").json(&registration).send().await;
    reply.expect_error(409, Code::AlreadyExists);

    let reply = edge
        .post("/api/token")
        .form("username=twice%40example.com&password=wrong-password")
        .send()
        .await;
    reply.expect_error(401, Code::Unauthenticated);
}

#[tokio::test]
async fn upstream_details_from_any_service_are_decoded() {
    let echo = start_echo_upstream().await;
    let edge = Edge::start_echo(vec![upstream("echo", echo.url())]).await;
    let body = edge
        .get("/v1/echo/invalid")
        .send()
        .await
        .expect_error(400, Code::InvalidArgument);
    assert_eq!(violated_field(&body), "inner.note");
    assert_eq!(
        body["details"][0]["field_violations"][0]["description"],
        "must not be empty"
    );
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405_as_json() {
    let (_auth, edge) = auth_edge().await;
    edge.get("/api/nowhere")
        .send()
        .await
        .expect_error(404, Code::NotFound);
    edge.get("/").send().await.expect_error(404, Code::NotFound);

    let reply = edge.call(http::Method::DELETE, "/api/me").send().await;
    reply.expect_error(405, Code::Unimplemented);
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));

    let reply = edge.get("/api/token").send().await;
    reply.expect_error(405, Code::Unimplemented);
    assert_eq!(reply.header("allow"), Some("POST"));
    let reply = edge.call(http::Method::HEAD, "/api/token").send().await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("POST"));

    let reply = edge.post("/healthz").send().await;
    reply.expect_error(405, Code::Unimplemented);
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let auth = TestAuth::start().await;
    let edge = Edge::start_with(vec![upstream("auth", auth.url())], |config| {
        config.max_body_bytes = 4096;
    })
    .await;
    let big = json!({"email": "a@example.com", "display_name": "x".repeat(5000)});
    edge.post("/api/register")
        .json(&big)
        .send()
        .await
        .expect_error(413, Code::ResourceExhausted);

    // Without a Content-Length (HTTP/2, streamed) the limit holds as well.
    let reply = edge
        .post("/api/register")
        .http2()
        .header("content-type", "application/json")
        .body(big.to_string())
        .send()
        .await;
    reply.expect_error(413, Code::ResourceExhausted);
}

#[tokio::test]
async fn no_request_makes_the_edge_answer_500() {
    let (auth, edge) = auth_edge().await;
    let admin = auth.admin().await;
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let nested_object = format!(
        "{}{}",
        "{\"a\":".repeat(3000),
        "1".to_owned() + &"}".repeat(3000)
    );
    let hostile: Vec<(http::Method, String, Option<String>, Option<&str>)> = vec![
        (
            http::Method::POST,
            "/api/register".into(),
            Some(deep),
            Some("application/json"),
        ),
        (
            http::Method::POST,
            "/api/register".into(),
            Some(nested_object),
            Some("application/json"),
        ),
        (
            http::Method::POST,
            "/api/register".into(),
            Some("\u{0}\u{1}".into()),
            Some("application/json"),
        ),
        (
            http::Method::POST,
            "/api/register".into(),
            Some("{\"email\": \"\\ud800\"}".into()),
            Some("application/json"),
        ),
        (
            http::Method::POST,
            "/api/register".into(),
            Some("%%%&&&===".into()),
            Some("application/x-www-form-urlencoded"),
        ),
        (
            http::Method::POST,
            "/api/register".into(),
            Some("email=%FF%FE".into()),
            Some("application/x-www-form-urlencoded"),
        ),
        (
            http::Method::POST,
            "/api/register".into(),
            Some("{\"email\": 1e999999}".into()),
            Some("application/json"),
        ),
        (
            http::Method::POST,
            "/api/token".into(),
            Some("username=a&username=b".into()),
            Some("application/x-www-form-urlencoded"),
        ),
        (
            http::Method::POST,
            "/api/users/%FF/role".into(),
            Some("{}".into()),
            Some("application/json"),
        ),
        (
            http::Method::POST,
            "/api/users/x/role".into(),
            Some("{\"role\": 99999}".into()),
            Some("application/json"),
        ),
        (
            http::Method::GET,
            format!(
                "/api/users?page_size=99999999999999999999&{}",
                "x=1&".repeat(2000)
            ),
            None,
            None,
        ),
        (
            http::Method::GET,
            "/api/users?page_size=-1&page_token=%00".into(),
            None,
            None,
        ),
        (
            http::Method::GET,
            format!("/api/{}", "a/".repeat(2000)),
            None,
            None,
        ),
        (
            http::Method::GET,
            "/api/users?.=1&..=2&page_size.x=3".into(),
            None,
            None,
        ),
        (
            http::Method::PATCH,
            "/.well-known/jwks.json".into(),
            None,
            None,
        ),
    ];
    for (method, path, body, content_type) in hostile {
        let mut call = edge.call(method.clone(), &path).bearer(&admin.access_token);
        if let Some(content_type) = content_type {
            call = call.header("content-type", content_type);
        }
        if let Some(body) = body {
            call = call.body(body);
        }
        let reply = call.send().await;
        assert!(
            reply.status < 500,
            "{method} {}: {} {}",
            &path[..path.len().min(80)],
            reply.status,
            reply.text()
        );
        assert!(reply.json()["code"].is_number(), "{}", reply.text());
    }
    // Hostile headers.
    for (name, value) in [
        ("grpc-timeout", "99999999H"),
        ("grpc-timeout", "0n"),
        ("x-request-timeout", "1e308"),
        ("x-request-id", "has space"),
        ("authorization", "Bearer a.b.c"),
        ("authorization", "Basic Zm9vOmJhcg=="),
    ] {
        let reply = edge
            .get("/api/me")
            .header(name, value)
            .bearer(&admin.access_token)
            .send()
            .await;
        // A zero deadline is the caller's to ask for: 504, not a failure.
        assert!(
            reply.status < 500 || reply.status == 504,
            "{name}: {value}: {}",
            reply.text()
        );
        if reply.status >= 400 {
            assert!(reply.json()["code"].is_number(), "{}", reply.text());
        }
    }
}
