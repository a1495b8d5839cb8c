//! Just enough of `resource.Quantity` to compare values (QoS class) and to compute the
//! integer values `kubectl describe` shows for resource-backed environment variables.

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

const NANOS_PER_UNIT: i128 = 1_000_000_000;

/// The value of a quantity in nano-units (`1` → 1e9, `100m` → 1e8, `1Ki` → 1024e9).
/// `None` for text that is not a valid quantity or does not fit.
pub fn nano_value(quantity: &Quantity) -> Option<i128> {
    parse_nanos(quantity.0.trim())
}

fn parse_nanos(text: &str) -> Option<i128> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let number_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_end);
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }

    // mantissa = digits as integer; value = mantissa * 10^(exp10 - frac_len) * 2^exp2
    let mut mantissa: i128 = 0;
    for digit in int_part.bytes().chain(frac_part.bytes()) {
        mantissa = mantissa
            .checked_mul(10)?
            .checked_add(i128::from(digit - b'0'))?;
    }
    let (exp10, exp2): (i32, u32) = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        s if s.starts_with(['e', 'E']) => (s[1..].parse().ok()?, 0),
        _ => return None,
    };
    // Scale to nano-units: +9 decimal places.
    let frac_len = i32::try_from(frac_part.len()).ok()?;
    let scale = exp10 + 9 - frac_len;
    let mut value = mantissa.checked_mul(1i128.checked_shl(exp2)?)?;
    if scale >= 0 {
        value = value.checked_mul(10i128.checked_pow(u32::try_from(scale).ok()?)?)?;
    } else {
        // Below a nano-unit: round up like Quantity does when it loses precision.
        let divisor = 10i128.checked_pow(u32::try_from(-scale).ok()?)?;
        value = (value + divisor - 1) / divisor;
    }
    Some(if negative { -value } else { value })
}

/// `Quantity.MilliValue()` rounded up, as an integer.
pub fn milli_value(nanos: i128) -> i128 {
    ceil_div(nanos, 1_000_000)
}

/// `Quantity.Value()` rounded up, as an integer.
pub fn unit_value(nanos: i128) -> i128 {
    ceil_div(nanos, NANOS_PER_UNIT)
}

pub fn ceil_div(a: i128, b: i128) -> i128 {
    let q = a / b;
    if (a % b != 0) && ((a < 0) == (b < 0)) {
        q + 1
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Option<i128> {
        nano_value(&Quantity(text.to_string()))
    }

    #[test]
    fn parses_decimal_binary_and_exponent_forms() {
        assert_eq!(q("1"), Some(NANOS_PER_UNIT));
        assert_eq!(q("100m"), Some(100_000_000));
        assert_eq!(q("0.5"), Some(500_000_000));
        assert_eq!(q("1Ki"), Some(1024 * NANOS_PER_UNIT));
        assert_eq!(q("128Mi"), Some(128 * 1024 * 1024 * NANOS_PER_UNIT));
        assert_eq!(q("1e3"), Some(1000 * NANOS_PER_UNIT));
        assert_eq!(q("1E"), Some(1_000_000_000_000_000_000 * NANOS_PER_UNIT));
        assert_eq!(q("1000m"), q("1"));
        assert_eq!(q("-2"), Some(-2 * NANOS_PER_UNIT));
        assert_eq!(q("abc"), None);
        assert_eq!(q(""), None);
        assert_eq!(q("1Xi"), None);
    }

    #[test]
    fn value_rounding() {
        assert_eq!(milli_value(q("250m").expect("valid")), 250);
        assert_eq!(unit_value(q("250m").expect("valid")), 1);
        assert_eq!(unit_value(q("2").expect("valid")), 2);
    }
}
