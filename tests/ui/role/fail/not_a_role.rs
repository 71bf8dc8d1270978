use secure_core::auth::Principal;

fn handler(_user: Principal<String>) {}

fn main() {}
