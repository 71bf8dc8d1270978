//! Sanitising is idempotent for every combination of sanitizers, on any string, and a derived
//! type never panics while sanitising or validating.

use proptest::prelude::*;
use secure_core::prelude::*;
use secure_core::validate::sanitize::{Normalization, Sanitizers, apply};

fn every_combination() -> Vec<Sanitizers> {
    let mut out = Vec::new();
    for trim in [false, true] {
        for strip_control in [false, true] {
            for case in 0..3 {
                for normalization in [None, Some(Normalization::Nfc), Some(Normalization::Nfkc)] {
                    out.push(Sanitizers {
                        trim,
                        lowercase: case == 1,
                        uppercase: case == 2,
                        normalization,
                        strip_control,
                    });
                }
            }
        }
    }
    out
}

fn assert_idempotent(s: &str) -> Result<(), TestCaseError> {
    for ops in every_combination() {
        let mut once = s.to_owned();
        apply(&mut once, ops);
        let mut twice = once.clone();
        apply(&mut twice, ops);
        prop_assert_eq!(&twice, &once, "not idempotent for {:?} with {:?}", s, ops);
    }
    Ok(())
}

/// Characters that change class under normalisation or case mapping: compatibility spaces,
/// letterlike symbols, combining marks, final sigma, dotted capital I, ligatures, controls.
fn tricky() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "\u{a8}",
        "\u{210c}",
        "\u{2126}",
        "\u{130}",
        "\u{3a3}",
        "\u{3c2}",
        "\u{df}",
        "\u{fb01}",
        "\u{301}",
        "\u{308}",
        "\u{0}",
        "\r\n",
        "\t",
        "\u{85}",
        "\u{a0}",
        "\u{3000}",
        "\u{2028}",
        "\u{ff21}",
        "\u{1e9e}",
        "\u{1c5}",
        "e",
        "A",
        " ",
        "\u{2160}",
        "\u{24b6}",
        "\u{1d400}",
    ]);
    prop::collection::vec(pieces, 0..12).prop_map(|v| v.concat())
}

#[derive(Validated, Debug, Clone, PartialEq)]
struct Everything {
    #[validate(trim, lowercase, nfkc, strip_control, length(min = 1, max = 64), email)]
    email: String,
    #[validate(nfc, uppercase, pattern = "[A-Z0-9 ]*", no_control)]
    code: String,
    #[validate(each(trim, length(max = 8), url(public)))]
    links: Vec<String>,
    #[validate(strip_control, safe_path, alphanumeric, ascii, uuid, ip, credit_card)]
    other: Option<String>,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn sanitizers_are_idempotent_on_any_string(s in ".*") {
        assert_idempotent(&s)?;
    }

    #[test]
    fn sanitizers_are_idempotent_on_tricky_text(s in tricky()) {
        assert_idempotent(&s)?;
    }

    #[test]
    fn derived_types_sanitise_idempotently_and_never_panic(
        email in ".*", code in tricky(), links in prop::collection::vec(".*", 0..4), other in proptest::option::of(".*"),
    ) {
        let mut value = Everything { email, code, links, other };
        value.sanitize();
        let once = value.clone();
        value.sanitize();
        prop_assert_eq!(&value, &once);
        let _ = value.validate();
    }
}

#[test]
fn sanitizers_are_idempotent_on_naughty_strings() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/payloads/blns.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let strings: Vec<String> = serde_json::from_str(&text).expect("blns.json is a list of strings");
    assert!(strings.len() > 500);
    for s in &strings {
        assert_idempotent(s).unwrap();
    }
}
