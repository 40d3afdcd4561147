//! Findings: owned, serializable records of keys found, and the secret-carrying `Key` type whose
//! only way out is `Key::expose()`. Never does I/O.

use std::fmt;

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::decode::Encoding;
use crate::origin::Origin;
use crate::rules::RuleId;

/// The four bullets the Leadey dashboard shows in place of a key's hidden characters.
pub const MASK_BULLETS: &str = "••••";

/// A full key. `Debug` and `Display` print the dashboard mask; there is no `Serialize`.
/// The full bytes are reachable only through [`Key::expose`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Key {
    bytes: Box<[u8]>,
    prefix_len: usize,
}

impl Key {
    /// A key made of `prefix_len` bytes of prefix followed by its body.
    pub fn new(bytes: &[u8], prefix_len: usize) -> Key {
        Key {
            bytes: bytes.into(),
            prefix_len: prefix_len.min(bytes.len()),
        }
    }

    /// The full key. Callers: the verifier and `--show-secrets` output only.
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// The dashboard label: prefix, four bullets, last four characters of the body.
    ///
    /// ```
    /// let key = leadey_scan::finding::Key::new(b"leadey_sk_live_Xy3fQQQQa1b2", 15);
    /// assert_eq!(key.masked(), "leadey_sk_live_••••a1b2");
    /// ```
    pub fn masked(&self) -> String {
        let (prefix, body) = self.bytes.split_at(self.prefix_len);
        mask_parts(prefix, body)
    }

    /// The body (the key without its prefix). Callers: masking of copies of a body only.
    pub(crate) fn body(&self) -> &[u8] {
        self.bytes
            .get(self.prefix_len..)
            .expect("invariant: Key::new clamps prefix_len to the key's length")
    }

    /// Length of the full key in bytes, prefix included; the bytes themselves stay hidden.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// SHA-256 of the full key.
    pub fn hash(&self) -> KeyHash {
        KeyHash(Sha256::digest(&self.bytes).into())
    }
}

/// The masked label for a key made of `prefix` and `body`.
pub fn mask_parts(prefix: &[u8], body: &[u8]) -> String {
    let (_, tail) = body.split_at(body.len().saturating_sub(4));
    format!(
        "{}{MASK_BULLETS}{}",
        String::from_utf8_lossy(prefix),
        String::from_utf8_lossy(tail)
    )
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({})", self.masked())
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// SHA-256 of a full key; lowercase hex in reports.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyHash(pub [u8; 32]);

impl KeyHash {
    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyHash({})", self.to_hex())
    }
}

impl fmt::Display for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for KeyHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

/// A finding's identity across runs: derived from rule id, root-relative path
/// (`Origin::relative`) and key hash, not the line, so it survives edits that move the key, and
/// `leadey-scan .`, `leadey-scan "$PWD"` and `leadey-scan ../repo` agree on it (#12).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Fingerprint(pub String);

