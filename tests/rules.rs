//! Every rule file under `rules/`: its examples behave as declared, the built-in list embeds
//! exactly these files, and the entropy threshold is calibrated against random and placeholder
//! bodies.

use std::path::{Path, PathBuf};

use leadey_scan::detect::entropy::{dictionary_share, shannon};
use leadey_scan::detect::Detector;
use leadey_scan::problem::FileProblem;
use leadey_scan::rules::{parse_rule_file, RuleError, RuleSet, BUILTIN_RULE_FILES};
use leadey_scan::suppress::baseline::{Baseline, BaselineError};
use leadey_scan::suppress::config_file::{ConfigError, ConfigFile};

fn rule_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read rules/")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no rule files in {}", dir.display());
    files
}

#[test]
fn every_example_in_every_rule_file_behaves_as_declared() {
    let mut checked = 0;
    for file in rule_files() {
        let text = std::fs::read_to_string(&file).expect("read rule file");
        let rules = parse_rule_file(&text, &file).expect("rule file parses");
        let mut set = RuleSet::builtin().expect("built-in rules compile");
        set.merge(rules.clone());
        let detector = Detector::new(&set);
        for rule in &rules {
            assert!(
                !rule.examples.is_empty(),
                "{}: rule {} has no examples",
                file.display(),
                rule.id
            );
            assert!(
                !rule.negative_examples.is_empty(),
                "{}: rule {} has no negative examples",
                file.display(),
                rule.id
            );
            for (i, example) in rule.examples.iter().enumerate() {
                let found: Vec<_> = detector
                    .scan(example.as_bytes())
                    .into_iter()
                    .filter(|c| detector.rules()[c.rule_index].id == rule.id)
                    .collect();
                assert_eq!(
                    found.len(),
                    1,
                    "{}: rule {}: example #{i} ({example:?}) must give exactly one finding",
                    file.display(),
                    rule.id
                );
                checked += 1;
            }
            for (i, example) in rule.negative_examples.iter().enumerate() {
                let found = detector.scan(example.as_bytes());
                assert!(
                    found.is_empty(),
                    "{}: rule {}: negative example #{i} ({example:?}) gave {} finding(s)",
                    file.display(),
                    rule.id,
                    found.len()
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 30, "only {checked} examples checked");
}

#[test]
fn builtin_list_embeds_exactly_the_files_in_rules_dir() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut on_disk: Vec<String> = rule_files()
        .iter()
        .map(|p| {
            p.strip_prefix(root)
                .expect("under the crate")
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = BUILTIN_RULE_FILES
        .iter()
        .map(|(p, _)| p.to_string())
        .collect();
    embedded.sort();
    assert_eq!(embedded, on_disk);
    for (path, text) in BUILTIN_RULE_FILES {
        let disk = std::fs::read_to_string(root.join(path)).expect("read rule file");
        assert_eq!(&disk, text, "{path} embedded text differs from the file");
    }
}

/// Deterministic xorshift, so the calibration is reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn body(&mut self, len: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| A[(self.next() % 62) as usize] as char)
            .collect()
    }
}

#[test]
fn random_bodies_of_every_length_pass_with_a_wide_entropy_margin() {
    let set = RuleSet::builtin().expect("built-in rules compile");
    let rule = set.get("leadey-api-key").expect("leadey rule");
    let detector = Detector::new(&set);
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    const MARGIN_BITS: f64 = 0.5;
    // #14: the most word-covered random body stays this far below `max_word_share`.
    const MARGIN_WORDS: f64 = 0.2;
    let mut max_words: f64 = 0.0;
    for len in rule.body_min_len..=rule.body_max_len {
        let mut min_bits = f64::MAX;
        for _ in 0..2000 {
            let key = format!("{}{}", "leadey_sk_live_", rng.body(len));
            let found = detector.scan(key.as_bytes());
            assert_eq!(found.len(), 1, "random key missed: length {len}");
            min_bits = min_bits.min(shannon(&key.as_bytes()[15..]));
            max_words = max_words.max(dictionary_share(&key.as_bytes()[15..]));
        }
        assert!(
            min_bits >= rule.min_entropy + MARGIN_BITS,
            "length {len}: least random body scored {min_bits:.3} bits, threshold {}",
            rule.min_entropy
        );
    }
    eprintln!("the most word-covered random body: {max_words:.3}");
    assert!(
        max_words + MARGIN_WORDS <= rule.max_word_share,
        "the most word-covered random body: {max_words:.3}, threshold {}",
        rule.max_word_share
    );
}

#[test]
fn placeholder_bodies_of_every_length_are_rejected() {
    let detector = Detector::new(&RuleSet::builtin().expect("built-in rules compile"));
    let alphabet = "abcdefghijklmnopqrstuvwxyz";
    let seeds = [
        "X",
        "x",
        "0",
        "ab",
        "abc123",
        "1234567890",
        alphabet,
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "0123456789abcdef",
        "qwertyuiop",
        "qwertyuiopasdfghjklzxcvbnm",
        "zyxwvutsrqponmlkjihgfedcba",
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "1qaz2wsx3edc4rfv",
    ];
    for len in 20..=64 {
        for seed in seeds {
            let body: String = seed.chars().cycle().take(len).collect();
            let key = format!("leadey_sk_live_{body}");
            assert!(
                detector.scan(key.as_bytes()).is_empty(),
                "placeholder accepted: {key}"
            );
        }
    }
}

/// #23: rule files, the config file and baselines report a mistake as one `FileProblem`: the
/// file, the 1-based line and column, the message.
#[test]
fn rule_config_and_baseline_files_report_mistakes_as_one_file_problem() {
    let at = |p: &FileProblem| (p.path.clone(), p.line, p.column);
    let rules = parse_rule_file(
        "[[rule]]\nid = \"x\"\ntitel = \"typo\"\n",
        Path::new("bad.toml"),
    );
    let Err(RuleError::Parse(p)) = rules else {
        panic!("a parse error: {rules:?}")
    };
    assert_eq!(at(&p), ("bad.toml".to_string(), 3, 1));
    assert!(
        p.message.starts_with("unknown field `titel`"),
        "{}",
        p.message
    );

    let config = ConfigFile::parse("[allow]\nkeys = [\n  \"abc\"]\n", Path::new("c.toml"));
    let Err(ConfigError::Invalid(p)) = config else {
        panic!("an invalid config: {:?}", config.map(|c| c.display))
    };
    assert_eq!(at(&p), ("c.toml".to_string(), 3, 3));
    assert!(p.message.starts_with("`abc` is not valid"), "{}", p.message);

    let baseline = Baseline::parse(
        "{\n  \"version\": 1,\n  \"entries\": {}\n}\n",
        Path::new("b.json"),
    );
    let Err(BaselineError::Invalid(p)) = baseline else {
        panic!("an invalid baseline: {baseline:?}")
    };
    assert_eq!(at(&p), ("b.json".to_string(), 3, 13));
    assert_eq!(
        p.to_string(),
        format!("b.json:3:13: {}", p.message),
        "one display for all three"
    );
}
