//! Every bad input is INVALID_ARGUMENT naming its field, all of a request's
//! bad fields at once, and nothing is stored; never INTERNAL.

use chrono::{Duration, Utc};
use kursi_proto::catalog::v1::*;
use testkit::bearer;
use tonic::Code;

use crate::{Env, new_movie, new_showtime, tomorrow, ts, violated_fields};

fn movie() -> CreateMovieRequest {
    CreateMovieRequest {
        overview: "A synopsis.".into(),
        release_date: "2024-02-27".into(),
        poster_url: "https://images.test/p.jpg".into(),
        tmdb_id: 42,
        ..new_movie("Dune", 155)
    }
}

fn with(change: impl FnOnce(&mut CreateMovieRequest)) -> CreateMovieRequest {
    let mut request = movie();
    change(&mut request);
    request
}

#[tokio::test]
async fn bad_movies_are_refused_naming_every_bad_field_and_nothing_is_stored() {
    let env = Env::start().await;
    let eleven: Vec<String> = (0..11).map(|i| format!("Genre {i}")).collect();
    let cases: Vec<(CreateMovieRequest, Vec<&str>)> = vec![
        (with(|m| m.title = String::new()), vec!["title"]),
        (with(|m| m.title = "   ".into()), vec!["title"]),
        (with(|m| m.title = "x".repeat(201)), vec!["title"]),
        (with(|m| m.title = "Du\u{0}ne".into()), vec!["title"]),
        (with(|m| m.title = "Du\nne".into()), vec!["title"]),
        (with(|m| m.title = "Dune\u{1b}[31m".into()), vec!["title"]),
        (with(|m| m.duration_minutes = 0), vec!["duration_minutes"]),
        (with(|m| m.duration_minutes = 601), vec!["duration_minutes"]),
        (with(|m| m.duration_minutes = -1), vec!["duration_minutes"]),
        (with(|m| m.genres = eleven.clone()), vec!["genres"]),
        (
            with(|m| m.genres = vec!["Action".into(), "action".into()]),
            vec!["genres[1]"],
        ),
        (with(|m| m.genres = vec!["x".repeat(51)]), vec!["genres[0]"]),
        (
            with(|m| m.genres = vec!["Drama".into(), " ".into()]),
            vec!["genres[1]"],
        ),
        (
            with(|m| m.release_date = "2024-13-01".into()),
            vec!["release_date"],
        ),
        (
            with(|m| m.release_date = "2024-2-3".into()),
            vec!["release_date"],
        ),
        (
            with(|m| m.release_date = "tomorrow".into()),
            vec!["release_date"],
        ),
        (
            with(|m| m.poster_url = "/posters/dune.jpg".into()),
            vec!["poster_url"],
        ),
        (
            with(|m| m.poster_url = "ftp://images.test/p.jpg".into()),
            vec!["poster_url"],
        ),
        (
            with(|m| m.poster_url = "javascript:alert(1)".into()),
            vec!["poster_url"],
        ),
        (
            with(|m| m.poster_url = format!("https://images.test/{}", "x".repeat(2029))),
            vec!["poster_url"],
        ),
        (with(|m| m.overview = "x".repeat(5001)), vec!["overview"]),
        (with(|m| m.tmdb_id = -1), vec!["tmdb_id"]),
        (
            CreateMovieRequest {
                title: String::new(),
                genres: vec!["A".into(), "a".into()],
                duration_minutes: 601,
                overview: String::new(),
                release_date: "2024-02-30".into(),
                poster_url: "ftp://x".into(),
                tmdb_id: -5,
            },
            vec![
                "title",
                "genres[1]",
                "duration_minutes",
                "release_date",
                "poster_url",
                "tmdb_id",
            ],
        ),
    ];
    // 2049 characters: one over.
    assert_eq!(cases[19].0.poster_url.chars().count(), 2049);

    for (request, fields) in cases {
        let shown = format!("{:.120}", format!("{request:?}"));
        let err = env.create_movie(request).await.expect_err(&shown);
        assert_eq!(violated_fields(&err), fields, "{shown}");
    }
    // The limits themselves are fine.
    let longest = with(|m| {
        m.title = "é".repeat(200);
        m.genres = (0..10).map(|i| format!("{i}{}", "g".repeat(49))).collect();
        m.duration_minutes = 600;
        m.poster_url = format!("https://images.test/{}", "x".repeat(2028));
    });
    env.create_movie(longest).await.unwrap();
    assert_eq!(env.count("SELECT count(*) FROM movies").await, 1);
    assert_eq!(env.count("SELECT count(*) FROM outbox").await, 1);
}

