use secure_core::auth::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
struct AppRole {
    admin: bool,
}

fn main() {}
