//! TheMovieDB's JSON, only the fields the import reads; anything else in an
//! answer is ignored, and a missing required field makes it unreadable.

use serde::Deserialize;

/// `GET /genre/movie/list`.
#[derive(Debug, Deserialize)]
pub(crate) struct GenreList {
    pub genres: Vec<Genre>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Genre {
    pub id: i64,
    pub name: String,
}

/// `GET /movie/popular`.
#[derive(Debug, Deserialize)]
pub(crate) struct PopularPage {
    pub results: Vec<ListedMovie>,
    pub total_pages: u32,
}

/// One movie of a list.
#[derive(Debug, Deserialize)]
pub(crate) struct ListedMovie {
    pub id: i64,
    pub title: String,
    #[serde(default)]
    pub overview: Option<String>,
    /// `"2024-05-01"`, or `""` when TheMovieDB does not know it.
    #[serde(default)]
    pub release_date: Option<String>,
    #[serde(default)]
    pub genre_ids: Vec<i64>,
    #[serde(default)]
    pub poster_path: Option<String>,
}

/// `GET /movie/{id}`.
#[derive(Debug, Deserialize)]
pub(crate) struct MovieDetails {
    #[serde(default)]
    pub runtime: Option<i64>,
}

/// The body of TheMovieDB's error answers.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    pub status_message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_shapes_parse_and_extra_fields_are_ignored() {
        let page: PopularPage = serde_json::from_str(
            r#"{"page":1,"results":[{"adult":false,"id":550,"title":"Fight Club","original_title":"Fight Club",
                "overview":"A ticking-time-bomb insomniac...","release_date":"1999-10-15","genre_ids":[18],
                "poster_path":null,"popularity":61.4,"vote_average":8.4}],"total_pages":3,"total_results":41}"#,
        )
        .expect("popular page");
        assert_eq!(page.total_pages, 3);
        assert_eq!(page.results[0].id, 550);
        assert_eq!(page.results[0].poster_path, None);
        let details: MovieDetails = serde_json::from_str(
            r#"{"id":550,"runtime":null,"genres":[{"id":18,"name":"Drama"}]}"#,
        )
        .expect("details");
        assert_eq!(details.runtime, None);
        assert!(serde_json::from_str::<PopularPage>(r#"{"page":1}"#).is_err());
    }
}
