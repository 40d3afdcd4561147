//! Unit tests of `sarif` (#23: kept apart so that no source file passes 900 lines).
use super::*;
use crate::finding::{Key, Seen};
use crate::report::Stats;
use crate::rules::RuleSet;

const KEY_A: &[u8] = b"leadey_sk_live_epfJBd0Kh8oOOL8dKLzdocJ2isAjIhKt";
const KEY_B: &[u8] = b"leadey_sk_live_u8jzPde0IgxLd6GncfBA";

// The verification values the tests use; the one place to change if its shape changes.
fn live() -> Verification {
    Verification::Live {
        http_status: 200,
        organization: None,
        api_key: None,
        data: serde_json::json!({}),
    }
}

fn invalid() -> Verification {
    Verification::Invalid { http_status: 401 }
}

fn finding(path: &str, line: u64, key: &[u8], verification: Option<Verification>) -> Finding {
    let key = Key::new(key, 15);
    let seen = Seen {
        line,
        column: 3,
        byte_offset: 10 * line,
        byte_length: key.byte_len() as u64,
        binary: false,
        key,
        entropy: 4.5,
        snippet: "k = leadey_sk_live_••••IhKt".to_string(),
        snippet_key_start: 4,
        allow_marker: None,
        encoding: Vec::new(),
    };
    let origin = Origin::file(path.to_string(), path.to_string());
    let mut f = Finding::new(
        "leadey-api-key".into(),
        origin,
        seen,
        Default::default(),
        None,
    );
    f.verification = verification;
    f
}

fn report(findings: Vec<Finding>) -> Report {
    Report {
        stats: Stats {
            findings: findings.len() as u64,
            ..Stats::default()
        },
        findings,
        suppressed: Vec::new(),
        skipped: Vec::new(),
        errors: Vec::new(),
        rules: RuleSet::builtin().expect("built-in rules compile"),
        warnings: Vec::new(),
        ignored: Vec::new(),
    }
}

fn reporter(limits: Limits) -> Sarif {
    Sarif {
        options: RenderOptions::default(),
        base_dir: Some(PathBuf::from("/work/repo")),
        limits,
    }
}

fn result_paths(log: &SarifLog) -> Vec<String> {
    log.runs[0]
        .results
        .as_ref()
        .unwrap()
        .iter()
        .map(|r| {
            let loc = r.locations.as_ref().unwrap()[0]
                .physical_location
                .as_ref()
                .unwrap();
            loc.artifact_location.as_ref().unwrap().uri.clone().unwrap()
        })
        .collect()
}

#[test]
fn a_member_is_placed_at_its_outer_file_and_named_by_a_logical_location() {
    let mut f = finding("dist/app.tar.gz", 2, KEY_A, None);
    f.origin = Origin::file("dist/app.tar.gz".into(), "dist/app.tar.gz".into())
        .with_members(&["pkg/config.env".into()]);
    f.encoding = vec![crate::decode::Encoding::Base64];
    let log = reporter(Limits::default()).to_log(&report(vec![f]));
    let result = &log.runs[0].results.as_ref().unwrap()[0];
    let json = serde_json::to_value(result).unwrap();
    let loc = &json["locations"][0];
    assert_eq!(
        loc["physicalLocation"]["artifactLocation"]["uri"],
        "dist/app.tar.gz"
    );
    assert_eq!(
        loc["logicalLocations"][0]["fullyQualifiedName"],
        "dist/app.tar.gz!pkg/config.env"
    );
    assert_eq!(loc["logicalLocations"][0]["kind"], "member");
    let props = &json["properties"];
    assert_eq!(props["members"], json!(["pkg/config.env"]));
    assert_eq!(props["encoding"], json!(["base64"]));
    // A plain file has neither.
    let plain = reporter(Limits::default()).to_log(&report(vec![finding("a", 1, KEY_A, None)]));
    let json = serde_json::to_value(&plain.runs[0].results.as_ref().unwrap()[0]).unwrap();
    assert!(json["locations"][0].get("logicalLocations").is_none());
    assert!(json["properties"].get("members").is_none());
}

#[test]
fn live_results_come_first_then_report_order_and_invalid_last() {
    let r = report(vec![
        finding("a.txt", 1, KEY_A, Some(invalid())),
        finding("b.txt", 1, KEY_A, None),
        finding("c.txt", 1, KEY_B, Some(live())),
        finding("d.txt", 1, KEY_B, None),
    ]);
    let log = reporter(Limits::default()).to_log(&r);
    assert_eq!(result_paths(&log), ["c.txt", "b.txt", "d.txt", "a.txt"]);
    let first = &log.runs[0].results.as_ref().unwrap()[0];
    assert_eq!(
        first.properties.as_ref().unwrap().additional_properties["verification"],
        json!({"status": "live", "http_status": 200, "data": {}})
    );
    assert!(first
        .message
        .text
        .as_ref()
        .unwrap()
        .contains("verified live"));
}

#[test]
fn results_past_the_cap_are_cut_live_first_and_counted() {
    let r = report(vec![
        finding("a.txt", 1, KEY_A, None),
        finding("b.txt", 1, KEY_A, None),
        finding("z.txt", 1, KEY_B, Some(live())),
    ]);
    let sarif = reporter(Limits {
        max_results: 2,
        ..Limits::default()
    });
    let log = sarif.to_log(&r);
    assert_eq!(result_paths(&log), ["z.txt", "a.txt"]);
    assert_eq!(sarif.truncated(&r), 1);
    let props = &log.runs[0]
        .properties
        .as_ref()
        .unwrap()
        .additional_properties;
    assert_eq!(props["truncated"], json!(1));
    let warning = sarif.truncation_warning(&r).unwrap();
    assert!(warning.starts_with("1 of 3 findings left out"), "{warning}");
    let notes = log.runs[0].invocations.as_ref().unwrap()[0]
        .tool_execution_notifications
        .as_ref()
        .unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].level, Some(json!("warning")));
    assert_eq!(notes[0].message.text.as_deref(), Some(warning.as_str()));
}

