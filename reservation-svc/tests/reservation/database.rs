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
async fn reads_on_lost_database_connections_are_read_again_and_never_fail() {
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

    // A read that finds a dead connection is read again on a fresh one
    // (service_kit::db::read): no call fails.
    for _ in 0..POOL * 2 {
        if let Err(status) = list(&mut client, &env.customer).await {
            panic!("a read on a lost connection answered {status:?}");
        }
    }
    for _ in 0..POOL {
        list(&mut client, &env.customer)
            .await
            .expect("served again on new connections");
    }
}
