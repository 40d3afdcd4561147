//! The config file (#7): rule overrides and extra rules change the scan, and every kind of
//! mistake is an error that names the file, line and column and what was expected, exits 2,
//! writes no report and never shows a key.

use crate::common::{code, fake_key, json, masked, run, stderr, stdout, Tree};

/// Runs a scan of a tree holding one key and `.leadey-scan.toml` with `config`; returns the
/// error line of stderr, after checking exit code 2 and an empty stdout.
fn config_error(config: &str) -> String {
    let t = Tree::new();
    t.write("a.env", format!("{}\n", fake_key(1)))
        .write(".leadey-scan.toml", config);
    let out = run(t.cmd().arg("."));
    assert_eq!(code(&out), 2, "{config}\n{}", stderr(&out));
    assert_eq!(stdout(&out), "", "no report after a config error");
    let err = stderr(&out);
    assert!(!err.contains(&fake_key(1)));
    assert_eq!(err.lines().count(), 1, "{err}");
    err.trim_end().to_string()
}

const PREFIX: &str = "leadey-scan: error: cannot start the scan: .leadey-scan.toml:";

#[test]
fn unknown_keys_are_errors_that_list_what_is_expected() {
    assert_eq!(
        config_error("[allow]\npaths = []\npath = [\"x\"]\n"),
        format!(
            "{PREFIX}3:1: unknown field `path`, expected one of `paths`, `keys`, `fingerprints`"
        )
    );
    assert_eq!(
        config_error("# comment\n[alow]\n"),
        format!("{PREFIX}2:2: unknown field `alow`, expected one of `allow`, `rules`, `rule`")
    );
    assert_eq!(
        config_error("[rules.leadey-api-key]\nentropy = 3.5\n"),
        format!(
            "{PREFIX}2:1: unknown field `entropy`, expected one of `min_entropy`, \
             `body_min_len`, `body_max_len`"
        )
    );
}

#[test]
fn values_of_the_wrong_type_are_errors() {
    assert_eq!(
        config_error("[allow]\npaths = \"tests/**\"\n"),
        format!("{PREFIX}2:9: invalid type: string \"tests/**\", expected a sequence")
    );
    assert_eq!(
        config_error("[allow]\nkeys = [\"ab\", 7]\n"),
        format!("{PREFIX}2:15: invalid type: integer `7`, expected a string")
    );
    assert_eq!(
        config_error("[rules.leadey-api-key]\nbody_min_len = \"long\"\n"),
        format!("{PREFIX}2:16: invalid type: string \"long\", expected usize")
    );
    assert_eq!(
        config_error("[allow\n"),
        format!("{PREFIX}1:7: unclosed table, expected `]`")
    );
}

#[test]
fn bad_globs_are_errors() {
    assert_eq!(
        config_error("[allow]\npaths = [\"ok/**\",\n  \"fixtures/[ab\"]\n"),
        format!(
            "{PREFIX}3:3: `fixtures/[ab` is not a valid glob (unclosed character class; \
             missing ']'): expected a glob of paths relative to the scan root, such as \
             `tests/fixtures/**` or `*.md`"
        )
    );
    assert_eq!(
        config_error("[allow]\npaths = [\"a/{b\"]\n"),
        format!(
            "{PREFIX}2:10: `a/{{b` is not a valid glob (unclosed alternate group; missing \
             '}}' (maybe escape '{{' with '[{{]'?)): expected a glob of paths relative to the \
             scan root, such as `tests/fixtures/**` or `*.md`"
        )
    );
    assert_eq!(
        config_error("[allow]\npaths = [\"/\"]\n"),
        format!(
            "{PREFIX}2:10: `/` is not a usable glob: expected a glob of paths relative to \
             the scan root, such as `tests/fixtures/**` or `*.md`"
        )
    );
}

