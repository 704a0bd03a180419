//! Movies: what is stored is what is read back, and what UpdateMovie and
//! DeleteMovie change (lists are in `movie_lists`).

use kursi_proto::catalog::v1::*;
use prost_types::FieldMask;
use tonic::Code;

use crate::{Env, code, new_movie, tomorrow, violated_fields};

fn dune() -> CreateMovieRequest {
    CreateMovieRequest {
        title: "Dune: Part Two".into(),
        genres: vec!["Science Fiction".into(), "Adventure".into(), "Drama".into()],
        duration_minutes: 166,
        overview: "Paul Atreides unites with the Fremen.\nA second line.".into(),
        release_date: "2024-02-27".into(),
        poster_url: "https://images.test/t/p/w500/dune2.jpg".into(),
        tmdb_id: 693_134,
    }
}

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

/// An UpdateMovieRequest carrying every field of `request`.
fn update(movie_id: &str, request: CreateMovieRequest, paths: &[&str]) -> UpdateMovieRequest {
    UpdateMovieRequest {
        movie_id: movie_id.into(),
        title: request.title,
        genres: request.genres,
        duration_minutes: request.duration_minutes,
        overview: request.overview,
        release_date: request.release_date,
        poster_url: request.poster_url,
        tmdb_id: request.tmdb_id,
        update_mask: if paths.is_empty() { None } else { mask(paths) },
    }
}

#[tokio::test]
async fn a_movie_reads_back_with_every_field_as_created() {
    let env = Env::start().await;
    let created = env.create_movie(dune()).await.unwrap();

    assert_eq!(created.title, "Dune: Part Two");
    assert_eq!(created.genres, ["Science Fiction", "Adventure", "Drama"]);
    assert_eq!(created.duration_minutes, 166);
    assert_eq!(
        created.overview,
        "Paul Atreides unites with the Fremen.\nA second line."
    );
    assert_eq!(created.release_date, "2024-02-27");
    assert_eq!(created.poster_url, "https://images.test/t/p/w500/dune2.jpg");
    assert_eq!(created.tmdb_id, 693_134);
    assert!(uuid::Uuid::parse_str(&created.movie_id).is_ok());
    assert!(created.create_time.is_some());
    assert_eq!(created.create_time, created.update_time);

    let read = env.get_movie(&created.movie_id).await.unwrap();
    assert_eq!(read, created);

    // The optional fields stay empty when not given.
    let bare = env
        .create_movie(new_movie("Perfect Days", 124))
        .await
        .unwrap();
    let read = env.get_movie(&bare.movie_id).await.unwrap();
    assert_eq!(
        (read.overview.as_str(), read.release_date.as_str()),
        ("", "")
    );
    assert_eq!((read.poster_url.as_str(), read.tmdb_id), ("", 0));
}

#[tokio::test]
async fn an_update_without_a_mask_replaces_every_field() {
    let env = Env::start().await;
    let movie = env.create_movie(dune()).await.unwrap();
    let replacement = CreateMovieRequest {
        title: "Dune: Bagian Dua".into(),
        genres: vec!["Drama".into()],
        duration_minutes: 167,
        overview: String::new(),
        release_date: String::new(),
        poster_url: String::new(),
        tmdb_id: 0,
    };

    let updated = env
        .update_movie(update(&movie.movie_id, replacement, &[]))
        .await
        .unwrap();

    let read = env.get_movie(&movie.movie_id).await.unwrap();
    assert_eq!(read, updated);
    assert_eq!(read.title, "Dune: Bagian Dua");
    assert_eq!(read.genres, ["Drama"]);
    assert_eq!(read.duration_minutes, 167);
    assert_eq!(
        (read.overview.as_str(), read.release_date.as_str()),
        ("", "")
    );
    assert_eq!((read.poster_url.as_str(), read.tmdb_id), ("", 0));
    assert_eq!(read.create_time, movie.create_time);
    assert_ne!(read.update_time, movie.update_time);
}

