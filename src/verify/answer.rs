//! What an answer of `GET /me` means: status classes, the `data` of a live key, its
//! organization, `Retry-After`. Pure functions on status codes, headers and bytes: no I/O.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::finding::{Organization, UnknownReason, Verification, MASK_BULLETS};

/// What to do with an HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// 200: read the body; live if it is JSON with `data`.
    Live,
    /// 401: the key is revoked or was never valid.
    Invalid,
    /// 429 or 5xx: try again later, or give up with this reason.
    Retry(UnknownReason),
    /// Anything else (redirects included): unknown, unexpected answer.
    Unexpected,
}

/// The class of an HTTP status code.
///
/// ```
/// use leadey_scan::verify::answer::{classify, Class};
/// assert_eq!(classify(401), Class::Invalid);
/// assert_eq!(classify(302), Class::Unexpected);
/// ```
pub fn classify(status: u16) -> Class {
    match status {
        200 => Class::Live,
        401 => Class::Invalid,
        429 => Class::Retry(UnknownReason::RateLimit),
        500..=599 => Class::Retry(UnknownReason::ServerError),
        _ => Class::Unexpected,
    }
}

/// The verification of a 200 answer with `body`: live when the body is a JSON object with a
/// non-null `data`, unknown (unexpected answer) otherwise. Any copy of `key` in `data` is
/// replaced by `masked`, so that reports never show the full key.
pub fn live_from_body(http_status: u16, body: &[u8], key: &str, masked: &str) -> Verification {
    let unexpected = |detail: &str| Verification::Unknown {
        http_status: Some(http_status),
        reason: UnknownReason::UnexpectedAnswer,
        detail: Some(detail.to_string()),
    };
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return unexpected("the body is not JSON");
    };
    let Some(data) = value.get("data").filter(|d| !d.is_null()) else {
        return unexpected("the body has no `data`");
    };
    // #8: the answer may hold other keys too (a key list, an echo with extra text).
    // The body alone may come back too (under another prefix, in a field of its own): found
    // by fuzzing the answer parser.
    let data = mask_key(data, key, masked);
    let data = match key.rsplit_once('_') {
        Some((_, body)) if body.len() >= 8 => {
            let tail = body.get(body.len() - 4..).unwrap_or_default();
            mask_key(&data, body, &format!("{MASK_BULLETS}{tail}"))
        }
        _ => data,
    };
    let data = redact_keys(&data);
    Verification::Live {
        http_status,
        organization: organization_of(&data),
        api_key: api_key_of(&data),
        data,
    }
}

/// The organization named by a `data` value: the `organization` (or `org`) object's `id` and
/// `name`, else flat `organization_id` / `organization_name` (or `org_id` / `org_name`), else
/// `data` itself when its `object` or `type` is `"organization"`. Numbers become text.
///
/// ```
/// let data = serde_json::json!({"organization": {"id": 7, "name": "Acme"}});
/// let org = leadey_scan::verify::answer::organization_of(&data).unwrap();
/// assert_eq!((org.id.as_deref(), org.name.as_deref()), (Some("7"), Some("Acme")));
/// ```
pub fn organization_of(data: &Value) -> Option<Organization> {
    let obj = data.as_object()?;
    for field in ["organization", "org"] {
        if let Some(Value::Object(inner)) = obj.get(field) {
            return org_from(inner, "id", "name");
        }
    }
    for (id, name) in [
        ("organization_id", "organization_name"),
        ("org_id", "org_name"),
    ] {
        if let Some(org) = org_from(obj, id, name) {
            return Some(org);
        }
    }
    let is_org = ["object", "type"]
        .iter()
        .any(|f| obj.get(*f).and_then(Value::as_str) == Some("organization"));
    if is_org {
        return org_from(obj, "id", "name");
    }
    None
}

