//! What callers see when the service's database connections go away, as
//! they do when PostgreSQL restarts or a proxy drops idle connections.

use super::*;

async fn list(client: &mut Client, who: &SignedIn) -> Result<ListReservationsResponse, Status> {
    client
        .list_reservations(bearer(
            &who.access_token,
            ListReservationsRequest::default(),
        ))
        .await
        .map(|response| response.into_inner())
}

#[tokio::test]
async fn lost_database_connections_are_replaced_and_never_answer_internal() {
    const POOL: u32 = 3;
    let env = Env::start_with(|config| config.common.database_pool_size = POOL).await;
    let mut client = env.client().await;
    // Enough calls at once to open every connection of the pool.
    let warm = (0..POOL * 2).map(|_| {
        let mut client = client.clone();
        let who = env.customer.clone();
        async move { list(&mut client, &who).await }
    });
    for result in futures_util::future::join_all(warm).await {
        result.expect("served before the connections are lost");
    }

    let killed = env
        .count(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await;
    assert!(killed >= 1, "the service held no connection");
    // As after a restart of PostgreSQL: the sessions are gone before the
    // next call comes.
    while env
        .count(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await
        > 0
    {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    // A dead connection fails the one call that finds it, as a retryable
    // UNAVAILABLE; the pool then opens a new one.
    let mut unavailable = 0;
    for _ in 0..POOL * 2 {
        match list(&mut client, &env.customer).await {
            Ok(_) => {}
            Err(status) if status.code() == Code::Unavailable => unavailable += 1,
            Err(status) => panic!("a lost connection answered {status:?}"),
        }
    }
    assert!(unavailable <= POOL, "{unavailable} calls failed");
    for _ in 0..POOL {
        list(&mut client, &env.customer)
            .await
            .expect("served again on new connections");
    }
}
