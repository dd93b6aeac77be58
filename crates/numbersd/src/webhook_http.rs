//! The HTTP client webhook deliveries go out through: reqwest with rustls (ring, webpki roots, so
//! https receivers work without a system TLS library), no redirects, a per-request timeout, and a
//! DNS resolver that drops refused addresses, so a hostname cannot smuggle a request to a
//! loopback or private address the policy forbids (IP-literal URLs are checked by the engine
//! before every attempt). It also answers an HTTP Basic challenge (401 + `WWW-Authenticate: Basic`)
//! once, with the credentials a format supplies (`OutgoingRequest::basic_on_challenge`).

use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use numbers_core::webhook::is_private_or_local;
use numbers_core::webhook::worker::{
    BasicCredentials, Outcome, OutgoingRequest, Transport, offers_basic,
};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

struct PolicyResolver {
    allow_private: bool,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|a| allow_private || !is_private_or_local(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!(
                    "{host} resolves only to loopback or private addresses, which are not allowed"
                )
                .into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    pub fn new(allow_private: bool) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("numbersd-webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(PolicyResolver { allow_private }))
            .build()?;
        Ok(ReqwestTransport { client })
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
