//! Passwords: Argon2id PHC hashes with the OWASP parameters, rehash detection, the length
//! policy in code points, the breached-password hook, the unknown-user path, audit events and
//! `Debug` output that never shows a password.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use secure_core::auth::password::{
    Argon2Params, BreachCheckError, BreachedPasswords, MAX_CHARS, MIN_CHARS, PasswordError,
    PasswordHash, PasswordHasher, SkipBreachCheck, StoredPassword, Verification, check_length,
};
use secure_core::{ExposeSecret, SecretString};
use tracing_subscriber::fmt::MakeWriter;

const PASSWORD: &str = "correct horse battery staple Zq9";

fn pw(s: &str) -> SecretString {
    SecretString::from(s)
}

async fn hashed(hasher: &PasswordHasher, password: &str) -> PasswordHash {
    hasher.hash(&pw(password), &SkipBreachCheck).await.unwrap()
}

#[tokio::test]
async fn hash_and_verify_round_trip() {
    let hasher = PasswordHasher::new();
    let hash = hashed(&hasher, PASSWORD).await;
    let verdict = hasher
        .verify(&pw(PASSWORD), Some(StoredPassword::new("user-1", &hash)))
        .await
        .unwrap();
    assert_eq!(verdict, Verification::Valid { rehash: None });
    assert!(verdict.is_valid() && !verdict.needs_rehash());

    // Stored and parsed back, as from a database column.
    let reloaded = PasswordHash::parse(hash.as_phc_str()).unwrap();
    assert_eq!(reloaded, hash);
    assert!(
        hasher
            .verify(
                &pw(PASSWORD),
                Some(StoredPassword::new("user-1", &reloaded))
            )
            .await
            .unwrap()
            .is_valid()
    );
}

#[tokio::test]
async fn wrong_password_is_invalid() {
    let hasher = PasswordHasher::new();
    let hash = hashed(&hasher, PASSWORD).await;
    let stored = Some(StoredPassword::new("user-1", &hash));
    for wrong in [
        "",
        "correct horse battery staple Zq",
        "correct horse battery staple Zq9 ",
        "CORRECT HORSE BATTERY STAPLE ZQ9",
    ] {
        assert_eq!(
            hasher.verify(&pw(wrong), stored).await.unwrap(),
            Verification::Invalid,
            "{wrong:?}"
        );
    }
    // Huge input: refused without hashing, without panicking.
    let huge = pw(&"x".repeat(2 << 20));
    assert_eq!(
        hasher.verify(&huge, stored).await.unwrap(),
        Verification::Invalid
    );
}

#[tokio::test]
async fn phc_string_is_argon2id_v19_with_owasp_parameters() {
    let hasher = PasswordHasher::new();
    assert_eq!(hasher.params(), Argon2Params::OWASP);
    let hash = hashed(&hasher, PASSWORD).await;
    let phc = hash.as_phc_str();
    let fields: Vec<&str> = phc.split('$').collect();
    assert_eq!(fields.len(), 6, "{phc}");
    assert_eq!(fields[0], "");
    assert_eq!(fields[1], "argon2id");
    assert_eq!(fields[2], "v=19");
    assert_eq!(fields[3], "m=19456,t=2,p=1");
    assert_eq!(fields[4].len(), 22, "16-byte salt, unpadded base64");
    assert_eq!(fields[5].len(), 43, "32-byte output, unpadded base64");
    assert!(!phc.contains(PASSWORD));
    assert_eq!(hash.params(), Argon2Params::OWASP);

    // Fresh salt per hash.
    let again = hashed(&hasher, PASSWORD).await;
    assert_ne!(again.as_phc_str(), phc);
}

