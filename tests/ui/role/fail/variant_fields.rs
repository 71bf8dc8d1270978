use secure_core::auth::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Admin(u8),
    Member { team: u32 },
    Guest,
}

fn main() {}
