//! The order commands: create, get, list, pay and cancel. Each loads what
//! the rules (`domain`) look at, asks them, and writes the order, its seats,
//! its tickets and its outbox event in one transaction.
//!
//! Handlers in `api` parse requests and call these; these call `db`.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::result::Error as DieselError;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use futures_util::future::{try_join3, try_join4};
use kursi_proto::order::v1 as pb;
use pb::order_event::Event;
use service_kit::ServiceError;
use service_kit::auth::Actor;
use service_kit::clock::Clock;
use service_kit::db::{Pool, RefuseExt};
use service_kit::outbox::Outbox;
use service_kit::values::IdempotencyKey;
use uuid::Uuid;

use crate::catalog::{Catalog, CatalogShowtime};
use crate::db::orders::{self, Filter, OrderRow};
use crate::db::showtimes::{self, ShowtimeRow};
use crate::db::tickets::{self, TicketRow};
use crate::db::{self, seats};
use crate::domain::seats::{outside_the_layout, pick};
use crate::domain::showtime::{check_not_called_off, check_orderable, check_payable};
use crate::domain::{Command, OrderStatus, Refusal, Seat, Wanted};
use crate::render;
use crate::transition::{self, Changed};

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
    hold: chrono::Duration,
    clock: Clock,
}

/// An order being made: by whom, for whom, what, of which showtime, when.
struct Making<'a> {
    actor: Actor,
    customer_id: Uuid,
    key: Option<&'a str>,
    wanted: &'a Wanted,
    showtime: &'a CatalogShowtime,
    now: DateTime<Utc>,
}

/// Why an order's transaction wrote nothing.
enum NotCreated {
    /// A concurrent retry with the same key made the order first.
    KeyTaken,
    Failed(ServiceError),
}

impl From<Refusal> for NotCreated {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::KeyTaken => NotCreated::KeyTaken,
            refusal => NotCreated::Failed(refusal.into()),
        }
    }
}

impl From<ServiceError> for NotCreated {
    fn from(err: ServiceError) -> Self {
        NotCreated::Failed(err)
    }
}

impl From<DieselError> for NotCreated {
    fn from(err: DieselError) -> Self {
        NotCreated::Failed(err.into())
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
            hold: chrono::Duration::from_std(hold).unwrap_or_default(),
            clock,
        }
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    pub(crate) fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub(crate) fn outbox(&self) -> &Outbox {
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
        if let Some(first) = self.replay(customer_id, key).await? {
            return Ok(first);
        }
        // Before anything is written: a catalog that is down or slow leaves
        // nothing behind.
        let showtime = self.catalog.showtime(draft.showtime_id, bearer).await?;
        let now = self.clock.now();
        check_orderable(&showtime.copy.state(), now)?;
        outside_the_layout(&draft.wanted, showtime.copy.layout())?;
        let making = Making {
            actor,
            customer_id,
            key,
            wanted: &draft.wanted,
            showtime: &showtime,
            now,
        };
        let mut conn = self.pool.get().await?;
        let made = conn
            .transaction(async |conn| self.make(conn, &making).await)
            .await;
        match made {
            Ok(row) => {
                self.outbox.committed();
                tracing::debug!(order_id = %row.id, "order created");
                Ok((row, Vec::new()))
            }
            Err(NotCreated::KeyTaken) => self
                .replay(customer_id, key)
                .await?
                .ok_or_else(|| Refusal::KeyTaken.into()),
            Err(NotCreated::Failed(err)) => Err(err),
        }
    }

