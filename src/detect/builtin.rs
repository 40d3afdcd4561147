//! Redaction with the built-in rules, for text that may quote input before any user rule is
//! loaded (error messages, paths of config and baseline files, verification answers). Lives in
//! the detector stage (#23): it needs the detector and the rules, and every stage that shows
//! text reaches it without importing the crate root.

use std::sync::OnceLock;

use super::Detector;
use crate::rules::RuleSet;

/// `text` with every key-shaped run of the built-in rules masked.
pub fn redact_builtin(text: &str) -> String {
    // Built once: verification data is redacted string by string.
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    let detector = DETECTOR.get_or_init(|| {
        let rules = RuleSet::builtin()
            .expect("invariant: the built-in rules compile (tests/rules.rs proves it)");
        Detector::new(&rules)
    });
    detector.redact(text).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn built_in_redaction_masks_keys_and_leaves_other_text() {
        let text = "cannot open leadey_sk_live_u8jzPde0IgxLd6GncfBA.json";
        assert_eq!(
            super::redact_builtin(text),
            "cannot open leadey_sk_live_••••cfBA.json"
        );
        assert_eq!(super::redact_builtin("plain"), "plain");
    }
}