#[test]
fn bad_hashes_and_fingerprints_are_errors() {
    assert_eq!(
        config_error(&format!("[allow]\nkeys = [\"{}\"]\n", "g".repeat(64))),
        format!(
            "{PREFIX}2:9: `{}` is not valid: expected a key's SHA-256 as 64 hexadecimal \
             characters (`key_sha256` in the JSON report)",
            "g".repeat(64)
        )
    );
    assert_eq!(
        config_error("[allow]\nfingerprints = [\"abc123\"]\n"),
        format!(
            "{PREFIX}2:17: `abc123` is not valid: expected a fingerprint of 32 hexadecimal \
             characters (`fingerprint` in the JSON report)"
        )
    );
}

#[test]
fn a_key_pasted_in_place_of_its_hash_is_refused_without_showing_it() {
    let key = fake_key(9);
    let err = config_error(&format!("[allow]\nkeys = [\"{key}\"]\n"));
    assert_eq!(
        err,
        format!(
            "{PREFIX}2:9: this is a key, not its hash: never put a key in the config file; \
             expected a key's SHA-256 as 64 hexadecimal characters (`key_sha256` in the JSON \
             report)"
        )
    );
    assert!(!err.contains(&key[15..]));
}

#[test]
fn bad_rule_overrides_are_errors() {
    assert_eq!(
        config_error("[rules.leadey-api-key]\nmin_entropy = 8.5\n"),
        format!(
            "{PREFIX}1:1: [rules.leadey-api-key]: rule `leadey-api-key`: min_entropy (8.5) \
             must be between 0 and 8 bits per character"
        )
    );
    assert_eq!(
        config_error("[allow]\n\n[rules.leadey-api-key]\nbody_min_len = 65\n"),
        format!(
            "{PREFIX}3:1: [rules.leadey-api-key]: rule `leadey-api-key`: body_min_len (65) \
             is greater than body_max_len (64)"
        )
    );
    assert_eq!(
        config_error("[rules.leadey-api-key]\nbody_max_len = 5000\n"),
        format!(
            "{PREFIX}1:1: [rules.leadey-api-key]: rule `leadey-api-key`: body_max_len (5000) \
             is above the limit of 1024"
        )
    );
    assert_eq!(
        config_error("[rules.leadey-key]\nmin_entropy = 3\n"),
        format!(
            "{PREFIX}1:1: [rules.leadey-key]: no rule `leadey-key` to override; expected one \
             of `leadey-api-key`"
        )
    );
}

const EXTRA_RULE: &str = r#"
[[rule]]
id = "acme-token"
title = "Acme token"
prefix = "acme_"
body_chars = "a-z0-9"
body_min_len = 16
body_max_len = 16
min_entropy = 2.0
severity = "high"
remediation = "Revoke it at Acme."
"#;

#[test]
fn bad_extra_rules_are_errors() {
    assert_eq!(
        config_error(&EXTRA_RULE.replace("acme-token", "Acme Token")),
        format!("{PREFIX}2:1: rule `Acme Token`: id must be kebab-case (a-z, 0-9 and `-`)")
    );
    assert_eq!(
        config_error(&EXTRA_RULE.replace("severity = \"high\"\n", "")),
        format!("{PREFIX}2:1: missing field `severity`")
    );
    assert_eq!(
        config_error(&format!("{EXTRA_RULE}{EXTRA_RULE}")),
        format!(
            "{PREFIX}13:1: rule `acme-token`: the id is used twice in this file; expected \
             unique ids"
        )
    );
}

#[test]
fn a_missing_config_file_named_by_flag_is_an_error() {
    let t = Tree::new();
    t.write("a.env", "nothing\n");
    let out = run(t.cmd().args([".", "--config", "nope.toml"]));
    assert_eq!(code(&out), 2);
    assert_eq!(
        stderr(&out),
        "leadey-scan: error: cannot start the scan: nope.toml: cannot read config file: No \
         such file or directory (os error 2)\n"
    );
    // Without the flag, no config file is fine.
    assert_eq!(code(&run(t.cmd().arg("."))), 0);
    assert_eq!(
        code(&run(t.cmd().args([".", "--config", "c", "--no-config"]))),
        2,
        "--config and --no-config conflict"
    );
}

