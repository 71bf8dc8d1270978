//! A `main` that returns a start-up error as the README's first service does
//! (`main() -> Result<(), Box<dyn Error>>`, so Rust prints `Error: {:?}`): what it prints is
//! asserted by `tests/tests/startup_errors.rs`. The argument picks the error.
#![forbid(unsafe_code)]

use secure_core::config::{Profile, SecurityConfig};
use secure_core::policy::SecureRouter;
use secure_core::routing::get;
use secure_core::secure_handler;

#[secure_handler(auth)]
async fn me() -> &'static str {
    "me"
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    match std::env::args().nth(1).as_deref() {
        Some("assembly") => {
            SecureRouter::new()
                .route("/me", get(me))
                .into_app(SecurityConfig::new())?;
        }
        Some("config") => {
            SecurityConfig::from_vars([("SECURE_JWT_KEY", "changeme")], Profile::Release)?;
        }
        Some("proxies") => {
            secure_core::http::client::ClientAddresses::new().trust_proxies(["10.0.0.0/33"])?;
        }
        _ => return Err("usage: startup_error assembly|config|proxies".into()),
    }
    Ok(())
}
