//! Sign-in: one answer for unknown accounts and wrong passwords, lockout.

use kursi_proto::auth::v1::{LoginRequest, RegisterRequest};
use testkit::TestAuth;
use tonic::Code;

use crate::violated_fields;

async fn customer(auth: &TestAuth, email: &str, password: &str) {
    auth.client()
        .await
        .register(RegisterRequest {
            email: email.into(),
            password: password.into(),
            display_name: "Dewi".into(),
            username: String::new(),
        })
        .await
        .expect("register");
}

#[tokio::test]
async fn unknown_accounts_and_wrong_passwords_get_the_same_answer() {
    let auth = TestAuth::start().await;
    customer(&auth, "dewi@example.com", "right password").await;
    let wrong = auth
        .login("dewi@example.com", "wrong password")
        .await
        .expect_err("wrong");
    let unknown = auth
        .login("nobody@example.com", "wrong password")
        .await
        .expect_err("unknown");
    assert_eq!(wrong.code(), Code::Unauthenticated);
    assert_eq!(unknown.code(), Code::Unauthenticated);
    assert_eq!(wrong.message(), unknown.message());
}

#[tokio::test]
async fn five_failures_in_a_row_lock_the_account() {
    let auth = TestAuth::start().await;
    customer(&auth, "dewi@example.com", "right password").await;
    for attempt in 1..=4 {
        let err = auth
            .login("dewi@example.com", "wrong password")
            .await
            .expect_err("wrong");
        assert_eq!(err.code(), Code::Unauthenticated, "attempt {attempt}");
    }
    let fifth = auth
        .login("dewi@example.com", "wrong password")
        .await
        .expect_err("fifth");
    assert_eq!(fifth.code(), Code::ResourceExhausted);
    assert!(
        fifth.message().contains("locked until"),
        "{}",
        fifth.message()
    );

    // Even the right password is refused while locked.
    let locked = auth
        .login("dewi@example.com", "right password")
        .await
        .expect_err("locked");
    assert_eq!(locked.code(), Code::ResourceExhausted);

    // Once the lock has passed, the right password works again.
    auth.db
        .client()
        .await
        .execute(
            "UPDATE users SET locked_until = now() - interval '1 second'",
            &[],
        )
        .await
        .unwrap();
    auth.login("dewi@example.com", "right password")
        .await
        .expect("after lock");
}

#[tokio::test]
async fn a_lock_runs_out_on_the_services_clock() {
    let (clock, hand) = service_kit::clock::Clock::adjustable();
    let auth = TestAuth::start_with(|config| config.common.clock = clock).await;
    customer(&auth, "dewi@example.com", "right password").await;
    for _ in 0..5 {
        auth.login("dewi@example.com", "wrong password")
            .await
            .expect_err("wrong");
    }
    let locked = auth
        .login("dewi@example.com", "right password")
        .await
        .expect_err("locked");
    assert_eq!(locked.code(), Code::ResourceExhausted);

    // The lock is 15 minutes; the service's clock passes it. (Signed in
    // with the bare call: the token it hands out is issued on the moved
    // clock, which verifiers on the system clock take as not valid yet.)
    hand.advance(chrono::Duration::minutes(16));
    auth.client()
        .await
        .login(LoginRequest {
            username: "dewi@example.com".into(),
            password: "right password".into(),
            grant_type: String::new(),
        })
        .await
        .expect("after lock");
}

#[tokio::test]
async fn a_success_resets_the_failure_count() {
    let auth = TestAuth::start().await;
    customer(&auth, "dewi@example.com", "right password").await;
    for _ in 0..4 {
        auth.login("dewi@example.com", "wrong password")
            .await
            .expect_err("wrong");
    }
    auth.login("dewi@example.com", "right password")
        .await
        .expect("success");
    for _ in 0..4 {
        let err = auth
            .login("dewi@example.com", "wrong password")
            .await
            .expect_err("wrong");
        assert_eq!(err.code(), Code::Unauthenticated);
    }
}

#[tokio::test]
async fn the_lockout_threshold_is_a_setting() {
    let auth = TestAuth::start_with(|config| config.lockout.threshold = 2).await;
    customer(&auth, "dewi@example.com", "right password").await;
    auth.login("dewi@example.com", "wrong password")
        .await
        .expect_err("first");
    let second = auth
        .login("dewi@example.com", "wrong password")
        .await
        .expect_err("second");
    assert_eq!(second.code(), Code::ResourceExhausted);
}

#[tokio::test]
async fn login_answers_like_an_oauth2_token_endpoint() {
    let auth = TestAuth::start().await;
    customer(&auth, "dewi@example.com", "right password").await;
    let reply = auth
        .client()
        .await
        .login(LoginRequest {
            username: "dewi@example.com".into(),
            password: "right password".into(),
            grant_type: "password".into(),
        })
        .await
        .expect("login")
        .into_inner();
    assert_eq!(reply.token_type, "bearer");
    assert_eq!(reply.expires_in, 900);
    assert!(!reply.refresh_token.is_empty());
    assert_eq!(reply.access_token.split('.').count(), 3);

    let err = auth
        .client()
        .await
        .login(LoginRequest {
            username: String::new(),
            password: String::new(),
            grant_type: "client_credentials".into(),
        })
        .await
        .expect_err("invalid");
    assert_eq!(
        violated_fields(&err),
        ["username", "password", "grant_type"]
    );
}

#[tokio::test]
async fn control_characters_in_the_username_are_invalid_not_internal() {
    let auth = TestAuth::start().await;
    customer(&auth, "dewi@example.com", "right password").await;
    for username in ["dewi@example.com\0", "de\0wi", "dewi\u{7}@example.com"] {
        let err = auth
            .login(username, "right password")
            .await
            .expect_err("a control character");
        assert_eq!(err.code(), Code::InvalidArgument, "{username:?}: {err:?}");
        assert_eq!(violated_fields(&err), ["username"]);
    }
    // Surrounding whitespace is still trimmed, as before.
    auth.login(" dewi@example.com\n", "right password")
        .await
        .expect("trimmed");
}

#[tokio::test]
async fn a_username_that_is_not_utf8_is_invalid_not_internal() {
    let auth = TestAuth::start().await;
    // LoginRequest{username (1): 0xFF, password (2): "x"}: prost refuses the
    // string before the service sees it.
    let message = [0x0a, 0x01, 0xff, 0x12, 0x01, b'x'];
    let channel = testkit::channel(auth.addr()).await;
    let err = testkit::raw::unary(channel, "/kursi.auth.v1.AuthService/Login", &message, None)
        .await
        .expect_err("not UTF-8");
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert_eq!(violated_fields(&err), ["username"]);
}
