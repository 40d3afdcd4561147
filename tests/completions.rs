//! `leadey-scan completions SHELL` and `leadey-scan man` (#16): generated from the clap
//! definition, so they list every flag `--help` lists; bash parses the bash script, and groff
//! (when installed) renders the manual page without a warning.

use std::process::Command;

use crate::common::{bin, run, stderr, stdout};

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
fn every_shell_gets_a_script_that_completes_every_flag_and_subcommand() {
    let flags = help_flags();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = run(bin().args(["completions", shell]));
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
        for sub in ["install-hook", "completions", "man"] {
            assert!(script.contains(sub), "{shell}: subcommand {sub} missing");
        }
    }
}

#[test]
fn the_bash_script_parses_and_registers_the_completion() {
    let script = stdout(&run(bin().args(["completions", "bash"])));
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
    let out = run(bin().args(["completions", "tcsh"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("possible values"), "{}", stderr(&out));
}

#[test]
fn the_man_page_documents_every_flag_and_the_exit_codes() {
    let out = run(bin().arg("man"));
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
