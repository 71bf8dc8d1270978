//! TOTP MFA and recovery codes: the enrolment URI, the ±1 step window, replay refusal,
//! malformed codes, recovery codes that are random, single-use and stored hashed, audit
//! events, and `Debug` output without secrets.

use std::collections::HashSet;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secure_core::auth::mfa::{
    MfaError, RECOVERY_CODE_COUNT, RecoveryCodeHash, RecoveryCodes, TotpIssuer, TotpSecret,
    verify_recovery_code, verify_totp,
};
use secure_core::{ExposeSecret, SecretString};
use tracing_subscriber::fmt::MakeWriter;

/// RFC 6238 appendix B's SHA-1 key, "12345678901234567890", in base32.
const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
/// RFC 6238 appendix B: at T = 1111111109 s (step 37037036) the code is (940)81804...
const STEP_A: u64 = 37_037_036;
const CODE_A: &str = "081804";
/// ... and at T = 1111111111 s (step 37037037) it is (140)50471.
const STEP_B: u64 = 37_037_037;
const CODE_B: &str = "050471";

fn rfc_secret() -> TotpSecret {
    TotpSecret::from_base32(&SecretString::from(RFC_SECRET)).unwrap()
}

/// A time inside `step` (10 s into it).
fn at_step(step: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(step * 30 + 10)
}

fn query_param<'a>(uri: &'a str, name: &str) -> Option<&'a str> {
    let query = uri.split_once('?')?.1;
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

#[test]
fn enrolment_uri_names_issuer_account_secret_and_parameters() {
    let issuer = TotpIssuer::new("Notes App").unwrap();
    let enrollment = issuer.enroll("ada@example.com").unwrap();
    let uri = enrollment.otpauth_uri().expose_secret();

    assert!(
        uri.starts_with("otpauth://totp/Notes%20App:ada%40example.com?"),
        "{uri}"
    );
    assert_eq!(query_param(uri, "issuer"), Some("Notes%20App"));
    assert_eq!(query_param(uri, "algorithm"), Some("SHA1"));
    assert_eq!(query_param(uri, "digits"), Some("6"));
    assert_eq!(query_param(uri, "period"), Some("30"));

    let secret = query_param(uri, "secret").unwrap();
    assert_eq!(secret.len(), 32, "160 bits in unpadded base32");
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
    );
    assert_eq!(secret, enrollment.secret().to_base32().expose_secret());

    // Stored and loaded back.
    let reloaded = TotpSecret::from_base32(&enrollment.secret().to_base32()).unwrap();
    assert_eq!(
        reloaded.to_base32().expose_secret(),
        enrollment.secret().to_base32().expose_secret()
    );

    // A fresh secret each time.
    let other = issuer.enroll("ada@example.com").unwrap();
    assert_ne!(
        other.secret().to_base32().expose_secret(),
        enrollment.secret().to_base32().expose_secret()
    );
}

#[test]
fn enrolment_refuses_names_that_break_the_label() {
    assert_eq!(TotpIssuer::new("").unwrap_err(), MfaError::InvalidIssuer);
    assert_eq!(TotpIssuer::new("a:b").unwrap_err(), MfaError::InvalidIssuer);
    assert_eq!(
        TotpIssuer::new("a\nb").unwrap_err(),
        MfaError::InvalidIssuer
    );
    let issuer = TotpIssuer::new("Notes").unwrap();
    for bad in ["", "ada:admin", "ada\r\n", &"a".repeat(10_000)] {
        assert_eq!(
            issuer.enroll(bad).unwrap_err(),
            MfaError::InvalidAccountName,
            "{bad:?}"
        );
    }
    // Non-ASCII is fine, percent-encoded.
    let e = issuer.enroll("zoë").unwrap();
    assert!(e.otpauth_uri().expose_secret().contains("Notes:zo%C3%AB?"));
}

