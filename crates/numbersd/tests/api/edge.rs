//! The edge over real HTTP, as a hostile client meets it: a flood of bad credentials from one
//! address, a tenant over its own limit, load shedding, bodies over the limit (and large ones
//! under it), and connections that never finish their headers. Every refusal must come in the
//! door's own format — native problem+json, Bandwidth's XML envelope, Sinch's JSON error,
//! MessageMedia's `{"message"}` — with `Retry-After` where the client may come back. Limits are
//! configured small where the defaults would make the test slow; no assertion is timed beyond
//! "happens within a generous bound".

use std::time::Duration;

use numbers_api::Rate;
use numbers_api::edge::EdgeLimits;
use numbersd::connections::ConnectionLimits;
use numbersd::startup::ServeSettings;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{
    AppOptions, Backend, Creds, INVENTORY_CSV, Tenant, TestApp, fresh_database, on_both_databases,
    spawn_app_owning,
};

/// The four doors, as the refusal checks here and the extreme-number sweep name them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Door {
    Native,
    Bandwidth,
    Sinch,
    MessageMedia,
}

const DOORS: [Door; 4] = [
    Door::Native,
    Door::Bandwidth,
    Door::Sinch,
    Door::MessageMedia,
];

impl Door {
    /// A cheap authenticated read on this door.
    fn read_path(self, t: &Tenant) -> String {
        match self {
            Door::Native => "/v1/numbers".into(),
            Door::Bandwidth => format!("/api/accounts/{}/orders", t.id),
            Door::Sinch => format!("/v1/projects/{}/activeNumbers", t.id),
            Door::MessageMedia => "/v1/messaging/numbers/dedicated/assignments".into(),
        }
    }

    /// A write taking a body on this door.
    fn write(self, t: &Tenant) -> (Method, String, &'static str) {
        match self {
            Door::Native => (Method::POST, "/v1/reservations".into(), "application/json"),
            Door::Bandwidth => (
                Method::POST,
                format!("/api/accounts/{}/sites", t.id),
                "application/xml",
            ),
            Door::Sinch => (
                Method::POST,
                format!("/v1/projects/{}/availableNumbers:rentAny", t.id),
                "application/json",
            ),
            Door::MessageMedia => (
                Method::POST,
                "/v1/messaging/numbers/dedicated/+61491570156/assignment".into(),
                "application/json",
            ),
        }
    }
}

/// Asserts a refusal with `status` in the door's own error format, and `Retry-After` (a whole
/// number of seconds, at least 1) when the client may come back (429, 503).
async fn assert_refusal(door: Door, res: Response, status: StatusCode) {
    let got = res.status();
    let retry_after = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = res.text().await.unwrap();
    let what = format!("{door:?}: {got} {content_type} {body}");
    assert_eq!(got, status, "{what}");
    if matches!(status.as_u16(), 429 | 503) {
        let seconds: u64 = retry_after
            .as_deref()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no Retry-After: {what}"));
        assert!(seconds >= 1, "{what}");
    }
    match door {
        Door::Native => {
            assert_eq!(content_type, "application/problem+json", "{what}");
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["status"], json!(status.as_u16()), "{what}");
        }
        Door::Bandwidth => {
            assert!(content_type.contains("xml"), "{what}");
            assert!(body.starts_with("<?xml"), "{what}");
            assert!(
                body.contains(&format!(">{}<", status.as_u16())),
                "the status as the error code: {what}"
            );
        }
        Door::Sinch => {
            assert!(content_type.starts_with("application/json"), "{what}");
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["error"]["code"], json!(status.as_u16()), "{what}");
            let expected = match status.as_u16() {
                429 => "RESOURCE_EXHAUSTED",
                503 => "UNAVAILABLE",
                413 => "CONTENT_TOO_LARGE",
                _ => unreachable!(),
            };
            assert_eq!(v["error"]["status"], expected, "{what}");
        }
        Door::MessageMedia => {
            assert!(content_type.starts_with("application/json"), "{what}");
            let v: Value = serde_json::from_str(&body).unwrap();
            assert!(v["message"].is_string(), "{what}");
        }
    }
}

async fn app_with(backend: Backend, serve: ServeSettings) -> Option<TestApp> {
    let url = fresh_database(backend).await?;
    let options = AppOptions {
        serve,
        ..AppOptions::default()
    };
    Some(spawn_app_owning(url, options).await)
}

fn limits(adjust: impl FnOnce(&mut EdgeLimits)) -> ServeSettings {
    let mut limits = EdgeLimits::unthrottled();
    adjust(&mut limits);
    ServeSettings {
        limits,
        ..ServeSettings::default()
    }
}

