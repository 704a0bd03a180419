//! What a movie is made of, and how a change to it is worked out: by hand
//! (a full replace or an update mask) or by an import, which leaves alone
//! the fields an admin changed by hand.

use chrono::NaiveDate;

use super::values::{Duration, Genres, Overview, Title};
use super::{FieldRefusal, Refusal};

/// The fields of a movie that can change, by their names in the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MovieField {
    Title,
    Genres,
    DurationMinutes,
    Overview,
    ReleaseDate,
    PosterUrl,
    TmdbId,
}

impl MovieField {
    pub const ALL: [MovieField; 7] = [
        MovieField::Title,
        MovieField::Genres,
        MovieField::DurationMinutes,
        MovieField::Overview,
        MovieField::ReleaseDate,
        MovieField::PosterUrl,
        MovieField::TmdbId,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MovieField::Title => "title",
            MovieField::Genres => "genres",
            MovieField::DurationMinutes => "duration_minutes",
            MovieField::Overview => "overview",
            MovieField::ReleaseDate => "release_date",
            MovieField::PosterUrl => "poster_url",
            MovieField::TmdbId => "tmdb_id",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|field| field.name() == name)
    }

    /// The fields an update mask names, each once and in contract order;
    /// every field for an empty mask (a full replace).
    pub fn from_mask(paths: &[&str]) -> Result<Vec<MovieField>, FieldRefusal> {
        if paths.is_empty() {
            return Ok(Self::ALL.to_vec());
        }
        let unknown: Vec<String> = paths
            .iter()
            .filter(|path| Self::parse(path).is_none())
            .map(|path| (*path).to_owned())
            .collect();
        if !unknown.is_empty() {
            return Err(FieldRefusal::UnknownMovieFields { unknown });
        }
        let mut fields: Vec<MovieField> = paths.iter().filter_map(|p| Self::parse(p)).collect();
        fields.sort();
        fields.dedup();
        Ok(fields)
    }

    /// What an import brings from TheMovieDB (the id itself is the key).
    pub const IMPORTED: [MovieField; 6] = [
        MovieField::Title,
        MovieField::Genres,
        MovieField::DurationMinutes,
        MovieField::Overview,
        MovieField::ReleaseDate,
        MovieField::PosterUrl,
    ];
}

/// A movie's changeable content, valid by construction when built from the
/// value objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovieContent {
    pub title: String,
    pub genres: Vec<String>,
    pub duration_minutes: i32,
    pub overview: String,
    pub release_date: Option<NaiveDate>,
    pub poster_url: Option<String>,
    pub tmdb_id: Option<i64>,
}

impl MovieContent {
    pub fn new(
        title: Title,
        genres: Genres,
        duration: Duration,
        overview: Overview,
        release_date: Option<NaiveDate>,
        poster_url: Option<String>,
        tmdb_id: Option<i64>,
    ) -> Self {
        Self {
            title: title.as_str().to_owned(),
            genres: genres.as_slice().to_vec(),
            duration_minutes: duration.minutes(),
            overview: overview.as_str().to_owned(),
            release_date,
            poster_url,
            tmdb_id,
        }
    }

    /// The fields in which `other` differs from this.
    pub fn differences(&self, other: &MovieContent) -> Vec<MovieField> {
        MovieField::ALL
            .into_iter()
            .filter(|field| match field {
                MovieField::Title => self.title != other.title,
                MovieField::Genres => self.genres != other.genres,
                MovieField::DurationMinutes => self.duration_minutes != other.duration_minutes,
                MovieField::Overview => self.overview != other.overview,
                MovieField::ReleaseDate => self.release_date != other.release_date,
                MovieField::PosterUrl => self.poster_url != other.poster_url,
                MovieField::TmdbId => self.tmdb_id != other.tmdb_id,
            })
            .collect()
    }

    /// This content with `field` taken from `source`.
    pub fn with_field_from(mut self, field: MovieField, source: &MovieContent) -> Self {
        match field {
            MovieField::Title => self.title.clone_from(&source.title),
            MovieField::Genres => self.genres.clone_from(&source.genres),
            MovieField::DurationMinutes => self.duration_minutes = source.duration_minutes,
            MovieField::Overview => self.overview.clone_from(&source.overview),
            MovieField::ReleaseDate => self.release_date = source.release_date,
            MovieField::PosterUrl => self.poster_url.clone_from(&source.poster_url),
            MovieField::TmdbId => self.tmdb_id = source.tmdb_id,
        }
        self
    }
}

/// One field's new value, from its value object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    Title(Title),
    Genres(Genres),
    DurationMinutes(Duration),
    Overview(Overview),
    ReleaseDate(Option<NaiveDate>),
    PosterUrl(Option<String>),
    TmdbId(Option<i64>),
}

impl MovieContent {
    fn set(&mut self, value: &FieldValue) {
        match value {
            FieldValue::Title(title) => self.title = title.as_str().to_owned(),
            FieldValue::Genres(genres) => self.genres = genres.as_slice().to_vec(),
            FieldValue::DurationMinutes(duration) => self.duration_minutes = duration.minutes(),
            FieldValue::Overview(overview) => self.overview = overview.as_str().to_owned(),
            FieldValue::ReleaseDate(day) => self.release_date = *day,
            FieldValue::PosterUrl(url) => self.poster_url.clone_from(url),
            FieldValue::TmdbId(id) => self.tmdb_id = *id,
        }
    }
}

