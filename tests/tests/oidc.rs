//! The OpenID Connect resource server against a real provider: panva's oidc-provider, started
//! by `.ci/oidc.sh` (`SECURE_TEST_OIDC_*`; these tests skip, with a notice, without it).
//! Tokens come from the provider itself (client credentials, and an authorization-code flow
//! driven here through its sign-in pages); attack tokens are made from them.

mod ed25519;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use secure_core::auth::oidc::{OidcConfigError, OidcProvider};
use secure_core::auth::{Authenticator, Principal, Role, Scope};
use secure_core::config::SecurityConfig;
use secure_core::policy::{SecureApp, SecureRouter};
use secure_core::routing::get;
use secure_core::secure_handler;
use sha2::Digest;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Admin,
    Service,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Scope)]
enum AppScope {
    #[scope(rename = "notes:read")]
    NotesRead,
    #[scope(rename = "notes:write")]
    NotesWrite,
}

#[secure_handler(auth, scopes(AppScope::NotesRead))]
async fn list_notes(user: Principal<AppRole>) -> String {
    format!("{} {:?}", user.subject(), user.roles())
}

#[secure_handler(auth, scopes(AppScope::NotesWrite))]
async fn write_notes() -> &'static str {
    "written"
}

#[secure_handler(auth, roles(AppRole::Admin), scopes(AppScope::NotesRead))]
async fn admin_notes() -> &'static str {
    "admin"
}

#[secure_handler(auth, mfa, scopes(AppScope::NotesRead))]
async fn sensitive_notes() -> &'static str {
    "sensitive"
}

struct Env {
    issuer: String,
    other: String,
    secret: String,
}

fn env(test: &str) -> Option<Env> {
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    match (
        var("SECURE_TEST_OIDC_ISSUER"),
        var("SECURE_TEST_OIDC_OTHER_ISSUER"),
        var("SECURE_TEST_OIDC_SECRET"),
    ) {
        (Some(issuer), Some(other), Some(secret)) => Some(Env {
            issuer,
            other,
            secret,
        }),
        _ => {
            secure_tests::skipped(
                test,
                "an OpenID provider: `. .ci/oidc.sh` (Node.js, oidc-provider from npm)",
            );
            None
        }
    }
}

async fn provider(issuer: &str) -> OidcProvider {
    OidcProvider::builder(issuer, "notes-api")
        .roles_claim(["realm_access", "roles"])
        .role("notes-admin", AppRole::Admin)
        .role("notes-service", AppRole::Service)
        .leeway(Duration::ZERO)
        .discover()
        .await
        .expect("provider")
}

fn app(provider: &OidcProvider) -> SecureApp {
    SecureRouter::new()
        .route("/notes", get(list_notes).post(write_notes))
        .route("/admin/notes", get(admin_notes))
        .route("/sensitive", get(sensitive_notes))
        .into_app(
            SecurityConfig::new()
                .authenticator(Authenticator::from_provider(Arc::new(provider.clone()))),
        )
        .expect("app")
}

async fn call(app: &SecureApp, method: &str, path: &str, token: &str) -> (StatusCode, String) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

