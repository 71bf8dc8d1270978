//! The binary's commands: `routes` and `create-admin` (password from standard input).

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use support::{
    keyed_config, new_password, now, random_key, spawn_sharing, spawn_with, totp_code, unique_name,
};

fn notes_api() -> Command {
    Command::new(env!("CARGO_BIN_EXE_notes-api"))
}

/// The binary on the service's database with its data key (and keys of its own for the
/// rest): as an operator runs a command beside the service.
fn notes_api_beside(database_url: &str, data_key: &str) -> Command {
    let mut cmd = notes_api();
    cmd.env("DATABASE_URL", database_url)
        .env("SECURE_JWT_KEY", random_key())
        .env("SECURE_CSRF_KEY", random_key())
        .env("SECURE_DATA_KEY", data_key);
    cmd
}

#[test]
fn routes_prints_the_policy_table() {
    let out = notes_api().arg("routes").output().expect("runs");
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    // Column widths follow the longest entry: compare with single spaces.
    let rows: Vec<String> = table
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    for line in [
        "GET /admin/users auth roles(admin) mfa Account: list -",
        "POST /auth/admin/accounts/{id}/mfa/reset auth roles(admin) mfa fresh(5m) - 30/min per user",
        "POST /auth/signup public - 10/hour per ip",
        "POST /auth/sign-in public - 30/min per ip",
        "POST /auth/session/sign-in public - 30/min per ip",
        "POST /auth/password auth fresh(5m) - 10/min per user",
        "POST /auth/mfa/disable auth mfa fresh(5m) - 10/min per user",
        "POST /auth/reauth auth - 10/min per user",
        "POST /auth/password-reset public - 10/hour per ip",
        "GET /notes auth scopes(notes:read, notes:write) Note: list",
        "GET /notes/{id} auth scopes(notes:read, notes:write) Note: read",
        "PUT /notes/{id} auth scopes(notes:write) Note: write",
        "DELETE /notes/{id} auth scopes(notes:write) Note: write",
        "POST /auth/api-keys auth fresh(5m) - 10/min per user",
    ] {
        assert!(
            rows.iter().any(|r| r.starts_with(line)),
            "missing {line:?} in\n{table}"
        );
    }
}

#[tokio::test]
async fn create_admin_reads_the_password_from_stdin() {
    // The command runs with the service's data key, as in production: the accounts check at
    // start-up that it opens the second factors stored (the admin enrols one below).
    let data_key = random_key();
    let app = spawn_with(keyed_config(&data_key, None, &[])).await;
    let notes_api = || {
        let mut cmd = notes_api();
        cmd.env("SECURE_JWT_KEY", random_key())
            .env("SECURE_CSRF_KEY", random_key())
            .env("SECURE_DATA_KEY", &data_key);
        cmd
    };
    let username = unique_name("boss");
    let password = new_password();
    let mut child = notes_api()
        .args(["create-admin", "--username", &username])
        .env("DATABASE_URL", &app.database_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("password written");
    let out = child.wait_with_output().expect("finishes");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("created administrator {username}")));
    assert!(!stdout.contains(&password) && !stderr.contains(&password));

    // The admin logs in (its OWASP-cost hash is rehashed to the app's) and, with MFA,
    // lists users; the e-mail defaulted to NAME@localhost.
    let tokens = app.login(&username, &password).await;
    let (secret, _) = app.enable_mfa(&tokens.access).await;
    let tokens = app
        .login_otp(&username, &password, &totp_code(&secret, now() + 30))
        .await;
    let r = app.get("/admin/users").bearer(&tokens.access).send().await;
    r.assert_status(200);
    let users = r.json();
    let me = users
        .as_array()
        .and_then(|l| l.iter().find(|u| u["username"] == username.as_str()))
        .expect("listed");
    assert_eq!(me["email"], format!("{username}@localhost"));
    assert_eq!(me["roles"], serde_json::json!(["admin"]));

    // The same name again fails.
    let mut child = notes_api()
        .args(["create-admin", "--username", &username])
        .env("DATABASE_URL", &app.database_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{}\n", new_password()).as_bytes())
        .expect("password written");
    let out = child.wait_with_output().expect("finishes");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("that user name is taken"));
}

