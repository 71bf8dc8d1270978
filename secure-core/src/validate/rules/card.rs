//! Payment card numbers.

/// ISO/IEC 7812 primary account numbers are 8 to 19 digits; cards in circulation use 12 or more.
const DIGITS: std::ops::RangeInclusive<usize> = 12..=19;

/// Whether `s` is a payment card number: 12 to 19 ASCII digits with a valid Luhn check digit.
///
/// Only digits are accepted: spaces and hyphens (`4111 1111 1111 1111`) are rejected, so the
/// value that passes is the value that is stored and sent to the processor. Strip separators
/// in the client or with a custom sanitiser first. The issuer (IIN) ranges are not checked:
/// they change, and the processor is the authority on whether a number is issued. The check
/// is not constant-time.
///
/// Protects against: typing mistakes (Luhn catches every single-digit error and most
/// transpositions) and anything that is not a card number reaching the payment flow. Card
/// numbers are sensitive: keep the field in a `#[sensitive]` type with a mask such as
/// `mask = last(4)`.
///
/// Never allocates.
///
/// ```
/// use secure_core::validate::rules::credit_card;
///
/// assert!(credit_card("4111111111111111"));
/// assert!(!credit_card("4111111111111112")); // bad check digit
/// assert!(!credit_card("4111 1111 1111 1111")); // separators
/// ```
pub fn credit_card(s: &str) -> bool {
    let bytes = s.as_bytes();
    DIGITS.contains(&bytes.len()) && bytes.iter().all(u8::is_ascii_digit) && luhn(bytes)
}

/// Luhn mod 10 over ASCII digits, doubling every second digit from the right.
fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::credit_card;

    #[test]
    fn accepts_luhn_valid_numbers() {
        for s in [
            "4111111111111111",
            "5500005555555559",
            "378282246310005",
            "6011111111111117",
            "4539571147647251",
            "4716989580001715211",
            "000000000000",
        ] {
            assert!(credit_card(s), "{s:?}");
        }
    }

    #[test]
    fn rejects_bad_check_digits_lengths_and_separators() {
        for s in [
            "",
            "4111111111111112",
            "5236313877109141",
            "4111-1111-1111-1111",
            "4111 1111 1111 1111",
            " 4111111111111111",
            "4111111111111111\n",
            "00000000000",
            "00000000000000000000",
            "411111111111111a",
            "٤111111111111111",
            "-4111111111111111",
        ] {
            assert!(!credit_card(s), "{s:?}");
        }
    }
}
