//! `probe.ResolveContainerPort` (`pkg/probe/util.go`).

use k8s_openapi::api::core::v1::Container;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::go_text::go_quote;

/// Resolves a probe's `port` the way the kubelet does:
/// an int is used as is; a string is looked up among the container's `ports[].name`
/// (first match, its `containerPort`), and if no port has that name it is parsed as an
/// integer as a last resort (Go `strconv.Atoi`, whose error is then returned verbatim).
/// The result must be in 1..=65535, else `invalid port number: <n>`.
pub fn resolve_port(port: &IntOrString, container: &Container) -> Result<u16, String> {
    let number: i64 = match port {
        IntOrString::Int(n) => i64::from(*n),
        IntOrString::String(name) => match find_port_by_name(container, name) {
            Some(container_port) => i64::from(container_port),
            None => go_atoi(name)?,
        },
    };
    match u16::try_from(number) {
        Ok(valid) if valid > 0 => Ok(valid),
        _ => Err(format!("invalid port number: {number}")),
    }
}

fn find_port_by_name(container: &Container, name: &str) -> Option<i32> {
    container
        .ports
        .iter()
        .flatten()
        .find(|port| port.name.as_deref() == Some(name))
        .map(|port| port.container_port)
}

/// Go's `strconv.Atoi` on 64-bit platforms: optional sign, decimal digits only.
fn go_atoi(text: &str) -> Result<i64, String> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    let syntax_ok = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    let reason = if !syntax_ok {
        "invalid syntax"
    } else {
        match text.parse::<i64>() {
            Ok(value) => return Ok(value),
            Err(_) => "value out of range",
        }
    };
    Err(format!(
        "strconv.Atoi: parsing {}: {reason}",
        go_quote(text)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ContainerPort;

    fn container_with_ports(ports: &[(&str, i32)]) -> Container {
        Container {
            name: "app".into(),
            ports: Some(
                ports
                    .iter()
                    .map(|(name, number)| ContainerPort {
                        name: Some((*name).to_string()),
                        container_port: *number,
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }
    }

    fn resolve(port: IntOrString, ports: &[(&str, i32)]) -> Result<u16, String> {
        resolve_port(&port, &container_with_ports(ports))
    }

    #[test]
    fn int_ports_are_used_as_is_within_range() {
        assert_eq!(resolve(IntOrString::Int(8080), &[]), Ok(8080));
        assert_eq!(resolve(IntOrString::Int(1), &[]), Ok(1));
        assert_eq!(resolve(IntOrString::Int(65535), &[]), Ok(65535));
        assert_eq!(
            resolve(IntOrString::Int(0), &[]),
            Err("invalid port number: 0".into())
        );
        assert_eq!(
            resolve(IntOrString::Int(65536), &[]),
            Err("invalid port number: 65536".into())
        );
        assert_eq!(
            resolve(IntOrString::Int(-3), &[]),
            Err("invalid port number: -3".into())
        );
    }

    #[test]
    fn named_ports_resolve_to_the_first_matching_container_port() {
        let ports = [("http", 8080), ("metrics", 9090), ("http", 1)];
        assert_eq!(
            resolve(IntOrString::String("http".into()), &ports),
            Ok(8080)
        );
        assert_eq!(
            resolve(IntOrString::String("metrics".into()), &ports),
            Ok(9090)
        );
    }

    #[test]
    fn named_port_with_invalid_container_port_is_rejected() {
        assert_eq!(
            resolve(IntOrString::String("zero".into()), &[("zero", 0)]),
            Err("invalid port number: 0".into())
        );
    }

    #[test]
    fn unknown_names_fall_back_to_integer_parsing() {
        assert_eq!(resolve(IntOrString::String("8081".into()), &[]), Ok(8081));
        assert_eq!(resolve(IntOrString::String("+80".into()), &[]), Ok(80));
        assert_eq!(
            resolve(IntOrString::String("70000".into()), &[]),
            Err("invalid port number: 70000".into())
        );
        assert_eq!(
            resolve(IntOrString::String("-1".into()), &[]),
            Err("invalid port number: -1".into())
        );
    }

    #[test]
    fn unknown_non_numeric_names_report_go_atoi_errors() {
        assert_eq!(
            resolve(IntOrString::String("http".into()), &[("web", 80)]),
            Err(r#"strconv.Atoi: parsing "http": invalid syntax"#.into())
        );
        assert_eq!(
            resolve(IntOrString::String(String::new()), &[]),
            Err(r#"strconv.Atoi: parsing "": invalid syntax"#.into())
        );
        assert_eq!(
            resolve(IntOrString::String(" 80".into()), &[]),
            Err(r#"strconv.Atoi: parsing " 80": invalid syntax"#.into())
        );
        assert_eq!(
            resolve(IntOrString::String("99999999999999999999".into()), &[]),
            Err(r#"strconv.Atoi: parsing "99999999999999999999": value out of range"#.into())
        );
    }
}
