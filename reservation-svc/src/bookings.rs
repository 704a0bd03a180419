//! CreateReservation: whom a booking is for, the idempotency key that makes
//! it safe to retry, and the insert.
//!
//! Staff booking for a guest name her by account id or email; auth-svc is
//! asked (on the staff member's behalf, with a deadline) for the account, so
//! that the reservation is filed under hers and her own list shows it. An
//! account that does not exist is NOT_FOUND naming the field; auth-svc not
//! answering is UNAVAILABLE; nothing is written in either case. Customers
//! book for themselves (`service_kit::accounts::whom`).
//!
//! A key belongs to the account that sent it and names one request: the
//! fingerprint of the booking as parsed (defaults filled in, the customer
//! resolved) is kept with it by [`service_kit::idempotency`]. The same key
//! with the same booking answers the first reservation; with another
//! booking it is refused and nothing is written. A booking without a key
//! stays one statement (`db/created.rs` says why); one with a key claims the
//! key and inserts in one transaction, the two statements pipelined.

use chrono::{DateTime, SecondsFormat, Utc};
use diesel_async::AsyncPgConnection;
use futures_util::future::try_join;
use service_kit::ServiceError;
use service_kit::accounts::{self, Accounts, NamedCustomer};
use service_kit::auth::Actor;
use service_kit::clock::Clock;
use service_kit::db::{Lost, Pool, ScopedFutureExt, read, transaction, write_once};
use service_kit::idempotency::{self, Claim, Fingerprint, Keyed};
use service_kit::outbox::Outbox;
use uuid::Uuid;

use crate::db::created::{self, Creation};
use crate::db::reservations::{self, NewReservation, ReservationRow};
use crate::domain::values::{ContactInfo, DurationMinutes, IdempotencyKey, Note, PartySize};
use crate::domain::{DepositStatus, RestaurantPolicy, Status};
use crate::render;
use kursi_proto::reservation::v1::ReservationCreated;
use kursi_proto::reservation::v1::reservation_event::Event;

/// The operation keys are scoped to.
pub const OPERATION: &str = "CreateReservation";

/// A validated booking.
#[derive(Debug, Clone)]
pub struct Booking {
    /// The customer the request names, if any; whom the booking is for is
    /// decided with the actor (`service_kit::accounts::whom`).
    pub customer: Option<NamedCustomer>,
    pub contact: ContactInfo,
    pub party: PartySize,
    pub start: DateTime<Utc>,
    pub duration: DurationMinutes,
    pub note: Note,
    pub idempotency_key: Option<IdempotencyKey>,
}

impl Booking {
    /// What makes two bookings for `customer` the same request: every field
    /// that defines the reservation, as parsed.
    pub fn fingerprint(&self, customer: Uuid) -> Fingerprint {
        Fingerprint::of(OPERATION)
            .field("customer", customer)
            .field("contact_info.name", self.contact.name())
            .field("contact_info.phone", self.contact.phone())
            .field("contact_info.email", self.contact.email())
            .field("party_size", self.party.get())
            .field(
                "start_time",
                self.start.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            )
            .field("duration_minutes", self.duration.get())
            .field("note", self.note.as_str())
            .finish()
    }
}

#[derive(Clone)]
pub struct Bookings {
    pool: Pool,
    policy: RestaurantPolicy,
    outbox: Outbox,
    clock: Clock,
    accounts: Accounts,
    key_ttl: chrono::Duration,
}

/// What a keyed create answers.
enum Made {
    New(ReservationRow),
    /// The reservation the key's first request created.
    First(ReservationRow),
}

/// Why a keyed create's transaction rolled back.
enum NotCreated {
    /// A request with the same key committed first.
    KeyTaken,
    Failed(ServiceError),
}

impl From<diesel::result::Error> for NotCreated {
    fn from(err: diesel::result::Error) -> Self {
        NotCreated::Failed(err.into())
    }
}

impl From<ServiceError> for NotCreated {
    fn from(err: ServiceError) -> Self {
        NotCreated::Failed(err)
    }
}

impl Lost for NotCreated {
    fn connection_lost(&self) -> bool {
        matches!(self, NotCreated::Failed(err) if err.connection_lost())
    }
}

