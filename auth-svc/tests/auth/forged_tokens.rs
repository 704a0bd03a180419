//! Tokens that must not get in: every one is refused with UNAUTHENTICATED,
//! while the same claims signed properly are accepted (the control).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use kursi_proto::access::v1::Role;
use kursi_proto::auth::v1::GetMeRequest;
use serde_json::{Value, json};
use testkit::{SignedIn, TestAuth, bearer};
use tonic::Code;

struct Forge {
    auth: TestAuth,
    user: SignedIn,
    kid: String,
}

impl Forge {
    async fn new() -> Self {
        let auth = TestAuth::start().await;
        let user = auth.sign_up(Role::Customer).await;
        let kid = auth_svc::keys::SigningKey::from_pem(&auth.signing_key_pem)
            .expect("key")
            .kid()
            .to_owned();
        Self { auth, user, kid }
    }

    fn claims(&self) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({
            "iss": "kursi", "aud": "kursi", "sub": self.user.user_id,
            "iat": now, "nbf": now, "exp": now + 600,
            "jti": "forged", "roles": ["CUSTOMER"],
        })
    }

    fn sign_with_real_key(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        let key = EncodingKey::from_ed_pem(self.auth.signing_key_pem.as_bytes()).expect("key");
        jsonwebtoken::encode(&header, claims, &key).expect("sign")
    }

    async fn get_me(&self, token: &str) -> Result<(), tonic::Status> {
        self.auth
            .client()
            .await
            .get_me(bearer(token, GetMeRequest {}))
            .await
            .map(drop)
    }

    async fn assert_refused(&self, token: &str, why: &str) {
        let err = self.get_me(token).await.expect_err(why);
        assert_eq!(err.code(), Code::Unauthenticated, "{why}: {err:?}");
    }
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

#[tokio::test]
async fn properly_signed_claims_are_accepted() {
    let forge = Forge::new().await;
    forge
        .get_me(&forge.sign_with_real_key(&forge.claims()))
        .await
        .expect("control");
    forge
        .get_me(&forge.user.access_token)
        .await
        .expect("issued token");
}

#[tokio::test]
async fn expired_and_not_yet_valid_tokens_are_refused() {
    let forge = Forge::new().await;
    let mut expired = forge.claims();
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    forge
        .assert_refused(&forge.sign_with_real_key(&expired), "expired")
        .await;

    let mut early = forge.claims();
    early["nbf"] = json!(chrono::Utc::now().timestamp() + 3600);
    forge
        .assert_refused(&forge.sign_with_real_key(&early), "nbf in the future")
        .await;

    let mut no_exp = forge.claims();
    no_exp.as_object_mut().unwrap().remove("exp");
    forge
        .assert_refused(&forge.sign_with_real_key(&no_exp), "no exp")
        .await;
}

#[tokio::test]
async fn wrong_audience_or_issuer_is_refused() {
    let forge = Forge::new().await;
    let mut audience = forge.claims();
    audience["aud"] = json!("another-api");
    forge
        .assert_refused(&forge.sign_with_real_key(&audience), "audience")
        .await;

    let mut issuer = forge.claims();
    issuer["iss"] = json!("someone-else");
    forge
        .assert_refused(&forge.sign_with_real_key(&issuer), "issuer")
        .await;
}

#[tokio::test]
async fn an_edited_payload_breaks_the_signature() {
    let forge = Forge::new().await;
    let parts: Vec<&str> = forge.user.access_token.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("payload")).expect("json");
    claims["roles"] = json!(["ADMIN"]);
    let edited = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
    forge.assert_refused(&edited, "edited payload").await;
}

#[tokio::test]
async fn alg_none_is_refused() {
    let forge = Forge::new().await;
    let header = json!({"alg": "none", "typ": "JWT", "kid": forge.kid});
    let unsigned = format!("{}.{}.", b64(&header), b64(&forge.claims()));
    forge.assert_refused(&unsigned, "alg none").await;
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let forge = Forge::new().await;
    let public_x = auth_svc::keys::SigningKey::from_pem(&forge.auth.signing_key_pem)
        .expect("key")
        .public_x()
        .to_owned();
    let raw = URL_SAFE_NO_PAD.decode(&public_x).expect("x");
    for secret in [public_x.as_bytes(), raw.as_slice()] {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(forge.kid.clone());
        let token =
            jsonwebtoken::encode(&header, &forge.claims(), &EncodingKey::from_secret(secret))
                .expect("sign");
        forge
            .assert_refused(&token, "HS256 with the public key")
            .await;
    }
}

#[tokio::test]
async fn unknown_or_missing_key_ids_are_refused() {
    let forge = Forge::new().await;
    let stranger_pem = auth_svc::keys::generate_pem().expect("key");
    let stranger = auth_svc::keys::SigningKey::from_pem(&stranger_pem).expect("key");
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(stranger.kid().to_owned());
    let token = jsonwebtoken::encode(
        &header,
        &forge.claims(),
        &EncodingKey::from_ed_pem(stranger_pem.as_bytes()).expect("key"),
    )
    .expect("sign");
    forge.assert_refused(&token, "a stranger's key").await;

    // Our own key under a made-up kid, and under no kid at all.
    let mut made_up = Header::new(Algorithm::EdDSA);
    made_up.kid = Some("made-up".into());
    let key = EncodingKey::from_ed_pem(forge.auth.signing_key_pem.as_bytes()).expect("key");
    let token = jsonwebtoken::encode(&made_up, &forge.claims(), &key).expect("sign");
    forge.assert_refused(&token, "made-up kid").await;
    let token =
        jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &forge.claims(), &key).expect("sign");
    forge.assert_refused(&token, "no kid").await;
}

#[tokio::test]
async fn garbage_and_missing_tokens_are_refused() {
    let forge = Forge::new().await;
    forge.assert_refused("not-a-jwt", "garbage").await;
    let err = forge
        .auth
        .client()
        .await
        .get_me(GetMeRequest {})
        .await
        .expect_err("no token");
    assert_eq!(err.code(), Code::Unauthenticated);
}