#[tokio::test]
async fn a_full_update_with_bad_values_is_refused_naming_every_one() {
    let env = Env::start().await;
    let created = env.create_movie(movie()).await.unwrap();
    let request = UpdateMovieRequest {
        movie_id: created.movie_id.clone(),
        title: "x".repeat(201),
        genres: vec![],
        duration_minutes: 0,
        overview: String::new(),
        release_date: "soon".into(),
        poster_url: String::new(),
        tmdb_id: 0,
        update_mask: None,
    };
    let err = env.update_movie(request).await.unwrap_err();
    assert_eq!(
        violated_fields(&err),
        ["title", "duration_minutes", "release_date"]
    );
    let unknown_mask_and_bad_id = UpdateMovieRequest {
        movie_id: "dune".into(),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["ratings".into()],
        }),
        ..Default::default()
    };
    let err = env.update_movie(unknown_mask_and_bad_id).await.unwrap_err();
    assert_eq!(violated_fields(&err), ["movie_id", "update_mask"]);
    assert_eq!(env.get_movie(&created.movie_id).await.unwrap(), created);
}

#[tokio::test]
async fn bad_showtimes_are_refused_naming_every_bad_field_and_nothing_is_stored() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let dune = env.movie("Dune", 155).await;
    let good = || new_showtime(&dune.movie_id, "Studio 1", tomorrow());
    let layout = |rows, seats_per_row| {
        Some(SeatLayout {
            rows,
            seats_per_row,
        })
    };
    let mut cases: Vec<(CreateShowtimeRequest, Vec<&str>)> = Vec::new();
    let mut push = |change: &dyn Fn(&mut CreateShowtimeRequest), fields: Vec<&'static str>| {
        let mut request = good();
        change(&mut request);
        cases.push((request, fields));
    };
    push(&|r| r.movie_id = "dune".into(), vec!["movie_id"]);
    push(&|r| r.movie_id = String::new(), vec!["movie_id"]);
    push(&|r| r.auditorium = String::new(), vec!["auditorium"]);
    push(&|r| r.auditorium = "x".repeat(51), vec!["auditorium"]);
    push(&|r| r.auditorium = "Studio\t1".into(), vec!["auditorium"]);
    push(&|r| r.seat_layout = layout(0, 10), vec!["seat_layout.rows"]);
    push(
        &|r| r.seat_layout = layout(27, 10),
        vec!["seat_layout.rows"],
    );
    push(
        &|r| r.seat_layout = layout(5, 0),
        vec!["seat_layout.seats_per_row"],
    );
    push(
        &|r| r.seat_layout = layout(5, 51),
        vec!["seat_layout.seats_per_row"],
    );
    push(&|r| r.seat_layout = None, vec!["seat_layout"]);
    push(&|r| r.price = -1, vec!["price"]);
    push(&|r| r.price = 10_000_001, vec!["price"]);
    push(&|r| r.start_time = None, vec!["start_time"]);
    push(
        &|r| r.start_time = Some(ts(Utc::now() - Duration::minutes(5))),
        vec!["start_time"],
    );
    push(
        &|r| r.start_time = Some(ts(Utc::now() + Duration::days(366))),
        vec!["start_time"],
    );
    push(
        &|r| {
            r.start_time = Some(prost_types::Timestamp {
                seconds: tomorrow().timestamp(),
                nanos: -1,
            })
        },
        vec!["start_time"],
    );
    push(
        &|r| {
            *r = CreateShowtimeRequest {
                movie_id: "x".into(),
                auditorium: String::new(),
                start_time: None,
                price: -1,
                seat_layout: layout(0, 0),
            }
        },
        vec![
            "movie_id",
            "auditorium",
            "start_time",
            "price",
            "seat_layout.rows",
            "seat_layout.seats_per_row",
        ],
    );

    for (request, fields) in cases {
        let shown = format!("{request:?}");
        let err = client
            .create_showtime(bearer(&env.admin.access_token, request))
            .await
            .expect_err(&shown);
        assert_eq!(violated_fields(&err), fields, "{shown}");
    }
    // The limits themselves are fine.
    let mut widest = good();
    widest.seat_layout = layout(26, 50);
    widest.price = 10_000_000;
    widest.auditorium = "x".repeat(50);
    client
        .create_showtime(bearer(&env.admin.access_token, widest))
        .await
        .unwrap();
    assert_eq!(env.count("SELECT count(*) FROM showtimes").await, 1);
}

