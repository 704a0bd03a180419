//! The accounts a booking or an order may be made for, as auth-svc knows
//! them. Staff at the host stand name a guest by her account's id or her
//! email; whichever they give, the account must exist, and the booking is
//! filed under it so that she sees it when she signs in.
//!
//! auth-svc is asked on the staff member's behalf (their token is
//! forwarded, so auth-svc applies its own rules), with a deadline. When it
//! cannot answer, the caller is told UNAVAILABLE and nothing is written.

use std::time::Duration;

use kursi_proto::auth::v1::auth_service_client::AuthServiceClient;
use kursi_proto::auth::v1::{GetUserRequest, LookupUserRequest};
use tonic::Code;
use tonic::transport::{Channel, Endpoint};
use uuid::Uuid;

use crate::ServiceError;
use crate::auth::Actor;

/// How long auth-svc may take over one lookup.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// The customer a request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamedCustomer {
    /// `customer_id`.
    Id(Uuid),
    /// `customer_email`, as given.
    Email(String),
}

impl NamedCustomer {
    /// The request field that named the customer, for refusals.
    pub fn field(&self) -> &'static str {
        match self {
            NamedCustomer::Id(_) => "customer_id",
            NamedCustomer::Email(_) => "customer_email",
        }
    }
}

/// Whom a booking or an order is for, as far as the actor and the request
/// say ([`whom`]); [`Accounts::resolve`] asks auth-svc where needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whom<'a> {
    /// This account, with no need to ask auth-svc: the caller, or a
    /// customer naming herself by id.
    Known(Uuid),
    /// The account staff named, which auth-svc must confirm exists (and
    /// find, when named by email).
    Named(&'a NamedCustomer),
}

/// The rule of every service that books or sells for someone: staff name
/// anyone, by id or email, once auth-svc knows the account; customers act
/// for themselves (naming themselves by id is fine; anyone else, or any
/// email, is refused); nobody named is the caller. `verb` says what is done
/// ("book", "order") in the refusal.
pub fn whom<'a>(
    actor: &Actor,
    named: Option<&'a NamedCustomer>,
    verb: &str,
) -> Result<Whom<'a>, ServiceError> {
    match named {
        Some(named) if actor.is_staff() => Ok(Whom::Named(named)),
        Some(NamedCustomer::Id(id)) => actor.acting_for(Some(*id), verb).map(Whom::Known),
        Some(NamedCustomer::Email(_)) => Err(ServiceError::PermissionDenied(format!(
            "customers {verb} for themselves: leave customer_email empty (and customer_id, or give your own id)"
        ))),
        None => actor.acting_for(None, verb).map(Whom::Known),
    }
}

/// auth-svc's accounts, over one lazily connected channel.
#[derive(Debug, Clone)]
pub struct Accounts {
    client: AuthServiceClient<Channel>,
    timeout: Duration,
}

impl Accounts {
    /// Connects lazily, so a service starts while auth-svc is still coming up.
    pub fn new(auth_grpc_url: &str) -> Result<Self, String> {
        let endpoint = Endpoint::from_shared(auth_grpc_url.to_owned())
            .map_err(|err| format!("AUTH_GRPC_URL: {err}"))?
            .connect_timeout(LOOKUP_TIMEOUT)
            .timeout(LOOKUP_TIMEOUT)
            .tcp_nodelay(true);
        Ok(Self {
            client: AuthServiceClient::new(endpoint.connect_lazy()),
            timeout: LOOKUP_TIMEOUT,
        })
    }

    /// The account a booking or an order is for: asked of auth-svc with
    /// `bearer` (the staff member's token) when staff named one.
    pub async fn resolve(&self, whom: Whom<'_>, bearer: &str) -> Result<Uuid, ServiceError> {
        match whom {
            Whom::Known(id) => Ok(id),
            Whom::Named(named) => self.customer(named, bearer).await,
        }
    }

