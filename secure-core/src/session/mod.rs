//! Cookie sessions and CSRF protection for browser clients.
