//! The data a scenario needs, made through the public gRPC API as any
//! client would make it: customer accounts registered, the bootstrap admin
//! signed in to promote a staff account, tables created by that staff
//! account, and reservations booked by the customers; for the order
//! scenarios, a movie and showtimes scheduled by the admin (`cinema`).
//! Nothing goes through SQL, so the services' own rules apply to all of it.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow};
use futures_util::{StreamExt, TryStreamExt};
use kursi_proto::access::v1::Role;
use kursi_proto::auth::v1::auth_service_client::AuthServiceClient;
use kursi_proto::auth::v1::{LoginRequest, RegisterRequest, SetUserRoleRequest};
use kursi_proto::reservation::v1::reservation_service_client::ReservationServiceClient;
use kursi_proto::reservation::v1::{ContactInfo, CreateReservationRequest, CreateTableRequest};
use tonic::transport::{Channel, Endpoint};

use crate::cinema::{Cinema, Layout};
use crate::scenario::{Scenario, start_time};

/// How many accounts are registered or signed in at once while preparing:
/// each costs a bcrypt hash on auth-svc, so more would only queue there.
const AT_ONCE: usize = 4;
/// Tables the staff account creates, one per capacity.
const TABLE_CAPACITIES: [i32; 4] = [2, 4, 6, 8];
/// The password of every account the load generator registers.
pub(crate) const PASSWORD: &str = "loadgen-password";

/// Where the services are and who may prepare data.
#[derive(Debug, Clone)]
pub struct Setup {
    pub auth_url: String,
    pub reservation_url: String,
    pub catalog_url: String,
    pub order_url: String,
    /// The bootstrap admin's email and password (not needed by login).
    pub admin: Option<(String, String)>,
    pub users: usize,
    pub reservations_per_user: usize,
    /// The seats of every showtime the order scenarios schedule.
    pub layout: Layout,
    /// Showtimes scheduled up front (create-order's; a seat rush schedules
    /// its own per transport).
    pub showtimes: usize,
}

/// A customer account the scenarios act as.
#[derive(Debug, Clone)]
pub struct User {
    pub email: String,
    pub password: String,
    /// Empty for the login scenario, which signs in on every request.
    pub access_token: String,
    pub reservation_ids: Vec<String>,
}

/// Everything prepared for one run.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub users: Vec<User>,
    /// When the run started, Unix seconds: start times are counted from it.
    pub now_unix: i64,
    /// The movie and showtimes of the order scenarios.
    pub cinema: Option<Cinema>,
}

/// A gRPC channel, connected now so a wrong address fails before the run.
pub async fn connect(url: &str) -> anyhow::Result<Channel> {
    Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("{url} is not a gRPC address"))?
        .connect()
        .await
        .with_context(|| format!("cannot connect to {url}"))
}

pub async fn prepare(scenario: Scenario, setup: &Setup) -> anyhow::Result<Fixture> {
    let now_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    // Names unique to this run, so runs never collide on emails or labels.
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let auth = AuthServiceClient::new(connect(&setup.auth_url).await?);

    let emails: Vec<String> = (0..setup.users)
        .map(|i| format!("loadgen-{run}-{i}@example.com"))
        .collect();
    futures_util::stream::iter(emails.iter().cloned())
        .map(|email| register(auth.clone(), email))
        .buffer_unordered(AT_ONCE)
        .try_collect::<Vec<_>>()
        .await?;
    if !scenario.signs_in() {
        let users = emails.into_iter().map(User::new).collect();
        return Ok(Fixture {
            users,
            now_unix,
            cinema: None,
        });
    }

    let (admin_email, admin_password) = setup
        .admin
        .clone()
        .ok_or_else(|| anyhow!("the bootstrap admin's password is needed to prepare"))?;
    let admin = login(auth.clone(), &admin_email, &admin_password)
        .await
        .context("signing in as the bootstrap admin (check --admin-email/--admin-password)")?;
    let reservations = if scenario.needs_reservations() {
        Some(tables(setup, auth.clone(), &admin, &run).await?)
    } else {
        None
    };
    let cinema = if scenario.orders_tickets() {
        let mut cinema =
            Cinema::open(&setup.catalog_url, &admin, &run, setup.layout, now_unix).await?;
        for _ in 0..setup.showtimes {
            let id = cinema.schedule().await?;
            cinema.showtime_ids.push(id);
        }
        Some(cinema)
    } else {
        None
    };

    let tokens: Vec<String> = futures_util::stream::iter(emails.iter().cloned())
        .map(|email| {
            let auth = auth.clone();
            async move { login(auth, &email, PASSWORD).await }
        })
        .buffered(AT_ONCE)
        .try_collect()
        .await?;
    let mut users = Vec::with_capacity(emails.len());
    for (i, (email, token)) in emails.into_iter().zip(tokens).enumerate() {
        let mut user = User::new(email);
        user.access_token = token;
        if let Some(reservations) = &reservations {
            for n in 0..setup.reservations_per_user {
                let ticket = (i * setup.reservations_per_user + n) as u64;
                let id = book(reservations.clone(), &user, now_unix, ticket).await?;
                user.reservation_ids.push(id);
            }
        }
        users.push(user);
    }
    Ok(Fixture {
        users,
        now_unix,
        cinema,
    })
}

