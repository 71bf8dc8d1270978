//! The small grammars inside the attribute's strings: rates (`"5/min"`) and sizes (`"16KiB"`).

/// `"N/unit"` -> (N, seconds in the unit).
pub(crate) fn parse_rate(s: &str) -> Result<(u32, u64), String> {
    let usage = "write `N/unit` with a unit of `sec`, `min`, `hour` or `day`, such as \"5/min\"";
    let Some((count, unit)) = s.split_once('/') else {
        return Err(format!("malformed rate \"{s}\": {usage}"));
    };
    let count: u32 = match count.trim().parse() {
        Ok(n) if n > 0 => n,
        _ => {
            return Err(format!(
                "malformed rate \"{s}\": the count must be a whole number of 1 or more; {usage}"
            ));
        }
    };
    let period = match unit.trim() {
        "s" | "sec" | "second" => 1,
        "m" | "min" | "minute" => 60,
        "h" | "hour" => 3_600,
        "d" | "day" => 86_400,
        other => {
            return Err(format!(
                "malformed rate \"{s}\": unknown unit `{other}`; {usage}"
            ));
        }
    };
    Ok((count, period))
}

/// The longest `fresh` window: a sign-in older than a day is not a recent one.
pub(crate) const MAX_FRESH_SECS: u64 = 24 * 60 * 60;

/// `"5m"`, `"300s"`, `"1h"` -> seconds, for `fresh = ".."`.
pub(crate) fn parse_fresh(s: &str) -> Result<u64, String> {
    let usage = "write a duration with a unit of `s`, `m` (or `min`) or `h`, such as \"5m\"";
    let text = s.trim();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let Ok(number) = number.parse::<u64>() else {
        return Err(format!("malformed duration \"{s}\": {usage}"));
    };
    let factor = match unit.trim() {
        "s" | "sec" => 1,
        "m" | "min" => 60,
        "h" | "hour" => 3_600,
        "" => return Err(format!("duration \"{s}\" has no unit: {usage}")),
        _ => return Err(format!("malformed duration \"{s}\": {usage}")),
    };
    match number.checked_mul(factor) {
        Some(0) => Err(format!(
            "`fresh = \"{s}\"` is zero: no sign-in is that recent; use a window such as \"5m\""
        )),
        Some(n) if n <= MAX_FRESH_SECS => Ok(n),
        _ => Err(format!(
            "`fresh = \"{s}\"` is longer than 24h: a sign-in that old is not a recent one"
        )),
    }
}

/// The largest body limit the attribute accepts: bigger uploads belong in a streaming handler.
pub(crate) const MAX_BODY_LIMIT: u64 = 64 * 1024 * 1024;

/// `"16KiB"` -> bytes.
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let usage =
        "write a size such as \"512B\", \"16KiB\" or \"1MiB\" (KiB = 1024 bytes, KB = 1000)";
    let digits = s.trim().chars().take_while(char::is_ascii_digit).count();
    let (number, unit) = s.trim().split_at(digits);
    let Ok(number) = number.parse::<u64>() else {
        return Err(format!("malformed body limit \"{s}\": {usage}"));
    };
    let factor = match unit.trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1_000,
        "KiB" => 1_024,
        "MB" => 1_000_000,
        "MiB" => 1_048_576,
        _ => return Err(format!("malformed body limit \"{s}\": {usage}")),
    };
    match number.checked_mul(factor) {
        Some(0) => Err(format!(
            "body limit \"{s}\" is zero: a route that takes no body needs no limit"
        )),
        Some(n) if n <= MAX_BODY_LIMIT => Ok(n),
        _ => Err(format!(
            "body limit \"{s}\" is above 64MiB: stream large uploads instead of buffering them"
        )),
    }
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
        assert!(parse_fresh("0s").unwrap_err().contains("zero"));
        assert!(parse_fresh("25h").unwrap_err().contains("24h"));
        assert!(parse_fresh("five minutes").is_err());
        assert!(parse_fresh("5d").is_err());
        assert!(parse_fresh("99999999999999999999h").is_err());
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("5/min"), Ok((5, 60)));
        assert_eq!(parse_rate("10 / hour"), Ok((10, 3600)));
        assert!(parse_rate("5/fortnight").is_err());
        assert!(parse_rate("0/min").is_err());
        assert!(parse_rate("five/min").is_err());
        assert!(parse_rate("5").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("16KiB"), Ok(16 * 1024));
        assert_eq!(parse_size("512B"), Ok(512));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("2KB"), Ok(2000));
        assert!(parse_size("16 KiBs").is_err());
        assert!(parse_size("0B").is_err());
        assert!(parse_size("1GiB").is_err());
        assert!(parse_size("99999999999999999999MiB").is_err());
    }
}
