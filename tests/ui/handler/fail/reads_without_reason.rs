#![allow(unused)]
use secure_core::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Admin,
}

// A table read on purpose says why: the policy table shows it to reviewers.
#[secure_handler(auth, roles(AppRole::Admin), reads(notes))]
async fn count_notes() -> &'static str {
    "0"
}

#[secure_handler(auth, roles(AppRole::Admin), reads(notes, reason = "stats"))]
async fn stats() -> &'static str {
    "0"
}

#[secure_handler(auth, roles(AppRole::Admin), reads(reason = "an administrator's count of every note"))]
async fn no_table() -> &'static str {
    "0"
}

fn main() {}
