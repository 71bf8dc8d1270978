//! Object-level authorisation of notes-api, checked from outside: the cross-user kit calls
//! every route that names a row by path, and every list, as a second user.

mod support;

use secure_core::testing::{CrossUser, Verdict};
use support::*;

#[tokio::test]
async fn another_user_reaches_no_note_through_any_route() {
    let app = spawn().await;
    let alice = app.new_user("alice").await;
    let bob = app.new_user("bob").await;
    let kit = CrossUser::new(app.service(), &alice.tokens.access, &bob.tokens.access)
        .create(
            "Note",
            "/notes",
            r#"{"title": "alice's", "body": "private"}"#,
        )
        .await
        .row("Account", &alice.id);
    let report = kit.run().await;
    println!("{report}");
    report.assert_no_leaks();
    let verdict = |route: &str| {
        report
            .probes
            .iter()
            .find(|p| p.route == route)
            .map(|p| p.verdict.clone())
            .unwrap_or_else(|| panic!("{route} was not tried:\n{report}"))
    };
    for route in [
        "GET /notes",
        "GET /notes/{id}",
        "PUT /notes/{id}",
        "DELETE /notes/{id}",
        "POST /auth/admin/accounts/{id}/mfa/reset",
    ] {
        assert_eq!(verdict(route), Verdict::Refused, "{route}:\n{report}");
    }
    // Alice is no administrator: the list of accounts is not hers to compare with.
    assert!(
        matches!(verdict("GET /admin/users"), Verdict::Skipped(_)),
        "{report}"
    );

    // The probes changed nothing: alice's one note is still hers, as written.
    let r = app.get("/notes").bearer(&alice.tokens.access).send().await;
    r.assert_status(200);
    let notes = r.json();
    assert_eq!(notes.as_array().map(Vec::len), Some(1), "{notes}");
    assert_eq!(notes[0]["body"], "private");
}
