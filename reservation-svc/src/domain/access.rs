//! Who may run which command on a reservation: staff (and the service
//! itself) run the floor; customers may only cancel, and not in the
//! restaurant's name. Whose reservation it is, is the actor's to say
//! ([`Actor::may_see`]); whom a booking is for, the shared rule's
//! (`service_kit::accounts::whom`).

use service_kit::auth::Actor;

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
        // Customers move their own bookings; whose it is, `may_see` says.
        (Command::Cancel | Command::Reschedule, _) => Ok(()),
        _ => Err(Refusal::StaffOnly),
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

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
}