impl Fingerprint {
    /// The fingerprint of `key_hash` found by `rule_id` in `path`: 32 hex characters.
    pub fn new(rule_id: &str, path: &str, key_hash: &KeyHash) -> Fingerprint {
        let mut h = Sha256::new();
        h.update(b"leadey-scan/v1\0");
        h.update(rule_id.as_bytes());
        h.update(b"\0");
        h.update(path.as_bytes());
        h.update(b"\0");
        h.update(key_hash.0);
        // SHA-256 gives 32 bytes; the fingerprint is the first 16.
        let digest = h.finalize();
        let (head, _) = digest.split_at(16);
        Fingerprint(to_hex(head))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn to_hex(bytes: &[u8]) -> String {
    use fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Where a finding is. `path` is the origin's display (`Origin::display`): `/`-separated, as
/// ripgrep prints it (the root as given joined with the path below it, `./` dropped), with
/// `!member` for archive members; `line` and `column` are 1-based, inside the innermost member;
/// `column` counts characters when the line up to the key is valid UTF-8, bytes otherwise;
/// `byte_offset` is 0-based from the start of the innermost member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Display path.
    pub path: String,
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
    /// 0-based byte offset of the first matched byte.
    pub byte_offset: u64,
    /// Bytes matched: the key, or its encoded form once decoders exist (SARIF region length).
    #[serde(skip)]
    pub byte_length: u64,
}

/// What the Leadey API said about a key (filled in by the verifier, when asked). Serialized
/// with a `status` tag: `live`, `invalid` or `unknown`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Verification {
    /// The key works: `GET /me` answered 200 with a `data` object.
    Live {
        /// HTTP status of the answer (200).
        http_status: u16,
        /// The organization the key acts for, when `data` names it.
        #[serde(skip_serializing_if = "Option::is_none")]
        organization: Option<Organization>,
        /// The key's own id and name in the dashboard, when `data` names them (#20).
        #[serde(skip_serializing_if = "Option::is_none")]
        api_key: Option<Organization>,
        /// The raw `data` value of the answer, with any copy of the key masked.
        data: serde_json::Value,
    },
    /// The API refused the key (401): revoked or never valid; the API does not tell them apart.
    Invalid {
        /// HTTP status of the answer (401).
        http_status: u16,
    },
    /// No usable answer could be had.
    Unknown {
        /// HTTP status of the last answer, if there was one.
        #[serde(skip_serializing_if = "Option::is_none")]
        http_status: Option<u16>,
        /// Why.
        reason: UnknownReason,
        /// More about why, in words (never key bytes), e.g. `connection refused`.
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
}

impl Verification {
    /// `live`, `invalid` or `unknown`: the `status` field of the serialized form.
    pub fn status(&self) -> &'static str {
        match self {
            Verification::Live { .. } => "live",
            Verification::Invalid { .. } => "invalid",
            Verification::Unknown { .. } => "unknown",
        }
    }

    /// Whether the key works.
    pub fn is_live(&self) -> bool {
        matches!(self, Verification::Live { .. })
    }

    /// Whether the API refused the key.
    pub fn is_invalid(&self) -> bool {
        matches!(self, Verification::Invalid { .. })
    }
}

/// An id and a name from the API's answer: the organization a live key acts for, or the key's
/// own entry in the dashboard (#20). Text from the network: display only, escaped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Organization {
    /// Its id (numbers are written as text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Why a key's status is unknown. Serialized in snake_case (`rate_limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownReason {
    /// No answer before the deadline (`--verify-timeout`).
    Timeout,
    /// 429 Too Many Requests, still after the retries.
    RateLimit,
    /// 5xx, still after the retries.
    ServerError,
    /// The API could not be reached (connection refused, DNS, TLS, proxy).
    NetworkError,
    /// An answer that means neither live nor invalid (a redirect, 404, a 200 without JSON `data`).
    UnexpectedAnswer,
}

impl UnknownReason {
    /// The reason in words, as the human report shows it.
    pub fn describe(self) -> &'static str {
        match self {
            UnknownReason::Timeout => "timeout",
            UnknownReason::RateLimit => "rate limit",
            UnknownReason::ServerError => "server error",
            UnknownReason::NetworkError => "network error",
            UnknownReason::UnexpectedAnswer => "unexpected answer",
        }
    }
}

/// One key found in one place.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The rule that matched (serialized as its id text).
    pub rule_id: RuleId,
    /// Where.
    #[serde(flatten)]
    pub location: Location,
    /// Where, structured (#12): the root input and the members below it.
    pub origin: Origin,
    /// Decoders the key was found through, outermost first (`["base64"]`); empty for a key
    /// found as plain text (#12, #14).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub encoding: Vec<Encoding>,
    /// Whether the file looks binary (a NUL byte in its first 8 KiB).
    pub binary: bool,
    /// The dashboard label of the key.
    pub masked_key: String,
    /// SHA-256 of the full key.
    pub key_sha256: KeyHash,
    /// Stable identity (rule, path, key hash).
    pub fingerprint: Fingerprint,
    /// Shannon entropy of the body, bits per character.
    pub entropy: f64,
    /// The line around the key, keys replaced by their masked labels.
    pub snippet: String,
    /// Character index of the masked key in `snippet`.
    #[serde(skip)]
    pub snippet_key_start: usize,
    /// Verification result, when verification ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
    /// The commit that added the key (git scopes `--since`, `--range`, `--history`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<CommitInfo>,
    /// `--history` only: whether `HEAD` (or the `--branch` tip) still holds the key, in this
    /// file or another (#20: after `git mv` the key is still present). `false` means it was
    /// deleted later, and still needs revoking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub present_at_head: Option<bool>,
    /// `--history` only (#20): when this file no longer holds the key at `HEAD` but another
    /// does (the file was moved, or the key copied), the first such path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_path: Option<String>,
    /// Container images only (#13): the later layer (its member name in the image tarball)
    /// whose whiteout deletes the file holding the key. The file still ships in the image, in
    /// its own layer, so the key still needs revoking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_in_layer: Option<String>,
    /// Why the finding is suppressed (or would be, when `overridden`), if it is (#7).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression: Option<Suppression>,
    /// The allow marker on the key's line, if any (#7); the suppression stage decides.
    #[serde(skip)]
    pub allow_marker: Option<&'static str>,
    #[serde(skip)]
    key: Key,
}

