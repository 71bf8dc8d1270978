//! The rule functions against test data written outside this project, kept unchanged in
//! `tests/vectors` (sources and licences in its README).
//!
//! Where our answer differs from a corpus on purpose, the input is listed next to the corpus
//! with the reason, and the test checks that the difference is still there: a deviation that
//! stops differing, or that is not in the corpus, fails the test as well.

use secure_core::validate::rules::{
    UrlPolicy, alphanumeric, ascii, credit_card, email, ip, ipv4, ipv6, safe_path, url, uuid,
};
use serde_json::Value;

/// An input whose answer differs from the corpus on purpose, and why.
type Deviation = (&'static str, &'static str);

/// The vendored test vectors (`tests/vectors` in the repository).
const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/");

/// A vector file; a missing one fails the test, naming the path.
fn read(file: &str) -> String {
    let path = format!("{VECTORS}{file}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn load(file: &str) -> Value {
    // validator.js tests unpaired UTF-16 surrogates, which Rust strings cannot hold.
    let text = replace_lone_surrogates(&read(file));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{VECTORS}{file}: {e}"))
}

/// Rewrites `\uD800`-style escapes that are not part of a surrogate pair as `\uFFFD`.
fn replace_lone_surrogates(json: &str) -> String {
    fn escape_at(b: &[u8], i: usize) -> Option<u16> {
        let hex = b.get(i..i + 6)?;
        if hex[0] != b'\\' || hex[1] != b'u' {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()
    }
    let b = json.as_bytes();
    let mut out = String::with_capacity(json.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            match escape_at(b, i) {
                Some(0xd800..=0xdbff) if matches!(escape_at(b, i + 6), Some(0xdc00..=0xdfff)) => {
                    out.push_str(&json[i..i + 12]);
                    i += 12;
                }
                Some(0xd800..=0xdfff) => {
                    out.push_str("\\ufffd");
                    i += 6;
                }
                _ => {
                    // Any other escape, including `\\`, is copied as a pair.
                    out.push_str(&json[i..i + 2]);
                    i += 2;
                }
            }
        } else {
            let len = json[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&json[i..i + len]);
            i += len;
        }
    }
    out
}

/// Checks every case; a listed deviation must give the opposite of the corpus' answer.
fn check(
    corpus: &str,
    rule: impl Fn(&str) -> bool,
    cases: &[(String, bool)],
    deviations: &[Deviation],
) {
    let mut wrong = Vec::new();
    for (input, expected) in cases {
        let got = rule(input);
        match deviations.iter().find(|(d, _)| d == input) {
            Some((_, reason)) if got == *expected => wrong.push(format!(
                "{input:?}: listed as a deviation ({reason}) but now agrees ({got})"
            )),
            Some(_) => {}
            None if got != *expected => {
                wrong.push(format!("{input:?}: expected {expected}, got {got}"))
            }
            None => {}
        }
    }
    for (d, _) in deviations {
        if !cases.iter().any(|(input, _)| input == d) {
            wrong.push(format!(
                "{d:?}: listed as a deviation but not in the corpus"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{corpus}: {} of {} cases\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
    eprintln!(
        "{corpus}: {} cases, {} deliberate deviations",
        cases.len(),
        deviations.len()
    );
}

/// `{"name": [[input, bool], ...]}` from the validator crate's test tuples.
fn validator_crate(file: &str, name: &str) -> Vec<(String, bool)> {
    let doc = load(&format!("validator-crate/{file}"));
    let cases = doc[name]
        .as_array()
        .unwrap_or_else(|| panic!("{file}: no {name}"));
    cases
        .iter()
        .map(|c| (c[0].as_str().unwrap().to_owned(), c[1].as_bool().unwrap()))
        .collect()
}

/// The string cases of a JSON-Schema-Test-Suite format file.
fn json_schema(file: &str) -> Vec<(String, bool)> {
    let doc = load(&format!("json-schema-formats/{file}"));
    doc.as_array()
        .unwrap()
        .iter()
        .flat_map(|group| group["tests"].as_array().unwrap())
        .filter_map(|t| Some((t["data"].as_str()?.to_owned(), t["valid"].as_bool()?)))
        .collect()
}

/// validator.js blocks whose `validator` and `args` (JSON, compared as values) are listed.
fn validatorjs(validator: &str, args: &[&str]) -> Vec<(String, bool)> {
    let doc = load("validatorjs/cases.json");
    let mut cases = Vec::new();
    for block in doc.as_array().unwrap() {
        let wanted = |a: &&str| serde_json::from_str::<Value>(a).unwrap() == block["args"];
        if block["validator"] == validator && args.iter().any(wanted) {
            for (key, valid) in [("valid", true), ("invalid", false)] {
                for s in block[key].as_array().unwrap() {
                    cases.push((s.as_str().unwrap().to_owned(), valid));
                }
            }
        }
    }
    assert!(!cases.is_empty(), "validator.js: no {validator} {args:?}");
    cases
}

// ---------------------------------------------------------------- email

/// IP-literal and internationalised domains: not in the WHATWG grammar.
const EMAIL_VALIDATOR_CRATE: &[Deviation] = &[
    (
        "email@[127.0.0.1]",
        "IP-literal domain: not in the WHATWG grammar; routes mail to a host the submitter picks",
    ),
    (
        "email@[2001:dB8::1]",
        "IP-literal domain: not in the WHATWG grammar",
    ),
    (
        "email@[2001:dB8:0:0:0:0:0:1]",
        "IP-literal domain: not in the WHATWG grammar",
    ),
    (
        "email@[::fffF:127.0.0.1]",
        "IP-literal domain: not in the WHATWG grammar",
    ),
    (
        "test@domain.with.idn.tld.उदाहरण.परीक्षा",
        "non-ASCII domain: WHATWG's grammar is ASCII (browsers submit the xn-- form)",
    ),
];

#[test]
fn email_validator_crate() {
    let cases = validator_crate("email.json", "test_validate_email");
    check(
        "validator-crate/email",
        email,
        &cases,
        EMAIL_VALIDATOR_CRATE,
    );
}

/// These are browser results: the browser converts the domain to punycode and runs it through
/// the URL host parser before applying the grammar. We apply the grammar to what was submitted.
const EMAIL_WPT: &[Deviation] = &[
    (
        "a@\u{f1}",
        "non-ASCII domain: the browser punycodes it first; submit the xn-- form",
    ),
    (
        "\u{f1}@\u{f1}",
        "non-ASCII local part and domain: outside the WHATWG grammar",
    ),
    (
        "a@123.123.123.123.123",
        "all-digit labels are valid labels in the grammar; the browser's host parser rejects them as a bad IPv4",
    ),
    (
        "a@0xFFFFFFFFF",
        "a valid label in the grammar; the browser's host parser reads it as an out-of-range IPv4",
    ),
    ("a@[::1]", "IP-literal domain: not in the WHATWG grammar"),
    (
        "",
        "the empty string is not an address; an absent value is Option::None, not a valid email",
    ),
];

#[test]
fn email_wpt() {
    let doc = load("email-wpt/email-validity.json");
    let cases: Vec<(String, bool)> = doc
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["input"].as_str().unwrap().to_owned(),
                c["valid"].as_bool().unwrap(),
            )
        })
        .collect();
    check("email-wpt", email, &cases, EMAIL_WPT);
}

const EMAIL_VALIDATORJS: &[Deviation] = &[
    (
        "hans.m端ller@test.com",
        "non-ASCII local part: outside the WHATWG grammar",
    ),
    ("hans@m端ller.com", "non-ASCII domain: submit the xn-- form"),
    (
        "test|123@m端ller.com",
        "non-ASCII domain: submit the xn-- form",
    ),
    (
        "\"foobar\"@example.com",
        "quoted local part: outside the WHATWG grammar (and a quoting/injection hazard downstream)",
    ),
    (
        "\"  foo  m端ller \"@example.com",
        "quoted local part: outside the WHATWG grammar",
    ),
    (
        "\"foo\\@bar\"@example.com",
        "quoted local part: outside the WHATWG grammar",
    ),
    (
        "z@co.c",
        "validator.js wants a TLD of two or more letters; the WHATWG grammar does not",
    ),
    (
        "multiple..dots@stillinvalid.com",
        "the WHATWG grammar allows dots anywhere in the local part",
    ),
    (
        "multiple..dots@gmail.com",
        "the WHATWG grammar allows dots anywhere in the local part",
    ),
    (
        "gmail...ignores...dots...@gmail.com",
        "the WHATWG grammar allows dots anywhere in the local part",
    ),
    (
        "ends.with.dot.@gmail.com",
        "the WHATWG grammar allows dots anywhere in the local part",
    ),
];

#[test]
fn email_validatorjs() {
    let cases = validatorjs("isEmail", &["[]"]);
    check("validatorjs/isEmail", email, &cases, EMAIL_VALIDATORJS);
}

const QUOTED: &str = "quoted local part: outside the WHATWG grammar";
const IP_LITERAL: &str = "IP-literal domain: not in the WHATWG grammar";
const DOTS: &str =
    "the WHATWG grammar allows dots anywhere in the local part (RFC 5321 dot-atom does not)";

/// JSON Schema's `email` is RFC 5321, a different grammar from HTML's.
const EMAIL_JSON_SCHEMA: &[Deviation] = &[
    ("\"joe bloggs\"@example.com", QUOTED),
    ("\"joe..bloggs\"@example.com", QUOTED),
    ("\"joe@bloggs\"@example.com", QUOTED),
    ("joe.bloggs@[127.0.0.1]", IP_LITERAL),
    ("joe.bloggs@[IPv6:::1]", IP_LITERAL),
    (".test@example.com", DOTS),
    ("test.@example.com", DOTS),
    ("te..st@example.com", DOTS),
];

#[test]
fn email_json_schema() {
    let cases = json_schema("email.json");
    check("json-schema/email", email, &cases, EMAIL_JSON_SCHEMA);
}

// ---------------------------------------------------------------- ip

#[test]
fn ip_validator_crate() {
    for (name, rule) in [
        ("test_validate_ip", ip as fn(&str) -> bool),
        ("test_validate_ip_v4", ipv4),
        ("test_validate_ip_v6", ipv6),
    ] {
        let cases = validator_crate("ip.json", name);
        check(&format!("validator-crate/{name}"), rule, &cases, &[]);
    }
}

#[test]
fn ip_json_schema() {
    let (v4, v6) = (json_schema("ipv4.json"), json_schema("ipv6.json"));
    check("json-schema/ipv4", ipv4, &v4, &[]);
    check("json-schema/ipv6", ipv6, &v6, &[]);
}

const ZONE_ID: &str =
    "zone identifiers name an interface of the host that reads them; not an address";

#[test]
fn ip_validatorjs() {
    let any = validatorjs("isIP", &["[]", "[{}]", "[{\"version\":null}]"]);
    let v4 = validatorjs("isIP", &["[4]", "[{\"version\":4}]"]);
    let v6 = validatorjs("isIP", &["[6]", "[{\"version\":6}]"]);
    check(
        "validatorjs/isIP",
        ip,
        &any,
        &[("fe80::7:8%eth0", ZONE_ID), ("fe80::7:8%1", ZONE_ID)],
    );
    check("validatorjs/isIP(4)", ipv4, &v4, &[]);
    check(
        "validatorjs/isIP(6)",
        ipv6,
        &v6,
        &[
            ("fe80::1234%1", ZONE_ID),
            ("ff08::9abc%10", ZONE_ID),
            ("ff08::9abc%interface10", ZONE_ID),
            ("ff02::5678%pvc1.3", ZONE_ID),
        ],
    );
}

// ---------------------------------------------------------------- uuid

const ANY_VARIANT: &str =
    "the rule checks the hyphenated shape, not version or variant bits (as JSON Schema's format)";

#[test]
fn uuid_corpora() {
    let schema = json_schema("uuid.json");
    let loose = validatorjs("isUUID", &["[\"loose\"]"]);
    let all = validatorjs("isUUID", &["[\"all\"]"]);
    let default = validatorjs("isUUID", &["[]"]);
    check("json-schema/uuid", uuid, &schema, &[]);
    check("validatorjs/isUUID(loose)", uuid, &loose, &[]);
    let variant_c = &[("A987FBC9-4BED-3078-CF07-9141BA07C9F3", ANY_VARIANT)];
    check("validatorjs/isUUID(all)", uuid, &all, variant_c);
    check("validatorjs/isUUID", uuid, &default, variant_c);
}

// ---------------------------------------------------------------- credit card

const SEPARATORS: &str = "digits only: strip spaces and hyphens before validating, so the checked value is the stored one";
const NO_IIN: &str =
    "issuer ranges are not checked (they change; the processor decides); the Luhn digit is right";

#[test]
fn credit_card_corpora() {
    let crate_cases = validator_crate("cards.json", "test_credit_card");
    let js = validatorjs("isCreditCard", &["[]"]);
    check("validator-crate/cards", credit_card, &crate_cases, &[]);
    check(
        "validatorjs/isCreditCard",
        credit_card,
        &js,
        &[
            ("4716-2210-5188-5662", SEPARATORS),
            ("4929 7226 5379 7141", SEPARATORS),
            ("2721465526338453", NO_IIN),
            ("2220175103860763", NO_IIN),
        ],
    );
}

// ---------------------------------------------------------------- text

#[test]
fn text_validatorjs() {
    let a = validatorjs("isAscii", &["[]"]);
    let an = validatorjs("isAlphanumeric", &["[]", "[\"en-US\"]"]);
    check("validatorjs/isAscii", ascii, &a, &[]);
    check("validatorjs/isAlphanumeric", alphanumeric, &an, &[]);
}

/// Lines of traversal.txt that `safe_path` accepts, and why that is harmless.
const TRAVERSAL_HARMLESS: &[Deviation] = &[
    (
        ".htaccess",
        "stays in the directory; hidden files are a naming policy, not traversal",
    ),
    ("././.htaccess", "`.` segments stay in the directory"),
    (
        ".\\\\./.\\\\./.\\\\./.\\\\./.\\\\./.\\\\./etc/passwd",
        "only `.` and empty segments: resolves to ./etc/passwd",
    ),
    (
        ".\\\\./.\\\\./.\\\\./.\\\\./.\\\\./.\\\\./etc/shadow",
        "only `.` and empty segments: resolves to ./etc/shadow",
    ),
];

#[test]
fn safe_path_rejects_traversal_payloads() {
    let text = read("payloads/traversal.txt");
    let cases: Vec<(String, bool)> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| (l.to_owned(), false))
        .collect();
    check("payloads/traversal", safe_path, &cases, TRAVERSAL_HARMLESS);
}

// ---------------------------------------------------------------- url

/// A policy that allows exactly the scheme `s` starts with (tests only: leaks the name).
fn policy_for(s: &str) -> UrlPolicy {
    let scheme = s.split_once(':').map_or("", |(scheme, _)| scheme);
    let scheme: &'static str = Box::leak(scheme.to_ascii_lowercase().into_boxed_str());
    let schemes: &'static [&'static str] = Box::leak(Box::new([scheme]));
    UrlPolicy {
        schemes,
        public: false,
    }
}

