//! GitLab's secret-detection report schema (an excerpt of 15.2.1, see its `$comment`) and the
//! checks against it, shared by the integration tests (`common::gitlab_schema`) and the unit
//! tests of `src/report/gitlab.rs` (through `#[path]`), so both judge by the same rules.
#![allow(dead_code)]

use serde_json::Value;

/// The schema text.
pub const SCHEMA: &str = include_str!("../data/gitlab-secret-detection-report-format-15.2.1.json");

/// Schema errors of `doc`, as text (empty when valid).
pub fn schema_errors(doc: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(SCHEMA).expect("schema is JSON");
    let v = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&schema)
        .expect("schema compiles");
    v.iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect()
}

/// Paths of object keys in `doc` that the schema does not declare (GitLab ignores or rejects
/// them; the schema itself allows additional properties in places).
pub fn undeclared(doc: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(SCHEMA).expect("schema is JSON");
    let mut out = Vec::new();
    walk(doc, &schema, "", &mut out);
    out
}

fn walk(doc: &Value, schema: &Value, at: &str, out: &mut Vec<String>) {
    match doc {
        Value::Object(map) => {
            for (k, v) in map {
                match schema["properties"].get(k) {
                    Some(s) => walk(v, s, &format!("{at}/{k}"), out),
                    None => out.push(format!("{at}/{k}")),
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(v, &schema["items"], &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}