/// A change by hand: new values for some fields (all of them for a full
/// replace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovieEdit(pub Vec<FieldValue>);

/// What a change does to a movie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub content: MovieContent,
    pub changed: Vec<MovieField>,
    /// The fields to remember as changed by hand from now on.
    pub edited: Vec<MovieField>,
}

impl MovieEdit {
    /// Applies this edit to `current`; the fields whose value changes are
    /// added to the hand-edited ones.
    pub fn apply(&self, current: &MovieContent, edited: &[MovieField]) -> Revision {
        let mut content = current.clone();
        for value in &self.0 {
            content.set(value);
        }
        let changed = current.differences(&content);
        let mut edited: Vec<MovieField> = edited.iter().chain(&changed).copied().collect();
        edited.sort();
        edited.dedup();
        Revision {
            content,
            changed,
            edited,
        }
    }
}

/// What an import does to a known movie: TheMovieDB's values for every
/// imported field that an admin has not changed by hand; a running time
/// TheMovieDB does not know keeps the one the movie has.
pub fn refresh(
    current: &MovieContent,
    edited: &[MovieField],
    imported: &MovieContent,
    imported_has_runtime: bool,
) -> Revision {
    let content = MovieField::IMPORTED
        .into_iter()
        .filter(|field| !edited.contains(field))
        .filter(|field| *field != MovieField::DurationMinutes || imported_has_runtime)
        .fold(current.clone(), |content, field| {
            content.with_field_from(field, imported)
        });
    Revision {
        changed: current.differences(&content),
        content,
        edited: edited.to_vec(),
    }
}

/// Whether a movie may be deleted: not while `upcoming` of its SCHEDULED
/// showtimes are still to end.
pub fn check_deletable(title: &str, upcoming: i64) -> Result<(), Refusal> {
    if upcoming > 0 {
        return Err(Refusal::MovieHasShowtimesToCome {
            title: title.to_owned(),
            count: upcoming,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dune() -> MovieContent {
        MovieContent {
            title: "Dune".into(),
            genres: vec!["Science Fiction".into()],
            duration_minutes: 155,
            overview: "Spice.".into(),
            release_date: NaiveDate::from_ymd_opt(2021, 9, 15),
            poster_url: None,
            tmdb_id: Some(438_631),
        }
    }

    #[test]
    fn an_edit_changes_only_its_fields_and_remembers_what_changed() {
        let edit = MovieEdit(vec![
            FieldValue::Title(Title::parse("Dune: Bagian Satu").unwrap()),
            FieldValue::Overview(Overview::parse("Spice.").unwrap()),
        ]);
        let revision = edit.apply(&dune(), &[]);
        assert_eq!(revision.content.title, "Dune: Bagian Satu");
        assert_eq!(revision.content.duration_minutes, 155);
        // Overview was named but given the same value: not "changed by hand".
        assert_eq!(revision.changed, [MovieField::Title]);
        assert_eq!(revision.edited, [MovieField::Title]);
    }

    #[test]
    fn an_import_keeps_hand_edited_fields_and_a_known_runtime() {
        let mut fresh = dune();
        fresh.title = "Dune (2021)".into();
        fresh.overview = "A new synopsis.".into();
        fresh.duration_minutes = 1;
        let revision = refresh(&dune(), &[MovieField::Title], &fresh, false);
        assert_eq!(revision.content.title, "Dune");
        assert_eq!(revision.content.overview, "A new synopsis.");
        assert_eq!(revision.content.duration_minutes, 155);
        assert_eq!(revision.changed, [MovieField::Overview]);
        let with_runtime = refresh(&dune(), &[], &fresh, true);
        assert_eq!(with_runtime.content.duration_minutes, 1);
    }

    #[test]
    fn field_names_are_the_contracts() {
        for field in MovieField::ALL {
            assert_eq!(MovieField::parse(field.name()), Some(field));
        }
        assert_eq!(MovieField::parse("movie_id"), None);
        assert_eq!(MovieField::parse("durationMinutes"), None);
    }

    #[test]
    fn a_mask_names_known_fields_and_an_empty_one_all() {
        assert_eq!(MovieField::from_mask(&[]).unwrap(), MovieField::ALL);
        assert_eq!(
            MovieField::from_mask(&["tmdb_id", "title", "title"]).unwrap(),
            [MovieField::Title, MovieField::TmdbId]
        );
        assert_eq!(
            MovieField::from_mask(&["title", "rating", "movie_id"]),
            Err(FieldRefusal::UnknownMovieFields {
                unknown: vec!["rating".into(), "movie_id".into()]
            })
        );
    }

    #[test]
    fn a_movie_with_showtimes_to_come_stays() {
        assert!(check_deletable("Dune", 0).is_ok());
        assert_eq!(
            check_deletable("Dune", 2),
            Err(Refusal::MovieHasShowtimesToCome {
                title: "Dune".into(),
                count: 2
            })
        );
    }
}
