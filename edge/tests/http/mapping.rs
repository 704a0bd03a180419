//! How HTTP requests become request messages and replies become JSON, seen
//! through the echo upstream: it answers with the message the edge built.

use serde_json::{Value, json};

use crate::support::{Edge, start_echo_upstream, upstream, violated_field};

async fn echo_edge() -> (testkit::Spawned, Edge) {
    let echo = start_echo_upstream().await;
    let edge = Edge::start_echo(vec![upstream("echo", echo.url())]).await;
    (echo, edge)
}

#[tokio::test]
async fn path_variables_fill_fields_including_nested_and_multi_segment_ones() {
    let (_echo, edge) = echo_edge().await;

    let body = edge.get("/v1/echo/abc%20def").send().await.expect(200);
    assert_eq!(body["id"], "abc def");

    let body = edge
        .get("/v1/shelves/s1/books/b-7")
        .send()
        .await
        .expect(200);
    assert_eq!(body["shelf"]["name"], "shelves/s1");
    assert_eq!(body["book_id"], "b-7");

    let body = edge.get("/v1/files/a/b/c.txt").send().await.expect(200);
    assert_eq!(body["path"], "a/b/c.txt");

    let body = edge
        .post("/v1/echo/xyz:touch")
        .json(&json!({"big": 1}))
        .send()
        .await
        .expect(200);
    assert_eq!(body["id"], "xyz");
    assert_eq!(body["big"], 1);
}

#[tokio::test]
async fn query_parameters_fill_the_rest_repeated_and_nested() {
    let (_echo, edge) = echo_edge().await;
    let body = edge
        .get(
            "/v1/echo/q?tags=a&tags=b%20c&inner.note=hi&inner.numbers=1&inner.numbers=2\
             &inner.child.note=deep&colors=red&colors=COLOR_DARK_BLUE&flag=true\
             &big=9007199254740993&at=2030-01-02T03:04:05Z&maybe=0&ratio=0.5",
        )
        .send()
        .await
        .expect(200);
    assert_eq!(body["id"], "q");
    assert_eq!(body["tags"], json!(["a", "b c"]));
    assert_eq!(body["inner"]["note"], "hi");
    assert_eq!(body["inner"]["numbers"], json!([1, 2]));
    assert_eq!(body["inner"]["child"]["note"], "deep");
    assert_eq!(body["colors"], json!(["RED", "DARK_BLUE"]));
    assert_eq!(body["flag"], true);
    // 64-bit integers are JSON numbers, exactly.
    assert_eq!(body["big"].as_u64(), Some(9_007_199_254_740_993));
    assert_eq!(body["at"], "2030-01-02T03:04:05Z");
    assert_eq!(body["maybe"], 0);
    assert_eq!(body["ratio"], 0.5);

    // The path wins over a query parameter for the same field.
    let body = edge.get("/v1/echo/p?id=q").send().await.expect(200);
    assert_eq!(body["id"], "p");
}

#[tokio::test]
async fn bodies_fill_the_whole_message_or_one_field_as_json_or_form() {
    let (_echo, edge) = echo_edge().await;

    let body = edge
        .post("/v1/echo")
        .json(&json!({
            "id": "j",
            "inner": {"note": "n", "color": "dark_blue", "numbers": [3]},
            "colors": ["Red"],
            "at": "2030-01-02T10:04:05+07:00",
        }))
        .send()
        .await
        .expect(200);
    assert_eq!(body["id"], "j");
    assert_eq!(body["inner"]["color"], "DARK_BLUE");
    assert_eq!(body["inner"]["numbers"], json!([3]));
    assert_eq!(body["colors"], json!(["RED"]));
    // RFC 3339 in, RFC 3339 (UTC) out.
    assert_eq!(body["at"], "2030-01-02T03:04:05Z");

    let body = edge
        .post("/v1/echo")
        .form("id=f&tags=x&tags=y&inner.note=from%20a%20form&color=red")
        .send()
        .await
        .expect(200);
    assert_eq!(body["id"], "f");
    assert_eq!(body["tags"], json!(["x", "y"]));
    assert_eq!(body["inner"]["note"], "from a form");
    assert_eq!(body["color"], "RED");

    // `body: "inner"`: the body is that field; the rest from path and query.
    let body = edge
        .call(http::Method::PUT, "/v1/echo/i/inner?tags=t")
        .json(&json!({"note": "only inner"}))
        .send()
        .await
        .expect(200);
    assert_eq!(body["id"], "i");
    assert_eq!(body["inner"]["note"], "only inner");
    assert_eq!(body["tags"], json!(["t"]));

    // An empty body is an empty message, as `curl -X POST` sends it.
    let body = edge.post("/v1/echo").send().await.expect(200);
    assert_eq!(body["id"], "");
}

