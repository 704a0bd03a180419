//! The auth contract through the edge, against a real auth-svc: the seed's
//! form login, bodies and replies, enums both ways, and auth at the door.

use kursi_proto::access::v1::Role;
use serde_json::{Value, json};
use testkit::{ADMIN_PASSWORD, TestAuth};
use tonic::Code;

use crate::support::{Edge, upstream};

async fn auth_edge() -> (TestAuth, Edge) {
    let auth = TestAuth::start().await;
    let edge = Edge::start(vec![upstream("auth", auth.url())]).await;
    (auth, edge)
}

#[tokio::test]
async fn register_then_sign_in_with_the_seed_form_and_read_me() {
    let (_auth, edge) = auth_edge().await;
    let user = edge
        .post("/api/register")
        .json(&json!({
            "email": "budi@example.com",
            "password": "budi's long password",
            "display_name": "Budi Santoso",
            "username": "budi",
        }))
        .send()
        .await
        .expect(200);
    // response_body: "user" answers the user itself.
    assert_eq!(user["email"], "budi@example.com");
    assert_eq!(user["role"], "CUSTOMER");
    assert_eq!(user["locked_until"], Value::Null);
    let created = user["create_time"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.contains('T'), "{created}");

    // The seed's `POST /api/token` form, as curl -d sends it.
    let token = edge
        .post("/api/token")
        .form("username=budi&password=budi%27s+long+password")
        .send()
        .await
        .expect(200);
    assert_eq!(token["token_type"], "bearer");
    assert!(token["expires_in"].is_u64(), "{token}");
    let access = token["access_token"].as_str().unwrap();

    // The OAuth2 password form with grant_type, and JSON at /api/login.
    edge.post("/api/token")
        .form("grant_type=password&username=budi%40example.com&password=budi%27s+long+password")
        .send()
        .await
        .expect(200);
    edge.post("/api/login")
        .json(&json!({"username": "budi", "password": "budi's long password"}))
        .send()
        .await
        .expect(200);

    // The token travels on to the service, which answers with its owner.
    let me = edge.get("/api/me").bearer(access).send().await.expect(200);
    assert_eq!(me["user_id"], user["user_id"]);
    assert_eq!(me["username"], "budi");
}

#[tokio::test]
async fn the_jwks_is_published_at_the_well_known_path() {
    let (_auth, edge) = auth_edge().await;
    let jwks = edge.get("/.well-known/jwks.json").send().await.expect(200);
    let keys = jwks["keys"].as_array().unwrap();
    assert!(!keys.is_empty(), "{jwks}");
    assert_eq!(keys[0]["kty"], "OKP");
    assert_eq!(keys[0]["alg"], "EdDSA");
    assert!(keys[0]["kid"].is_string());
}

#[tokio::test]
async fn the_door_answers_401_with_a_challenge_and_403_for_the_wrong_role() {
    let (auth, edge) = auth_edge().await;

    let reply = edge.get("/api/me").send().await;
    reply.expect_error(401, Code::Unauthenticated);
    let challenge = reply.header("www-authenticate").unwrap();
    assert!(challenge.starts_with("Bearer"), "{challenge}");

    let reply = edge.get("/api/me").bearer("not.a.token").send().await;
    reply.expect_error(401, Code::Unauthenticated);
    assert!(
        reply
            .header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );

    let reply = edge
        .get("/api/me")
        .header("authorization", "Basic YWRtaW46cGFzc3dvcmQxMjM=")
        .send()
        .await;
    reply.expect_error(401, Code::Unauthenticated);

    let customer = auth.sign_up(Role::Customer).await;
    let reply = edge
        .get("/api/users")
        .bearer(&customer.access_token)
        .send()
        .await;
    let body = reply.expect_error(403, Code::PermissionDenied);
    assert!(
        body["message"].as_str().unwrap().contains("ADMIN"),
        "{body}"
    );

    // A public method ignores a stale token, as the services do.
    edge.get("/.well-known/jwks.json")
        .bearer("not.a.token")
        .send()
        .await
        .expect(200);
}

#[tokio::test]
async fn the_door_checks_before_the_service_is_reached() {
    // No reservation-svc at all: the door still answers 401 and 403.
    let auth = TestAuth::start().await;
    let customer = auth.sign_up(Role::Customer).await;
    let edge = Edge::start(vec![
        upstream("auth", auth.url()),
        upstream("reservation", "http://127.0.0.1:9"),
    ])
    .await;
    edge.get("/api/stats")
        .send()
        .await
        .expect_error(401, Code::Unauthenticated);
    edge.get("/api/stats")
        .bearer(&customer.access_token)
        .send()
        .await
        .expect_error(403, Code::PermissionDenied);
    edge.get("/api/reservations")
        .bearer(&customer.access_token)
        .send()
        .await
        .expect_error(503, Code::Unavailable);
}

#[tokio::test]
async fn enums_go_in_either_way_and_come_out_short() {
    let (auth, edge) = auth_edge().await;
    let admin = edge
        .post("/api/token")
        .form(&format!("username=admin&password={ADMIN_PASSWORD}"))
        .send()
        .await
        .expect(200);
    let admin = admin["access_token"].as_str().unwrap().to_owned();
    let user = auth.sign_up(Role::Customer).await;
    let path = format!("/api/users/{}/role", user.user_id);

    for (given, shown) in [
        ("staff", "STAFF"),
        ("ROLE_ADMIN", "ADMIN"),
        ("Customer", "CUSTOMER"),
    ] {
        let body = edge
            .post(&path)
            .bearer(&admin)
            .json(&json!({ "role": given }))
            .send()
            .await
            .expect(200);
        assert_eq!(body["role"], shown, "{given}");
    }

    let body = edge
        .post(&path)
        .bearer(&admin)
        .json(&json!({ "role": "OWNER" }))
        .send()
        .await
        .expect_error(400, Code::InvalidArgument);
    assert_eq!(crate::support::violated_field(&body), "role");

    let users = edge
        .get("/api/users?page_size=1")
        .bearer(&admin)
        .send()
        .await
        .expect(200);
    assert_eq!(users["users"].as_array().unwrap().len(), 1);
    assert!(users["total_size"].is_u64(), "{users}");
}