#[test]
fn overrides_change_the_rule_used_by_the_scan() {
    let short = fake_key(2); // 32-character body
    let t = Tree::new();
    t.write("a.env", format!("{short}\n"));
    let (v, _) = json(t.cmd().arg("."));
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    t.write(
        ".leadey-scan.toml",
        "[rules.leadey-api-key]\nbody_min_len = 40\n",
    );
    let (v, out) = json(t.cmd().arg("."));
    assert_eq!(code(&out), 0);
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
    // An override applies to a rule from --rules too (after it replaced the built-in one),
    // and is checked against it.
    std::fs::remove_file(t.join(".leadey-scan.toml")).unwrap();
    t.write(
        "acme.toml",
        EXTRA_RULE.replace("acme-token", "leadey-api-key"),
    )
    .write("b.env", "t = acme_q8w1x0z7k2m4n6p9\n");
    let (v, _) = json(t.cmd().args([".", "--rules", "acme.toml"]));
    assert_eq!(v["findings"].as_array().unwrap().len(), 1, "{v:#}");
    t.write(
        ".leadey-scan.toml",
        "[rules.leadey-api-key]\nbody_min_len = 40\n",
    );
    let out = run(t.cmd().args([".", "--rules", "acme.toml"]));
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains(
        "[rules.leadey-api-key]: rule `leadey-api-key`: body_min_len (40) is greater than \
         body_max_len (16)"
    ));
    t.write(
        ".leadey-scan.toml",
        "[rules.leadey-api-key]\nmin_entropy = 4.5\n",
    );
    let (v, _) = json(t.cmd().args([".", "--rules", "acme.toml"]));
    assert_eq!(v["findings"].as_array().unwrap().len(), 0, "{v:#}");
}

#[test]
fn extra_rules_of_the_config_file_find_their_keys() {
    let key = fake_key(3);
    let t = Tree::new();
    t.write(
        "a.env",
        format!("LEADEY={key}\nACME=acme_q8w1x0z7k2m4n6p9\n"),
    )
    .write(".leadey-scan.toml", EXTRA_RULE);
    let (v, out) = json(t.cmd().arg("."));
    assert_eq!(code(&out), 1);
    let found: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap(),
                f["masked_key"].as_str().unwrap(),
            )
        })
        .collect();
    let masked_key = masked(&key);
    assert_eq!(
        found,
        vec![
            ("leadey-api-key", masked_key.as_str()),
            ("acme-token", "acme_••••n6p9")
        ]
    );
}

/// #20: a repository whose root `.leadey-scan.toml` allows `src/fixtures/**` and accepts the
/// fingerprint of `src/app/k.env` (as a root run reports it); `src/live.env` stays a finding.
fn repo_with_root_config() -> (Tree, String) {
    let t = Tree::new();
    t.git_init();
    t.write("src/fixtures/k.env", format!("K={}\n", fake_key(2001)))
        .write("src/app/k.env", format!("K={}\n", fake_key(2002)))
        .write("src/live.env", format!("K={}\n", fake_key(2003)));
    let (v, _) = json(t.cmd().args([".", "--no-config"]));
    let fp = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["path"] == "src/app/k.env")
        .expect("src/app/k.env found")["fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_string();
    t.write(
        ".leadey-scan.toml",
        format!("[allow]\npaths = [\"src/fixtures/**\"]\nfingerprints = [\"{fp}\"]\n"),
    );
    t.git(&["add", "."]).git(&["commit", "-q", "-m", "keys"]);
    (t, masked(&fake_key(2003)))
}

/// Paths of the findings and the number of suppressed ones in a JSON report.
fn findings_and_suppressed(v: &serde_json::Value) -> (Vec<String>, usize) {
    let paths = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["path"].as_str().unwrap_or_default().to_string())
        .collect();
    (paths, v["suppressed"].as_array().map_or(0, Vec::len))
}