#[test]
fn byte_budget_cuts_results_that_do_not_fit() {
    let r = report(vec![
        finding("a.txt", 1, KEY_A, None),
        finding("b.txt", 1, KEY_A, None),
    ]);
    let one = serde_json::to_vec(&reporter(Limits::default()).result(&r, &r.findings[0]))
        .unwrap()
        .len();
    let sarif = reporter(Limits {
        max_results_bytes: one + 10,
        ..Limits::default()
    });
    assert_eq!(sarif.truncated(&r), 1);
    assert_eq!(reporter(Limits::default()).truncated(&r), 0);
    assert_eq!(reporter(Limits::default()).truncation_warning(&r), None);
}

#[test]
fn file_errors_past_the_cap_are_counted_in_one_notification() {
    let mut r = report(Vec::new());
    for name in ["a", "b", "c"] {
        let at = Origin::file(name.to_string(), name.to_string());
        r.errors.push(crate::skip::FileError::new(
            Some(at),
            "cannot read: boom".to_string(),
        ));
    }
    let log = reporter(Limits {
        max_file_error_notifications: 2,
        ..Limits::default()
    })
    .to_log(&r);
    let inv = &log.runs[0].invocations.as_ref().unwrap()[0];
    assert!(!inv.execution_successful);
    let texts: Vec<_> = inv
        .tool_execution_notifications
        .as_ref()
        .unwrap()
        .iter()
        .map(|n| n.message.text.clone().unwrap())
        .collect();
    assert_eq!(texts.len(), 3);
    assert_eq!(texts[0], "a: cannot read: boom");
    assert_eq!(texts[1], "b: cannot read: boom");
    assert!(
        texts[2].starts_with("1 more path could not be read"),
        "{}",
        texts[2]
    );
}

#[test]
fn paths_are_placed_relative_to_the_base_or_absolute() {
    let at = |p: &str| Origin::file(p.to_string(), p.to_string());
    let base = Some(&b"/work/repo"[..]);
    let rel = |s: &str| Place::Relative(s.as_bytes().to_vec());
    let abs = |s: &str| Place::Absolute(s.as_bytes().to_vec());
    assert_eq!(place(&at("src/a.rs"), base), rel("src/a.rs"));
    assert_eq!(place(&at("/work/repo/src/a.rs"), base), rel("src/a.rs"));
    assert_eq!(
        place(&at("/work/repo2/a.rs"), base),
        abs("/work/repo2/a.rs")
    );
    assert_eq!(place(&at("/etc/x"), base), abs("/etc/x"));
    assert_eq!(place(&at("sub/../a.rs"), base), rel("a.rs"));
    assert_eq!(place(&at("../other/a.rs"), base), abs("/work/other/a.rs"));
    assert_eq!(place(&at("/work/repo/./x//y"), base), rel("x/y"));
    assert_eq!(place(&at("/w/x"), Some(b"/")), rel("w/x"));
    assert_eq!(place(&at("../a"), None), rel("../a"));
    assert_eq!(place(&at("/a/../b"), None), abs("/b"));
    assert_eq!(place(&Origin::stdin(), base), Place::Stdin);
}

#[test]
fn places_come_from_the_path_bytes_not_its_escaped_text() {
    let at = |raw: &[u8]| {
        let shown = DisplayPath::from_bytes(raw);
        let relative = shown.as_str().to_string();
        Origin::file_at(shown, relative)
    };
    let base = Some(&b"/work/repo"[..]);
    // The byte 0xFF and the four characters `\xFF` display alike, and are placed apart.
    let byte = at(b"/work/repo/a\xFFb");
    let text = at(b"/work/repo/a\\xFFb");
    assert_eq!(byte.outer_display(), text.outer_display());
    assert_eq!(place(&byte, base), Place::Relative(b"a\xFFb".to_vec()));
    assert_eq!(place(&text, base), Place::Relative(b"a\\xFFb".to_vec()));
    assert_eq!(
        place(&at(b"/elsewhere/\xFE"), base),
        Place::Absolute(b"/elsewhere/\xFE".to_vec())
    );
}

#[test]
fn uris_are_percent_encoded_with_slashes() {
    assert_eq!(
        encode_path("dir with space/clé.txt".as_bytes()),
        "dir%20with%20space/cl%C3%A9.txt"
    );
    assert_eq!(encode_path(b"100%/#?a+b:c"), "100%25/%23%3Fa%2Bb%3Ac");
    assert_eq!(encode_path(b"a\xFFb"), "a%FFb");
    assert_eq!(encode_path(b"a\\xFFb"), "a%5CxFFb");
    assert_eq!(encode_path(b"tail\\x"), "tail%5Cx");
    assert_eq!(file_uri(b"/tmp/a b"), "file:///tmp/a%20b");
    assert_eq!(file_uri(b"C:/Users/x"), "file:///C:/Users/x");
    assert_eq!(file_uri(b"//srv/share/x"), "file://srv/share/x");
    assert_eq!(dir_uri(b"/work/repo"), "file:///work/repo/");
    assert_eq!(dir_uri(b"/"), "file:///");
}

#[test]
fn rule_names_are_pascal_case() {
    assert_eq!(pascal_case("leadey-api-key"), "LeadeyApiKey");
}
