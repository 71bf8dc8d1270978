use secure_core::auth::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {}

fn main() {}