#[test]
fn code_is_accepted_in_the_current_and_adjacent_steps_only() {
    let secret = rfc_secret();
    // CODE_A belongs to STEP_A; check it with the clock one, two steps either side.
    assert_eq!(
        verify_totp("u", &secret, CODE_A, None, at_step(STEP_A)),
        Ok(STEP_A)
    );
    assert_eq!(
        verify_totp("u", &secret, CODE_A, None, at_step(STEP_A - 1)),
        Ok(STEP_A)
    );
    assert_eq!(
        verify_totp("u", &secret, CODE_A, None, at_step(STEP_A + 1)),
        Ok(STEP_A)
    );
    assert_eq!(
        verify_totp("u", &secret, CODE_A, None, at_step(STEP_A - 2)),
        Err(MfaError::WrongCode)
    );
    assert_eq!(
        verify_totp("u", &secret, CODE_A, None, at_step(STEP_A + 2)),
        Err(MfaError::WrongCode)
    );
    // Step boundaries: the first and last second of the step window.
    let first = UNIX_EPOCH + Duration::from_secs((STEP_A - 1) * 30);
    let last = UNIX_EPOCH + Duration::from_secs((STEP_A + 2) * 30 - 1);
    assert_eq!(verify_totp("u", &secret, CODE_A, None, first), Ok(STEP_A));
    assert_eq!(verify_totp("u", &secret, CODE_A, None, last), Ok(STEP_A));
    assert_eq!(
        verify_totp("u", &secret, CODE_A, None, last + Duration::from_secs(1)),
        Err(MfaError::WrongCode)
    );
    // RFC 6238's own vectors.
    for (t, code) in [
        (59, "287082"),
        (1_234_567_890, "005924"),
        (2_000_000_000, "279037"),
    ] {
        let now = UNIX_EPOCH + Duration::from_secs(t);
        assert_eq!(verify_totp("u", &secret, code, None, now), Ok(t / 30));
    }
}

#[test]
fn the_same_step_is_accepted_once() {
    let secret = rfc_secret();
    let now = at_step(STEP_B);
    let step = verify_totp("u", &secret, CODE_B, None, now).unwrap();
    assert_eq!(step, STEP_B);
    assert_eq!(
        verify_totp("u", &secret, CODE_B, Some(step), now),
        Err(MfaError::Replay)
    );
    // Still a replay a step later, while the code is inside the window.
    assert_eq!(
        verify_totp("u", &secret, CODE_B, Some(step), at_step(STEP_B + 1)),
        Err(MfaError::Replay)
    );
}

#[test]
fn an_earlier_step_after_a_later_one_is_refused() {
    let secret = rfc_secret();
    let now = at_step(STEP_B);
    let last = verify_totp("u", &secret, CODE_B, None, now).unwrap();
    assert_eq!(
        verify_totp("u", &secret, CODE_A, Some(last), now),
        Err(MfaError::Replay)
    );
    // The other way round is fine: a later step after an earlier one.
    let last = verify_totp("u", &secret, CODE_A, None, now).unwrap();
    assert_eq!(last, STEP_A);
    assert_eq!(
        verify_totp("u", &secret, CODE_B, Some(last), now),
        Ok(STEP_B)
    );
}

#[test]
fn malformed_codes_are_refused_without_panicking() {
    let secret = rfc_secret();
    let now = at_step(STEP_B);
    let huge = "0".repeat(1 << 20);
    for bad in [
        "",
        " ",
        "abcdef",
        "05047",
        "0504711",
        "05047a",
        "+50471",
        "-50471",
        "050471\n",
        "05\u{0}471",
        "٠٥٠٤٧١",       // Arabic-Indic digits
        "０５０４７１", // fullwidth digits
        "𝟎𝟓𝟎𝟒𝟕𝟏",       // mathematical bold digits
        "05０471",
        "💥💥💥💥💥💥",
        &huge,
    ] {
        assert_eq!(
            verify_totp("u", &secret, bad, None, now),
            Err(MfaError::MalformedCode),
            "{bad:?}"
        );
    }
    // Grouping spaces, as apps display the code, are fine.
    assert_eq!(verify_totp("u", &secret, "050 471", None, now), Ok(STEP_B));
    // Clocks at the edges of time do not panic.
    for now in [
        UNIX_EPOCH,
        UNIX_EPOCH - Duration::from_secs(1),
        UNIX_EPOCH + Duration::from_secs(u64::MAX / 2),
    ] {
        let _ = verify_totp("u", &secret, CODE_B, None, now);
    }
    let _ = verify_totp("u", &secret, CODE_B, Some(u64::MAX), now);
}

