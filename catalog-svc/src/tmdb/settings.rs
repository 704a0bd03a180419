//! Where TheMovieDB is and how hard catalog-svc may lean on it.
//!
//! - `TMDB_BASE_URL` (`https://api.themoviedb.org/3`): the v3 API root, an
//!   absolute `http://` or `https://` URL.
//! - `TMDB_API_TOKEN` (none): the API read access token, sent as
//!   `Authorization: Bearer …`. Without it the import answers
//!   FAILED_PRECONDITION and nothing is fetched.
//! - `TMDB_IMAGE_BASE_URL` (`https://image.tmdb.org/t/p/w500`): prefix of
//!   poster URLs.
//! - `TMDB_TIMEOUT_SECONDS` (10): how long one request may take (1–120).

use std::time::Duration;

use service_kit::config::{ConfigError, Secret, seconds_or, var};

pub const DEFAULT_BASE_URL: &str = "https://api.themoviedb.org/3";
pub const DEFAULT_IMAGE_BASE_URL: &str = "https://image.tmdb.org/t/p/w500";

/// How catalog-svc reaches TheMovieDB.
#[derive(Debug, Clone)]
pub struct TmdbSettings {
    /// The v3 API root, without a trailing slash.
    pub base_url: String,
    /// `None`: not configured; the import is refused without a request.
    pub api_token: Option<Secret>,
    /// Prefix of poster URLs, without a trailing slash.
    pub image_base_url: String,
    /// Deadline of one request, answer body included.
    pub timeout: Duration,
    /// Requests in flight at once, for the whole client.
    pub max_in_flight: usize,
    /// Retries one import may spend on 429s and transient failures.
    pub retry_budget: u32,
    /// The longest `Retry-After` worth waiting for; a longer one fails the import.
    pub max_retry_after: Duration,
}

impl TmdbSettings {
    /// TheMovieDB's real addresses and the defaults, without a token.
    pub fn with_defaults() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_token: None,
            image_base_url: DEFAULT_IMAGE_BASE_URL.to_owned(),
            timeout: Duration::from_secs(10),
            max_in_flight: 4,
            retry_budget: 10,
            max_retry_after: Duration::from_secs(30),
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = Self::with_defaults();
        let api_token = match var("TMDB_API_TOKEN") {
            None => None,
            Some(token) => Some(parse_token(&token).map_err(|reason| ConfigError::Invalid {
                name: "TMDB_API_TOKEN",
                value: "(hidden)".into(),
                reason,
            })?),
        };
        Ok(Self {
            base_url: url_or("TMDB_BASE_URL", DEFAULT_BASE_URL)?,
            api_token,
            image_base_url: url_or("TMDB_IMAGE_BASE_URL", DEFAULT_IMAGE_BASE_URL)?,
            timeout: seconds_or("TMDB_TIMEOUT_SECONDS", 10, 1..=120)?,
            ..defaults
        })
    }
}

fn url_or(name: &'static str, default: &str) -> Result<String, ConfigError> {
    let value = var(name).unwrap_or_else(|| default.to_owned());
    parse_base_url(&value).map_err(|reason| ConfigError::Invalid {
        name,
        value,
        reason,
    })
}

/// An absolute `http(s)://` URL without query or fragment, its trailing
/// slashes removed so paths can be appended.
pub(crate) fn parse_base_url(value: &str) -> Result<String, String> {
    let value = value.trim();
    let expected =
        || format!("expected an absolute http:// or https:// URL such as {DEFAULT_BASE_URL}");
    let url = reqwest::Url::parse(value).map_err(|err| format!("{err}; {}", expected()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(expected());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("must not have a query or fragment; {}", expected()));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

/// A token goes into a header: it must be visible ASCII without spaces.
fn parse_token(value: &str) -> Result<Secret, String> {
    let token = value.trim();
    if token.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(Secret::new(token))
    } else {
        Err("must be visible ASCII without spaces (TheMovieDB's API read access token)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_lose_trailing_slashes_and_must_be_absolute_http() {
        assert_eq!(
            parse_base_url("https://api.themoviedb.org/3/").as_deref(),
            Ok("https://api.themoviedb.org/3")
        );
        assert_eq!(
            parse_base_url("http://127.0.0.1:8080").as_deref(),
            Ok("http://127.0.0.1:8080")
        );
        for bad in [
            "api.themoviedb.org/3",
            "/3",
            "ftp://api.themoviedb.org/3",
            "https://api.themoviedb.org/3?api_key=x",
        ] {
            assert!(parse_base_url(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn tokens_must_fit_in_a_header() {
        assert_eq!(
            parse_token(" eyJhbGciOi.x-y_z \n").map(|t| t.expose().to_owned()),
            Ok("eyJhbGciOi.x-y_z".to_owned())
        );
        assert!(parse_token("two words").is_err());
        assert!(parse_token("caf\u{e9}").is_err());
    }
}