#[tokio::test]
async fn replies_have_every_field_and_short_enum_names() {
    let (_echo, edge) = echo_edge().await;
    let body = edge.get("/v1/echo/e").send().await.expect(200);
    // Defaults are written out; unset messages and optionals are null.
    assert_eq!(body["big"], 0);
    assert_eq!(body["tags"], json!([]));
    assert_eq!(body["color"], "UNSPECIFIED");
    assert_eq!(body["flag"], false);
    assert_eq!(body["inner"], Value::Null);
    assert_eq!(body["at"], Value::Null);
    assert_eq!(body["maybe"], Value::Null);
    assert!(body.get("bookId").is_none(), "proto names only: {body}");
    assert_eq!(body["book_id"], "");
}

#[tokio::test]
async fn response_body_answers_a_bare_array() {
    let (_echo, edge) = echo_edge().await;
    let body = edge.get("/v1/tags?tags=a&tags=b").send().await.expect(200);
    assert_eq!(body, json!(["a", "b"]));
}

#[tokio::test]
async fn enum_values_are_accepted_either_way_and_unknown_ones_refused() {
    let (_echo, edge) = echo_edge().await;
    for given in ["red", "RED", "color_red", "COLOR_RED", "Color_Red"] {
        let body = edge
            .post("/v1/echo")
            .json(&json!({"color": given}))
            .send()
            .await
            .expect(200);
        assert_eq!(body["color"], "RED", "{given}");
    }
    let reply = edge
        .post("/v1/echo")
        .json(&json!({"inner": {"color": "purple"}}))
        .send()
        .await;
    let body = reply.expect_error(400, tonic::Code::InvalidArgument);
    assert_eq!(violated_field(&body), "inner.color");
    assert!(
        body["message"].as_str().unwrap().contains("DARK_BLUE"),
        "{body}"
    );

    let reply = edge.get("/v1/echo/x?colors=red&colors=mauve").send().await;
    let body = reply.expect_error(400, tonic::Code::InvalidArgument);
    assert_eq!(violated_field(&body), "colors");
}

#[tokio::test]
async fn server_streams_are_newline_delimited_json() {
    let (_echo, edge) = echo_edge().await;
    let reply = edge.get("/v1/watch?id=w&color=red").send().await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/x-ndjson"));
    let lines: Vec<Value> = reply
        .text()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{}", reply.text());
    for line in lines {
        assert_eq!(line["result"]["id"], "w");
        assert_eq!(line["result"]["color"], "RED");
    }
}

/// HEAD is GET without the content (RFC 9110 §9.3.2): the same status and
/// headers, the length the content would have had, and no content.
#[tokio::test]
async fn head_answers_as_get_without_the_content() {
    let (_echo, edge) = echo_edge().await;
    let get = edge
        .get("/v1/echo/h?big=5")
        .header("x-request-id", "head-test")
        .send()
        .await;
    assert_eq!(get.status, 200, "{}", get.text());
    let length = get.body.len().to_string();
    for http2 in [false, true] {
        let mut call = edge
            .call(http::Method::HEAD, "/v1/echo/h?big=5")
            .header("x-request-id", "head-test");
        if http2 {
            call = call.http2();
        }
        let head = call.send().await;
        assert_eq!(head.status, 200, "over HTTP/2: {http2}");
        assert!(head.body.is_empty(), "{}", head.text());
        assert_eq!(head.header("content-type"), Some("application/json"));
        assert_eq!(head.header("content-length"), Some(length.as_str()));
        assert_eq!(head.header("x-request-id"), Some("head-test"));
    }
    // An error keeps its status: a bad argument is still a 400.
    let head = edge
        .call(http::Method::HEAD, "/v1/echo/h?big=x")
        .send()
        .await;
    assert_eq!(head.status, 400);
    assert!(head.body.is_empty());
    // Only GET routes answer HEAD.
    let head = edge.call(http::Method::HEAD, "/v1/echo").send().await;
    assert_eq!(head.status, 405);
    assert_eq!(head.header("allow"), Some("POST"));
}

#[tokio::test]
async fn http2_without_tls_is_served_too() {
    let (_echo, edge) = echo_edge().await;
    let reply = edge.get("/v1/echo/h2").http2().send().await;
    assert_eq!(reply.version, http::Version::HTTP_2);
    assert_eq!(reply.expect(200)["id"], "h2");
}
