//! The order rules at work: each command runs in one transaction that
//! writes the order, its seats, its tickets and its outbox event together.
//!
//! Handlers in `api` parse requests and call these; these call `db`.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use futures_util::future::{try_join3, try_join4};
use kursi_proto::order::v1 as pb;
use pb::order_event::Event;
use service_kit::ServiceError;
use service_kit::auth::Actor;
use service_kit::clock::Clock;
use service_kit::db::Pool;
use service_kit::outbox::Outbox;
use service_kit::values::IdempotencyKey;
use uuid::Uuid;

use crate::catalog::Catalog;
use crate::db::orders::{self, Filter, OrderRow};
use crate::db::tickets::{self, TicketRow};
use crate::db::{self, seats, showtimes};
use crate::domain::{Command, Layout, OrderStatus, Seat};
use crate::render;
use crate::transition::{self, Changed};

/// What an order asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// So many seats, picked by the service.
    Quantity(i32),
    /// These seats, in row then number order, no duplicates.
    Seats(Vec<Seat>),
}

/// A validated CreateOrder.
#[derive(Debug, Clone)]
pub struct OrderDraft {
    /// The customer named in the request, if any: whom the order is for is
    /// decided with the actor.
    pub customer_id: Option<Uuid>,
    pub showtime_id: Uuid,
    pub wanted: Wanted,
    pub idempotency_key: Option<IdempotencyKey>,
}

#[derive(Clone)]
pub struct Orders {
    pool: Pool,
    outbox: Outbox,
    catalog: Catalog,
    hold: Duration,
    clock: Clock,
}

pub fn not_found(id: Uuid) -> ServiceError {
    ServiceError::NotFound(format!("no order with id {id}"))
}

enum Refused {
    Service(ServiceError),
    /// The key raced in from a concurrent retry.
    Duplicate,
}

impl<E: Into<ServiceError>> From<E> for Refused {
    fn from(err: E) -> Self {
        Refused::Service(err.into())
    }
}