/// A client-credentials token of `issuer` for `resource` with `scope`.
async fn machine_token(env: &Env, issuer: &str, resource: &str, scope: &str) -> String {
    let response = http()
        .post(format!("{issuer}/token"))
        .basic_auth("notes-machine", Some(&env.secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("resource", resource),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// An authorization-code flow as a browser would run it: the provider's sign-in page (any
/// account name signs in), its consent page, then the code exchanged for a token.
async fn user_token(env: &Env, account: &str) -> String {
    let client = http();
    let mut cookies: HashMap<String, String> = HashMap::new();
    let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    let redirect = "http://127.0.0.1:9/callback";
    let resource = "https://notes-api.test/rs";
    let mut next = reqwest::Url::parse_with_params(
        &format!("{}/auth", env.issuer),
        &[
            ("client_id", "notes-web"),
            ("response_type", "code"),
            ("redirect_uri", redirect),
            ("scope", "openid notes:read"),
            ("resource", resource),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("state", "test-state"),
        ],
    )
    .unwrap()
    .to_string();
    for _ in 0..10 {
        if next.starts_with(redirect) {
            let url = reqwest::Url::parse(&next).unwrap();
            let code = url
                .query_pairs()
                .find(|(k, _)| k == "code")
                .map(|(_, v)| v.into_owned())
                .expect("a code");
            let response = client
                .post(format!("{}/token", env.issuer))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", redirect),
                    ("code_verifier", &verifier),
                    ("client_id", "notes-web"),
                    ("client_secret", &env.secret),
                    ("resource", resource),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let body: serde_json::Value = response.json().await.unwrap();
            return body["access_token"].as_str().unwrap().to_owned();
        }
        let url = if next.starts_with('/') {
            format!("{}{next}", env.issuer)
        } else {
            next.clone()
        };
        let cookie = cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let request = if url.contains("/interaction/") {
            let prompt = if cookies.contains_key("_session") {
                vec![("prompt", "consent")]
            } else {
                vec![("prompt", "login"), ("login", account), ("password", "x")]
            };
            client.post(&url).form(&prompt)
        } else {
            client.get(&url)
        };
        let response = request.header(header::COOKIE, cookie).send().await.unwrap();
        for value in response.headers().get_all(header::SET_COOKIE) {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            if let Some((name, value)) = pair.split_once('=') {
                cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        next = response
            .headers()
            .get(header::LOCATION)
            .unwrap_or_else(|| panic!("a redirect from {url}: {}", response.status()))
            .to_str()
            .unwrap()
            .to_owned();
    }
    panic!("no code after 10 redirects");
}

fn parts(token: &str) -> (serde_json::Value, String) {
    let mut it = token.split('.');
    let header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap());
    (header.unwrap(), it.next().unwrap().to_owned())
}

/// `header` and `payload` (already base64url) signed by `sign`.
fn forge(header: &serde_json::Value, payload: &str, sign: impl Fn(&[u8]) -> String) -> String {
    let head = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap());
    let message = format!("{head}.{payload}");
    let signature = sign(message.as_bytes());
    format!("{message}.{signature}")
}

#[tokio::test]
async fn provider_tokens_are_accepted_and_attack_tokens_refused() {
    let Some(env) = env("provider_tokens_are_accepted_and_attack_tokens_refused") else {
        return;
    };
    let provider = provider(&env.issuer).await;
    assert!(provider.keys_known());
    let app = app(&provider);

    // Client credentials, RS256 and ES256: the scope reads and does not write.
    for resource in ["https://notes-api.test/rs", "https://notes-api.test/es"] {
        let token = machine_token(&env, &env.issuer, resource, "notes:read").await;
        let (status, body) = call(&app, "GET", "/notes", &token).await;
        assert_eq!(status, StatusCode::OK, "{resource}: {body}");
        assert_eq!(body, format!("{}#notes-machine [Service]", env.issuer));
        assert_eq!(
            call(&app, "POST", "/notes", &token).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            call(&app, "GET", "/admin/notes", &token).await.0,
            StatusCode::FORBIDDEN
        );
    }
    let good = machine_token(&env, &env.issuer, "https://notes-api.test/rs", "notes:read").await;
    let (header, payload) = parts(&good);
    let kid = header["kid"].as_str().unwrap().to_owned();

    // Wrong audience, another issuer, expired.
    let other_api = machine_token(&env, &env.issuer, "https://other-api.test/", "notes:read").await;
    let other_issuer =
        machine_token(&env, &env.other, "https://notes-api.test/rs", "notes:read").await;
    let short = machine_token(
        &env,
        &env.issuer,
        "https://notes-api.test/short",
        "notes:read",
    )
    .await;
    assert_eq!(call(&app, "GET", "/notes", &short).await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    for (what, token) in [
        ("wrong audience", &other_api),
        ("another issuer", &other_issuer),
        ("expired", &short),
    ] {
        let (status, body) = call(&app, "GET", "/notes", token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        assert!(!body.contains(token.as_str()), "{what}");
    }

    // Tokens made from a real one by an attacker holding only public information.
    let jwks: serde_json::Value = http()
        .get(format!("{}/jwks", env.issuer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let public = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap()
        .clone();
    let mut attacks: Vec<(&str, String)> = Vec::new();
    // HS256 with the provider's public key as the HMAC secret (several encodings of it).
    for secret in [
        serde_json::to_vec(&public).unwrap(),
        URL_SAFE_NO_PAD
            .decode(public["n"].as_str().unwrap())
            .unwrap(),
        public["n"].as_str().unwrap().as_bytes().to_vec(),
    ] {
        let key = EncodingKey::from_secret(&secret);
        let h = serde_json::json!({"alg": "HS256", "typ": "at+jwt", "kid": kid});
        attacks.push((
            "HS256 with the public key",
            forge(&h, &payload, |m| {
                jsonwebtoken::crypto::sign(m, &key, Algorithm::HS256).unwrap()
            }),
        ));
    }
    for alg in ["none", "None", "NONE"] {
        let h = serde_json::json!({"alg": alg, "typ": "at+jwt", "kid": kid});
        attacks.push(("alg none", forge(&h, &payload, |_| String::new())));
    }
    // The attacker's own Ed25519 key, offered in the header three ways.
    let attacker = ed25519::key();
    let attacker_jwk =
        jsonwebtoken::jwk::Jwk::from_encoding_key(&attacker, Algorithm::EdDSA).unwrap();
    let signed_by_attacker = |h: serde_json::Value| {
        forge(&h, &payload, |m| {
            jsonwebtoken::crypto::sign(m, &attacker, Algorithm::EdDSA).unwrap()
        })
    };
    attacks.push((
        "embedded jwk",
        signed_by_attacker(serde_json::json!({"alg": "EdDSA", "jwk": attacker_jwk})),
    ));
    attacks.push((
        "embedded jwk naming the real kid",
        signed_by_attacker(serde_json::json!({"alg": "EdDSA", "kid": kid, "jwk": attacker_jwk})),
    ));
    for member in ["jku", "x5u"] {
        let h = serde_json::json!({"alg": "EdDSA", member: "http://127.0.0.1:9/keys"});
        attacks.push((member, signed_by_attacker(h)));
    }
    attacks.push((
        "a kid of the set with another algorithm",
        signed_by_attacker(serde_json::json!({"alg": "EdDSA", "kid": kid})),
    ));
    // The real signature over a header that says RS256 without the kid is fine; over a
    // payload that was changed, not.
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&payload).unwrap()).unwrap();
    claims["realm_access"]["roles"] = serde_json::json!(["notes-admin"]);
    let altered = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let signature = good.rsplit('.').next().unwrap();
    let head = good.split('.').next().unwrap();
    attacks.push(("altered roles", format!("{head}.{altered}.{signature}")));
    for (what, token) in attacks {
        let (status, body) = call(&app, "GET", "/notes", &token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
    }
    assert_eq!(call(&app, "GET", "/notes", &good).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_user_signed_in_at_the_provider_gets_mapped_roles_and_mfa() {
    let Some(env) = env("a_user_signed_in_at_the_provider_gets_mapped_roles_and_mfa") else {
        return;
    };
    let provider = provider(&env.issuer).await;
    let app = app(&provider);

    let alice = user_token(&env, "admin-alice").await;
    let (status, body) = call(&app, "GET", "/notes", &alice).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // offline_access is dropped: only mapped names become roles.
    assert_eq!(body, format!("{}#admin-alice [Admin]", env.issuer));
    assert_eq!(
        call(&app, "GET", "/admin/notes", &alice).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, "GET", "/sensitive", &alice).await.0,
        StatusCode::FORBIDDEN
    );

    let bob = user_token(&env, "mfa-bob").await;
    assert_eq!(
        call(&app, "GET", "/admin/notes", &bob).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&app, "GET", "/sensitive", &bob).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_rotated_provider_key_is_picked_up_and_made_up_kids_fetch_once() {
    let Some(env) = env("a_rotated_provider_key_is_picked_up_and_made_up_kids_fetch_once") else {
        return;
    };
    // The other issuer: rotating replaces the provider's state, which would break a sign-in
    // flow of another test running meanwhile on the first.
    let issuer = env.other.as_str();
    let provider = provider(issuer).await;
    let app = app(&provider);
    let hits = || async {
        http()
            .get(format!("{issuer}/__test/jwks-hits"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert_eq!(provider.jwks_fetches(), 1);
    let before = machine_token(&env, issuer, "https://notes-api.test/es", "notes:read").await;
    assert_eq!(call(&app, "GET", "/notes", &before).await.0, StatusCode::OK);

    let rotated = http()
        .post(format!("{issuer}/__test/rotate"))
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status(), 204);
    let after = machine_token(&env, issuer, "https://notes-api.test/es", "notes:read").await;
    assert_ne!(parts(&before).0["kid"], parts(&after).0["kid"]);
    let (status, body) = call(&app, "GET", "/notes", &after).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the new key without a restart: {body}"
    );
    assert_eq!(call(&app, "GET", "/notes", &before).await.0, StatusCode::OK);
    assert_eq!(provider.jwks_fetches(), 2);

    // A flood of tokens naming made-up kids, at once: no fetch within the interval.
    let provider_hits = hits().await;
    let payload = parts(&after).1;
    let mut flood = tokio::task::JoinSet::new();
    for i in 0..200 {
        let h = serde_json::json!({"alg": "ES256", "kid": format!("made-up-{i}")});
        let token = forge(&h, &payload, |_| URL_SAFE_NO_PAD.encode([7u8; 64]));
        let app = app.clone();
        flood.spawn(async move { call(&app, "GET", "/notes", &token).await.0 });
    }
    while let Some(status) = flood.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(provider.jwks_fetches(), 2);
    assert_eq!(hits().await, provider_hits);
}

#[tokio::test]
async fn a_discovery_document_naming_another_issuer_is_refused() {
    let Some(env) = env("a_discovery_document_naming_another_issuer_is_refused") else {
        return;
    };
    // The same provider under another name: its document says 127.0.0.1, not localhost.
    let aliased = env.issuer.replace("127.0.0.1", "localhost");
    let refused = OidcProvider::builder(&aliased, "notes-api")
        .discover()
        .await;
    assert_eq!(
        refused.unwrap_err(),
        OidcConfigError::IssuerMismatch {
            found: env.issuer.clone()
        }
    );
}

#[tokio::test]
async fn an_unreachable_provider_answers_503_until_its_keys_are_known() {
    // Nothing listens on port 9 of loopback: start-up goes on, requests get a fast 503.
    let provider = OidcProvider::builder("http://127.0.0.1:9", "notes-api")
        .discover()
        .await
        .expect("start-up does not fail when the provider is down");
    assert!(!provider.keys_known());
    let app = app(&provider);
    let claims = serde_json::json!({"iss": "http://127.0.0.1:9", "sub": "u", "aud": "notes-api",
        "exp": 4_000_000_000_i64});
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let token = forge(
        &serde_json::json!({"alg": "RS256", "kid": "k"}),
        &payload,
        |_| URL_SAFE_NO_PAD.encode([1u8; 256]),
    );
    let (status, body) = call(&app, "GET", "/notes", &token).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(!body.contains("127.0.0.1"), "{body}");
    // HS256 is refused before keys matter: 401, not 503.
    let hs = forge(&serde_json::json!({"alg": "HS256"}), &payload, |_| {
        URL_SAFE_NO_PAD.encode([1u8; 32])
    });
    assert_eq!(
        call(&app, "GET", "/notes", &hs).await.0,
        StatusCode::UNAUTHORIZED
    );
}

/// The rules without a provider, on every machine: keys given by configuration (an Ed25519
/// key generated here), tokens signed here.
mod configured_keys {
    use super::*;

    const ISS: &str = "https://id.example/realms/notes";

    struct Signer {
        key: EncodingKey,
        provider: OidcProvider,
    }

    fn signer() -> Signer {
        let key = ed25519::key();
        let mut jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&key, Algorithm::EdDSA).unwrap();
        jwk.common.key_id = Some("ed-1".to_owned());
        let jwks = serde_json::json!({"keys": [
            {"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0", "kid": "hs", "alg": "HS256"},
            jwk,
        ]});
        let provider = OidcProvider::builder(ISS, "notes-api")
            .roles_claim(["realm_access", "roles"])
            .role("notes-admin", AppRole::Admin)
            .mfa_acr("2")
            .with_keys(&serde_json::to_vec(&jwks).unwrap())
            .unwrap();
        Signer { key, provider }
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    fn claims() -> serde_json::Value {
        serde_json::json!({"iss": ISS, "aud": ["notes-api", "account"], "sub": "u-1",
            "exp": now() + 60, "iat": now(), "scope": "openid notes:read",
            "realm_access": {"roles": ["notes-admin", "offline_access"]}})
    }

    fn sign(s: &Signer, header: serde_json::Value, claims: &serde_json::Value) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
        forge(&header, &payload, |m| {
            jsonwebtoken::crypto::sign(m, &s.key, Algorithm::EdDSA).unwrap()
        })
    }

    fn ed(kid: &str) -> serde_json::Value {
        serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": kid})
    }

    #[tokio::test]
    async fn a_token_of_the_configured_keys_maps_to_an_identity() {
        let s = signer();
        let identity = s
            .provider
            .verify(&sign(&s, ed("ed-1"), &claims()))
            .await
            .unwrap();
        assert_eq!(identity.subject, format!("{ISS}#u-1"));
        assert_eq!(identity.roles, ["admin"]);
        assert_eq!(
            identity.scopes.as_deref(),
            Some(&["openid".to_owned(), "notes:read".to_owned()][..])
        );
        assert!(identity.amr.is_empty());
        assert_eq!(identity.auth_time, 0);

        let mut c = claims();
        c["acr"] = "2".into();
        c["auth_time"] = now().into();
        let stepped_up = s.provider.verify(&sign(&s, ed("ed-1"), &c)).await.unwrap();
        assert_eq!(stepped_up.amr, [secure_core::auth::Amr::Mfa]);
        assert!(stepped_up.auth_time > 0);
        // An Entra-style thumbprint beside the kid is ignored; no kid tries the EdDSA keys.
        let x5t = serde_json::json!({"alg": "EdDSA", "kid": "ed-1", "x5t": "AAAA"});
        assert!(s.provider.verify(&sign(&s, x5t, &claims())).await.is_ok());
        let no_kid = serde_json::json!({"alg": "EdDSA"});
        assert!(
            s.provider
                .verify(&sign(&s, no_kid, &claims()))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn every_rule_refuses_its_case() {
        use secure_core::auth::jwt::TokenError;
        let s = signer();
        let with = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut c = claims();
            edit(&mut c);
            c
        };
        let cases: Vec<(&str, String, TokenError)> = vec![
            (
                "another audience",
                sign(&s, ed("ed-1"), &with(&|c| c["aud"] = "billing".into())),
                TokenError::Audience,
            ),
            (
                "another issuer",
                sign(
                    &s,
                    ed("ed-1"),
                    &with(&|c| c["iss"] = "https://evil.example".into()),
                ),
                TokenError::Issuer,
            ),
            (
                "expired",
                sign(&s, ed("ed-1"), &with(&|c| c["exp"] = (now() - 60).into())),
                TokenError::Expired,
            ),
            (
                "not yet valid",
                sign(&s, ed("ed-1"), &with(&|c| c["nbf"] = (now() + 600).into())),
                TokenError::NotYetValid,
            ),
            (
                "no exp",
                sign(
                    &s,
                    ed("ed-1"),
                    &with(&|c| {
                        c.as_object_mut().unwrap().remove("exp");
                    }),
                ),
                TokenError::Claims,
            ),
            (
                "empty sub",
                sign(&s, ed("ed-1"), &with(&|c| c["sub"] = "".into())),
                TokenError::Claims,
            ),
            (
                "unknown kid",
                sign(&s, ed("nope"), &claims()),
                TokenError::Header,
            ),
            (
                "the kid of a shared-secret key (skipped)",
                sign(&s, ed("hs"), &claims()),
                TokenError::Header,
            ),
            (
                "HS256",
                sign(
                    &s,
                    serde_json::json!({"alg": "HS256", "kid": "ed-1"}),
                    &claims(),
                ),
                TokenError::Algorithm,
            ),
            (
                "RS256 naming the EdDSA key",
                sign(
                    &s,
                    serde_json::json!({"alg": "RS256", "kid": "ed-1"}),
                    &claims(),
                ),
                TokenError::Algorithm,
            ),
            (
                "jku",
                sign(
                    &s,
                    serde_json::json!({"alg": "EdDSA", "jku": "https://x"}),
                    &claims(),
                ),
                TokenError::Header,
            ),
        ];
        for (what, token, want) in cases {
            assert_eq!(
                s.provider.verify(&token).await.unwrap_err(),
                Some(want),
                "{what}"
            );
        }
        // A duplicate claim, signed: refused, not read either way.
        let payload = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"iss":"{ISS}","aud":"notes-api","sub":"u-1","sub":"admin","exp":{}}}"#,
            now() + 60
        ));
        let token = forge(&ed("ed-1"), &payload, |m| {
            jsonwebtoken::crypto::sign(m, &s.key, Algorithm::EdDSA).unwrap()
        });
        assert_eq!(
            s.provider.verify(&token).await.unwrap_err(),
            Some(TokenError::Claims)
        );
    }

    #[test]
    fn configuration_mistakes_are_refused() {
        let jwks = br#"{"keys":[]}"#;
        let build =
            |b: secure_core::auth::oidc::OidcProviderBuilder| b.with_keys(jwks).unwrap_err();
        assert_eq!(
            build(OidcProvider::builder("http://id.example", "a")),
            OidcConfigError::Issuer
        );
        assert_eq!(
            build(OidcProvider::builder("https://id.example?x=1", "a")),
            OidcConfigError::Issuer
        );
        assert_eq!(
            build(OidcProvider::builder("https://id.example", "")),
            OidcConfigError::Audience
        );
        assert_eq!(
            build(OidcProvider::builder("https://id.example", "a").leeway(Duration::from_secs(31))),
            OidcConfigError::Leeway
        );
        assert_eq!(
            build(OidcProvider::builder("https://id.example", "a").roles_claim(["sub"])),
            OidcConfigError::RoleClaim
        );
        assert_eq!(
            build(OidcProvider::builder("https://id.example", "a").role("x", AppRole::Admin)),
            OidcConfigError::RoleClaim
        );
        assert_eq!(
            build(OidcProvider::builder("https://id.example", "a")),
            OidcConfigError::NoUsableKey
        );
    }
}

/// An https issuer is fetched over TLS, never in plain text: a server that answers plain
/// HTTP on that address sees a TLS handshake and is never trusted (its keys stay unknown).
#[tokio::test]
async fn an_https_issuer_is_fetched_over_tls() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let first_bytes = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 3];
        socket.read_exact(&mut buf).await.unwrap();
        // A plain-HTTP answer, which a TLS client must refuse.
        let _ = socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
            .await;
        buf
    });
    let provider = OidcProvider::builder(format!("https://127.0.0.1:{port}"), "notes-api")
        .discover()
        .await
        .expect("start-up goes on");
    assert!(!provider.keys_known());
    // A TLS record of type handshake (22), version 3.x: a ClientHello.
    let bytes = first_bytes.await.unwrap();
    assert_eq!((bytes[0], bytes[1]), (0x16, 0x03), "{bytes:?}");
}
