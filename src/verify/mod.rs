//! Verification (`--verify`): asks the Leadey API about every distinct key found and records a
//! `Verification` on each of its findings. It adds, never drops or reorders findings.
//!
//! Each distinct key is sent once, as `GET {api_base}/me` with `Authorization: Bearer <key>`,
//! to the configured API base only: redirects are not followed, `http://` is refused unless the
//! host is a loopback address, proxies come from the standard environment variables. Requests
//! run on a single-threaded tokio runtime with at most `concurrency` in flight; 429 and 5xx
//! are retried with backoff (honouring `Retry-After`); an overall deadline bounds the whole
//! phase. Nothing here is built (no runtime, no TLS, no client) unless `verify_keys` is called
//! with at least one key to send. Never prints.

pub mod answer;

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::{Client, Response, Url};
use tokio::time::Instant;

use crate::finding::{Finding, Key, KeyHash, UnknownReason, Verification};
use answer::Class;

/// The API base used unless `--api-base` or `LEADEY_API_BASE` says otherwise.
pub const DEFAULT_API_BASE: &str = "https://backend.leadey.ai/v1";
/// Default number of requests in flight.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Default overall deadline of the verification phase, seconds.
pub const DEFAULT_DEADLINE_SECS: u64 = 30;
/// Longest wait for one request (connect, answer and body), unless the deadline comes first.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Tries per key when the API answers 429 or 5xx.
pub const MAX_ATTEMPTS: u32 = 3;
/// Largest body read from a 200 answer.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Only keys starting with this are sent: a key found by a user rule for another service must
/// never reach the Leadey API.
pub const VERIFIABLE_PREFIX: &[u8] = b"leadey_sk_";
/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("leadey-scan/", env!("CARGO_PKG_VERSION"));

/// What stops verification from starting. Never carries key bytes.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The API base is not a usable URL.
    #[error("invalid API base `{url}`: {message}")]
    ApiBase {
        /// The URL as given.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// The API base is `http://` to a host that is not loopback.
    #[error(
        "refusing to send keys in clear text to `{url}`: http:// is allowed only for loopback \
         hosts (127.0.0.0/8, ::1, localhost); use https://"
    )]
    Cleartext {
        /// The URL as given.
        url: String,
    },
    /// The HTTP client or its runtime could not be built.
    #[error("cannot start the HTTP client: {0}")]
    Client(String),
}

/// A checked API base: `https://`, or `http://` to a loopback host; no credentials, query or
/// fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiBase(Url);

impl ApiBase {
    /// Parses and checks `text`.
    ///
    /// ```
    /// use leadey_scan::verify::ApiBase;
    /// assert!(ApiBase::parse("https://backend.leadey.ai/v1").is_ok());
    /// assert!(ApiBase::parse("http://127.0.0.1:8080/v1").is_ok());
    /// assert!(ApiBase::parse("http://backend.leadey.ai/v1").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<ApiBase, VerifyError> {
        let bad = |message: &str| VerifyError::ApiBase {
            url: text.to_string(),
            message: message.to_string(),
        };
        let url = Url::parse(text.trim()).map_err(|e| bad(&e.to_string()))?;
        if url.cannot_be_a_base() || url.host().is_none() {
            return Err(bad("no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("credentials in the URL are not allowed"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("a query or fragment is not allowed"));
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => {
                return Err(VerifyError::Cleartext {
                    url: text.to_string(),
                })
            }
            _ => {
                return Err(bad(
                    "the scheme must be https:// (or http:// to a loopback host)",
                ))
            }
        }
        Ok(ApiBase(url))
    }

    /// The URL of `GET /me` below this base.
    ///
    /// ```
    /// let base = leadey_scan::verify::ApiBase::parse("https://backend.leadey.ai/v1/").unwrap();
    /// assert_eq!(base.me_url().as_str(), "https://backend.leadey.ai/v1/me");
    /// ```
    pub fn me_url(&self) -> Url {
        let mut url = self.0.clone();
        let path = format!("{}/me", url.path().trim_end_matches('/'));
        url.set_path(&path);
        url
    }
}

impl fmt::Display for ApiBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// Settings of the verification phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyConfig {
    /// Where keys are sent.
    pub api_base: ApiBase,
    /// Most requests in flight at once (at least 1).
    pub concurrency: usize,
    /// Overall deadline of the phase: keys without an answer by then are `unknown: timeout`.
    pub deadline: Duration,
    /// Longest wait for one request, unless the deadline comes first.
    pub request_timeout: Duration,
    /// Tries per key on 429 and 5xx (at least 1).
    pub max_attempts: u32,
}

impl VerifyConfig {
    /// The defaults, sending to `api_base`.
    pub fn new(api_base: ApiBase) -> VerifyConfig {
        VerifyConfig {
            api_base,
            concurrency: DEFAULT_CONCURRENCY,
            deadline: Duration::from_secs(DEFAULT_DEADLINE_SECS),
            request_timeout: REQUEST_TIMEOUT,
            max_attempts: MAX_ATTEMPTS,
        }
    }
}