impl Orders {
    /// A PENDING order holds its seats for `hold`; every rule reads the
    /// time from `clock`.
    pub fn new(outbox: Outbox, catalog: Catalog, hold: Duration, clock: Clock) -> Self {
        Self {
            pool: outbox.pool().clone(),
            outbox,
            catalog,
            hold,
            clock,
        }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Orders seats of a showtime: asks the catalog for it (on the caller's
    /// behalf, `bearer`), then holds the seats. A key seen before for this
    /// customer returns the order it made.
    pub async fn create(
        &self,
        actor: Actor,
        bearer: &str,
        draft: OrderDraft,
    ) -> Result<Changed, ServiceError> {
        let customer_id = actor.acting_for(draft.customer_id, "order")?;
        let key = draft.idempotency_key.as_ref().map(IdempotencyKey::as_str);
        if let Some(first) = self.first_with_key(customer_id, key).await? {
            return Ok(first);
        }
        // Before anything is written: a catalog that is down or slow leaves
        // nothing behind.
        let showtime = self.catalog.showtime(draft.showtime_id, bearer).await?;
        let now = self.clock.now();
        check_orderable(&showtime.copy, now)?;
        let layout = showtime.copy.layout();
        if let Wanted::Seats(chosen) = &draft.wanted {
            outside_the_layout(chosen, layout)?;
        }
        let hold = chrono::Duration::from_std(self.hold).unwrap_or_default();
        let mut conn = self.pool.get().await?;
        let result = conn
            .transaction(async |conn| {
                if let Some(key) = key {
                    orders::lock_idempotency_key(conn, customer_id, key).await?;
                    // A retry that raced the first attempt here: the
                    // first order, read again below.
                    if orders::find_by_idempotency_key(conn, customer_id, key)
                        .await?
                        .is_some()
                    {
                        return Err(Refused::Duplicate);
                    }
                }
                // One round trip: the showtime's turn, its copy, its
                // overdue holds and its taken seats, sent together
                // (pipelined); PostgreSQL runs them in order, so the reads
                // come after the turn is ours.
                let shared: &AsyncPgConnection = conn;
                let (_, local, overdue, live) = try_join4(
                    showtimes::lock(shared, draft.showtime_id),
                    showtimes::upsert(shared, &showtime.copy),
                    orders::lock_overdue_of_showtime(shared, draft.showtime_id, now),
                    seats::live(shared, draft.showtime_id),
                )
                .await?;
                if local.is_cancelled() {
                    return Err(Refused::Service(called_off(&local)));
                }
                let live = if overdue.is_empty() {
                    live
                } else {
                    crate::sweeper::expire(conn, &overdue, now).await?;
                    seats::live(conn, local.id).await?
                };
                let taken: HashSet<Seat> = live.iter().map(seats::LiveSeat::seat).collect();
                let picked = pick(&draft.wanted, &local, &taken)?;
                let order = OrderRow {
                    id: Uuid::now_v7(),
                    customer_id,
                    showtime_id: local.id,
                    movie_id: local.movie_id,
                    movie_title: local.movie_title.clone(),
                    showtime_start: local.start_time,
                    auditorium: local.auditorium.clone(),
                    seats: picked.iter().map(|seat| seat.label()).collect(),
                    quantity: picked.len() as i32,
                    unit_price: showtime.price,
                    total_amount: showtime.price * picked.len() as i64,
                    status: OrderStatus::Pending.as_str().into(),
                    expire_at: now + hold,
                    payment_reference: None,
                    paid_at: None,
                    closed_at: None,
                    close_reason: None,
                    idempotency_key: key.map(str::to_owned),
                    version: 1,
                    created_at: now,
                    updated_at: now,
                };
                // And one more: the order, its seats and its event, the
                // event rendered from the row as it will be stored.
                let event = Event::Created(pb::OrderCreated {
                    order: Some(render::order(&order, &[])),
                });
                let shared: &AsyncPgConnection = conn;
                let insert = async {
                    orders::insert(shared, &order).await.map_err(|err| {
                        match db::unique_violated(&err) {
                            Some(db::IDEMPOTENCY_UNIQUE) => Refused::Duplicate,
                            _ => Refused::from(err),
                        }
                    })
                };
                let hold = async {
                    seats::hold(shared, order.id, local.id, layout, &picked)
                        .await
                        .map_err(|err| match db::unique_violated(&err) {
                            // Cannot happen while orders take turns per
                            // showtime; the index is the guarantee, this its
                            // message.
                            Some(db::LIVE_SEATS_UNIQUE) => Refused::Service(ServiceError::Aborted(
                                "a seat was taken meanwhile; order again".into(),
                            )),
                            _ => Refused::from(err),
                        })
                };
                let append = async {
                    transition::append(shared, &order, actor, now, event)
                        .await
                        .map_err(Refused::from)
                };
                let (row, (), ()) = try_join3(insert, hold, append).await?;
                Ok::<_, Refused>(row)
            })
            .await;
        match result {
            Ok(row) => {
                self.outbox.committed();
                tracing::debug!(order_id = %row.id, "order created");
                Ok((row, Vec::new()))
            }
            Err(Refused::Service(err)) => Err(err),
            Err(Refused::Duplicate) => {
                self.first_with_key(customer_id, key).await?.ok_or_else(|| {
                    ServiceError::Aborted("a concurrent retry is in flight; retry".into())
                })
            }
        }
    }

    async fn first_with_key(
        &self,
        customer_id: Uuid,
        key: Option<&str>,
    ) -> Result<Option<Changed>, ServiceError> {
        let Some(key) = key else {
            return Ok(None);
        };
        let conn = self.pool.get().await?;
        match orders::find_by_idempotency_key(&conn, customer_id, key).await? {
            Some(row) => {
                let tickets = tickets::of_orders(&conn, &[row.id]).await?;
                Ok(Some((row, tickets)))
            }
            None => Ok(None),
        }
    }

    pub async fn get(&self, actor: Actor, id: Uuid) -> Result<Changed, ServiceError> {
        let conn = self.pool.get().await?;
        let row = orders::find(&conn, id)
            .await?
            .filter(|row| actor.may_see(row.customer_id))
            .ok_or_else(|| not_found(id))?;
        let tickets = tickets::of_orders(&conn, &[row.id]).await?;
        Ok((row, tickets))
    }

    /// One page after `before`, the tickets of its orders, the number of
    /// matches, and whether more follow. Customers list only their own.
    pub async fn list(
        &self,
        actor: Actor,
        mut filter: Filter,
        before: Option<(DateTime<Utc>, Uuid)>,
        size: i64,
    ) -> Result<(Vec<OrderRow>, Vec<TicketRow>, i64, bool), ServiceError> {
        filter.customer_id = actor.listing_for(filter.customer_id, "orders")?;
        let conn = self.pool.get().await?;
        let mut rows = orders::page(&conn, &filter, before, size + 1).await?;
        let more = rows.len() as i64 > size;
        rows.truncate(size as usize);
        let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
        let tickets = tickets::of_orders(&conn, &ids).await?;
        let total = orders::count(&conn, &filter).await?;
        Ok((rows, tickets, total, more))
    }

    /// Pays or cancels an order.
    pub async fn run(
        &self,
        actor: Actor,
        id: Uuid,
        command: Command,
    ) -> Result<Changed, ServiceError> {
        let mut conn = self.pool.get().await?;
        let now = self.clock.now();
        let changed = conn
            .transaction(async |conn| {
                let row = orders::find_for_update(conn, id)
                    .await?
                    .filter(|row| actor.may_see(row.customer_id))
                    .ok_or_else(|| not_found(id))?;
                if matches!(command, Command::Pay { .. }) {
                    refuse_paying_for_a_cancelled_showtime(conn, &row).await?;
                }
                match transition::apply(conn, &row, &command, actor, now).await? {
                    Some(changed) => Ok::<_, ServiceError>((changed, true)),
                    None => {
                        let tickets = tickets::of_orders(conn, &[row.id]).await?;
                        Ok(((row, tickets), false))
                    }
                }
            })
            .await;
        let (changed, wrote) = changed?;
        if wrote {
            self.outbox.committed();
        }
        Ok(changed)
    }
}

/// A showtime takes orders while it is SCHEDULED and has not started.
fn check_orderable(
    showtime: &showtimes::ShowtimeRow,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    if showtime.is_cancelled() {
        return Err(called_off(showtime));
    }
    if showtime.start_time <= now {
        return Err(ServiceError::FailedPrecondition(format!(
            "the showtime started at {}; tickets are sold until it starts",
            showtime.start_time.to_rfc3339()
        )));
    }
    Ok(())
}

fn called_off(showtime: &showtimes::ShowtimeRow) -> ServiceError {
    ServiceError::FailedPrecondition(match &showtime.cancel_reason {
        Some(reason) => format!("the showtime was cancelled ({reason}); it takes no orders"),
        None => "the showtime was cancelled; it takes no orders".into(),
    })
}

async fn refuse_paying_for_a_cancelled_showtime(
    conn: &mut AsyncPgConnection,
    row: &OrderRow,
) -> Result<(), ServiceError> {
    match showtimes::find(conn, row.showtime_id).await? {
        Some(showtime) if showtime.is_cancelled() && row.status() == Some(OrderStatus::Pending) => {
            Err(called_off(&showtime))
        }
        _ => Ok(()),
    }
}

/// Every chosen seat that the layout does not have, named at once, so the
/// customer fixes them in one go.
fn outside_the_layout(chosen: &[Seat], layout: Layout) -> Result<(), ServiceError> {
    let outside: Vec<String> = chosen
        .iter()
        .filter(|seat| !layout.contains(**seat))
        .map(|seat| seat.label())
        .collect();
    if outside.is_empty() {
        return Ok(());
    }
    let last_row = Seat {
        row: layout.rows,
        number: 1,
    }
    .row_letter();
    Err(ServiceError::invalid(
        "seats",
        format!(
            "{} {} not a seat of this showtime (rows A to {last_row}, seats 1 to {})",
            outside.join(", "),
            if outside.len() == 1 { "is" } else { "are" },
            layout.seats_per_row
        ),
    ))
}

/// The seats an order gets, or why not.
fn pick(
    wanted: &Wanted,
    showtime: &showtimes::ShowtimeRow,
    taken: &HashSet<Seat>,
) -> Result<Vec<Seat>, ServiceError> {
    let layout = showtime.layout();
    match wanted {
        Wanted::Quantity(n) => layout.pick(taken, *n).ok_or_else(|| {
            let left = layout.capacity() - taken.len() as i32;
            ServiceError::FailedPrecondition(match left {
                0 => "the showtime is sold out".into(),
                1 => format!("only 1 seat is left; {n} were asked for"),
                _ => format!("only {left} seats are left; {n} were asked for"),
            })
        }),
        Wanted::Seats(chosen) => {
            let gone: Vec<String> = chosen
                .iter()
                .filter(|seat| taken.contains(seat))
                .map(|seat| seat.label())
                .collect();
            if gone.is_empty() {
                Ok(chosen.clone())
            } else {
                Err(ServiceError::FailedPrecondition(format!(
                    "{} {} held or sold; choose other seats",
                    gone.join(", "),
                    if gone.len() == 1 { "is" } else { "are" }
                )))
            }
        }
    }
}