fn url_test_data() -> Vec<Value> {
    let doc = load("url/urltestdata.json");
    doc.as_array()
        .unwrap()
        .iter()
        .filter(|c| c.is_object())
        .cloned()
        .collect()
}

fn has_whitespace_or_control(s: &str) -> bool {
    s.chars().any(|c| c == ' ' || c.is_control())
}

#[test]
fn url_rejects_every_whatwg_failure() {
    let cases = url_test_data();
    let mut checked = 0;
    for case in cases.iter().filter(|c| c["failure"] == true) {
        let input = case["input"].as_str().unwrap();
        // Without a base every input that fails against a base fails too.
        for policy in [policy_for(input), UrlPolicy::DEFAULT] {
            assert!(!url(input, &policy), "{input:?} must be rejected");
        }
        checked += 1;
    }
    eprintln!("urltestdata: {checked} failure cases rejected");
}

#[test]
fn url_accepts_whatwg_absolute_urls() {
    let cases = url_test_data();
    let (mut accepted, mut stricter) = (0, 0);
    for case in cases
        .iter()
        .filter(|c| c["failure"] != true && c["base"].is_null())
    {
        let input = case["input"].as_str().unwrap();
        let got = url(input, &policy_for(case["protocol"].as_str().unwrap()));
        // Deliberately stricter than WHATWG: the parser strips tabs and newlines and trims
        // C0 controls and spaces; we reject such input so the stored value is what was checked.
        // Also stricter: credentials in a URL are refused.
        let user_info = case["username"].as_str().is_some_and(|u| !u.is_empty())
            || case["password"].as_str().is_some_and(|p| !p.is_empty());
        if has_whitespace_or_control(input) || user_info {
            assert!(!got, "{input:?} has whitespace, controls or user info");
            stricter += 1;
        } else {
            assert!(got, "{input:?} is a valid absolute URL");
            accepted += 1;
        }
    }
    eprintln!(
        "urltestdata: {accepted} accepted, {stricter} rejected for whitespace, controls or user info"
    );
}

