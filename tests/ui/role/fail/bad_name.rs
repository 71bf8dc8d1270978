use secure_core::auth::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    #[role(rename = "super user")]
    Admin,
    #[role(rename = "")]
    Member,
    #[role(rename = admin)]
    Guest,
}

fn main() {}