impl Bookings {
    pub fn new(
        outbox: Outbox,
        policy: RestaurantPolicy,
        clock: Clock,
        accounts: Accounts,
        key_ttl: chrono::Duration,
    ) -> Self {
        Self {
            pool: outbox.pool().clone(),
            policy,
            outbox,
            clock,
            accounts,
            key_ttl,
        }
    }

    pub fn policy(&self) -> &RestaurantPolicy {
        &self.policy
    }

    /// Now, on the service's clock: what bookings are judged against.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Whom something the actor does is for (a waitlist entry): the
    /// customer `named`, asked of auth-svc when staff name one, else the
    /// actor; the same rule as a booking's.
    pub async fn customer_for(
        &self,
        actor: Actor,
        bearer: &str,
        named: Option<&NamedCustomer>,
        verb: &str,
    ) -> Result<Uuid, ServiceError> {
        let whom = accounts::whom(&actor, named, verb)?;
        self.accounts.resolve(whom, bearer).await
    }

    /// Books a table for the customer the booking is for: PENDING, with the
    /// deposit the policy asks for. A key the actor sent before with the
    /// same booking answers the reservation it created; with another
    /// booking, it is refused. `bearer` is the actor's token, for asking
    /// auth-svc about the customer staff name.
    pub async fn create(
        &self,
        actor: Actor,
        bearer: &str,
        booking: Booking,
    ) -> Result<ReservationRow, ServiceError> {
        let whom = accounts::whom(&actor, booking.customer.as_ref(), "book")?;
        let customer_id = self.accounts.resolve(whom, bearer).await?;
        let now = self.clock.now();
        let new = self.pending(customer_id, &booking, now);
        // The event is rendered from the row as it will be inserted, so all
        // three rows go in one statement (db::created says why).
        let expected = new.as_row();
        let created = Event::Created(ReservationCreated {
            reservation: Some(render::reservation(&expected, &[])),
        });
        let creation = Creation {
            event: render::outbox_event(&expected, actor.user_id(), now, created)?,
            actor: actor.user_id(),
            new,
        };
        let creation = &creation;
        let row = match &booking.idempotency_key {
            None => {
                write_once(&self.pool, |conn| {
                    async move { Ok::<_, ServiceError>(created::insert(conn, creation).await?) }
                        .scope_boxed()
                })
                .await?
            }
            Some(key) => {
                let keyed = Keyed {
                    operation: OPERATION,
                    caller: actor.user_id().ok_or_else(|| {
                        ServiceError::internal("the service itself sent an idempotency key")
                    })?,
                    key,
                    fingerprint: booking.fingerprint(customer_id),
                };
                match self.create_keyed(&keyed, creation).await? {
                    Made::New(row) => row,
                    Made::First(row) => return Ok(row),
                }
            }
        };
        self.outbox.committed();
        // Debug, not info: a line per booking was a write system call per
        // request, the largest single cost after the SQL.
        tracing::debug!(reservation_id = %row.id, "reservation created");
        Ok(row)
    }

    /// A booking with a key: the key's first reservation when the key was
    /// sent before (the same booking) or the refusal (another booking);
    /// else the key's claim and the booking, committed together.
    async fn create_keyed(
        &self,
        keyed: &Keyed<'_>,
        creation: &Creation<'_>,
    ) -> Result<Made, ServiceError> {
        let now = creation.new.created_at;
        if let Some(first) = self.first_of(keyed, now).await? {
            return Ok(Made::First(first));
        }
        let made = transaction(&self.pool, |conn| {
            async move { self.claim_and_insert(conn, keyed, creation).await }.scope_boxed()
        })
        .await;
        match made {
            Ok(row) => Ok(Made::New(row)),
            Err(NotCreated::Failed(err)) => Err(err),
            // A retry that raced the first attempt: the first answers it, or
            // refuses it if it asked something else.
            Err(NotCreated::KeyTaken) => match self.first_of(keyed, now).await? {
                Some(first) => Ok(Made::First(first)),
                None => Err(ServiceError::Aborted(
                    "a request with this idempotency key was in flight; retry".into(),
                )),
            },
        }
    }

