//! Unit tests of `github` (#23: kept apart so that no source file passes 900 lines).
use super::*;
use serde_json::json;

/// A checkout: (name or id, full id, parents) rows; names are ref names or short ids.
struct Fake {
    commits: Vec<(&'static str, &'static str, Vec<&'static str>)>,
    shallow: bool,
}

impl RepoFacts for Fake {
    fn is_repository(&self) -> bool {
        true
    }
    fn commit(&self, rev: &str) -> Option<String> {
        self.commits
            .iter()
            .find(|(name, id, _)| *name == rev || *id == rev)
            .map(|(_, id, _)| id.to_string())
    }
    fn parents(&self, id: &str) -> Option<Vec<String>> {
        self.commits
            .iter()
            .find(|(_, i, _)| *i == id)
            .map(|(_, _, p)| p.iter().map(|s| s.to_string()).collect())
    }
    fn is_shallow(&self) -> bool {
        self.shallow
    }
}

const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const C: &str = "cccccccccccccccccccccccccccccccccccccccc";
const M: &str = "1111111111111111111111111111111111111111";

/// main at M; a feature branch A <- B <- C on top of M.
fn repo() -> Fake {
    Fake {
        commits: vec![
            ("refs/remotes/origin/main", M, vec![]),
            (A, A, vec![M]),
            (B, B, vec![A]),
            (C, C, vec![B]),
        ],
        shallow: false,
    }
}

fn range(tips: &[&str], hide: &[&str], except: Option<&[&str]>) -> CommitRange {
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    CommitRange {
        tips: v(tips),
        hide: v(hide),
        hide_refs_except: except.map(v),
    }
}

fn push(before: &str, after: &str, extra: Value) -> Value {
    let mut ev = json!({"ref": "refs/heads/feature", "before": before, "after": after,
                        "repository": {"default_branch": "main"}});
    for (k, v) in extra.as_object().unwrap() {
        ev[k] = v.clone();
    }
    ev
}

fn commits_of(p: &Plan) -> (&CommitRange, Option<&str>) {
    match p {
        Plan::Commits { range, notice, .. } => (range, notice.as_deref()),
        other => panic!("not a commit plan: {other:?}"),
    }
}

#[test]
fn pull_request_scans_base_to_head_and_a_missing_commit_is_an_error() {
    let ev = json!({"number": 7, "pull_request": {"base": {"sha": M}, "head": {"sha": C}}});
    let p = plan("pull_request", &ev, &repo()).unwrap();
    assert_eq!(commits_of(&p), (&range(&[C], &[M], None), None));
    assert_eq!(
        p.describe(),
        "the commits reachable from ccccccc and not from 1111111 (pull_request #7: the \
         commits it adds)"
    );
    assert_eq!(p.sarif_category(), Some("leadey-scan/pull-request"));
    let err = plan("pull_request", &json!({}), &repo()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the pull_request event has no `pull_request.base.sha`"
    );
    // The fetch-depth advice only where a commit is missing because the clone is shallow.
    let ev = json!({"pull_request": {"base": {"sha": "f00"}, "head": {"sha": C}}});
    let err = plan("pull_request", &ev, &repo()).unwrap_err().to_string();
    assert_eq!(err, "the base commit f00 is not in the clone");
    let shallow = Fake {
        shallow: true,
        ..repo()
    };
    let err = plan("pull_request", &ev, &shallow).unwrap_err().to_string();
    assert!(err.ends_with("the checkout is shallow; set `fetch-depth: 0` on actions/checkout so that the whole history is fetched"), "{err}");
    let ev = json!({"pull_request": {"base": {"sha": M}, "head": {"sha": "f00"}}});
    let err = plan("pull_request_target", &ev, &repo())
        .unwrap_err()
        .to_string();
    assert!(err.contains("refs/pull/<number>/head"), "{err}");
}

#[test]
fn merge_group_scans_its_base_to_its_head() {
    let ev = json!({"merge_group": {"base_sha": M, "head_sha": B}});
    let p = plan("merge_group", &ev, &repo()).unwrap();
    assert_eq!(commits_of(&p).0, &range(&[B], &[M], None));
}

#[test]
fn a_push_with_its_before_in_the_clone_scans_before_to_after() {
    let p = plan("push", &push(A, C, json!({})), &repo()).unwrap();
    assert_eq!(commits_of(&p), (&range(&[C], &[A], None), None));
    assert_eq!(p.sarif_category(), None, "a push's analysis is partial");
    // A force push whose old tip is still there: what GitHub's compare lists.
    let p = plan("push", &push(B, A, json!({"forced": true})), &repo()).unwrap();
    assert_eq!(commits_of(&p).0, &range(&[A], &[B], None));
    assert!(
        p.describe().contains("force push to feature"),
        "{}",
        p.describe()
    );
}

#[test]
fn the_first_push_of_the_default_branch_scans_all_of_its_history() {
    let ev = push(ZERO_SHA, C, json!({"ref": "refs/heads/main"}));
    let p = plan("push", &ev, &repo()).unwrap();
    assert_eq!(commits_of(&p), (&range(&[C], &[], None), None));
    assert!(p
        .describe()
        .contains("first push of the default branch main"));
}

#[test]
fn a_new_branch_scans_its_commits_not_on_the_default_branch() {
    let p = plan("push", &push(ZERO_SHA, C, json!({})), &repo()).unwrap();
    assert_eq!(
        commits_of(&p),
        (&range(&[C], &["refs/remotes/origin/main"], None), None)
    );
    // No default branch in the clone: what no other ref reaches, with a notice.
    let mut r = repo();
    r.commits.remove(0);
    let p = plan("push", &push(ZERO_SHA, C, json!({})), &r).unwrap();
    let (got, notice) = commits_of(&p);
    assert_eq!(
        got,
        &range(
            &[C],
            &[],
            Some(&["refs/heads/feature", "refs/remotes/origin/feature"])
        )
    );
    assert_eq!(
        notice,
        Some(
            "the default branch main is not in the clone: scanning every commit of \
             ccccccc that no other branch or tag reaches"
        )
    );
}

#[test]
fn a_push_whose_before_is_gone_scans_the_commits_the_event_lists() {
    let listed = json!({"forced": true, "commits": [{"id": B}, {"id": C}]});
    let p = plan("push", &push("dead", C, listed), &repo()).unwrap();
    let (got, notice) = commits_of(&p);
    assert_eq!(got, &range(&[B, C], &[A], None));
    assert_eq!(
        notice,
        Some("force push to feature, whose previous tip dead is not in the clone: scanning the 2 commits the event lists")
    );
    // Not listed (or listed in part, or a commit the clone lacks): every commit of
    // `after` that no other branch or tag reaches.
    let unreached = range(
        &[C],
        &[],
        Some(&["refs/heads/feature", "refs/remotes/origin/feature"]),
    );
    let many: Vec<Value> = (0..MAX_EVENT_COMMITS).map(|_| json!({"id": C})).collect();
    for commits in [json!([]), json!(many), json!([{"id": "f00"}]), Value::Null] {
        let ev = push("dead", C, json!({ "forced": true, "commits": commits }));
        let p = plan("push", &ev, &repo()).unwrap();
        let (got, notice) = commits_of(&p);
        assert_eq!(got, &unreached);
        assert!(notice.unwrap().contains("no other branch or tag"));
    }
    // A shallow clone says so, once, in the notice.
    let shallow = Fake {
        shallow: true,
        ..repo()
    };
    let p = plan("push", &push("dead", C, json!({})), &shallow).unwrap();
    assert!(commits_of(&p).1.unwrap().contains("fetch-depth: 0"));
}

#[test]
fn tags_and_releases_scan_the_tree_in_release_mode() {
    let ev = push(ZERO_SHA, C, json!({"ref": "refs/tags/v1.2.0"}));
    let p = plan("push", &ev, &repo()).unwrap();
    assert_eq!(
        p,
        Plan::Tree {
            release: true,
            why: "tag push v1.2.0: what ships, in release mode".into()
        }
    );
    assert_eq!(p.sarif_category(), Some("leadey-scan/tree"));
    let ev = json!({"action": "published", "release": {"tag_name": "v1.2.0"}});
    assert!(matches!(
        plan("release", &ev, &repo()).unwrap(),
        Plan::Tree { release: true, .. }
    ));
}

#[test]
fn deletions_scan_nothing_and_other_events_the_tree() {
    let ev = push(C, ZERO_SHA, json!({"deleted": true}));
    assert_eq!(
        plan("push", &ev, &repo()).unwrap(),
        Plan::Nothing("the push deleted refs/heads/feature".into())
    );
    for name in ["schedule", "workflow_dispatch", "issue_comment"] {
        assert!(matches!(
            plan(name, &Value::Null, &repo()).unwrap(),
            Plan::Tree { release: false, .. }
        ));
    }
}

#[test]
fn workflow_command_values_are_escaped() {
    assert_eq!(escape_property("a,b:c%\n"), "a%2Cb%3Ac%25%0A");
    assert_eq!(escape_data("50%\r\n"), "50%25%0D%0A");
    assert_eq!(cell("a|b`c\nd"), "a\\|b'c d");
    assert_eq!(notice("50%\nx"), "::notice title=leadey-scan::50%25%0Ax\n");
}
