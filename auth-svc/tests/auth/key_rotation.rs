//! Replacing the signing key: the new key signs, the old one stays published
//! until its tokens have expired, and old tokens keep working meanwhile.

use kursi_proto::auth::v1::auth_service_client::AuthServiceClient;
use kursi_proto::auth::v1::{GetJwksRequest, GetMeRequest};
use testkit::{TestAuth, bearer, channel};
use tonic::transport::Channel;

async fn published_kids(client: &mut AuthServiceClient<Channel>) -> Vec<String> {
    let jwks = client
        .get_jwks(GetJwksRequest {})
        .await
        .unwrap()
        .into_inner();
    jwks.keys.into_iter().map(|key| key.kid).collect()
}

#[tokio::test]
async fn a_restart_with_a_new_key_rotates_without_breaking_old_tokens() {
    let mut auth = TestAuth::start().await;
    let admin_before = auth.admin().await;
    let old_kid = auth_svc::keys::SigningKey::from_pem(&auth.signing_key_pem)
        .unwrap()
        .kid()
        .to_owned();

    auth.server.stop_ref().await;
    let new_pem = auth_svc::keys::generate_pem().unwrap();
    let new_kid = auth_svc::keys::SigningKey::from_pem(&new_pem)
        .unwrap()
        .kid()
        .to_owned();
    let server = TestAuth::serve(&auth.db, &new_pem, |_| {}).await;
    let mut client = kursi_proto::auth::v1::auth_service_client::AuthServiceClient::new(
        channel(server.addr).await,
    );

    let kids = published_kids(&mut client).await;
    assert_eq!(
        kids,
        [new_kid.clone(), old_kid.clone()],
        "newest first, old kept"
    );

    // A token signed by the old key still works.
    client
        .get_me(bearer(&admin_before.access_token, GetMeRequest {}))
        .await
        .expect("old token");

    // New tokens carry the new kid.
    let login = client
        .login(kursi_proto::auth::v1::LoginRequest {
            username: testkit::ADMIN_EMAIL.into(),
            password: testkit::ADMIN_PASSWORD.into(),
            grant_type: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let header = jsonwebtoken::decode_header(&login.access_token).unwrap();
    assert_eq!(header.kid.as_deref(), Some(new_kid.as_str()));

    // Once the old key's tokens have all expired, it is no longer published.
    auth.db
        .client()
        .await
        .execute(
            "UPDATE signing_keys SET retired_at = now() - interval '1 day' WHERE kid = $1",
            &[&old_kid],
        )
        .await
        .unwrap();
    let kids = published_kids(&mut client).await;
    assert_eq!(kids, [new_kid]);
}
