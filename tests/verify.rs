//! `--verify` against a real HTTP server on 127.0.0.1 that emulates `GET /v1/me`: statuses,
//! request counts, retries, deadline, redirects, concurrency, cleartext refusal, exit codes.
//! No test reaches the internet: every URL is loopback, proxies from the developer's
//! environment are removed, and the proxy tests point at a local server.

use crate::common;

use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use crate::common::http::{answer, without_proxies, Reply, Server};
use crate::common::{code, fake_key, masked, stderr, stdout, Tree};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// Running the binary.

/// The binary on `tree`, verifying against `base`, with no proxy from the environment.
fn verify_cmd(tree: &Tree, base: &str) -> Command {
    let mut c = tree.cmd();
    without_proxies(&mut c).args([".", "--verify", "--api-base", base]);
    c
}

/// Runs `cmd`, killing it (and failing) if it has not ended after 60 s, so no test can hang.
fn run_watched(cmd: &mut Command) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("leadey-scan did not end within 60 s");
        }
        thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    }
}

/// Runs `cmd` with `--format json` and parses stdout.
fn json_report(cmd: &mut Command) -> (Value, Output) {
    let out = run_watched(cmd.args(["--format", "json", "--no-timing"]));
    let v = common::stdout_json(&out);
    (v, out)
}

/// The `verification` object of every finding, in report order.
fn verifications(v: &Value) -> Vec<Value> {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["verification"].clone())
        .collect()
}

fn statuses(v: &Value) -> Vec<String> {
    verifications(v)
        .iter()
        .map(|x| x["status"].as_str().unwrap_or("<none>").to_string())
        .collect()
}

fn bearer(key: &str) -> Option<String> {
    Some(format!("Bearer {key}"))
}

fn live_body() -> String {
    json!({"data": {"organization": {"id": "org_42", "name": "Acme Corp"}, "plan": "pro"}})
        .to_string()
}

/// A fake API that answers 200 (`live_body`) for `live` and 401 with an empty body for any
/// other key.
fn live_only(live: &str) -> Server {
    let live = live.to_string();
    Server::start(move |r, _| {
        if r.authorization == bearer(&live) {
            answer(200, &live_body())
        } else {
            answer(401, "")
        }
    })
}

/// A tree with one file per key, named `k<i>.env`.
fn tree_with(keys: &[&str]) -> Tree {
    let tree = Tree::new();
    for (i, key) in keys.iter().enumerate() {
        tree.write(&format!("k{i}.env"), format!("LEADEY_API_KEY={key}\n"));
    }
    tree
}

fn assert_no_full_key(out: &Output, keys: &[&str]) {
    for key in keys {
        assert!(!stdout(out).contains(key), "full key on stdout");
        assert!(!stderr(out).contains(key), "full key on stderr");
    }
}

// ---------------------------------------------------------------------------------------------

#[test]
fn live_and_revoked_keys_are_classified() {
    let (live, revoked) = (fake_key(1), fake_key(2));
    let live2 = live.clone();
    let server = Server::start(move |r, _| {
        if r.authorization == bearer(&live2) {
            answer(200, &live_body())
        } else {
            answer(401, r#"{"error":"unauthorized"}"#)
        }
    });
    let tree = tree_with(&[&live, &revoked]);
    let (v, out) = json_report(&mut verify_cmd(&tree, &server.base()));
    assert_eq!(code(&out), 1);
    assert_eq!(
        verifications(&v),
        vec![
            json!({
                "status": "live",
                "http_status": 200,
                "organization": {"id": "org_42", "name": "Acme Corp"},
                "data": {"organization": {"id": "org_42", "name": "Acme Corp"}, "plan": "pro"}
            }),
            json!({"status": "invalid", "http_status": 401}),
        ]
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!((r.method.as_str(), r.target.as_str()), ("GET", "/v1/me"));
        assert_eq!(
            r.user_agent.as_deref(),
            Some(concat!("leadey-scan/", env!("CARGO_PKG_VERSION")))
        );
    }
    let mut sent: Vec<_> = requests.iter().map(|r| r.authorization.clone()).collect();
    sent.sort();
    let mut expected = vec![bearer(&live), bearer(&revoked)];
    expected.sort();
    assert_eq!(sent, expected);
    assert_no_full_key(&out, &[&live, &revoked]);
}

#[test]
fn human_report_shows_live_with_the_organization_and_counts() {
    let (live, revoked) = (fake_key(3), fake_key(4));
    let server = live_only(&live);
    let tree = tree_with(&[&live, &revoked]);
    let out =
        run_watched(verify_cmd(&tree, &server.base()).args(["--no-timing", "--color", "never"]));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("Leadey API key {} LIVE\n", masked(&live))),
        "{text}"
    );
    assert!(
        text.contains("= verification: LIVE, organization Acme Corp (id org_42)\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("Leadey API key {}\n", masked(&revoked))),
        "{text}"
    );
    assert!(
        text.contains(
            "= verification: does not work: refused by the API (HTTP 401), revoked or never valid\n"
        ),
        "{text}"
    );
    let err = stderr(&out);
    assert!(
        err.contains("verified 2 keys: 1 live, 1 revoked or invalid, 0 unknown"),
        "{err}"
    );
    assert!(
        err.contains(&format!("verifying 2 distinct keys with {}", server.base())),
        "{err}"
    );
    assert_no_full_key(&out, &[&live, &revoked]);
}