#[tokio::test]
async fn a_masked_update_changes_only_the_named_fields() {
    let env = Env::start().await;
    let movie = env.create_movie(dune()).await.unwrap();
    // The other fields carry other values, some of them not even valid.
    let request = CreateMovieRequest {
        title: "Dune 2".into(),
        genres: vec!["Action".into(), "Action".into()],
        duration_minutes: 0,
        overview: "ignored".into(),
        release_date: "tomorrow".into(),
        poster_url: "ftp://nope".into(),
        tmdb_id: 5,
    };

    let updated = env
        .update_movie(update(&movie.movie_id, request, &["title", " overview "]))
        .await
        .unwrap();

    let read = env.get_movie(&movie.movie_id).await.unwrap();
    assert_eq!(read, updated);
    assert_eq!(read.title, "Dune 2");
    assert_eq!(read.overview, "ignored");
    let unchanged = Movie {
        title: read.title.clone(),
        overview: read.overview.clone(),
        update_time: read.update_time,
        ..movie
    };
    assert_eq!(read, unchanged);
}

#[tokio::test]
async fn unknown_mask_paths_are_refused_naming_update_mask_and_listing_them() {
    let env = Env::start().await;
    let movie = env.create_movie(dune()).await.unwrap();
    let mut request = update(&movie.movie_id, new_movie("Changed", 10), &[]);
    request.update_mask = mask(&["title", "rating", "durationMinutes", "movie_id"]);

    let err = env.update_movie(request).await.unwrap_err();

    assert_eq!(violated_fields(&err), ["update_mask"]);
    for path in ["rating", "durationMinutes", "movie_id"] {
        assert!(err.message().contains(path), "{path}: {err:?}");
    }
    assert_eq!(env.get_movie(&movie.movie_id).await.unwrap(), movie);
}

#[tokio::test]
async fn a_masked_field_with_a_bad_value_is_refused_naming_that_field() {
    let env = Env::start().await;
    let movie = env.create_movie(dune()).await.unwrap();
    let cases: [(&[&str], CreateMovieRequest, &str); 3] = [
        (
            &["duration_minutes"],
            new_movie("Dune", 0),
            "duration_minutes",
        ),
        (&["title", "genres"], new_movie("", 90), "title"),
        (
            &["release_date"],
            CreateMovieRequest {
                release_date: "2024-13-01".into(),
                ..dune()
            },
            "release_date",
        ),
    ];
    for (paths, request, field) in cases {
        let err = env
            .update_movie(update(&movie.movie_id, request, paths))
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&err), [field]);
    }
    assert_eq!(env.get_movie(&movie.movie_id).await.unwrap(), movie);
}

#[tokio::test]
async fn an_update_that_changes_nothing_writes_no_event() {
    let env = Env::start().await;
    let movie = env.create_movie(dune()).await.unwrap();
    let events = env.count("SELECT count(*) FROM outbox").await;

    let same = env
        .update_movie(update(&movie.movie_id, dune(), &[]))
        .await
        .unwrap();
    let named_same = env
        .update_movie(update(&movie.movie_id, dune(), &["title", "genres"]))
        .await
        .unwrap();

    assert_eq!(same, movie);
    assert_eq!(named_same, movie);
    assert_eq!(env.count("SELECT count(*) FROM outbox").await, events);
    // A real change does write one.
    let mut changed = dune();
    changed.duration_minutes = 170;
    env.update_movie(update(&movie.movie_id, changed, &[]))
        .await
        .unwrap();
    assert_eq!(env.count("SELECT count(*) FROM outbox").await, events + 1);
}