/// A staff account, promoted by the admin, creates the tables; the client
/// returned books the reservations.
async fn tables(
    setup: &Setup,
    auth: AuthServiceClient<Channel>,
    admin: &str,
    run: &str,
) -> anyhow::Result<ReservationServiceClient<Channel>> {
    let staff = staff_account(auth, admin, run).await?;
    let reservations = ReservationServiceClient::new(connect(&setup.reservation_url).await?);
    for (i, capacity) in TABLE_CAPACITIES.into_iter().enumerate() {
        reservations
            .clone()
            .create_table(bearer(
                &staff,
                CreateTableRequest {
                    label: format!("lg-{run}-{i}"),
                    capacity,
                    area: "Loadgen".into(),
                },
            )?)
            .await
            .context("creating a table as staff")?;
    }
    Ok(reservations)
}

impl User {
    fn new(email: String) -> Self {
        Self {
            email,
            password: PASSWORD.into(),
            access_token: String::new(),
            reservation_ids: Vec::new(),
        }
    }
}

pub(crate) async fn register(
    mut auth: AuthServiceClient<Channel>,
    email: String,
) -> anyhow::Result<String> {
    let reply = auth
        .register(RegisterRequest {
            email: email.clone(),
            password: PASSWORD.into(),
            display_name: "Loadgen Customer".into(),
            username: String::new(),
        })
        .await
        .with_context(|| format!("registering {email}"))?;
    reply
        .into_inner()
        .user
        .map(|user| user.user_id)
        .ok_or_else(|| anyhow!("Register answered without the user"))
}

pub(crate) async fn login(
    mut auth: AuthServiceClient<Channel>,
    username: &str,
    password: &str,
) -> anyhow::Result<String> {
    let reply = auth
        .login(LoginRequest {
            username: username.into(),
            password: password.into(),
            grant_type: String::new(),
        })
        .await
        .with_context(|| format!("signing in as {username}"))?;
    Ok(reply.into_inner().access_token)
}

/// A new account made STAFF by the admin, signed in again so its token
/// carries the role.
pub(crate) async fn staff_account(
    auth: AuthServiceClient<Channel>,
    admin_token: &str,
    run: &str,
) -> anyhow::Result<String> {
    let email = format!("loadgen-{run}-staff@example.com");
    let user_id = register(auth.clone(), email.clone()).await?;
    auth.clone()
        .set_user_role(bearer(
            admin_token,
            SetUserRoleRequest {
                user_id,
                role: Role::Staff as i32,
            },
        )?)
        .await
        .context("promoting the staff account (is the admin an ADMIN?)")?;
    login(auth, &email, PASSWORD).await
}

/// One reservation for `user`, as the create-reservation scenario books it.
async fn book(
    mut reservations: ReservationServiceClient<Channel>,
    user: &User,
    now_unix: i64,
    ticket: u64,
) -> anyhow::Result<String> {
    let reply = reservations
        .create_reservation(bearer(
            &user.access_token,
            booking(&user.email, now_unix, ticket),
        )?)
        .await
        .with_context(|| format!("booking a reservation for {}", user.email))?;
    reply
        .into_inner()
        .reservation
        .map(|r| r.reservation_id)
        .ok_or_else(|| anyhow!("CreateReservation answered without the reservation"))
}

/// The request the create-reservation scenario sends over gRPC.
pub fn booking(email: &str, now_unix: i64, ticket: u64) -> CreateReservationRequest {
    CreateReservationRequest {
        customer_id: String::new(),
        contact_info: Some(ContactInfo {
            name: "Loadgen Guest".into(),
            phone: "08123456789".into(),
            email: email.into(),
        }),
        party_size: Some(2),
        start_time: Some(prost_types::Timestamp {
            seconds: start_time(now_unix, ticket),
            nanos: 0,
        }),
        duration_minutes: None,
        note: String::new(),
        idempotency_key: String::new(),
        customer_email: String::new(),
    }
}

/// A request with `authorization: Bearer <token>`.
pub fn bearer<T>(token: &str, message: T) -> anyhow::Result<tonic::Request<T>> {
    let mut request = tonic::Request::new(message);
    let value = format!("Bearer {token}")
        .parse()
        .context("the access token is not ASCII")?;
    request.metadata_mut().insert("authorization", value);
    Ok(request)
}
