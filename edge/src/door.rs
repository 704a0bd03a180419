//! Auth at the door: the method's declared policy (from the contract) is
//! applied with auth-svc's published keys before anything is forwarded. The
//! token still travels on as `authorization` metadata, since ownership is the
//! service's to decide. A token verified a moment ago is not verified again
//! (the verifier remembers it).

use std::time::Duration;

use futures_util::future::BoxFuture;
use http::HeaderMap;
use kursi_proto::auth::v1::GetJwksRequest;
use kursi_proto::auth::v1::Jwk;
use kursi_proto::auth::v1::auth_service_client::AuthServiceClient;
use service_kit::auth::{
    Denial, KeySource, KeySourceError, Policy, TokenVerifier, VerifyError, bearer_token,
};
use service_kit::config::JwtSettings;
use tonic::transport::Channel;

use crate::error::ApiError;

/// How long a JWKS fetch may take before the edge gives up on it.
const JWKS_TIMEOUT: Duration = Duration::from_secs(5);

/// auth-svc's keys, fetched over the edge's one pooled channel to auth-svc.
struct SharedChannelJwks {
    channel: Channel,
}

impl KeySource for SharedChannelJwks {
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<Jwk>, KeySourceError>> {
        let mut client = AuthServiceClient::new(self.channel.clone());
        Box::pin(async move {
            let mut request = tonic::Request::new(GetJwksRequest {});
            request.set_timeout(JWKS_TIMEOUT);
            match tokio::time::timeout(JWKS_TIMEOUT, client.get_jwks(request)).await {
                Ok(Ok(response)) => Ok(response.into_inner().keys),
                Ok(Err(status)) => Err(KeySourceError(format!(
                    "auth-svc did not hand out its keys: {}",
                    status.message()
                ))),
                Err(_) => Err(KeySourceError(
                    "auth-svc did not hand out its keys in time".into(),
                )),
            }
        })
    }
}

pub struct Door {
    verifier: TokenVerifier,
}

impl Door {
    /// `auth` is the channel to auth-svc; `None` when no auth upstream is
    /// configured, and then every method that needs a token is refused.
    pub fn new(auth: Option<Channel>, jwt: &JwtSettings) -> Self {
        let channel = auth.unwrap_or_else(|| {
            // Nothing listens on port 1: fetches fail and callers get 503.
            tonic::transport::Endpoint::from_static("http://127.0.0.1:1").connect_lazy()
        });
        Self {
            verifier: TokenVerifier::new(SharedChannelJwks { channel }, jwt),
        }
    }

    /// Admits the request or says why not.
    pub async fn check(&self, policy: &Policy, headers: &HeaderMap) -> Result<(), ApiError> {
        if *policy == Policy::Public {
            return Ok(());
        }
        let caller = match bearer_token(headers) {
            Ok(None) => None,
            Ok(Some(token)) => match self.verifier.verify(token).await {
                Ok(caller) => Some(caller),
                Err(VerifyError::Unauthenticated(why)) => {
                    return Err(ApiError::unauthenticated(why, true));
                }
                Err(VerifyError::Unavailable(why)) => {
                    return Err(ApiError::new(tonic::Code::Unavailable, why));
                }
            },
            Err(why) => return Err(ApiError::unauthenticated(why, true)),
        };
        match policy.admit(caller.as_ref()) {
            Ok(()) => Ok(()),
            Err(Denial::Unauthenticated) => Err(ApiError::unauthenticated(
                "this call needs an access token: send `Authorization: Bearer <token>`",
                false,
            )),
            Err(Denial::Forbidden(why)) => Err(ApiError::forbidden(why)),
        }
    }
}
