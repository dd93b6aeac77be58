//! The HTTP client every outbound request goes through — webhook deliveries and the operator's
//! provisioning hook: reqwest with rustls (ring, webpki roots, so https receivers work without a
//! system TLS library), no redirects, no proxy from the environment (a proxy would make the
//! address checked the proxy's, not the receiver's), a per-request timeout, and the outbound
//! address policy applied to every address a connection may use: names through a resolver that
//! drops refused addresses (so a name cannot smuggle a request to 127.0.0.1 at send time, and
//! what is checked is what is connected to), IP literals — which never reach a resolver — before
//! the request is built. The URL is parsed by the same `url` crate reqwest parses it with, so
//! the two agree on the host. It also answers an HTTP Basic challenge (401 +
//! `WWW-Authenticate: Basic`) once, with the credentials a format supplies
//! (`OutgoingRequest::basic_on_challenge`).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use async_trait::async_trait;
use numbers_core::webhook::worker::{
    BasicCredentials, Outcome, OutgoingRequest, Transport, offers_basic,
};
use numbers_core::webhook::{AddressPolicy, NameLookup, WebhookUrl};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Resolves names with `lookup` and hands the connector only the addresses the policy allows.
struct PolicyResolver {
    policy: AddressPolicy,
    lookup: Arc<dyn NameLookup>,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let lookup = Arc::clone(&self.lookup);
        Box::pin(async move {
            let host = name.as_str().to_string();
            let resolved: Vec<IpAddr> = lookup.lookup(&host).await?;
            let mut refused = Vec::new();
            let mut allowed = Vec::new();
            for ip in resolved {
                match policy.refusal_of_ip(ip) {
                    None => allowed.push(SocketAddr::new(ip, 0)),
                    Some(why) => refused.push(why),
                }
            }
            if allowed.is_empty() {
                return Err(if refused.is_empty() {
                    format!("{host} resolves to no address")
                } else {
                    format!(
                        "refused target: {host} resolves only to refused addresses: {}",
                        refused.join("; ")
                    )
                }
                .into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// The `User-Agent` of webhook deliveries.
pub const WEBHOOK_USER_AGENT: &str = concat!("numbersd-webhooks/", env!("CARGO_PKG_VERSION"));

/// A client for outbound requests under `policy`: no redirects, no proxy, names resolved by
/// `lookup` through the policy. `timeout` bounds each request when given.
pub fn outbound_client(
    user_agent: &'static str,
    policy: AddressPolicy,
    lookup: Arc<dyn NameLookup>,
    timeout: Option<std::time::Duration>,
) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(user_agent)
        .dns_resolver(Arc::new(PolicyResolver { policy, lookup }));
    if let Some(timeout) = timeout {
        builder = builder.timeout(timeout);
    }
    Ok(builder.build()?)
}

/// Why the policy refuses to send to `url` before any connection is made: an unparsable URL, or
/// an IP-literal host (names are checked address by address when they resolve).
pub fn refusal_before_connect(policy: &AddressPolicy, url: &str) -> Option<String> {
    let url = match WebhookUrl::parse(url, "url") {
        Ok(url) => url,
        Err(e) => return Some(format!("refused target: {e}")),
    };
    let ip = url.ip_literal()?;
    policy
        .refusal(SocketAddr::new(ip, url.port()))
        .map(|why| format!("refused target: {why}"))
}

pub struct ReqwestTransport {
    client: reqwest::Client,
    policy: AddressPolicy,
}

impl ReqwestTransport {
    pub fn new(policy: AddressPolicy, lookup: Arc<dyn NameLookup>) -> anyhow::Result<Self> {
        let client = outbound_client(WEBHOOK_USER_AGENT, policy.clone(), lookup, None)?;
        Ok(ReqwestTransport { client, policy })
    }
}

#[async_trait]
impl Transport for ReqwestTransport {
    async fn post(&self, request: OutgoingRequest) -> Outcome {
        let started = std::time::Instant::now();
        let first = match self.send(&request, None, request.timeout).await {
            Ok(response) => response,
            Err(outcome) => return outcome,
        };
        let challenged = first.status() == reqwest::StatusCode::UNAUTHORIZED
            && first
                .headers()
                .get_all(reqwest::header::WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(offers_basic);
        match (&request.basic_on_challenge, challenged) {
            (Some(credentials), true) => {
                // Both requests share the one timeout of the attempt.
                let left = request.timeout.saturating_sub(started.elapsed());
                match self.send(&request, Some(credentials), left).await {
                    Ok(response) => Outcome::Answered(response.status().as_u16()),
                    Err(outcome) => outcome,
                }
            }
            _ => Outcome::Answered(first.status().as_u16()),
        }
    }
}

impl ReqwestTransport {
    /// One POST of the request, with Basic credentials when given. The answer's body is never
    /// read: only the status counts, and a receiver cannot make us buffer an unbounded answer.
    async fn send(
        &self,
        request: &OutgoingRequest,
        credentials: Option<&BasicCredentials>,
        timeout: std::time::Duration,
    ) -> Result<reqwest::Response, Outcome> {
        if timeout.is_zero() {
            return Err(Outcome::NotSent("timed out".into()));
        }
        if let Some(why) = refusal_before_connect(&self.policy, &request.url) {
            return Err(Outcome::NotSent(why));
        }
        let mut builder = self
            .client
            .post(&request.url)
            .timeout(timeout)
            .header(reqwest::header::CONTENT_TYPE, &request.content_type)
            .body(request.body.clone());
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(c) = credentials {
            builder = builder.basic_auth(&c.username, Some(&c.password));
        }
        match builder.send().await {
            Ok(response) => Ok(response),
            Err(e) if e.is_timeout() => Err(Outcome::NotSent("timed out".into())),
            Err(e) => Err(Outcome::NotSent(error_chain(&e))),
        }
    }
}

/// reqwest's top error says little ("error sending request"); its sources say why.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::str::FromStr;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use numbers_core::webhook::{StaticLookup, SystemLookup};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    fn dns() -> Arc<StaticLookup> {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        Arc::new(StaticLookup::new([
            ("hooks.test", ip("127.0.0.1")),
            ("v6.test", ip("::1")),
            ("metadata.test", ip("169.254.169.254")),
            ("mixed.test", ip("127.0.0.1")),
            ("mixed.test", ip("8.8.8.8")),
            ("mixed.test", ip("10.0.0.1")),
        ]))
    }