/// The key's own id and name in the dashboard, as far as a `data` value names them (#20): the
/// `api_key` (or `key`, `token`) object's `id` and `name`, else flat `api_key_id` /
/// `api_key_name` (or `key_id` / `key_name`), else `data` itself when its `object` or `type` is
/// `"api_key"`. Anything else (a `key` that is a string, numbers nested deeper, arrays) gives
/// `None`: the answer is trusted for display only. Call it on `data` after masking: a name that
/// holds the key shows the mask.
///
/// ```
/// let data = serde_json::json!({"api_key": {"id": "key_7", "name": "CI deploy"}});
/// let key = leadey_scan::verify::answer::api_key_of(&data).unwrap();
/// assert_eq!((key.id.as_deref(), key.name.as_deref()), (Some("key_7"), Some("CI deploy")));
/// assert!(leadey_scan::verify::answer::api_key_of(&serde_json::json!({"key": "x"})).is_none());
/// ```
pub fn api_key_of(data: &Value) -> Option<Organization> {
    let obj = data.as_object()?;
    for field in ["api_key", "key", "token"] {
        if let Some(Value::Object(inner)) = obj.get(field) {
            return org_from(inner, "id", "name");
        }
    }
    for (id, name) in [("api_key_id", "api_key_name"), ("key_id", "key_name")] {
        if let Some(key) = org_from(obj, id, name) {
            return Some(key);
        }
    }
    let is_key = ["object", "type"]
        .iter()
        .any(|f| matches!(obj.get(*f).and_then(Value::as_str), Some("api_key" | "key")));
    if is_key {
        return org_from(obj, "id", "name");
    }
    None
}

