//! One GET to TheMovieDB, done the way the import promises: with the token,
//! a deadline and a size limit, never more than `max_in_flight` at once, and
//! retries (429 after its `Retry-After`, 502/503/504 and broken connections
//! after a short backoff) paid from the import's budget.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::error::TmdbError;
use super::settings::TmdbSettings;
use super::wire::ErrorBody;

/// TheMovieDB's answers the import reads are a few tens of KiB; more is a
/// broken or hostile server.
pub(crate) const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Pauses before the first and second retry of a 502/503/504 or broken connection.
const TRANSIENT_BACKOFF: [Duration; 2] = [Duration::from_millis(100), Duration::from_millis(300)];
/// The wait after a 429 that names none.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);
const LANGUAGE: &str = "en-US";

/// The HTTP side of [`super::TmdbClient`]; clones share the in-flight limit.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    http: reqwest::Client,
    base_url: String,
    authorization: Option<HeaderValue>,
    timeout: Duration,
    max_retry_after: Duration,
    in_flight: Arc<Semaphore>,
}

/// What one import has spent and fetched so far, shared by its concurrent
/// requests; its [`Fetch::progress`] is what the import's operation reports.
#[derive(Debug)]
pub struct Fetch {
    budget: u32,
    retries: AtomicU32,
    requests: AtomicU32,
    pages: AtomicU32,
    movies: AtomicU32,
    /// After a 429 every request of the import waits, not only the one
    /// refused: until when, and why.
    paused: Mutex<Option<Pause>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Pause {
    until: Instant,
    /// "GET /movie/popular?page=1 answered 429 Too Many Requests (Retry-After: 8 s)".
    reason: String,
}

/// A fetch's progress at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchProgress {
    /// Requests sent, retries included.
    pub requests: u32,
    pub retries: u32,
    /// Pages of the popular list fetched.
    pub pages: u32,
    /// Movies whose details were fetched.
    pub movies: u32,
    /// While TheMovieDB asks to wait: until when (on the monotonic clock),
    /// and which request it turned away, how.
    pub waiting: Option<(Instant, String)>,
}

impl Fetch {
    pub(crate) fn new(budget: u32) -> Self {
        Self {
            budget,
            retries: AtomicU32::new(0),
            requests: AtomicU32::new(0),
            pages: AtomicU32::new(0),
            movies: AtomicU32::new(0),
            paused: Mutex::new(None),
        }
    }

    pub(crate) fn requests(&self) -> u32 {
        self.requests.load(Ordering::Relaxed)
    }

    pub(crate) fn retries(&self) -> u32 {
        self.retries.load(Ordering::Relaxed)
    }

    pub(crate) fn fetched_page(&self) {
        self.pages.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn fetched_movie(&self) {
        self.movies.fetch_add(1, Ordering::Relaxed);
    }

    /// Where the fetch stands now; a pause that is over is no longer
    /// reported.
    pub fn progress(&self) -> FetchProgress {
        let now = Instant::now();
        FetchProgress {
            requests: self.requests(),
            retries: self.retries(),
            pages: self.pages.load(Ordering::Relaxed),
            movies: self.movies.load(Ordering::Relaxed),
            waiting: self
                .paused
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                .filter(|pause| pause.until > now)
                .map(|pause| (pause.until, pause.reason.clone())),
        }
    }

    /// Takes one retry from the budget; false when it is empty.
    fn spend_retry(&self) -> bool {
        self.retries
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |spent| {
                (spent < self.budget).then_some(spent + 1)
            })
            .is_ok()
    }

    fn pause_for(&self, wait: Duration, reason: String) {
        let until = Instant::now() + wait;
        let mut paused = self.paused.lock().unwrap_or_else(PoisonError::into_inner);
        if paused.as_ref().is_none_or(|current| current.until < until) {
            *paused = Some(Pause { until, reason });
        }
    }

    async fn wait_while_paused(&self) {
        loop {
            let until = self
                .paused
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                .map(|pause| pause.until);
            match until {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => return,
            }
        }
    }
}