#[tokio::test]
async fn ids_that_are_not_uuids_are_refused_naming_the_field() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let admin = &env.admin.access_token;
    let dune = env.movie("Dune", 155).await;
    let showing = env.showtime(&dune, "Studio 1", tomorrow()).await.unwrap();
    let before = env.dump().await;

    for id in [
        "",
        "dune",
        "../etc/passwd",
        "00000000-0000-0000-0000-00000000000g",
    ] {
        let err = env.get_movie(id).await.unwrap_err();
        assert_eq!(violated_fields(&err), ["movie_id"], "{id}");
        let update = UpdateMovieRequest {
            movie_id: id.into(),
            ..new_update()
        };
        let err = env.update_movie(update).await.unwrap_err();
        assert_eq!(violated_fields(&err), ["movie_id"], "{id}");
        let delete = DeleteMovieRequest {
            movie_id: id.into(),
        };
        let err = client
            .delete_movie(bearer(admin, delete))
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&err), ["movie_id"], "{id}");
        let err = env.get_showtime(id).await.unwrap_err();
        assert_eq!(violated_fields(&err), ["showtime_id"], "{id}");
        let err = env.cancel(id, "").await.unwrap_err();
        assert_eq!(violated_fields(&err), ["showtime_id"], "{id}");
    }
    let err = env
        .list_showtimes(ListShowtimesRequest {
            movie_id: "dune".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["movie_id"]);
    assert_eq!(env.dump().await, before);
    assert!(env.get_showtime(&showing.showtime_id).await.is_ok());
}

fn new_update() -> UpdateMovieRequest {
    UpdateMovieRequest {
        title: "Dune".into(),
        duration_minutes: 155,
        ..Default::default()
    }
}

