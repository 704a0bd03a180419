//! When the edge sends a failed upstream call again: once, on a fresh
//! connection (tonic's channel reconnects), and only when that cannot
//! apply a change twice.
//!
//! - The call never reached the service (the connection was refused, the
//!   service refused the stream with GOAWAY or REFUSED_STREAM while
//!   restarting, or the request was cancelled before it was written): sent
//!   again whatever the method.
//! - The connection failed with the call maybe delivered (reset, closed
//!   before the answer): sent again only for a read (GET) or a request
//!   carrying an `Idempotency-Key`, whose repeat the service answers with
//!   the first result.
//! - The service answered (any status it sent itself, UNAVAILABLE
//!   included): never; the service retries its own database.

use std::error::Error as StdError;

use http::{HeaderMap, Method};
use tonic::Status;

/// What a failed call did before failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// It never left the edge, or the service refused it unread.
    NotSent,
    /// The connection failed after it may have been delivered.
    MaybeDelivered,
    /// The service answered.
    Answered,
}

/// Which failed calls of one request may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryRule {
    /// A read, or a request with an idempotency key: any call that did not
    /// get the service's answer.
    Undelivered,
    /// Any other request: only calls that were never delivered.
    NotSent,
}

impl RetryRule {
    pub fn for_request(method: &Method, headers: &HeaderMap) -> Self {
        if method == Method::GET || headers.contains_key("idempotency-key") {
            RetryRule::Undelivered
        } else {
            RetryRule::NotSent
        }
    }

    pub fn allows(self, delivery: Delivery) -> bool {
        match (self, delivery) {
            (_, Delivery::Answered) => false,
            (_, Delivery::NotSent) => true,
            (RetryRule::Undelivered, Delivery::MaybeDelivered) => true,
            (RetryRule::NotSent, Delivery::MaybeDelivered) => false,
        }
    }
}

/// What a failed call did, read from the errors under its status: a status
/// the service sent carries none.
pub fn delivery(status: &Status) -> Delivery {
    let Some(source) = status.source() else {
        return Delivery::Answered;
    };
    let mut cause: Option<&(dyn StdError + 'static)> = Some(source);
    while let Some(err) = cause {
        if never_sent(err) {
            return Delivery::NotSent;
        }
        cause = err.source();
    }
    Delivery::MaybeDelivered
}

fn never_sent(err: &(dyn StdError + 'static)) -> bool {
    if let Some(io) = err.downcast_ref::<std::io::Error>() {
        return io.kind() == std::io::ErrorKind::ConnectionRefused;
    }
    if let Some(h2) = err.downcast_ref::<h2::Error>() {
        // REFUSED_STREAM: "the stream was not processed" (RFC 9113 §8.7).
        // A graceful GOAWAY fails only the streams above the last one the
        // server says it processed: the server never saw them.
        return h2.reason() == Some(h2::Reason::REFUSED_STREAM)
            || (h2.is_go_away() && h2.is_remote() && h2.reason() == Some(h2::Reason::NO_ERROR));
    }
    if let Some(hyper) = err.downcast_ref::<hyper::Error>() {
        return hyper.is_canceled();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_keyed_requests_may_be_sent_again_when_maybe_delivered() {
        let mut keyed = HeaderMap::new();
        keyed.insert("idempotency-key", "k".parse().unwrap());
        let get = RetryRule::for_request(&Method::GET, &HeaderMap::new());
        let post = RetryRule::for_request(&Method::POST, &HeaderMap::new());
        let keyed_post = RetryRule::for_request(&Method::POST, &keyed);
        assert!(get.allows(Delivery::MaybeDelivered));
        assert!(keyed_post.allows(Delivery::MaybeDelivered));
        assert!(!post.allows(Delivery::MaybeDelivered));
        for rule in [get, post, keyed_post] {
            assert!(rule.allows(Delivery::NotSent));
            assert!(!rule.allows(Delivery::Answered));
        }
    }

    #[test]
    fn a_status_the_service_sent_was_answered() {
        assert_eq!(
            delivery(&Status::unavailable("database down")),
            Delivery::Answered
        );
        let refused = Status::from_error(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert_eq!(delivery(&refused), Delivery::NotSent);
        let reset = Status::from_error(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        )));
        assert_eq!(delivery(&reset), Delivery::MaybeDelivered);
        let refused_stream =
            Status::from_error(Box::new(h2::Error::from(h2::Reason::REFUSED_STREAM)));
        assert_eq!(delivery(&refused_stream), Delivery::NotSent);
    }
}
