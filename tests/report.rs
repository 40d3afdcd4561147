//! Snapshots of the human and JSON reports on a small fixed tree (`cargo insta review` to
//! update). A snapshot that shows a full key is a bug: the test also checks for that.

use crate::common::*;

fn tree() -> (Tree, Vec<String>) {
    let t = Tree::new();
    let keys = vec![fake_key(1), fake_key(2), fake_key_len(3, 20)];
    t.write(
        "config/.env",
        format!("# prod\nLEADEY_API_KEY={}\n", keys[0]),
    );
    t.write(
        "src/client.py",
        format!("import leadey\n\nclient = leadey.Client(api_key=\"{}\", timeout=30)  # TODO move to env\n", keys[1]),
    );
    t.write(
        "docs/setup.md",
        "Set `LEADEY_API_KEY` to your key (`leadey_sk_live_Xy3f…a1b2`).\n",
    );
    let mut bin = vec![0u8; 16];
    bin.extend_from_slice(keys[2].as_bytes());
    bin.push(0);
    t.write("assets/blob.bin", bin);
    (t, keys)
}

fn assert_no_key(text: &str, keys: &[String]) {
    for k in keys {
        assert!(!text.contains(&k[15..]), "full key in output:\n{text}");
    }
}

#[test]
fn human_report_snapshot() {
    let (t, keys) = tree();
    let out = run(t.cmd().args([".", "--color", "never", "--no-timing"]));
    assert_eq!(out.status.code(), Some(1));
    let (o, e) = (stdout(&out), stderr(&out));
    assert_no_key(&o, &keys);
    assert_no_key(&e, &keys);
    insta::assert_snapshot!("human_stdout", o);
    insta::assert_snapshot!("human_stderr", e);
}

#[test]
fn human_report_in_colour_snapshot() {
    let (t, keys) = tree();
    let out = run(t
        .cmd()
        .args(["src", "--color", "always", "--no-timing", "-q"]));
    assert_no_key(&stdout(&out), &keys);
    // #16: the codes as anstyle writes them, one escape per attribute.
    assert!(stdout(&out).contains("\u{1b}[1m\u{1b}[31mcritical[leadey-api-key]\u{1b}[0m"));
    insta::assert_snapshot!("human_color_stdout", stdout(&out));
    assert_eq!(stderr(&out), "");
}

#[test]
fn no_color_env_turns_colour_off_in_auto_mode() {
    let (t, _) = tree();
    let out = run(t
        .cmd()
        .args(["src", "--color", "auto"])
        .env("NO_COLOR", "1"));
    assert!(!stdout(&out).contains('\u{1b}'));
}

#[test]
fn colour_follows_clicolor_force_unless_never_and_reports_to_files() {
    // #16: `auto` is anstream's decision: CLICOLOR_FORCE colours piped output, NO_COLOR wins
    // over it, `--color never` wins over both; `--color always` colours a report file too.
    let (t, keys) = tree();
    let coloured = |out: &std::process::Output| stdout(out).contains('\u{1b}');
    let out = run(t.cmd().args(["src"]).env("CLICOLOR_FORCE", "1"));
    assert!(coloured(&out), "{}", stdout(&out));
    assert_no_key(&stdout(&out), &keys);
    let out = run(t
        .cmd()
        .args(["src"])
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1"));
    assert!(!coloured(&out));
    let out = run(t
        .cmd()
        .args(["src", "--color", "never"])
        .env("CLICOLOR_FORCE", "1"));
    assert!(!coloured(&out));
    let out = run(t.cmd().args(["src"]));
    assert!(!coloured(&out), "a pipe gets no colour by default");

    let file = t.join("report.txt");
    let file = file.to_str().unwrap();
    run(t.cmd().args(["src", "--color", "always", "-o", file]));
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains("\u{1b}[1m\u{1b}[31mcritical"), "{text}");
    run(t.cmd().args(["src", "-o", file]));
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.starts_with("critical[leadey-api-key]"), "{text}");
    assert!(!text.contains('\u{1b}'));
}

#[test]
fn json_report_snapshot() {
    let (t, keys) = tree();
    let (v, out) = json(t.cmd().arg("."));
    assert_no_key(&stdout(&out), &keys);
    assert_eq!(v["version"], 1);
    insta::assert_snapshot!("json_stdout", stdout(&out));
}

#[test]
fn json_report_follows_the_documented_schema() {
    let (t, _) = tree();
    let (v, _) = json(t.cmd().arg("."));
    let top: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        top,
        vec![
            "errors",
            "findings",
            "skipped",
            "stats",
            "suppressed",
            "version"
        ]
    );
    let f = v["findings"][0].as_object().unwrap();
    let mut fields: Vec<&str> = f.keys().map(String::as_str).collect();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "binary",
            "byte_offset",
            "column",
            "entropy",
            "fingerprint",
            "key_sha256",
            "line",
            "masked_key",
            "origin",
            "path",
            "rule_id",
            "severity",
            "snippet"
        ]
    );
    let stats: Vec<&str> = v["stats"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        stats,
        vec![
            "bytes_scanned",
            "errors",
            "files_scanned",
            "files_with_findings",
            "findings",
            "ignored",
            "incomplete",
            "keys",
            "members_with_findings",
            "skipped",
            "suppressed"
        ]
    );
    let (v, _) = json(t.cmd().arg(".").arg("--show-secrets"));
    assert!(v["findings"][0]["secret"]
        .as_str()
        .unwrap()
        .starts_with("leadey_sk_live_"));
    // Timing is present unless turned off.
    let out = run(t.cmd().args([".", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["stats"]["elapsed_ms"].is_u64());
}

#[test]
fn the_job_summary_counts_with_the_same_words_and_real_plurals() {
    // #20: "1 finding(s)" was the job summary's own vocabulary.
    let t = Tree::new();
    let key = fake_key(70);
    t.write("a.env", format!("K={key}\n"));
    t.write("b.env", format!("K={key}\n"));
    let summary = t.join("summary.md");
    let out = run(t
        .cmd()
        .args([".", "--github", "--no-timing"])
        .env("GITHUB_EVENT_NAME", "workflow_dispatch")
        .env_remove("GITHUB_EVENT_PATH")
        .env_remove("GITHUB_OUTPUT")
        .env("GITHUB_STEP_SUMMARY", &summary));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.contains("**2 findings of 1 key in 2 files**. Revoke each key"),
        "{text}"
    );
    assert!(!text.contains("(s)"), "{text}");
    assert!(stderr(&out).contains("2 findings of 1 key in 2 files;"));
}