#[tokio::test]
async fn service_account_prints_a_key_that_reads_its_notes() {
    let data_key = random_key();
    let app = spawn_with(keyed_config(&data_key, None, &[])).await;
    let name = unique_name("bot");
    let out = notes_api_beside(&app.database_url, &data_key)
        .args([
            "service-account",
            "--name",
            &name,
            "--scope",
            "notes:read",
            "--days",
            "7",
        ])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let key = stdout.trim();
    assert!(key.starts_with("notes_"), "{stdout}");
    assert!(!stderr.contains(key));
    app.get("/notes")
        .bearer(key)
        .send()
        .await
        .assert_status(200);
    app.post("/notes")
        .bearer(key)
        .json(&serde_json::json!({"title": "t", "body": "b"}))
        .send()
        .await
        .assert_status(403);
    // Nobody signs in as it.
    app.post("/auth/sign-in")
        .json(&serde_json::json!({"username": name, "password": new_password()}))
        .send()
        .await
        .assert_status(401);
}

#[tokio::test]
async fn a_monitor_key_reads_the_metrics_and_nobody_else_does() {
    let data_key = random_key();
    let app = spawn_with(keyed_config(&data_key, None, &[])).await;
    app.get("/health").send().await.assert_status(200);
    let r = app.get("/ready").send().await;
    r.assert_status(200);
    assert_eq!(r.json()["status"], "ok");

    let run = |name: &str, role: &str, scope: &str| {
        let out = notes_api_beside(&app.database_url, &data_key)
            .args([
                "service-account",
                "--name",
                name,
                "--role",
                role,
                "--scope",
                scope,
            ])
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let scraper = run(&unique_name("prom"), "monitor", "metrics:read");
    // A member's key with the scope lacks the role; nobody signed in reaches it either.
    let member = run(&unique_name("bot"), "member", "metrics:read");
    app.get("/metrics").send().await.assert_status(401);
    app.get("/metrics")
        .bearer(&member)
        .send()
        .await
        .assert_status(403);
    let ada = app.new_user("ada").await;
    app.get("/metrics")
        .bearer(&ada.tokens.access)
        .send()
        .await
        .assert_status(403);

    let r = app.get("/metrics").bearer(&scraper).send().await;
    r.assert_status(200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = r.text();
    // The refusals above were counted, under their route template; no user or key is there.
    assert!(
        text.lines()
            .any(|l| l.starts_with("secure_security_events_total{")
                && l.contains(r#"route="/metrics""#)),
        "{text}"
    );
    assert!(
        text.contains(r#"secure_http_request_duration_seconds_count{"#),
        "{text}"
    );
    assert!(!text.contains(&member) && !text.contains(&ada.id), "{text}");
}

/// `SECURE_REDIS_URL`: the instances of one service decide their limits in one Redis, so
/// the sign-in limit (5 a minute per address and name) counts across them; `/ready` answers
/// 503 while Redis does not.
#[tokio::test]
async fn instances_share_limits_in_redis_and_readiness_follows_it() {
    let data_key = random_key();
    // Nothing listens on a port just closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!("redis://127.0.0.1:{}/", closed.local_addr().unwrap().port());
    drop(closed);
    let app = spawn_with(keyed_config(
        &data_key,
        None,
        &[("SECURE_REDIS_URL", &down)],
    ))
    .await;
    // Failing closed, the default per-address limit already answers 503 before the handler
    // runs; without that limit, the handler's own check of the store does.
    app.get("/ready").send().await.assert_status(503);
    let unlimited = spawn_with(keyed_config(
        &data_key,
        None,
        &[("SECURE_REDIS_URL", &down), ("SECURE_RATE_LIMIT", "off")],
    ))
    .await;
    // The stack answers: only the store can be what is not ready.
    unlimited.get("/health").send().await.assert_status(200);
    unlimited.get("/ready").send().await.assert_status(503);

    let Ok(url) = std::env::var("SECURE_TEST_REDIS_URL") else {
        support::skipped(
            "instances_share_limits_in_redis_and_readiness_follows_it (two instances on Redis)",
            "Redis: `. .ci/redis.sh`",
        );
        return;
    };
    let config = || keyed_config(&data_key, None, &[("SECURE_REDIS_URL", &url)]);
    let a = spawn_with(config()).await;
    let b = spawn_sharing(&a, config()).await;
    a.get("/ready").send().await.assert_status(200);
    b.get("/ready").send().await.assert_status(200);
    let name = unique_name("shared");
    a.signup(&name, &new_password()).await;
    let wrong = serde_json::json!({"username": name, "password": new_password()});
    // Three refusals on one instance, two on the other: five in all.
    for app in [&a, &a, &a, &b, &b] {
        app.post("/auth/sign-in")
            .json(&wrong)
            .send()
            .await
            .assert_status(401);
    }
    // Each instance alone has seen at most three; together, the sixth is over the limit.
    a.post("/auth/sign-in")
        .json(&wrong)
        .send()
        .await
        .assert_status(429);
}
