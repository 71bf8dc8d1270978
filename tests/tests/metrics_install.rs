//! The first `metrics::install` calls of a process, at once (as tests and apps built on
//! several threads make them): every one gets the recorder, none `RecorderTaken`. Its own
//! test binary, so these are the process's first calls.

use std::sync::{Arc, Barrier};

#[test]
fn concurrent_first_installs_all_get_the_recorder() {
    let start = Arc::new(Barrier::new(16));
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                secure_core::metrics::install()
            })
        })
        .collect();
    for call in calls {
        assert!(call.join().unwrap().is_ok());
    }
    secure_core::audit::emit(
        "auth.login",
        secure_core::audit::Outcome::Failure,
        None,
        "bad_password",
    );
    let text = secure_core::metrics::install().unwrap().render();
    assert!(text.contains(r#"reason="bad_password""#), "{text}");
}
