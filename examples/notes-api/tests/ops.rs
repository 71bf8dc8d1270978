//! The alert rules and the dashboard in `ops/` name only what the service records: metric
//! names of `secure_core::metrics`, event and reason codes the code emits. A renamed reason
//! would otherwise leave an alert that never fires. (No Prometheus here: the check reads the
//! expressions as text.)

use std::collections::BTreeSet;
use std::path::Path;

use secure_core::metrics;

const RECORDED: &[&str] = &[
    metrics::SECURITY_EVENTS,
    metrics::REQUEST_DURATION,
    metrics::INPUT_REJECTED,
    metrics::RATE_LIMITED,
    metrics::STORE_DURATION,
    metrics::STORE_ERRORS,
    metrics::PASSWORD_HASH_DURATION,
    metrics::PASSWORD_HASH_WAIT,
    metrics::SIGN_IN_DURATION,
];

/// The alert rules (no comment lines) and the dashboard's queries.
fn ops_text() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("ops");
    let alerts = std::fs::read_to_string(dir.join("alerts.yml")).unwrap();
    // The expressions, not the comments.
    let alerts: String = alerts
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let dashboard = std::fs::read_to_string(dir.join("grafana-dashboard.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&dashboard).unwrap();
    let mut exprs = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            exprs.push(target["expr"].as_str().unwrap().to_owned());
        }
    }
    assert!(exprs.len() >= 10, "the dashboard's queries: {exprs:?}");
    format!("{alerts}\n{}", exprs.join("\n"))
}

/// Every word of `text` that starts with `prefix` and goes on with `[a-z0-9_]`.
fn words<'a>(text: &'a str, prefix: &str) -> BTreeSet<&'a str> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        found.insert(&tail[..end]);
        rest = &tail[end..];
    }
    found
}

/// The values a label is matched against: `event="a"`, `reason=~"a|b"`.
fn label_values<'a>(text: &'a str, label: &str) -> BTreeSet<&'a str> {
    let mut found = BTreeSet::new();
    for op in ["=\"", "=~\""] {
        let needle = format!("{label}{op}");
        let mut rest = text;
        while let Some(at) = rest.find(&needle) {
            let tail = &rest[at + needle.len()..];
            let end = tail.find('"').unwrap();
            found.extend(tail[..end].split('|'));
            rest = &tail[end..];
        }
    }
    found
}

/// Every string literal the framework's sources hold, as `"..."`.
fn core_sources() -> String {
    fn walk(dir: &Path, out: &mut String) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = String::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../secure-core/src"),
        &mut out,
    );
    out
}

#[test]
fn alerts_and_dashboard_name_only_recorded_metrics() {
    let text = ops_text();
    let names = words(&text, "secure_");
    assert!(names.len() >= 8, "{names:?}");
    for name in names {
        let base = ["_bucket", "_count", "_sum"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .unwrap_or(name);
        assert!(
            RECORDED.contains(&base),
            "ops/ names {name}, which secure_core::metrics does not record"
        );
    }
}

#[test]
fn alerts_and_dashboard_name_only_emitted_events_and_reasons() {
    let text = ops_text();
    let sources = core_sources();
    let mut checked = 0;
    for label in ["event", "reason"] {
        for value in label_values(&text, label) {
            assert!(
                sources.contains(&format!("\"{value}\"")),
                "ops/ matches {label}=\"{value}\", which secure-core never emits"
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked} values");
    let outcomes = label_values(&text, "outcome");
    let known = ["success", "failure", "denied"];
    assert!(outcomes.iter().all(|o| known.contains(o)), "{outcomes:?}");
}
