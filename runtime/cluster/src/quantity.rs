//! Resource quantities (`resource.Quantity`): `500m`, `1.5`, `64Mi`, `1G`, `2e3`, in exact
//! integer arithmetic so that scheduler fits are not off by rounding.

/// The quantity in thousandths of its unit, rounded up (`Quantity.MilliValue`); `None` when
/// it is not a valid quantity or does not fit.
pub fn milli_value(quantity: &str) -> Option<i128> {
    let parsed = Parsed::new(quantity.trim())?;
    parsed.scaled(3)
}

/// The quantity in whole units, rounded up (`Quantity.Value`, e.g. bytes of memory).
pub fn value(quantity: &str) -> Option<i128> {
    let parsed = Parsed::new(quantity.trim())?;
    parsed.scaled(0)
}

/// `digits × 10^exponent × binary_factor`, with the sign.
struct Parsed {
    negative: bool,
    digits: i128,
    exponent: i32,
    binary_factor: i128,
}

impl Parsed {
    fn new(text: &str) -> Option<Parsed> {
        let (negative, text) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let number_end = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, suffix) = text.split_at(number_end);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return None;
        }
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let mut digits: i128 = 0;
        for c in whole.chars().chain(fraction.chars()) {
            digits = digits
                .checked_mul(10)?
                .checked_add(i128::from(c.to_digit(10)?))?;
        }
        let mut exponent = -i32::try_from(fraction.len()).ok()?;
        let mut binary_factor = 1i128;
        match suffix {
            "" => {}
            "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => {
                let power = match suffix {
                    "Ki" => 1,
                    "Mi" => 2,
                    "Gi" => 3,
                    "Ti" => 4,
                    "Pi" => 5,
                    _ => 6,
                };
                binary_factor = 1024i128.pow(power);
            }
            "n" => exponent -= 9,
            "u" => exponent -= 6,
            "m" => exponent -= 3,
            "k" => exponent += 3,
            "M" => exponent += 6,
            "G" => exponent += 9,
            "T" => exponent += 12,
            "P" => exponent += 15,
            "E" => exponent += 18,
            _ => {
                let rest = suffix.strip_prefix(['e', 'E'])?;
                let power: i32 = rest.parse().ok()?;
                exponent = exponent.checked_add(power)?;
            }
        }
        Some(Parsed {
            negative,
            digits,
            exponent,
            binary_factor,
        })
    }

    /// The value × 10^`shift`, rounded up (away from zero for positives).
    fn scaled(&self, shift: i32) -> Option<i128> {
        let base = self.digits.checked_mul(self.binary_factor)?;
        let exponent = self.exponent.checked_add(shift)?;
        let magnitude = if exponent >= 0 {
            base.checked_mul(10i128.checked_pow(u32::try_from(exponent).ok()?)?)?
        } else {
            let divisor = 10i128.checked_pow(u32::try_from(-exponent).ok()?);
            match divisor {
                Some(divisor) => (base + divisor - 1) / divisor,
                // Smaller than any representable unit: rounds up to 1 unless zero.
                None => i128::from(base > 0),
            }
        };
        Some(if self.negative { -magnitude } else { magnitude })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cpu_in_millicores() {
        assert_eq!(milli_value("500m"), Some(500));
        assert_eq!(milli_value("1"), Some(1000));
        assert_eq!(milli_value("1.5"), Some(1500));
        assert_eq!(milli_value("0.0001"), Some(1));
        assert_eq!(milli_value("2e3"), Some(2_000_000));
    }

    #[test]
    fn parses_memory_in_bytes() {
        assert_eq!(value("64Mi"), Some(64 * 1024 * 1024));
        assert_eq!(value("1G"), Some(1_000_000_000));
        assert_eq!(value("1.5Ki"), Some(1536));
        assert_eq!(value("100m"), Some(1));
        assert_eq!(value("110"), Some(110));
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(value("lots"), None);
        assert_eq!(value("1..2"), None);
        assert_eq!(value("12Qi"), None);
        assert_eq!(value(""), None);
    }
}
