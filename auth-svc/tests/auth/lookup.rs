//! Staff find a guest's account by id or by email, so a booking made at
//! the host stand is filed under her; customers cannot look anyone up.

use kursi_proto::access::v1::Role;
use kursi_proto::auth::v1::{GetUserRequest, LookupUserRequest};
use testkit::{TestAuth, bearer};
use tonic::Code;

use crate::violated_fields;

#[tokio::test]
async fn staff_find_an_account_by_id_or_by_email_in_any_case() {
    let auth = TestAuth::start().await;
    let siti = auth.sign_up(Role::Customer).await;
    let staff = auth.sign_up(Role::Staff).await;
    let mut client = auth.client().await;

    let by_id = client
        .get_user(bearer(
            &staff.access_token,
            GetUserRequest {
                user_id: siti.user_id.clone(),
            },
        ))
        .await
        .expect("by id")
        .into_inner()
        .user
        .expect("user");
    assert_eq!(by_id.email, siti.email);

    let by_email = client
        .lookup_user(bearer(
            &staff.access_token,
            LookupUserRequest {
                email: siti.email.to_uppercase(),
            },
        ))
        .await
        .expect("by email")
        .into_inner()
        .user
        .expect("user");
    assert_eq!(by_email.user_id, siti.user_id);
}

#[tokio::test]
async fn unknown_accounts_bad_input_and_customers_are_refused() {
    let auth = TestAuth::start().await;
    let siti = auth.sign_up(Role::Customer).await;
    let admin = auth.admin().await;
    let mut client = auth.client().await;

    let nobody = client
        .lookup_user(bearer(
            &admin.access_token,
            LookupUserRequest {
                email: "nobody@example.com".into(),
            },
        ))
        .await
        .expect_err("unknown");
    assert_eq!(nobody.code(), Code::NotFound);
    let nobody = client
        .get_user(bearer(
            &admin.access_token,
            GetUserRequest {
                user_id: uuid::Uuid::nil().to_string(),
            },
        ))
        .await
        .expect_err("unknown");
    assert_eq!(nobody.code(), Code::NotFound);

    let bad = client
        .lookup_user(bearer(
            &admin.access_token,
            LookupUserRequest {
                email: "not an email".into(),
            },
        ))
        .await
        .expect_err("bad email");
    assert_eq!(violated_fields(&bad), ["email"]);
    let bad = client
        .get_user(bearer(
            &admin.access_token,
            GetUserRequest {
                user_id: "42".into(),
            },
        ))
        .await
        .expect_err("bad id");
    assert_eq!(violated_fields(&bad), ["user_id"]);

    let customer = client
        .lookup_user(bearer(
            &siti.access_token,
            LookupUserRequest {
                email: siti.email.clone(),
            },
        ))
        .await
        .expect_err("a customer");
    assert_eq!(customer.code(), Code::PermissionDenied);
}
