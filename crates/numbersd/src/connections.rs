//! Serving HTTP/1.1 connections: our own accept loop over hyper instead of `axum::serve`, because
//! the edge needs what that one lacks — a cap on open connections (a permit per connection; at
//! the cap the loop stops accepting and the kernel's backlog holds the rest), a header-read
//! timeout, an idle keep-alive timeout and a stalled-write timeout, the client's address on every
//! request (`ConnectInfo`, for the per-address throttles), small per-connection buffers, and
//! graceful shutdown.
//!
//! The timeouts live in `Deadlines`, a wrapper around the socket, not in hyper: hyper's one
//! header timer also runs while a keep-alive connection waits for its next request, so it cannot
//! give a short header timeout and a longer idle one. The wrapper knows enough of HTTP/1 to tell
//! the phases apart: a request's head ends at its first blank line; after the server has written,
//! the next read starts the wait for the next request.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

/// Connection limits (docs/SECURITY.md, "Connections").
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections open at once; at the cap the server stops accepting until one closes.
    pub max_open: usize,
    /// From the connection's start, or a request's first byte, to the end of that request's
    /// headers.
    pub header_timeout: Duration,
    /// How long a keep-alive connection may wait for its next request; also how long a write may
    /// stall on a client that does not read.
    pub idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_open: 10_000,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// Largest read/write buffer of one connection. hyper's default (~400 KiB) lets every slow
/// connection grow a large buffer; request heads beyond this are refused (431) and bodies are
/// read in pieces anyway.
const MAX_CONNECTION_BUFFER: usize = 64 * 1024;

/// Serves `router` on `listener` until `shutdown` completes; then stops accepting and waits for
/// the open connections to finish their requests (idle ones close at once).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_open.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .header_read_timeout(None)
        .max_buf_size(MAX_CONNECTION_BUFFER)
        .keep_alive(true);
    let mut last_accept_warning: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    if !is_connection_error(&e) {
                        // Out of file descriptors or memory: pause instead of spinning.
                        if last_accept_warning.is_none_or(|at| at.elapsed() > Duration::from_secs(10)) {
                            tracing::warn!(error = %e, "accepting connections failed; pausing");
                            last_accept_warning = Some(Instant::now());
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(Deadlines::new(stream, limits));
        let service = TowerToHyperService::new(router.clone().map_request(
            move |mut request: axum::http::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            },
        ));
        let connection = graceful.watch(builder.serve_connection(io, service));
        metrics::gauge!("numbersd_connections_open").increment(1.0);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            metrics::gauge!("numbersd_connections_open").decrement(1.0);
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Errors of one connection that the listener survives (as `axum::serve` treats them).
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Where a connection is between requests.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Reading a request's head, which must be complete by `started` + header timeout.
    Head { started: Instant },
    /// The head is in; the request timeout of the edge bounds the rest. `responded` once the
    /// server has written.
    Request { responded: bool },
    /// Keep-alive: waiting for the next request's first byte until `since` + idle timeout.
    Idle { since: Instant },
}

/// A client socket with the header, idle and stalled-write deadlines (see the module doc).
pub struct Deadlines<S> {
    inner: S,
    limits: ConnectionLimits,
    phase: Phase,
    /// The last bytes of the head read so far, to find its end across reads.
    tail: [u8; 3],
    read_timer: Timer,
    write_timer: Timer,
    write_stalled_since: Option<Instant>,
}

/// One re-armable deadline.
struct Timer {
    sleep: Pin<Box<Sleep>>,
    armed_for: Option<Instant>,
}

impl Timer {
    fn new() -> Self {
        Timer {
            sleep: Box::pin(tokio::time::sleep_until(Instant::now())),
            armed_for: None,
        }
    }

    /// Whether `deadline` has passed; otherwise the task is woken when it does.
    fn expired(&mut self, deadline: Instant, cx: &mut Context<'_>) -> bool {
        if self.armed_for != Some(deadline) {
            self.sleep.as_mut().reset(deadline);
            self.armed_for = Some(deadline);
        }
        self.sleep.as_mut().poll(cx).is_ready()
    }
}

impl<S> Deadlines<S> {
    pub fn new(inner: S, limits: ConnectionLimits) -> Self {
        Deadlines {
            inner,
            limits,
            phase: Phase::Head {
                started: Instant::now(),
            },
            tail: [0; 3],
            read_timer: Timer::new(),
            write_timer: Timer::new(),
            write_stalled_since: None,
        }
    }

    fn observe_read(&mut self, bytes: &[u8]) {
        if let Phase::Idle { .. } = self.phase {
            self.phase = Phase::Head {
                started: Instant::now(),
            };
            self.tail = [0; 3];
        }
        if let Phase::Head { .. } = self.phase {
            for &b in bytes {
                // A head ends at an empty line: CRLF CRLF, or bare LF LF (which hyper accepts).
                let ends = b == b'\n' && (self.tail[2] == b'\n' || self.tail[1..] == *b"\n\r");
                self.tail = [self.tail[1], self.tail[2], b];
                if ends {
                    self.phase = Phase::Request { responded: false };
                    break;
                }
            }
        }
    }

    fn read_deadline(&self) -> Option<(Instant, &'static str)> {
        match self.phase {
            Phase::Head { started } => {
                Some((started + self.limits.header_timeout, "header_timeout"))
            }
            Phase::Idle { since } => Some((since + self.limits.idle_timeout, "idle_timeout")),
            Phase::Request { .. } => None,
        }
    }
}

