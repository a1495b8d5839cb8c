//! Kubernetes resource quantities (`64Mi`, `1G`, `512M`, `1e9`) as byte counts.

/// Bytes in `quantity`, rounded up; `None` when it is not a valid quantity.
pub fn parse_bytes(quantity: &str) -> Option<u64> {
    let quantity = quantity.trim();
    let split = quantity
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(quantity.len());
    let (number, suffix) = quantity.split_at(split);
    let multiplier: f64 = match suffix {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        _ => return None,
    };
    let value: f64 = number.parse().ok()?;
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    Some((value * multiplier).ceil() as u64)
}

/// CPU in millicores (`100m` = 100, `1` = 1000, `0.5` = 500), rounded up.
pub fn parse_millicores(quantity: &str) -> Option<u64> {
    let quantity = quantity.trim();
    let (number, scale) = match quantity.strip_suffix('m') {
        Some(millis) => (millis, 1.0),
        None => (quantity, 1000.0),
    };
    let value: f64 = number.parse().ok()?;
    (value.is_finite() && value >= 0.0).then(|| (value * scale).ceil() as u64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_quantities_in_millicores() {
        use super::parse_millicores;
        assert_eq!(parse_millicores("100m"), Some(100));
        assert_eq!(parse_millicores("1"), Some(1000));
        assert_eq!(parse_millicores("0.5"), Some(500));
        assert_eq!(parse_millicores("2.5m"), Some(3));
        assert_eq!(parse_millicores("fast"), None);
    }

    #[test]
    fn parses_binary_decimal_and_exponent_forms() {
        use super::parse_bytes;
        assert_eq!(parse_bytes("64Mi"), Some(64 << 20));
        assert_eq!(parse_bytes("1G"), Some(1_000_000_000));
        assert_eq!(parse_bytes("1e3"), Some(1000));
        assert_eq!(parse_bytes("128974848"), Some(128_974_848));
        assert_eq!(parse_bytes("1.5Ki"), Some(1536));
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(parse_bytes("5Zi"), None);
    }
}
