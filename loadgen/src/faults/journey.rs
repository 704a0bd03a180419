//! The fault load's journeys through the edge: a reservation booked, read,
//! confirmed, put on a table, every other one cancelled, read again; an
//! order of one ticket, read, paid (every other one) or cancelled, read
//! again. How each request is sent, and sent again, is in `sending`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::{HeaderValue, Method};
use serde_json::{Value, json};
use tonic::Code;

use super::ledger::{Created, Family, Ledger, Op};
use super::prepare::Prepared;
use super::sending::{Call, Reply};
use crate::client::{RestClient, rest_booking};
use crate::orders::seats_left;

/// What every worker shares.
#[derive(Debug)]
pub struct Shared {
    pub prepared: Prepared,
    pub workers: usize,
    /// One attempt not answered within this is a `TIMEOUT`.
    pub timeout: Duration,
    /// How long one call is retried before its journey is given up.
    pub patience: Duration,
    pub stop: AtomicBool,
}

pub struct Worker {
    pub(super) shared: Arc<Shared>,
    pub(super) http: RestClient,
    index: usize,
    /// Showtimes of this worker that sold out.
    sold_out: usize,
    pub(super) ledger: Ledger,
}

impl Worker {
    pub fn new(shared: Arc<Shared>, http: RestClient, index: usize) -> Self {
        Self {
            shared,
            http,
            index,
            sold_out: 0,
            ledger: Ledger::default(),
        }
    }

    /// Journeys until the load is stopped: reservations for the workers of
    /// even index, orders for the others, so that one half stalling (a
    /// client waits on its answer) does not stall the other.
    pub async fn run(mut self) -> Ledger {
        let mut n = 0u64;
        while !self.stopping() {
            if self.index.is_multiple_of(2) {
                self.reservation(n).await;
            } else {
                self.order(n).await;
            }
            n += 1;
        }
        self.ledger
    }

    pub(super) fn stopping(&self) -> bool {
        self.shared.stop.load(Ordering::Relaxed)
    }

    async fn reservation(&mut self, n: u64) {
        let shared = self.shared.clone();
        let p = &shared.prepared;
        let ticket = n * shared.workers as u64 + self.index as u64;
        let customer = ticket as usize % p.customers.len().max(1);
        let Some(c) = p.customers.get(customer) else {
            return;
        };
        let body = rest_booking(&c.email, p.now_unix, ticket);
        let key = format!("faults-{}-r{}-{n}", p.run, self.index);
        let made = self.create(
            Op::BookTable,
            Family::Reservations,
            "/api/reservations",
            body,
            key,
            customer,
        );
        let Some(id) = made.await else {
            return;
        };
        let path = format!("/api/reservations/{id}");
        if self
            .read(Op::ReadReservation, &path, &c.bearer)
            .await
            .is_none()
        {
            return;
        }
        let confirm = Call::post(
            Op::ConfirmReservation,
            format!("{path}/confirm"),
            json!({}),
            &p.staff,
        );
        if self.change(confirm, &path, "CONFIRMED").await.is_none() {
            return;
        }
        let table = &p.tables[ticket as usize % p.tables.len().max(1)];
        self.assign(&path, table, &p.staff).await;
        if n.is_multiple_of(2) {
            let body = json!({"reason_code": "CUSTOMER_REQUEST"});
            let cancel = Call::post(
                Op::CancelReservation,
                format!("{path}/cancel"),
                body,
                &c.bearer,
            );
            if self.change(cancel, &path, "CANCELLED").await.is_none() {
                return;
            }
        }
        self.read(Op::ReadReservation, &path, &c.bearer).await;
    }

    async fn order(&mut self, n: u64) {
        let shared = self.shared.clone();
        let p = &shared.prepared;
        let Some(showtime) = p.showtime(self.index, shared.workers, self.sold_out) else {
            // Every showtime of this worker sold out: it has nothing to do.
            tokio::time::sleep(Duration::from_millis(100)).await;
            return;
        };
        let customer = (n as usize + self.index) % p.customers.len().max(1);
        let Some(c) = p.customers.get(customer) else {
            return;
        };
        let body = json!({"showtime_id": showtime, "quantity": 1});
        let key = format!("faults-{}-o{}-{n}", p.run, self.index);
        let Some(id) = self
            .create(
                Op::OrderTickets,
                Family::Orders,
                "/api/orders",
                body,
                key,
                customer,
            )
            .await
        else {
            return;
        };
        let path = format!("/api/orders/{id}");
        if self.read(Op::ReadOrder, &path, &c.bearer).await.is_none() {
            return;
        }
        let done = if n.is_multiple_of(2) {
            let body = json!({"payment_reference": format!("faults-{}-{}-{n}", p.run, self.index)});
            let pay = Call::post(Op::PayOrder, format!("{path}/pay"), body, &c.bearer);
            self.change(pay, &path, "PAID").await
        } else {
            let cancel = Call::post(
                Op::CancelOrder,
                format!("{path}/cancel"),
                json!({}),
                &c.bearer,
            );
            self.change(cancel, &path, "CANCELLED").await
        };
        if done.is_some() {
            self.read(Op::ReadOrder, &path, &c.bearer).await;
        }
    }