fn timed_out(reason: &'static str) -> io::Error {
    metrics::counter!("numbersd_connections_timed_out_total", "reason" => reason).increment(1);
    io::Error::new(io::ErrorKind::TimedOut, reason)
}

impl<S: AsyncRead + Unpin> AsyncRead for Deadlines<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.phase == (Phase::Request { responded: true }) {
            this.phase = Phase::Idle {
                since: Instant::now(),
            };
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let filled = buf.filled().len();
                if filled > before {
                    this.observe_read(&buf.filled()[before..filled]);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match this.read_deadline() {
                Some((deadline, reason)) if this.read_timer.expired(deadline, cx) => {
                    Poll::Ready(Err(timed_out(reason)))
                }
                _ => Poll::Pending,
            },
        }
    }
}

impl<S: AsyncWrite + Unpin> Deadlines<S> {
    /// Bytes of a response went out: the next read starts the wait for the next request.
    fn note_written(&mut self, polled: &Poll<io::Result<usize>>) {
        if let Poll::Ready(Ok(n)) = polled
            && *n > 0
            && let Phase::Request { .. } = self.phase
        {
            self.phase = Phase::Request { responded: true };
        }
    }

    /// A write the client does not take within the idle timeout ends the connection.
    fn on_write<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match polled {
            Poll::Pending => {
                let since = *self.write_stalled_since.get_or_insert_with(Instant::now);
                if self
                    .write_timer
                    .expired(since + self.limits.idle_timeout, cx)
                {
                    return Poll::Ready(Err(timed_out("write_timeout")));
                }
                Poll::Pending
            }
            ready => {
                self.write_stalled_since = None;
                ready
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Deadlines<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.note_written(&polled);
        this.on_write(cx, polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.note_written(&polled);
        this.on_write(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_flush(cx);
        this.on_write(cx, polled)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

    fn limits(header_ms: u64, idle_ms: u64) -> ConnectionLimits {
        ConnectionLimits {
            max_open: 10,
            header_timeout: Duration::from_millis(header_ms),
            idle_timeout: Duration::from_millis(idle_ms),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_head_must_be_complete_within_the_header_timeout() {
        let (mut client, server) = duplex(1024);
        let mut server = Deadlines::new(server, limits(1_000, 60_000));
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 64];
        let n = server.read(&mut buf).await.unwrap();
        assert!(n > 0);
        // No blank line yet: the next read times out (paused time advances to the deadline).
        let err = server.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(err.to_string(), "header_timeout");
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_response_the_idle_timeout_applies_then_the_header_one() {
        let (mut client, server) = duplex(1024);
        let mut server = Deadlines::new(server, limits(1_000, 5_000));
        let request = b"GET / HTTP/1.1\r\n\r\n";
        client.write_all(request).await.unwrap();
        let mut buf = [0u8; 64];
        server.read_exact(&mut buf[..request.len()]).await.unwrap();
        assert!(matches!(server.phase, Phase::Request { responded: false }));
        server.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
        // Idle: waiting 3 s (more than the header timeout) is fine.
        let started = Instant::now();
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 64];
            let first = server.read(&mut buf).await;
            (server, first)
        });
        tokio::time::sleep(Duration::from_secs(3)).await;
        client.write_all(b"GET /again HTTP/1.1\r\n").await.unwrap();
        let (mut server, first) = reader.await.unwrap();
        assert!(first.unwrap() > 0);
        assert!(matches!(server.phase, Phase::Head { .. }));
        // The rest of that head never comes: closed a header timeout after its first byte.
        let err = server.read(&mut buf).await.unwrap_err();
        assert_eq!(err.to_string(), "header_timeout");
        let waited = Instant::now() - started;
        assert!(waited >= Duration::from_secs(4), "{waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_keep_alive_connection_is_closed() {
        let (mut client, server) = duplex(1024);
        let mut server = Deadlines::new(server, limits(1_000, 5_000));
        let request = b"GET / HTTP/1.1\n\n";
        client.write_all(request).await.unwrap();
        let mut buf = [0u8; 64];
        server.read_exact(&mut buf[..request.len()]).await.unwrap();
        server.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
        let err = server.read(&mut buf).await.unwrap_err();
        assert_eq!(err.to_string(), "idle_timeout");
    }

    #[tokio::test(start_paused = true)]
    async fn a_head_split_across_reads_is_recognised() {
        let (mut client, server) = duplex(1024);
        let mut server = Deadlines::new(server, limits(1_000, 5_000));
        let mut buf = [0u8; 64];
        for piece in [&b"GET / HTTP/1.1\r"[..], b"\n", b"Host: x\r\n\r", b"\n"] {
            client.write_all(piece).await.unwrap();
            server.read_exact(&mut buf[..piece.len()]).await.unwrap();
        }
        assert!(matches!(server.phase, Phase::Request { .. }));
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_the_client_never_reads_times_out() {
        let (_client, server) = duplex(16);
        let mut server = Deadlines::new(server, limits(1_000, 5_000));
        let err = server.write_all(&[b'x'; 64]).await.unwrap_err();
        assert_eq!(err.to_string(), "write_timeout");
    }
}