#[tokio::test]
async fn a_tmdb_id_taken_by_another_movie_is_already_exists() {
    let env = Env::start().await;
    let dune_movie = env.create_movie(dune()).await.unwrap();
    let other = env.movie("Oppenheimer", 180).await;

    let twin = env.create_movie(dune()).await;
    assert_eq!(code(&twin), Code::AlreadyExists, "{twin:?}");
    assert!(twin.unwrap_err().message().contains("693134"));

    let mut taking = update(&other.movie_id, new_movie("Oppenheimer", 180), &["tmdb_id"]);
    taking.tmdb_id = dune_movie.tmdb_id;
    let taken = env.update_movie(taking).await;
    assert_eq!(code(&taken), Code::AlreadyExists, "{taken:?}");

    assert_eq!(env.get_movie(&other.movie_id).await.unwrap(), other);
    assert_eq!(env.count("SELECT count(*) FROM movies").await, 2);
}

#[tokio::test]
async fn a_movie_with_a_showtime_still_to_come_is_deleted_only_once_that_is_cancelled() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let admin = &env.admin.access_token;
    let movie = env.movie("Dune", 155).await;
    let showing = env.showtime(&movie, "Studio 1", tomorrow()).await.unwrap();
    let delete = || {
        testkit::bearer(
            admin,
            DeleteMovieRequest {
                movie_id: movie.movie_id.clone(),
            },
        )
    };

    let refused = client.delete_movie(delete()).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert_eq!(env.get_movie(&movie.movie_id).await.unwrap(), movie);
    assert!(env.get_showtime(&showing.showtime_id).await.is_ok());

    env.cancel(&showing.showtime_id, "").await.unwrap();
    client.delete_movie(delete()).await.unwrap();

    assert_eq!(code(&env.get_movie(&movie.movie_id).await), Code::NotFound);
    let gone = env.get_showtime(&showing.showtime_id).await;
    assert_eq!(code(&gone), Code::NotFound, "{gone:?}");
    assert_eq!(
        env.count("SELECT count(*) FROM outbox WHERE event_type = 'movie_deleted'")
            .await,
        1
    );
    let again = client.delete_movie(delete()).await;
    assert_eq!(code(&again), Code::NotFound);
}

#[tokio::test]
async fn a_movie_whose_showtimes_have_ended_can_be_deleted() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let movie = env.movie("Dune", 155).await;
    let showing = env.showtime(&movie, "Studio 1", tomorrow()).await.unwrap();
    env.exec(&format!(
        "UPDATE showtimes SET start_time = now() - interval '3 hours',
             end_time = now() - interval '1 minute', free_at = now() + interval '14 minutes'
         WHERE id = '{}'",
        showing.showtime_id
    ))
    .await;

    client
        .delete_movie(testkit::bearer(
            &env.admin.access_token,
            DeleteMovieRequest {
                movie_id: movie.movie_id.clone(),
            },
        ))
        .await
        .unwrap();

    assert_eq!(env.count("SELECT count(*) FROM showtimes").await, 0);
    assert_eq!(env.count("SELECT count(*) FROM movies").await, 0);
}

#[tokio::test]
async fn unknown_movies_are_not_found() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let nobody = uuid::Uuid::now_v7().to_string();

    assert_eq!(code(&env.get_movie(&nobody).await), Code::NotFound);
    let updated = env
        .update_movie(update(&nobody, new_movie("X", 90), &[]))
        .await;
    assert_eq!(code(&updated), Code::NotFound);
    let deleted = client
        .delete_movie(testkit::bearer(
            &env.admin.access_token,
            DeleteMovieRequest {
                movie_id: nobody.clone(),
            },
        ))
        .await;
    assert_eq!(code(&deleted), Code::NotFound);
    let mut showing = crate::new_showtime(&nobody, "Studio 1", tomorrow());
    showing.price = 1;
    let scheduled = client
        .create_showtime(testkit::bearer(&env.admin.access_token, showing))
        .await;
    assert_eq!(code(&scheduled), Code::NotFound);
    assert_eq!(env.count("SELECT count(*) FROM outbox").await, 0);
}
