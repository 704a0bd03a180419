//! Two auth-svc replicas starting at once on one database, as a fresh
//! deployment with two replicas does.

use kursi_proto::access::v1::Role;
use kursi_proto::auth::v1::auth_service_client::AuthServiceClient;
use kursi_proto::auth::v1::{GetMeRequest, LoginRequest};
use testkit::health::{ServingStatus, status};
use testkit::{ADMIN_EMAIL, ADMIN_PASSWORD, Spawned, TestAuth, TestDb, bearer, channel};

/// The admin signed in on `replica`: (user id, role).
async fn admin_on(replica: &Spawned) -> (String, i32) {
    let mut client = AuthServiceClient::new(channel(replica.addr).await);
    let tokens = client
        .login(LoginRequest {
            username: ADMIN_EMAIL.into(),
            password: ADMIN_PASSWORD.into(),
            grant_type: String::new(),
        })
        .await
        .expect("the admin signs in")
        .into_inner();
    let me = client
        .get_me(bearer(&tokens.access_token, GetMeRequest {}))
        .await
        .expect("the admin's token is accepted")
        .into_inner()
        .user
        .expect("user");
    (me.user_id, me.role)
}

#[tokio::test]
async fn two_replicas_starting_at_once_make_one_bootstrap_admin_and_both_sign_it_in() {
    let db = TestDb::new("auth", &auth_svc::db::MIGRATIONS).await;
    let pem = auth_svc::keys::generate_pem().expect("generate key");
    // Each waits until its replica reports SERVING; a setup that failed
    // (say, on the other's admin row) fails here.
    let (a, b) = tokio::join!(
        TestAuth::serve(&db, &pem, |_| {}),
        TestAuth::serve(&db, &pem, |_| {})
    );
    for replica in [&a, &b] {
        assert_eq!(status(replica.addr).await, ServingStatus::Serving);
    }

    let client = db.client().await;
    let admins: i64 = client
        .query_one(
            "SELECT count(*) FROM users WHERE lower(email) = lower($1)",
            &[&ADMIN_EMAIL],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(admins, 1, "exactly one bootstrap account");
    let role: String = client
        .query_one("SELECT role FROM users", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(role, "ADMIN");
    let keys: i64 = client
        .query_one(
            "SELECT count(*) FROM signing_keys WHERE retired_at IS NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(keys, 1, "the same key, one current row");

    let on_a = admin_on(&a).await;
    let on_b = admin_on(&b).await;
    assert_eq!(on_a, on_b, "one account, signed in on either replica");
    assert_eq!(on_a.1, Role::Admin as i32);
}

/// A rolling rotation: an old replica still signing with the old key while
/// a new one signs with the new. Both keys are published by either
/// replica, and a token signed by either is accepted by both.
#[tokio::test]
async fn replicas_signing_with_the_old_and_the_new_key_accept_each_others_tokens() {
    use kursi_proto::auth::v1::GetJwksRequest;
    let db = TestDb::new("auth", &auth_svc::db::MIGRATIONS).await;
    let old_pem = auth_svc::keys::generate_pem().expect("old key");
    let new_pem = auth_svc::keys::generate_pem().expect("new key");
    let old = TestAuth::serve(&db, &old_pem, |_| {}).await;
    let new = TestAuth::serve(&db, &new_pem, |_| {}).await;
    let sign_in = |replica: &Spawned| {
        let addr = replica.addr;
        async move {
            AuthServiceClient::new(channel(addr).await)
                .login(LoginRequest {
                    username: ADMIN_EMAIL.into(),
                    password: ADMIN_PASSWORD.into(),
                    grant_type: String::new(),
                })
                .await
                .expect("the admin signs in")
                .into_inner()
                .access_token
        }
    };
    let (by_old, by_new) = (sign_in(&old).await, sign_in(&new).await);
    for replica in [&old, &new] {
        let mut client = AuthServiceClient::new(channel(replica.addr).await);
        let kids: Vec<String> = client
            .get_jwks(GetJwksRequest {})
            .await
            .unwrap()
            .into_inner()
            .keys
            .into_iter()
            .map(|key| key.kid)
            .collect();
        assert_eq!(kids.len(), 2, "both keys published: {kids:?}");
        for token in [&by_old, &by_new] {
            client
                .get_me(bearer(token, GetMeRequest {}))
                .await
                .expect("a token of either replica is accepted by both");
        }
    }
}
