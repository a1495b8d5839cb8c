//! Probe and handler validation (`validateProbe`, `validateHandler`,
//! `validateLivenessProbe`/`validateReadinessProbe`/`validateStartupProbe`).

use k8s_openapi::api::core::v1::{
    ContainerPort, ExecAction, GRPCAction, HTTPGetAction, LifecycleHandler, Probe, TCPSocketAction,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::names::{is_http_header_name, is_valid_port_name, is_valid_port_num};
use super::path::FieldPath;
use crate::field_error::FieldError;

const MORE_THAN_ONE_HANDLER: &str = "may not specify more than 1 handler type";
const NEGATIVE: &str = "must be greater than or equal to 0";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProbeKind {
    Liveness,
    Readiness,
    Startup,
}

/// Validates one probe of a container whose ports are `ports`.
pub(crate) fn validate_probe(
    kind: ProbeKind,
    probe: &Probe,
    ports: &[ContainerPort],
    path: &FieldPath,
) -> Vec<FieldError> {
    let handler = Handler {
        exec: probe.exec.as_ref(),
        http_get: probe.http_get.as_ref(),
        tcp_socket: probe.tcp_socket.as_ref(),
        grpc: probe.grpc.as_ref(),
        has_sleep: false,
    };
    let mut errors = validate_handler(&handler, Some(ports), path);

    for (field, value) in [
        ("initialDelaySeconds", probe.initial_delay_seconds),
        ("timeoutSeconds", probe.timeout_seconds),
        ("periodSeconds", probe.period_seconds),
        ("successThreshold", probe.success_threshold),
        ("failureThreshold", probe.failure_threshold),
    ] {
        let value = value.unwrap_or(0);
        if value < 0 {
            errors.push(FieldError::invalid(path.child(field), value, NEGATIVE));
        }
    }
    if let Some(grace) = probe.termination_grace_period_seconds {
        if grace <= 0 {
            errors.push(FieldError::invalid(
                path.child("terminationGracePeriodSeconds"),
                grace,
                "must be greater than 0",
            ));
        }
    }

    match kind {
        ProbeKind::Liveness | ProbeKind::Startup => {
            let success = probe.success_threshold.unwrap_or(0);
            if success != 1 {
                errors.push(FieldError::invalid(
                    path.child("successThreshold"),
                    success,
                    "must be 1",
                ));
            }
        }
        ProbeKind::Readiness => {
            if let Some(grace) = probe.termination_grace_period_seconds {
                errors.push(FieldError::invalid(
                    path.child("terminationGracePeriodSeconds"),
                    grace,
                    "must not be set for readinessProbes",
                ));
            }
        }
    }
    errors
}

/// Validates a postStart/preStop handler (no named-port check: not probed).
pub(crate) fn validate_lifecycle_handler(
    handler: &LifecycleHandler,
    path: &FieldPath,
) -> Vec<FieldError> {
    let handler = Handler {
        exec: handler.exec.as_ref(),
        http_get: handler.http_get.as_ref(),
        tcp_socket: handler.tcp_socket.as_ref(),
        grpc: None,
        has_sleep: handler.sleep.is_some(),
    };
    validate_handler(&handler, None, path)
}

/// The handler fields common to probes and lifecycle hooks (`commonHandler`).
struct Handler<'a> {
    exec: Option<&'a ExecAction>,
    http_get: Option<&'a HTTPGetAction>,
    tcp_socket: Option<&'a TCPSocketAction>,
    grpc: Option<&'a GRPCAction>,
    has_sleep: bool,
}

/// `validateHandler`: exactly one handler; the first one set is validated, every
/// further one is Forbidden. `ports` is `Some` for probes, whose named ports must
/// resolve against the container's ports (beyond the API server, which only fails
/// at probe time).
fn validate_handler(
    handler: &Handler<'_>,
    ports: Option<&[ContainerPort]>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut count = 0;
    let mut take = |name: &str, errors: &mut Vec<FieldError>| -> bool {
        count += 1;
        if count > 1 {
            errors.push(FieldError::forbidden(
                path.child(name),
                MORE_THAN_ONE_HANDLER,
            ));
            false
        } else {
            true
        }
    };

    if let Some(exec) = handler.exec {
        if take("exec", &mut errors) && exec.command.as_ref().is_none_or(Vec::is_empty) {
            errors.push(FieldError::required(
                path.child("exec").child("command"),
                "",
            ));
        }
    }
    if let Some(http) = handler.http_get {
        if take("httpGet", &mut errors) {
            errors.extend(validate_http_get(http, ports, &path.child("httpGet")));
        }
    }
    if let Some(tcp) = handler.tcp_socket {
        if take("tcpSocket", &mut errors) {
            let port_path = path.child("tcpSocket").child("port");
            errors.extend(validate_port_num_or_name(&tcp.port, ports, &port_path));
        }
    }
    if let Some(grpc) = handler.grpc {
        if take("grpc", &mut errors) {
            for message in is_valid_port_num(i64::from(grpc.port)) {
                errors.push(FieldError::invalid(
                    path.child("grpc").child("port"),
                    grpc.port,
                    message,
                ));
            }
        }
    }
    if handler.has_sleep {
        take("sleep", &mut errors);
    }
    if count == 0 {
        errors.push(FieldError::required(path, "must specify a handler type"));
    }
    errors
}

/// `validateHTTPGetAction`.
fn validate_http_get(
    http: &HTTPGetAction,
    ports: Option<&[ContainerPort]>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if http.path.as_deref().unwrap_or("").is_empty() {
        errors.push(FieldError::required(path.child("path"), ""));
    }
    errors.extend(validate_port_num_or_name(
        &http.port,
        ports,
        &path.child("port"),
    ));
    let scheme = http.scheme.as_deref().unwrap_or("");
    if !matches!(scheme, "HTTP" | "HTTPS") {
        errors.push(FieldError::not_supported(
            path.child("scheme"),
            scheme,
            &["HTTP", "HTTPS"],
        ));
    }
    for header in http.http_headers.iter().flatten() {
        for message in is_http_header_name(&header.name) {
            errors.push(FieldError::invalid(
                path.child("httpHeaders"),
                header.name.as_str(),
                message,
            ));
        }
    }
    errors
}

/// `ValidatePortNumOrName`, plus: a valid port name must name one of `ports`.
fn validate_port_num_or_name(
    port: &IntOrString,
    ports: Option<&[ContainerPort]>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match port {
        IntOrString::Int(number) => {
            for message in is_valid_port_num(i64::from(*number)) {
                errors.push(FieldError::invalid(path, *number, message));
            }
        }
        IntOrString::String(name) => {
            let messages = is_valid_port_name(name);
            let is_valid = messages.is_empty();
            for message in messages {
                errors.push(FieldError::invalid(path, name.as_str(), message));
            }
            if let Some(ports) = ports {
                let declared = ports.iter().any(|p| p.name.as_deref() == Some(name));
                if is_valid && !declared {
                    errors.push(FieldError::invalid(
                        path,
                        name.as_str(),
                        "port name not found in container ports",
                    ));
                }
            }
        }
    }
    errors
}
