//! Who may run which command on a reservation: staff (and the service
//! itself) run the floor; customers may only cancel, and not in the
//! restaurant's name. Whose reservation it is, is the actor's to say
//! ([`Actor::may_see`]). Whom a booking is for: [`booked_for`].

use service_kit::ServiceError;
use service_kit::accounts::NamedCustomer;
use service_kit::auth::Actor;
use uuid::Uuid;

use super::policy::CancelReason;
use super::refusal::Refusal;
use super::status::Command;

/// Whether `actor` may run `command`; `reason` is a cancellation's.
pub fn may_run(
    actor: &Actor,
    command: Command,
    reason: Option<CancelReason>,
) -> Result<(), Refusal> {
    if actor.is_staff() {
        return Ok(());
    }
    match (command, reason) {
        (Command::Cancel, Some(CancelReason::RestaurantRequest)) => {
            Err(Refusal::RestaurantRequestByCustomer)
        }
        (Command::Cancel, _) => Ok(()),
        _ => Err(Refusal::StaffOnly),
    }
}

/// Whom a booking is for, as far as the actor and the request say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookedFor<'a> {
    /// This account, with no need to ask auth-svc: the caller, or the
    /// customer naming herself by id.
    Known(Uuid),
    /// The account staff named, which auth-svc must confirm exists (and
    /// find, when named by email).
    Named(&'a NamedCustomer),
}

/// Staff book for anyone they name, by id or email, once auth-svc knows the
/// account; customers book for themselves (naming themselves by id is
/// fine, anyone else or any email is refused); nobody named is the caller.
pub fn booked_for<'a>(
    actor: &Actor,
    named: Option<&'a NamedCustomer>,
) -> Result<BookedFor<'a>, ServiceError> {
    match named {
        Some(named) if actor.is_staff() => Ok(BookedFor::Named(named)),
        Some(NamedCustomer::Id(id)) => actor.acting_for(Some(*id), "book").map(BookedFor::Known),
        Some(NamedCustomer::Email(_)) => Err(Refusal::CustomerEmailByCustomer.into()),
        None => actor.acting_for(None, "book").map(BookedFor::Known),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CUSTOMER: Actor = Actor::Account {
        user_id: Uuid::nil(),
        staff: false,
    };

    #[test]
    fn customers_only_cancel_and_not_for_the_restaurant() {
        assert_eq!(
            may_run(
                &CUSTOMER,
                Command::Cancel,
                Some(CancelReason::CustomerRequest)
            ),
            Ok(())
        );
        assert_eq!(
            may_run(&CUSTOMER, Command::Cancel, Some(CancelReason::Other)),
            Ok(())
        );
        assert_eq!(
            may_run(
                &CUSTOMER,
                Command::Cancel,
                Some(CancelReason::RestaurantRequest)
            ),
            Err(Refusal::RestaurantRequestByCustomer)
        );
        for command in [
            Command::Confirm,
            Command::AssignTable,
            Command::CheckIn,
            Command::Complete,
            Command::MarkNoShow,
            Command::PayDeposit,
        ] {
            assert_eq!(
                may_run(&CUSTOMER, command, None),
                Err(Refusal::StaffOnly),
                "{command:?}"
            );
        }
    }

    #[test]
    fn staff_and_the_service_run_everything() {
        let staff = Actor::Account {
            user_id: Uuid::nil(),
            staff: true,
        };
        for actor in [staff, Actor::System] {
            assert_eq!(may_run(&actor, Command::Confirm, None), Ok(()));
            assert_eq!(
                may_run(
                    &actor,
                    Command::Cancel,
                    Some(CancelReason::RestaurantRequest)
                ),
                Ok(())
            );
        }
    }

    #[test]
    fn staff_name_anyone_and_customers_book_for_themselves() {
        let siti = Uuid::from_u128(1);
        let budi = Uuid::from_u128(2);
        let customer = Actor::Account {
            user_id: siti,
            staff: false,
        };
        let staff = Actor::Account {
            user_id: budi,
            staff: true,
        };
        let by_id = NamedCustomer::Id(siti);
        let by_email = NamedCustomer::Email("siti@example.com".into());

        assert_eq!(booked_for(&customer, None).unwrap(), BookedFor::Known(siti));
        assert_eq!(
            booked_for(&customer, Some(&by_id)).unwrap(),
            BookedFor::Known(siti)
        );
        for someone_else in [NamedCustomer::Id(budi), by_email.clone()] {
            let refused = booked_for(&customer, Some(&someone_else)).unwrap_err();
            assert!(
                matches!(refused, ServiceError::PermissionDenied(ref m) if m.contains("for themselves")),
                "{refused:?}"
            );
        }

        assert_eq!(booked_for(&staff, None).unwrap(), BookedFor::Known(budi));
        assert_eq!(
            booked_for(&staff, Some(&by_id)).unwrap(),
            BookedFor::Named(&by_id)
        );
        assert_eq!(
            booked_for(&staff, Some(&by_email)).unwrap(),
            BookedFor::Named(&by_email)
        );
    }
}
