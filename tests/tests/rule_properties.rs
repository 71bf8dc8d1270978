//! Properties of the rule functions: none panics on any string, and the URL rule's
//! allocation-free scanner never disagrees with the WHATWG parser.

use proptest::prelude::*;
use secure_core::validate::rules::{
    UrlPolicy, alphanumeric, ascii, credit_card, email, ip, ipv4, ipv6, no_control, safe_path, url,
    uuid,
};

const PUBLIC: UrlPolicy = UrlPolicy {
    schemes: &["http", "https"],
    public: true,
};
const HTTPS_ONLY: UrlPolicy = UrlPolicy {
    schemes: &["https"],
    public: false,
};
const MANY_SCHEMES: UrlPolicy = UrlPolicy {
    schemes: &[
        "http", "https", "ftp", "file", "ws", "wss", "mailto", "redis", "data",
    ],
    public: true,
};

/// Runs every rule; a panic fails the calling test.
fn run_every_rule(s: &str) {
    let _ = (email(s), ip(s), ipv4(s), ipv6(s), uuid(s), credit_card(s));
    let _ = (ascii(s), alphanumeric(s), no_control(s), safe_path(s));
    for policy in [UrlPolicy::DEFAULT, PUBLIC, HTTPS_ONLY, MANY_SCHEMES] {
        let _ = url(s, &policy);
    }
}

/// The scanner, where it answers, answers as the parser does.
fn fast_agrees(s: &str) -> Result<(), TestCaseError> {
    for policy in [UrlPolicy::DEFAULT, PUBLIC, HTTPS_ONLY] {
        if let Some(fast) = policy.fast_answer(s) {
            prop_assert_eq!(fast, policy.parsed_answer(s), "{:?} with {:?}", s, policy);
        }
    }
    Ok(())
}

#[test]
fn no_rule_panics_on_naughty_strings() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/payloads/blns.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let strings: Vec<String> = serde_json::from_str(&text).expect("blns.json is a list of strings");
    for s in &strings {
        run_every_rule(s);
        fast_agrees(s).unwrap();
    }
}

/// A URL-shaped string: mostly the canonical shapes, with the edge cases the scanner must
/// hand to the parser (IP-like and `xn--` labels, trailing dots, user info, odd ports,
/// escapes, backslashes).
fn url_like() -> impl Strategy<Value = String> {
    let scheme = prop::sample::select(vec![
        "http",
        "https",
        "HTTP",
        "hTtPs",
        "ftp",
        "javascript",
        "data",
        "file",
        "http2",
        "",
    ]);
    let sep = prop::sample::select(vec!["://", "://", "://", ":/", ":", ":///", ":\\\\", "//"]);
    let label = prop_oneof![
        "[a-z][a-z0-9-]{0,12}",
        "[a-zA-Z0-9-]{0,8}",
        "[0-9]{1,4}",
        "0[xX][0-9a-fA-F]{0,8}",
        Just("xn--mnchen-3ya".to_owned()),
        Just("XN--bad".to_owned()),
        Just("localhost".to_owned()),
        "[a-z]{63,64}",
        "[a-z%._~@:\\[\\]*!$&'()+,;=\\\\0-9]{1,6}",
        "\\PC{1,3}",
    ];
    let host = prop::collection::vec(label, 1..5).prop_map(|labels| labels.join("."));
    let trailing = prop::sample::select(vec!["", "", "", ".", ".."]);
    let userinfo = prop::sample::select(vec!["", "", "", "user@", "u:p@", "@", ":@"]);
    let port = prop::sample::select(vec![
        "", "", "", ":", ":80", ":0", ":65535", ":65536", ":0080", ":000080", ":99999", ":x",
    ]);
    let rest = prop_oneof![
        Just(String::new()),
        "[/?#][!-~]{0,16}",
        "/\\PC{0,8}",
        "[\\\\@:%\\[][!-~]{0,8}",
    ];
    (scheme, sep, userinfo, host, trailing, port, rest)
        .prop_map(|(sc, sep, ui, h, t, p, r)| format!("{sc}{sep}{ui}{h}{t}{p}{r}"))
}

/// The shapes the scanner is meant to answer without the parser.
fn canonical_url() -> impl Strategy<Value = String> {
    let label = "[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?";
    let tld = "[a-zA-Z][a-zA-Z0-9]{1,6}";
    let scheme = prop::sample::select(vec!["http", "https", "HTTPS"]);
    let port = prop::sample::select(vec!["", ":443", ":8080", ":1"]);
    let rest = prop_oneof![Just(String::new()), "[/?#][!-~]{0,20}", "/\\PC{0,10}"];
    (scheme, prop::collection::vec(label, 1..4), tld, port, rest)
        .prop_filter("no xn-- labels", |(_, labels, ..)| {
            !labels
                .iter()
                .any(|l| l.to_ascii_lowercase().starts_with("xn--"))
        })
        .prop_map(|(sc, labels, tld, port, rest)| {
            format!("{sc}://{}.{tld}{port}{rest}", labels.join("."))
        })
        .prop_filter("no whitespace", |s| !s.chars().any(char::is_whitespace))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn no_rule_panics_on_printable_strings(s in "\\PC*") {
        run_every_rule(&s);
    }

    #[test]
    fn no_rule_panics_on_any_string(s in ".*") {
        run_every_rule(&s);
    }

    #[test]
    fn no_rule_panics_on_url_like_strings(s in url_like()) {
        run_every_rule(&s);
    }

    #[test]
    fn url_fast_path_agrees_with_parser(s in url_like()) {
        fast_agrees(&s)?;
    }

    #[test]
    fn url_fast_path_agrees_on_arbitrary_tails(tail in "\\PC{0,30}", https in any::<bool>()) {
        let s = format!("{}://{tail}", if https { "https" } else { "http" });
        fast_agrees(&s)?;
    }

    #[test]
    fn url_fast_path_answers_the_canonical_shapes(s in canonical_url()) {
        prop_assert_eq!(UrlPolicy::DEFAULT.fast_answer(&s), Some(true), "{:?}", s);
        fast_agrees(&s)?;
    }
}
