//! The edge's connections: how many it serves at once, and how long a
//! client may take over its side of them. A public edge meets clients that
//! send half a request and wait (slowloris), or open connections and never
//! use them; each of those would otherwise hold a slot for as long as it
//! likes. Every wait here is bounded and named in CONFIG.md:
//!
//! - past `max_connections`, new connections wait in the listen backlog
//!   until a slot frees, so the edge's memory and file descriptors stay
//!   bounded;
//! - HTTP/1: the headers of a request must arrive within
//!   `header_read_timeout`, counted from the connection's start or the end
//!   of its previous response (so it also closes an idle kept-alive
//!   connection); at most `max_headers` headers in `max_header_bytes`;
//! - HTTP/2: at most `h2_max_concurrent_streams` streams and
//!   `max_header_bytes` of headers a request; a connection without an open
//!   stream for `idle_timeout` is closed (GOAWAY);
//! - a request body must keep coming (`body_idle_timeout` between chunks)
//!   and be complete within `body_timeout`: the gateway reads it
//!   (`gateway::read_body`) and answers 408 otherwise.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use crate::config::ClientLimits;

/// Serves `app` on `listener` until `shutdown` resolves; then stops
/// accepting, asks every connection to finish what it has in flight, and
/// returns once all have.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ClientLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let builder = Arc::new(builder(&limits));
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        // A slot first, then the connection: past the limit, clients wait
        // in the kernel's backlog rather than in the edge's memory.
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit,
            () = &mut shutdown => break,
        };
        let Ok(permit) = permit else { break };
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection = Connection {
            builder: builder.clone(),
            app: app.clone(),
            idle_timeout: limits.idle_timeout,
            stopping: stopping.clone(),
        };
        tokio::spawn(async move {
            connection.serve(stream).await;
            drop(permit);
        });
    }
    tracing::info!("shutting down: finishing requests in flight");
    let _ = stop.send(true);
    // Every connection holds a slot until it is done.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _drained = slots.acquire_many(all).await;
    Ok(())
}

fn builder(limits: &ClientLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_headers(limits.max_headers)
        // The whole head must fit the read buffer: past it, 431.
        .max_buf_size(limits.max_header_bytes.max(MIN_BUFFER));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.h2_max_concurrent_streams)
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        // A client that opens and resets streams in a loop (CVE-2023-44487).
        .max_pending_accept_reset_streams(Some(20));
    builder
}

/// hyper's smallest read buffer.
const MIN_BUFFER: usize = 8192;

struct Connection {
    builder: Arc<auto::Builder<TokioExecutor>>,
    app: Router,
    idle_timeout: Duration,
    stopping: watch::Receiver<bool>,
}

impl Connection {
    async fn serve(mut self, stream: TcpStream) {
        // Without TCP_NODELAY, a reply written in more than one segment
        // (h2c sends its frames apart) waits for the client's delayed ACK:
        // 40 ms at the 99th percentile of get-reservation over h2c.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "could not set TCP_NODELAY on a connection");
        }
        let activity = Activity::new();
        let app = self.app.clone();
        let tracked = activity.clone();
        let service = tower::service_fn(move |request: http::Request<Incoming>| {
            let app = app.clone();
            let in_flight = tracked.start();
            async move {
                let response = tower::ServiceExt::oneshot(app, request.map(Body::new)).await?;
                // The request counts as in flight until its body is sent:
                // a streamed reply (events) keeps the connection busy.
                Ok::<_, std::convert::Infallible>(response.map(|body| {
                    Body::new(InFlightBody {
                        body,
                        _in_flight: in_flight,
                    })
                }))
            }
        });
        let connection = self
            .builder
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let mut connection = pin!(connection);
        let mut closing = false;
        loop {
            let idle_check = tokio::time::sleep(activity.idle_left(self.idle_timeout));
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(error = %err, "connection ended with an error");
                    }
                    return;
                }
                () = idle_check, if !closing => {
                    if activity.idle_for() >= self.idle_timeout {
                        tracing::debug!("closing an idle connection");
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                    }
                }
                _ = self.stopping.changed(), if !closing => {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}

/// Requests in flight on one connection, and since when none has been.
#[derive(Clone)]
struct Activity {
    in_flight: Arc<AtomicUsize>,
    idle_since: Arc<Mutex<Instant>>,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: Arc::new(AtomicUsize::new(0)),
            idle_since: Arc::new(Mutex::new(Instant::now())),
        }
    }

    fn start(&self) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    /// How long the connection has had nothing in flight; zero while it has.
    fn idle_for(&self) -> Duration {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return Duration::ZERO;
        }
        self.idle_since
            .lock()
            .map_or(Duration::ZERO, |since| since.elapsed())
    }

    /// When to look again: at the earliest, when the connection could have
    /// been idle for `timeout`.
    fn idle_left(&self, timeout: Duration) -> Duration {
        timeout
            .saturating_sub(self.idle_for())
            .max(Duration::from_millis(100))
    }
}

/// One request in flight; the connection is idle again when the last is
/// dropped.
struct InFlight(Activity);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1
            && let Ok(mut since) = self.0.idle_since.lock()
        {
            *since = Instant::now();
        }
    }
}

/// A response body that keeps its request in flight until it is sent or
/// dropped.
struct InFlightBody {
    body: Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for InFlightBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
