//! Git scopes (#5): `--staged`, `--since`, `--range`, `--history`, on real repositories built
//! with the git CLI in temp dirs (identity, dates and config pinned, so a fresh CI machine works).

use crate::common;

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{code, fake_key, masked, stderr, stdout, Tree};
use leadey_scan::config::{CommitRange, GitScope, ScanConfig};
use leadey_scan::report::Report;
use serde_json::Value;

/// A git repository in a temp dir (or a folder of it), with commit dates that advance one
/// minute per commit.
struct Repo {
    tree: Tree,
    /// The work tree: the temp dir, or a folder of it.
    dir: PathBuf,
    clock: Cell<u64>,
}

impl Repo {
    fn new() -> Repo {
        Repo::in_folder(Tree::new(), "")
    }

    /// A repository in folder `rel` of `tree` (the temp dir itself when `rel` is empty).
    fn in_folder(tree: Tree, rel: &str) -> Repo {
        let dir = tree.join(rel);
        std::fs::create_dir_all(&dir).expect("create the repository folder");
        let repo = Repo {
            tree,
            dir,
            clock: Cell::new(1_700_000_000),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    fn path(&self) -> &Path {
        &self.dir
    }

    fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Repo {
        let p = self.dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&p, contents).expect("write file");
        self
    }

    /// Runs git in the repository; panics on failure. Returns stdout, trimmed.
    fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args, self.clock.get())
    }

    /// Stages everything and commits with `message`; returns the commit id.
    fn commit(&self, message: &str) -> String {
        self.clock.set(self.clock.get() + 60);
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// The binary, run in the repository with a clean git environment.
    fn scan(&self, args: &[&str]) -> Output {
        scan_in(self.path(), args)
    }

    /// `scan` with `--format json`: the parsed report and the output.
    fn json(&self, args: &[&str]) -> (Value, Output) {
        let mut all = args.to_vec();
        all.extend(["--format", "json", "--no-timing"]);
        let out = self.scan(&all);
        let v = common::stdout_json(&out);
        (v, out)
    }
}

/// Pins git's identity, dates and configuration so results do not depend on the machine.
fn git_env(cmd: &mut Command, epoch: u64) {
    let date = format!("{epoch} +0000");
    common::git_env(cmd)
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date);
}