#[test]
fn git_scopes_in_a_subfolder_apply_the_repository_root_config() {
    let (t, live) = repo_with_root_config();
    let (root, out) = json(t.cmd().arg("--history"));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(
        findings_and_suppressed(&root),
        (vec!["src/live.env".to_string()], 2)
    );
    // Before #20, the same run from `src` read no config and reported all three keys.
    let (sub, out) = json(t.cmd().arg("--history").current_dir(t.join("src")));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    // Counted, not compared by path: git-scope paths may become relative to the current
    // directory (#20, another part); which key is left and how many are suppressed is the point.
    let (paths, suppressed) = findings_and_suppressed(&sub);
    assert_eq!((paths.len(), suppressed), (1, 2), "{sub}");
    assert!(
        stderr(&out)
            .contains("leadey-scan: using ../.leadey-scan.toml (the repository's config file)"),
        "{}",
        stderr(&out)
    );
    assert!(sub.to_string().contains(&live));
    // --no-config still turns it off.
    let (none, _) = json(
        t.cmd()
            .args(["--history", "--no-config"])
            .current_dir(t.join("src/app")),
    );
    assert_eq!(findings_and_suppressed(&none).1, 0);
    assert_eq!(findings_and_suppressed(&none).0.len(), 3);
}

#[test]
fn a_tree_scan_of_a_subfolder_applies_the_root_config_to_repository_paths() {
    let (t, _) = repo_with_root_config();
    // From `src`, paths are `fixtures/k.env` and `app/k.env`: the root's glob and fingerprint
    // are matched against the repository paths `src/fixtures/k.env` and `src/app/k.env`.
    let (v, out) = json(t.cmd().arg(".").current_dir(t.join("src")));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(
        findings_and_suppressed(&v),
        (vec!["live.env".to_string()], 2)
    );
    // The same from the root, naming the folder.
    let (v, _) = json(t.cmd().arg("src"));
    assert_eq!(
        findings_and_suppressed(&v),
        (vec!["src/live.env".to_string()], 2)
    );
}

#[test]
fn a_config_in_the_current_directory_comes_before_the_repository_root() {
    let (t, _) = repo_with_root_config();
    t.write("src/.leadey-scan.toml", "[allow]\npaths = [\"live.env\"]\n");
    let (v, out) = json(t.cmd().arg("--history").current_dir(t.join("src")));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    // Only the folder's own file applies: its glob names `live.env` (any folder), and the
    // root's allow list is not merged in.
    let (paths, suppressed) = findings_and_suppressed(&v);
    assert_eq!((paths.len(), suppressed), (2, 1), "{v}");
    assert!(!v["findings"].to_string().contains("live.env"), "{v}");
    assert!(
        !stderr(&out).contains("repository's config file"),
        "{}",
        stderr(&out)
    );
    // Outside any repository only the current directory is looked at.
    let plain = Tree::new();
    plain
        .write(".leadey-scan.toml", "[allow]\npaths = [\"**\"]\n")
        .write("sub/k.env", format!("K={}\n", fake_key(2004)));
    let (v, out) = json(plain.cmd().arg(".").current_dir(plain.join("sub")));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(findings_and_suppressed(&v), (vec!["k.env".to_string()], 0));
}

#[test]
fn git_dir_names_the_repository_whose_config_applies() {
    let (t, live) = repo_with_root_config();
    let elsewhere = Tree::new();
    let (v, out) = json(
        elsewhere
            .cmd()
            .arg("--history")
            .env("GIT_DIR", t.join(".git")),
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let (paths, suppressed) = findings_and_suppressed(&v);
    assert_eq!((paths.len(), suppressed), (1, 2), "{v}");
    assert!(v["findings"].to_string().contains(&live), "{v}");
    assert!(
        stderr(&out).contains(".leadey-scan.toml (the repository's config file)"),
        "{}",
        stderr(&out)
    );
}