#[tokio::test]
async fn weaker_parameters_ask_for_a_rehash() {
    let weak = Argon2Params {
        memory_kib: 8 * 1024,
        iterations: 1,
        parallelism: 1,
    };
    let old = PasswordHasher::with_params(weak).unwrap();
    let stored = hashed(&old, PASSWORD).await;
    assert!(
        stored
            .as_phc_str()
            .starts_with("$argon2id$v=19$m=8192,t=1,p=1$")
    );

    let hasher = PasswordHasher::new();
    let verdict = hasher
        .verify(&pw(PASSWORD), Some(StoredPassword::new("user-1", &stored)))
        .await
        .unwrap();
    assert!(verdict.is_valid() && verdict.needs_rehash());
    let Verification::Valid {
        rehash: Some(rehash),
    } = verdict
    else {
        panic!("expected a rehash");
    };
    let fresh = rehash.run(&hasher, &pw(PASSWORD)).await.unwrap();
    assert_eq!(fresh.params(), Argon2Params::OWASP);
    assert_eq!(
        hasher
            .verify(&pw(PASSWORD), Some(StoredPassword::new("user-1", &fresh)))
            .await
            .unwrap(),
        Verification::Valid { rehash: None }
    );

    // A wrong password against the old hash is just invalid, with no rehash.
    assert_eq!(
        hasher
            .verify(
                &pw("not the password!"),
                Some(StoredPassword::new("user-1", &stored))
            )
            .await
            .unwrap(),
        Verification::Invalid
    );
}

#[tokio::test]
async fn stronger_costs_also_ask_for_a_rehash() {
    // Different is different: a hash made with more passes than configured is rehashed to the
    // configured parameters, so every stored hash converges on one setting.
    let stronger = PasswordHasher::with_params(Argon2Params {
        memory_kib: 19 * 1024,
        iterations: 3,
        parallelism: 1,
    })
    .unwrap();
    let stored = hashed(&stronger, PASSWORD).await;
    let hasher = PasswordHasher::new();
    assert!(
        hasher
            .verify(&pw(PASSWORD), Some(StoredPassword::new("u", &stored)))
            .await
            .unwrap()
            .needs_rehash()
    );
}

#[tokio::test]
async fn argon2i_and_argon2d_hashes_verify_and_ask_for_a_rehash() {
    // Vectors from the argon2 crate's PHC tests; password "password" (8 characters: a legacy
    // password shorter than today's policy still logs in, and is rehashed).
    let hasher = PasswordHasher::new();
    for phc in [
        "$argon2i$v=19$m=65536,t=1,p=1$c29tZXNhbHQAAAAAAAAAAA$+r0d29hqEB0yasKr55ZgICsQGSkl0v0kgwhd+U3wyRo",
        "$argon2d$v=19$m=65536,t=2,p=1$YzI5dFpYTmhiSFFBQUFBQUFBQUFBQQ$Jxy74cswY2mq9y+u+iJcJy8EqOp4t/C7DWDzGwGB3IM",
    ] {
        let stored = PasswordHash::parse(phc).unwrap();
        let verdict = hasher
            .verify(&pw("password"), Some(StoredPassword::new("u", &stored)))
            .await
            .unwrap();
        assert!(verdict.needs_rehash(), "{phc}");
        let wrong = hasher
            .verify(&pw("sassword"), Some(StoredPassword::new("u", &stored)))
            .await
            .unwrap();
        assert_eq!(wrong, Verification::Invalid);
    }
}

#[test]
fn malformed_stored_hashes_are_refused_when_loaded() {
    for bad in [
        "",
        "$",
        "plaintext",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        "$argon2id$v=19$m=19456,t=2,p=1",
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA",
        "$argon2id$v=7$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aW52YWxpZGhhc2hvdXRwdXRpbnZhbGlkaGFzaG91dA",
        "$argon2id$v=19$m=1,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aW52YWxpZGhhc2hvdXRwdXRpbnZhbGlkaGFzaG91dA",
        "$argon2id$v=19$m=19456,t=2,p=1,x=3$c29tZXNhbHRzb21lc2FsdA$aW52YWxpZGhhc2hvdXRwdXRpbnZhbGlkaGFzaG91dA",
        "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
    ] {
        assert_eq!(
            PasswordHash::parse(bad).unwrap_err(),
            PasswordError::MalformedHash,
            "{bad:?}"
        );
    }
}

