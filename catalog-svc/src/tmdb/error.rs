//! Why an import could not get its data from TheMovieDB, in words an admin
//! can act on, and the gRPC code each reason becomes.

use std::time::Duration;

use service_kit::ServiceError;

/// A fetch that failed for good; `request` reads like `GET /movie/popular?page=2`
/// (relative to the base URL, never with the token).
#[derive(Debug, thiserror::Error)]
pub enum TmdbError {
    /// No `TMDB_API_TOKEN`: nothing was fetched.
    #[error("TMDB_API_TOKEN is not set: the import needs a TheMovieDB API read access token")]
    NotConfigured,
    /// TheMovieDB answered 401.
    #[error(
        "the TheMovieDB token was refused ({request} answered 401 Unauthorized): \
         check TMDB_API_TOKEN"
    )]
    TokenRefused { request: String },
    /// 5xx after retries, no connection, an unreadable answer, or rate limiting
    /// beyond the retry budget or beyond the longest wait.
    #[error("TheMovieDB: {request} failed: {reason}")]
    Unavailable { request: String, reason: String },
    /// One request took longer than the configured timeout.
    #[error("TheMovieDB: {request} did not answer within {} s", seconds(.after))]
    Timeout { request: String, after: Duration },
}

fn seconds(after: &Duration) -> String {
    let millis = after.as_millis();
    if millis.is_multiple_of(1000) {
        (millis / 1000).to_string()
    } else {
        format!("{:.1}", after.as_secs_f64())
    }
}

impl From<TmdbError> for ServiceError {
    fn from(err: TmdbError) -> Self {
        let message = err.to_string();
        match err {
            TmdbError::NotConfigured | TmdbError::TokenRefused { .. } => {
                ServiceError::FailedPrecondition(message)
            }
            TmdbError::Unavailable { .. } => ServiceError::Unavailable(message),
            TmdbError::Timeout { .. } => ServiceError::DeadlineExceeded(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_gets_its_code_and_names_the_request() {
        let timeout = TmdbError::Timeout {
            request: "GET /movie/550".into(),
            after: Duration::from_secs(10),
        };
        let ServiceError::DeadlineExceeded(message) = ServiceError::from(timeout) else {
            panic!("not DEADLINE_EXCEEDED");
        };
        assert_eq!(
            message,
            "TheMovieDB: GET /movie/550 did not answer within 10 s"
        );
        let short = TmdbError::Timeout {
            request: "GET /movie/550".into(),
            after: Duration::from_millis(300),
        };
        assert!(short.to_string().ends_with("within 0.3 s"), "{short}");

        let unavailable = TmdbError::Unavailable {
            request: "GET /movie/popular?page=2".into(),
            reason: "answered 503 Service Unavailable".into(),
        };
        let ServiceError::Unavailable(message) = ServiceError::from(unavailable) else {
            panic!("not UNAVAILABLE");
        };
        assert_eq!(
            message,
            "TheMovieDB: GET /movie/popular?page=2 failed: answered 503 Service Unavailable"
        );

        let refused = TmdbError::TokenRefused {
            request: "GET /genre/movie/list".into(),
        };
        let ServiceError::FailedPrecondition(message) = ServiceError::from(refused) else {
            panic!("not FAILED_PRECONDITION");
        };
        assert!(
            message.starts_with("the TheMovieDB token was refused"),
            "{message}"
        );
        assert!(message.contains("GET /genre/movie/list"), "{message}");

        let ServiceError::FailedPrecondition(message) =
            ServiceError::from(TmdbError::NotConfigured)
        else {
            panic!("not FAILED_PRECONDITION");
        };
        assert!(
            message.starts_with("TMDB_API_TOKEN is not set: "),
            "{message}"
        );
    }
}
