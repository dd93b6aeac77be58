//! Signed requests: MessageMedia's HMAC scheme. A client sends
//! `Authorization: hmac username="KEY_ID", algorithm="hmac-sha256",
//! headers="Date Content-MD5 request-line", signature="BASE64"`, where the signature is
//! HMAC-SHA256(key secret, signing string) and the signing string is one line per listed header —
//! `Name: value` in the order listed, `request-line` being `METHOD /path?query HTTP/1.1` — joined
//! by newlines. This module owns the scheme: parsing the header, the freshness of `Date`, the body
//! digest (`Content-MD5`, hex MD5), the signing string and the constant-time comparison. Which key
//! secret to use is the service's business (`Service::authenticate_signed`), since only secrets
//! derived from the server secret can be recomputed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration};
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;

use crate::clock::Timestamp;

/// How far `Date` may be from the server's clock, either way.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 300;
pub const ALGORITHM: &str = "hmac-sha256";
pub const REQUEST_LINE: &str = "request-line";

/// The parameters of an `Authorization: hmac …` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmacAuthorization {
    pub username: String,
    pub algorithm: String,
    /// Header names as the client listed them (their spelling is part of the signing string).
    pub headers: Vec<String>,
    pub signature: String,
}

/// Why a signed request was refused; `message` names the reason for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureRefusal {
    Malformed(String),
    UnsupportedAlgorithm(String),
    /// A part of the request that must be covered by the signature is not listed in `headers`.
    Unsigned(&'static str),
    HeaderMissing(String),
    BadDate,
    StaleDate,
    BodyDigestMismatch,
    /// The installation has no server secret, so no key secret can be recomputed.
    NoServerSecret,
    /// The key exists but its secret was not derived from the server secret.
    KeyNotDerived,
    /// Unknown or revoked key, or a signature that does not match.
    BadCredentials,
}

impl SignatureRefusal {
    pub fn message(&self) -> String {
        match self {
            SignatureRefusal::Malformed(why) => format!("malformed hmac Authorization header: {why}"),
            SignatureRefusal::UnsupportedAlgorithm(a) => {
                format!("unsupported algorithm '{a}'; use {ALGORITHM}")
            }
            SignatureRefusal::Unsigned(what) => {
                format!("the signed headers must include {what}")
            }
            SignatureRefusal::HeaderMissing(name) => {
                format!("header {name} is listed as signed but absent")
            }
            SignatureRefusal::BadDate => {
                "the Date header is not an HTTP date such as 'Tue, 15 Nov 1994 08:12:31 GMT'".into()
            }
            SignatureRefusal::StaleDate => format!(
                "the Date header is more than {} minutes away from the server's time",
                MAX_CLOCK_SKEW_SECONDS / 60
            ),
            SignatureRefusal::BodyDigestMismatch => {
                "Content-MD5 is not the hex MD5 digest of the request body".into()
            }
            SignatureRefusal::NoServerSecret => {
                "HMAC authentication is not available: this server has no secret_key configured; use HTTP Basic".into()
            }
            SignatureRefusal::KeyNotDerived => {
                "this key was issued without the server's secret_key, so it cannot sign requests; use HTTP Basic or issue a new key".into()
            }
            SignatureRefusal::BadCredentials => "Invalid authentication credentials".into(),
        }
    }
}

impl HmacAuthorization {
    /// Parses the value of an `Authorization` header of the `hmac` scheme.
    pub fn parse(value: &str) -> Result<Self, SignatureRefusal> {
        let malformed = |why: &str| SignatureRefusal::Malformed(why.to_string());
        let value = value.trim();
        let (scheme, params) = value.split_once(char::is_whitespace).ok_or_else(|| {
            malformed(
                "expected hmac username=\"…\", algorithm=\"…\", headers=\"…\", signature=\"…\"",
            )
        })?;
        if !scheme.eq_ignore_ascii_case("hmac") {
            return Err(malformed("the scheme is not hmac"));
        }
        let (mut username, mut algorithm, mut headers, mut signature) = (None, None, None, None);
        for param in params.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, quoted) = param
                .split_once('=')
                .ok_or_else(|| malformed("parameters are name=\"value\""))?;
            let value = quoted
                .trim()
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or_else(|| malformed("parameter values are quoted"))?
                .to_string();
            match name.trim().to_ascii_lowercase().as_str() {
                "username" => username = Some(value),
                "algorithm" => algorithm = Some(value),
                "headers" => headers = Some(value),
                "signature" => signature = Some(value),
                _ => {}
            }
        }
        let username = username
            .filter(|u| !u.is_empty())
            .ok_or_else(|| malformed("username is missing"))?;
        let algorithm = algorithm.ok_or_else(|| malformed("algorithm is missing"))?;
        if !algorithm.eq_ignore_ascii_case(ALGORITHM) {
            return Err(SignatureRefusal::UnsupportedAlgorithm(algorithm));
        }
        let headers: Vec<String> = headers
            .ok_or_else(|| malformed("headers is missing"))?
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let signature = signature
            .filter(|s| !s.is_empty())
            .ok_or_else(|| malformed("signature is missing"))?;
        Ok(HmacAuthorization {
            username,
            algorithm,
            headers,
            signature,
        })
    }

    fn lists(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h.eq_ignore_ascii_case(name))
    }
}

/// What the verifier needs of one HTTP request.
#[derive(Debug, Clone)]
pub struct SignedRequest<'a> {
    pub authorization: HmacAuthorization,
    pub method: &'a str,
    /// The request target as sent: path and query string.
    pub path_and_query: &'a str,
    /// Header values by name (any case).
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
}

