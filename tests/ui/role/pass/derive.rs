use secure_core::auth::{Principal, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Admin,
    SupportAgent,
    #[role(rename = "billing:read")]
    BillingReader,
    r#Type,
}

async fn handler(user: Principal<AppRole>) -> String {
    user.subject().to_owned()
}

fn main() {
    assert_eq!(
        AppRole::ALL,
        [
            AppRole::Admin,
            AppRole::SupportAgent,
            AppRole::BillingReader,
            AppRole::Type
        ]
    );
    assert_eq!(AppRole::SupportAgent.as_str(), "support_agent");
    assert_eq!(AppRole::Type.as_str(), "type");
    assert_eq!(AppRole::parse("billing:read"), Some(AppRole::BillingReader));
    assert_eq!(AppRole::parse("BillingReader"), None);
    let _ = axum::Router::<()>::new().route("/", axum::routing::get(handler));
}
