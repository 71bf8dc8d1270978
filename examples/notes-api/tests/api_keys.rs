//! API keys for scripts: a key made by its owner (shown once) reaches the notes routes of its
//! scope, as its owner, and nothing else; revoked, it stops at once.

mod support;

use serde_json::json;
use support::spawn;

#[tokio::test]
async fn a_read_key_lists_notes_and_writes_nothing_and_never_reaches_the_account() {
    let app = spawn().await;
    let ada = app.new_user("ada").await;
    app.post("/notes")
        .bearer(&ada.tokens.access)
        .json(&json!({"title": "mine", "body": "for the script"}))
        .send()
        .await
        .assert_status(201);
    let r = app
        .post("/auth/api-keys")
        .bearer(&ada.tokens.access)
        .json(&json!({"name": "backup script", "scopes": ["notes:read"]}))
        .send()
        .await;
    r.assert_status(201);
    let key = r.json()["key"].as_str().expect("the key, once").to_owned();
    let id = r.json()["api_key"]["id"].as_str().unwrap().to_owned();
    assert!(key.starts_with("notes_"), "{key}");

    let r = app.get("/notes").bearer(&key).send().await;
    r.assert_status(200);
    assert_eq!(r.json()[0]["title"], "mine");
    app.post("/notes")
        .bearer(&key)
        .json(&json!({"title": "from a key", "body": ""}))
        .send()
        .await
        .assert_status(403);
    for (method, path) in [
        ("POST", "/auth/password"),
        ("POST", "/auth/api-keys"),
        ("GET", "/auth/api-keys"),
        ("POST", "/auth/mfa/enroll"),
        ("GET", "/admin/users"),
    ] {
        let r = app
            .request(method.parse().unwrap(), path)
            .bearer(&key)
            .json(&json!({}))
            .send()
            .await;
        r.assert_status(403);
    }

    // The key's owner revokes it: it stops at once.
    app.delete(&format!("/auth/api-keys/{id}"))
        .bearer(&ada.tokens.access)
        .send()
        .await
        .assert_status(204);
    app.get("/notes")
        .bearer(&key)
        .send()
        .await
        .assert_status(401);
}
