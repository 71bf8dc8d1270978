//! The happy path of every row of the HTTP interface in issue 7, over real HTTP against the
//! service running in-process (SQLite in a temporary file, or `NOTES_TEST_DATABASE_URL`).

mod support;

use serde_json::json;
use support::{captured_logs, new_password, now, spawn, totp_code, unique_name};

#[tokio::test]
async fn health() {
    let app = spawn().await;
    let r = app.get("/health").send().await;
    r.assert_status(200);
    assert_eq!(r.json(), json!({"status": "ok"}));
}

#[tokio::test]
async fn signup_and_login() {
    let app = spawn().await;
    let username = unique_name("ada");
    let password = new_password();

    // 201 {"id"}; the user name is trimmed and lowercased first.
    let r = app
        .post("/auth/signup")
        .json(&json!({
            "username": format!("  {} ", username.to_uppercase()),
            "email": "ada@example.com",
            "password": password,
        }))
        .send()
        .await;
    r.assert_status(201);
    let body = r.json();
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
    assert!(body["id"].as_str().is_some_and(|id| id.len() == 22));

    // The same name again: 409 problem.
    let r = app
        .post("/auth/signup")
        .json(&json!({"username": username, "email": "other@example.com", "password": new_password()}))
        .send()
        .await;
    r.assert_status(409);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));

    // Unknown fields are mass assignment: 422.
    let r = app
        .post("/auth/signup")
        .json(&json!({
            "username": unique_name("eve"),
            "email": "eve@example.com",
            "password": new_password(),
            "role": "admin",
        }))
        .send()
        .await;
    r.assert_status(422);
    assert_eq!(r.json()["errors"][0]["code"], "unknown_field");

    // 200 {access_token, refresh_token, token_type: "Bearer", expires_in}.
    let r = app
        .post("/auth/sign-in")
        .json(&json!({"username": username, "password": password}))
        .send()
        .await;
    r.assert_status(200);
    let body = r.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(
        body["access_token"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3)
    );
    assert!(
        body["refresh_token"]
            .as_str()
            .is_some_and(|t| t.len() >= 43)
    );

    // A wrong password and an unknown user get the same 401.
    let wrong = app
        .post("/auth/sign-in")
        .json(&json!({"username": username, "password": "not the password"}))
        .send()
        .await;
    let unknown = app
        .post("/auth/sign-in")
        .json(&json!({"username": unique_name("nobody"), "password": "not the password"}))
        .send()
        .await;
    wrong.assert_status(401);
    unknown.assert_status(401);
    assert_eq!(wrong.json(), unknown.json());
    assert_eq!(wrong.json()["code"], "invalid_credentials");
    // The members in the order of secure-core's problems, `code` last.
    assert!(
        wrong
            .text()
            .starts_with(r#"{"type":"about:blank","title":"Unauthorized","status":401,"detail":"#),
        "{}",
        wrong.text()
    );
    assert_eq!(wrong.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn notes_crud_is_owner_only() {
    let app = spawn().await;
    let alice = app.new_user("alice").await;
    let bob = app.new_user("bob").await;
    let token = alice.tokens.access.as_str();

    // POST /notes: 201 the note.
    let r = app
        .post("/notes")
        .bearer(token)
        .json(&json!({"title": "groceries", "body": "milk\neggs"}))
        .send()
        .await;
    r.assert_status(201);
    let note = r.json();
    let id = note["id"].as_str().expect("id").to_owned();
    assert_eq!(note["title"], "groceries");
    assert_eq!(note["body"], "milk\neggs");
    assert!(note["created_at"].as_i64().is_some_and(|t| t > 0));

    // GET /notes: 200, own notes only.
    let r = app.get("/notes").bearer(token).send().await;
    r.assert_status(200);
    assert_eq!(r.json(), json!([note]));
    let r = app.get("/notes").bearer(&bob.tokens.access).send().await;
    r.assert_status(200);
    assert_eq!(r.json(), json!([]));

    // GET /notes/{id}: 200; another user's note is 404.
    let path = format!("/notes/{id}");
    let r = app.get(&path).bearer(token).send().await;
    r.assert_status(200);
    assert_eq!(r.json(), note);
    app.get(&path)
        .bearer(&bob.tokens.access)
        .send()
        .await
        .assert_status(404);

    // PUT /notes/{id}: 200 the updated note; not for bob.
    let r = app
        .put(&path)
        .bearer(token)
        .json(&json!({"title": "shopping", "body": ""}))
        .send()
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["title"], "shopping");
    assert_eq!(r.json()["body"], "");
    assert_eq!(r.json()["id"], id.as_str());
    app.put(&path)
        .bearer(&bob.tokens.access)
        .json(&json!({"title": "mine now", "body": ""}))
        .send()
        .await
        .assert_status(404);

    // DELETE /notes/{id}: 404 for bob, 204 for alice, then gone.
    app.delete(&path)
        .bearer(&bob.tokens.access)
        .send()
        .await
        .assert_status(404);
    let r = app.delete(&path).bearer(token).send().await;
    r.assert_status(204);
    assert!(r.body.is_empty());
    app.get(&path).bearer(token).send().await.assert_status(404);

    // Without a credential: 401 with a challenge.
    let r = app.get("/notes").send().await;
    r.assert_status(401);
    assert!(r.header("www-authenticate").is_some());
}

/// "Oldest first" is the creation order even within one second: notes made in a burst come
/// back in the order they were made, not in the order of their random ids.
#[tokio::test]
async fn notes_come_back_in_creation_order() {
    let app = spawn().await;
    let alice = app.new_user("alice").await;
    let token = alice.tokens.access.as_str();
    let mut made = Vec::new();
    for i in 0..20 {
        let r = app
            .post("/notes")
            .bearer(token)
            .json(&json!({"title": format!("note {i}"), "body": ""}))
            .send()
            .await;
        r.assert_status(201);
        made.push(r.json()["id"].as_str().expect("id").to_owned());
    }
    let r = app.get("/notes").bearer(token).send().await;
    r.assert_status(200);
    let listed: Vec<String> = r
        .json()
        .as_array()
        .expect("a list")
        .iter()
        .map(|n| n["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(listed, made);
}

/// A full page links to the next by keyset (`after`), keeping the filter; a filter compares
/// one column with a bound value; the list's own parameters are read strictly.
#[tokio::test]
async fn lists_page_by_keyset_and_filter_by_title() {
    let app = spawn().await;
    let alice = app.new_user("alice").await;
    let bob = app.new_user("bob").await;
    let token = alice.tokens.access.as_str();
    let mut made = Vec::new();
    for i in 0..105 {
        let title = if i % 10 == 0 {
            "groceries".to_owned()
        } else {
            format!("note {i}")
        };
        let r = app
            .post("/notes")
            .bearer(token)
            .json(&json!({"title": title, "body": ""}))
            .send()
            .await;
        r.assert_status(201);
        made.push(r.json()["id"].as_str().expect("id").to_owned());
    }
    let ids = |r: &support::Response| -> Vec<String> {
        r.json()
            .as_array()
            .expect("a list")
            .iter()
            .map(|n| n["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let first = app.get("/notes").bearer(token).send().await;
    first.assert_status(200);
    assert_eq!(ids(&first), made[..100]);
    let link = first.header("link").expect("a full page links to the next");
    assert_eq!(link, format!("<?after={}>; rel=\"next\"", made[99]));
    let second = app
        .get(&format!("/notes?after={}", made[99]))
        .bearer(token)
        .send()
        .await;
    second.assert_status(200);
    assert_eq!(ids(&second), made[100..]);
    assert!(
        second.header("link").is_none(),
        "the last page links nowhere"
    );

    // The filter: the value is bound (a quote is only a character), the scope still applies.
    let groceries = app.get("/notes?title=groceries").bearer(token).send().await;
    groceries.assert_status(200);
    let expected: Vec<String> = made.iter().step_by(10).cloned().collect();
    assert_eq!(ids(&groceries), expected);
    for title in ["groceries%27%20OR%20%271%27%3D%271", "nothing"] {
        let r = app
            .get(&format!("/notes?title={title}"))
            .bearer(token)
            .send()
            .await;
        r.assert_status(200);
        assert!(ids(&r).is_empty(), "{title}");
    }
    let theirs = app
        .get("/notes?title=groceries")
        .bearer(bob.tokens.access.as_str())
        .send()
        .await;
    assert!(ids(&theirs).is_empty(), "a filter never widens the scope");

    // Bob's row cannot position Alice's list: the same 404 as for a missing row.
    let r = app
        .post("/notes")
        .bearer(bob.tokens.access.as_str())
        .json(&json!({"title": "bob's", "body": ""}))
        .send()
        .await;
    let bobs = r.json()["id"].as_str().expect("id").to_owned();
    let r = app
        .get(&format!("/notes?after={bobs}"))
        .bearer(token)
        .send()
        .await;
    r.assert_status(404);

    for (query, field) in [
        ("after=not-an-id", "after"),
        ("after=x&page=1", "after"),
        ("page=-1", "page"),
        ("title=", "title"),
        ("owner_id=x", "owner_id"),
    ] {
        let r = app
            .get(&format!("/notes?{query}"))
            .bearer(token)
            .send()
            .await;
        r.assert_status(422);
        assert_eq!(r.json()["errors"][0]["field"], field, "{query}");
    }
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = spawn().await;
    let user = app.new_user("carol").await;
    let first = user.tokens.refresh.clone();

    // 200 a new pair, whose access token works.
    let r = app
        .post("/auth/refresh")
        .json(&json!({"refresh_token": first}))
        .send()
        .await;
    r.assert_status(200);
    let second = support::Tokens::from(&r.json());
    assert_ne!(second.refresh, first);
    app.get("/notes")
        .bearer(&second.access)
        .send()
        .await
        .assert_status(200);

    // The used token again: 401, and the family is revoked, so the new one is dead too.
    app.post("/auth/refresh")
        .json(&json!({"refresh_token": first}))
        .send()
        .await
        .assert_status(401);
    app.post("/auth/refresh")
        .json(&json!({"refresh_token": second.refresh}))
        .send()
        .await
        .assert_status(401);
}

#[tokio::test]
async fn logout_revokes_the_family() {
    let app = spawn().await;
    let user = app.new_user("dave").await;
    let r = app
        .post("/auth/sign-out")
        .bearer(&user.tokens.access)
        .json(&json!({"refresh_token": user.tokens.refresh}))
        .send()
        .await;
    r.assert_status(204);
    app.post("/auth/refresh")
        .json(&json!({"refresh_token": user.tokens.refresh}))
        .send()
        .await
        .assert_status(401);
}

#[tokio::test]
async fn mfa_enroll_confirm_and_login_with_otp_or_recovery_code() {
    let app = spawn().await;
    let user = app.new_user("erin").await;
    let token = user.tokens.access.as_str();

    // POST /auth/mfa/enroll: 200 {secret, otpauth_uri}.
    let r = app.post("/auth/mfa/enroll").bearer(token).send().await;
    r.assert_status(200);
    let enrolled = r.json();
    let secret = enrolled["secret"].as_str().expect("secret").to_owned();
    let uri = enrolled["otpauth_uri"].as_str().expect("otpauth_uri");
    assert!(uri.starts_with("otpauth://totp/notes-api:"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")));

    // A wrong code is refused and MFA stays off.
    // A code of none of the three accepted steps.
    let accepted: Vec<String> = [now() - 30, now(), now() + 30]
        .iter()
        .map(|t| totp_code(&secret, *t))
        .collect();
    let wrong = ["000000", "111111", "222222", "333333"]
        .into_iter()
        .find(|c| !accepted.iter().any(|a| a == c))
        .expect("a wrong code");
    let r = app
        .post("/auth/mfa/confirm")
        .bearer(token)
        .json(&json!({"otp": wrong}))
        .send()
        .await;
    // 422, not 401: the caller's token is good, the code is not.
    r.assert_status(422);
    assert_eq!(
        r.json()["errors"],
        json!([{"field": "otp", "code": "invalid_otp", "params": {}}])
    );

    // POST /auth/mfa/confirm: 200 {recovery_codes}; MFA on from now.
    let r = app
        .post("/auth/mfa/confirm")
        .bearer(token)
        .json(&json!({"otp": totp_code(&secret, now())}))
        .send()
        .await;
    r.assert_status(200);
    let codes: Vec<String> = r.json()["recovery_codes"]
        .as_array()
        .expect("recovery_codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_owned())
        .collect();
    assert_eq!(codes.len(), 10);

    // Five login attempts a minute per (IP, user name): this test uses all of them.
    // No otp: 401 mfa_required. A wrong one: 401 invalid_otp.
    let login = |otp: Option<&str>| {
        let mut body = json!({"username": user.username, "password": user.password});
        if let Some(otp) = otp {
            body["otp"] = json!(otp);
        }
        app.post("/auth/sign-in").json(&body).send()
    };
    let r = login(None).await;
    r.assert_status(401);
    assert_eq!(r.json()["code"], "mfa_required");
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let r = login(Some("12345x")).await;
    r.assert_status(401);
    assert_eq!(r.json()["code"], "invalid_otp");

    // The next step's code (the confirmation used this step's): 200.
    let code = totp_code(&secret, now() + 30);
    let r = login(Some(&code)).await;
    r.assert_status(200);
    // The same code again is a replay.
    let r = login(Some(&code)).await;
    r.assert_status(401);
    assert_eq!(r.json()["code"], "invalid_otp");

    // Enrolling again once MFA is on: 409.
    app.post("/auth/mfa/enroll")
        .bearer(token)
        .send()
        .await
        .assert_status(409);
}

// Its own user: each (IP, user name) has 5 login attempts a minute.
#[tokio::test]
async fn a_recovery_code_works_once() {
    let app = spawn().await;
    let user = app.new_user("mallory").await;
    let (_secret, codes) = app.enable_mfa(&user.tokens.access).await;
    assert_eq!(codes.len(), 10);
    let tokens = app
        .login_otp(&user.username, &user.password, &codes[3].to_lowercase())
        .await;
    app.get("/notes")
        .bearer(&tokens.access)
        .send()
        .await
        .assert_status(200);
    let r = app
        .post("/auth/sign-in")
        .json(&json!({"username": user.username, "password": user.password, "otp": codes[3]}))
        .send()
        .await;
    r.assert_status(401);
    assert_eq!(r.json()["code"], "invalid_otp");
    // The others still work.
    app.login_otp(&user.username, &user.password, &codes[4])
        .await;
}

#[tokio::test]
async fn admin_list_needs_the_role_and_a_second_factor() {
    let app = spawn().await;
    let member = app.new_user("frank").await;
    app.get("/admin/users")
        .bearer(&member.tokens.access)
        .send()
        .await
        .assert_status(403);

    // An administrator, made the way `notes-api create-admin` makes one.
    let admin_name = unique_name("root");
    let admin_password = new_password();
    let admin_id = app.create_admin(&admin_name, &admin_password).await;

    // Password only: the role is there, the second factor is not: 403.
    let tokens = app.login(&admin_name, &admin_password).await;
    app.get("/admin/users")
        .bearer(&tokens.access)
        .send()
        .await
        .assert_status(403);

    // With MFA: 200 [{id, username, email, roles, mfa_enabled}].
    let (secret, _codes) = app.enable_mfa(&tokens.access).await;
    let tokens = app
        .login_otp(
            &admin_name,
            &admin_password,
            &totp_code(&secret, now() + 30),
        )
        .await;
    let r = app.get("/admin/users").bearer(&tokens.access).send().await;
    r.assert_status(200);
    let users = r.json();
    let list = users.as_array().expect("a list");
    let admin = list
        .iter()
        .find(|u| u["id"] == admin_id.as_str())
        .expect("the admin is listed");
    assert_eq!(
        *admin,
        json!({
            "id": admin_id,
            "username": admin_name,
            "email": format!("{admin_name}@example.com"),
            "roles": ["admin"],
            "mfa_enabled": true,
        })
    );
    let listed = list
        .iter()
        .find(|u| u["id"] == member.id.as_str())
        .expect("the member is listed");
    assert_eq!(listed["roles"], json!(["member"]));
    assert_eq!(listed["mfa_enabled"], false);
    assert!(listed.get("password_hash").is_none());

    // The second factor survives a refresh (the family remembers how its login was made).
    let r = app
        .post("/auth/refresh")
        .json(&json!({"refresh_token": tokens.refresh}))
        .send()
        .await;
    r.assert_status(200);
    let refreshed = support::Tokens::from(&r.json());
    app.get("/admin/users")
        .bearer(&refreshed.access)
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn cookie_session_with_csrf() {
    let app = spawn().await;
    let user = app.new_user("grace").await;

    // POST /session/login: 200 {csrf_token} and a __Host-session cookie.
    let r = app
        .post("/auth/session/sign-in")
        .json(&json!({"username": user.username, "password": user.password}))
        .send()
        .await;
    r.assert_status(200);
    let set_cookie = r.header("set-cookie").expect("set-cookie").to_owned();
    assert!(set_cookie.starts_with("__Host-session="));
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = r.session_cookie().expect("session cookie");
    let csrf = r.json()["csrf_token"]
        .as_str()
        .expect("csrf_token")
        .to_owned();

    // The notes endpoints accept the cookie; unsafe methods need the CSRF token.
    app.get("/notes")
        .cookie(&cookie)
        .send()
        .await
        .assert_status(200);
    let note = json!({"title": "from the browser", "body": "hello"});
    app.post("/notes")
        .cookie(&cookie)
        .json(&note)
        .send()
        .await
        .assert_status(403);
    let r = app
        .post("/notes")
        .cookie(&cookie)
        .header("x-csrf-token", &csrf)
        .json(&note)
        .send()
        .await;
    r.assert_status(201);
    let id = r.json()["id"].as_str().expect("id").to_owned();
    // The same note through the bearer token: one user, two credentials.
    app.get(&format!("/notes/{id}"))
        .bearer(&user.tokens.access)
        .send()
        .await
        .assert_status(200);

    // POST /session/logout: 204, the cookie cleared, the session gone server-side.
    let r = app
        .post("/auth/session/sign-out")
        .cookie(&cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await;
    r.assert_status(204);
    let cleared = r.header("set-cookie").expect("set-cookie");
    assert!(cleared.starts_with("__Host-session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    app.get("/notes")
        .cookie(&cookie)
        .send()
        .await
        .assert_status(401);
}

#[tokio::test]
async fn login_is_limited_per_ip_and_user_name() {
    let app = spawn().await;
    let user = app.new_user("heidi").await;
    // new_user logged in once; four more attempts fit in 5/min, wrong or right.
    for _ in 0..4 {
        app.post("/auth/sign-in")
            .json(&json!({"username": user.username, "password": "not the password"}))
            .send()
            .await
            .assert_status(401);
    }
    // The sixth, even with the right password, and through the session route too: 429.
    let body = json!({"username": user.username, "password": user.password});
    for path in ["/auth/sign-in", "/auth/session/sign-in"] {
        let r = app.post(path).json(&body).send().await;
        r.assert_status(429);
        assert!(r.header("retry-after").is_some());
    }
    // Another user name from the same address has its own budget.
    let other = app.new_user("ivan").await;
    app.login(&other.username, &other.password).await;
}

#[tokio::test]
async fn secrets_stay_out_of_the_log() {
    let app = spawn().await;
    let user = app.new_user("judy").await;
    let (secret, codes) = app.enable_mfa(&user.tokens.access).await;
    let logs = captured_logs();
    assert!(logs.contains("security::audit"), "audit events are logged");
    // The password check runs on a blocking thread; its audit event still names the route.
    let password_checks: Vec<&str> = logs.lines().filter(|l| l.contains("password_ok")).collect();
    assert!(!password_checks.is_empty(), "{logs}");
    for line in password_checks {
        assert!(line.contains("route=/"), "no request context: {line}");
    }
    for secret in [
        user.password.as_str(),
        user.tokens.access.as_str(),
        user.tokens.refresh.as_str(),
        secret.as_str(),
        codes[0].as_str(),
    ] {
        assert!(!logs.contains(secret), "a secret reached the log");
    }
}
