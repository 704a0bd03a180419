//! Registration: validation, uniqueness, what an account looks like.

use kursi_proto::access::v1::Role;
use kursi_proto::auth::v1::{GetMeRequest, RegisterRequest};
use testkit::{TestAuth, bearer};
use tonic::Code;

use crate::violated_fields;

fn registration(email: &str, password: &str) -> RegisterRequest {
    RegisterRequest {
        email: email.into(),
        password: password.into(),
        display_name: "Siti".into(),
        username: String::new(),
    }
}

#[tokio::test]
async fn a_new_account_is_a_customer_and_can_sign_in() {
    let auth = TestAuth::start().await;
    let user = auth
        .client()
        .await
        .register(registration("siti@example.com", "eight chars"))
        .await
        .expect("register")
        .into_inner()
        .user
        .expect("user");
    assert_eq!(user.role, Role::Customer as i32);
    assert_eq!(user.email, "siti@example.com");

    let siti = auth
        .login("siti@example.com", "eight chars")
        .await
        .expect("login");
    let me = auth
        .client()
        .await
        .get_me(bearer(&siti.access_token, GetMeRequest {}))
        .await
        .expect("get me")
        .into_inner()
        .user
        .expect("user");
    assert_eq!(me.user_id, user.user_id);
}

#[tokio::test]
async fn emails_are_unique_whatever_their_case() {
    let auth = TestAuth::start().await;
    let mut client = auth.client().await;
    client
        .register(registration("Budi@Example.com", "password one"))
        .await
        .expect("first");
    let second = client
        .register(registration("budi@example.COM", "password two"))
        .await
        .expect_err("duplicate");
    assert_eq!(second.code(), Code::AlreadyExists);
    assert!(second.message().contains("email"), "{}", second.message());
}

#[tokio::test]
async fn usernames_are_unique_and_sign_in_works_with_either_name() {
    let auth = TestAuth::start().await;
    let mut client = auth.client().await;
    let mut first = registration("a@example.com", "password one");
    first.username = "Rina".into();
    client.register(first).await.expect("first");
    let mut second = registration("b@example.com", "password two");
    second.username = "rina".into();
    let err = client
        .register(second)
        .await
        .expect_err("duplicate username");
    assert_eq!(err.code(), Code::AlreadyExists);
    assert!(err.message().contains("username"));

    let by_username = auth
        .login("RINA", "password one")
        .await
        .expect("by username");
    let by_email = auth
        .login("A@example.com", "password one")
        .await
        .expect("by email");
    assert_eq!(by_username.user_id, by_email.user_id);
}

#[tokio::test]
async fn short_and_overlong_passwords_are_refused_naming_the_field() {
    let auth = TestAuth::start().await;
    let mut client = auth.client().await;
    let short = client
        .register(registration("c@example.com", "1234567"))
        .await
        .expect_err("short");
    assert_eq!(violated_fields(&short), ["password"]);
    assert!(short.message().contains("at least 8"));

    let long = client
        .register(registration("c@example.com", &"x".repeat(73)))
        .await
        .expect_err("long");
    assert_eq!(violated_fields(&long), ["password"]);
    assert!(long.message().contains("72 bytes"));

    // Exactly 72 bytes is fine; nothing was stored by the refusals above.
    client
        .register(registration("c@example.com", &"x".repeat(72)))
        .await
        .expect("72 bytes");
}

#[tokio::test]
async fn every_bad_field_is_reported_at_once_and_nothing_is_stored() {
    let auth = TestAuth::start().await;
    let mut client = auth.client().await;
    let err = client
        .register(RegisterRequest {
            email: "not an email".into(),
            password: "short".into(),
            display_name: " ".into(),
            username: "x@y".into(),
        })
        .await
        .expect_err("invalid");
    assert_eq!(
        violated_fields(&err),
        ["email", "password", "display_name", "username"]
    );
    let rows = auth
        .db
        .client()
        .await
        .query_one("SELECT count(*) FROM users", &[])
        .await
        .unwrap();
    assert_eq!(rows.get::<_, i64>(0), 1, "only the bootstrap admin");
}