#[test]
fn url_fast_path_agrees_with_parser_on_whatwg_corpus() {
    let cases = url_test_data();
    let public = UrlPolicy {
        public: true,
        ..UrlPolicy::DEFAULT
    };
    let mut answered = 0;
    for case in &cases {
        let input = case["input"].as_str().unwrap();
        for policy in [UrlPolicy::DEFAULT, public] {
            if let Some(fast) = policy.fast_answer(input) {
                assert_eq!(fast, policy.parsed_answer(input), "{input:?} {policy:?}");
                answered += 1;
            }
        }
    }
    eprintln!("urltestdata: fast path answered {answered} times, always as the parser");
}

const ANY_SCHEME: UrlPolicy = UrlPolicy {
    // validator's rule takes any scheme; these are the ones its corpus uses.
    schemes: &["http", "https", "ftp"],
    public: false,
};

#[test]
fn url_validator_crate() {
    let cases = validator_crate("urls.json", "test_validate_url");
    check("validator-crate/urls", |s| url(s, &ANY_SCHEME), &cases, &[]);
}

const NO_SCHEME: &str = "not an absolute URL: the rule requires a scheme";
const NEEDS_TLD: &str =
    "validator.js wants a TLD; WHATWG does not (use url(public) to refuse single-label names)";