fn org_from(obj: &Map<String, Value>, id: &str, name: &str) -> Option<Organization> {
    let org = Organization {
        id: obj.get(id).and_then(as_text),
        name: obj.get(name).and_then(as_text),
    };
    (org.id.is_some() || org.name.is_some()).then_some(org)
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `value` with every occurrence of `key` in its strings and object keys replaced by `masked`.
pub fn mask_key(value: &Value, key: &str, masked: &str) -> Value {
    if key.is_empty() {
        return value.clone();
    }
    match value {
        Value::String(s) => Value::String(s.replace(key, masked)),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| mask_key(v, key, masked)).collect())
        }
        Value::Object(obj) => Value::Object(
            obj.iter()
                .map(|(k, v)| (k.replace(key, masked), mask_key(v, key, masked)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `value` with every key-shaped run of the built-in rules in its strings and object keys
/// masked, whatever key it is.
pub fn redact_keys(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(crate::detect::redact_builtin(s)),
        Value::Array(items) => Value::Array(items.iter().map(redact_keys).collect()),
        Value::Object(obj) => Value::Object(
            obj.iter()
                .map(|(k, v)| (crate::detect::redact_builtin(k), redact_keys(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The hint for a 404 on `GET {api_base}/me` whose path `me_path` lacks the API version
/// (#20): the base is most likely missing its `/v1`.
///
/// ```
/// use leadey_scan::verify::answer::not_found_hint;
/// assert!(not_found_hint(404, "/me").unwrap().contains("/v1"));
/// assert_eq!(not_found_hint(404, "/v1/me"), Some("no such endpoint: is the API base right?".into()));
/// assert_eq!(not_found_hint(403, "/me"), None);
/// ```
pub fn not_found_hint(status: u16, me_path: &str) -> Option<String> {
    if status != 404 {
        return None;
    }
    let versioned = me_path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('v'))
        .any(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    Some(if versioned {
        "no such endpoint: is the API base right?".to_string()
    } else {
        "no such endpoint: the API base has no version; did you mean one ending in /v1 \
         (https://backend.leadey.ai/v1)?"
            .to_string()
    })
}

/// The wait asked for by a `Retry-After` header in seconds (`Retry-After: 2`); `None` when
/// absent or in the HTTP-date form.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(leadey_scan::verify::answer::retry_after(Some(b" 2 ")), Some(Duration::from_secs(2)));
/// assert_eq!(leadey_scan::verify::answer::retry_after(Some(b"soon")), None);
/// ```
pub fn retry_after(header: Option<&[u8]>) -> Option<Duration> {
    let text = std::str::from_utf8(header?).ok()?;
    text.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Backoff before try `attempt + 1` when the server gave no `Retry-After`: 500 ms, 1 s, 2 s, …
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(10)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses_fall_into_classes() {
        assert_eq!(classify(200), Class::Live);
        assert_eq!(classify(401), Class::Invalid);
        assert_eq!(classify(429), Class::Retry(UnknownReason::RateLimit));
        assert_eq!(classify(500), Class::Retry(UnknownReason::ServerError));
        assert_eq!(classify(503), Class::Retry(UnknownReason::ServerError));
        for s in [201, 204, 301, 302, 307, 400, 403, 404] {
            assert_eq!(classify(s), Class::Unexpected, "{s}");
        }
    }

    #[test]
    fn live_needs_json_with_data() {
        let v = live_from_body(
            200,
            br#"{"data":{"org":{"id":"o1","name":"Acme"}}}"#,
            "k",
            "m",
        );
        assert_eq!(
            v,
            Verification::Live {
                http_status: 200,
                organization: Some(Organization {
                    id: Some("o1".into()),
                    name: Some("Acme".into())
                }),
                api_key: None,
                data: json!({"org":{"id":"o1","name":"Acme"}}),
            }
        );
        for body in [
            &b"<html>"[..],
            b"",
            br#"{"error":"x"}"#,
            br#"{"data":null}"#,
        ] {
            let v = live_from_body(200, body, "k", "m");
            assert!(
                matches!(
                    v,
                    Verification::Unknown {
                        http_status: Some(200),
                        reason: UnknownReason::UnexpectedAnswer,
                        ..
                    }
                ),
                "{v:?}"
            );
        }
    }

    #[test]
    fn organization_is_found_in_the_usual_places() {
        let org = |id: &str, name: &str| {
            Some(Organization {
                id: Some(id.into()),
                name: Some(name.into()),
            })
        };
        assert_eq!(
            organization_of(&json!({"organization": {"id": 1, "name": "A"}})),
            org("1", "A")
        );
        assert_eq!(
            organization_of(&json!({"organization_id": "x", "organization_name": "B"})),
            org("x", "B")
        );
        assert_eq!(
            organization_of(&json!({"object": "organization", "id": "y", "name": "C"})),
            org("y", "C")
        );
        assert_eq!(
            organization_of(&json!({"org_name": "D"})),
            Some(Organization {
                id: None,
                name: Some("D".into())
            })
        );
        assert_eq!(
            organization_of(&json!({"id": "u1", "name": "a user"})),
            None
        );
        assert_eq!(organization_of(&json!("text")), None);
    }

    #[test]
    fn a_key_echoed_in_data_is_masked() {
        let data =
            json!({"key": "leadey_sk_live_abc", "leadey_sk_live_abc": ["x leadey_sk_live_abc"]});
        assert_eq!(
            mask_key(&data, "leadey_sk_live_abc", "M"),
            json!({"key": "M", "M": ["x M"]})
        );
    }

    #[test]
    fn other_keys_in_an_answer_are_masked_too() {
        let other = "leadey_sk_live_epfJBd0Kh8oOOL8dKLzdocJ2isAjIhKt";
        let body = format!(r#"{{"data":{{"keys":["x{other}"],"{other}":1,"n":2}}}}"#);
        let v = live_from_body(200, body.as_bytes(), "sent-key", "m");
        let Verification::Live { data, .. } = v else {
            panic!("{v:?}")
        };
        assert_eq!(
            data,
            json!({"keys": ["xleadey_sk_live_••••IhKt"], "leadey_sk_live_••••IhKt": 1, "n": 2})
        );
    }

    #[test]
    fn the_body_of_the_sent_key_is_masked_wherever_it_stands() {
        let key = "leadey_sk_live_epfJBd0Kh8oOOL8dKLzdocJ2isAjIhKt";
        let body = r##"{"data":{"b":"epfJBd0Kh8oOOL8dKLzdocJ2isAjIhKt","leadey_s#_live_epfJBd0Kh8oOOL8dKLzdocJ2isAjIhKt":1}}"##;
        let v = live_from_body(200, body.as_bytes(), key, "M");
        let Verification::Live { data, .. } = v else {
            panic!("{v:?}")
        };
        assert_eq!(data, json!({"b": "••••IhKt", "leadey_s#_live_••••IhKt": 1}));
    }

    #[test]
    fn backoff_doubles() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(2));
        assert_eq!(backoff(u32::MAX), Duration::from_millis(500 * 1024));
    }
}
