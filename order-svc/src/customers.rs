//! Whom an order is for. Customers order for themselves; staff at the box
//! office name the customer by account id or by email, and the account is
//! looked up in auth-svc (on their behalf, with a deadline) before anything
//! is written, so the order is filed under an account that exists and she
//! sees it when she signs in.

use service_kit::ServiceError;
use service_kit::accounts::{self, NamedCustomer};
use service_kit::auth::Actor;
use uuid::Uuid;

use crate::orders::Orders;

impl Orders {
    /// The account an order by `actor` is for, when the request `named`
    /// one (`None`: the actor). Staff's choice is asked of auth-svc with
    /// their token `bearer`: NOT_FOUND naming the field when there is no
    /// such account, UNAVAILABLE when auth-svc does not answer.
    pub(crate) async fn customer(
        &self,
        actor: Actor,
        bearer: &str,
        named: Option<&NamedCustomer>,
    ) -> Result<Uuid, ServiceError> {
        let whom = accounts::whom(&actor, named, "order")?;
        self.accounts().resolve(whom, bearer).await
    }
}
