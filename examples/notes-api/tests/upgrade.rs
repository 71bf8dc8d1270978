//! A database from before the accounts module (notes-api's own `users`, `recovery_codes` and
//! `login_families`) carries over: migration `0003` moves the accounts, recovery codes and
//! notes, and the first start seals the old TOTP secrets for the accounts. Nobody needs a
//! new password or a new second factor.

mod support;

use std::borrow::Cow;

use secure_core::SecretString;
use secure_core::accounts::new_id;
use secure_core::auth::mfa::RecoveryCodes;
use secure_core::auth::password::{PasswordHasher, SkipBreachCheck};
use serde_json::json;
use support::{TEST_ARGON2, keyed_config, now, own_database_url, random_key, spawn_at, totp_code};

const OLD_USER: &str = "INSERT INTO users (id, username, email, password_hash, role, totp_secret, \
     totp_last_step, created_at, created_us) VALUES ($1, $2, $3, $4, $5, $6, NULL, 1, 1000000)";
const OLD_CODE: &str = "INSERT INTO recovery_codes (id, user_id, code_hash) VALUES ($1, $2, $3)";
const OLD_NOTE: &str = "INSERT INTO notes (id, owner_id, title, body, created_at, updated_at, \
     created_us) VALUES ($1, $2, $3, 'kept', 1, 1, 1000000)";
const STORED: &str = "SELECT totp_secret FROM secure_accounts WHERE id = $1";
const LISTED: &str = "SELECT user_id FROM notes_totp_to_reseal WHERE user_id = $1";

struct Old {
    id: String,
    name: String,
    /// Base32, as the user's authenticator app holds it.
    totp: Option<String>,
}

#[tokio::test]
async fn accounts_notes_and_second_factors_from_before_the_accounts_module_carry_over() {
    let url = own_database_url();
    let data_key = random_key();
    let config = keyed_config(&data_key, None, &[]);
    let keys = config.keys().expect("keys").data_keys();
    let db = notes_api::connect(&url).await.expect("db");
    // The schema as the last release left it: the app's migrations before 0003.
    let mut before = sqlx::migrate!("./migrations");
    before.migrations = Cow::Owned(
        before
            .migrations
            .iter()
            .filter(|m| m.version < 3)
            .cloned()
            .collect(),
    );
    db.migrate_with(&before).await.expect("old schema");

    let hasher = PasswordHasher::with_params(TEST_ARGON2).unwrap();
    let password = "an old password from before";
    let hash = hasher
        .hash(&SecretString::from(password), &SkipBreachCheck)
        .await
        .unwrap();
    // 32 base32 characters: 160 random bits, as authenticator apps take them.
    let secret = || -> String {
        const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        (0..32)
            .map(|_| char::from(BASE32[usize::from(rand::random::<u8>() % 32)]))
            .collect()
    };
    // Ada's secret sealed as the old release sealed it; Bob's plain, as an older one wrote
    // it; Carl without a second factor.
    let users = [
        ("ada", Some(secret()), true),
        ("bob", Some(secret()), false),
        ("carl", None, false),
    ]
    .map(|(name, totp, sealed)| {
        let old = Old {
            id: new_id(),
            name: format!("{name}_{}", &new_id()[..6].to_lowercase().replace('-', "_")),
            totp,
        };
        let stored = old.totp.as_ref().map(|t| {
            if sealed {
                let mut context = b"notes-api totp\0".to_vec();
                context.extend_from_slice(old.id.as_bytes());
                keys.seal(&context, t.as_bytes())
            } else {
                t.clone()
            }
        });
        (old, stored)
    });
    for (old, stored) in &users {
        db.query(OLD_USER)
            .bind(&old.id)
            .bind(&old.name)
            .bind(format!("{}@example.com", old.name))
            .bind(hash.as_phc_str())
            .bind("member")
            .bind(stored.clone())
            .execute()
            .await
            .expect("old user");
    }
    let (ada, ada_stored) = (&users[0].0, users[0].1.clone().unwrap());
    let codes = RecoveryCodes::generate();
    for h in codes.hashes() {
        db.query(OLD_CODE)
            .bind(new_id())
            .bind(&ada.id)
            .bind(h.to_stored_string())
            .execute()
            .await
            .expect("old recovery code");
    }
    let note_id = new_id();
    db.query(OLD_NOTE)
        .bind(&note_id)
        .bind(&ada.id)
        .bind("from before")
        .execute()
        .await
        .expect("old note");

    // This release: migrate, start.
    notes_api::migrate(&db).await.expect("migrates");
    let app = spawn_at(url, config).await;

    // Ada: her password, then her authenticator app; her note is hers.
    let sign_in = |name: &str, otp: Option<&str>| {
        let mut body = json!({"username": name, "password": password});
        if let Some(otp) = otp {
            body["otp"] = json!(otp);
        }
        app.post("/auth/sign-in").json(&body).send()
    };
    let r = sign_in(&ada.name, None).await;
    r.assert_status(401);
    assert_eq!(r.json()["code"], "mfa_required");
    let ada_totp = ada.totp.as_deref().unwrap();
    let r = sign_in(&ada.name, Some(&totp_code(ada_totp, now()))).await;
    r.assert_status(200);
    let access = r.json()["access_token"].as_str().unwrap().to_owned();
    let notes = app.get("/notes").bearer(&access).send().await;
    notes.assert_status(200);
    assert_eq!(notes.json()[0]["id"], note_id.as_str());
    assert_eq!(notes.json()[0]["title"], "from before");
    // Her recovery codes came along.
    use secure_core::ExposeSecret as _;
    sign_in(&ada.name, Some(codes.codes()[0].expose_secret()))
        .await
        .assert_status(200);
    // Bob's plain secret works, and is sealed now; Carl signs in with his password.
    let bob = &users[1].0;
    sign_in(
        &bob.name,
        Some(&totp_code(bob.totp.as_deref().unwrap(), now())),
    )
    .await
    .assert_status(200);
    sign_in(&users[2].0.name, None).await.assert_status(200);

    // At rest: sealed for the accounts, not as before; nothing left to move.
    for (old, stored) in &users[..2] {
        let now_stored = app.sql_text(STORED, &old.id).await.unwrap();
        assert!(now_stored.starts_with("v1.") && Some(&now_stored) != stored.as_ref());
        assert_eq!(app.sql_text(LISTED, &old.id).await, None);
    }
    assert_ne!(app.sql_text(STORED, &ada.id).await.unwrap(), ada_stored);
}
