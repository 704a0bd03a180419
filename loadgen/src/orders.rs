//! Ticket orders over either transport, the calls create-order and seat-rush
//! are made of: an order by quantity, reduced to the seats won or why not,
//! and its cancellation.

use http::{HeaderValue, Method, StatusCode};
use kursi_proto::order::v1::{CancelOrderRequest, CreateOrderRequest};
use serde::Deserialize;
use serde_json::json;
use tonic::Code;
use tonic::metadata::AsciiMetadataValue;

use crate::client::{Client, GrpcClient, Load, RestClient, code_name, signed};
use crate::scenario::pick;

/// Tickets each create-order request orders (and then cancels).
pub const CREATE_ORDER_QUANTITY: u32 = 2;

/// How an order came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ordered {
    /// The order is PENDING and holds these seats.
    Won {
        order_id: String,
        seats: Vec<String>,
    },
    /// FAILED_PRECONDITION: fewer seats left than asked for (`left`, as
    /// the service said), or the showtime takes no orders (`None`). `label`
    /// is the code as the transport gives it.
    Refused { label: String, left: Option<u32> },
    /// Anything else, under its label.
    Failed(String),
}

impl Client {
    /// create-order's request: an order of 2 tickets and its cancellation,
    /// counted as one, so the seats are free again for the next one. Each
    /// worker has a showtime of its own (shared past 64 workers), so
    /// workers do not queue on one showtime's turn in order-svc.
    pub(crate) async fn order_and_cancel(
        &mut self,
        load: &Load,
        ticket: u64,
        worker: usize,
    ) -> Result<(), String> {
        let (user, _, _) = load.choose(ticket)?;
        let showtimes = load
            .fixture
            .cinema
            .as_ref()
            .map(|cinema| cinema.showtime_ids.as_slice())
            .unwrap_or_default();
        let showtime = showtimes
            .get(pick(showtimes.len(), worker as u64))
            .ok_or("NO_PREPARED_SHOWTIME")?;
        let order_id = match self.order(user, showtime, CREATE_ORDER_QUANTITY).await {
            Ordered::Won { order_id, .. } => order_id,
            Ordered::Refused { label, .. } | Ordered::Failed(label) => return Err(label),
        };
        // Told apart from the order's own errors: a failed cancel leaves
        // its seats held until the order expires.
        self.cancel(user, &order_id)
            .await
            .map_err(|label| format!("cancel: {label}"))
    }

    /// Orders `quantity` tickets of a showtime as prepared user `user`.
    pub async fn order(&mut self, user: usize, showtime_id: &str, quantity: u32) -> Ordered {
        match self {
            Self::Grpc(client) => {
                let bearer = client.bearers.get(user).cloned();
                client.order(bearer.as_ref(), showtime_id, quantity).await
            }
            Self::Rest(client) => {
                let bearer = client.bearers.get(user).cloned();
                client.order(bearer.as_ref(), showtime_id, quantity).await
            }
        }
    }

    async fn cancel(&mut self, user: usize, order_id: &str) -> Result<(), String> {
        match self {
            Self::Grpc(client) => {
                let bearer = client.bearers.get(user).cloned();
                let request = signed(
                    bearer.as_ref(),
                    CancelOrderRequest {
                        order_id: order_id.to_owned(),
                        ..Default::default()
                    },
                );
                client
                    .orders
                    .cancel_order(request)
                    .await
                    .map(drop)
                    .map_err(|status| code_name(status.code()).to_owned())
            }
            Self::Rest(client) => {
                let bearer = client.bearers.get(user).cloned();
                let path = format!("/api/orders/{order_id}/cancel");
                let (status, _) = client
                    .send(Method::POST, &path, Some(json!({})), bearer.as_ref())
                    .await?;
                if status.is_success() {
                    Ok(())
                } else {
                    Err(format!("HTTP {}", status.as_u16()))
                }
            }
        }
    }
}

impl GrpcClient {
    async fn order(
        &mut self,
        bearer: Option<&AsciiMetadataValue>,
        showtime_id: &str,
        quantity: u32,
    ) -> Ordered {
        let request = signed(
            bearer,
            CreateOrderRequest {
                showtime_id: showtime_id.to_owned(),
                quantity: quantity as i32,
                ..Default::default()
            },
        );
        match self.orders.create_order(request).await {
            Ok(reply) => match reply.into_inner().order {
                Some(order) => Ordered::Won {
                    order_id: order.order_id,
                    seats: order.seats,
                },
                None => Ordered::Failed("ANSWER_WITHOUT_ORDER".into()),
            },
            Err(status) if status.code() == Code::FailedPrecondition => Ordered::Refused {
                label: code_name(Code::FailedPrecondition).into(),
                left: seats_left(status.message()),
            },
            Err(status) => Ordered::Failed(code_name(status.code()).into()),
        }
    }
}