    /// The reservation the key was first sent for, if it was; a refusal if
    /// it was sent for another booking.
    async fn first_of(
        &self,
        keyed: &Keyed<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<ReservationRow>, ServiceError> {
        read(&self.pool, |conn| {
            async move {
                match idempotency::first(conn, keyed, now).await? {
                    Some(first) => first_reservation(conn, first).await.map(Some),
                    None => Ok(None),
                }
            }
            .scope_boxed()
        })
        .await
    }

    /// The keyed create's transaction: the key's claim first, and the
    /// booking in the same pipeline; a key already taken rolls both back.
    async fn claim_and_insert(
        &self,
        conn: &mut AsyncPgConnection,
        keyed: &Keyed<'_>,
        creation: &Creation<'_>,
    ) -> Result<ReservationRow, NotCreated> {
        let shared: &AsyncPgConnection = conn;
        let new = &creation.new;
        let claim = idempotency::claim(shared, keyed, new.id, new.created_at, self.key_ttl);
        let insert = created::insert(shared, creation);
        match try_join(claim, insert).await? {
            (Claim::Claimed, row) => Ok(row),
            (Claim::Taken, _) => Err(NotCreated::KeyTaken),
        }
    }

    /// The new reservation, PENDING, with the deposit the policy asks for.
    fn pending<'a>(
        &self,
        customer_id: Uuid,
        booking: &'a Booking,
        now: DateTime<Utc>,
    ) -> NewReservation<'a> {
        let is_peak_hour = self.policy.is_peak_hour(booking.start);
        let deposit = self.policy.deposit_for(booking.party, is_peak_hour);
        NewReservation {
            id: Uuid::now_v7(),
            customer_id,
            contact_name: booking.contact.name(),
            contact_phone: booking.contact.phone(),
            contact_email: booking.contact.email(),
            party_size: booking.party.get(),
            start_time: booking.start,
            duration_minutes: booking.duration.get(),
            end_time: booking.start + booking.duration.as_chrono(),
            is_peak_hour,
            status: Status::Pending.as_str(),
            note: booking.note.as_str(),
            deposit_amount: deposit,
            deposit_status: DepositStatus::for_amount(deposit).as_str(),
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

/// The reservation a key's first request created, as it is now.
async fn first_reservation(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<ReservationRow, ServiceError> {
    reservations::find(conn, id).await?.ok_or_else(|| {
        ServiceError::internal(format!(
            "an idempotency key names reservation {id}, which does not exist"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn booking(party: i32, note: &str) -> Booking {
        Booking {
            customer: None,
            contact: ContactInfo::parse("Siti Rahma", "+62 812-3456-789", "siti@example.com")
                .unwrap(),
            party: PartySize::parse(Some(party)).unwrap(),
            start: "2030-01-02T12:00:00Z".parse().unwrap(),
            duration: DurationMinutes::parse(90).unwrap(),
            note: Note::parse("note", note).unwrap(),
            idempotency_key: None,
        }
    }

    #[test]
    fn the_same_booking_for_the_same_customer_is_the_same_request() {
        let siti = Uuid::from_u128(1);
        let budi = Uuid::from_u128(2);
        let two = booking(2, "window seat");
        assert_eq!(
            two.fingerprint(siti),
            booking(2, "window seat").fingerprint(siti)
        );
        // Contact details compare as parsed: the phone without its separators.
        let mut spelled = booking(2, "window seat");
        spelled.contact =
            ContactInfo::parse("Siti Rahma", "+628123456789", "siti@example.com").unwrap();
        assert_eq!(two.fingerprint(siti), spelled.fingerprint(siti));
        // The key is not part of the request.
        let mut keyed = booking(2, "window seat");
        keyed.idempotency_key = IdempotencyKey::parse("k-1").unwrap();
        assert_eq!(two.fingerprint(siti), keyed.fingerprint(siti));

        assert_ne!(two.fingerprint(siti), two.fingerprint(budi));
        assert_ne!(
            two.fingerprint(siti),
            booking(3, "window seat").fingerprint(siti)
        );
        assert_ne!(two.fingerprint(siti), booking(2, "").fingerprint(siti));
        let mut later = booking(2, "window seat");
        later.start += chrono::Duration::minutes(30);
        assert_ne!(two.fingerprint(siti), later.fingerprint(siti));
        let mut longer = booking(2, "window seat");
        longer.duration = DurationMinutes::parse(120).unwrap();
        assert_ne!(two.fingerprint(siti), longer.fingerprint(siti));
    }
}
