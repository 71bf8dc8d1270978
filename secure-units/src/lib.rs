//! # secure-units
//!
//! The one grammar for the rates, sizes and durations the `secure` framework reads: in
//! `#[secure_handler(rate_limit("5/min"), body_limit = "16KiB", fresh = "5m")]` at compile time
//! and in `SECURE_RATE_LIMIT`, `SECURE_BODY_LIMIT`, `SECURE_REQUEST_TIMEOUT` at start-up. The
//! same text is accepted or refused in both places, with the same message, so a value that
//! compiles in an attribute also starts a service from a variable.
//!
//! ```
//! use std::time::Duration;
//!
//! assert_eq!(secure_units::rate("5/min").unwrap().period_secs, 60);
//! assert_eq!(secure_units::rate("5/m"), secure_units::rate("5/minute"));
//! assert_eq!(secure_units::size("16KiB"), Ok(16 * 1024));
//! assert_eq!(secure_units::size("2KB"), Ok(2000));
//! assert_eq!(
//!     secure_units::duration("500ms", Duration::from_millis(1), Duration::from_secs(3600)),
//!     Ok(Duration::from_millis(500))
//! );
//! assert_eq!(
//!     secure_units::rate("5/fortnight").unwrap_err().to_string(),
//!     "`5/fortnight` is not a rate: unknown unit `fortnight`; write N/unit with a unit of s, m, h or d (or sec, min, hour, day), such as `5/min`"
//! );
//! ```
#![forbid(unsafe_code)]

use std::fmt;
use std::time::Duration;

/// Why a text was refused. Its message quotes the text (never a secret: these are limits) and
/// says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitError {
    message: String,
}

impl UnitError {
    fn new(message: String) -> Self {
        UnitError { message }
    }
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UnitError {}

/// `count` requests per `period_secs` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed per period (1 or more).
    pub count: u32,
    /// The period in seconds.
    pub period_secs: u64,
}

/// The rate as the grammar writes it: `5/min`, `10/hour`, `1/sec`, `2/day` (`5/90s` for a
/// period the grammar has no unit for). The one printer of rates: the policy table, the
/// configuration's messages and the macro's use it.
///
/// ```
/// assert_eq!(secure_units::rate("300/minute").unwrap().to_string(), "300/min");
/// ```
impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.period_secs {
            1 => write!(f, "{}/sec", self.count),
            60 => write!(f, "{}/min", self.count),
            3600 => write!(f, "{}/hour", self.count),
            86_400 => write!(f, "{}/day", self.count),
            s => write!(f, "{}/{s}s", self.count),
        }
    }
}

const RATE_USAGE: &str =
    "write N/unit with a unit of s, m, h or d (or sec, min, hour, day), such as `5/min`";

/// `"5/min"`: a whole count of 1 or more, `/`, and a unit: `s`, `sec`, `second`; `m`, `min`,
/// `minute`; `h`, `hour`; `d`, `day`. Spaces around the parts are allowed.
pub fn rate(text: &str) -> Result<Rate, UnitError> {
    let Some((count, unit)) = text.split_once('/') else {
        return Err(UnitError::new(format!(
            "`{text}` is not a rate: {RATE_USAGE}"
        )));
    };
    let count: u32 = match count.trim().parse() {
        Ok(n) if n > 0 => n,
        _ => {
            return Err(UnitError::new(format!(
                "`{text}` is not a rate: the count must be a whole number of 1 or more; {RATE_USAGE}"
            )));
        }
    };
    let period_secs = match unit.trim() {
        "s" | "sec" | "second" => 1,
        "m" | "min" | "minute" => 60,
        "h" | "hour" => 3_600,
        "d" | "day" => 86_400,
        other => {
            return Err(UnitError::new(format!(
                "`{text}` is not a rate: unknown unit `{other}`; {RATE_USAGE}"
            )));
        }
    };
    Ok(Rate { count, period_secs })
}

/// The largest body size anywhere (attribute or variable): bigger uploads belong in a
/// streaming handler, not in a buffer.
pub const MAX_SIZE: u64 = 64 * 1024 * 1024;

const SIZE_USAGE: &str = "write bytes, or a number with KiB or MiB (1024-based) or KB or MB (1000-based), such as `16KiB`";

/// `"16KiB"`: a whole number, then nothing or `B` (bytes), `KiB`, `MiB`, `KB`, `MB`; from one
/// byte to [`MAX_SIZE`].
pub fn size(text: &str) -> Result<u64, UnitError> {
    let trimmed = text.trim();
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = trimmed.split_at(digits);
    let Ok(number) = number.parse::<u64>() else {
        return Err(UnitError::new(format!(
            "`{text}` is not a size: {SIZE_USAGE}"
        )));
    };
    let factor = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1_024,
        "MiB" => 1_048_576,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        _ => {
            return Err(UnitError::new(format!(
                "`{text}` is not a size: {SIZE_USAGE}"
            )));
        }
    };
    match number.checked_mul(factor) {
        Some(0) => Err(UnitError::new(format!(
            "`{text}` is zero: a body limit of nothing refuses every body"
        ))),
        Some(n) if n <= MAX_SIZE => Ok(n),
        _ => Err(UnitError::new(format!(
            "`{text}` is more than 64MiB: stream large uploads instead of buffering them"
        ))),
    }
}