impl SignedRequest<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Checks everything that does not depend on the key — the signature covers Date, the
    /// request line and (with a body) its digest; Date is fresh; the digest matches — and returns
    /// the signing string.
    pub fn signing_string(&self, now: Timestamp) -> Result<String, SignatureRefusal> {
        let auth = &self.authorization;
        if !auth.lists("date") {
            return Err(SignatureRefusal::Unsigned("Date"));
        }
        if !auth.lists(REQUEST_LINE) {
            return Err(SignatureRefusal::Unsigned(REQUEST_LINE));
        }
        let digest_headers = ["content-md5", "x-content-md5"];
        if !self.body.is_empty() && !digest_headers.iter().any(|h| auth.lists(h)) {
            return Err(SignatureRefusal::Unsigned(
                "Content-MD5 (the request has a body)",
            ));
        }
        let mut lines = Vec::with_capacity(auth.headers.len());
        for name in &auth.headers {
            if name.eq_ignore_ascii_case(REQUEST_LINE) {
                lines.push(format!("{} {} HTTP/1.1", self.method, self.path_and_query));
                continue;
            }
            let value = self
                .header(name)
                .ok_or_else(|| SignatureRefusal::HeaderMissing(name.clone()))?
                .trim();
            let lower = name.to_ascii_lowercase();
            if lower == "date" {
                let date = DateTime::parse_from_rfc2822(value)
                    .map_err(|_| SignatureRefusal::BadDate)?
                    .with_timezone(&chrono::Utc);
                if (now - date).abs() > Duration::seconds(MAX_CLOCK_SKEW_SECONDS) {
                    return Err(SignatureRefusal::StaleDate);
                }
            }
            if digest_headers.contains(&lower.as_str())
                && !value.eq_ignore_ascii_case(&content_md5(self.body))
            {
                return Err(SignatureRefusal::BodyDigestMismatch);
            }
            lines.push(format!("{name}: {value}"));
        }
        Ok(lines.join("\n"))
    }
}

/// Hex MD5 of a body, as `Content-MD5` carries it in this scheme.
pub fn content_md5(body: &[u8]) -> String {
    Md5::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn mac(secret: &str, signing_string: &str) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(signing_string.as_bytes());
    Some(mac)
}

/// Base64 HMAC-SHA256 of the signing string: what a client puts in `signature`.
pub fn sign(secret: &str, signing_string: &str) -> String {
    mac(secret, signing_string)
        .map(|m| STANDARD.encode(m.finalize().into_bytes()))
        .unwrap_or_default()
}

/// Constant-time check of a base64 signature.
pub fn verify(secret: &str, signing_string: &str, signature: &str) -> bool {
    let Ok(presented) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    mac(secret, signing_string).is_some_and(|m| m.verify_slice(&presented).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &str = "Tue, 15 Nov 1994 08:12:31 GMT";

    fn now() -> Timestamp {
        DateTime::parse_from_rfc2822(DATE)
            .unwrap()
            .with_timezone(&chrono::Utc)
    }

    fn request<'a>(headers: &str, body: &'a [u8], md5: &str) -> SignedRequest<'a> {
        SignedRequest {
            authorization: HmacAuthorization::parse(&format!(
                r#"hmac username="key_1", algorithm="hmac-sha256", headers="{headers}", signature="c2ln""#
            ))
            .unwrap(),
            method: "POST",
            path_and_query: "/v1/messages?x=1",
            headers: vec![
                ("date".into(), DATE.into()),
                ("content-md5".into(), md5.into()),
            ],
            body,
        }
    }

    #[test]
    fn parses_the_header_and_builds_the_documented_signing_string() {
        let body = br#"{"label":"x"}"#;
        let md5 = content_md5(body);
        let req = request("Date Content-MD5 request-line", body, &md5);
        assert_eq!(req.authorization.username, "key_1");
        assert_eq!(
            req.signing_string(now()).unwrap(),
            format!("Date: {DATE}\nContent-MD5: {md5}\nPOST /v1/messages?x=1 HTTP/1.1")
        );
        assert_eq!(content_md5(b""), "d41d8cd98f00b204e9800998ecf8427e");
        let sig = sign("secret", "text");
        assert!(verify("secret", "text", &sig));
        assert!(!verify("secret", "text2", &sig));
        assert!(!verify("other", "text", &sig));
        assert!(!verify("secret", "text", "not base64!"));
    }

    #[test]
    fn refuses_what_the_signature_does_not_cover_or_does_not_match() {
        let body = b"{}";
        let md5 = content_md5(body);
        assert_eq!(
            request("Date request-line", body, &md5).signing_string(now()),
            Err(SignatureRefusal::Unsigned(
                "Content-MD5 (the request has a body)"
            ))
        );
        assert_eq!(
            request("Content-MD5 request-line", body, &md5).signing_string(now()),
            Err(SignatureRefusal::Unsigned("Date"))
        );
        assert_eq!(
            request("Date Content-MD5 request-line", body, "00").signing_string(now()),
            Err(SignatureRefusal::BodyDigestMismatch)
        );
        let req = request("Date Content-MD5 request-line", body, &md5);
        assert!(req.signing_string(now() + Duration::seconds(300)).is_ok());
        assert_eq!(
            req.signing_string(now() + Duration::seconds(301)),
            Err(SignatureRefusal::StaleDate)
        );
        assert_eq!(
            req.signing_string(now() - Duration::seconds(301)),
            Err(SignatureRefusal::StaleDate)
        );
        assert!(matches!(
            HmacAuthorization::parse(
                r#"hmac username="k", algorithm="hmac-sha1", headers="Date request-line", signature="x""#
            ),
            Err(SignatureRefusal::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            HmacAuthorization::parse(r#"hmac username="k", headers="Date""#),
            Err(SignatureRefusal::Malformed(_))
        ));
    }
}
