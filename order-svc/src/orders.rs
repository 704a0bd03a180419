//! The order commands: create, get, list, pay and cancel. Each loads what
//! the rules (`domain`) look at, asks them, and writes the order, its seats,
//! its tickets and its outbox event in one transaction.
//!
//! Handlers in `api` parse requests and call these; these call `db`.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::result::Error as DieselError;
use diesel_async::AsyncPgConnection;
use futures_util::future::{try_join, try_join3, try_join4};
use kursi_proto::order::v1 as pb;
use pb::order_event::Event;
use service_kit::ServiceError;
use service_kit::accounts::{Accounts, NamedCustomer};
use service_kit::auth::Actor;
use service_kit::clock::Clock;
use service_kit::db::{Lost, Pool, RefuseExt, ScopedFutureExt, read, transaction};
use service_kit::idempotency::{self, Claim, Fingerprint, Keyed};
use service_kit::outbox::Outbox;
use service_kit::values::IdempotencyKey;
use uuid::Uuid;

use crate::catalog::{Catalog, CatalogShowtime};
use crate::config::OrderConfig;
use crate::db::orders::{self, Filter, OrderRow};
use crate::db::showtimes::{self, ShowtimeRow};
use crate::db::tickets::{self, TicketRow};
use crate::db::{self, seats};
use crate::domain::admission::Doors;
use crate::domain::seats::{outside_the_layout, pick};
use crate::domain::showtime::{check_not_called_off, check_orderable, check_payable};
use crate::domain::{Command, OrderStatus, Refusal, Seat, Taken, Wanted};
use crate::render;
use crate::transition::{self, Changed};

/// The operation CreateOrder's idempotency keys belong to.
pub const CREATE_ORDER: &str = "CreateOrder";

/// A validated CreateOrder.
#[derive(Debug, Clone)]
pub struct OrderDraft {
    /// The customer named in the request, if any: whom the order is for is
    /// decided with the actor (`customers`).
    pub customer: Option<NamedCustomer>,
    pub showtime_id: Uuid,
    pub wanted: Wanted,
    pub idempotency_key: Option<IdempotencyKey>,
}

impl OrderDraft {
    /// What makes two CreateOrders the same request: whom the order is for
    /// (as resolved), the showtime, and the quantity or the chosen seats
    /// (in row then number order, as parsed).
    fn fingerprint(&self, customer_id: Uuid) -> Fingerprint {
        let request = Fingerprint::of(CREATE_ORDER)
            .field("customer_id", customer_id)
            .field("showtime_id", self.showtime_id);
        match &self.wanted {
            Wanted::Quantity(n) => request.field("quantity", n),
            Wanted::Seats(seats) => {
                let labels: Vec<String> = seats.iter().map(|seat| seat.label()).collect();
                request.field("seats", labels.join(","))
            }
        }
        .finish()
    }
}

#[derive(Clone)]
pub struct Orders {
    pool: Pool,
    outbox: Outbox,
    catalog: Catalog,
    accounts: Accounts,
    hold: chrono::Duration,
    key_ttl: chrono::Duration,
    doors: Doors,
    /// The cinema's clock, for the times refusals give.
    time_zone: Tz,
    clock: Clock,
}

/// An order being made: its id, by whom, for whom, with which key, what,
/// of which showtime, when.
struct Making<'a> {
    order_id: Uuid,
    actor: Actor,
    customer_id: Uuid,
    keyed: Option<&'a Keyed<'a>>,
    wanted: &'a Wanted,
    showtime: &'a CatalogShowtime,
    now: DateTime<Utc>,
}

/// Why an order's transaction wrote nothing.
enum NotCreated {
    /// A concurrent retry with the same key made its order first.
    KeyTaken,
    Failed(ServiceError),
}

