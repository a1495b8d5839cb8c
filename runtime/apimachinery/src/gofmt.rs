//! Go `fmt` renderings of decoded JSON (`map[string]interface{}` and friends), needed because the
//! Go error texts we reproduce embed values formatted with `%v` / `%s`.

use serde_json::Value;

/// Go's dynamic type of a JSON value as decoded by `k8s.io/apimachinery/pkg/util/json`
/// (integers become int64, other numbers float64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GoKind {
    Nil,
    Bool,
    Int64,
    Float64,
    String,
    Slice,
    Map,
}

pub(crate) fn go_kind(v: &Value) -> GoKind {
    match v {
        Value::Null => GoKind::Nil,
        Value::Bool(_) => GoKind::Bool,
        Value::Number(n) if n.as_i64().is_some() => GoKind::Int64,
        Value::Number(_) => GoKind::Float64,
        Value::String(_) => GoKind::String,
        Value::Array(_) => GoKind::Slice,
        Value::Object(_) => GoKind::Map,
    }
}

/// `reflect.TypeOf(v)` printed with `%s`.
pub(crate) fn go_type_name(v: &Value) -> &'static str {
    match go_kind(v) {
        GoKind::Nil => "<nil>",
        GoKind::Bool => "bool",
        GoKind::Int64 => "int64",
        GoKind::Float64 => "float64",
        GoKind::String => "string",
        GoKind::Slice => "[]interface {}",
        GoKind::Map => "map[string]interface {}",
    }
}

const MAX_RENDER_DEPTH: usize = 32;

/// `fmt.Sprintf("%v", v)`.
pub(crate) fn go_v(v: &Value) -> String {
    let mut out = String::new();
    render_v(v, &mut out, 0);
    out
}

/// `fmt.Sprintf("%v", slices)` for a `[][]interface{}`.
pub(crate) fn go_v_slices(slices: &[&[Value]]) -> String {
    let parts: Vec<String> = slices
        .iter()
        .map(|s| go_v(&Value::Array(s.to_vec())))
        .collect();
    format!("[{}]", parts.join(" "))
}

/// `fmt.Sprintf("%s", v)`: strings verbatim, other scalars as `%!s(type=value)`.
pub(crate) fn go_s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "%!s(<nil>)".to_string(),
        Value::Bool(_) | Value::Number(_) => format!("%!s({}={})", go_type_name(v), go_v(v)),
        _ => go_v(v),
    }
}

fn render_v(v: &Value, out: &mut String, depth: usize) {
    if depth > MAX_RENDER_DEPTH {
        out.push_str("...");
        return;
    }
    match v {
        Value::Null => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => out.push_str(&i.to_string()),
            (None, Some(f)) => out.push_str(&go_float(f)),
            (None, None) => out.push_str(&n.to_string()),
        },
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                render_v(item, out, depth + 1);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Go prints map keys sorted; serde_json's Map is a BTreeMap, already sorted.
            out.push_str("map[");
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                render_v(item, out, depth + 1);
            }
            out.push(']');
        }
    }
}

/// `fmt.Sprintf("%v", f)`, i.e. `strconv.FormatFloat(f, 'g', -1, 64)`: shortest digits, exponent
/// form when the decimal exponent is < -4 or >= 6 (strconv uses precision 6 for that decision
/// when the precision is "shortest").
pub(crate) fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits, e.g. "1.2345e6".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if negative { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        let mut m = digits[..1].to_string();
        if digits.len() > 1 {
            m.push('.');
            m.push_str(&digits[1..]);
        }
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{m}e{esign}{:02}", exp.abs());
    }
    let point = exp + 1; // digits before the decimal point
    if point <= 0 {
        format!("{sign}0.{}{}", "0".repeat((-point) as usize), digits)
    } else if (point as usize) >= digits.len() {
        format!(
            "{sign}{}{}",
            digits,
            "0".repeat(point as usize - digits.len())
        )
    } else {
        let (a, b) = digits.split_at(point as usize);
        format!("{sign}{a}.{b}")
    }
}

/// Go's `strconv.Quote` (`%q`) for text: the short escapes, `\x`/`\u`/`\U` for other
/// control characters.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                if (c as u32) <= 0xffff {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_maps_like_go() {
        let v = json!({"name": "a", "$patch": "delete", "n": 1, "f": 1.5, "l": [true, null]});
        assert_eq!(
            go_v(&v),
            "map[$patch:delete f:1.5 l:[true <nil>] n:1 name:a]"
        );
    }

    #[test]
    fn renders_floats_like_go_v() {
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(100000.0), "100000");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(1e6), "1e+06");
        assert_eq!(go_float(1234567.5), "1.2345675e+06");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
    }

    #[test]
    fn percent_s_of_non_strings() {
        assert_eq!(go_s(&json!(true)), "%!s(bool=true)");
        assert_eq!(go_s(&Value::Null), "%!s(<nil>)");
        assert_eq!(go_s(&json!("merge")), "merge");
    }
}