/// The distinct keys `verify_keys` would send, in order of first appearance. Keys that do not
/// start with [`VERIFIABLE_PREFIX`] are left out.
pub fn keys_to_verify(findings: &[Finding]) -> Vec<Key> {
    let mut seen = HashSet::new();
    findings
        .iter()
        .filter(|f| f.key().expose().starts_with(VERIFIABLE_PREFIX))
        .filter(|f| seen.insert(f.key_sha256))
        .map(|f| f.key().clone())
        .collect()
}

/// Asks the API about each distinct key of `findings` (see [`keys_to_verify`]) and sets the
/// `verification` of every finding of that key. Findings of keys that are not sent keep `None`.
/// Returns the number of distinct keys checked. Errors only when the HTTP client cannot be
/// built; a key without a usable answer is `unknown`, with the reason.
pub fn verify_keys(findings: &mut [Finding], config: &VerifyConfig) -> Result<usize, VerifyError> {
    let keys = keys_to_verify(findings);
    if keys.is_empty() {
        return Ok(0);
    }
    let results = check_keys(&keys, config)?;
    for f in findings.iter_mut() {
        if let Some(v) = results.get(&f.key_sha256) {
            f.verification = Some(v.clone());
        }
    }
    Ok(keys.len())
}

/// One verification per key; keys without an answer by the deadline are `unknown: timeout`.
fn check_keys(
    keys: &[Key],
    config: &VerifyConfig,
) -> Result<HashMap<KeyHash, Verification>, VerifyError> {
    let now = Instant::now();
    let deadline = now
        .checked_add(config.deadline)
        .unwrap_or(now + Duration::from_secs(24 * 3600));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| VerifyError::Client(e.to_string()))?;
    let results: Arc<Mutex<HashMap<KeyHash, Verification>>> = Arc::default();
    let queue: Arc<Mutex<VecDeque<Key>>> = Arc::new(Mutex::new(keys.iter().cloned().collect()));
    runtime.block_on(async {
        let client = build_client(config)?;
        let job = Arc::new(Job {
            client,
            url: config.api_base.me_url(),
            deadline,
            request_timeout: config.request_timeout,
            max_attempts: config.max_attempts.max(1),
        });
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..config.concurrency.clamp(1, keys.len()) {
            let (job, queue, results) = (job.clone(), queue.clone(), results.clone());
            workers.spawn(async move {
                while let Some(key) = pop(&queue) {
                    let verification = job.check(&key).await;
                    lock(&results).insert(key.hash(), verification);
                }
            });
        }
        let all_done = async { while workers.join_next().await.is_some() {} };
        // The hard bound: requests still in flight at the deadline are dropped with the runtime.
        let _ = tokio::time::timeout_at(deadline, all_done).await;
        Ok::<(), VerifyError>(())
    })?;
    // Not a plain drop, which would wait for blocking work such as a hanging DNS lookup.
    runtime.shutdown_background();
    let mut results = std::mem::take(&mut *lock(&results));
    for key in keys {
        results
            .entry(key.hash())
            .or_insert_with(|| Verification::Unknown {
                http_status: None,
                reason: UnknownReason::Timeout,
                detail: None,
            });
    }
    Ok(results)
}

fn build_client(config: &VerifyConfig) -> Result<Client, VerifyError> {
    // rustls is built without a default crypto provider (no aws-lc, no OpenSSL): use ring. An
    // error only means a provider is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .user_agent(USER_AGENT)
        // The key goes to the configured host and nowhere else.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(config.request_timeout)
        .build()
        .map_err(|e| VerifyError::Client(error_text(&e)))
}

