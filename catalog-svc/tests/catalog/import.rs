//! ImportMovies against the fake TheMovieDB: what an import creates and
//! refreshes, what it leaves alone, and one at a time. Each import is
//! polled to its end (`Env::import`).

use std::collections::HashMap;

use kursi_proto::catalog::v1::*;
use prost_types::FieldMask;
use testkit::tmdb::{Catalog, FakeMovie, Route, tmdb_genres};

use crate::{Env, tomorrow};

/// Every movie in the catalog, by TheMovieDB id.
async fn by_tmdb_id(env: &Env) -> HashMap<i64, Movie> {
    let mut movies = HashMap::new();
    let mut token = String::new();
    loop {
        let page = env
            .list_movies(ListMoviesRequest {
                page_size: 100,
                page_token: token,
                ..Default::default()
            })
            .await
            .unwrap();
        movies.extend(page.movies.into_iter().map(|m| (m.tmdb_id, m)));
        if page.next_page_token.is_empty() {
            return movies;
        }
        token = page.next_page_token;
    }
}

/// What the catalog should hold for `fake`, as TheMovieDB's client sees it.
fn assert_imported(env: &Env, movie: &Movie, fake: &FakeMovie) {
    let genres = tmdb_genres();
    let names: Vec<&str> = fake
        .genre_ids
        .iter()
        .map(|id| genres.iter().find(|g| g.id == *id).unwrap().name.as_str())
        .collect();
    assert_eq!(movie.title, fake.title);
    assert_eq!(movie.overview, fake.overview);
    assert_eq!(movie.release_date, fake.release_date);
    assert_eq!(movie.genres, names, "{}", fake.title);
    assert_eq!(movie.duration_minutes, fake.runtime.unwrap());
    let poster = fake
        .poster_path
        .as_ref()
        .map(|path| format!("{}{path}", env.config.tmdb.image_base_url))
        .unwrap_or_default();
    assert_eq!(movie.poster_url, poster);
}

async fn events_of(env: &Env, kind: &str) -> i64 {
    env.count(&format!(
        "SELECT count(*) FROM outbox WHERE event_type = '{kind}'"
    ))
    .await
}

#[tokio::test]
async fn imports_of_one_and_of_two_pages_create_their_movies_as_themoviedb_has_them() {
    let env = Env::start().await;
    let catalog = Catalog::generated(45);

    let one = env.import(1).await.unwrap();
    assert_eq!((one.created_count, one.updated_count), (20, 0));
    assert_eq!((one.unchanged_count, one.skipped.len()), (0, 0));
    assert!(one.complete_time.is_some());
    let two = env.import(2).await.unwrap();
    assert_eq!((two.created_count, two.unchanged_count), (20, 20));

    let movies = by_tmdb_id(&env).await;
    assert_eq!(movies.len(), 40);
    for fake in &catalog.movies[..40] {
        assert_imported(&env, &movies[&fake.id], fake);
    }
    assert!(movies.values().any(|m| m.poster_url.is_empty()));
    assert_eq!(events_of(&env, "movie_created").await, 40);
    let imports = env
        .texts(
            "SELECT trigger || ' ' || actor_id || ' ' || pages || ' ' || created_count
                    || ' ' || unchanged_count FROM movie_imports ORDER BY id",
        )
        .await;
    let admin = &env.admin.user_id;
    assert_eq!(
        imports,
        [
            format!("request {admin} 1 20 0"),
            format!("request {admin} 2 20 20")
        ]
    );
}

#[tokio::test]
async fn importing_again_what_has_not_changed_changes_nothing() {
    let env = Env::start().await;
    env.import(1).await.unwrap();
    let movies = env.texts("SELECT m::text FROM movies m ORDER BY id").await;
    let events = env.count("SELECT count(*) FROM outbox").await;

    let again = env.import(1).await.unwrap();

    assert_eq!((again.created_count, again.updated_count), (0, 0));
    assert_eq!(again.unchanged_count, 20);
    assert_eq!(
        env.texts("SELECT m::text FROM movies m ORDER BY id").await,
        movies
    );
    assert_eq!(env.count("SELECT count(*) FROM outbox").await, events);
    assert_eq!(env.count("SELECT count(*) FROM movie_imports").await, 2);
}

