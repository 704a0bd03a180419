//! The TheMovieDB import through the edge, as an admin runs it with curl:
//! `POST /api/movies/import` answers the operation at once, and
//! `GET /api/operations/{id}` polls it to its end, routed to catalog-svc by
//! the catalog's declaration of the vendored `google.longrunning.Operations`
//! (`proto/kursi/catalog/v1/operations.proto`), against a fake TheMovieDB
//! that answers 429 with Retry-After.

use std::time::Duration;

use kursi_proto::access::v1::Role;
use serde_json::{Value, json};
use service_kit::config::Secret;
use testkit::tmdb::{Catalog, FakeTmdb, Route, Times};
use testkit::{TestAuth, TestDb, service_config};
use tonic::Code;

use crate::support::{Edge, upstream};

/// auth-svc, a fake TheMovieDB, catalog-svc on it, the edge in front, and
/// an admin's token.
struct Stack {
    auth: TestAuth,
    tmdb: FakeTmdb,
    edge: Edge,
    admin: String,
    _db: TestDb,
    _catalog: testkit::Spawned,
}

impl Stack {
    async fn start() -> Self {
        let auth = TestAuth::start().await;
        let tmdb = FakeTmdb::start(Catalog::generated(45)).await;
        let db = TestDb::new("catalog", &catalog_svc::MIGRATIONS).await;
        let mut config = catalog_svc::config::CatalogConfig::with_defaults(service_config(
            db.url(),
            &auth.url(),
        ));
        config.tmdb.base_url = tmdb.url();
        config.tmdb.api_token = Some(Secret::new(tmdb.token()));
        let catalog = testkit::spawn(move |l, s| catalog_svc::app::run(config, l, s)).await;
        let edge = Edge::start(vec![
            upstream("auth", auth.url()),
            upstream("catalog", catalog.url()),
        ])
        .await;
        let admin = auth.admin().await.access_token;
        Self {
            auth,
            tmdb,
            edge,
            admin,
            _db: db,
            _catalog: catalog,
        }
    }
}

/// GET `path` as `token` until `until` holds for the JSON, for at most 30 s.
async fn poll(edge: &Edge, path: &str, token: &str, until: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let body = edge.get(path).bearer(token).send().await.expect(200);
        if until(&body) {
            return body;
        }
        assert!(tokio::time::Instant::now() < deadline, "never: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_import_started_over_rest_is_polled_to_its_end_through_the_edge() {
    let stack = Stack::start().await;
    stack.tmdb.rate_limit(Route::popular(1), 2, Times::Next(1));
    let (edge, admin) = (&stack.edge, &stack.admin);
    let customer = stack.auth.sign_up(Role::Customer).await.access_token;

    let started = edge
        .post("/api/movies/import")
        .bearer(admin)
        .json(&json!({"page_count": 1}))
        .send()
        .await
        .expect(200);
    assert_eq!(started["done"], false, "{started}");
    let name = started["name"].as_str().unwrap().to_owned();
    assert!(name.starts_with("operations/"), "{started}");
    assert_eq!(
        started["metadata"]["@type"],
        "type.googleapis.com/kursi.catalog.v1.ImportMoviesMetadata"
    );
    let path = format!("/api/{name}");

    // While TheMovieDB asks to wait, the operation says until when.
    let waiting = poll(edge, &path, admin, |op| {
        op["metadata"]["waiting_until"].is_string()
    })
    .await;
    assert_eq!(waiting["done"], false);
    let message = waiting["metadata"]["status_message"].as_str().unwrap();
    assert!(
        message.starts_with("waiting on TheMovieDB until "),
        "{waiting}"
    );
    assert!(
        message.contains("GET /movie/popular?page=1 answered 429"),
        "{waiting}"
    );

    let done = poll(edge, &path, admin, |op| op["done"] == true).await;
    let response = &done["response"];
    assert_eq!(
        response["@type"],
        "type.googleapis.com/kursi.catalog.v1.ImportMoviesResponse"
    );
    assert_eq!(response["created_count"], 20, "{done}");
    assert!(done.get("error").is_none(), "{done}");
    assert_eq!(done["metadata"]["retries"], 1, "{done}");

    // As /openapi.json documents it, `/api/{name}`, a client sends the
    // slash in the name percent-encoded: the same operation.
    let encoded = format!("/api/{}", name.replace('/', "%2F"));
    let same = edge.get(&encoded).bearer(admin).send().await.expect(200);
    assert_eq!(same["name"], name, "{same}");
    // Only where a variable spans segments: elsewhere %2F stays in the value.
    let elsewhere = edge.get("/api/movies%2Fx").bearer(admin).send().await;
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.text());

    // The list, and the door: operations are for admins.
    let listed = edge
        .get("/api/operations")
        .bearer(admin)
        .send()
        .await
        .expect(200);
    assert_eq!(listed["operations"][0]["name"], name.as_str(), "{listed}");
    edge.get(&path)
        .bearer(&customer)
        .send()
        .await
        .expect_error(403, Code::PermissionDenied);
    edge.get(&path)
        .send()
        .await
        .expect_error(401, Code::Unauthenticated);
    // An import that succeeded cannot be cancelled any more.
    edge.post(&format!("{path}:cancel"))
        .bearer(admin)
        .send()
        .await
        .expect_error(400, Code::FailedPrecondition);
    // The vendored contract's own bindings are not served.
    assert_eq!(
        edge.get(&format!("/v1/{name}"))
            .bearer(admin)
            .send()
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn wait_and_cancel_answer_over_rest() {
    let stack = Stack::start().await;
    stack
        .tmdb
        .delay(Route::Details(None), Duration::from_millis(300));
    let (edge, admin) = (&stack.edge, &stack.admin);
    let started = edge
        .post("/api/movies/import")
        .bearer(admin)
        .send()
        .await
        .expect(200);
    let path = format!("/api/{}", started["name"].as_str().unwrap());

    let waited = edge
        .post(&format!("{path}:wait"))
        .bearer(admin)
        .json(&json!({"timeout": "0.2s"}))
        .send()
        .await
        .expect(200);
    assert_eq!(waited["done"], false, "{waited}");

    let cancelled = edge
        .post(&format!("{path}:cancel"))
        .bearer(admin)
        .send()
        .await
        .expect(200);
    assert_eq!(cancelled, json!({}));
    let done = edge
        .post(&format!("{path}:wait"))
        .bearer(admin)
        .json(&json!({"timeout": "20s"}))
        .send()
        .await
        .expect(200);
    assert_eq!(done["done"], true, "{done}");
    assert_eq!(done["error"]["code"], Code::Cancelled as i32, "{done}");
    assert_eq!(
        done["metadata"]["state"], "IMPORT_STATE_CANCELLED",
        "metadata is packed in an Any, written as proto3 JSON: {done}"
    );
}