#[test]
fn length_policy_edges_in_code_points() {
    assert_eq!((MIN_CHARS, MAX_CHARS), (12, 128));
    let ok = |s: String| check_length(&SecretString::from(s));
    assert_eq!(ok("a".repeat(11)), Err(PasswordError::TooShort { min: 12 }));
    assert_eq!(ok("a".repeat(12)), Ok(()));
    assert_eq!(ok("a".repeat(128)), Ok(()));
    assert_eq!(
        ok("a".repeat(129)),
        Err(PasswordError::TooLong { max: 128 })
    );
    assert_eq!(ok(String::new()), Err(PasswordError::TooShort { min: 12 }));

    // Emoji: one code point each, not 4 bytes each.
    assert_eq!(
        ok("🔑".repeat(11)),
        Err(PasswordError::TooShort { min: 12 })
    );
    assert_eq!(ok("🔑".repeat(12)), Ok(()));
    assert_eq!(ok("🔑".repeat(128)), Ok(()));
    assert_eq!(
        ok("🔑".repeat(129)),
        Err(PasswordError::TooLong { max: 128 })
    );
    // A skin-tone emoji is two code points (NIST 800-63B: each code point counts).
    assert_eq!(ok("👍🏽".repeat(6)), Ok(()));
    assert_eq!(
        ok(format!("{}👍", "👍🏽".repeat(5))),
        Err(PasswordError::TooShort { min: 12 })
    );

    // Combining marks with no precomposed form count as characters of their own:
    // "q̇" is q + U+0307, two code points even after NFKC.
    assert_eq!(ok("q\u{307}".repeat(6)), Ok(()));
    assert_eq!(
        ok(format!("{}q", "q\u{307}".repeat(5))),
        Err(PasswordError::TooShort { min: 12 })
    );
    // Marks that compose are counted after NFKC: "é" typed as e + U+0301 is one character.
    assert_eq!(
        ok("e\u{301}".repeat(11)),
        Err(PasswordError::TooShort { min: 12 })
    );
    assert_eq!(ok("e\u{301}".repeat(12)), Ok(()));

    // Any Unicode, spaces, no composition rules.
    assert_eq!(ok("пароль пароль".into()), Ok(()));
    assert_eq!(ok("            ".into()), Ok(()));
    assert_eq!(ok("密码密码密码密码密码密码".into()), Ok(()));

    // Far too long: refused without normalising megabytes.
    assert_eq!(
        ok("a".repeat(4 << 20)),
        Err(PasswordError::TooLong { max: 128 })
    );
}

#[tokio::test]
async fn hash_enforces_the_policy() {
    let hasher = PasswordHasher::new();
    let err = hasher.hash(&pw(&"a".repeat(11)), &SkipBreachCheck).await;
    assert_eq!(err.unwrap_err(), PasswordError::TooShort { min: 12 });
    let err = hasher.hash(&pw(&"a".repeat(129)), &SkipBreachCheck).await;
    assert_eq!(err.unwrap_err(), PasswordError::TooLong { max: 128 });
}

/// A breach list the test controls, which records what it was asked.
struct Breached {
    list: &'static [&'static str],
    seen: Mutex<Vec<String>>,
}

impl BreachedPasswords for Breached {
    async fn is_breached(&self, password: &SecretString) -> Result<bool, BreachCheckError> {
        self.seen
            .lock()
            .unwrap()
            .push(password.expose_secret().to_owned());
        Ok(self.list.contains(&password.expose_secret()))
    }
}

struct Unavailable;

impl BreachedPasswords for Unavailable {
    async fn is_breached(&self, _: &SecretString) -> Result<bool, BreachCheckError> {
        Err(BreachCheckError::new("service unavailable"))
    }
}

#[tokio::test]
async fn breached_hook_rejects_and_fails_closed() {
    let hasher = PasswordHasher::new();
    let breached = Breached {
        list: &["password1234", "cafe\u{301} cafe\u{301} cafe\u{301}"],
        seen: Mutex::new(Vec::new()),
    };
    assert_eq!(
        hasher
            .hash(&pw("password1234"), &breached)
            .await
            .unwrap_err(),
        PasswordError::Breached
    );
    assert!(hasher.hash(&pw(PASSWORD), &breached).await.is_ok());
    // The hook sees the password as typed (breach corpora are not normalised).
    assert_eq!(
        hasher
            .hash(&pw("cafe\u{301} cafe\u{301} cafe\u{301}"), &breached)
            .await
            .unwrap_err(),
        PasswordError::Breached
    );
    // The length policy runs first: a short password never reaches the hook.
    let _ = hasher.hash(&pw("short"), &breached).await;
    assert_eq!(breached.seen.lock().unwrap().len(), 3);

    let err = hasher.hash(&pw(PASSWORD), &Unavailable).await.unwrap_err();
    assert_eq!(
        err,
        PasswordError::BreachCheckFailed(BreachCheckError::new("service unavailable"))
    );
    assert_eq!(err.code(), "breach_check_failed");
}

