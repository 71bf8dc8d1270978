use secure_core::auth::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    #[role(renam = "administrator")]
    Admin,
    #[role(alias = "user")]
    Member,
}

fn main() {}
