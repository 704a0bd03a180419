//! The door of every service: a tower layer in front of the gRPC router that
//! refuses calls before migrations are done, verifies the bearer token, applies
//! the method's declared policy, and hands the handler a [`Caller`].
//!
//! It is a layer rather than a tonic interceptor because it needs the method's
//! path and must be able to await a JWKS fetch.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use tonic::Status;
use tonic::body::Body;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower::{Layer, Service};

use super::{Denial, Policy, PolicyTable, TokenVerifier, VerifyError};

/// Whether the service serves: it has finished starting (its database
/// prepared), is not shutting down, and reaches its database. Mirrored in
/// grpc.health.v1 so orchestrators and `scripts/stack` can wait for it and
/// route around it.
#[derive(Clone)]
pub struct Readiness {
    /// Prepared and not draining: the admission layer lets calls in.
    ready: Arc<AtomicBool>,
    /// The last database probe answered (`db::watch_database`).
    database: Arc<AtomicBool>,
    health: HealthReporter,
    services: Arc<[&'static str]>,
}

impl Readiness {
    /// Starts NOT_SERVING for the whole server and each named service.
    pub async fn new(health: HealthReporter, services: &[&'static str]) -> Self {
        let readiness = Self {
            ready: Arc::new(AtomicBool::new(false)),
            database: Arc::new(AtomicBool::new(true)),
            health,
            services: services.into(),
        };
        readiness.set(ServingStatus::NotServing).await;
        readiness
    }

    /// The server's health, for parts with a health of their own (the
    /// event relay) that must not change the service's.
    pub fn reporter(&self) -> HealthReporter {
        self.health.clone()
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub async fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
        self.report().await;
    }

    pub async fn set_draining(&self) {
        self.ready.store(false, Ordering::Release);
        self.report().await;
    }

    /// What the database probe found. Calls are still let in while the
    /// database is away (they answer UNAVAILABLE within the connect
    /// timeout); health says NOT_SERVING so that traffic goes elsewhere.
    pub async fn set_database_reachable(&self, reachable: bool) {
        if self.database.swap(reachable, Ordering::AcqRel) != reachable {
            self.report().await;
        }
    }

    async fn report(&self) {
        let serving = self.ready.load(Ordering::Acquire) && self.database.load(Ordering::Acquire);
        self.set(if serving {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        })
        .await;
    }

    async fn set(&self, status: ServingStatus) {
        self.health.set_service_status("", status).await;
        for service in self.services.iter() {
            self.health.set_service_status(*service, status).await;
        }
    }
}

/// The layer; cheap to clone.
#[derive(Clone)]
pub struct Admission {
    policies: Arc<PolicyTable>,
    verifier: Arc<TokenVerifier>,
    readiness: Readiness,
}

impl Admission {
    pub fn new(
        policies: Arc<PolicyTable>,
        verifier: Arc<TokenVerifier>,
        readiness: Readiness,
    ) -> Self {
        Self {
            policies,
            verifier,
            readiness,
        }
    }

    async fn admit<B>(
        &self,
        policy: &Policy,
        request: &mut http::Request<B>,
    ) -> Result<(), Status> {
        if !self.readiness.is_ready() {
            return Err(Status::unavailable(
                "the service is starting; retry shortly",
            ));
        }
        let caller = match bearer_token(request.headers()) {
            Ok(None) => None,
            Ok(Some(token)) => match self.verifier.verify(token).await {
                Ok(caller) => Some(caller),
                // A stale token sent along to a public method (say, login) is ignored.
                Err(VerifyError::Unauthenticated(_)) if !policy.requires_token() => None,
                Err(err) => return Err(err.into()),
            },
            Err(why) if policy.requires_token() => return Err(Status::unauthenticated(why)),
            Err(_) => None,
        };
        match policy.admit(caller.as_ref()) {
            Ok(()) => {
                if let Some(caller) = caller {
                    request.extensions_mut().insert(caller);
                }
                Ok(())
            }
            Err(Denial::Unauthenticated) => Err(Status::unauthenticated(
                "this call needs an access token: send `authorization: Bearer <token>`",
            )),
            Err(Denial::Forbidden(why)) => Err(Status::permission_denied(why)),
        }
    }
}

/// The token of an `authorization: Bearer …` header (HTTP or gRPC metadata,
/// the scheme in any case); `Err` when the header is there but unusable.
/// The edge reads its callers' headers with the same rule.
pub fn bearer_token(headers: &http::HeaderMap) -> Result<Option<&str>, &'static str> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| "the authorization header is not text")?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or("the authorization header must be `Bearer <token>`")?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err("the authorization header must be `Bearer <token>`");
    }
    Ok(Some(token))
}

impl<S> Layer<S> for Admission {
    type Service = AdmissionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AdmissionService {
            admission: self.clone(),
            inner,
        }
    }
}

#[derive(Clone)]
pub struct AdmissionService<S> {
    admission: Admission,
    inner: S,
}

impl<S, B> Service<http::Request<B>> for AdmissionService<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The clone that was polled ready serves this call; a fresh clone stays behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let Some(policy) = self
            .admission
            .policies
            .lookup(request.uri().path())
            .cloned()
        else {
            return Box::pin(inner.call(request));
        };
        let admission = self.admission.clone();
        Box::pin(async move {
            match admission.admit(&policy, &mut request).await {
                Ok(()) => inner.call(request).await,
                Err(status) => Ok(status.into_http()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            value.parse().expect("header value"),
        );
        headers
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        assert_eq!(bearer_token(&headers("Bearer abc")), Ok(Some("abc")));
        assert_eq!(bearer_token(&headers("bearer abc")), Ok(Some("abc")));
        assert_eq!(bearer_token(&http::HeaderMap::new()), Ok(None));
    }

    #[test]
    fn other_schemes_are_refused() {
        assert!(bearer_token(&headers("Basic YWxhZGRpbjpvcGVuc2VzYW1l")).is_err());
        assert!(bearer_token(&headers("Bearer ")).is_err());
        assert!(bearer_token(&headers("Bearer")).is_err());
    }
}