fn git_in(dir: &Path, args: &[&str], epoch: u64) -> String {
    let mut cmd = Command::new("git");
    cmd.args(["-c", "commit.gpgsign=false", "-c", "core.autocrlf=false"])
        .args(args)
        .current_dir(dir);
    git_env(&mut cmd, epoch);
    let out = cmd.output().expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn scan_in(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = common::bin();
    cmd.args(args).current_dir(dir);
    git_env(&mut cmd, 0);
    cmd.output().expect("run leadey-scan")
}

fn findings(v: &Value) -> &Vec<Value> {
    v["findings"].as_array().expect("findings array")
}

/// (path, line) of every finding.
fn places(v: &Value) -> Vec<(String, u64)> {
    findings(v)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// --staged

#[test]
fn staged_key_that_is_not_committed_is_found() {
    let key = fake_key(1);
    let repo = Repo::new();
    repo.write("README.md", "hello\n").commit("init");
    repo.write("config/app.env", format!("NAME=x\nLEADEY_KEY={key}\n"));
    repo.git(&["add", "config/app.env"]);
    let (v, out) = repo.json(&["--staged"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(places(&v), vec![("config/app.env".to_string(), 2)]);
    let f = &findings(&v)[0];
    assert_eq!(f["masked_key"], masked(&key));
    assert_eq!(f["column"], 12);
    assert!(f.get("commit").is_none(), "a staged key has no commit yet");
    assert!(f.get("present_at_head").is_none());
    assert!(!stdout(&out).contains(&key));
}

#[test]
fn key_in_an_unstaged_edit_only_is_not_found_by_staged() {
    let key = fake_key(2);
    let repo = Repo::new();
    repo.write("app.py", "x = 1\n").commit("init");
    repo.write("app.py", format!("x = 1\nkey = '{key}'\n"));
    let (v, out) = repo.json(&["--staged"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(findings(&v).is_empty());
    // The working tree scan does see it: the scope, not the detector, leaves it out.
    assert_eq!(code(&repo.scan(&["-q"])), 1);
}

#[test]
fn unstaged_removal_does_not_hide_a_staged_key() {
    let key = fake_key(3);
    let repo = Repo::new();
    repo.write("a.txt", "a\n").commit("init");
    repo.write("a.txt", format!("a\n{key}\n"));
    repo.git(&["add", "a.txt"]);
    repo.write("a.txt", "a\n");
    let (v, out) = repo.json(&["--staged"]);
    assert_eq!(code(&out), 1);
    assert_eq!(places(&v), vec![("a.txt".to_string(), 2)]);
}

#[test]
fn staged_change_reports_only_the_lines_it_adds() {
    let old = fake_key(4);
    let new = fake_key(5);
    let repo = Repo::new();
    repo.write("keys.txt", format!("first {old}\nsecond\n"))
        .commit("old key");
    repo.write("keys.txt", format!("first {old}\nsecond\nthird {new}\n"));
    repo.git(&["add", "keys.txt"]);
    let (v, _) = repo.json(&["--staged"]);
    assert_eq!(places(&v), vec![("keys.txt".to_string(), 3)]);
    assert_eq!(findings(&v)[0]["masked_key"], masked(&new));
}

#[test]
fn staged_rename_of_a_committed_key_adds_nothing() {
    let key = fake_key(6);
    let repo = Repo::new();
    let body: String = (0..10).map(|i| format!("line {i}\n")).collect();
    repo.write("old/name.txt", format!("{body}{key}\n"))
        .commit("key");
    repo.git(&["mv", "old/name.txt", "new.txt"]);
    let (v, out) = repo.json(&["--staged"]);
    assert_eq!(code(&out), 0, "{v}");
    // Renamed and edited (still mostly the same file): only the edit counts.
    repo.write("new.txt", format!("{body}{key}\nmore\n"));
    repo.git(&["add", "new.txt"]);
    let (v, out) = repo.json(&["--staged"]);
    assert_eq!(code(&out), 0, "{v}");
}

#[test]
fn staged_in_a_repository_without_commits_reports_every_staged_key() {
    let key = fake_key(7);
    let repo = Repo::new();
    repo.write(
        "src/deep/er/main.rs",
        format!("const K: &str = \"{key}\";\n"),
    );
    repo.git(&["add", "."]);
    let (v, out) = repo.json(&["--staged"]);
    assert_eq!(code(&out), 1);
    assert_eq!(places(&v), vec![("src/deep/er/main.rs".to_string(), 1)]);
}

#[test]
fn staged_scans_the_whole_index_from_a_subfolder_and_shows_paths_from_there() {
    // #20: the paths are shown from the current directory (they were repository-relative);
    // the origin keeps the repository path, which fingerprints use.
    let key = fake_key(8);
    let repo = Repo::new();
    repo.write("a/b/readme", "x\n").commit("init");
    repo.write("a/b/c.txt", format!("{key}\n"));
    repo.write("top.txt", format!("{key}\n"));
    repo.git(&["add", "."]);
    let out = scan_in(&repo.path().join("a/b"), &["--staged", "--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        places(&v),
        vec![("../../top.txt".to_string(), 1), ("c.txt".to_string(), 1)]
    );
    assert_eq!(findings(&v)[1]["origin"]["path"], "a/b/c.txt");
}

#[test]
fn staged_reads_the_index_git_names_in_git_index_file() {
    // `git commit -a` runs hooks on a temporary index named by GIT_INDEX_FILE.
    let key = fake_key(9);
    let repo = Repo::new();
    repo.write("a.txt", "a\n").commit("init");
    repo.write("a.txt", format!("a\n{key}\n"));
    let alt = repo.path().join(".git/alt-index");
    std::fs::copy(repo.path().join(".git/index"), &alt).unwrap();
    let mut add = Command::new("git");
    add.args(["add", "a.txt"]).current_dir(repo.path());
    git_env(&mut add, 0);
    assert!(add.env("GIT_INDEX_FILE", &alt).status().unwrap().success());
    assert_eq!(
        code(&repo.scan(&["--staged", "-q"])),
        0,
        "the real index is clean"
    );
    let mut cmd = common::bin();
    cmd.args(["--staged", "-q"]).current_dir(repo.path());
    git_env(&mut cmd, 0);
    let out = cmd.env("GIT_INDEX_FILE", &alt).output().unwrap();
    assert_eq!(code(&out), 1, "{}", stderr(&out));
}

#[test]
fn staged_key_in_a_binary_file_is_found() {
    let key = fake_key(10);
    let repo = Repo::new();
    repo.write("x", "x\n").commit("init");
    let mut blob = vec![0u8, 1, 2, 3, 0, 255];
    blob.extend_from_slice(format!("\0{key}\0").as_bytes());
    repo.write("assets/data.bin", &blob);
    repo.git(&["add", "."]);
    let (v, _) = repo.json(&["--staged"]);
    assert_eq!(findings(&v).len(), 1);
    assert_eq!(findings(&v)[0]["binary"], true);
    assert_eq!(findings(&v)[0]["byte_offset"], 7);
}

#[test]
fn staged_respects_exclude_globs() {
    let key = fake_key(11);
    let repo = Repo::new();
    repo.write("x", "x\n").commit("init");
    repo.write("fixtures/k.txt", format!("{key}\n"));
    repo.git(&["add", "."]);
    let (v, out) = repo.json(&["--staged", "--exclude", "fixtures"]);
    assert_eq!(code(&out), 0);
    assert_eq!(v["skipped"][0]["path"], "fixtures/k.txt");
    assert_eq!(v["skipped"][0]["reason"], "excluded");
}

// ---------------------------------------------------------------------------------------------
// --since / --range

#[test]
fn since_reports_each_added_key_with_the_commit_that_added_it() {
    let k1 = fake_key(20);
    let k2 = fake_key(21);
    let repo = Repo::new();
    repo.write("README", "r\n");
    let base = repo.commit("base");
    repo.write("a.txt", format!("{k1}\n"));
    let c1 = repo.commit("Add a\n\nThe body is not the summary.");
    repo.write("a.txt", format!("{k1}\nb = {k2}\n"));
    let c2 = repo.commit("Add b");
    let (v, out) = repo.json(&["--since", &base]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        places(&v),
        vec![("a.txt".to_string(), 1), ("a.txt".to_string(), 2)]
    );
    let f = findings(&v);
    assert_eq!(f[0]["commit"]["id"], c1.as_str());
    assert_eq!(f[0]["commit"]["summary"], "Add a");
    assert_eq!(f[0]["commit"]["author_name"], "Ada Lovelace");
    assert_eq!(f[0]["commit"]["author_email"], "ada@example.com");
    assert_eq!(f[0]["commit"]["date"], "2023-11-14T22:15:20+00:00");
    assert_eq!(f[1]["commit"]["id"], c2.as_str());
    assert!(f[0].get("present_at_head").is_none());
    // The same through --range, and a base that already has the first key.
    let (v, _) = repo.json(&["--range", &format!("{c1}..HEAD")]);
    assert_eq!(places(&v), vec![("a.txt".to_string(), 2)]);
    // Human output names the commit.
    let out = repo.scan(&["--since", &base]);
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "= commit {} Ada Lovelace <ada@example.com> 2023-11-14T22:15:20+00:00: Add a",
            &c1[..7]
        )),
        "{text}"
    );
}

#[test]
fn key_added_on_a_branch_and_merged_is_reported_once_with_the_branch_commit() {
    let key = fake_key(22);
    let repo = Repo::new();
    repo.write("main.txt", "m\n");
    let base = repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.write("topic.txt", format!("token: {key}\n"));
    let added = repo.commit("topic adds a key");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("main.txt", "m\nmore\n");
    repo.commit("main moves on");
    repo.git(&["merge", "-q", "--no-ff", "-m", "merge topic", "topic"]);
    let merge = repo.git(&["rev-parse", "HEAD"]);
    assert_ne!(merge, added);

    for args in [
        vec!["--since".to_string(), base.clone()],
        vec!["--range".to_string(), format!("{base}..main")],
        vec!["--history".to_string()],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (v, out) = repo.json(&args);
        assert_eq!(code(&out), 1, "{args:?}");
        assert_eq!(places(&v), vec![("topic.txt".to_string(), 1)], "{args:?}");
        assert_eq!(findings(&v)[0]["commit"]["id"], added.as_str(), "{args:?}");
    }
    // The merge alone (its first parent as base) adds the branch's lines: that is what merging
    // the branch brings to main, so it is reported there, attributed to the branch commit.
    let (v, _) = repo.json(&["--range", "HEAD^1..HEAD"]);
    assert_eq!(findings(&v).len(), 1);
    assert_eq!(findings(&v)[0]["commit"]["id"], added.as_str());
    // With the branch as base, the merge adds nothing new.
    let (v, out) = repo.json(&["--range", "topic..main"]);
    assert_eq!(code(&out), 0, "{v}");
}

#[test]
fn evil_merge_line_is_reported_with_the_merge_commit() {
    let key = fake_key(23);
    let repo = Repo::new();
    repo.write("a.txt", "a\n");
    let base = repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.write("b.txt", "b\n").commit("topic");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("c.txt", "c\n").commit("main");
    repo.git(&["merge", "-q", "--no-ff", "--no-commit", "topic"]);
    repo.write("a.txt", format!("a\n{key}\n"));
    let merge = repo.commit("merge with an extra line");
    let (v, _) = repo.json(&["--since", &base]);
    assert_eq!(places(&v), vec![("a.txt".to_string(), 2)]);
    assert_eq!(findings(&v)[0]["commit"]["id"], merge.as_str());
}

#[test]
fn range_that_adds_nothing_exits_clean() {
    let key = fake_key(24);
    let repo = Repo::new();
    repo.write("a.txt", format!("{key}\n"));
    let base = repo.commit("key");
    repo.write("b.txt", "no keys here\n").commit("docs");
    let (v, out) = repo.json(&["--range", &format!("{base}..HEAD")]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(findings(&v).is_empty());
    assert_eq!(v["stats"]["files_scanned"], 1);
}

#[test]
fn base_equal_to_head_exits_clean() {
    let key = fake_key(25);
    let repo = Repo::new();
    repo.write("a.txt", format!("{key}\n")).commit("key");
    for args in [
        ["--range", "HEAD..HEAD"],
        ["--since", "HEAD"],
        ["--range", "main.."],
    ] {
        let (v, out) = repo.json(&args);
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        assert!(findings(&v).is_empty());
        assert_eq!(v["stats"]["files_scanned"], 0);
    }
}

#[test]
fn renamed_file_in_a_range_adds_no_new_finding() {
    let key = fake_key(26);
    let repo = Repo::new();
    repo.write("README", "r\n");
    let base = repo.commit("base");
    repo.write("a.txt", format!("one\ntwo\n{key}\n"));
    let added = repo.commit("add");
    repo.git(&["mv", "a.txt", "b.txt"]);
    repo.commit("rename");
    let (v, _) = repo.json(&["--since", &base]);
    assert_eq!(places(&v), vec![("a.txt".to_string(), 3)]);
    assert_eq!(findings(&v)[0]["commit"]["id"], added.as_str());
}

#[test]
fn unknown_revision_or_bad_range_is_an_error() {
    let repo = Repo::new();
    repo.write("a", "a\n").commit("init");
    let out = repo.scan(&["--since", "no-such-branch"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("cannot resolve `no-such-branch`"),
        "{}",
        stderr(&out)
    );
    let out = repo.scan(&["--range", "main"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("use BASE..HEAD"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------------
// Commit sets (#20, #21): several tips, several hidden revisions, every ref but some hidden. No
// flag spells these yet (the Action and the push hooks build them), so the library runs them.

/// The scan of commit set `range` in `repo`, through the library.
fn scan_set(repo: &Repo, range: CommitRange) -> Result<Report, leadey_scan::scan::ScanError> {
    let config = ScanConfig {
        paths: vec![repo.path().to_path_buf()],
        git: Some(GitScope::Range(range)),
        ..ScanConfig::default()
    };
    leadey_scan::run(&config)
}

/// (masked key, commit id) of every finding of `report`, sorted.
fn keys_and_commits(report: &Report) -> Vec<(String, String)> {
    let mut v: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            let commit = f.commit.as_ref().map(|c| c.id.clone()).unwrap_or_default();
            (f.masked_key.clone(), commit)
        })
        .collect();
    v.sort();
    v
}

fn set(tips: &[&str], hide: &[&str], hide_refs_except: Option<&[&str]>) -> CommitRange {
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    CommitRange {
        tips: owned(tips),
        hide: owned(hide),
        hide_refs_except: hide_refs_except.map(owned),
    }
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

#[test]
fn commit_set_with_several_tips_scans_what_each_tip_adds() {
    let (k0, ka, kb) = (fake_key(90), fake_key(91), fake_key(92));
    let repo = Repo::new();
    repo.write("old.txt", format!("{k0}\n"));
    let base = repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "a"]);
    repo.write("a.txt", format!("{ka}\n"));
    let ca = repo.commit("a");
    repo.git(&["checkout", "-q", "-b", "b", "main"]);
    repo.write("b.txt", format!("{kb}\n"));
    let cb = repo.commit("b");
    let report = scan_set(&repo, set(&["a", &cb], &[&base], None)).unwrap();
    assert_eq!(
        keys_and_commits(&report),
        sorted(vec![(masked(&ka), ca.clone()), (masked(&kb), cb.clone())])
    );
    // The same tip twice is one tip; hiding nothing reaches the base commit too.
    let report = scan_set(&repo, set(&["a", "a"], &[], None)).unwrap();
    assert_eq!(
        keys_and_commits(&report),
        sorted(vec![(masked(&k0), base), (masked(&ka), ca)])
    );
}

#[test]
fn commit_set_hides_the_ancestry_of_every_hidden_revision() {
    let (km, ko, kt) = (fake_key(93), fake_key(94), fake_key(95));
    let repo = Repo::new();
    repo.write("README", "r\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.write("other.txt", format!("{ko}\n"));
    repo.commit("other");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("main.txt", format!("{km}\n"));
    repo.commit("main");
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.git(&["merge", "-q", "--no-edit", "other"]);
    repo.write("topic.txt", format!("{kt}\n"));
    let ct = repo.commit("topic");
    let report = scan_set(&repo, set(&["topic"], &["main", "other"], None)).unwrap();
    assert_eq!(keys_and_commits(&report), vec![(masked(&kt), ct)]);
    // Hiding one of them only: the other's key comes in through the merge's side branch.
    let report = scan_set(&repo, set(&["topic"], &["main"], None)).unwrap();
    let keys: Vec<_> = keys_and_commits(&report).into_iter().map(|k| k.0).collect();
    assert_eq!(keys, sorted_keys(&[&ko, &kt]));
}

fn sorted_keys(keys: &[&str]) -> Vec<String> {
    let mut v: Vec<_> = keys.iter().map(|k| masked(k)).collect();
    v.sort();
    v
}

#[test]
fn commit_set_can_hide_every_ref_but_the_pushed_one() {
    // A force push whose `before` is gone: scan what only the pushed branch reaches.
    let (km, k1, k2, kr) = (fake_key(96), fake_key(97), fake_key(98), fake_key(99));
    let repo = Repo::new();
    repo.write("main.txt", format!("{km}\n"));
    repo.commit("main");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("one.txt", format!("{k1}\n"));
    let c1 = repo.commit("one");
    repo.write("two.txt", format!("{k2}\n"));
    let c2 = repo.commit("two");
    // A tag reaches the first feature commit, a remote-tracking ref a commit of its own, and
    // an annotated tag of a tree (no commit) hides nothing.
    repo.git(&["tag", "v1", &c1]);
    repo.git(&["checkout", "-q", "-b", "remote", "main"]);
    repo.write("r.txt", format!("{kr}\n"));
    let cr = repo.commit("remote");
    repo.git(&["update-ref", "refs/remotes/origin/remote", &cr]);
    repo.git(&["checkout", "-q", "feature"]);
    repo.git(&["branch", "-q", "-D", "remote"]);
    repo.git(&["tag", "-a", "tree-tag", "-m", "a tree", "HEAD^{tree}"]);
    let pushed = Some(&["refs/heads/feature"][..]);
    let report = scan_set(&repo, set(&["feature"], &[], pushed)).unwrap();
    assert_eq!(keys_and_commits(&report), vec![(masked(&k2), c2.clone())]);
    // A tip that another ref reaches is hidden like the rest of that ref's history.
    let report = scan_set(&repo, set(&["feature", &cr], &[], pushed)).unwrap();
    assert_eq!(keys_and_commits(&report), vec![(masked(&k2), c2)]);
    // On a repository with one branch, hiding every other ref leaves its whole history.
    let single = Repo::new();
    single.write("a.txt", format!("{km}\n"));
    let first = single.commit("first");
    single.write("b.txt", format!("{k1}\n"));
    let second = single.commit("second");
    let report = scan_set(&single, set(&["main"], &[], Some(&["refs/heads/main"]))).unwrap();
    assert_eq!(
        keys_and_commits(&report),
        sorted(vec![(masked(&km), first), (masked(&k1), second)])
    );
}

#[test]
fn commit_set_can_hide_every_ref_as_a_pre_receive_hook_does() {
    // In a pre-receive hook the refs still hold their old values: the pushed commits are those
    // no ref reaches yet.
    let (kb, kn) = (fake_key(100), fake_key(101));
    let repo = Repo::new();
    repo.write("base.txt", format!("{kb}\n"));
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "incoming"]);
    repo.write("new.txt", format!("{kn}\n"));
    let cn = repo.commit("incoming");
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["branch", "-q", "-D", "incoming"]);
    // Refs in `packed-refs` count as much as loose ones.
    repo.git(&["pack-refs", "--all"]);
    let report = scan_set(&repo, set(&[&cn], &[], Some(&[]))).unwrap();
    assert_eq!(keys_and_commits(&report), vec![(masked(&kn), cn)]);
    assert_eq!(report.stats.files_scanned, 1);
    // A new branch whose commits every ref already reaches: nothing to scan, no error.
    let report = scan_set(&repo, set(&["main"], &[], Some(&[]))).unwrap();
    assert!(report.findings.is_empty());
    assert_eq!(report.stats.files_scanned, 0);
}

#[test]
fn empty_commit_set_is_an_empty_scan_and_unknown_revisions_are_errors() {
    let repo = Repo::new();
    repo.write("a.txt", format!("{}\n", fake_key(102)))
        .commit("key");
    let report = scan_set(&repo, set(&[], &["main"], None)).unwrap();
    assert!(report.findings.is_empty());
    assert_eq!(report.stats.files_scanned, 0);
    let report = scan_set(&repo, set(&["main"], &["main"], None)).unwrap();
    assert!(report.findings.is_empty());
    for range in [
        set(&["main", "no-such-tip"], &[], None),
        set(&["main"], &["no-such-base"], None),
    ] {
        let err = scan_set(&repo, range).expect_err("an unknown revision is an error");
        let text = err.to_string();
        assert!(text.contains("cannot resolve `no-such-"), "{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// #20: paths of git scopes are shown relative to the current directory, as in tree scans

/// A repository in `ws/` of a temp dir, with `sub/` in it: a key in `k.env` committed after the
/// returned `base`, another staged in `sub/s.env`, and one committed then deleted in `gone.env`.
fn workspace() -> (Repo, String) {
    let repo = Repo::in_folder(Tree::new(), "ws");
    repo.write("sub/readme", "r\n");
    let base = repo.commit("base");
    repo.write("k.env", format!("K={}\n", fake_key(110)));
    repo.write("gone.env", format!("G={}\n", fake_key(111)));
    repo.commit("keys");
    std::fs::remove_file(repo.path().join("gone.env")).unwrap();
    repo.commit("drop gone.env");
    repo.write("sub/s.env", format!("S={}\n", fake_key(112)));
    repo.git(&["add", "sub/s.env"]);
    (repo, base)
}

/// The SARIF result URIs and the JSON `path`s and repository-relative `origin.path`s of a scan.
fn uris_and_paths(dir: &Path, args: &[&str]) -> (Vec<String>, Vec<(String, String)>) {
    let mut sarif = args.to_vec();
    sarif.extend(["--format", "sarif", "--no-timing"]);
    let out = scan_in(dir, &sarif);
    assert_eq!(code(&out), 1, "{args:?}: {}", stderr(&out));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut uris: Vec<String> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    uris.sort();
    let mut json = args.to_vec();
    json.extend(["--format", "json", "--no-timing"]);
    let v: Value = serde_json::from_slice(&scan_in(dir, &json).stdout).unwrap();
    let mut paths: Vec<(String, String)> = findings(&v)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["origin"]["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    paths.sort();
    (uris, paths)
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn git_scope_paths_are_relative_to_the_current_directory_from_a_parent_folder() {
    let (repo, base) = workspace();
    let parent = &repo.tree;
    let range = format!("{base}..HEAD");
    let (uris, paths) = uris_and_paths(parent.path(), &["--range", &range, "ws"]);
    assert_eq!(uris, ["ws/gone.env", "ws/k.env"]);
    assert_eq!(
        paths,
        pairs(&[("ws/gone.env", "gone.env"), ("ws/k.env", "k.env")])
    );
    let (uris, paths) = uris_and_paths(parent.path(), &["--staged", "ws"]);
    assert_eq!(uris, ["ws/sub/s.env"]);
    assert_eq!(paths, pairs(&[("ws/sub/s.env", "sub/s.env")]));
    let (uris, paths) = uris_and_paths(parent.path(), &["--history", "ws"]);
    assert_eq!(uris, ["ws/gone.env", "ws/k.env"]);
    assert_eq!(
        paths,
        pairs(&[("ws/gone.env", "gone.env"), ("ws/k.env", "k.env")])
    );
}

#[test]
fn git_scope_paths_are_relative_to_the_current_directory_from_a_subfolder() {
    let (repo, base) = workspace();
    let sub = repo.path().join("sub");
    let range = format!("{base}..HEAD");
    let (uris, paths) = uris_and_paths(&sub, &["--range", &range]);
    // SARIF places a path that leaves the current directory by its absolute URI, as it does
    // for tree scans.
    let ws = repo.path().canonicalize().unwrap();
    let uri = |name: &str| format!("file://{}/{name}", ws.display());
    assert_eq!(uris, [uri("gone.env"), uri("k.env")]);
    assert_eq!(
        paths,
        pairs(&[("../gone.env", "gone.env"), ("../k.env", "k.env")])
    );
    // A file inside the current directory is shown without the shared folders.
    let (uris, paths) = uris_and_paths(&sub, &["--staged"]);
    assert_eq!(uris, ["s.env"]);
    assert_eq!(paths, pairs(&[("s.env", "sub/s.env")]));
    // Skips of history (here `--exclude`) are shown the same way.
    let mut json = vec!["--history", "--exclude", "gone.env", "--list-skipped"];
    json.extend(["--format", "json", "--no-timing"]);
    let v: Value = serde_json::from_slice(&scan_in(&sub, &json).stdout).unwrap();
    let skipped: Vec<_> = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(skipped, ["../gone.env"]);
    assert_eq!(places(&v), vec![("../k.env".to_string(), 1)]);
}

// ---------------------------------------------------------------------------------------------
// --history

#[test]
fn key_committed_then_deleted_is_found_by_history_and_marked_deleted() {
    let gone = fake_key(30);
    let kept = fake_key(31);
    let repo = Repo::new();
    repo.write("settings.py", format!("A = '{gone}'\nB = '{kept}'\n"));
    let added = repo.commit("settings");
    repo.write("settings.py", format!("A = None\nB = '{kept}'\n"));
    repo.commit("remove key A");
    let (v, out) = repo.json(&["--history"]);
    assert_eq!(code(&out), 1);
    let f = findings(&v);
    assert_eq!(f.len(), 2, "{v}");
    assert_eq!(f[0]["masked_key"], masked(&gone));
    assert_eq!(f[0]["present_at_head"], false);
    assert_eq!(f[0]["commit"]["id"], added.as_str());
    assert_eq!(f[1]["masked_key"], masked(&kept));
    assert_eq!(f[1]["present_at_head"], true);
    assert_eq!(f[1]["commit"]["id"], added.as_str(), "first commit kept");
    let out = repo.scan(&["--history"]);
    let text = stdout(&out);
    assert_eq!(
        text.matches("deleted later: still needs revoking").count(),
        1,
        "{text}"
    );
    // stderr is not a terminal here: no progress line, only the summary.
    assert!(!stderr(&out).contains("scanning"), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    // The working tree no longer has the deleted key.
    let (v, _) = repo.json(&[]);
    assert_eq!(findings(&v).len(), 1);
}

#[test]
fn renamed_file_gives_one_finding_per_path_with_the_first_commit() {
    let key = fake_key(32);
    let repo = Repo::new();
    repo.write("old.cfg", format!("key={key}\n"));
    let first = repo.commit("add");
    repo.write("unrelated", "u\n").commit("other");
    repo.git(&["mv", "old.cfg", "new.cfg"]);
    let renamed = repo.commit("rename");
    repo.write("new.cfg", format!("# header\nkey={key}\n"));
    repo.commit("edit");
    let (v, _) = repo.json(&["--history"]);
    let f = findings(&v);
    assert_eq!(
        places(&v),
        vec![("new.cfg".to_string(), 1), ("old.cfg".to_string(), 1)]
    );
    assert_eq!(f[0]["commit"]["id"], renamed.as_str());
    assert_eq!(f[0]["present_at_head"], true);
    assert_eq!(f[1]["commit"]["id"], first.as_str());
    // #20: the key is still at HEAD, under the new name (tests/history.rs has the details).
    assert_eq!(f[1]["present_at_head"], true);
    assert_eq!(f[1]["head_path"], "new.cfg");
}

#[test]
fn key_in_a_binary_blob_is_found_by_history() {
    let key = fake_key(33);
    let repo = Repo::new();
    let mut blob: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    blob.extend_from_slice(key.as_bytes());
    blob.push(0);
    repo.write("img/logo.png", &blob);
    repo.commit("binary");
    repo.git(&["rm", "-q", "img/logo.png"]);
    repo.commit("remove binary");
    let (v, _) = repo.json(&["--history"]);
    let f = findings(&v);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["path"], "img/logo.png");
    assert_eq!(f[0]["binary"], true);
    assert_eq!(f[0]["byte_offset"], 4096);
    assert_eq!(f[0]["present_at_head"], false);
}

#[test]
fn history_scans_each_distinct_blob_once() {
    let key = fake_key(34);
    let repo = Repo::new();
    repo.write("a.txt", format!("{key}\n"));
    repo.write("copy/a.txt", format!("{key}\n"));
    repo.commit("one blob at two paths");
    for i in 0..5 {
        repo.write("counter", format!("{i}\n")).commit("tick");
    }
    let (v, _) = repo.json(&["--history"]);
    // Blobs: the key file (shared), and five counter versions.
    assert_eq!(v["stats"]["files_scanned"], 6, "{v}");
    assert_eq!(findings(&v).len(), 2, "one per path");
}

#[test]
fn history_covers_every_ref_unless_a_branch_is_given() {
    let key = fake_key(35);
    let repo = Repo::new();
    repo.write("a", "a\n").commit("init");
    repo.git(&["checkout", "-q", "-b", "wip"]);
    repo.write("wip.txt", format!("{key}\n"));
    let wip = repo.commit("wip key");
    repo.git(&["checkout", "-q", "main"]);
    let (v, _) = repo.json(&["--history"]);
    assert_eq!(places(&v), vec![("wip.txt".to_string(), 1)]);
    assert_eq!(findings(&v)[0]["commit"]["id"], wip.as_str());
    assert_eq!(
        findings(&v)[0]["present_at_head"],
        false,
        "not on HEAD (main)"
    );
    let (v, out) = repo.json(&["--history", "--branch", "main"]);
    assert_eq!(code(&out), 0);
    assert!(findings(&v).is_empty());
    let (v, _) = repo.json(&["--history", "--branch", "wip"]);
    assert_eq!(
        findings(&v)[0]["present_at_head"],
        true,
        "present at the branch tip"
    );
}

/// A repository with four commits: `a.txt`; `old.txt` holding `old`; its removal; `new.txt`
/// holding `new`.
fn origin_with_a_deleted_key(old: &str, new: &str) -> Repo {
    let origin = Repo::new();
    origin.write("a.txt", "a\n").commit("one");
    origin
        .write("old.txt", format!("{old}\n"))
        .commit("old key");
    origin.git(&["rm", "-q", "old.txt"]);
    origin.commit("remove old key");
    origin
        .write("new.txt", format!("{new}\n"))
        .commit("new key");
    origin
}

/// `git clone -q <how> file://<origin> <parent>/clone`; returns the clone's path.
fn clone_of(origin: &Repo, parent: &Tree, how: &str) -> PathBuf {
    let url = format!("file://{}", origin.path().display());
    git_in(
        parent.path(),
        &["clone", "-q", how, &url, "clone"],
        1_700_000_000,
    );
    parent.path().join("clone")
}

#[test]
fn shallow_clone_is_scanned_for_what_it_holds_with_a_warning() {
    let origin = origin_with_a_deleted_key(&fake_key(36), &fake_key(37));
    let parent = Tree::new();
    let clone = clone_of(&origin, &parent, "--depth=2");
    assert!(clone.join(".git/shallow").exists());

    let out = scan_in(&clone, &["--history", "--format", "json", "--no-timing"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(places(&v), vec![("new.txt".to_string(), 1)]);
    assert!(
        stderr(&out).contains("warning: this is a shallow clone"),
        "{}",
        stderr(&out)
    );
    assert!(v["warnings"][0].as_str().unwrap().contains("shallow clone"));
    // Ranges work on what the clone holds; a base it does not hold is an error.
    let out = scan_in(&clone, &["--since", "HEAD~1", "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(places(&v), vec![("new.txt".to_string(), 1)]);
    let out = scan_in(&clone, &["--since", "HEAD~5", "-q"]);
    assert_eq!(
        code(&out),
        2,
        "HEAD~5 is not in the clone: {}",
        stderr(&out)
    );
    let out = scan_in(&clone, &["--range", "..HEAD", "-q"]);
    assert_eq!(code(&out), 0);
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn git_flags_outside_a_repository_exit_2_with_a_clear_error() {
    let tree = Tree::new();
    tree.write("a.txt", format!("{}\n", fake_key(40)));
    let ceiling = tree.path().parent().unwrap().display().to_string();
    for flag in [&["--staged"][..], &["--since", "main"], &["--history"]] {
        let mut cmd = common::bin();
        cmd.args(flag).current_dir(tree.path());
        git_env(&mut cmd, 0);
        let out = cmd
            .env("GIT_CEILING_DIRECTORIES", &ceiling)
            .output()
            .unwrap();
        assert_eq!(code(&out), 2, "{flag:?}");
        assert!(
            stderr(&out).contains("is not in a git repository"),
            "{}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn git_scopes_take_one_path_and_not_stdin() {
    let repo = Repo::new();
    repo.write("a", "a\n").commit("init");
    let out = repo.scan(&["--staged", ".", "-"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("at most one path"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn history_reads_packed_and_loose_objects_alike() {
    let gone = fake_key(38);
    let kept = fake_key(39);
    let repo = Repo::new();
    let body: String = (0..200)
        .map(|i| format!("line {i} of some text\n"))
        .collect();
    repo.write("a.txt", format!("{body}{gone}\n"));
    let first = repo.commit("a");
    for i in 0..5 {
        repo.write("a.txt", format!("{body}{gone}\nedit {i}\n"));
        repo.commit("edit");
    }
    repo.write("a.txt", format!("{body}edit\n"));
    repo.write("dir/b.bin", format!("\0\0{kept}\0"));
    repo.commit("swap keys");
    let summary = |v: &Value| -> Vec<String> {
        findings(v)
            .iter()
            .map(|f| {
                format!(
                    "{} {} {} {} {}",
                    f["path"], f["line"], f["masked_key"], f["commit"]["id"], f["present_at_head"]
                )
            })
            .collect()
    };
    let (loose, _) = repo.json(&["--history"]);
    repo.git(&["gc", "-q", "--aggressive"]);
    assert!(std::fs::read_dir(repo.path().join(".git/objects/pack"))
        .unwrap()
        .any(|e| e.unwrap().path().extension().is_some_and(|x| x == "pack")));
    let (packed, _) = repo.json(&["--history"]);
    assert_eq!(summary(&loose), summary(&packed));
    assert_eq!(findings(&packed).len(), 2);
    assert_eq!(findings(&packed)[0]["commit"]["id"], first.as_str());
    assert_eq!(findings(&packed)[0]["present_at_head"], false);
    assert_eq!(findings(&packed)[1]["path"], "dir/b.bin");
    // Each of the 8 distinct blobs is counted once, packed or not.
    assert_eq!(loose["stats"]["files_scanned"], 8);
    assert_eq!(packed["stats"]["files_scanned"], 8);
}

#[test]
fn history_respects_exclude_globs_on_repository_paths() {
    let key = fake_key(41);
    let repo = Repo::new();
    repo.write("fixtures/keys.txt", format!("{key}\n"));
    repo.write("src/app.txt", format!("{key}\n"));
    repo.commit("keys");
    let (v, _) = repo.json(&["--history", "--exclude", "fixtures"]);
    assert_eq!(places(&v), vec![("src/app.txt".to_string(), 1)]);
    assert_eq!(v["skipped"][0]["path"], "fixtures/keys.txt");
    assert_eq!(v["skipped"][0]["reason"], "excluded");
}

// ---------------------------------------------------------------------------------------------
// Reflogs, partial clones, SARIF

#[test]
fn history_scans_commits_only_a_reflog_reaches_and_marks_them() {
    let reset_away = fake_key(60);
    let amended = fake_key(61);
    let repo = Repo::new();
    repo.write("a.txt", "a\n").commit("one");
    repo.write("reset.txt", format!("K = '{reset_away}'\n"))
        .commit("oops");
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    // Amending only the message keeps the blob: the reachable commit must get the finding.
    repo.write("amend.txt", format!("K = '{amended}'\n"))
        .commit("typo in mesage");
    repo.clock.set(repo.clock.get() + 60);
    repo.git(&["commit", "-q", "--amend", "-m", "fixed message"]);
    let head = repo.git(&["rev-parse", "HEAD"]);

    let (v, out) = repo.json(&["--history"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let f = findings(&v);
    assert_eq!(f.len(), 2, "{v}");
    let by_key = |k: &str| f.iter().find(|x| x["masked_key"] == masked(k)).unwrap();
    let gone = by_key(&reset_away);
    assert_eq!(gone["commit"]["reflog_only"], true, "{v}");
    assert_eq!(gone["commit"]["summary"], "oops");
    assert_eq!(gone["present_at_head"], false);
    let kept = by_key(&amended);
    assert_eq!(kept["commit"]["id"], head.as_str(), "{v}");
    assert!(kept["commit"].get("reflog_only").is_none(), "{v}");
    let text = stdout(&repo.scan(&["--history"]));
    assert_eq!(
        text.matches("only a reflog still holds").count(),
        1,
        "{text}"
    );

    // `--branch` scans that branch's history only, not the reflog.
    let (v, _) = repo.json(&["--history", "--branch", "main"]);
    assert_eq!(findings(&v).len(), 1, "{v}");
    // Expiring the reflog and pruning removes the commit, and the finding with it.
    repo.git(&["reflog", "expire", "--expire=now", "--all"]);
    repo.git(&["gc", "-q", "--prune=now"]);
    let (v, _) = repo.json(&["--history"]);
    assert_eq!(findings(&v).len(), 1, "{v}");
}

#[test]
fn partial_clone_reports_blobs_it_lacks_as_errors_and_scans_the_rest() {
    let origin = origin_with_a_deleted_key(&fake_key(62), &fake_key(63));
    let base = origin.git(&["rev-parse", "HEAD~3"]);
    // Only the blobs of the tip are fetched.
    origin.git(&["config", "uploadpack.allowFilter", "true"]);
    let parent = Tree::new();
    let clone = clone_of(&origin, &parent, "--filter=blob:none");

    for args in [vec!["--history"], vec!["--range", &format!("{base}..HEAD")]] {
        let mut all = args.clone();
        all.extend(["--format", "json", "--no-timing"]);
        let out = scan_in(&clone, &all);
        // Findings win over errors (exit 1); without the present key, the errors give 2.
        assert_eq!(code(&out), 1, "{args:?}: {}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            places(&v),
            vec![("new.txt".to_string(), 1)],
            "{args:?}: {v}"
        );
        let errors = v["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{args:?}: {v}");
        assert_eq!(errors[0]["path"], "old.txt");
        assert!(
            errors[0]["message"]
                .as_str()
                .unwrap()
                .contains("partial clone"),
            "{v}"
        );
        let warning = v["warnings"][0].as_str().unwrap();
        assert!(warning.contains("1 blob(s)"), "{warning}");
        assert!(warning.contains("without `--filter`"), "{warning}");
        let mut excluded = all.clone();
        excluded.extend(["--exclude", "new.txt"]);
        assert_eq!(code(&scan_in(&clone, &excluded)), 2, "{args:?}");
    }
}

#[test]
fn sarif_of_git_scopes_carries_the_commit_and_marks_history_only_results() {
    let gone = fake_key(64);
    let kept = fake_key(65);
    let repo = Repo::new();
    repo.write("a.txt", format!("{gone}\n{kept}\n"));
    let added = repo.commit("keys");
    repo.write("a.txt", format!("x\n{kept}\n"))
        .commit("drop one");
    let out = repo.scan(&["--history", "--format", "sarif", "--no-timing"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(common::sarif_schema_errors(&log), Vec::<String>::new());
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        let p = &r["properties"];
        assert_eq!(p["commit"]["id"], added.as_str(), "{r}");
        assert_eq!(p["commit"]["summary"], "keys");
        let deleted = p["masked_key"] == masked(&gone);
        assert_eq!(p["history_only"], deleted, "{r}");
        assert_eq!(p["present_at_head"], !deleted, "{r}");
        let text = r["message"]["text"].as_str().unwrap();
        assert!(text.contains(&format!("commit {}", &added[..7])), "{text}");
        assert_eq!(text.contains("deleted later"), deleted, "{text}");
    }
}

#[test]
fn history_report_is_the_same_at_any_thread_count() {
    // #15: the tree walk runs on consecutive slices of commits in parallel; the report must not
    // depend on how many there are. Merges, renames, deleted keys, a key that comes back in a
    // later commit (attributed to the first), and an excluded path.
    let keys: Vec<String> = (0..8).map(|i| fake_key(60 + i)).collect();
    let repo = Repo::new();
    repo.write("src/main.rs", format!("// {}\n", keys[0]));
    repo.write("vendor/skip.txt", format!("{}\n", keys[1]));
    let first = repo.commit("first");
    for i in 0..30 {
        match i % 6 {
            0 => {
                let branch = format!("topic{i}");
                repo.git(&["checkout", "-q", "-b", &branch]);
                repo.write(
                    &format!("topic/{i}.env"),
                    format!("K={}\n", keys[2 + i / 6 % 4]),
                );
                repo.commit("topic adds a key");
                repo.git(&["checkout", "-q", "main"]);
                repo.write("main.txt", format!("main {i}\n"));
                repo.commit("main moves on");
                repo.git(&["merge", "-q", "--no-ff", "-m", "merge", &branch]);
            }
            1 => {
                repo.git(&["mv", "src/main.rs", &format!("src/main{i}.rs")]);
                repo.commit("rename");
                repo.git(&["mv", &format!("src/main{i}.rs"), "src/main.rs"]);
                repo.commit("rename back");
            }
            2 => {
                repo.write("old/secret.txt", format!("{}\n", keys[6]));
                repo.commit("add a key");
                std::fs::remove_file(repo.path().join("old/secret.txt")).unwrap();
                repo.commit("delete it");
            }
            _ => {
                repo.write(&format!("notes/{i}.md"), format!("note {i}\n{}\n", keys[7]));
                repo.commit("note");
            }
        }
    }
    let report = |threads: &str| -> (Value, Vec<u8>) {
        let out = repo.scan(&[
            "--history",
            "--format",
            "json",
            "--no-timing",
            "--exclude",
            "vendor/**",
            "--threads",
            threads,
        ]);
        assert_eq!(code(&out), 1, "{}", stderr(&out));
        (common::stdout_json(&out), out.stdout)
    };
    for packed in [false, true] {
        if packed {
            repo.git(&["gc", "-q"]);
        }
        let (v, one) = report("1");
        // The key of the first commit, at the path it came back to after each rename, keeps
        // the first commit; the excluded path has no finding.
        let at_main: Vec<&Value> = findings(&v)
            .iter()
            .filter(|f| f["path"] == "src/main.rs")
            .collect();
        assert_eq!(at_main.len(), 1, "{v}");
        assert_eq!(at_main[0]["commit"]["id"], first.as_str());
        assert!(findings(&v).iter().all(|f| f["path"] != "vendor/skip.txt"));
        assert!(findings(&v).len() > 20, "{v}");
        for threads in ["2", "3", "8"] {
            let (_, many) = report(threads);
            assert_eq!(
                String::from_utf8_lossy(&one),
                String::from_utf8_lossy(&many),
                "--threads 1 and --threads {threads} differ (packed: {packed})"
            );
        }
    }
}