/// The commit a finding comes from. Text fields are redacted like snippets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitInfo {
    /// Full object id, lowercase hex.
    pub id: String,
    /// Author name.
    pub author_name: String,
    /// Author email.
    pub author_email: String,
    /// Author date, RFC 3339 with the author's offset (`2024-05-01T12:00:00+02:00`).
    pub date: String,
    /// First line of the commit message.
    pub summary: String,
    /// `--history` only: no ref reaches the commit any more, only a reflog does (it was
    /// amended, rebased or reset away). Revoke the key if the commit was ever pushed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reflog_only: bool,
}

impl CommitInfo {
    /// The first 7 characters of the id, as `git log --oneline` shows it.
    pub fn short_id(&self) -> &str {
        self.id.get(..7).unwrap_or(&self.id)
    }
}

/// Why a finding is not reported as open (#7). Serialized as `{"kind": "baseline", "detail":
/// "…"}`, with `overridden` when the key is live and the suppression was not applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// The mechanism.
    pub kind: SuppressionKind,
    /// What matched, in words: the marker, the glob and its file, the baseline file.
    pub detail: String,
    /// Why the suppression was not applied (the key is live), when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overridden: Option<String>,
}

/// The mechanisms that suppress a finding, in the order they are tried. Serialized in
/// kebab-case (`allow-comment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SuppressionKind {
    /// `leadey-scan:allow` (or `gitleaks:allow`, `pragma: allowlist secret`) on the key's line.
    AllowComment,
    /// The path matches a glob of `[allow] paths` in the config file.
    ConfigPath,
    /// The key's SHA-256 is listed in `[allow] keys` of the config file.
    AcceptedKey,
    /// The finding's fingerprint is listed in `[allow] fingerprints` of the config file.
    AcceptedFingerprint,
    /// The finding's fingerprint is in the `--baseline` file.
    Baseline,
}

impl SuppressionKind {
    /// Every kind, in order.
    pub const ALL: [SuppressionKind; 5] = [
        SuppressionKind::AllowComment,
        SuppressionKind::ConfigPath,
        SuppressionKind::AcceptedKey,
        SuppressionKind::AcceptedFingerprint,
        SuppressionKind::Baseline,
    ];

    /// The kind in words, as the summary counts it (`allow comment`).
    pub fn describe(self) -> &'static str {
        match self {
            SuppressionKind::AllowComment => "allow comment",
            SuppressionKind::ConfigPath => "config path",
            SuppressionKind::AcceptedKey => "accepted key",
            SuppressionKind::AcceptedFingerprint => "accepted fingerprint",
            SuppressionKind::Baseline => "baseline",
        }
    }

    /// Whether the suppression is written in the scanned file itself (SARIF `inSource`), not
    /// kept elsewhere (`external`).
    pub fn is_in_source(self) -> bool {
        self == SuppressionKind::AllowComment
    }
}

/// Why a suppression was not applied to a live key: in reports and on standard error (the
/// suppression stage applies it, reporters explain it).
pub const LIVE_OVERRIDE_REASON: &str = "the key is live: allow comments, config files and \
     baselines are for examples, fixtures and revoked keys, never for a working credential; \
     revoke it";

