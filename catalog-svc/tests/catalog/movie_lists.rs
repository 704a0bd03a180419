//! ListMovies: ordered by title regardless of case, then id; searched by
//! title and genre; AIP-158 pages that walk every movie exactly once.

use kursi_proto::catalog::v1::*;

use crate::{Env, new_movie, violated_fields};

fn list(query: &str, genre: &str, page_size: i32, page_token: &str) -> ListMoviesRequest {
    ListMoviesRequest {
        page_size,
        page_token: page_token.into(),
        query: query.into(),
        genre: genre.into(),
    }
}

fn titles(page: &ListMoviesResponse) -> Vec<&str> {
    page.movies.iter().map(|m| m.title.as_str()).collect()
}

#[tokio::test]
async fn movies_are_listed_by_title_regardless_of_case_then_by_id() {
    let env = Env::start().await;
    let mut made = Vec::new();
    for title in ["banana", "Apple", "cherry", "apple", "Banana", "APPLE"] {
        made.push(env.movie(title, 90).await);
    }
    let mut expected: Vec<(String, String)> = made
        .iter()
        .map(|m| (m.title.to_lowercase(), m.movie_id.clone()))
        .collect();
    expected.sort();

    let page = env.list_movies(list("", "", 0, "")).await.unwrap();

    let ids: Vec<&str> = page.movies.iter().map(|m| m.movie_id.as_str()).collect();
    let expected_ids: Vec<&str> = expected.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids, expected_ids, "{:?}", titles(&page));
    assert_eq!(page.total_size, 6);
    assert_eq!(page.next_page_token, "");
}

#[tokio::test]
async fn the_title_search_ignores_case_and_takes_percent_and_underscore_literally() {
    let env = Env::start().await;
    for title in [
        "100% Cotton",
        "1000 Days",
        "A_B Test",
        "AxB Test",
        "Dune",
        "Dunes",
    ] {
        env.movie(title, 90).await;
    }
    let search = |query: &'static str| {
        let env = &env;
        async move { env.list_movies(list(query, "", 0, "")).await.unwrap() }
    };

    let found = search("dUNE").await;
    assert_eq!(titles(&found), ["Dune", "Dunes"]);
    assert_eq!(found.total_size, 2);
    assert_eq!(titles(&search("100%").await), ["100% Cotton"]);
    assert_eq!(titles(&search("a_b").await), ["A_B Test"]);
    assert_eq!(titles(&search("%").await), ["100% Cotton"]);
    assert_eq!(titles(&search("_").await), ["A_B Test"]);
    assert!(search("Matrix").await.movies.is_empty());
    assert_eq!(search("Matrix").await.total_size, 0);
}

#[tokio::test]
async fn the_genre_filter_ignores_case_and_matches_whole_names() {
    let env = Env::start().await;
    let mut alien = new_movie("Alien", 117);
    alien.genres = vec!["Horror".into(), "Science Fiction".into()];
    env.create_movie(alien).await.unwrap();
    let mut arrival = new_movie("Arrival", 116);
    arrival.genres = vec!["Drama".into(), "science fiction".into()];
    env.create_movie(arrival).await.unwrap();
    env.movie("Aftersun", 102).await;

    let scifi = env
        .list_movies(list("", "SCIENCE FICTION", 0, ""))
        .await
        .unwrap();
    assert_eq!(titles(&scifi), ["Alien", "Arrival"]);
    assert_eq!(scifi.total_size, 2);
    let drama = env.list_movies(list("", "drama", 0, "")).await.unwrap();
    assert_eq!(titles(&drama), ["Aftersun", "Arrival"]);
    let both = env.list_movies(list("ali", "horror", 0, "")).await.unwrap();
    assert_eq!(titles(&both), ["Alien"]);
    let partial = env.list_movies(list("", "Science", 0, "")).await.unwrap();
    assert!(partial.movies.is_empty(), "{:?}", titles(&partial));
}

#[tokio::test]
async fn pages_default_to_20_cap_at_100_and_walk_every_movie_exactly_once() {
    let env = Env::start().await;
    // Titles repeat, so pages often end inside a run of equal titles.
    env.exec(
        "INSERT INTO movies (id, title, duration_minutes)
         SELECT gen_random_uuid(),
                CASE WHEN i % 2 = 0 THEN 'Movie ' ELSE 'movie ' END || (i % 7), 90
         FROM generate_series(1, 105) i",
    )
    .await;
    let mut expected = env
        .texts("SELECT lower(title) || ' ' || id FROM movies ORDER BY lower(title), id")
        .await;
    expected = expected
        .into_iter()
        .map(|key| key.rsplit(' ').next().unwrap().to_owned())
        .collect();

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut token = String::new();
    loop {
        let page = env.list_movies(list("", "", 0, &token)).await.unwrap();
        assert_eq!(page.total_size, 105);
        sizes.push(page.movies.len());
        seen.extend(page.movies.iter().map(|m| m.movie_id.clone()));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(sizes, [20, 20, 20, 20, 20, 5]);
    assert_eq!(seen, expected);

    let capped = env.list_movies(list("", "", 1000, "")).await.unwrap();
    assert_eq!(capped.movies.len(), 100);
    assert!(!capped.next_page_token.is_empty());
    let rest = env
        .list_movies(list("", "", 100, &capped.next_page_token))
        .await
        .unwrap();
    assert_eq!(rest.movies.len(), 5);
    assert_eq!(rest.next_page_token, "");

    // A filtered walk counts and pages only the matches.
    let matching = env
        .count("SELECT count(*) FROM movies WHERE title ILIKE '%3'")
        .await;
    let first = env.list_movies(list("3", "", 4, "")).await.unwrap();
    assert_eq!(first.total_size, matching);
    let mut walked = first.movies.len();
    let mut token = first.next_page_token;
    while !token.is_empty() {
        let page = env.list_movies(list("3", "", 4, &token)).await.unwrap();
        assert!(page.movies.iter().all(|m| m.title.ends_with('3')));
        walked += page.movies.len();
        token = page.next_page_token;
    }
    assert_eq!(walked as i64, matching);

    let negative = env.list_movies(list("", "", -1, "")).await.unwrap_err();
    assert_eq!(violated_fields(&negative), ["page_size"]);
}

#[tokio::test]
async fn a_garbage_or_tampered_page_token_is_refused_naming_page_token() {
    let env = Env::start().await;
    for title in ["A", "B", "C"] {
        env.movie(title, 90).await;
    }
    let good = env.list_movies(list("", "", 1, "")).await.unwrap();
    let mut flipped = good.next_page_token.clone();
    flipped.insert(3, '!');
    let id = uuid::Uuid::now_v7().to_string();
    let tokens = [
        "garbage".to_owned(),
        flipped,
        // base64url of `not json`, of `{}` and of `["A"]`.
        "bm90IGpzb24".to_owned(),
        "e30".to_owned(),
        "WyJBIl0".to_owned(),
        service_kit::pages::encode(&["A", "not-a-uuid"]),
        // Keys no movie can have: PostgreSQL cannot even hold a NUL.
        service_kit::pages::encode(&["A\u{0}", &id]),
        service_kit::pages::encode(&[&"x".repeat(5000), &id]),
    ];
    for token in tokens {
        let err = env.list_movies(list("", "", 1, &token)).await.unwrap_err();
        assert_eq!(violated_fields(&err), ["page_token"], "{token}");
    }
}