/// With the default limits: the documented burst of failed authentications (20) is answered
/// 401, then the address is refused with 429 — on every door, even with good credentials —
/// until its bucket refills.
async fn a_flood_of_bad_credentials_is_throttled(backend: Backend) {
    let Some(app) = app_with(backend, ServeSettings::default()).await else {
        return;
    };
    let t = app.tenant("victim").await;
    let burst = EdgeLimits::default().auth_failures.unwrap().burst;
    assert_eq!(burst, 20, "docs/SECURITY.md documents 20");
    let wrong = Creds {
        key_id: t.creds.key_id.clone(),
        secret: "not-the-secret".into(),
    };
    for i in 0..burst {
        let res = app.get(&wrong, "/v1/numbers").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // The bucket refills at one a second: a slow machine may earn a few more 401s first.
    let mut refused = None;
    for _ in 0..10 {
        let res = app.get(&wrong, "/v1/numbers").send().await.unwrap();
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(res);
            break;
        }
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let refused = refused.expect("429 after the burst of failed authentications");
    assert_refusal(Door::Native, refused, StatusCode::TOO_MANY_REQUESTS).await;
    for door in DOORS {
        let res = app.get(&t.creds, &door.read_path(&t)).send().await.unwrap();
        assert_refusal(door, res, StatusCode::TOO_MANY_REQUESTS).await;
    }
    app.shutdown().await;
}

/// A tenant over its per-credential limit gets 429 in the format of the door it called, with
/// `Retry-After`; another tenant is not affected.
async fn a_tenant_over_its_limit_gets_429_in_its_doors_format(backend: Backend) {
    const BURST: u32 = 5;
    let serve = limits(|l| {
        l.per_credential = Some(Rate {
            per_second: 0.01,
            burst: BURST,
        })
    });
    let Some(app) = app_with(backend, serve).await else {
        return;
    };
    // One tenant per door: the bucket is per account, whichever door it calls.
    let mut tenants = Vec::new();
    for door in DOORS {
        tenants.push((door, app.tenant(&format!("{door:?}")).await));
    }
    for (door, t) in &tenants {
        for i in 0..BURST {
            let res = app.get(&t.creds, &door.read_path(t)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{door:?} request {i}");
        }
        let res = app.get(&t.creds, &door.read_path(t)).send().await.unwrap();
        assert_refusal(*door, res, StatusCode::TOO_MANY_REQUESTS).await;
    }
    // The bucket is the account's, not the door's.
    let (_, native) = &tenants[0];
    let res = app
        .get(&native.creds, &Door::Sinch.read_path(native))
        .send()
        .await
        .unwrap();
    assert_refusal(Door::Sinch, res, StatusCode::TOO_MANY_REQUESTS).await;
    app.shutdown().await;
}

/// Beyond `max_in_flight` requests at once, a request is answered 503 at once, with
/// `Retry-After`, in its door's format. The request holding the one permit is one whose body
/// never finishes arriving.
async fn load_shedding_answers_503(backend: Backend) {
    let serve = limits(|l| l.max_in_flight = 1);
    let Some(app) = app_with(backend, serve).await else {
        return;
    };
    let t = app.tenant("shed").await;
    let address = app.base.trim_start_matches("http://").to_string();
    // Hold the permit with a request whose body never completes. A probe that arrives first
    // takes the permit and gets the held request shed instead: then try again.
    let mut held = None;
    for _ in 0..100 {
        let mut stream = TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(
                b"POST /v1/reservations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                  Content-Length: 100\r\n\r\n{",
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let res = app.get(&t.creds, "/v1/numbers").send().await.unwrap();
        if res.status() == StatusCode::SERVICE_UNAVAILABLE {
            held = Some(stream);
            break;
        }
    }
    let held = held.expect("a second request in flight is shed");
    for door in DOORS {
        let res = app.get(&t.creds, &door.read_path(&t)).send().await.unwrap();
        assert_refusal(door, res, StatusCode::SERVICE_UNAVAILABLE).await;
    }
    drop(held);
    // The permit comes back once the held request ends (within a generous minute).
    let mut served = false;
    for _ in 0..3000 {
        let res = app.get(&t.creds, "/v1/numbers").send().await.unwrap();
        if res.status() == StatusCode::OK {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served, "served again after the held request ended");
    app.shutdown().await;
}

/// The documented 4 MiB holds on every door: more is 413 in the door's format (declared or
/// chunked), less is read — a 3 MiB Bandwidth document and a 2.6 MB CSV import included.
async fn the_body_limit_is_4_mib_on_every_door(backend: Backend) {
    let Some(app) = app_with(backend, ServeSettings::default()).await else {
        return;
    };
    let limit = EdgeLimits::default().body_limit_bytes;
    assert_eq!(limit, 4 * 1024 * 1024, "docs/SECURITY.md documents 4 MiB");
    let t = app.tenant("bodies").await;
    for door in DOORS {
        let res = send_body(&app, &t, door, vec![b' '; limit + 1]).await;
        assert_refusal(door, res, StatusCode::PAYLOAD_TOO_LARGE).await;
    }
    // Chunked, so no length is declared: refused once the limit is passed.
    let (_, path, _) = Door::Bandwidth.write(&t);
    let status = chunked_post(&app, &t.creds, &path, limit + 1).await;
    assert_eq!(status, 413);

    // A client that waits for `100 Continue` is told 413 at once, not invited to send.
    let address = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /v1/reservations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
                limit + 1
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 413");
    drop(stream);

    // A Bandwidth document of 3 MiB (a site padded with whitespace) is read and served.
    let padding = " ".repeat(3 * 1024 * 1024);
    let site = format!(
        "<Site>{padding}<Name>Big</Name><Address><City>Raleigh</City><StateCode>NC</StateCode>\
         <Zip>27601</Zip><Country>US</Country></Address></Site>"
    );
    let res = send_body(&app, &t, Door::Bandwidth, site.into_bytes()).await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );

    // A 2.6 MB CSV import.
    let header = INVENTORY_CSV.lines().next().unwrap();
    let mut csv = String::from(header);
    let mut rows = 0;
    while csv.len() < 2_600_000 {
        let n = 2_000_000 + rows;
        csv.push_str(&format!(
            "\n+1206{n:07},LOCAL,SMS|VOICE,,SEATTLE,WA,SEATTLE,674,98101,0,49,\
             Bandwidth CLEC with a long vendor name,0.00,1.00,USD,false"
        ));
        rows += 1;
    }
    assert!(csv.len() > 2_600_000 && csv.len() < limit);
    let body = app.import_csv_answer(csv).await;
    assert_eq!(body["rejected"], json!([]));
    assert_eq!(body["inserted"], json!(rows));
    app.shutdown().await;
}

/// Sends `body` to the door's write.
async fn send_body(app: &TestApp, t: &Tenant, door: Door, body: Vec<u8>) -> Response {
    let (method, path, content_type) = door.write(t);
    app.request(method, &t.creds, &path)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// POSTs `size` bytes of XML whitespace with chunked transfer encoding over a raw socket; the
/// status of the answer.
async fn chunked_post(app: &TestApp, creds: &Creds, path: &str, size: usize) -> u16 {
    use base64::Engine;
    let address = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let auth = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", creds.key_id, creds.secret));
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n\
         Content-Type: application/xml\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let (mut reader, mut writer) = stream.split();
    let send = async {
        writer.write_all(head.as_bytes()).await?;
        let chunk = vec![b' '; 64 * 1024];
        let mut sent = 0;
        while sent < size {
            let n = chunk.len().min(size - sent);
            writer.write_all(format!("{n:x}\r\n").as_bytes()).await?;
            writer.write_all(&chunk[..n]).await?;
            writer.write_all(b"\r\n").await?;
            sent += n;
        }
        writer.write_all(b"0\r\n\r\n").await
    };
    let mut answer = Vec::new();
    // The server may answer and close before the client has sent everything.
    let (_, _) = tokio::join!(send, reader.read_to_end(&mut answer));
    let answer = String::from_utf8_lossy(&answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"))
}

/// Connections that send a header line now and then but never finish their headers are closed
/// once the (configured, short) header timeout has passed — a few hundred of them at once.
async fn slow_header_connections_are_closed(backend: Backend) {
    const CONNECTIONS: usize = 300;
    let serve = ServeSettings {
        limits: EdgeLimits::unthrottled(),
        connections: ConnectionLimits {
            header_timeout: Duration::from_secs(1),
            ..ConnectionLimits::default()
        },
        ..ServeSettings::default()
    };
    let Some(app) = app_with(backend, serve).await else {
        return;
    };
    let address = app.base.trim_start_matches("http://").to_string();
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let address = address.clone();
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(&address).await.unwrap();
            stream
                .write_all(b"GET /v1/numbers HTTP/1.1\r\nHost: x\r\n")
                .await
                .unwrap();
            // One header line every 200 ms, never the blank line; a generous bound of 60 s
            // (60 times the header timeout) for the server to close.
            let mut buffer = [0u8; 1024];
            for _ in 0..300 {
                tokio::select! {
                    read = stream.read(&mut buffer) => match read {
                        Ok(0) | Err(_) => return true,
                        // An answer (408) before the close is fine too.
                        Ok(_) => continue,
                    },
                    () = tokio::time::sleep(Duration::from_millis(200)) => {
                        if stream.write_all(b"X-Slow: 1\r\n").await.is_err() {
                            return true;
                        }
                    }
                }
            }
            false
        }));
    }
    let mut closed = 0;
    for task in tasks {
        if task.await.unwrap() {
            closed += 1;
        }
    }
    assert_eq!(closed, CONNECTIONS, "every slow connection was closed");
    // The server still serves.
    let res = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    app.shutdown().await;
}

on_both_databases!(
    a_flood_of_bad_credentials_is_throttled,
    a_tenant_over_its_limit_gets_429_in_its_doors_format,
    load_shedding_answers_503,
    the_body_limit_is_4_mib_on_every_door,
    slow_header_connections_are_closed,
);