fn pop(queue: &Mutex<VecDeque<Key>>) -> Option<Key> {
    lock(queue).pop_front()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another task panicked; the data is still sound.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What every check shares.
struct Job {
    client: Client,
    url: Url,
    deadline: Instant,
    request_timeout: Duration,
    max_attempts: u32,
}

impl Job {
    /// Asks about one key, retrying 429 and 5xx within the deadline.
    async fn check(&self, key: &Key) -> Verification {
        let Ok(auth) = auth_header(key) else {
            return unknown(
                None,
                UnknownReason::NetworkError,
                Some("the key cannot be sent in an HTTP header".into()),
            );
        };
        let mut attempt = 1;
        loop {
            let now = Instant::now();
            if now >= self.deadline {
                return unknown(None, UnknownReason::Timeout, None);
            }
            let sent = self
                .client
                .get(self.url.clone())
                .header(AUTHORIZATION, auth.clone())
                .timeout(self.request_timeout.min(self.deadline - now))
                .send()
                .await;
            let response = match sent {
                Ok(r) => r,
                Err(e) => return from_error(&e, None),
            };
            let status = response.status().as_u16();
            match answer::classify(status) {
                Class::Live => return self.read_live(response, key).await,
                Class::Invalid => {
                    return Verification::Invalid {
                        http_status: status,
                    }
                }
                Class::Unexpected => {
                    let detail = if response.status().is_redirection() {
                        Some("redirect not followed".to_string())
                    } else {
                        answer::not_found_hint(status, self.url.path())
                    };
                    return unknown(Some(status), UnknownReason::UnexpectedAnswer, detail);
                }
                Class::Retry(reason) => {
                    if attempt >= self.max_attempts {
                        let detail = format!("after {attempt} tries");
                        return unknown(Some(status), reason, Some(detail));
                    }
                    let header = response.headers().get(reqwest::header::RETRY_AFTER);
                    let wait = answer::retry_after(header.map(HeaderValue::as_bytes))
                        .unwrap_or_else(|| answer::backoff(attempt));
                    drop(response);
                    // `Retry-After` comes from the network: no overflow on absurd values.
                    let resume = Instant::now().checked_add(wait);
                    if resume.is_none_or(|t| t >= self.deadline) {
                        let detail = format!(
                            "retry after {} s would pass the deadline",
                            wait.as_secs_f32()
                        );
                        return unknown(Some(status), reason, Some(detail));
                    }
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    /// The verification of a 200 answer, from its body.
    async fn read_live(&self, mut response: Response, key: &Key) -> Verification {
        let status = response.status().as_u16();
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > MAX_BODY_BYTES {
                        let detail = format!("body larger than {MAX_BODY_BYTES} bytes");
                        return unknown(
                            Some(status),
                            UnknownReason::UnexpectedAnswer,
                            Some(detail),
                        );
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return from_error(&e, Some(status)),
            }
        }
        let full = String::from_utf8_lossy(key.expose());
        answer::live_from_body(status, &body, &full, &key.masked())
    }
}

/// `Bearer <key>`, marked sensitive so that it is never logged.
fn auth_header(key: &Key) -> Result<HeaderValue, reqwest::header::InvalidHeaderValue> {
    let mut bytes = b"Bearer ".to_vec();
    bytes.extend_from_slice(key.expose());
    let mut value = HeaderValue::from_bytes(&bytes)?;
    value.set_sensitive(true);
    Ok(value)
}

fn unknown(
    http_status: Option<u16>,
    reason: UnknownReason,
    detail: Option<String>,
) -> Verification {
    Verification::Unknown {
        http_status,
        reason,
        detail,
    }
}

/// A request that failed without a usable answer.
fn from_error(e: &reqwest::Error, http_status: Option<u16>) -> Verification {
    if e.is_timeout() {
        return unknown(http_status, UnknownReason::Timeout, None);
    }
    unknown(
        http_status,
        UnknownReason::NetworkError,
        Some(error_text(e)),
    )
}

/// The innermost cause of `e` in words: `connection refused`, a TLS or proxy error. Never key
/// bytes: the key travels only in a header, which errors do not quote.
fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    if let Some(io) = inner.downcast_ref::<std::io::Error>() {
        if io.kind() == std::io::ErrorKind::ConnectionRefused {
            return "connection refused".to_string();
        }
    }
    inner.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_loopback_http_are_accepted() {
        for ok in [
            "https://backend.leadey.ai/v1",
            "https://api.example.test:8443/v2/",
            "http://127.0.0.1:8080/v1",
            "http://127.3.4.5/v1",
            "http://[::1]:9000/v1",
            "http://localhost:3000/v1",
            "http://LOCALHOST/v1",
        ] {
            assert!(ApiBase::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn cleartext_to_other_hosts_is_refused() {
        for bad in [
            "http://backend.leadey.ai/v1",
            "http://10.0.0.1/v1",
            "http://128.0.0.1/v1",
            "http://[::2]/v1",
            "http://localhost.evil.test/v1",
        ] {
            assert!(
                matches!(ApiBase::parse(bad), Err(VerifyError::Cleartext { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn odd_urls_are_refused() {
        for bad in [
            "backend.leadey.ai/v1",
            "ftp://backend.leadey.ai/v1",
            "https://user:pw@backend.leadey.ai/v1",
            "https://backend.leadey.ai/v1?x=1",
            "https://backend.leadey.ai/v1#x",
            "mailto:a@b.c",
        ] {
            assert!(
                matches!(ApiBase::parse(bad), Err(VerifyError::ApiBase { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn me_is_below_the_base_path() {
        let me = |b: &str| ApiBase::parse(b).unwrap().me_url().to_string();
        assert_eq!(me("https://h.test/v1"), "https://h.test/v1/me");
        assert_eq!(me("https://h.test/v1/"), "https://h.test/v1/me");
        assert_eq!(me("https://h.test"), "https://h.test/me");
        assert_eq!(me("http://127.0.0.1:9/a/b"), "http://127.0.0.1:9/a/b/me");
    }

    #[test]
    fn user_agent_names_the_tool_and_version() {
        assert_eq!(
            USER_AGENT,
            format!("leadey-scan/{}", env!("CARGO_PKG_VERSION"))
        );
    }
}