const USER_INFO: &str =
    "credentials in a URL are refused: they leak through logs and disguise the real host";

/// validator.js's default `isURL` allows scheme-less input and checks host names its own way;
/// where WHATWG (our authority) and it differ, WHATWG wins.
const URL_VALIDATORJS: &[Deviation] = &[
    ("foobar.com", NO_SCHEME),
    ("www.foobar.com", NO_SCHEME),
    ("foobar.com/", NO_SCHEME),
    ("valid.au", NO_SCHEME),
    ("test.com?ref=http://test2.com", NO_SCHEME),
    (
        "ｊａｖａｓｃｒｉｐｔ:alert(1)@example.com",
        "full-width letters are not a scheme, so this is not an absolute URL",
    ),
    ("http://localhost:3000/", NEEDS_TLD),
    ("http://com/", NEEDS_TLD),
    ("http://www.foobar.com:0/", "port 0 is valid URL syntax"),
    (
        "http://www.-foobar.com/",
        "WHATWG host parsing allows hyphens at label ends (CheckHyphens=false)",
    ),
    (
        "http://www.foobar-.com/",
        "WHATWG host parsing allows hyphens at label ends (CheckHyphens=false)",
    ),
    ("http://www.foo_bar.com/", "WHATWG host parsing allows `_`"),
    ("http://*.foo.com", "WHATWG host parsing allows `*`"),
    ("http://user:pass@www.foobar.com/", USER_INFO),
    ("http://user:@www.foobar.com/", USER_INFO),
    ("http://:pass@www.foobar.com/", USER_INFO),
    ("http://user@www.foobar.com", USER_INFO),
    ("http://evil-site.com@example.com/", USER_INFO),
    (
        "http://@foobar.com",
        "the parser drops empty user info; the host is foobar.com",
    ),
    (
        "http://:@foobar.com",
        "the parser drops empty user info; the host is foobar.com",
    ),
    (
        "http://example.com.",
        "a trailing dot is a valid (fully qualified) host",
    ),
    (
        "http:////foobar.com",
        "WHATWG skips extra slashes after a special scheme: the host is foobar.com",
    ),
    (
        "https://example.com/foo/<script>alert('XSS')</script>/",
        "a valid URL: the parser percent-encodes `<` `>` in the path; escaping on output stops XSS",
    ),
];

