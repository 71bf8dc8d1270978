//! Users of an outside OpenID provider (`SECURE_OIDC_*`): a real provider's token creates and
//! reads its user's notes, by scope, as an account of its own; it reaches no account or admin
//! route; a local user's notes stay theirs. Needs the provider of `.ci/oidc.sh`.

mod support;

use serde_json::json;
use support::{config_with_jwt_key, random_key, skipped, spawn_with};

struct Provider {
    issuer: String,
    secret: String,
}

fn provider(test: &str) -> Option<Provider> {
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    match (
        var("SECURE_TEST_OIDC_ISSUER"),
        var("SECURE_TEST_OIDC_SECRET"),
    ) {
        (Some(issuer), Some(secret)) => Some(Provider { issuer, secret }),
        _ => {
            skipped(
                test,
                "an OpenID provider: `. .ci/oidc.sh` (Node.js, oidc-provider from npm)",
            );
            None
        }
    }
}

/// A client-credentials token for the notes API with `scope`.
async fn token(p: &Provider, scope: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{}/token", p.issuer))
        .basic_auth("notes-machine", Some(&p.secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("resource", "https://notes-api.test/rs"),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_provider_token_keeps_notes_of_its_own_by_scope() {
    let Some(p) = provider("a_provider_token_keeps_notes_of_its_own_by_scope") else {
        return;
    };
    let config = config_with_jwt_key(
        &random_key(),
        &[
            ("SECURE_OIDC_ISSUER", &p.issuer),
            ("SECURE_OIDC_AUDIENCE", "notes-api"),
            ("SECURE_OIDC_ROLES_CLAIM", "realm_access.roles"),
            ("SECURE_OIDC_ROLES", "notes-admin=admin"),
        ],
    );
    let app = spawn_with(config).await;
    let ada = app.new_user("ada").await;
    app.post("/notes")
        .bearer(&ada.tokens.access)
        .json(&json!({"title": "ada's", "body": "local"}))
        .send()
        .await
        .assert_status(201);

    let writer = token(&p, "notes:read notes:write").await;
    app.post("/notes")
        .bearer(&writer)
        .json(&json!({"title": "from the provider", "body": "machine"}))
        .send()
        .await
        .assert_status(201);
    let reader = token(&p, "notes:read").await;
    let r = app.get("/notes").bearer(&reader).send().await;
    r.assert_status(200);
    let notes = r.json();
    let titles: Vec<&str> = notes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["from the provider"]);
    app.post("/notes")
        .bearer(&reader)
        .json(&json!({"title": "no", "body": ""}))
        .send()
        .await
        .assert_status(403);
    for (method, path) in [
        ("GET", "/admin/users"),
        ("POST", "/auth/password"),
        ("POST", "/auth/api-keys"),
        ("POST", "/auth/sign-out/all"),
    ] {
        app.request(method.parse().unwrap(), path)
            .bearer(&writer)
            .json(&json!({}))
            .send()
            .await
            .assert_status(403);
    }
    // The local user sees only their own.
    let r = app.get("/notes").bearer(&ada.tokens.access).send().await;
    assert_eq!(r.json().as_array().unwrap().len(), 1);
    assert_eq!(r.json()[0]["title"], "ada's");
}

#[tokio::test]
async fn a_misconfigured_provider_stops_start_up() {
    let config = config_with_jwt_key(
        &random_key(),
        &[
            ("SECURE_OIDC_ISSUER", "https://id.example/realms/notes"),
            ("SECURE_OIDC_AUDIENCE", "notes-api"),
            ("SECURE_OIDC_ROLES_CLAIM", "realm_access.roles"),
            ("SECURE_OIDC_ROLES", "notes-admin=superuser"),
        ],
    );
    let db = notes_api::connect(&support::own_database_url())
        .await
        .unwrap();
    notes_api::migrate(&db).await.unwrap();
    let refused = notes_api::accounts(&db, &config, &notes_api::Options::default()).await;
    let message = refused.unwrap_err().to_string();
    assert!(
        message.contains("`superuser` is not one of the app's roles"),
        "{message}"
    );
}
