//! `leadey-scan --generate complete-SHELL` and `--generate man` (#16, flags since #20):
//! generated from the clap definition, so they list every flag `--help` lists; bash parses the
//! bash script, and groff (when installed) renders the manual page without a warning. A bare
//! word is always a path (#20): folders named after the old subcommands are scanned.

use std::process::Command;

use crate::common::{bin, fake_key, masked, run, stderr, stdout, Tree};

/// The long flags `--help` lists (`--format`, `--history`, …).
fn help_flags() -> Vec<String> {
    let help = stdout(&run(bin().arg("--help")));
    let mut flags: Vec<String> = help
        .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| {
            w.split(['=', '<'])
                .next()
                .unwrap_or(w)
                .trim_end_matches(['.', ')', ':'])
                .to_string()
        })
        .filter(|w| w.len() > 2 && w[2..].chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .collect();
    flags.sort();
    flags.dedup();
    assert!(flags.len() > 25, "too few flags in --help: {flags:?}");
    flags
}

#[test]
fn every_shell_gets_a_script_that_completes_every_flag() {
    let flags = help_flags();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = run(bin().args(["--generate", &format!("complete-{shell}")]));
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        for flag in &flags {
            // fish lists long flags without their dashes (`-l history`).
            let needle = if shell == "fish" {
                format!("-l {}", &flag[2..])
            } else {
                flag.clone()
            };
            assert!(script.contains(&needle), "{shell}: {flag} missing");
        }
        // clap_complete's powershell and elvish scripts complete flags, not their values.
        if ["bash", "zsh", "fish"].contains(&shell) {
            for kind in ["complete-bash", "complete-elvish", "man"] {
                assert!(script.contains(kind), "{shell}: --generate {kind} missing");
            }
        }
    }
}

#[test]
fn the_bash_script_parses_and_registers_the_completion() {
    let script = stdout(&run(bin().args(["--generate", "complete-bash"])));
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("{script}\ncomplete -p leadey-scan"))
        .output()
        .expect("bash");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("leadey-scan"), "{}", stdout(&out));
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = run(bin().args(["--generate", "complete-tcsh"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("possible values"), "{}", stderr(&out));
}

#[test]
fn the_man_page_documents_every_flag_and_the_exit_codes() {
    let out = run(bin().args(["--generate", "man"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(
        page.starts_with(".ie") || page.contains(".TH leadey-scan 1"),
        "{page}"
    );
    assert!(page.contains(".TH leadey-scan 1"));
    assert!(page.contains(env!("CARGO_PKG_VERSION")));
    for flag in help_flags() {
        // roff escapes the dashes: `\-\-history`.
        let escaped = flag.replace('-', "\\-");
        assert!(page.contains(&escaped), "{flag} missing from the man page");
    }
    assert!(page.contains("Exit codes"));
    // groff (man-db's renderer), with preconv for the non-ASCII mask bullets: no warning.
    let Ok(groff) = Command::new("groff")
        .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    else {
        eprintln!("groff is not installed: the man page is not rendered");
        return;
    };
    let mut groff = groff;
    use std::io::Write;
    groff
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let rendered = groff.wait_with_output().unwrap();
    assert!(rendered.status.success());
    assert_eq!(stderr(&rendered), "", "groff warnings");
}

/// #20: `leadey-scan man` printed the manual, `help` and `completions` were subcommands too;
/// now every bare word is a folder to scan, and each one's key is found.
#[test]
fn folders_named_like_actions_are_scanned() {
    let t = Tree::new();
    let names = [
        "man",
        "help",
        "completions",
        "install-hook",
        "version",
        "generate",
    ];
    for (seed, name) in names.iter().enumerate() {
        t.write(
            &format!("{name}/k.env"),
            format!("K={}\n", fake_key(900 + seed as u64)),
        );
    }
    for (seed, name) in names.iter().enumerate() {
        let out = run(t.cmd().args([name, "--format", "short", "--no-config"]));
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        assert_eq!(
            stdout(&out).lines().next().unwrap_or_default(),
            format!(
                "{name}/k.env:1:3: leadey-api-key: {} (Leadey API key)",
                masked(&fake_key(900 + seed as u64))
            ),
            "{name}"
        );
    }
    // Several bare words are several paths.
    let out = run(t
        .cmd()
        .args(["man", "help", "--format", "json", "--no-config"]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).matches("\"rule_id\"").count(),
        2,
        "{}",
        stdout(&out)
    );
}

#[test]
fn install_hook_is_a_flag_with_an_optional_repository() {
    let t = Tree::new();
    t.git_init();
    let out = run(t.cmd().arg("--install-hook"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let hook = t.join(".git/hooks/pre-commit");
    assert!(std::fs::read_to_string(&hook)
        .unwrap()
        .contains("--staged --format short --quiet"));
    let other = Tree::new();
    other.git_init();
    let out = run(t
        .cmd()
        .arg("--install-hook")
        .arg(other.path())
        .arg("--force"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(other.join(".git/hooks/pre-commit").is_file());
    // --force without --install-hook is a usage error, not a path.
    let out = run(t.cmd().arg("--force"));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