    /// A listener on 127.0.0.1 that counts connections and answers each request with `answer`.
    async fn listener(answer: String) -> (u16, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let answer = answer.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = socket.read(&mut buf).await;
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });
        (port, accepted)
    }

    fn request(url: String) -> OutgoingRequest {
        OutgoingRequest {
            url,
            content_type: "application/json".into(),
            headers: Vec::new(),
            body: "{}".into(),
            timeout: Duration::from_secs(5),
            basic_on_challenge: None,
        }
    }

    fn transport(allow_private: bool, own: Vec<SocketAddr>) -> ReqwestTransport {
        let policy = AddressPolicy {
            allow_private,
            self_addresses: own,
        };
        ReqwestTransport::new(policy, dns()).unwrap()
    }

    const OK: &str = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

    #[tokio::test]
    async fn a_strict_transport_never_connects_to_loopback_whatever_the_spelling() {
        let (port, accepted) = listener(OK.to_string()).await;
        let strict = transport(false, Vec::new());
        for url in [
            format!("http://127.0.0.1:{port}/"),
            format!("http://127.1:{port}/"),
            format!("http://2130706433:{port}/"),
            format!("http://0x7f000001:{port}/"),
            format!("http://017700000001:{port}/"),
            format!("http://%31%32%37.0.0.1:{port}/"),
            format!("http://①②⑦.0.0.1:{port}/"),
            format!("http://0:{port}/"),
            format!("http://[::ffff:127.0.0.1]:{port}/"),
            format!("http://hooks.test:{port}/"),
            format!("http://v6.test:{port}/"),
            format!("http://metadata.test:{port}/"),
        ] {
            match strict.post(request(url.clone())).await {
                Outcome::NotSent(why) => assert!(why.contains("refused"), "{url}: {why}"),
                other => panic!("{url}: {other:?}"),
            }
        }
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            0,
            "no connection reached it"
        );
        // `localhost` through the system resolver is loopback too.
        let system =
            ReqwestTransport::new(AddressPolicy::default(), Arc::new(SystemLookup)).unwrap();
        let outcome = system
            .post(request(format!("http://localhost:{port}/")))
            .await;
        assert!(matches!(outcome, Outcome::NotSent(_)), "{outcome:?}");
        assert_eq!(accepted.load(Ordering::SeqCst), 0);
        // Allowed, the same URLs do connect (the listener is real).
        let open = transport(true, Vec::new());
        for url in [
            format!("http://127.1:{port}/"),
            format!("http://hooks.test:{port}/"),
        ] {
            assert_eq!(open.post(request(url)).await, Outcome::Answered(200));
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn this_server_itself_is_refused_even_when_private_targets_are_allowed() {
        let (port, accepted) = listener(OK.to_string()).await;
        let own: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let open = transport(true, vec![own]);
        for url in [
            format!("http://127.0.0.1:{port}/"),
            format!("http://0x7f.1:{port}/"),
            format!("http://[::ffff:7f00:1]:{port}/"),
        ] {
            match open.post(request(url.clone())).await {
                Outcome::NotSent(why) => assert!(why.contains("this server"), "{url}: {why}"),
                other => panic!("{url}: {other:?}"),
            }
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn redirects_are_answers_not_followed() {
        let (target, followed) = listener(OK.to_string()).await;
        let redirect = format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://127.0.0.1:{target}/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        );
        let (port, _) = listener(redirect).await;
        let open = transport(true, Vec::new());
        let outcome = open
            .post(request(format!("http://127.0.0.1:{port}/")))
            .await;
        assert_eq!(outcome, Outcome::Answered(307));
        assert_eq!(followed.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn names_resolve_to_the_allowed_addresses_only() {
        let resolver = PolicyResolver {
            policy: AddressPolicy::default(),
            lookup: dns(),
        };
        let addrs: Vec<SocketAddr> = resolver
            .resolve(Name::from_str("mixed.test").unwrap())
            .await
            .unwrap()
            .collect();
        assert_eq!(addrs, vec!["8.8.8.8:0".parse::<SocketAddr>().unwrap()]);
        let refused = resolver
            .resolve(Name::from_str("hooks.test").unwrap())
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(
            refused.contains("127.0.0.1 is a loopback address"),
            "{refused}"
        );
    }
}
