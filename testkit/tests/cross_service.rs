//! Every service holds callers to the contract's access policies with the
//! keys auth-svc publishes, so a backend calling a service directly meets the
//! same rules as a REST caller at the edge.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::future::BoxFuture;
use kursi_proto::access::v1::Role;
use kursi_proto::auth::v1::Jwk;
use kursi_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use kursi_proto::catalog::v1::{CreateMovieRequest, ListMoviesRequest};
use kursi_proto::order::v1::ListOrdersRequest;
use kursi_proto::order::v1::order_service_client::OrderServiceClient;
use kursi_proto::reservation::v1::reservation_service_client::ReservationServiceClient;
use kursi_proto::reservation::v1::{GetStatsRequest, ListReservationsRequest};
use service_kit::auth::{KeySource, KeySourceError, RemoteJwks, TokenVerifier, VerifyError};
use service_kit::config::JwtSettings;
use testkit::{TestAuth, TestDb, bearer, channel, service_config, spawn, spawn_on};
use tonic::{Code, Request, Status};

fn code<T: std::fmt::Debug>(result: Result<T, Status>) -> Code {
    match result {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

fn plain<T>(message: T) -> Request<T> {
    Request::new(message)
}

#[tokio::test]
async fn every_service_applies_the_declared_policy_with_auth_svc_keys() {
    let auth = TestAuth::start().await;
    let customer = auth.sign_up(Role::Customer).await;
    let staff = auth.sign_up(Role::Staff).await;
    let admin = auth.admin().await;

    let reservation_db = TestDb::new("reservation", &reservation_svc::MIGRATIONS).await;
    let catalog_db = TestDb::new("catalog", &catalog_svc::MIGRATIONS).await;
    let order_db = TestDb::new("order", &order_svc::MIGRATIONS).await;
    let reservation_config = reservation_svc::config::ReservationConfig::with_defaults(
        service_config(reservation_db.url(), &auth.url()),
    );
    let catalog_config = catalog_svc::config::CatalogConfig::with_defaults(service_config(
        catalog_db.url(),
        &auth.url(),
    ));
    let order_config = order_svc::config::OrderConfig::with_defaults(
        service_config(order_db.url(), &auth.url()),
        "http://127.0.0.1:1",
    );
    let reservation = spawn(move |l, s| reservation_svc::app::run(reservation_config, l, s)).await;
    let catalog = spawn(move |l, s| catalog_svc::app::run(catalog_config, l, s)).await;
    let order = spawn(move |l, s| order_svc::app::run(order_config, l, s)).await;

    let mut reservations = ReservationServiceClient::new(channel(reservation.addr).await);
    let mut movies = CatalogServiceClient::new(channel(catalog.addr).await);
    let mut orders = OrderServiceClient::new(channel(order.addr).await);

    // No token: refused at the door.
    assert_eq!(
        code(
            reservations
                .list_reservations(plain(ListReservationsRequest::default()))
                .await
        ),
        Code::Unauthenticated
    );
    assert_eq!(
        code(
            movies
                .list_movies(plain(ListMoviesRequest::default()))
                .await
        ),
        Code::Unauthenticated
    );
    assert_eq!(
        code(
            orders
                .list_orders(plain(ListOrdersRequest::default()))
                .await
        ),
        Code::Unauthenticated
    );

    // A forged token: refused too.
    let forged = format!("{}x", customer.access_token);
    assert_eq!(
        code(
            orders
                .list_orders(bearer(&forged, ListOrdersRequest::default()))
                .await
        ),
        Code::Unauthenticated
    );

    // Signed in but without the role: PERMISSION_DENIED.
    let stats = |token: &str| bearer(token, GetStatsRequest::default());
    assert_eq!(
        code(reservations.get_stats(stats(&customer.access_token)).await),
        Code::PermissionDenied
    );
    let create_movie = |token: &str| bearer(token, CreateMovieRequest::default());
    assert_eq!(
        code(movies.create_movie(create_movie(&staff.access_token)).await),
        Code::PermissionDenied
    );

    // Let through: the services answer (an empty CreateMovie is refused
    // for its fields).
    assert_eq!(
        code(reservations.get_stats(stats(&staff.access_token)).await),
        Code::Ok
    );
    assert_eq!(
        code(movies.create_movie(create_movie(&admin.access_token)).await),
        Code::InvalidArgument
    );
    assert_eq!(
        code(
            orders
                .list_orders(bearer(&customer.access_token, ListOrdersRequest::default()))
                .await
        ),
        Code::Ok
    );
}

const REFETCH_FLOOR: std::time::Duration = std::time::Duration::from_millis(300);

/// The real JWKS source, counting how often it is asked.
struct Counting {
    inner: RemoteJwks,
    fetches: Arc<AtomicUsize>,
}

impl KeySource for Counting {
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<Jwk>, KeySourceError>> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        self.inner.fetch()
    }
}

fn jwt() -> JwtSettings {
    JwtSettings::default()
}

#[tokio::test]
async fn a_rotated_key_is_fetched_on_first_sight_and_made_up_kids_do_not_flood_auth() {
    let mut auth = TestAuth::start().await;
    let fetches = Arc::new(AtomicUsize::new(0));
    let verifier = TokenVerifier::new(
        Counting {
            inner: RemoteJwks::new(&auth.url()).unwrap(),
            fetches: fetches.clone(),
        },
        &jwt(),
    )
    .with_refetch_floor(REFETCH_FLOOR);
    let before = auth.admin().await;
    let caller = verifier
        .verify(&before.access_token)
        .await
        .expect("first token");
    assert!(caller.has_role(Role::Admin));
    verifier.verify(&before.access_token).await.expect("cached");
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "the key is cached");

    // auth-svc restarts on the same address with a new key.
    let addr = auth.server.addr;
    auth.server.stop_ref().await;
    let new_pem = auth_svc::keys::generate_pem().unwrap();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .expect("same port");
    let db_url = auth.db.url().to_owned();
    let restarted = spawn_on(listener, {
        let pem = new_pem.clone();
        move |l, s| {
            let mut config = testkit_auth_config(&db_url, &pem);
            config.bootstrap_admin = None;
            auth_svc::app::run(config, l, s)
        }
    })
    .await;
    auth.signing_key_pem = new_pem;
    let after = auth.admin().await;
    tokio::time::sleep(REFETCH_FLOOR).await;
    verifier
        .verify(&after.access_token)
        .await
        .expect("new key fetched on sight");
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
    verifier
        .verify(&before.access_token)
        .await
        .expect("old key still published");

    // Tokens under made-up kids: refused, and at most one fetch between them.
    let other_pem = auth_svc::keys::generate_pem().unwrap();
    let started = std::time::Instant::now();
    for n in 0..20 {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(format!("made-up-{n}"));
        let now = chrono_now();
        let claims = serde_json_claims(&after.user_id, now);
        let key = jsonwebtoken::EncodingKey::from_ed_pem(other_pem.as_bytes()).unwrap();
        let token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
        assert!(matches!(
            verifier.verify(&token).await,
            Err(VerifyError::Unauthenticated(_))
        ));
    }
    // At most one fetch per floor interval, however many tokens came in it
    // (a slow machine gets more intervals, never more per interval).
    let intervals = started.elapsed().as_millis() / REFETCH_FLOOR.as_millis() + 1;
    let extra = fetches.load(Ordering::SeqCst) - 2;
    assert!(
        extra as u128 <= intervals,
        "{extra} fetches in {intervals} intervals"
    );
    assert!(extra < 20, "every made-up kid caused a fetch");
    drop(restarted);
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn serde_json_claims(sub: &str, now: i64) -> service_kit::auth::AccessClaims {
    service_kit::auth::AccessClaims {
        iss: "kursi".into(),
        sub: sub.into(),
        aud: "kursi".into(),
        exp: now + 600,
        iat: now,
        nbf: now,
        jti: "x".into(),
        roles: vec!["ADMIN".into()],
    }
}

fn testkit_auth_config(db_url: &str, pem: &str) -> auth_svc::config::AuthConfig {
    testkit::auth_config(db_url, pem)
}