/// How one attempt ended.
enum Outcome {
    Answered {
        status: StatusCode,
        retry_after: Option<Duration>,
        body: Vec<u8>,
    },
    TooLarge,
    /// No connection, or it broke before the answer was complete.
    Broken(String),
    TimedOut,
}

/// What [`Transport::get`] does after an attempt.
enum Next<T> {
    Done(Result<Option<T>, TmdbError>),
    /// Rate-limited: again once the import's pause is over.
    AfterPause,
    /// 502/503/504 or a broken connection: again after a backoff, if allowed.
    AfterBackoff(String),
}

impl Transport {
    pub(crate) fn new(settings: &TmdbSettings) -> Result<Self, String> {
        // reqwest is built without a crypto provider (no aws-lc C build); ring is
        // ours. Installing fails only when one is installed already, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let authorization = match &settings.api_token {
            None => None,
            Some(token) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                    .map_err(|_| "TMDB_API_TOKEN cannot be sent in an HTTP header".to_owned())?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        let max_in_flight = settings.max_in_flight.max(1);
        let http = reqwest::Client::builder()
            .user_agent(concat!("kursi-catalog-svc/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(settings.timeout)
            // The API does not redirect; following one could only lead astray.
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(max_in_flight)
            .build()
            .map_err(|err| format!("cannot build the TheMovieDB HTTP client: {err}"))?;
        Ok(Self {
            http,
            base_url: settings.base_url.trim_end_matches('/').to_owned(),
            authorization,
            timeout: settings.timeout,
            max_retry_after: settings.max_retry_after,
            in_flight: Arc::new(Semaphore::new(max_in_flight)),
        })
    }

    pub(crate) fn is_configured(&self) -> bool {
        self.authorization.is_some()
    }

    /// GETs `path` and parses the answer; `Ok(None)` is a 404, which only the
    /// caller can judge.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        fetch: &Fetch,
        path: &str,
        query: &[(&'static str, String)],
    ) -> Result<Option<T>, TmdbError> {
        let request = describe(path, query);
        let url = build_url(&self.base_url, path, query)
            .map_err(|reason| unavailable(&request, reason))?;
        let mut transient_retries = 0;
        loop {
            fetch.wait_while_paused().await;
            let outcome = self.attempt(fetch, &url).await;
            let transient = match self.judge(fetch, &request, outcome) {
                Next::Done(result) => return result,
                Next::AfterPause => continue,
                Next::AfterBackoff(transient) => transient,
            };
            let Some(backoff) = TRANSIENT_BACKOFF.get(transient_retries) else {
                let reason = format!("{transient}; gave up after {transient_retries} retries");
                return Err(unavailable(&request, reason));
            };
            if !fetch.spend_retry() {
                let reason = format!("{transient}; this import has no retries left");
                return Err(unavailable(&request, reason));
            }
            tracing::info!(
                %request,
                reason = %transient,
                backoff_ms = backoff.as_millis() as u64,
                "retrying a TheMovieDB request"
            );
            tokio::time::sleep(*backoff).await;
            transient_retries += 1;
        }
    }

    /// The one place that decides what an attempt's outcome means.
    fn judge<T: DeserializeOwned>(
        &self,
        fetch: &Fetch,
        request: &str,
        outcome: Outcome,
    ) -> Next<T> {
        let (status, retry_after, body) = match outcome {
            Outcome::Answered {
                status,
                retry_after,
                body,
            } => (status, retry_after, body),
            Outcome::Broken(reason) => return Next::AfterBackoff(reason),
            Outcome::TimedOut => {
                return Next::Done(Err(TmdbError::Timeout {
                    request: request.to_owned(),
                    after: self.timeout,
                }));
            }
            Outcome::TooLarge => {
                let limit = MAX_BODY_BYTES / (1024 * 1024);
                let reason = format!("the answer is larger than {limit} MiB");
                return Next::Done(Err(unavailable(request, reason)));
            }
        };
        let failed = |reason: String| Next::Done(Err(unavailable(request, reason)));
        match status {
            StatusCode::OK => match serde_json::from_slice(&body) {
                Ok(parsed) => Next::Done(Ok(Some(parsed))),
                Err(err) => failed(format!(
                    "unreadable answer, not the JSON TheMovieDB documents ({err})"
                )),
            },
            StatusCode::NOT_FOUND => Next::Done(Ok(None)),
            StatusCode::UNAUTHORIZED => Next::Done(Err(TmdbError::TokenRefused {
                request: request.to_owned(),
            })),
            StatusCode::TOO_MANY_REQUESTS => {
                let wait = retry_after.unwrap_or(DEFAULT_RETRY_AFTER);
                if wait > self.max_retry_after {
                    return failed(format!(
                        "TheMovieDB is rate-limiting and asks to wait {} s, longer than the {} s \
                         an import waits; try again later",
                        wait.as_secs(),
                        self.max_retry_after.as_secs()
                    ));
                }
                if !fetch.spend_retry() {
                    return failed(format!(
                        "TheMovieDB is rate-limiting (429 Too Many Requests) and this import has \
                         spent its {} retries; try again later",
                        fetch.budget
                    ));
                }
                let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                let told = match retry_after {
                    Some(_) => format!("Retry-After: {} s", wait.as_secs()),
                    None => format!("no Retry-After; waiting {} s", wait.as_secs()),
                };
                let reason = format!("{request} answered 429 Too Many Requests ({told})");
                tracing::info!(
                    request,
                    wait_ms,
                    retries = fetch.retries(),
                    "TheMovieDB is rate-limiting; waiting before asking again"
                );
                fetch.pause_for(wait, reason);
                Next::AfterPause
            }
            StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT => Next::AfterBackoff(answered(status, &body)),
            _ => failed(answered(status, &body)),
        }
    }

    /// One request and its whole answer, within the deadline and the in-flight limit.
    async fn attempt(&self, fetch: &Fetch, url: &Url) -> Outcome {
        // Never closed, so acquiring only waits.
        let Ok(_permit) = self.in_flight.acquire().await else {
            return Outcome::Broken("the client is shutting down".into());
        };
        fetch.requests.fetch_add(1, Ordering::Relaxed);
        let mut builder = self
            .http
            .get(url.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(authorization) = &self.authorization {
            builder = builder.header(AUTHORIZATION, authorization.clone());
        }
        let exchange = async {
            let mut response = match builder.send().await {
                Ok(response) => response,
                Err(err) => return failed(&err),
            };
            let status = response.status();
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(parse_retry_after);
            if response
                .content_length()
                .is_some_and(|length| length > MAX_BODY_BYTES as u64)
            {
                return Outcome::TooLarge;
            }
            let mut body = Vec::new();
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) if body.len() + chunk.len() > MAX_BODY_BYTES => {
                        return Outcome::TooLarge;
                    }
                    Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                    Ok(None) => break,
                    Err(err) => return failed(&err),
                }
            }
            Outcome::Answered {
                status,
                retry_after,
                body,
            }
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or(Outcome::TimedOut)
    }
}

fn failed(err: &reqwest::Error) -> Outcome {
    if err.is_timeout() {
        return Outcome::TimedOut;
    }
    // The innermost cause says what happened ("Connection refused"); the outer
    // layers only repeat the URL.
    let mut cause: &dyn std::error::Error = err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    let what = if err.is_connect() {
        "could not connect"
    } else {
        "the connection broke"
    };
    Outcome::Broken(format!("{what}: {cause}"))
}

/// "answered 503 Service Unavailable (TMDB's own message)".
fn answered(status: StatusCode, body: &[u8]) -> String {
    let mut reason = format!("answered {status}");
    if let Ok(error) = serde_json::from_slice::<ErrorBody>(body) {
        let message: String = error.status_message.chars().take(200).collect();
        reason.push_str(&format!(" ({message})"));
    }
    reason
}

fn unavailable(request: &str, reason: String) -> TmdbError {
    TmdbError::Unavailable {
        request: request.to_owned(),
        reason,
    }
}

/// The base URL, the path, the query and TheMovieDB's `language`.
pub(crate) fn build_url(
    base_url: &str,
    path: &str,
    query: &[(&'static str, String)],
) -> Result<Url, String> {
    let mut url = Url::parse(&format!("{base_url}{path}"))
        .map_err(|err| format!("cannot build a URL from TMDB_BASE_URL and {path}: {err}"))?;
    url.query_pairs_mut()
        .extend_pairs(query.iter().map(|(name, value)| (*name, value.as_str())))
        .append_pair("language", LANGUAGE);
    Ok(url)
}

/// How a request is named to an admin: `GET /movie/popular?page=2`.
pub(crate) fn describe(path: &str, query: &[(&'static str, String)]) -> String {
    let mut described = format!("GET {path}");
    for (i, (name, value)) in query.iter().enumerate() {
        described.push(if i == 0 { '?' } else { '&' });
        described.push_str(&format!("{name}={value}"));
    }
    described
}

/// `Retry-After` in seconds; the HTTP-date form and nonsense count as absent.
pub(crate) fn parse_retry_after(value: &HeaderValue) -> Option<Duration> {
    let seconds: u64 = value.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_carry_the_path_the_query_and_the_language() {
        let url = build_url(
            "https://api.themoviedb.org/3",
            "/movie/popular",
            &[("page", "2".to_owned())],
        )
        .expect("url");
        assert_eq!(
            url.as_str(),
            "https://api.themoviedb.org/3/movie/popular?page=2&language=en-US"
        );
        let url = build_url("http://127.0.0.1:9/3", "/movie/550", &[]).expect("url");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/3/movie/550?language=en-US"
        );
    }

    #[test]
    fn requests_are_named_relative_to_the_base() {
        assert_eq!(
            describe("/movie/popular", &[("page", "2".to_owned())]),
            "GET /movie/popular?page=2"
        );
        assert_eq!(describe("/genre/movie/list", &[]), "GET /genre/movie/list");
    }

    #[test]
    fn retry_after_is_whole_seconds() {
        let parse = |value: &'static str| parse_retry_after(&HeaderValue::from_static(value));
        assert_eq!(parse("1"), Some(Duration::from_secs(1)));
        assert_eq!(parse(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(parse("0"), Some(Duration::ZERO));
        assert_eq!(parse("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse("-3"), None);
        assert_eq!(parse("1.5"), None);
    }

    #[test]
    fn error_answers_quote_tmdb_message() {
        let body = br#"{"success":false,"status_code":46,"status_message":"The API is undergoing maintenance. Try again later."}"#;
        assert_eq!(
            answered(StatusCode::SERVICE_UNAVAILABLE, body),
            "answered 503 Service Unavailable (The API is undergoing maintenance. Try again later.)"
        );
        assert_eq!(
            answered(StatusCode::INTERNAL_SERVER_ERROR, b"<html>oops</html>"),
            "answered 500 Internal Server Error"
        );
    }

    #[test]
    fn progress_reports_a_pause_only_while_it_lasts() {
        let fetch = Fetch::new(10);
        fetch.fetched_page();
        fetch.fetched_movie();
        fetch.fetched_movie();
        let reason = "GET /movie/popular?page=1 answered 429 Too Many Requests (Retry-After: 60 s)";
        fetch.pause_for(Duration::from_secs(60), reason.into());
        let progress = fetch.progress();
        assert_eq!((progress.pages, progress.movies), (1, 2));
        let (until, why) = progress.waiting.expect("waiting");
        assert!(until > Instant::now() + Duration::from_secs(59));
        assert_eq!(why, reason);
        // A shorter pause asked for meanwhile does not cut the longer one.
        fetch.pause_for(Duration::from_secs(1), "shorter".into());
        assert_eq!(
            fetch.progress().waiting.map(|(_, why)| why).as_deref(),
            Some(reason)
        );

        let over = Fetch::new(10);
        over.pause_for(Duration::ZERO, "over".into());
        assert_eq!(over.progress().waiting, None);
    }

    #[test]
    fn the_budget_runs_out() {
        let fetch = Fetch::new(2);
        assert!(fetch.spend_retry());
        assert!(fetch.spend_retry());
        assert!(!fetch.spend_retry());
        assert_eq!(fetch.retries(), 2);
    }
}
