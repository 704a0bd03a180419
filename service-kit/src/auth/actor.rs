//! Who is acting on a service's data: an account whose token was verified,
//! or the service itself (a sweeper, an event follower, a scheduled import).
//! Every service decides ownership with these few rules, so "customers act
//! for themselves, staff for anyone" is written once.

use uuid::Uuid;

use super::Caller;
use crate::ServiceError;

/// The one actor type of every service: built from the verified token, or
/// [`Actor::System`] for work the service does on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in account; `staff` for STAFF and ADMIN.
    Account { user_id: Uuid, staff: bool },
    /// The service itself: runs the floor like staff, and is nobody in
    /// history and events.
    System,
}

impl Actor {
    /// The account acting, for history entries and events; `None` for the
    /// service itself.
    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Actor::Account { user_id, .. } => Some(*user_id),
            Actor::System => None,
        }
    }

    /// STAFF, ADMIN or the service itself: may act on anyone's behalf.
    pub fn is_staff(&self) -> bool {
        match self {
            Actor::Account { staff, .. } => *staff,
            Actor::System => true,
        }
    }

    /// Whether something owned by `owner` exists for this actor: customers
    /// see only their own, and what they may not see is answered as not
    /// found, so ids cannot be probed.
    pub fn may_see(&self, owner: Uuid) -> bool {
        self.is_staff() || self.user_id() == Some(owner)
    }

    /// Whom a new booking or order is for: the customer `named` in the
    /// request, or the actor when none is named. Customers act for
    /// themselves; `verb` says what they do ("book", "order") in the refusal.
    pub fn acting_for(&self, named: Option<Uuid>, verb: &str) -> Result<Uuid, ServiceError> {
        match (named, self.user_id()) {
            (Some(named), _) if self.is_staff() => Ok(named),
            (Some(named), Some(me)) if named == me => Ok(me),
            (None, Some(me)) => Ok(me),
            (None, None) => Err(ServiceError::invalid(
                "customer_id",
                "is required when the service acts on its own",
            )),
            (Some(_), _) => Err(ServiceError::PermissionDenied(format!(
                "customers {verb} for themselves: leave customer_id empty or give your own id"
            ))),
        }
    }

    /// Whose things a list shows: staff see whoever they name (everyone
    /// when they name nobody); customers only their own. `things` names
    /// what is listed ("reservations", "orders") in the refusal.
    pub fn listing_for(
        &self,
        named: Option<Uuid>,
        things: &str,
    ) -> Result<Option<Uuid>, ServiceError> {
        if self.is_staff() {
            return Ok(named);
        }
        match (named, self.user_id()) {
            (None, me) => Ok(me),
            (Some(named), Some(me)) if named == me => Ok(Some(me)),
            _ => Err(ServiceError::PermissionDenied(format!(
                "customers list only their own {things}"
            ))),
        }
    }
}

impl From<&Caller> for Actor {
    fn from(caller: &Caller) -> Self {
        Actor::Account {
            user_id: caller.user_id,
            staff: caller.is_staff(),
        }
    }
}

/// The actor of a method whose policy requires a token.
pub fn actor<T>(request: &tonic::Request<T>) -> Result<Actor, tonic::Status> {
    super::caller(request).map(Actor::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(id: Uuid) -> Actor {
        Actor::Account {
            user_id: id,
            staff: false,
        }
    }

    fn staff() -> Actor {
        Actor::Account {
            user_id: Uuid::now_v7(),
            staff: true,
        }
    }

    #[test]
    fn customers_see_only_their_own_and_staff_and_the_service_see_all() {
        let siti = Uuid::now_v7();
        let budi = Uuid::now_v7();
        assert!(customer(siti).may_see(siti));
        assert!(!customer(siti).may_see(budi));
        assert!(staff().may_see(budi));
        assert!(Actor::System.may_see(budi));
    }

    #[test]
    fn customers_act_for_themselves_and_staff_for_anyone() {
        let siti = Uuid::now_v7();
        let budi = Uuid::now_v7();
        assert_eq!(customer(siti).acting_for(None, "book").unwrap(), siti);
        assert_eq!(customer(siti).acting_for(Some(siti), "book").unwrap(), siti);
        let refused = customer(siti).acting_for(Some(budi), "book").unwrap_err();
        assert!(matches!(refused, ServiceError::PermissionDenied(ref m) if m.contains("book")));
        assert_eq!(staff().acting_for(Some(budi), "book").unwrap(), budi);
        assert!(Actor::System.acting_for(None, "order").is_err());
    }

    #[test]
    fn customers_list_only_their_own() {
        let siti = Uuid::now_v7();
        let budi = Uuid::now_v7();
        assert_eq!(
            customer(siti).listing_for(None, "orders").unwrap(),
            Some(siti)
        );
        assert_eq!(
            customer(siti).listing_for(Some(siti), "orders").unwrap(),
            Some(siti)
        );
        assert!(customer(siti).listing_for(Some(budi), "orders").is_err());
        assert_eq!(staff().listing_for(None, "orders").unwrap(), None);
        assert_eq!(
            staff().listing_for(Some(budi), "orders").unwrap(),
            Some(budi)
        );
    }
}
