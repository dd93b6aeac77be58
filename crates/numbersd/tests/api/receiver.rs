//! A webhook receiver for the tests: a real axum server on 127.0.0.1 that records every request
//! it gets and answers as told — 200, a number of failures first, 410 Gone, never (hanging), or
//! 401 with a `WWW-Authenticate: Basic` challenge to requests without the right credentials.

use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// One request as it arrived, and what the receiver answered.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: String,
    pub status: u16,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("header {name} missing"))
            .to_str()
            .unwrap()
            .to_string()
    }

    pub fn event_id(&self) -> String {
        self.json()["event_id"].as_str().unwrap().to_string()
    }
}

#[derive(Default)]
struct Behaviour {
    requests: Mutex<Vec<Received>>,
    fail_first: AtomicU32,
    fail_status: AtomicU16,
    gone: AtomicBool,
    hang: AtomicBool,
    /// `Authorization` value required (`Basic …`); others are challenged.
    basic: Mutex<Option<String>>,
    /// Requests being handled now, and the most there ever were at once.
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

/// Counts a request in flight until its handler ends or is dropped (the client gave up).
struct InFlight(Arc<Behaviour>);

impl InFlight {
    fn start(b: &Arc<Behaviour>) -> Self {
        let now = b.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        b.most_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(Arc::clone(b))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

pub struct Receiver {
    pub url: String,
    pub port: u16,
    behaviour: Arc<Behaviour>,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn handle(State(b): State<Arc<Behaviour>>, headers: HeaderMap, body: Bytes) -> Response {
    let _in_flight = InFlight::start(&b);
    let required = b.basic.lock().unwrap().clone();
    let authorized = required.is_none_or(|want| {
        headers
            .get("authorization")
            .is_some_and(|got| got.as_bytes() == want.as_bytes())
    });
    let status = if !authorized {
        Some(StatusCode::UNAUTHORIZED)
    } else if b.hang.load(Ordering::SeqCst) {
        None
    } else if b
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        Some(StatusCode::from_u16(b.fail_status.load(Ordering::SeqCst)).unwrap())
    } else if b.gone.load(Ordering::SeqCst) {
        Some(StatusCode::GONE)
    } else {
        Some(StatusCode::OK)
    };
    b.requests.lock().unwrap().push(Received {
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
        status: status.map_or(0, |s| s.as_u16()),
    });
    match status {
        Some(StatusCode::UNAUTHORIZED) => {
            let mut response = StatusCode::UNAUTHORIZED.into_response();
            response.headers_mut().insert(
                "www-authenticate",
                HeaderValue::from_static("Basic realm=\"\""),
            );
            response
        }
        Some(s) => s.into_response(),
        None => std::future::pending().await,
    }
}

impl Receiver {
    /// A receiver answering 200 on a free port.
    pub async fn start() -> Receiver {
        Self::start_on(0).await
    }

    /// On a given port (to come back on the port a previous receiver had).
    pub async fn start_on(port: u16) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let behaviour = Arc::new(Behaviour {
            fail_status: AtomicU16::new(500),
            ..Default::default()
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&behaviour));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Receiver {
            url: format!("http://127.0.0.1:{port}/hooks"),
            port,
            behaviour,
            stop: Some(stop),
        }
    }

    /// Answers `status` to the next `n` requests.
    pub fn fail_next(&self, n: u32, status: u16) {
        self.behaviour.fail_status.store(status, Ordering::SeqCst);
        self.behaviour.fail_first.store(n, Ordering::SeqCst);
    }

    /// Challenges (401 + `WWW-Authenticate: Basic realm=""`) every request not carrying these
    /// Basic credentials, as Bandwidth's callback receivers may.
    pub fn require_basic(&self, username: &str, password: &str) {
        use base64::Engine as _;
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        *self.behaviour.basic.lock().unwrap() = Some(format!("Basic {token}"));
    }

    pub fn answer_gone(&self) {
        self.behaviour.gone.store(true, Ordering::SeqCst);
    }

    /// Accepts requests and never answers them.
    pub fn hang(&self) {
        self.behaviour.hang.store(true, Ordering::SeqCst);
    }

    /// The most requests this receiver ever had in flight at once.
    pub fn most_in_flight(&self) -> usize {
        self.behaviour.most_in_flight.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<Received> {
        self.behaviour.requests.lock().unwrap().clone()
    }

    /// Requests answered 2xx.
    pub fn delivered(&self) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .collect()
    }

    /// Waits (polling) until at least `n` requests arrived; panics after `within`.
    pub async fn wait_for_requests(&self, n: usize, within: Duration) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            assert!(
                started.elapsed() < within,
                "receiver {} got {} of {n} requests within {within:?}",
                self.url,
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn wait_for_deliveries(&self, n: usize, within: Duration) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let got = self.delivered();
            if got.len() >= n {
                return got;
            }
            assert!(
                started.elapsed() < within,
                "receiver {} got {} of {n} deliveries within {within:?}",
                self.url,
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops listening (connections are refused until a receiver starts on the port again).
    pub fn stop(mut self) -> u16 {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.port
    }
}
