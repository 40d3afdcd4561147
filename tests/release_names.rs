//! The release archive names agree everywhere (#16): `.github/workflows/release.yml` builds
//! them, `action.yml` downloads them, and `cargo binstall` finds them through Cargo.toml's
//! `[package.metadata.binstall]`.

use std::collections::BTreeMap;
use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

/// target triple → archive file name, from release.yml's build matrix.
fn release_archives() -> BTreeMap<String, String> {
    let wf: serde_yaml::Value =
        serde_yaml::from_str(&read(".github/workflows/release.yml")).unwrap();
    let include = wf["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_sequence()
        .expect("a build matrix");
    include
        .iter()
        .map(|m| {
            let target = m["target"].as_str().unwrap().to_string();
            let name = m["name"].as_str().unwrap();
            let ext = if target.contains("windows") {
                "zip"
            } else {
                "tar.gz"
            };
            (target, format!("leadey-scan-{name}.{ext}"))
        })
        .collect()
}

#[test]
fn release_builds_static_linux_macos_and_windows() {
    let targets: Vec<String> = release_archives().into_keys().collect();
    assert_eq!(
        targets,
        [
            "aarch64-apple-darwin",
            "aarch64-unknown-linux-musl",
            "x86_64-apple-darwin",
            "x86_64-pc-windows-msvc",
            "x86_64-unknown-linux-musl",
        ]
    );
    let wf = read(".github/workflows/release.yml");
    assert!(wf.contains("sha256sum leadey-scan-* > SHA256SUMS"));
}

#[test]
fn binstall_metadata_points_at_each_release_archive() {
    let archives = release_archives();
    let manifest: toml::Value = toml::from_str(&read("Cargo.toml")).unwrap();
    let binstall = &manifest["package"]["metadata"]["binstall"];
    assert_eq!(binstall["bin-dir"].as_str(), Some("{ bin }{ binary-ext }"));
    let overrides = binstall["overrides"].as_table().expect("overrides");
    let url_of = |target: &str| {
        overrides
            .get(target)
            .unwrap_or_else(|| panic!("no binstall override for {target}"))["pkg-url"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for (target, archive) in &archives {
        let url = url_of(target);
        assert_eq!(
            url,
            format!("{{ repo }}/releases/download/v{{ version }}/{archive}"),
            "{target}"
        );
        let fmt = overrides[target.as_str()]
            .get("pkg-fmt")
            .or_else(|| binstall.get("pkg-fmt"))
            .and_then(|v| v.as_str());
        assert_eq!(
            fmt,
            Some(if archive.ends_with(".zip") {
                "zip"
            } else {
                "tgz"
            })
        );
    }
    // glibc Linux hosts get the static musl build.
    for (gnu, musl) in [
        ("x86_64-unknown-linux-gnu", "x86_64-unknown-linux-musl"),
        ("aarch64-unknown-linux-gnu", "aarch64-unknown-linux-musl"),
    ] {
        assert_eq!(url_of(gnu), url_of(musl));
    }
}

#[test]
fn the_action_downloads_archives_the_release_builds() {
    let archives: Vec<String> = release_archives().into_values().collect();
    let action = read("action.yml");
    // `Linux-X64) target=x86_64-linux ;;` lines of the install step.
    let names: Vec<&str> = action
        .lines()
        .filter_map(|l| l.split_once(") target=")?.1.split(' ').next())
        .filter(|n| !n.trim_matches('"').is_empty())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    for name in names {
        let archive = format!("leadey-scan-{name}.tar.gz");
        assert!(
            archives.contains(&archive),
            "{archive} is not built by release.yml"
        );
    }
}