/// The parts of the edge's answers read here: the order, or the
/// google.rpc.Status of an error.
#[derive(Deserialize)]
struct OrderJson {
    order_id: String,
    seats: Vec<String>,
}

#[derive(Deserialize)]
struct StatusJson {
    code: i32,
    message: String,
}

impl RestClient {
    async fn order(
        &mut self,
        bearer: Option<&HeaderValue>,
        showtime_id: &str,
        quantity: u32,
    ) -> Ordered {
        let body = json!({"showtime_id": showtime_id, "quantity": quantity});
        let (status, bytes) = match self
            .send(Method::POST, "/api/orders", Some(body), bearer)
            .await
        {
            Ok(answer) => answer,
            Err(label) => return Ordered::Failed(label),
        };
        from_rest(status, &bytes)
    }
}

/// An order's answer through the edge: the order, a refusal (400 whose
/// status says FAILED_PRECONDITION; INVALID_ARGUMENT is a 400 too), or
/// an error by HTTP status.
fn from_rest(status: StatusCode, body: &[u8]) -> Ordered {
    let label = format!("HTTP {}", status.as_u16());
    if status.is_success() {
        return match serde_json::from_slice::<OrderJson>(body) {
            Ok(order) => Ordered::Won {
                order_id: order.order_id,
                seats: order.seats,
            },
            Err(_) => Ordered::Failed("ANSWER_WITHOUT_ORDER".into()),
        };
    }
    match serde_json::from_slice::<StatusJson>(body) {
        Ok(error) if error.code == Code::FailedPrecondition as i32 => Ordered::Refused {
            label,
            left: seats_left(&error.message),
        },
        _ => Ordered::Failed(label),
    }
}

/// How many seats a refusal says are left: order-svc answers "the showtime
/// is sold out", "no free seat; 12 are held by unpaid orders, …" or "only 3
/// seats are left; 5 were asked for". `None` for any other refusal (a
/// cancelled or started showtime).
pub fn seats_left(message: &str) -> Option<u32> {
    if message.contains("sold out") || message.starts_with("no free seat") {
        return Some(0);
    }
    let (_, after) = message.split_once("only ")?;
    let (number, rest) = after.split_once(' ')?;
    if !rest.starts_with("seat") {
        return None;
    }
    number.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_say_how_many_seats_are_left() {
        assert_eq!(seats_left("the showtime is sold out"), Some(0));
        assert_eq!(seats_left("only 1 seat is left; 3 were asked for"), Some(1));
        assert_eq!(
            seats_left("only 12 seats are left; 13 were asked for"),
            Some(12)
        );
        assert_eq!(
            seats_left(
                "no free seat; 12 are held by unpaid orders, the first is released at 19:42 (Asia/Jakarta)"
            ),
            Some(0)
        );
        assert_eq!(
            seats_left(
                "only 2 seats are left; 3 were asked for; 4 are held by unpaid orders, \
                 the first is released at 19:42 (Asia/Jakarta)"
            ),
            Some(2)
        );
        assert_eq!(
            seats_left("the showtime was cancelled; it takes no orders"),
            None
        );
        assert_eq!(seats_left("C5 is held or sold; choose other seats"), None);
        assert_eq!(seats_left("only staff may do this"), None);
    }

    #[test]
    fn edge_answers_become_orders_refusals_or_errors() {
        let won = br#"{"order_id":"o1","customer_id":"c","seats":["A1","A2"],"quantity":2}"#;
        assert_eq!(
            from_rest(StatusCode::OK, won),
            Ordered::Won {
                order_id: "o1".into(),
                seats: vec!["A1".into(), "A2".into()],
            }
        );
        let refused =
            br#"{"code":9,"message":"only 1 seat is left; 2 were asked for","details":[]}"#;
        assert_eq!(
            from_rest(StatusCode::BAD_REQUEST, refused),
            Ordered::Refused {
                label: "HTTP 400".into(),
                left: Some(1),
            }
        );
        let invalid = br#"{"code":3,"message":"quantity: at most 10","details":[]}"#;
        assert_eq!(
            from_rest(StatusCode::BAD_REQUEST, invalid),
            Ordered::Failed("HTTP 400".into())
        );
        assert_eq!(
            from_rest(StatusCode::SERVICE_UNAVAILABLE, b"not json"),
            Ordered::Failed("HTTP 503".into())
        );
        assert_eq!(
            from_rest(StatusCode::OK, b"{}"),
            Ordered::Failed("ANSWER_WITHOUT_ORDER".into())
        );
    }
}