#[test]
fn each_distinct_key_is_sent_once_and_its_status_applied_everywhere() {
    let (a, b) = (fake_key(5), fake_key(6));
    let a2 = a.clone();
    let server = Server::start(move |r, _| {
        if r.authorization == bearer(&a2) {
            answer(200, r#"{"data":{}}"#)
        } else {
            answer(401, "")
        }
    });
    let tree = Tree::new();
    for i in 0..5 {
        tree.write(&format!("a{i}.txt"), format!("x {a}\ny {a}\n"));
    }
    for i in 0..3 {
        tree.write(&format!("b{i}.txt"), format!("{b}\n"));
    }
    let (v, out) = json_report(&mut verify_cmd(&tree, &server.base()));
    assert_eq!(code(&out), 1);
    let mut expected = vec!["live".to_string(); 10];
    expected.extend(vec!["invalid".to_string(); 3]);
    assert_eq!(statuses(&v), expected);
    assert_eq!(server.count(), 2);
}

#[test]
fn rate_limit_with_retry_after_and_server_errors_are_retried_then_live() {
    let first_answers = [
        || Reply::Answer {
            status: 429,
            headers: vec![("Retry-After", "1".to_string())],
            body: String::new(),
        },
        || answer(500, "oops"),
    ];
    for (seed, first) in (7..).zip(first_answers) {
        let key = fake_key(seed);
        let server = Server::start(move |_, nth| {
            if nth == 1 {
                first()
            } else {
                answer(200, &live_body())
            }
        });
        let tree = tree_with(&[&key]);
        let (v, _) = json_report(&mut verify_cmd(&tree, &server.base()));
        assert_eq!(statuses(&v), vec!["live"]);
        assert_eq!(server.count(), 2);
    }
}

#[test]
fn lasting_server_errors_give_unknown_after_three_tries() {
    let key = fake_key(9);
    let server = Server::start(|_, _| answer(503, ""));
    let tree = tree_with(&[&key]);
    let (v, out) = json_report(&mut verify_cmd(&tree, &server.base()));
    assert_eq!(
        verifications(&v),
        vec![json!({
            "status": "unknown",
            "http_status": 503,
            "reason": "server_error",
            "detail": "after 3 tries"
        })]
    );
    assert_eq!(server.count(), 3);
    assert_eq!(code(&out), 1);
}

#[test]
fn lasting_rate_limit_gives_unknown_rate_limit() {
    let key = fake_key(10);
    let server = Server::start(|_, _| Reply::Answer {
        status: 429,
        headers: vec![("Retry-After", "0".to_string())],
        body: String::new(),
    });
    let tree = tree_with(&[&key]);
    let (v, _) = json_report(&mut verify_cmd(&tree, &server.base()));
    assert_eq!(verifications(&v)[0]["reason"], "rate_limit");
    assert_eq!(verifications(&v)[0]["http_status"], 429);
    assert_eq!(server.count(), 3);
}

#[test]
fn retry_after_beyond_the_deadline_gives_up_without_waiting() {
    for wait in ["3600", "18446744073709551615"] {
        let key = fake_key(11);
        let server = Server::start(move |_, _| Reply::Answer {
            status: 429,
            headers: vec![("Retry-After", wait.to_string())],
            body: String::new(),
        });
        let tree = tree_with(&[&key]);
        let (v, out) =
            json_report(verify_cmd(&tree, &server.base()).args(["--verify-timeout", "5"]));
        assert_eq!(
            verifications(&v)[0]["status"],
            "unknown",
            "{}",
            stderr(&out)
        );
        assert_eq!(verifications(&v)[0]["reason"], "rate_limit");
        assert_eq!(server.count(), 1);
    }
}

#[test]
fn a_server_that_never_answers_gives_unknown_timeout() {
    let keys = [fake_key(12), fake_key(13)];
    let server = Server::start(|_, _| Reply::Hang);
    let tree = tree_with(&[&keys[0], &keys[1]]);
    let (v, out) = json_report(verify_cmd(&tree, &server.base()).args(["--verify-timeout", "2"]));
    assert_eq!(
        verifications(&v),
        vec![
            json!({"status": "unknown", "reason": "timeout"}),
            json!({"status": "unknown", "reason": "timeout"})
        ]
    );
    assert_eq!(code(&out), 1);
    assert!(server.count() >= 1);
    // Unknown is not live: CI that blocks on live keys only passes.
    let out = run_watched(verify_cmd(&tree, &server.base()).args([
        "--verify-timeout",
        "1",
        "--fail-on",
        "live",
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn a_200_that_is_not_json_is_unknown() {
    let key = fake_key(14);
    let server = Server::start(|_, _| answer(200, "<html>welcome</html>"));
    let tree = tree_with(&[&key]);
    let (v, _) = json_report(&mut verify_cmd(&tree, &server.base()));
    assert_eq!(
        verifications(&v),
        vec![json!({
            "status": "unknown",
            "http_status": 200,
            "reason": "unexpected_answer",
            "detail": "the body is not JSON"
        })]
    );
    assert_eq!(server.count(), 1);
}

#[test]
fn a_redirect_is_not_followed_and_the_key_never_arrives_elsewhere() {
    let key = fake_key(15);
    let elsewhere = Server::start(|_, _| answer(200, &live_body()));
    let target = format!("http://127.0.0.1:{}/v1/me", elsewhere.port);
    let server = Server::start(move |_, _| Reply::Answer {
        status: 302,
        headers: vec![("Location", target.clone())],
        body: String::new(),
    });
    let tree = tree_with(&[&key]);
    let (v, _) = json_report(&mut verify_cmd(&tree, &server.base()));
    assert_eq!(
        verifications(&v),
        vec![json!({
            "status": "unknown",
            "http_status": 302,
            "reason": "unexpected_answer",
            "detail": "redirect not followed"
        })]
    );
    assert_eq!(server.count(), 1);
    assert_eq!(elsewhere.count(), 0);
}

#[test]
fn connection_refused_is_unknown_network_error() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let key = fake_key(16);
    let tree = tree_with(&[&key]);
    let base = format!("http://127.0.0.1:{port}/v1");
    let (v, out) = json_report(&mut verify_cmd(&tree, &base));
    assert_eq!(
        verifications(&v),
        vec![json!({
            "status": "unknown",
            "reason": "network_error",
            "detail": "connection refused"
        })]
    );
    assert_eq!(code(&out), 1);
    let out = run_watched(verify_cmd(&tree, &base).args(["--no-timing", "--color", "never"]));
    assert!(
        stdout(&out).contains("= verification: unknown: network error (connection refused)\n"),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("verified 1 key: 0 live, 0 revoked or invalid, 1 unknown"));
}

#[test]
fn concurrency_never_exceeds_the_bound() {
    let keys: Vec<String> = (100..112).map(fake_key).collect();
    let server = Server::start(|_, _| {
        thread::sleep(Duration::from_millis(200));
        answer(401, "")
    });
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let tree = tree_with(&refs);
    let (v, _) = json_report(verify_cmd(&tree, &server.base()).args(["--verify-concurrency", "3"]));
    assert_eq!(statuses(&v), vec!["invalid"; 12]);
    assert_eq!(server.count(), 12);
    let max = server.max_in_flight.load(Ordering::SeqCst);
    assert!((2..=3).contains(&max), "max in flight {max}");
}

#[test]
fn default_concurrency_is_at_most_four() {
    let keys: Vec<String> = (200..210).map(fake_key).collect();
    let server = Server::start(|_, _| {
        thread::sleep(Duration::from_millis(150));
        answer(401, "")
    });
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let tree = tree_with(&refs);
    let (v, _) = json_report(&mut verify_cmd(&tree, &server.base()));
    assert_eq!(statuses(&v), vec!["invalid"; 10]);
    let max = server.max_in_flight.load(Ordering::SeqCst);
    assert!((2..=4).contains(&max), "max in flight {max}");
}

#[test]
fn cleartext_to_a_remote_host_is_refused_before_any_request() {
    // Were a request made, it would go through this local proxy (never to the internet).
    let proxy = Server::start(|_, _| answer(502, ""));
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    let key = fake_key(17);
    let tree = tree_with(&[&key]);
    for base in [
        "http://backend.leadey.invalid/v1",
        "http://10.1.2.3:8080/v1",
    ] {
        let mut cmd = verify_cmd(&tree, base);
        cmd.env("HTTP_PROXY", &proxy_url)
            .env("http_proxy", &proxy_url)
            .env("ALL_PROXY", &proxy_url);
        let out = run_watched(&mut cmd);
        assert_eq!(code(&out), 2);
        assert_eq!(stdout(&out), "", "no report is written");
        let err = stderr(&out);
        assert!(
            err.contains("refusing to send keys in clear text")
                && err.contains("http:// is allowed only for loopback hosts"),
            "{err}"
        );
    }
    // The same refusal when the base comes from the environment.
    let mut cmd = tree.cmd();
    without_proxies(&mut cmd)
        .env("LEADEY_API_BASE", "http://backend.leadey.invalid/v1")
        .env("HTTP_PROXY", &proxy_url)
        .args([".", "--verify"]);
    let out = run_watched(&mut cmd);
    assert_eq!(code(&out), 2);
    assert_eq!(proxy.count(), 0);
}

#[test]
fn without_verify_the_api_is_never_contacted() {
    let server = Server::start(|_, _| answer(200, &live_body()));
    let key = fake_key(18);
    let tree = tree_with(&[&key]);
    let mut cmd = tree.cmd();
    cmd.env("LEADEY_API_BASE", server.base())
        .args([".", "--api-base", &server.base()]);
    let (v, out) = json_report(&mut cmd);
    assert_eq!(code(&out), 1);
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    assert_eq!(v["findings"][0].get("verification"), None);
    assert_eq!(server.count(), 0);
    // A base that --verify would refuse is no error when --verify is not given.
    let mut cmd = tree.cmd();
    cmd.env("LEADEY_API_BASE", "http://remote.invalid/v1")
        .arg(".");
    assert_eq!(code(&run_watched(&mut cmd)), 1);
}

#[test]
fn fail_on_live_passes_revoked_keys_and_fails_live_ones() {
    let (live, revoked) = (fake_key(19), fake_key(20));
    let server = live_only(&live);
    let only_revoked = tree_with(&[&revoked]);
    let (v, out) =
        json_report(verify_cmd(&only_revoked, &server.base()).args(["--fail-on", "live"]));
    assert_eq!(code(&out), 0);
    assert_eq!(statuses(&v), vec!["invalid"], "every finding is reported");
    let both = tree_with(&[&live, &revoked]);
    let out = run_watched(verify_cmd(&both, &server.base()).args(["--fail-on", "live"]));
    assert_eq!(code(&out), 1);
    // live-or-unknown: revoked passes, live fails.
    let out = run_watched(
        verify_cmd(&only_revoked, &server.base()).args(["--fail-on", "live-or-unknown"]),
    );
    assert_eq!(code(&out), 0);
    let out = run_watched(verify_cmd(&both, &server.base()).args(["--fail-on", "live-or-unknown"]));
    assert_eq!(code(&out), 1);
}

#[test]
fn fail_on_live_or_unknown_fails_on_unknown() {
    let server = Server::start(|_, _| answer(404, "not here"));
    let tree = tree_with(&[&fake_key(21)]);
    let (v, out) =
        json_report(verify_cmd(&tree, &server.base()).args(["--fail-on", "live-or-unknown"]));
    assert_eq!(verifications(&v)[0]["reason"], "unexpected_answer");
    assert_eq!(verifications(&v)[0]["http_status"], 404);
    assert_eq!(code(&out), 1);
    let out = run_watched(verify_cmd(&tree, &server.base()).args(["--fail-on", "live"]));
    assert_eq!(code(&out), 0);
}

#[test]
fn fail_on_live_with_an_error_and_no_failing_key_exits_2() {
    let server = Server::start(|_, _| answer(401, ""));
    let tree = tree_with(&[&fake_key(22)]);
    let mut cmd = verify_cmd(&tree, &server.base());
    cmd.args(["does-not-exist", "--fail-on", "live"]);
    let (v, out) = json_report(&mut cmd);
    assert_eq!(statuses(&v), vec!["invalid"]);
    assert_eq!(v["errors"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(code(&out), 2);
}

#[test]
fn fail_on_other_than_any_needs_verify() {
    let tree = tree_with(&[&fake_key(23)]);
    for which in ["live", "live-or-unknown"] {
        let out = run_watched(tree.cmd().args([".", "--fail-on", which]));
        assert_eq!(code(&out), 2, "{which}");
        assert!(stderr(&out).contains("--verify"), "{}", stderr(&out));
    }
}

#[test]
fn a_key_echoed_by_the_api_is_masked_in_every_format() {
    let key = fake_key(24);
    let body = json!({"data": {"key": key, "organization": {"name": format!("org of {key}")}}})
        .to_string();
    let server = Server::start(move |_, _| answer(200, &body));
    let tree = tree_with(&[&key]);
    let (v, out) = json_report(&mut verify_cmd(&tree, &server.base()));
    let ver = &verifications(&v)[0];
    assert_eq!(ver["data"]["key"], masked(&key));
    assert_eq!(
        ver["organization"]["name"],
        format!("org of {}", masked(&key))
    );
    assert_no_full_key(&out, &[&key]);
    let out = run_watched(verify_cmd(&tree, &server.base()).args(["--color", "never"]));
    assert_no_full_key(&out, &[&key]);
}

#[test]
fn keys_of_other_rules_are_never_sent() {
    let server = Server::start(|_, _| answer(200, &live_body()));
    let tree = Tree::new();
    let rules = "[[rule]]\nid = \"acme-token\"\ntitle = \"Acme token\"\nprefix = \"acme_tok_\"\n\
                 body_chars = \"A-Za-z0-9\"\nbody_min_len = 20\nbody_max_len = 40\n\
                 min_entropy = 3.0\nseverity = \"high\"\nremediation = \"Rotate it.\"\n";
    tree.write("acme.toml", rules);
    tree.write("a.txt", "token = acme_tok_Q7fLp2Zx9TmVb4KcR8sNd3Wy\n");
    let mut cmd = verify_cmd(&tree, &server.base());
    cmd.args(["--rules", "acme.toml", "--exclude", "acme.toml"]);
    let (v, out) = json_report(&mut cmd);
    assert_eq!(
        v["findings"][0]["rule_id"],
        "acme-token",
        "{}",
        stderr(&out)
    );
    assert_eq!(v["findings"][0].get("verification"), None);
    assert_eq!(server.count(), 0);
}

#[test]
fn proxies_from_the_environment_are_honoured() {
    // The proxy refuses the tunnel, so the key (which would travel inside TLS) never leaves.
    let proxy = Server::start(|_, _| answer(403, ""));
    let key = fake_key(25);
    let tree = tree_with(&[&key]);
    let mut cmd = verify_cmd(&tree, "https://127.0.0.1:9/v1");
    cmd.env("HTTPS_PROXY", format!("http://127.0.0.1:{}", proxy.port));
    let (v, _) = json_report(&mut cmd);
    assert_eq!(verifications(&v)[0]["status"], "unknown");
    assert_eq!(verifications(&v)[0]["reason"], "network_error");
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        (requests[0].method.as_str(), requests[0].target.as_str()),
        ("CONNECT", "127.0.0.1:9")
    );
    assert!(!requests[0].head.contains(&key));
}

#[test]
fn no_findings_means_no_request() {
    let server = Server::start(|_, _| answer(200, &live_body()));
    let tree = Tree::new();
    tree.write("clean.txt", "nothing to see\n");
    let out = run_watched(&mut verify_cmd(&tree, &server.base()));
    assert_eq!(code(&out), 0);
    assert_eq!(server.count(), 0);
    assert!(!stderr(&out).contains("verifying"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------------
// #20: verification says what it learned.

#[test]
fn a_refused_key_is_low_and_says_remove_it_not_revoke_it_in_every_format() {
    let revoked = fake_key(40);
    let server = Server::start(|_, _| answer(401, r#"{"error":"unauthorized"}"#));
    let tree = tree_with(&[&revoked]);
    let out =
        run_watched(verify_cmd(&tree, &server.base()).args(["--no-timing", "--color", "never"]));
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!(
            "low[leadey-api-key]: Leadey API key {}\n",
            masked(&revoked)
        )),
        "{text}"
    );
    assert!(
        text.contains(
            "= verification: does not work: refused by the API (HTTP 401), revoked or never valid\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("= help: the Leadey API refused this key (HTTP 401): it is revoked or was never valid, so there is nothing to revoke; remove it from the code and from the git history\n"),
        "{text}"
    );
    assert!(!text.contains("Revoke the key now"), "{text}");

    let (v, _) = json_report(&mut verify_cmd(&tree, &server.base()));
    assert_eq!(v["findings"][0]["severity"], "low");

    let out = run_watched(verify_cmd(&tree, &server.base()).args(["--format", "sarif"]));
    let log: Value = common::stdout_json(&out);
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["level"], "note", "{result:#}");
    let message = result["message"]["text"].as_str().unwrap();
    assert!(
        message.contains("Remove it from the code and from the git history"),
        "{message}"
    );
    assert!(!message.contains("Revoke and rotate"), "{message}");

    let out = run_watched(verify_cmd(&tree, &server.base()).args(["--format", "short"]));
    let text = stdout(&out);
    assert!(
        text.contains(" [invalid]\nhelp[invalid]: the Leadey API refused"),
        "{text}"
    );
    assert!(!text.contains("help[leadey-api-key]"), "{text}");
    assert_eq!(
        code(&out),
        1,
        "--fail-on any still fails on a dead key in the code"
    );
}

#[test]
fn a_live_key_stays_critical_and_names_the_key_the_api_returned() {
    let live = fake_key(41);
    let body = json!({"data": {
        "api_key": {"id": "key_7", "name": "CI deploy\u{1b}[2J"},
        "organization": {"id": "org_42", "name": "Acme Corp"}
    }})
    .to_string();
    let server = Server::start(move |_, _| answer(200, &body));
    let tree = tree_with(&[&live]);
    let out =
        run_watched(verify_cmd(&tree, &server.base()).args(["--no-timing", "--color", "never"]));
    let text = stdout(&out);
    assert!(text.starts_with("critical[leadey-api-key]"), "{text}");
    assert!(
        text.contains(
            "= verification: LIVE, key CI deploy\\u{1b}[2J (id key_7), organization Acme Corp (id org_42)\n"
        ),
        "{text}"
    );
    let (v, _) = json_report(&mut verify_cmd(&tree, &server.base()));
    assert_eq!(
        v["findings"][0]["verification"]["api_key"],
        json!({"id": "key_7", "name": "CI deploy\u{1b}[2J"})
    );
    assert_eq!(v["findings"][0]["severity"], "critical");
}

#[test]
fn the_summary_counts_distinct_keys_as_well_as_places() {
    let (live, revoked) = (fake_key(42), fake_key(43));
    let server = live_only(&live);
    // One live key in two files, one refused key in one.
    let tree = tree_with(&[&live, &live, &revoked]);
    let out = run_watched(verify_cmd(&tree, &server.base()).args(["--no-timing"]));
    let err = stderr(&out);
    assert!(
        err.contains(
            "leadey-scan: 3 findings of 2 keys in 3 files; scanned 3 files (189 B); 0 skipped; \
             0 errors; verified 2 keys: 1 live (2 findings), 1 revoked or invalid, 0 unknown\n"
        ),
        "{err}"
    );
    let (v, _) = json_report(&mut verify_cmd(&tree, &server.base()));
    assert_eq!(
        v["stats"]["verified"],
        json!({
            "live": {"keys": 1, "findings": 2},
            "invalid": {"keys": 1, "findings": 1},
            "unknown": {"keys": 0, "findings": 0}
        })
    );
    assert_eq!(v["stats"]["keys"], 2);
    assert_eq!(
        server.count(),
        4,
        "each distinct key is sent once a run (two runs)"
    );
}

#[test]
fn a_base_without_v1_gets_a_hint_on_404() {
    let key = fake_key(44);
    let server = Server::start(|r, _| {
        if r.target == "/v1/me" {
            answer(200, &live_body())
        } else {
            answer(404, r#"{"error":"not found"}"#)
        }
    });
    let tree = tree_with(&[&key]);
    let bare = format!("http://127.0.0.1:{}", server.port);
    let out = run_watched(verify_cmd(&tree, &bare).args(["--no-timing", "--color", "never"]));
    let text = stdout(&out);
    assert!(
        text.contains(
            "= verification: unknown: unexpected answer (HTTP 404, no such endpoint: the API base \
             has no version; did you mean one ending in /v1 (https://backend.leadey.ai/v1)?)\n"
        ),
        "{text}"
    );
    let (v, _) = json_report(&mut verify_cmd(&tree, &server.base()));
    assert_eq!(statuses(&v), vec!["live"]);
}