#[tokio::test]
async fn bad_list_import_watch_and_cancel_requests_are_refused_naming_the_field() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let dune = env.movie("Dune", 155).await;
    let showing = env.showtime(&dune, "Studio 1", tomorrow()).await.unwrap();
    let before = env.dump().await;

    for date in ["2024-02-30", "2024-2-3", "tomorrow", "2024-02-03T00:00"] {
        let err = env
            .list_showtimes(ListShowtimesRequest {
                date: date.into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&err), ["date"], "{date}");
    }
    let err = env
        .list_movies(ListMoviesRequest {
            query: "x".repeat(201),
            genre: "g".repeat(51),
            page_size: -5,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(!violated_fields(&err).is_empty());
    let err = env
        .list_movies(ListMoviesRequest {
            query: "x".repeat(201),
            genre: "g".repeat(51),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["query", "genre"]);

    for pages in [11, -1] {
        let err = env.import(pages).await.unwrap_err();
        assert_eq!(violated_fields(&err), ["page_count"], "{pages}");
    }
    assert_eq!(env.tmdb.count(testkit::tmdb::Route::Any), 0);

    let err = client
        .watch_catalog_events(bearer(
            &env.staff.access_token,
            WatchCatalogEventsRequest { start_position: -1 },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["start_position"]);

    let err = env
        .cancel(&showing.showtime_id, &"x".repeat(501))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["reason"]);
    assert_eq!(env.dump().await, before);
    // 500 characters, line breaks allowed, is fine.
    let reason = format!("{}\n{}", "x".repeat(250), "y".repeat(249));
    let cancelled = env.cancel(&showing.showtime_id, &reason).await.unwrap();
    assert_eq!(cancelled.cancel_reason, reason);
}

#[tokio::test]
async fn bytes_that_are_no_valid_message_are_invalid_arguments_not_internal() {
    let env = Env::start().await;
    let channel = testkit::channel(env.server.addr).await;
    let admin = Some(env.admin.access_token.as_str());
    let cases: [(&'static str, &[u8], Option<&str>); 4] = [
        // CreateMovieRequest.title (1) of one byte that is not UTF-8.
        (
            "/kursi.catalog.v1.CatalogService/CreateMovie",
            &[0x0a, 0x01, 0xff],
            Some("title"),
        ),
        // A length that runs past the end of the message.
        (
            "/kursi.catalog.v1.CatalogService/CreateMovie",
            &[0x0a, 0x09, 0x41],
            None,
        ),
        // CreateShowtimeRequest.seat_layout (5) cut short inside.
        (
            "/kursi.catalog.v1.CatalogService/CreateShowtime",
            &[0x2a, 0x02, 0x08],
            None,
        ),
        // ListMoviesRequest.query (3) not UTF-8.
        (
            "/kursi.catalog.v1.CatalogService/ListMovies",
            &[0x1a, 0x02, 0xc3, 0x28],
            Some("query"),
        ),
    ];
    for (path, bytes, field) in cases {
        let err = testkit::raw::unary(channel.clone(), path, bytes, admin)
            .await
            .expect_err(path);
        assert_eq!(err.code(), Code::InvalidArgument, "{path}: {err:?}");
        if let Some(field) = field {
            assert_eq!(violated_fields(&err), [field], "{path}");
        }
    }
    assert_eq!(env.count("SELECT count(*) FROM movies").await, 0);
    assert_eq!(env.count("SELECT count(*) FROM outbox").await, 0);
}

#[tokio::test]
async fn inputs_postgresql_reads_differently_from_rust_are_not_internal() {
    let env = Env::start().await;
    // PostgreSQL lowers "İ" to "i" and "Σ" to "σ" one character at a time,
    // as the table's genre check does; Rust's str::to_lowercase does not.
    for genres in [["İ", "i"], ["ασ", "ΑΣ"]] {
        let request = with(|m| m.genres = genres.iter().map(|g| (*g).to_owned()).collect());
        let err = env.create_movie(request).await.unwrap_err();
        assert_eq!(violated_fields(&err), ["genres[1]"], "{genres:?}");
    }
    // A scheme in capitals is still http(s).
    let shouting = with(|m| m.poster_url = "HTTPS://images.test/p.jpg".into());
    let created = env.create_movie(shouting).await.unwrap();
    assert_eq!(created.poster_url, "https://images.test/p.jpg");
}

#[tokio::test]
async fn the_first_and_last_days_a_date_can_name_are_answered() {
    let env = Env::start().await;
    for day in ["0001-01-01", "9999-12-31"] {
        let listed = env
            .list_showtimes(ListShowtimesRequest {
                date: day.into(),
                include_cancelled: true,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(listed.total_size, 0, "{day}");
        let created = env
            .create_movie(with(|m| {
                m.release_date = day.into();
                m.tmdb_id = 0;
            }))
            .await
            .unwrap();
        assert_eq!(created.release_date, day);
    }
}
