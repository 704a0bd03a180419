//! The data the fault load runs on, made through the public gRPC API before
//! any fault: customers, a staff account, tables, and showtimes to order
//! from (two per worker, of 26 × 50 seats, so paid orders do not sell them
//! out in a run).

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use futures_util::{StreamExt, TryStreamExt};
use http::HeaderValue;
use kursi_proto::auth::v1::auth_service_client::AuthServiceClient;
use kursi_proto::reservation::v1::CreateTableRequest;
use kursi_proto::reservation::v1::reservation_service_client::ReservationServiceClient;

use crate::cinema::{Cinema, Layout};
use crate::fixture::{PASSWORD, bearer, connect, login, register, staff_account};

/// Tables the staff account creates; each seats 4.
const TABLES: usize = 12;
/// Showtimes per worker: a worker moves to its next one when one sells out.
const SHOWTIMES_PER_WORKER: usize = 2;
const LAYOUT: Layout = Layout {
    rows: 26,
    seats_per_row: 50,
};
/// Accounts registered or signed in at once (bcrypt on auth-svc).
const AT_ONCE: usize = 4;

/// Where the services are, and who prepares.
#[derive(Debug, Clone)]
pub struct Setup {
    pub auth_url: String,
    pub reservation_url: String,
    pub catalog_url: String,
    pub admin_email: String,
    pub admin_password: String,
    pub customers: usize,
    pub workers: usize,
}

/// A customer the load acts as.
#[derive(Debug, Clone)]
pub struct Customer {
    pub email: String,
    pub user_id: String,
    pub bearer: HeaderValue,
}

#[derive(Debug)]
pub struct Prepared {
    /// Unique to the run: in every key, email, label and payment reference.
    pub run: String,
    pub now_unix: i64,
    pub customers: Vec<Customer>,
    /// Confirms reservations and assigns their tables.
    pub staff: HeaderValue,
    pub tables: Vec<String>,
    pub showtimes: Vec<String>,
}

pub async fn prepare(setup: &Setup) -> anyhow::Result<Prepared> {
    let now_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let auth = AuthServiceClient::new(connect(&setup.auth_url).await?);
    let admin = login(auth.clone(), &setup.admin_email, &setup.admin_password)
        .await
        .context("signing in as the bootstrap admin")?;

    let staff = staff_account(auth.clone(), &admin, &format!("faults-{run}")).await?;
    let mut reservations = ReservationServiceClient::new(connect(&setup.reservation_url).await?);
    let mut tables = Vec::with_capacity(TABLES);
    for i in 0..TABLES {
        let request = CreateTableRequest {
            label: format!("f-{run}-{i}"),
            capacity: 4,
            area: "Faults".into(),
        };
        let table = reservations
            .create_table(bearer(&staff, request)?)
            .await
            .context("creating a table as staff")?
            .into_inner()
            .table
            .context("CreateTable answered without the table")?;
        tables.push(table.table_id);
    }

    let cinema = Cinema::open(&setup.catalog_url, &admin, &run, LAYOUT, now_unix).await?;
    let mut showtimes = Vec::new();
    for _ in 0..setup.workers * SHOWTIMES_PER_WORKER {
        showtimes.push(cinema.schedule().await?);
    }

    let emails: Vec<String> = (0..setup.customers)
        .map(|i| format!("faults-{run}-{i}@example.com"))
        .collect();
    let customers = futures_util::stream::iter(emails)
        .map(|email| customer(auth.clone(), email))
        .buffered(AT_ONCE)
        .try_collect()
        .await?;
    Ok(Prepared {
        run,
        now_unix,
        customers,
        staff: HeaderValue::try_from(format!("Bearer {staff}"))?,
        tables,
        showtimes,
    })
}

async fn customer(
    auth: AuthServiceClient<tonic::transport::Channel>,
    email: String,
) -> anyhow::Result<Customer> {
    let user_id = register(auth.clone(), email.clone()).await?;
    let token = login(auth, &email, PASSWORD).await?;
    Ok(Customer {
        email,
        user_id,
        bearer: HeaderValue::try_from(format!("Bearer {token}"))?,
    })
}

impl Prepared {
    /// The showtime worker `worker` orders from after `sold_out` of its
    /// showtimes sold out; `None` when it has none left.
    pub fn showtime(&self, worker: usize, workers: usize, sold_out: usize) -> Option<&str> {
        if sold_out >= SHOWTIMES_PER_WORKER {
            return None;
        }
        self.showtimes
            .get(worker + sold_out * workers.max(1))
            .map(String::as_str)
    }
}
