//! How the load sends a request: like a careful client, again after a
//! pause while a retry may cure it (no answer, a 5xx, 408, 429), for as
//! long as the patience lasts; a create with its Idempotency-Key, a payment
//! with its reference. Every attempt is recorded in the worker's ledger,
//! a failure with what its answer said.

use std::time::Duration;

use http::{HeaderValue, Method, StatusCode};
use serde_json::Value;
use tokio::time::Instant;
use tonic::Code;

use super::journey::Worker;
use super::ledger::{Attempt, Op, Outcome, now_us};
use crate::client::code_name;

const FIRST_PAUSE: Duration = Duration::from_millis(50);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// One request of a journey.
pub(super) struct Call<'a> {
    pub(super) op: Op,
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) body: Option<Value>,
    pub(super) bearer: &'a HeaderValue,
    pub(super) key: Option<&'a str>,
}

/// What a call came to, its attempts recorded.
pub(super) enum Reply {
    Done(Value),
    /// A 4xx the client should not send again: whether it is a failure
    /// depends on the call, which records it.
    Refused(Refusal),
    GaveUp,
}

/// A 4xx answer, not yet recorded.
pub(super) struct Refusal {
    pub(super) code: Code,
    pub(super) message: String,
    pub(super) label: String,
    pub(super) sent_us: u64,
    pub(super) took_us: u64,
    /// An earlier attempt failed, and may have made the change.
    pub(super) retried: bool,
}

impl Worker {
    /// Sends `call` until it is answered with a 2xx or a 4xx, pausing
    /// between attempts (50 ms, doubling to 1 s), for at most the patience;
    /// and not again once the load is stopping.
    pub(super) async fn call(&mut self, call: &Call<'_>) -> Reply {
        let give_up_at = Instant::now() + self.shared.patience;
        let mut pause = FIRST_PAUSE;
        let mut retried = false;
        loop {
            let sent_us = now_us();
            let started = Instant::now();
            let send = self.http.send_keyed(
                call.method.clone(),
                &call.path,
                call.body.clone(),
                Some(call.bearer),
                call.key,
            );
            let answer = tokio::time::timeout(self.shared.timeout, send).await;
            let took_us = started.elapsed().as_micros() as u64;
            let (label, message) = match answer {
                Err(_) => ("TIMEOUT".to_owned(), String::new()),
                Ok(Err(transport)) => (transport, String::new()),
                Ok(Ok((status, body))) if status.is_success() => {
                    self.record(call.op, sent_us, took_us, Outcome::Ok);
                    return Reply::Done(serde_json::from_slice(&body).unwrap_or(Value::Null));
                }
                Ok(Ok((status, body))) => {
                    let (code, message) = rpc_status(&body);
                    let label = label(status, code);
                    if status.is_client_error() && !retryable(status) {
                        return Reply::Refused(Refusal {
                            code: code.unwrap_or(Code::Unknown),
                            message,
                            label,
                            sent_us,
                            took_us,
                            retried,
                        });
                    }
                    (label, message)
                }
            };
            self.fail(call.op, sent_us, took_us, label, message);
            if self.stopping() || Instant::now() + pause > give_up_at {
                return Reply::GaveUp;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
            retried = true;
        }
    }

    pub(super) fn record(&mut self, op: Op, sent_us: u64, took_us: u64, outcome: Outcome) {
        self.ledger.attempts.push(Attempt {
            op,
            sent_us,
            took_us,
            outcome,
            message: None,
        });
    }

    /// A failure, with what its answer said (for the report).
    pub(super) fn fail(
        &mut self,
        op: Op,
        sent_us: u64,
        took_us: u64,
        label: String,
        message: String,
    ) {
        self.ledger.attempts.push(Attempt {
            op,
            sent_us,
            took_us,
            outcome: Outcome::Failed(label),
            message: (!message.is_empty()).then_some(message),
        });
    }

    /// Records a refusal: as the rules' answer `refused` when given, else
    /// as a failure.
    pub(super) fn settle(&mut self, op: Op, r: Refusal, refused: Option<&str>) {
        match refused {
            Some(label) => self.record(op, r.sent_us, r.took_us, Outcome::Refused(label.into())),
            None => self.fail(op, r.sent_us, r.took_us, r.label, r.message),
        }
    }
}

impl<'a> Call<'a> {
    pub(super) fn post(op: Op, path: String, body: Value, bearer: &'a HeaderValue) -> Self {
        Self {
            op,
            method: Method::POST,
            path,
            body: Some(body),
            bearer,
            key: None,
        }
    }
}
/// 408 and 429 say "later", like a 5xx.
fn retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429)
}

/// The gRPC code and message of a google.rpc.Status body, when it is one.
pub fn rpc_status(body: &[u8]) -> (Option<Code>, String) {
    match serde_json::from_slice::<Value>(body) {
        Ok(json) => {
            let code = json["code"].as_i64().map(|n| Code::from_i32(n as i32));
            let message = json["message"].as_str().unwrap_or_default().to_owned();
            (code, message)
        }
        Err(_) => (None, String::new()),
    }
}

/// `503 UNAVAILABLE`: the HTTP status and the gRPC code of its body; only
/// the status when the body carries none.
pub fn label(status: StatusCode, code: Option<Code>) -> String {
    match code {
        Some(code) => format!("{} {}", status.as_u16(), code_name(code)),
        None => format!("HTTP {}", status.as_u16()),
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_labelled_by_status_and_code() {
        let body = br#"{"code":14,"message":"the database is unavailable","details":[]}"#;
        let (code, message) = rpc_status(body);
        assert_eq!(code, Some(Code::Unavailable));
        assert_eq!(message, "the database is unavailable");
        assert_eq!(
            label(StatusCode::SERVICE_UNAVAILABLE, code),
            "503 UNAVAILABLE"
        );
        assert_eq!(rpc_status(b"upstream down"), (None, String::new()));
        assert_eq!(label(StatusCode::BAD_GATEWAY, None), "HTTP 502");
        assert!(retryable(StatusCode::TOO_MANY_REQUESTS));
        assert!(!retryable(StatusCode::BAD_REQUEST));
    }
}