const DURATION_USAGE: &str =
    "write a whole number and a unit of ms, s, m (or min) or h, such as `30s`";

/// `"30s"`: a whole number and a unit: `ms`, `s` (`sec`), `m` (`min`), `h` (`hour`); from `min`
/// to `max` inclusive.
pub fn duration(text: &str, min: Duration, max: Duration) -> Result<Duration, UnitError> {
    let trimmed = text.trim();
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = trimmed.split_at(digits);
    let Ok(number) = number.parse::<u64>() else {
        return Err(UnitError::new(format!(
            "`{text}` is not a duration: {DURATION_USAGE}"
        )));
    };
    let parsed = match unit.trim() {
        "ms" => Some(Duration::from_millis(number)),
        "s" | "sec" => Some(Duration::from_secs(number)),
        "m" | "min" => number.checked_mul(60).map(Duration::from_secs),
        "h" | "hour" => number.checked_mul(3_600).map(Duration::from_secs),
        "" => {
            return Err(UnitError::new(format!(
                "`{text}` has no unit: {DURATION_USAGE}"
            )));
        }
        _ => {
            return Err(UnitError::new(format!(
                "`{text}` is not a duration: {DURATION_USAGE}"
            )));
        }
    };
    match parsed {
        Some(d) if d >= min && d <= max => Ok(d),
        _ => Err(UnitError::new(format!(
            "`{text}` is not between {} and {}",
            show(min),
            show(max)
        ))),
    }
}

/// `500ms`, `30s`, `5m`, `24h`: the shortest exact spelling.
pub fn show(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(3_600_000) && ms > 0 {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) && ms > 0 {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1_000) {
        format!("{}s", ms / 1_000)
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);
    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn rates() {
        for (text, count, period) in [
            ("5/min", 5, 60),
            ("5/m", 5, 60),
            ("10 / hour", 10, 3600),
            ("1/s", 1, 1),
            ("300/minute", 300, 60),
            ("2/d", 2, 86_400),
        ] {
            assert_eq!(
                rate(text),
                Ok(Rate {
                    count,
                    period_secs: period
                }),
                "{text}"
            );
        }
        for bad in [
            "5/fortnight",
            "0/min",
            "five/min",
            "5",
            "",
            "/min",
            "-1/s",
            "5/",
        ] {
            assert!(rate(bad).is_err(), "{bad}");
        }
        assert!(rate("0/min").unwrap_err().to_string().contains("1 or more"));
    }

    #[test]
    fn sizes() {
        assert_eq!(size("16KiB"), Ok(16 * 1024));
        assert_eq!(size("512B"), Ok(512));
        assert_eq!(size("65536"), Ok(65536));
        assert_eq!(size("1MiB"), Ok(1 << 20));
        assert_eq!(size("2KB"), Ok(2000));
        assert_eq!(size("64MiB"), Ok(MAX_SIZE));
        assert!(size("16 KiBs").is_err());
        assert!(size("0B").unwrap_err().to_string().contains("zero"));
        assert!(size("65MiB").unwrap_err().to_string().contains("64MiB"));
        assert!(size("1GiB").is_err());
        assert!(size("99999999999999999999MiB").is_err());
        assert!(size("-1").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(duration("30s", MS, HOUR), Ok(Duration::from_secs(30)));
        assert_eq!(duration("500ms", MS, HOUR), Ok(Duration::from_millis(500)));
        assert_eq!(duration("2min", MS, HOUR), Ok(Duration::from_secs(120)));
        assert_eq!(duration("5m", MS, HOUR), Ok(Duration::from_secs(300)));
        assert_eq!(duration("1h", MS, HOUR), Ok(HOUR));
        assert!(
            duration("30", MS, HOUR)
                .unwrap_err()
                .to_string()
                .contains("no unit")
        );
        assert_eq!(
            duration("2h", MS, HOUR).unwrap_err().to_string(),
            "`2h` is not between 1ms and 1h"
        );
        assert!(duration("0s", MS, HOUR).is_err());
        assert!(duration("5 minutes", MS, HOUR).is_err());
        assert!(duration("99999999999999999999h", MS, HOUR).is_err());
        assert_eq!(show(Duration::from_secs(90)), "90s");
        assert_eq!(show(Duration::from_secs(86_400)), "24h");
    }
}
