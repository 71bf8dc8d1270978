//! What a limit is: how many requests per period, and whose requests share the budget. The
//! value `#[secure_handler(rate_limit("5/min", key = ip))]` writes, and every store reads.

pub use secure_units::Rate;
use serde::ser::{Serialize, SerializeStruct, Serializer};

/// Whose requests share one rate-limit budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RateKey {
    /// Each client IP address.
    Ip,
    /// Each authenticated subject.
    User,
    /// Everyone together.
    Global,
}

/// `rate_limit("5/min", key = ip)`: the rate, in the one type of the units grammar, and who
/// shares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// How many requests per period.
    pub rate: Rate,
    /// Who shares the budget.
    pub key: RateKey,
}

impl RateKey {
    /// `ip`, `user`, `global`.
    pub fn as_str(self) -> &'static str {
        match self {
            RateKey::Ip => "ip",
            RateKey::User => "user",
            RateKey::Global => "global",
        }
    }
}

/// `5/min per ip`.
impl std::fmt::Display for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} per {}", self.rate, self.key.as_str())
    }
}

/// `{"count": 5, "period_secs": 60, "key": "ip"}` in the policy table's JSON.
impl Serialize for RateLimit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("RateLimit", 3)?;
        st.serialize_field("count", &self.rate.count)?;
        st.serialize_field("period_secs", &self.rate.period_secs)?;
        st.serialize_field("key", &self.key)?;
        st.end()
    }
}