#[test]
fn url_validatorjs() {
    let default = validatorjs("isURL", &["[]"]);
    let protocol = validatorjs("isURL", &["[{\"require_protocol\":true}]"]);
    let valid_protocol = validatorjs(
        "isURL",
        &["[{\"require_valid_protocol\":true,\"protocols\":[\"http\",\"https\",\"ftp\"]}]"],
    );
    let rule = |s: &str| url(s, &ANY_SCHEME);
    // validator.js caps URLs at 2083 characters; the rule has no cap of its own (URLs have no
    // length limit in any spec): bound it with `bytes(max = ..)`.
    let long: &'static str = Box::leak(format!("http://foobar.com/{}", "f".repeat(2082)).into());
    let mut deviations = URL_VALIDATORJS.to_vec();
    deviations.push((long, "no length cap in the rule; add bytes(max = ..)"));
    check("validatorjs/isURL", rule, &default, &deviations);
    let needs_tld = &[
        ("http://localhost/", NEEDS_TLD),
        ("http://user:pw@foobar.com/", USER_INFO),
        ("https://user:password@example.com", USER_INFO),
        ("ftp://admin:pass@ftp.example.com/", USER_INFO),
    ];
    check(
        "validatorjs/isURL(require_protocol)",
        rule,
        &protocol,
        needs_tld,
    );
    check("validatorjs/isURL(protocols)", rule, &valid_protocol, &[]);
}

#[test]
fn url_public_validator_corpora_hosts() {
    // validator.js's own SSRF-flavoured valid cases that reach internal hosts must be refused.
    let public = UrlPolicy {
        schemes: &["http", "https", "ftp"],
        public: true,
    };
    for s in [
        "http://127.0.0.1/",
        "http://10.0.0.0/",
        "http://localhost:80",
        "http://[::192.9.5.5]/ipng",
    ] {
        assert!(url(s, &ANY_SCHEME) && !url(s, &public), "{s:?}");
    }
}
