//! Refresh-token rotation, reuse detection and logout.

use kursi_proto::access::v1::Role;
use kursi_proto::auth::v1::{LogoutRequest, RefreshTokenRequest};
use testkit::TestAuth;
use tonic::Code;

async fn refresh(auth: &TestAuth, token: &str) -> Result<String, tonic::Status> {
    auth.client()
        .await
        .refresh_token(RefreshTokenRequest {
            refresh_token: token.into(),
        })
        .await
        .map(|reply| reply.into_inner().refresh_token)
}

#[tokio::test]
async fn refreshing_rotates_the_token() {
    let auth = TestAuth::start().await;
    let user = auth.sign_up(Role::Customer).await;
    let second = refresh(&auth, &user.refresh_token)
        .await
        .expect("first refresh");
    assert_ne!(second, user.refresh_token);
    let third = refresh(&auth, &second).await.expect("second refresh");
    assert_ne!(third, second);
}

#[tokio::test]
async fn reusing_a_spent_token_revokes_the_whole_family() {
    let auth = TestAuth::start().await;
    let user = auth.sign_up(Role::Customer).await;
    let successor = refresh(&auth, &user.refresh_token).await.expect("rotate");

    let reuse = refresh(&auth, &user.refresh_token)
        .await
        .expect_err("reuse");
    assert_eq!(reuse.code(), Code::Unauthenticated);
    assert!(
        reuse.message().contains("already used"),
        "{}",
        reuse.message()
    );

    // The legitimate successor dies with its family.
    let after = refresh(&auth, &successor)
        .await
        .expect_err("family revoked");
    assert_eq!(after.code(), Code::Unauthenticated);

    // Another sign-in of the same account is a different family and lives on.
    let other = auth
        .login(&user.email, "a perfectly fine password")
        .await
        .expect("login");
    refresh(&auth, &other.refresh_token)
        .await
        .expect("other family");
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_let_exactly_one_through() {
    let auth = TestAuth::start().await;
    let user = auth.sign_up(Role::Customer).await;
    let attempts = (0..8).map(|_| refresh(&auth, &user.refresh_token));
    let results = futures_util::future::join_all(attempts).await;
    let winners = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(winners, 1, "{results:?}");
    for err in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(err.code(), Code::Unauthenticated);
    }
}

#[tokio::test]
async fn logout_revokes_and_may_be_repeated() {
    let auth = TestAuth::start().await;
    let user = auth.sign_up(Role::Customer).await;
    let logout = || async {
        auth.client()
            .await
            .logout(LogoutRequest {
                refresh_token: user.refresh_token.clone(),
            })
            .await
    };
    logout().await.expect("logout");
    logout().await.expect("logout again");
    let err = refresh(&auth, &user.refresh_token)
        .await
        .expect_err("revoked");
    assert_eq!(err.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn made_up_and_empty_refresh_tokens_are_refused() {
    let auth = TestAuth::start().await;
    assert_eq!(
        refresh(&auth, "made-up").await.expect_err("made up").code(),
        Code::Unauthenticated
    );
    assert_eq!(
        refresh(&auth, "").await.expect_err("empty").code(),
        Code::InvalidArgument
    );
}

#[tokio::test]
async fn only_hashes_of_refresh_tokens_are_stored() {
    let auth = TestAuth::start().await;
    let user = auth.sign_up(Role::Customer).await;
    let db = auth.db.client().await;
    let stored: i64 = db
        .query_one(
            "SELECT count(*) FROM refresh_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8'))",
            &[&user.refresh_token],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 1);
    let plain: i64 = db
        .query_one(
            "SELECT count(*) FROM refresh_tokens WHERE encode(token_hash, 'escape') LIKE '%' || $1 || '%'",
            &[&user.refresh_token],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(plain, 0);
}