#[test]
fn stored_secrets_are_checked() {
    for bad in ["", "not base32!", "GEZDGNBV", "gezdgnbvgy3tqojq", "Ω"] {
        assert_eq!(
            TotpSecret::from_base32(&SecretString::from(bad)).unwrap_err(),
            MfaError::InvalidSecret,
            "{bad:?}"
        );
    }
}

#[test]
fn recovery_codes_are_ten_unique_high_entropy_and_grouped() {
    let set = RecoveryCodes::generate();
    assert_eq!(RECOVERY_CODE_COUNT, 10);
    assert_eq!(set.codes().len(), 10);
    assert_eq!(set.hashes().len(), 10);
    let codes: HashSet<&str> = set.codes().iter().map(|c| c.expose_secret()).collect();
    assert_eq!(codes.len(), 10);
    for code in &codes {
        let groups: Vec<&str> = code.split('-').collect();
        assert_eq!(groups.len(), 4, "{code}");
        assert!(groups.iter().all(|g| g.len() == 4));
        // Crockford base32: 16 symbols x 5 bits = 80 bits.
        assert!(
            code.bytes()
                .filter(|&b| b != b'-')
                .all(|b| b"0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(&b)),
            "{code}"
        );
    }
    // Across sets too.
    let other = RecoveryCodes::generate();
    assert!(
        other
            .codes()
            .iter()
            .all(|c| !codes.contains(c.expose_secret()))
    );
}

#[test]
fn recovery_codes_are_stored_hashed() {
    let set = RecoveryCodes::generate();
    let stored: Vec<String> = set
        .hashes()
        .iter()
        .map(RecoveryCodeHash::to_stored_string)
        .collect();
    let all = stored.join("\n");
    for code in set.codes() {
        let code = code.expose_secret();
        let bare = code.replace('-', "");
        for form in [
            code.to_owned(),
            bare.clone(),
            bare.to_lowercase(),
            code[..4].to_owned(),
        ] {
            assert!(!all.contains(&form), "{form} in {all}");
        }
    }
    // Same code, different salt: equal codes would not give equal hashes either.
    let unique: HashSet<&String> = stored.iter().collect();
    assert_eq!(unique.len(), 10);
    for s in &stored {
        assert!(s.starts_with("rc1$"));
        assert_eq!(
            RecoveryCodeHash::parse(s)
                .as_ref()
                .map(RecoveryCodeHash::to_stored_string),
            Ok(s.clone())
        );
    }
    for bad in [
        "",
        "rc1$",
        "rc1$$",
        "rc2$AAAA$AAAA",
        "rc1$!!$!!",
        "rc1$AAAAAAAAAAAAAAAAAAAAAA$AAAA",
    ] {
        assert_eq!(
            RecoveryCodeHash::parse(bad).unwrap_err(),
            MfaError::MalformedRecoveryHash
        );
    }
}

#[test]
fn recovery_codes_are_single_use() {
    let set = RecoveryCodes::generate();
    let mut stored: Vec<RecoveryCodeHash> = set.hashes().to_vec();
    let codes: Vec<String> = set
        .codes()
        .iter()
        .map(|c| c.expose_secret().to_owned())
        .collect();

    // Use every code once, in a scrambled order, typed in different ways.
    for (n, i) in [7usize, 0, 9, 3, 5, 1, 8, 2, 6, 4].into_iter().enumerate() {
        let typed = match n % 3 {
            0 => codes[i].clone(),
            1 => codes[i].to_lowercase(),
            _ => codes[i].replace('-', " "),
        };
        let used = verify_recovery_code("u", &SecretString::from(typed.clone()), &stored).unwrap();
        assert_eq!(stored[used], set.hashes()[i]);
        stored.remove(used);
        assert_eq!(
            verify_recovery_code("u", &SecretString::from(typed), &stored),
            Err(MfaError::WrongCode),
            "code {i} used twice"
        );
    }
    assert!(stored.is_empty());
}

#[test]
fn wrong_and_malformed_recovery_codes_are_refused() {
    let set = RecoveryCodes::generate();
    let stored = set.hashes();
    let huge = "A".repeat(1 << 20);
    for bad in [
        "",
        "ABCD",
        "ABCD-EFGH-JKMN-PQRU",
        "ÄBCD-EFGH-JKMN-PQRS",
        "１２３４-5678-9ABC-DEFG",
        &huge,
    ] {
        assert_eq!(
            verify_recovery_code("u", &SecretString::from(bad), stored),
            Err(MfaError::MalformedCode),
            "{bad:?}"
        );
    }
    assert_eq!(
        verify_recovery_code("u", &SecretString::from("0000-0000-0000-0000"), stored),
        Err(MfaError::WrongCode)
    );
    assert_eq!(
        verify_recovery_code("u", &SecretString::from("0000-0000-0000-0000"), &[]),
        Err(MfaError::WrongCode)
    );
}

#[test]
fn debug_never_shows_secrets_uris_or_codes() {
    let enrollment = TotpIssuer::new("Notes").unwrap().enroll("ada").unwrap();
    let base32 = enrollment.secret().to_base32().expose_secret().to_owned();
    let set = RecoveryCodes::generate();
    let texts = [
        format!("{enrollment:?}"),
        format!("{:?}", enrollment.secret()),
        format!("{:?}", enrollment.otpauth_uri()),
        format!("{:?}", enrollment.secret().to_base32()),
        format!("{set:?}"),
        format!("{:?}", set.codes()),
        format!("{:?}", set.hashes()),
        format!("{:?}", rfc_secret()),
        format!("{:?}", MfaError::Replay),
    ];
    for text in &texts {
        assert!(!text.contains(&base32), "{text}");
        assert!(!text.contains(RFC_SECRET), "{text}");
        assert!(!text.contains("otpauth://"), "{text}");
        for code in set.codes() {
            assert!(!text.contains(code.expose_secret()), "{text}");
        }
    }
}

#[test]
fn mfa_outcomes_are_audited() {
    let secret = rfc_secret();
    let now = at_step(STEP_B);
    let set = RecoveryCodes::generate();
    let code = set.codes()[0].expose_secret().to_owned();
    let log = captured(|| {
        let _ = verify_totp("user-7", &secret, "12345x", None, now);
        let _ = verify_totp("user-7", &secret, "123456", None, now);
        let _ = verify_totp("user-7", &secret, CODE_B, Some(STEP_B), now);
        let _ = verify_totp("user-7", &secret, CODE_B, None, now);
        let _ = verify_recovery_code("user-7", &SecretString::from(code.clone()), set.hashes());
        let _ = verify_recovery_code(
            "user-7",
            &SecretString::from("0000-0000-0000-0000"),
            set.hashes(),
        );
    });
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 6, "{log}");
    let expect = [
        ("failure", "bad_otp"),
        ("failure", "bad_otp"),
        ("failure", "otp_replay"),
        ("success", "otp_ok"),
        ("success", "recovery_code_used"),
        ("failure", "bad_otp"),
    ];
    for (line, (outcome, reason)) in lines.iter().zip(expect) {
        assert!(
            line.contains("auth.mfa") && line.contains("subject=user-7"),
            "{line}"
        );
        assert!(line.contains(outcome) && line.contains(reason), "{line}");
    }
    assert!(
        !log.contains(CODE_B) && !log.contains(&code) && !log.contains("123456"),
        "{log}"
    );
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn captured(f: impl FnOnce()) -> String {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    secure_tests::tracing_fallback();
    tracing::subscriber::with_default(subscriber, f);
    let bytes = capture.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}