#[tokio::test]
async fn unknown_user_verifies_against_the_dummy_and_is_invalid() {
    let hasher = PasswordHasher::new();
    let hash = hashed(&hasher, PASSWORD).await;
    let stored = StoredPassword::new("user-1", &hash);

    // Same answer as a wrong password, whatever is typed.
    assert_eq!(
        hasher.verify(&pw(PASSWORD), None).await.unwrap(),
        Verification::Invalid
    );
    assert_eq!(
        hasher.verify(&pw(""), None).await.unwrap(),
        Verification::Invalid
    );

    // And it costs an Argon2id run: the fastest of a few unknown-user checks is in the same
    // range as the fastest wrong-password check (the bench measures this properly).
    let fastest = |stored: Option<StoredPassword<'_>>| {
        (0..3)
            .map(|_| {
                let start = Instant::now();
                let _ = hasher.verify_blocking(&pw("wrong password here"), stored);
                start.elapsed()
            })
            .min()
            .unwrap_or(Duration::ZERO)
    };
    let known = fastest(Some(stored));
    let unknown = fastest(None);
    assert!(
        unknown * 3 > known && known * 3 > unknown,
        "known {known:?} vs unknown {unknown:?}"
    );
}

#[test]
fn debug_never_shows_a_password_salt_or_hash() {
    let hasher = PasswordHasher::new();
    let hash = PasswordHash::parse(
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aW52YWxpZGhhc2hvdXRwdXRpbnZhbGlkaGFzaG91dA",
    )
    .unwrap();
    let password = pw(PASSWORD);
    let verdict = hasher
        .verify_blocking(&password, Some(StoredPassword::new("user-1", &hash)))
        .unwrap();
    let texts = [
        format!("{password:?}"),
        format!("{hasher:?}"),
        format!("{hash:?}"),
        format!("{:?}", StoredPassword::new("user-1", &hash)),
        format!("{verdict:?}"),
        format!("{:?}", PasswordError::TooShort { min: 12 }),
        format!("{}", PasswordError::TooLong { max: 128 }),
        format!("{:?}", PasswordError::Breached),
        format!("{}", PasswordError::Breached),
        format!("{:?}", BreachCheckError::new("down")),
        format!("{:?}", Argon2Params::OWASP),
        format!("{SkipBreachCheck:?}"),
    ];
    for text in &texts {
        assert!(!text.contains(PASSWORD), "{text}");
        assert!(!text.contains("Zq9"), "{text}");
        assert!(!text.contains("c29tZXNhbHRzb21lc2FsdA"), "salt in {text}");
        assert!(!text.contains("aW52YWxpZGhh"), "hash output in {text}");
    }
    assert!(texts[2].contains("argon2id") && texts[2].contains("m=19456,t=2,p=1"));
}

#[test]
fn login_failures_are_audited_without_the_password_or_submitted_name() {
    let hasher = PasswordHasher::with_params(Argon2Params {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    })
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let hash = rt.block_on(hashed(&hasher, PASSWORD));
    let log = captured(|| {
        let _ = hasher.verify_blocking(
            &pw("wrong but typed in the username box"),
            Some(StoredPassword::new("user-1", &hash)),
        );
        let _ = hasher.verify_blocking(&pw(PASSWORD), None);
        let _ = hasher.verify_blocking(&pw(PASSWORD), Some(StoredPassword::new("user-1", &hash)));
    });
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 3, "{log}");
    assert!(
        lines[2].contains("outcome=\"success\"") && lines[2].contains("password_ok"),
        "{log}"
    );
    // A right password is a step, not a login: it is never recorded as a login's success.
    assert!(lines[2].contains("auth.password"), "{log}");
    assert!(!lines[2].contains("auth.login"), "{log}");
    assert!(lines[0].contains("security::audit"), "{log}");
    assert!(
        lines[0].contains("event=\"auth.login\"") || lines[0].contains("event=auth.login"),
        "{log}"
    );
    assert!(
        lines[0].contains("subject=user-1") && lines[0].contains("bad_password"),
        "{log}"
    );
    assert!(
        lines[1].contains("subject=anonymous") && lines[1].contains("unknown_user"),
        "{log}"
    );
    assert!(
        !log.contains(PASSWORD) && !log.contains("typed in the username"),
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
