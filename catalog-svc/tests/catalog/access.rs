//! Who may call what: reading needs a signed-in caller, writing is ADMIN
//! only, following the events is STAFF or ADMIN. A refused call changes
//! nothing.

use kursi_proto::catalog::v1::*;
use testkit::tmdb::Route;
use tonic::{Code, Request, Status};

use crate::{Client, Env, new_movie, new_showtime, tomorrow};

/// `message`, with the token when there is one.
fn as_who<T>(token: Option<&str>, message: T) -> Request<T> {
    match token {
        Some(token) => testkit::bearer(token, message),
        None => Request::new(message),
    }
}

/// Every write RPC, once, as `token`.
async fn every_write(
    client: &mut Client,
    token: Option<&str>,
    movie: &Movie,
    showtime: &Showtime,
) -> Vec<(&'static str, Status)> {
    let mut refused = Vec::new();
    let mut note = |name, result: Result<(), Status>| {
        refused.push((name, result.expect_err(name)));
    };
    let r = client
        .create_movie(as_who(token, new_movie("Intruder", 90)))
        .await;
    note("CreateMovie", r.map(drop));
    let update = UpdateMovieRequest {
        movie_id: movie.movie_id.clone(),
        title: "Hijacked".into(),
        duration_minutes: 1,
        ..Default::default()
    };
    let r = client.update_movie(as_who(token, update)).await;
    note("UpdateMovie", r.map(drop));
    let delete = DeleteMovieRequest {
        movie_id: movie.movie_id.clone(),
    };
    let r = client.delete_movie(as_who(token, delete)).await;
    note("DeleteMovie", r.map(drop));
    let r = client
        .import_movies(as_who(token, ImportMoviesRequest { page_count: 1 }))
        .await;
    note("ImportMovies", r.map(drop));
    let start = tomorrow() + chrono::Duration::days(1);
    let r = client
        .create_showtime(as_who(
            token,
            new_showtime(&movie.movie_id, "Studio 9", start),
        ))
        .await;
    note("CreateShowtime", r.map(drop));
    let cancel = CancelShowtimeRequest {
        showtime_id: showtime.showtime_id.clone(),
        reason: "sabotage".into(),
    };
    let r = client.cancel_showtime(as_who(token, cancel)).await;
    note("CancelShowtime", r.map(drop));
    refused
}

#[tokio::test]
async fn only_an_admin_writes_and_a_refused_write_changes_nothing() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let movie = env.movie("Dune", 155).await;
    let showtime = env.showtime(&movie, "Studio 1", tomorrow()).await.unwrap();
    let before = env.dump().await;

    for (who, token, expected) in [
        (
            "customer",
            Some(env.customer.access_token.as_str()),
            Code::PermissionDenied,
        ),
        (
            "staff",
            Some(env.staff.access_token.as_str()),
            Code::PermissionDenied,
        ),
        ("nobody", None, Code::Unauthenticated),
        ("a forger", Some("not.a.token"), Code::Unauthenticated),
    ] {
        let refused = every_write(&mut client, token, &movie, &showtime).await;
        assert_eq!(refused.len(), 6);
        for (rpc, status) in refused {
            assert_eq!(status.code(), expected, "{who} {rpc}: {status:?}");
        }
    }

    assert_eq!(env.dump().await, before);
    assert_eq!(env.tmdb.count(Route::Any), 0);
    // An admin's token does go through.
    let admin = Some(env.admin.access_token.as_str());
    let created = client
        .create_movie(as_who(admin, new_movie("Allowed", 90)))
        .await;
    assert!(created.is_ok(), "{created:?}");
    let import = ImportMoviesRequest { page_count: 1 };
    let imported = client.import_movies(as_who(admin, import)).await;
    assert!(imported.is_ok(), "{imported:?}");
}

#[tokio::test]
async fn reading_needs_a_signed_in_caller_of_any_role() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let movie = env.movie("Dune", 155).await;
    let showtime = env.showtime(&movie, "Studio 1", tomorrow()).await.unwrap();

    for token in [None, Some("not.a.token")] {
        let get = GetMovieRequest {
            movie_id: movie.movie_id.clone(),
        };
        let r = client.get_movie(as_who(token, get)).await;
        assert_eq!(r.unwrap_err().code(), Code::Unauthenticated);
        let r = client
            .list_movies(as_who(token, ListMoviesRequest::default()))
            .await;
        assert_eq!(r.unwrap_err().code(), Code::Unauthenticated);
        let get = GetShowtimeRequest {
            showtime_id: showtime.showtime_id.clone(),
        };
        let r = client.get_showtime(as_who(token, get)).await;
        assert_eq!(r.unwrap_err().code(), Code::Unauthenticated);
        let r = client
            .list_showtimes(as_who(token, ListShowtimesRequest::default()))
            .await;
        assert_eq!(r.unwrap_err().code(), Code::Unauthenticated);
    }

    for who in [&env.customer, &env.staff, &env.admin] {
        let token = Some(who.access_token.as_str());
        let get = GetMovieRequest {
            movie_id: movie.movie_id.clone(),
        };
        let read = client
            .get_movie(as_who(token, get))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(read.movie.unwrap(), movie);
        let listed = client
            .list_movies(as_who(token, ListMoviesRequest::default()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.total_size, 1);
        let get = GetShowtimeRequest {
            showtime_id: showtime.showtime_id.clone(),
        };
        let read = client
            .get_showtime(as_who(token, get))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(read.showtime.unwrap(), showtime);
        let listed = client
            .list_showtimes(as_who(token, ListShowtimesRequest::default()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.total_size, 1);
    }
}

#[tokio::test]
async fn the_event_stream_is_for_staff_and_admins() {
    let env = Env::start().await;
    let mut client = env.client().await;
    env.movie("Dune", 155).await;
    let watch =
        |token: Option<&str>| as_who(token, WatchCatalogEventsRequest { start_position: 0 });

    let r = client.watch_catalog_events(watch(None)).await;
    assert_eq!(r.unwrap_err().code(), Code::Unauthenticated);
    let r = client
        .watch_catalog_events(watch(Some(&env.customer.access_token)))
        .await;
    assert_eq!(r.unwrap_err().code(), Code::PermissionDenied);

    for who in [&env.staff, &env.admin] {
        let mut events = client
            .watch_catalog_events(watch(Some(&who.access_token)))
            .await
            .unwrap()
            .into_inner();
        let first = events.message().await.unwrap().unwrap().event.unwrap();
        assert_eq!(first.position, 1);
    }
}
