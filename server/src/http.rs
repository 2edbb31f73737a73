//! Serving HTTP/1.1 on a listener, with what slow or hostile clients cannot get around:
//!
//! - a total deadline for a request's headers (hyper's `header_read_timeout`: a deadline from the
//!   moment the server waits for a request, which trickled bytes do not extend; it also closes idle
//!   keep-alive connections);
//! - a total deadline for a request's body, from the moment its headers arrived ([`DeadlineBody`]);
//! - at most `max_connections` connections at once: beyond that, new ones wait in the listen queue
//!   until a slot frees.
//!
//! Each request carries its peer address (axum's `ConnectInfo`); [`client_ip`] decides which address
//! counts for rate limits. Shutdown stops accepting, lets open requests finish and closes idle
//! connections (hyper-util's graceful shutdown), bounded by the deadlines.

use std::error::Error as StdError;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tower::ServiceExt as _;

/// Deadlines and limits of the HTTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// A request's headers must be complete this long after the server started waiting for them.
    /// Default 30 s.
    pub header_deadline: Duration,
    /// A request's body must be complete this long after its headers. Default 30 s.
    pub body_deadline: Duration,
    /// Connections served at once. Default 1024.
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            header_deadline: Duration::from_secs(30),
            body_deadline: Duration::from_secs(30),
            max_connections: 1_024,
        }
    }
}

/// Extra time shutdown gives open requests beyond the deadlines.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A body that fails once its deadline has passed, however the bytes trickle in.
struct DeadlineBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
    limit: Duration,
}

/// The error a body gives when it missed its deadline.
#[derive(Debug)]
pub(crate) struct BodyDeadlineMissed(pub Duration);

impl std::fmt::Display for BodyDeadlineMissed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the request body did not arrive within {} s",
            self.0.as_secs()
        )
    }
}

impl StdError for BodyDeadlineMissed {}

impl Body for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn StdError + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(BodyDeadlineMissed(this.limit)))));
        }
        Pin::new(&mut this.inner)
            .poll_frame(cx)
            .map_err(|e| Box::new(e) as Self::Error)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Whether `error` (or what caused it) is a missed body deadline.
pub(crate) fn missed_body_deadline(error: &(dyn StdError + 'static)) -> Option<Duration> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(missed) = e.downcast_ref::<BodyDeadlineMissed>() {
            return Some(missed.0);
        }
        current = e.source();
    }
    None
}

/// The address that counts for `peer`'s rate limits. Behind a proxy (`trust_forwarded_for`), the last
/// `X-Forwarded-For` entry: the one the proxy appended, the address it saw. Earlier entries are whatever
/// the client wrote. Without a usable entry, the peer itself.
pub(crate) fn client_ip(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trust_forwarded_for: bool,
) -> IpAddr {
    let peer_ip = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.ip());
    if !trust_forwarded_for {
        return peer_ip;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .and_then(|hop| {
            hop.parse::<IpAddr>()
                .ok()
                .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        })
        .unwrap_or(peer_ip)
}

/// Serves `app` on `listener` until `shutdown` completes (see the module's doc).
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        // The semaphore is never closed.
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let body_deadline = limits.body_deadline;
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let app = app.clone();
            let (mut parts, body) = request.into_parts();
            parts.extensions.insert(ConnectInfo(peer));
            let body = axum::body::Body::new(DeadlineBody {
                inner: body,
                deadline: Box::pin(tokio::time::sleep(body_deadline)),
                limit: body_deadline,
            });
            app.oneshot(Request::from_parts(parts, body))
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_deadline)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that went away or missed a deadline: nothing to report.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    let bound = limits.header_deadline + limits.body_deadline + SHUTDOWN_GRACE;
    if tokio::time::timeout(bound, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open at shutdown were closed");
    }
}

/// After a failed `accept`: a connection that broke before it was accepted is nothing; anything else
/// (out of file descriptors) is logged and waited out, as axum's own server does.
async fn accept_failed(e: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(ip: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip.parse().unwrap(), 40_000))
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", v.parse().unwrap());
        }
        headers
    }

    #[test]
    fn the_proxys_last_hop_counts_not_what_the_client_wrote() {
        let proxy = peer("10.0.0.1");
        for (lines, trusted, client) in [
            (&["198.51.100.7, 203.0.113.9"][..], true, "203.0.113.9"),
            // Several header lines: the proxy appends to the last one.
            (&["1.2.3.4", "5.6.7.8,203.0.113.9"], true, "203.0.113.9"),
            (&["[2001:db8::1]:443"], true, "2001:db8::1"),
            (&["203.0.113.9:5000"], true, "203.0.113.9"),
            // Without trust, or without a usable entry, the peer.
            (&["203.0.113.9"], false, "10.0.0.1"),
            (&["1.2.3.4, garbage"], true, "10.0.0.1"),
            (&[], true, "10.0.0.1"),
        ] {
            let expected: IpAddr = client.parse().unwrap();
            assert_eq!(
                client_ip(&forwarded(lines), proxy, trusted),
                expected,
                "{lines:?}"
            );
        }
        assert_eq!(
            client_ip(&HeaderMap::new(), None, true),
            IpAddr::from([0, 0, 0, 0])
        );
    }

    #[test]
    fn a_missed_deadline_is_found_behind_wrappers() {
        let missed = BodyDeadlineMissed(Duration::from_secs(2));
        assert_eq!(missed_body_deadline(&missed), Some(Duration::from_secs(2)));
        let wrapped =
            axum::Error::new(Box::new(BodyDeadlineMissed(Duration::from_secs(3)))
                as Box<dyn StdError + Send + Sync>);
        assert_eq!(missed_body_deadline(&wrapped), Some(Duration::from_secs(3)));
        assert_eq!(missed_body_deadline(&std::io::Error::other("x")), None);
    }
}