    /// A create with its key; the id it made, or `None` (its outcome
    /// unknown, or refused). Recorded in the ledger either way.
    async fn create(
        &mut self,
        op: Op,
        family: Family,
        path: &str,
        body: Value,
        key: String,
        customer: usize,
    ) -> Option<String> {
        let shared = self.shared.clone();
        let bearer = &shared.prepared.customers.get(customer)?.bearer;
        let call = Call {
            op,
            method: Method::POST,
            path: path.to_owned(),
            body: Some(body.clone()),
            bearer,
            key: Some(&key),
        };
        let id_field = match family {
            Family::Reservations => "reservation_id",
            Family::Orders => "order_id",
        };
        let id = match self.call(&call).await {
            Reply::Done(made) => made[id_field].as_str().map(str::to_owned),
            Reply::Refused(refusal) => {
                // The showtime sold out: not a failure; the next one is used.
                let sold_out = refusal.code == Code::FailedPrecondition
                    && seats_left(&refusal.message).is_some_and(|left| left < 1);
                if sold_out {
                    self.sold_out += 1;
                }
                self.settle(op, refusal, sold_out.then_some("SOLD_OUT"));
                None
            }
            Reply::GaveUp => None,
        };
        self.ledger.created.push(Created {
            family,
            customer,
            key,
            body,
            ids: id.iter().cloned().collect(),
        });
        id
    }

    /// A read; any refusal is a failure (the resource is there, and ours).
    async fn read(&mut self, op: Op, path: &str, bearer: &HeaderValue) -> Option<Value> {
        let call = Call {
            op,
            method: Method::GET,
            path: path.to_owned(),
            body: None,
            bearer,
            key: None,
        };
        self.expect_done(&call).await
    }

    /// A change to `status`. Refused after a retry, it may be that the first
    /// attempt made it and its answer was lost: the resource is read, and
    /// if it shows `status` the refusal is the answer to a repeat (a real
    /// client does the same), not a failure.
    async fn change(&mut self, call: Call<'_>, get_path: &str, status: &str) -> Option<Value> {
        match self.call(&call).await {
            Reply::Done(value) => Some(value),
            Reply::GaveUp => None,
            Reply::Refused(refusal) => {
                let already = if refusal.retried && refusal.code == Code::FailedPrecondition {
                    self.read(read_op(call.op), get_path, call.bearer).await
                } else {
                    None
                };
                match already {
                    Some(now) if now["status"] == status => {
                        self.settle(call.op, refusal, Some("ALREADY"));
                        Some(now)
                    }
                    _ => {
                        self.settle(call.op, refusal, None);
                        None
                    }
                }
            }
        }
    }

    /// Puts a reservation on a table; the table being taken at that time is
    /// the rules' answer, not a failure.
    async fn assign(&mut self, path: &str, table: &str, staff: &HeaderValue) {
        let body = json!({"table_id": table});
        let call = Call::post(Op::AssignTable, format!("{path}/assign-table"), body, staff);
        if let Reply::Refused(refusal) = self.call(&call).await {
            let taken = refusal.code == Code::FailedPrecondition;
            self.settle(Op::AssignTable, refusal, taken.then_some("TABLE_TAKEN"));
        }
    }

    async fn expect_done(&mut self, call: &Call<'_>) -> Option<Value> {
        match self.call(call).await {
            Reply::Done(value) => Some(value),
            Reply::Refused(refusal) => {
                self.settle(call.op, refusal, None);
                None
            }
            Reply::GaveUp => None,
        }
    }
}

/// The read that shows what a change did.
fn read_op(op: Op) -> Op {
    match op.family() {
        Family::Reservations => Op::ReadReservation,
        Family::Orders => Op::ReadOrder,
    }
}