/// Suppressed findings counted by kind, in `SuppressionKind::ALL` order, zeros left out (the
/// suppression stage's outcome and the reporters' summaries).
pub fn count_by_kind(suppressed: &[Finding]) -> Vec<(SuppressionKind, usize)> {
    SuppressionKind::ALL
        .into_iter()
        .map(|k| {
            let n = suppressed
                .iter()
                .filter(|f| f.suppression.as_ref().is_some_and(|s| s.kind == k))
                .count();
            (k, n)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// What the detector saw of one key, for `Finding::new`: everything but the origin.
#[derive(Debug, Clone)]
pub struct Seen {
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
    /// 0-based offset of the first matched byte.
    pub byte_offset: u64,
    /// Bytes matched.
    pub byte_length: u64,
    /// Whether the input looks binary.
    pub binary: bool,
    /// The key.
    pub key: Key,
    /// Entropy of the body, bits per character.
    pub entropy: f64,
    /// The redacted snippet.
    pub snippet: String,
    /// Character index of the masked key in `snippet`.
    pub snippet_key_start: usize,
    /// The allow marker on the key's line (#7).
    pub allow_marker: Option<&'static str>,
    /// Decoders the key was found through, outermost first (#14).
    pub encoding: Vec<Encoding>,
}

/// What a scope knows about where a finding came from in history (#23), given to the finding
/// when it is built: nothing for a tree, standard input or `--staged`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attribution {
    /// The commit that added the key (`--range`, `--history`).
    pub commit: Option<CommitInfo>,
    /// `--history` only: whether the key is still there at `HEAD` (or the `--branch` tip).
    pub present_at_head: Option<bool>,
    /// `--history` only: the path at `HEAD` that holds the key when the finding's own file no
    /// longer does (a `git mv`, #20).
    pub head_path: Option<String>,
}

impl Finding {
    /// Assembles a finding of rule `rule_id` at `origin`, with every field at once (#23): the
    /// commit that added the key and whether `HEAD` still has it (git scopes), the image layer
    /// that deletes its file (images). The display path, hash and the fingerprint (from the
    /// root-relative path) are derived here, the one place findings are made.
    pub fn new(
        rule_id: RuleId,
        origin: Origin,
        seen: Seen,
        attribution: Attribution,
        deleted_in_layer: Option<String>,
    ) -> Finding {
        let Attribution {
            commit,
            present_at_head,
            head_path,
        } = attribution;
        let key_sha256 = seen.key.hash();
        let fingerprint = Fingerprint::new(&rule_id, &origin.relative(), &key_sha256);
        Finding {
            masked_key: seen.key.masked(),
            rule_id,
            location: Location {
                path: origin.display(),
                line: seen.line,
                column: seen.column,
                byte_offset: seen.byte_offset,
                byte_length: seen.byte_length,
            },
            origin,
            encoding: seen.encoding,
            binary: seen.binary,
            key_sha256,
            fingerprint,
            entropy: seen.entropy,
            snippet: seen.snippet,
            snippet_key_start: seen.snippet_key_start,
            verification: None,
            commit,
            present_at_head,
            head_path,
            deleted_in_layer,
            suppression: None,
            allow_marker: seen.allow_marker,
            key: seen.key,
        }
    }

    /// The full key (see [`Key::expose`] for who may call it).
    pub fn key(&self) -> &Key {
        &self.key
    }
}

/// A finding for unit tests: rule `r`, `a.txt` 1:1, a fixed key.
#[cfg(test)]
pub(crate) fn test_finding() -> Finding {
    let key = Key::new(b"leadey_sk_live_u8jzPde0IgxLd6GncfBA", 15);
    let seen = Seen {
        line: 1,
        column: 1,
        byte_offset: 0,
        byte_length: key.byte_len() as u64,
        binary: false,
        key,
        entropy: 4.0,
        snippet: String::new(),
        snippet_key_start: 0,
        allow_marker: None,
        encoding: Vec::new(),
    };
    Finding::new(
        RuleId::new("r"),
        Origin::file("a.txt".into(), "a.txt".into()),
        seen,
        Attribution::default(),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_of_a_key_are_masked() {
        let key = Key::new(b"leadey_sk_live_u8jzPde0IgxLd6GncfBA", 15);
        assert_eq!(
            format!("{key}"),
            "leadey_sk_live_••••fBA".replace("fBA", "cfBA")
        );
        assert_eq!(format!("{key:?}"), "Key(leadey_sk_live_••••cfBA)");
        assert!(!format!("{key:?}").contains("u8jz"));
    }

    #[test]
    fn fingerprint_depends_on_rule_path_and_key_only() {
        let h = Key::new(b"p_abcdefgh", 2).hash();
        let a = Fingerprint::new("r", "a.txt", &h);
        assert_eq!(a, Fingerprint::new("r", "a.txt", &h));
        assert_ne!(a, Fingerprint::new("r", "b.txt", &h));
        assert_ne!(a, Fingerprint::new("s", "a.txt", &h));
        assert_eq!(a.0.len(), 32);
    }

    #[test]
    fn key_hash_is_sha256_hex() {
        let h = Key::new(b"abc", 0).hash();
        assert_eq!(
            h.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
