//! The bootstrap admin, roles and the account list.

use kursi_proto::access::v1::Role;
use kursi_proto::auth::v1::{ListUsersRequest, SetUserRoleRequest};
use testkit::{TestAuth, bearer};
use tonic::Code;

#[tokio::test]
async fn the_bootstrap_admin_signs_in_by_email_or_username() {
    let auth = TestAuth::start().await;
    let by_email = auth.admin().await;
    let by_name = auth
        .login("admin", testkit::ADMIN_PASSWORD)
        .await
        .expect("by username");
    assert_eq!(by_email.user_id, by_name.user_id);
    let claims =
        jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(&by_email.access_token)
            .expect("claims")
            .claims;
    assert_eq!(claims["roles"], serde_json::json!(["ADMIN"]));
}

#[tokio::test]
async fn restarting_does_not_duplicate_or_reset_the_admin() {
    let mut auth = TestAuth::start().await;
    let first = auth.admin().await;
    auth.server.stop_ref().await;
    let _again = TestAuth::serve(&auth.db, &auth.signing_key_pem, |_| {}).await;
    let count: i64 = auth
        .db
        .client()
        .await
        .query_one("SELECT count(*) FROM users WHERE role = 'ADMIN'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 1);
    let _ = first;
}

#[tokio::test]
async fn only_admins_list_users_and_pages_cover_everyone_once() {
    let auth = TestAuth::start().await;
    let customer = auth.sign_up(Role::Customer).await;
    for _ in 0..4 {
        auth.sign_up(Role::Customer).await;
    }
    let mut client = auth.client().await;
    let refused = client
        .list_users(bearer(&customer.access_token, ListUsersRequest::default()))
        .await
        .expect_err("customer");
    assert_eq!(refused.code(), Code::PermissionDenied);

    let admin = auth.admin().await;
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_users(bearer(
                &admin.access_token,
                ListUsersRequest {
                    page_size: 2,
                    page_token: token.clone(),
                },
            ))
            .await
            .expect("page")
            .into_inner();
        assert_eq!(page.total_size, 6);
        assert!(page.users.len() <= 2);
        seen.extend(page.users.into_iter().map(|u| u.user_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(seen.len(), 6);
    assert_eq!(unique.len(), 6);

    let bad = client
        .list_users(bearer(
            &admin.access_token,
            ListUsersRequest {
                page_size: -1,
                page_token: "garbage".into(),
            },
        ))
        .await
        .expect_err("bad page");
    assert_eq!(bad.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn a_new_role_shows_in_the_next_token() {
    let auth = TestAuth::start().await;
    let staff = auth.sign_up(Role::Staff).await;
    let claims = jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(&staff.access_token)
        .expect("claims")
        .claims;
    assert_eq!(claims["roles"], serde_json::json!(["STAFF"]));
}

#[tokio::test]
async fn role_changes_are_validated() {
    let auth = TestAuth::start().await;
    let admin = auth.admin().await;
    let customer = auth.sign_up(Role::Customer).await;
    let mut client = auth.client().await;
    let set = |user_id: &str, role: i32| {
        bearer(
            &admin.access_token,
            SetUserRoleRequest {
                user_id: user_id.into(),
                role,
            },
        )
    };
    let unspecified = client
        .set_user_role(set(&customer.user_id, 0))
        .await
        .expect_err("unspecified");
    assert_eq!(crate::violated_fields(&unspecified), ["role"]);
    let unknown = client
        .set_user_role(set(&customer.user_id, 99))
        .await
        .expect_err("unknown role");
    assert_eq!(unknown.code(), Code::InvalidArgument);
    let bad_id = client
        .set_user_role(set("nope", Role::Staff as i32))
        .await
        .expect_err("bad id");
    assert_eq!(crate::violated_fields(&bad_id), ["user_id"]);
    let missing = client
        .set_user_role(set(&uuid::Uuid::new_v4().to_string(), Role::Staff as i32))
        .await
        .expect_err("missing");
    assert_eq!(missing.code(), Code::NotFound);
    let own = client
        .set_user_role(set(&admin.user_id, Role::Customer as i32))
        .await
        .expect_err("own");
    assert_eq!(own.code(), Code::FailedPrecondition);

    let changed = client
        .set_user_role(set(&customer.user_id, Role::Staff as i32))
        .await
        .expect("promote")
        .into_inner()
        .user
        .unwrap();
    assert_eq!(changed.role, Role::Staff as i32);
    let customer_try = client
        .set_user_role(bearer(
            &customer.access_token,
            SetUserRoleRequest {
                user_id: admin.user_id.clone(),
                role: Role::Customer as i32,
            },
        ))
        .await
        .expect_err("not an admin");
    assert_eq!(customer_try.code(), Code::PermissionDenied);
}
