use secure_core::auth::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
#[role(rename_all = "kebab-case")]
enum AppRole {
    Admin,
}

fn main() {}
