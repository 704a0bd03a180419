//! A movie as the import stores it, assembled from TheMovieDB's list entry,
//! its genre names and its runtime; the small decisions about TMDB's quirks
//! (empty dates, null posters, runtime 0) live here.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::wire::ListedMovie;

/// One popular movie, ready to upsert by `tmdb_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmdbMovie {
    pub tmdb_id: i64,
    pub title: String,
    pub overview: String,
    /// TheMovieDB sends `""` or a date; anything unparsable is `None`.
    pub release_date: Option<NaiveDate>,
    /// Names in TheMovieDB's order, without duplicates; unknown ids are dropped.
    pub genres: Vec<String>,
    /// The image base URL plus `poster_path`; `None` without a poster.
    pub poster_url: Option<String>,
    /// `None` when TheMovieDB says null or 0, or no longer has the movie.
    pub runtime_minutes: Option<i32>,
}

impl TmdbMovie {
    pub(crate) fn assemble(
        listed: ListedMovie,
        genre_names: &HashMap<i64, String>,
        image_base_url: &str,
        runtime: Option<i64>,
    ) -> Self {
        Self {
            tmdb_id: listed.id,
            title: listed.title,
            overview: listed.overview.unwrap_or_default(),
            release_date: release_date(listed.release_date.as_deref()),
            genres: genres(&listed.genre_ids, genre_names),
            poster_url: poster_url(image_base_url, listed.poster_path.as_deref()),
            runtime_minutes: runtime_minutes(runtime),
        }
    }
}

fn release_date(value: Option<&str>) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value?.trim(), "%Y-%m-%d").ok()
}

fn genres(ids: &[i64], names: &HashMap<i64, String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(ids.len());
    for name in ids.iter().filter_map(|id| names.get(id)) {
        if !out.contains(name) {
            out.push(name.clone());
        }
    }
    out
}

fn poster_url(image_base_url: &str, poster_path: Option<&str>) -> Option<String> {
    let path = poster_path?.trim();
    if path.is_empty() {
        return None;
    }
    let base = image_base_url.trim_end_matches('/');
    Some(format!("{base}/{}", path.trim_start_matches('/')))
}

fn runtime_minutes(runtime: Option<i64>) -> Option<i32> {
    runtime
        .filter(|minutes| *minutes > 0)
        .and_then(|minutes| i32::try_from(minutes).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_parsed_or_dropped() {
        assert_eq!(
            release_date(Some("2024-05-01")),
            NaiveDate::from_ymd_opt(2024, 5, 1)
        );
        assert_eq!(release_date(Some("")), None);
        assert_eq!(release_date(Some("2024-13-01")), None);
        assert_eq!(release_date(Some("soon")), None);
        assert_eq!(release_date(None), None);
    }

    #[test]
    fn genres_keep_tmdb_order_without_unknowns_or_repeats() {
        let names = HashMap::from([(28, "Action".to_owned()), (12, "Adventure".to_owned())]);
        assert_eq!(genres(&[12, 999, 28, 12], &names), ["Adventure", "Action"]);
        assert!(genres(&[], &names).is_empty());
    }

    #[test]
    fn poster_urls_join_base_and_path() {
        let base = "https://image.tmdb.org/t/p/w500";
        assert_eq!(
            poster_url(base, Some("/abc.jpg")).as_deref(),
            Some("https://image.tmdb.org/t/p/w500/abc.jpg")
        );
        assert_eq!(
            poster_url("https://img.example/w500/", Some("abc.jpg")).as_deref(),
            Some("https://img.example/w500/abc.jpg")
        );
        assert_eq!(poster_url(base, Some("")), None);
        assert_eq!(poster_url(base, None), None);
    }

    #[test]
    fn runtime_zero_or_absurd_is_unknown() {
        assert_eq!(runtime_minutes(Some(139)), Some(139));
        assert_eq!(runtime_minutes(Some(0)), None);
        assert_eq!(runtime_minutes(Some(-5)), None);
        assert_eq!(runtime_minutes(Some(i64::MAX)), None);
        assert_eq!(runtime_minutes(None), None);
    }
}