impl From<Refusal> for NotCreated {
    fn from(refusal: Refusal) -> Self {
        NotCreated::Failed(refusal.into())
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

impl Lost for NotCreated {
    fn connection_lost(&self) -> bool {
        matches!(self, NotCreated::Failed(err) if err.connection_lost())
    }
}

impl Orders {
    /// A PENDING order holds its seats for `config.hold`, a key names its
    /// order for `config.idempotency_ttl`, a ticket admits from
    /// `config.doors_open` before its showing; every rule reads the time
    /// from the config's clock.
    pub fn new(outbox: Outbox, catalog: Catalog, accounts: Accounts, config: &OrderConfig) -> Self {
        Self {
            pool: outbox.pool().clone(),
            outbox,
            catalog,
            accounts,
            hold: chrono::Duration::from_std(config.hold).unwrap_or_default(),
            key_ttl: config.idempotency_ttl,
            doors: Doors {
                open_before: config.doors_open,
                time_zone: config.time_zone,
            },
            time_zone: config.time_zone,
            clock: config.common.clock.clone(),
        }
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    pub(crate) fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub(crate) fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    pub(crate) fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    pub(crate) fn doors(&self) -> &Doors {
        &self.doors
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Orders seats of a showtime for the customer the draft names (looked
    /// up when staff name one): asks the catalog for the showtime (on the
    /// caller's behalf, `bearer`), then holds the seats. A key this caller
    /// sent before with the same request returns the order it made; with
    /// another request, it is refused.
    pub async fn create(
        &self,
        actor: Actor,
        bearer: &str,
        draft: OrderDraft,
    ) -> Result<Changed, ServiceError> {
        let customer_id = self
            .customer(actor, bearer, draft.customer.as_ref())
            .await?;
        let keyed = draft.idempotency_key.as_ref().map(|key| Keyed {
            operation: CREATE_ORDER,
            // The key is the sender's: staff at the box office keep theirs
            // whoever they sell to (the service itself, which orders for
            // nobody, would be the nil id).
            caller: actor.user_id().unwrap_or_default(),
            key,
            fingerprint: draft.fingerprint(customer_id),
        });
        if let Some(keyed) = &keyed
            && let Some(first) = self.replay(keyed).await?
        {
            return Ok(first);
        }
        // Before anything is written: a catalog that is down or slow leaves
        // nothing behind.
        let showtime = self.catalog.showtime(draft.showtime_id, bearer).await?;
        let now = self.clock.now();
        check_orderable(&showtime.copy.state(), now)?;
        outside_the_layout(&draft.wanted, showtime.copy.layout())?;
        let making = Making {
            order_id: Uuid::now_v7(),
            actor,
            customer_id,
            keyed: keyed.as_ref(),
            wanted: &draft.wanted,
            showtime: &showtime,
            now,
        };
        let making = &making;
        let made = transaction(&self.pool, |conn| {
            async move { self.make(conn, making).await }.scope_boxed()
        })
        .await;
        match (made, &keyed) {
            (Ok(row), _) => {
                self.outbox.committed();
                tracing::debug!(order_id = %row.id, "order created");
                Ok((row, Vec::new()))
            }
            (Err(NotCreated::KeyTaken), Some(keyed)) => self
                .replay(keyed)
                .await?
                .ok_or_else(|| Refusal::KeyTaken.into()),
            (Err(NotCreated::KeyTaken), None) => Err(Refusal::KeyTaken.into()),
            (Err(NotCreated::Failed(err)), _) => Err(err),
        }
    }

    /// The order made with `keyed`'s key before, as it is now, with its
    /// tickets; a refusal when the key came with another request.
    async fn replay(&self, keyed: &Keyed<'_>) -> Result<Option<Changed>, ServiceError> {
        let now = self.clock.now();
        let first = read(&self.pool, |conn| {
            async move {
                let Some(id) = idempotency::first(conn, keyed, now).await? else {
                    return Ok::<_, ServiceError>(None);
                };
                let conn: &AsyncPgConnection = conn;
                let found =
                    try_join(orders::find(conn, id), tickets::of_orders(conn, &[id])).await?;
                Ok(Some((id, found)))
            }
            .scope_boxed()
        })
        .await?;
        let Some((id, (row, tickets))) = first else {
            return Ok(None);
        };
        // The key and its order commit together.
        let row = row.ok_or_else(|| {
            ServiceError::internal(format!("an idempotency key names order {id}, not stored"))
        })?;
        Ok(Some((row, tickets)))
    }

    /// The order's transaction: the key claimed, the showtime's seats as
    /// they are, the seats picked, then the order, its seats and its event
    /// written together.
    async fn make(
        &self,
        conn: &mut AsyncPgConnection,
        making: &Making<'_>,
    ) -> Result<OrderRow, NotCreated> {
        let shared: &AsyncPgConnection = conn;
        // The key first, in the same round trip as the showtime's turn and
        // seats: a retry racing the first attempt queues on the key's row
        // until that attempt ends, and then finds its order (the statements
        // after the key are wasted then, and rolled back).
        let claim = async {
            match making.keyed {
                Some(keyed) => {
                    idempotency::claim(shared, keyed, making.order_id, making.now, self.key_ttl)
                        .await
                }
                None => Ok(Claim::Claimed),
            }
        };
        let (claim, seen) =
            try_join(claim, look(shared, &making.showtime.copy, making.now)).await?;
        if claim == Claim::Taken {
            return Err(NotCreated::KeyTaken);
        }
        let (local, taken) = taken_seats(conn, seen, making.now).await?;
        check_not_called_off(&local.state())?;
        let picked = match pick(making.wanted, local.layout(), &taken) {
            Ok(picked) => picked,
            Err(mut refusal) => {
                // Too few seats while unpaid orders hold some: when the
                // first of them lapses, asked only on this way out.
                if let Some(holds) = refusal.holds_mut() {
                    holds.first_released = orders::first_release_of_showtime(conn, local.id)
                        .await?
                        .map(|at| at.with_timezone(&self.time_zone));
                }
                return Err(refusal.into());
            }
        };
        let order = self.pending(making, &local, &picked);
        // And one more round trip: the order, its seats and its event, the
        // event rendered from the row as it will be stored.
        let event = Event::Created(pb::OrderCreated {
            order: Some(render::order(&order, &[])),
        });
        let shared: &AsyncPgConnection = conn;
        let insert = async {
            orders::insert(shared, &order)
                .await
                .refuse(db::refusal(&order))
        };
        let hold = async {
            seats::hold(shared, order.id, local.id, local.layout(), &picked)
                .await
                .refuse(db::refusal(&order))
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
            id: making.order_id,
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
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    pub async fn get(&self, actor: Actor, id: Uuid) -> Result<Changed, ServiceError> {
        read(&self.pool, |conn| {
            async move {
                let row = visible(actor, id, orders::find(conn, id).await?)?;
                let tickets = tickets::of_orders(conn, &[row.id]).await?;
                Ok::<_, ServiceError>((row, tickets))
            }
            .scope_boxed()
        })
        .await
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
        let filter = &filter;
        read(&self.pool, |conn| {
            async move {
                let mut rows = orders::page(conn, filter, before, size + 1).await?;
                let more = rows.len() as i64 > size;
                rows.truncate(size as usize);
                let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
                let tickets = tickets::of_orders(conn, &ids).await?;
                let total = orders::count(conn, filter).await?;
                Ok::<_, ServiceError>((rows, tickets, total, more))
            }
            .scope_boxed()
        })
        .await
    }

    /// Pays or cancels an order.
    pub async fn run(
        &self,
        actor: Actor,
        id: Uuid,
        command: Command,
    ) -> Result<Changed, ServiceError> {
        let now = self.clock.now();
        let command = &command;
        let (changed, wrote) = transaction(&self.pool, |conn| {
            async move {
                let row = visible(actor, id, orders::find_for_update(conn, id).await?)?;
                if let Command::Pay { .. } = command {
                    let showtime = showtimes::find(conn, row.showtime_id).await?;
                    check_payable(
                        showtime.as_ref().map(ShowtimeRow::state).as_ref(),
                        row.state()?.status,
                    )?;
                }
                match transition::apply(conn, &row, command, actor, now).await? {
                    Some(changed) => Ok::<_, ServiceError>((changed, true)),
                    None => {
                        let tickets = tickets::of_orders(conn, &[row.id]).await?;
                        Ok(((row, tickets), false))
                    }
                }
            }
            .scope_boxed()
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

/// What an order's first round trip sees of its showtime: the stored copy,
/// its PENDING orders whose hold ran out (locked), and its live seats.
type Seen = (ShowtimeRow, Vec<OrderRow>, Vec<seats::LiveSeat>);

/// Takes the showtime's turn, stores the catalog's `copy` of it, and reads
/// its overdue orders and live seats as of `now`.
async fn look(
    conn: &AsyncPgConnection,
    copy: &ShowtimeRow,
    now: DateTime<Utc>,
) -> Result<Seen, DieselError> {
    // Sent together (pipelined); PostgreSQL runs them in order, so the
    // reads come after the turn is ours.
    let (_, local, overdue, live) = try_join4(
        showtimes::lock(conn, copy.id),
        showtimes::upsert(conn, copy),
        orders::lock_overdue_of_showtime(conn, copy.id, now),
        seats::live(conn, copy.id),
    )
    .await?;
    Ok((local, overdue, live))
}

/// The stored showtime and the seats its live orders hold or bought, once
/// the orders `seen` overdue are expired.
async fn taken_seats(
    conn: &mut AsyncPgConnection,
    (local, overdue, live): Seen,
    now: DateTime<Utc>,
) -> Result<(ShowtimeRow, Taken), ServiceError> {
    let live = if overdue.is_empty() {
        live
    } else {
        crate::sweeper::expire(conn, &overdue, now).await?;
        seats::live(conn, local.id).await?
    };
    let taken = Taken {
        seats: live.iter().map(seats::LiveSeat::seat).collect(),
        held: live.iter().filter(|seat| seat.is_held()).count() as i32,
    };
    Ok((local, taken))
}
