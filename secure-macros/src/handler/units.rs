//! The small grammars inside the attribute's strings: rates (`"5/min"`), sizes (`"16KiB"`) and
//! durations (`"5m"`).

//! The grammars are `secure-units`', shared with the runtime's `SECURE_*` variables: the same
//! text is accepted or refused in both places, with the same message.

use std::time::Duration;

/// `"N/unit"` -> (N, seconds in the unit).
pub(crate) fn parse_rate(s: &str) -> Result<(u32, u64), String> {
    secure_units::rate(s)
        .map(|r| (r.count, r.period_secs))
        .map_err(|e| e.to_string())
}

/// `"16KiB"` -> bytes.
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    secure_units::size(s).map_err(|e| e.to_string())
}

/// The longest `fresh` window: a sign-in older than a day is not a recent one.
pub(crate) const MAX_FRESH: Duration = Duration::from_secs(24 * 60 * 60);

/// `"5m"`, `"300s"`, `"1h"` -> seconds, for `fresh = ".."`: from one second to a day.
pub(crate) fn parse_fresh(s: &str) -> Result<u64, String> {
    secure_units::duration(s, Duration::from_secs(1), MAX_FRESH)
        .map(|d| d.as_secs())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_windows() {
        assert_eq!(parse_fresh("5m"), Ok(300));
        assert_eq!(parse_fresh("90s"), Ok(90));
        assert_eq!(parse_fresh("1h"), Ok(3600));
        assert_eq!(parse_fresh(" 10 min "), Ok(600));
        assert!(parse_fresh("5").unwrap_err().contains("no unit"));
        assert!(
            parse_fresh("0s")
                .unwrap_err()
                .contains("between 1s and 24h")
        );
        assert!(parse_fresh("25h").unwrap_err().contains("24h"));
        assert!(parse_fresh("five minutes").is_err());
        assert!(parse_fresh("5d").is_err());
        assert!(parse_fresh("99999999999999999999h").is_err());
    }
}
