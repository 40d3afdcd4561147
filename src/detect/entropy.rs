//! Shannon entropy and placeholder measures of a key body. Pure functions on bytes: no I/O.

/// Shannon entropy of `bytes`, in bits per byte; 0.0 for an empty slice.
///
/// ```
/// use leadey_scan::detect::entropy::shannon;
/// assert_eq!(shannon(b"aaaa"), 0.0);
/// assert!((shannon(b"abab") - 1.0).abs() < 1e-9);
/// ```
pub fn shannon(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// Strings whose substrings are "typed, not random": alphabets, digits, keyboard rows, each
/// forwards and backwards.
const SEQUENCES: &[&[u8]] = &[
    b"abcdefghijklmnopqrstuvwxyz",
    b"zyxwvutsrqponmlkjihgfedcba",
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    b"ZYXWVUTSRQPONMLKJIHGFEDCBA",
    b"01234567890",
    b"09876543210",
    b"qwertyuiop",
    b"poiuytrewq",
    b"asdfghjkl",
    b"lkjhgfdsa",
    b"zxcvbnm",
    b"mnbvcxz",
    b"QWERTYUIOP",
    b"POIUYTREWQ",
    b"ASDFGHJKL",
    b"LKJHGFDSA",
    b"ZXCVBNM",
    b"MNBVCXZ",
    b"1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    b"p0lo9ki8mju7nhy6bgt5vfr4cde3xsw2zaq1",
];

/// Shortest run that counts as a sequence. Four random base62 characters form one by chance
/// with a probability near 1 in 10^5 per position, and a single run never decides alone.
const MIN_SEQUENCE_RUN: usize = 4;

/// Share (0..=1) of `body` covered by runs of at least four characters that stand, forwards or
/// backwards, in an alphabet, the digits or a keyboard row.
///
/// ```
/// use leadey_scan::detect::entropy::sequence_share;
/// assert_eq!(sequence_share(b"abcdefgh"), 1.0);
/// assert_eq!(sequence_share(b"a8Kq2Zp0"), 0.0);
/// ```
pub fn sequence_share(body: &[u8]) -> f64 {
    if body.is_empty() {
        return 0.0;
    }
    let mut covered = vec![false; body.len()];
    let mut start = 0;
    while start < body.len() {
        let run = longest_sequence_at(body, start);
        if run >= MIN_SEQUENCE_RUN {
            for c in covered.iter_mut().skip(start).take(run) {
                *c = true;
            }
            start += run;
        } else {
            start += 1;
        }
    }
    covered.iter().filter(|&&c| c).count() as f64 / body.len() as f64
}

fn longest_sequence_at(body: &[u8], start: usize) -> usize {
    let rest = body.get(start..).unwrap_or_default();
    let Some(&first) = rest.first() else {
        return 0;
    };
    let mut best = 0;
    for seq in SEQUENCES {
        for i in memchr::memchr_iter(first, seq) {
            let tail = seq.get(i..).unwrap_or_default();
            let n = tail.iter().zip(rest).take_while(|(a, b)| a == b).count();
            best = best.max(n);
        }
    }
    best
}

/// Whether `body` repeats itself with a period of at most half its length (`abcabcabc…`,
/// `XXXX…`): typed placeholders, never random keys.
///
/// ```
/// use leadey_scan::detect::entropy::is_periodic;
/// assert!(is_periodic(b"abc123abc123abc1"));
/// assert!(!is_periodic(b"abc123abc123abd1"));
/// ```
pub fn is_periodic(body: &[u8]) -> bool {
    (1..=body.len() / 2).any(|p| body.iter().zip(body.iter().skip(p)).all(|(a, b)| a == b))
}

/// Words that documentation placeholders are made of (`YourLeadeyKeyHere2024`,
/// `INSERTYOURKEYHERE`, `ReplaceWithYourKey`), lowercase, at least three letters: a random body
/// holds one by chance rarely, and never enough of them to cover most of it (tests/rules.rs
/// measures the margin).
pub const PLACEHOLDER_DICTIONARY: &[&str] = &[
    "access",
    "account",
    "actual",
    "add",
    "api",
    "bar",
    "baz",
    "change",
    "copy",
    "dashboard",
    "default",
    "demo",
    "dev",
    "dummy",
    "enter",
    "example",
    "fake",
    "foo",
    "from",
    "generated",
    "goes",
    "here",
    "insert",
    "invalid",
    "key",
    "leadey",
    "live",
    "mock",
    "new",
    "not",
    "org",
    "organization",
    "own",
    "paste",
    "place",
    "placeholder",
    "private",
    "prod",
    "production",
    "put",
    "qux",
    "random",
    "real",
    "redacted",
    "replace",
    "sample",
    "secret",
    "set",
    "settings",
    "some",
    "string",
    "test",
    "text",
    "the",
    "this",
    "token",
    "use",
    "valid",
    "value",
    "with",
    "xxx",
    "your",
];

/// Share (0..=1) of `body` covered by words of `PLACEHOLDER_DICTIONARY`, ignoring ASCII case.
///
/// ```
/// use leadey_scan::detect::entropy::dictionary_share;
/// assert!(dictionary_share(b"YourLeadeyKeyHere2024") > 0.8);
/// assert_eq!(dictionary_share(b"u8jzPde0IgxLd6GncfBA"), 0.0);
/// ```
pub fn dictionary_share(body: &[u8]) -> f64 {
    if body.is_empty() {
        return 0.0;
    }
    let lower = body.to_ascii_lowercase();
    let mut covered = vec![false; lower.len()];
    for word in PLACEHOLDER_DICTIONARY {
        for at in memchr::memmem::find_iter(&lower, word.as_bytes()) {
            for c in covered.iter_mut().skip(at).take(word.len()) {
                *c = true;
            }
        }
    }
    covered.iter().filter(|&&c| c).count() as f64 / lower.len() as f64
}

/// Whether `body` contains one of `words` (already lowercase), ignoring ASCII case.
pub fn has_placeholder_word(body: &[u8], words: &[String]) -> bool {
    if words.is_empty() {
        return false;
    }
    let lower = body.to_ascii_lowercase();
    words
        .iter()
        .any(|w| !w.is_empty() && memchr::memmem::find(&lower, w.as_bytes()).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_distinct_bytes_is_log2_of_count() {
        assert!((shannon(b"abcdefgh") - 3.0).abs() < 1e-9);
        assert_eq!(shannon(b""), 0.0);
    }

    #[test]
    fn sequences_cover_placeholders() {
        assert_eq!(sequence_share(b"abcdefghijklmnopqrstuvwxyz123456"), 1.0);
        assert_eq!(sequence_share(b"12345678901234567890"), 1.0);
        assert_eq!(sequence_share(b"qwertyuiopasdfghjklzxcvbnm"), 1.0);
        assert_eq!(sequence_share(b"zyxwvutsrqponmlkjihgfedcba"), 1.0);
        // A random body with one short run is far below one half.
        assert!(sequence_share(b"u8jzPde0IgxLd6GncfBAabcd") < 0.2);
    }

    #[test]
    fn placeholder_words_ignore_case() {
        let words = vec!["example".to_string()];
        assert!(has_placeholder_word(b"YourEXAMPLEkey", &words));
        assert!(!has_placeholder_word(b"u8jzPde0IgxLd6GncfBA", &words));
    }
}
