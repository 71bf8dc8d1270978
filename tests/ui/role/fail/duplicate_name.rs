use secure_core::auth::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    SupportAgent,
    #[role(rename = "support_agent")]
    Helpdesk,
}

fn main() {}
