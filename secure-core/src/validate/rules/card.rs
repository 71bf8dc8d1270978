//! Placeholder until the card rule lands.

/// Whether `s` is a payment card number with a valid Luhn check digit.
pub fn credit_card(s: &str) -> bool {
    !s.is_empty()
}