    /// The order made with `key` before, with its tickets.
    async fn replay(
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

    /// The order's transaction: the key's turn, the showtime's seats as
    /// they are, the seats picked, then the order, its seats and its event
    /// written together.
    async fn make(
        &self,
        conn: &mut AsyncPgConnection,
        making: &Making<'_>,
    ) -> Result<OrderRow, NotCreated> {
        if let Some(key) = making.key {
            orders::lock_idempotency_key(conn, making.customer_id, key).await?;
            // A retry that raced the first attempt here: the first order
            // answers it, read again once this transaction has ended.
            if orders::find_by_idempotency_key(conn, making.customer_id, key)
                .await?
                .is_some()
            {
                return Err(NotCreated::KeyTaken);
            }
        }
        let (local, taken) = taken_seats(conn, &making.showtime.copy, making.now).await?;
        check_not_called_off(&local.state())?;
        let picked = pick(making.wanted, local.layout(), &taken)?;
        let order = self.pending(making, &local, &picked);
        // And one more round trip: the order, its seats and its event, the
        // event rendered from the row as it will be stored.
        let event = Event::Created(pb::OrderCreated {
            order: Some(render::order(&order, &[])),
        });
        let shared: &AsyncPgConnection = conn;
        let insert = async { orders::insert(shared, &order).await.refuse(db::refusal) };
        let hold = async {
            seats::hold(shared, order.id, local.id, local.layout(), &picked)
                .await
                .refuse(db::refusal)
        };
        let append = async {
            transition::append(shared, &order, making.actor, making.now, event)
                .await
                .map_err(NotCreated::from)
        };
        let (row, (), ()) = try_join3(insert, hold, append).await?;
        Ok(row)
    }

    /// The new order, PENDING and holding `picked` for the hold's time.
    fn pending(&self, making: &Making<'_>, showtime: &ShowtimeRow, picked: &[Seat]) -> OrderRow {
        let price = making.showtime.price;
        let now = making.now;
        OrderRow {
            id: Uuid::now_v7(),
            customer_id: making.customer_id,
            showtime_id: showtime.id,
            movie_id: showtime.movie_id,
            movie_title: showtime.movie_title.clone(),
            showtime_start: showtime.start_time,
            auditorium: showtime.auditorium.clone(),
            seats: picked.iter().map(|seat| seat.label()).collect(),
            quantity: picked.len() as i32,
            unit_price: price,
            total_amount: price * picked.len() as i64,
            status: OrderStatus::Pending.as_str().into(),
            expire_at: now + self.hold,
            payment_reference: None,
            paid_at: None,
            closed_at: None,
            close_reason: None,
            idempotency_key: making.key.map(str::to_owned),
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    pub async fn get(&self, actor: Actor, id: Uuid) -> Result<Changed, ServiceError> {
        let conn = self.pool.get().await?;
        let row = visible(actor, id, orders::find(&conn, id).await?)?;
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
        let now = self.clock.now();
        let mut conn = self.pool.get().await?;
        let (changed, wrote) = conn
            .transaction(async |conn| {
                let row = visible(actor, id, orders::find_for_update(conn, id).await?)?;
                if let Command::Pay { .. } = command {
                    let showtime = showtimes::find(conn, row.showtime_id).await?;
                    check_payable(
                        showtime.as_ref().map(ShowtimeRow::state).as_ref(),
                        row.state()?.status,
                    )?;
                }
                match transition::apply(conn, &row, &command, actor, now).await? {
                    Some(changed) => Ok::<_, ServiceError>((changed, true)),
                    None => {
                        let tickets = tickets::of_orders(conn, &[row.id]).await?;
                        Ok(((row, tickets), false))
                    }
                }
            })
            .await?;
        if wrote {
            self.outbox.committed();
        }
        Ok(changed)
    }
}

/// The order `id` as `actor` may see it: customers see only their own, and
/// others' do not exist for them.
fn visible(actor: Actor, id: Uuid, row: Option<OrderRow>) -> Result<OrderRow, Refusal> {
    row.filter(|row| actor.may_see(row.customer_id))
        .ok_or(Refusal::UnknownOrder(id))
}

/// Takes the showtime's turn, stores the catalog's `copy` of it, expires
/// its orders whose hold ran out by `now`, and gives the stored copy and
/// the seats its live orders hold or bought.
async fn taken_seats(
    conn: &mut AsyncPgConnection,
    copy: &ShowtimeRow,
    now: DateTime<Utc>,
) -> Result<(ShowtimeRow, HashSet<Seat>), ServiceError> {
    // One round trip: the showtime's turn, its copy, its overdue holds and
    // its taken seats, sent together (pipelined); PostgreSQL runs them in
    // order, so the reads come after the turn is ours.
    let shared: &AsyncPgConnection = conn;
    let (_, local, overdue, live) = try_join4(
        showtimes::lock(shared, copy.id),
        showtimes::upsert(shared, copy),
        orders::lock_overdue_of_showtime(shared, copy.id, now),
        seats::live(shared, copy.id),
    )
    .await?;
    let live = if overdue.is_empty() {
        live
    } else {
        crate::sweeper::expire(conn, &overdue, now).await?;
        seats::live(conn, local.id).await?
    };
    Ok((local, live.iter().map(seats::LiveSeat::seat).collect()))
}