    /// The id of the account `named`, asked of auth-svc with `bearer` (the
    /// staff member's token). NOT_FOUND names the field when there is no
    /// such account; UNAVAILABLE when auth-svc does not answer.
    pub async fn customer(
        &self,
        named: &NamedCustomer,
        bearer: &str,
    ) -> Result<Uuid, ServiceError> {
        let field = named.field();
        let mut client = self.client.clone();
        let asked = async {
            match named {
                NamedCustomer::Id(id) => {
                    let request = GetUserRequest {
                        user_id: id.to_string(),
                    };
                    let request = authorized(request, bearer)?;
                    Ok::<_, ServiceError>(
                        client.get_user(request).await.map(|r| r.into_inner().user),
                    )
                }
                NamedCustomer::Email(email) => {
                    let request = LookupUserRequest {
                        email: email.clone(),
                    };
                    let request = authorized(request, bearer)?;
                    Ok(client
                        .lookup_user(request)
                        .await
                        .map(|r| r.into_inner().user))
                }
            }
        };
        let answer = match tokio::time::timeout(self.timeout, asked).await {
            Err(_) => return Err(unreachable(field, "it did not answer in time")),
            Ok(answer) => answer?,
        };
        match answer {
            Ok(Some(user)) => user
                .user_id
                .parse()
                .map_err(|_| unreachable(field, "its answer held no account id")),
            Ok(None) => Err(unreachable(field, "its answer held no account")),
            Err(status) => Err(refused(named, &status)),
        }
    }
}

fn authorized<T>(message: T, bearer: &str) -> Result<tonic::Request<T>, ServiceError> {
    let mut request = tonic::Request::new(message);
    request.set_timeout(LOOKUP_TIMEOUT);
    let value = format!("Bearer {bearer}")
        .parse()
        .map_err(|_| ServiceError::internal("a verified token that is not a header value"))?;
    request.metadata_mut().insert("authorization", value);
    crate::telemetry::inject_metadata(request.metadata_mut());
    Ok(request)
}

fn unreachable(field: &str, why: &str) -> ServiceError {
    ServiceError::Unavailable(format!(
        "auth-svc could not be asked about the account in {field} ({why}); nothing was written, try again"
    ))
}

fn refused(named: &NamedCustomer, status: &tonic::Status) -> ServiceError {
    let field = named.field();
    match (status.code(), named) {
        (Code::NotFound, NamedCustomer::Id(id)) => {
            ServiceError::NotFound(format!("{field}: no account with id {id}"))
        }
        (Code::NotFound, NamedCustomer::Email(email)) => {
            ServiceError::NotFound(format!("{field}: no account with email {email}"))
        }
        (Code::InvalidArgument, _) => ServiceError::invalid(field, status.message()),
        (Code::PermissionDenied | Code::Unauthenticated, _) => {
            ServiceError::PermissionDenied(format!(
                "only staff name the customer ({field}): {}",
                status.message()
            ))
        }
        (code, _) => unreachable(field, &format!("{code:?}: {}", status.message())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_name_anyone_and_customers_act_for_themselves() {
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

        assert_eq!(whom(&customer, None, "book").unwrap(), Whom::Known(siti));
        assert_eq!(
            whom(&customer, Some(&by_id), "book").unwrap(),
            Whom::Known(siti)
        );
        for someone_else in [NamedCustomer::Id(budi), by_email.clone()] {
            let refused = whom(&customer, Some(&someone_else), "order").unwrap_err();
            assert!(
                matches!(refused, ServiceError::PermissionDenied(ref m) if m.contains("customers order for themselves")),
                "{refused:?}"
            );
        }
        assert_eq!(whom(&staff, None, "book").unwrap(), Whom::Known(budi));
        assert_eq!(
            whom(&staff, Some(&by_id), "book").unwrap(),
            Whom::Named(&by_id)
        );
        assert_eq!(
            whom(&staff, Some(&by_email), "book").unwrap(),
            Whom::Named(&by_email)
        );
    }

    #[test]
    fn refusals_name_the_field_that_named_the_customer() {
        let by_email = NamedCustomer::Email("siti@example.com".into());
        let missing = refused(&by_email, &tonic::Status::not_found("no account"));
        assert!(
            matches!(missing, ServiceError::NotFound(ref m) if m.starts_with("customer_email:")),
            "{missing:?}"
        );
        let by_id = NamedCustomer::Id(Uuid::nil());
        let down = refused(&by_id, &tonic::Status::unavailable("connection refused"));
        assert!(
            matches!(down, ServiceError::Unavailable(ref m) if m.contains("customer_id")),
            "{down:?}"
        );
    }
}
