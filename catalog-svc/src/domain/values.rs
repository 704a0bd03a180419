//! The catalog's value objects, parsed once at the boundary into types that
//! cannot hold bad input. Each parse error is a [`FieldViolation`] naming
//! the request field it came from.

use chrono::NaiveDate;
use service_kit::FieldViolation;
use service_kit::values::{parse_day, parse_required_text, parse_text};

/// A movie's title: 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub const MAX: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        parse_required_text("title", raw, Self::MAX).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Genre names: at most 10, each 1 to 50 characters, no two the same
/// regardless of case. Kept in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Genres(Vec<String>);

impl Genres {
    pub const MAX: usize = 10;
    pub const MAX_NAME: usize = 50;

    pub fn parse(raw: &[String]) -> Result<Self, FieldViolation> {
        if raw.len() > Self::MAX {
            return Err(FieldViolation::new(
                "genres",
                format!("at most {} genres", Self::MAX),
            ));
        }
        let mut genres: Vec<String> = Vec::with_capacity(raw.len());
        for (i, name) in raw.iter().enumerate() {
            let field = format!("genres[{i}]");
            let name = parse_required_text(&field, name, Self::MAX_NAME)?;
            if genres.iter().any(|g| Self::key(g) == Self::key(&name)) {
                return Err(FieldViolation::new(field, format!("{name} is given twice")));
            }
            genres.push(name);
        }
        Ok(Self(genres))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// A name as genres are compared: lowered one character at a time, as
    /// PostgreSQL's lower() does in the table's check. `str::to_lowercase`
    /// differs ("İ" becomes "i̇", a final "Σ" becomes "ς", where PostgreSQL
    /// gives "i" and "σ"), and a pair it let through would break the check.
    pub fn key(name: &str) -> String {
        name.chars()
            .map(|c| c.to_lowercase().next().unwrap_or(c))
            .collect()
    }
}

/// A running time: 1 to 600 minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duration(i32);

impl Duration {
    pub fn parse(minutes: i32) -> Result<Self, FieldViolation> {
        if (1..=600).contains(&minutes) {
            Ok(Self(minutes))
        } else {
            Err(FieldViolation::new(
                "duration_minutes",
                "must be between 1 and 600 minutes",
            ))
        }
    }

    pub fn minutes(self) -> i32 {
        self.0
    }
}

/// A synopsis: at most 5000 characters, line breaks allowed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Overview(String);

impl Overview {
    pub const MAX: usize = 5000;

    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        parse_text("overview", raw, Self::MAX, true).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An optional release day, `YYYY-MM-DD`; empty means unknown.
pub fn parse_release_date(raw: &str) -> Result<Option<NaiveDate>, FieldViolation> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    parse_day("release_date", raw).map(Some)
}

/// An optional poster: an absolute http(s) URL of at most 2048 characters.
pub fn parse_poster_url(raw: &str) -> Result<Option<String>, FieldViolation> {
    let url = raw.trim();
    if url.is_empty() {
        return Ok(None);
    }
    let bad = |why: &str| FieldViolation::new("poster_url", why);
    if url.len() > 2048 {
        return Err(bad("must be at most 2048 characters"));
    }
    let uri: http::Uri = url
        .parse()
        .map_err(|_| bad("must be an absolute http:// or https:// URL"))?;
    let absolute = matches!(uri.scheme_str(), Some("http" | "https"))
        && uri.host().is_some_and(|host| !host.is_empty());
    if !absolute {
        return Err(bad("must be an absolute http:// or https:// URL"));
    }
    // Schemes are case-insensitive ("HTTPS://" is https); stored lowercase,
    // as the table's check expects.
    let scheme = uri.scheme_str().unwrap_or_default();
    Ok(Some(format!("{scheme}{}", &url[scheme.len()..])))
}

/// An optional TheMovieDB id; 0 means none.
pub fn parse_tmdb_id(raw: i64) -> Result<Option<i64>, FieldViolation> {
    match raw {
        0 => Ok(None),
        id if id > 0 => Ok(Some(id)),
        _ => Err(FieldViolation::new(
            "tmdb_id",
            "must be TheMovieDB's id of the movie, or 0 for none",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn titles_are_1_to_200_characters() {
        assert_eq!(Title::parse("  Dune ").unwrap().as_str(), "Dune");
        assert!(Title::parse("").is_err());
        assert!(Title::parse(&"é".repeat(200)).is_ok());
        assert_eq!(Title::parse(&"x".repeat(201)).unwrap_err().field, "title");
    }

    #[test]
    fn genres_are_few_short_and_distinct_regardless_of_case() {
        assert!(Genres::parse(&names(&["Action", "Drama"])).is_ok());
        assert_eq!(
            Genres::parse(&names(&["Action", "action"]))
                .unwrap_err()
                .field,
            "genres[1]"
        );
        assert_eq!(
            Genres::parse(&names(&[" "])).unwrap_err().field,
            "genres[0]"
        );
        let eleven: Vec<String> = (0..11).map(|i| format!("g{i}")).collect();
        assert_eq!(Genres::parse(&eleven).unwrap_err().field, "genres");
        assert!(Genres::parse(&[("x".repeat(51))]).is_err());
        // As PostgreSQL's lower() compares them.
        assert!(Genres::parse(&names(&["İ", "i"])).is_err());
        assert!(Genres::parse(&names(&["ασ", "ΑΣ"])).is_err());
    }

    #[test]
    fn durations_are_1_to_600_minutes() {
        assert!(Duration::parse(0).is_err());
        assert!(Duration::parse(-5).is_err());
        assert!(Duration::parse(601).is_err());
        assert_eq!(Duration::parse(600).unwrap().minutes(), 600);
    }

    #[test]
    fn posters_are_absolute_http_urls() {
        assert_eq!(parse_poster_url(""), Ok(None));
        assert!(parse_poster_url("https://image.tmdb.org/t/p/w500/x.jpg").is_ok());
        for bad in [
            "/x.jpg",
            "ftp://host/x.jpg",
            "javascript:alert(1)",
            "http://",
            "not a url",
        ] {
            assert!(parse_poster_url(bad).is_err(), "{bad}");
        }
        assert!(parse_poster_url(&format!("https://h/{}", "x".repeat(2048))).is_err());
        assert_eq!(
            parse_poster_url("HTTP://Images.test/X.jpg"),
            Ok(Some("http://Images.test/X.jpg".into()))
        );
    }

    #[test]
    fn release_dates_and_tmdb_ids() {
        assert_eq!(parse_release_date(""), Ok(None));
        assert!(parse_release_date("2024-02-30").is_err());
        assert!(parse_release_date("2024-2-3").is_err());
        assert_eq!(parse_tmdb_id(0), Ok(None));
        assert_eq!(parse_tmdb_id(550), Ok(Some(550)));
        assert!(parse_tmdb_id(-1).is_err());
    }
}