#[tokio::test]
async fn a_reimport_refreshes_movies_but_keeps_their_ids_showtimes_and_hand_made_changes() {
    let env = Env::start().await;
    let mut catalog = Catalog::generated(20);
    env.import(1).await.unwrap();
    let before = by_tmdb_id(&env).await;
    let (retitled, edited, untouched) = (1001, 1002, 1003);
    let showing = env
        .showtime(&before[&retitled], "Studio 1", tomorrow())
        .await
        .unwrap();
    // An admin renames one movie by hand.
    let renamed = env
        .update_movie(UpdateMovieRequest {
            movie_id: before[&edited].movie_id.clone(),
            title: "Judul Indonesia".into(),
            update_mask: Some(FieldMask {
                paths: vec!["title".into()],
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let events = events_of(&env, "movie_updated").await;
    // Meanwhile TheMovieDB changes both movies' titles and overviews.
    for movie in catalog
        .movies
        .iter_mut()
        .filter(|m| m.id != untouched && m.id <= edited)
    {
        movie.title.push_str(" (Remastered)");
        movie.overview = format!("New synopsis of {}.", movie.id);
    }
    env.tmdb.set_catalog(catalog.clone());

    let summary = env.import(1).await.unwrap();

    assert_eq!(
        (
            summary.created_count,
            summary.updated_count,
            summary.unchanged_count
        ),
        (0, 2, 18)
    );
    let after = by_tmdb_id(&env).await;
    assert_eq!(after.len(), 20);
    for (tmdb_id, movie) in &after {
        assert_eq!(movie.movie_id, before[tmdb_id].movie_id);
    }
    assert_imported(&env, &after[&retitled], &catalog.movies[0]);
    assert_eq!(after[&edited].title, "Judul Indonesia");
    assert_eq!(after[&edited].overview, "New synopsis of 1002.");
    assert_eq!(after[&untouched], before[&untouched]);
    let shown = env.get_showtime(&showing.showtime_id).await.unwrap();
    assert_eq!(shown.movie_id, before[&retitled].movie_id);
    assert_eq!(shown.movie_title, catalog.movies[0].title);
    assert_ne!(renamed.update_time, after[&edited].update_time);
    assert_eq!(events_of(&env, "movie_updated").await, events + 2);
    assert_eq!(
        env.count("SELECT count(*) FROM movie_imports WHERE updated_count = 2")
            .await,
        1
    );
}

#[tokio::test]
async fn a_new_movie_without_a_running_time_is_skipped_and_a_known_one_keeps_its_own() {
    let env = Env::start().await;
    let mut catalog = Catalog::generated(20);
    catalog.movies.truncate(17);
    env.tmdb.set_catalog(catalog.clone());
    env.import(1).await.unwrap();
    let known = by_tmdb_id(&env).await[&1001].clone();
    catalog.movies[0].runtime = None;
    let mut null = FakeMovie::new(2001, "No Runtime Yet");
    null.runtime = None;
    let mut zero = FakeMovie::new(2002, "Runtime Zero");
    zero.runtime = Some(0);
    // And one TheMovieDB should never send: an id that is no id.
    let no_id = FakeMovie::new(-7, "Negative Id");
    catalog.movies.extend([null, zero, no_id]);
    env.tmdb.set_catalog(catalog);

    let summary = env.import(1).await.unwrap();

    assert_eq!((summary.created_count, summary.unchanged_count), (0, 17));
    let skipped: Vec<(i64, &str)> = summary
        .skipped
        .iter()
        .map(|s| (s.tmdb_id, s.title.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            (2001, "No Runtime Yet"),
            (2002, "Runtime Zero"),
            (-7, "Negative Id")
        ]
    );
    for skip in &summary.skipped[..2] {
        assert!(skip.reason.contains("running time"), "{skip:?}");
    }
    let movies = by_tmdb_id(&env).await;
    assert_eq!(movies.len(), 17);
    assert_eq!(movies[&1001], known);
    assert_eq!(
        env.count("SELECT count(*) FROM movie_imports WHERE skipped_count = 3")
            .await,
        1
    );
}

#[tokio::test]
async fn only_one_import_runs_at_a_time_and_a_second_meanwhile_answers_the_running_one() {
    let env = Env::start().await;
    env.tmdb
        .delay(Route::Details(None), std::time::Duration::from_millis(200));
    let first = env.start_import(1).await.unwrap();
    // Once the first has asked TheMovieDB for anything, it holds the lock.
    crate::eventually("the first import fetches", || async {
        (env.tmdb.count(Route::Details(None)) > 0).then_some(())
    })
    .await;

    // Even asking for more pages: one import at a time.
    let second = env.start_import(2).await.unwrap();

    assert_eq!(second.name, first.name);
    assert!(!second.done, "{second:?}");
    assert_eq!(crate::metadata(&second).page_count, 1);
    let first = crate::outcome(&env.done(&first.name).await).unwrap();
    assert_eq!(first.created_count, 20);
    assert_eq!(env.tmdb.count(Route::Genres), 1);
    assert_eq!(env.tmdb.count(Route::Popular(None)), 1);
    assert_eq!(env.tmdb.count(Route::Details(None)), 20);
    assert_eq!(env.count("SELECT count(*) FROM movie_imports").await, 1);
    assert_eq!(env.count("SELECT count(*) FROM operations").await, 1);
}
