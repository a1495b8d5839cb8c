//! argv → subcommand, cobra-style errors, and the start of each server.

use crate::flags::{self, Spec};
use crate::grpc_health::{self, GrpcHealthHttp};
use crate::liveness::{self, Liveness};
use crate::netexec::{self, Netexec};
use crate::pause;
use crate::serve_hostname::{self, ServeHostname};
use crate::server::{self, hostname, log, App};
use crate::test_webserver::{self, TestWebserver};
use std::time::Instant;

const IMPLEMENTED: [&str; 7] = [
    "entrypoint-tester",
    "liveness",
    "netexec",
    "serve-hostname",
    "pause",
    "test-webserver",
    "grpc-health-checking",
];

/// Real agnhost subcommands this stand-in does not provide.
const NOT_PROVIDED: [&str; 23] = [
    "audit-proxy",
    "connect",
    "crd-conversion-webhook",
    "dns-server-list",
    "dns-suffix",
    "etc-hosts",
    "fake-gitserver",
    "guestbook",
    "inclusterclient",
    "logs-generator",
    "mounttest",
    "net",
    "nettest",
    "no-snat-test",
    "no-snat-test-proxy",
    "port-forward-tester",
    "porter",
    "resource-consumer-controller",
    "webhook",
    "fake-registry-server",
    "http-echo",
    "openidmetadata",
    "h2c-server",
];

/// The subcommand and its arguments. argv[0] is always the program: the container's
/// `command[0]` (`agnhost`, `/agnhost`), or, when only `args` are given, the name wasmpod
/// puts in its place (the container name, which may well be `liveness`). No subcommand runs
/// `pause`, the image's default CMD.
pub fn locate(argv: &[String]) -> (String, Vec<String>) {
    match argv.get(1..).unwrap_or_default().split_first() {
        Some((subcommand, args)) => (subcommand.clone(), args.to_vec()),
        None => ("pause".to_string(), Vec::new()),
    }
}

/// entrypoint-tester's `fmt.Printf("%v\n", os.Args)`. Without a `command` the program is
/// the image's entrypoint, `/agnhost` in the real image (wasmpod names it `agnhost`).
pub fn entrypoint_args(argv: &[String]) -> String {
    let mut all: Vec<&str> = argv.iter().map(String::as_str).collect();
    if all.first() == Some(&"agnhost") {
        all[0] = "/agnhost";
    }
    format!("[{}]", all.join(" "))
}

pub fn run(argv: &[String], stop_requested: &dyn Fn() -> bool) -> i32 {
    let (subcommand, args) = locate(argv);
    match subcommand.as_str() {
        "entrypoint-tester" => {
            println!("{}", entrypoint_args(argv));
            0
        }
        "liveness" => with_flags(&subcommand, &[], &args, |_| {
            serve_on(
                liveness::PORT,
                &mut Liveness::new(Instant::now()),
                stop_requested,
            )
        }),
        "netexec" => with_flags(&subcommand, &netexec::FLAGS, &args, |flags| {
            let port = flags.int("http-port");
            let mut app = Netexec::new(
                flags.int("udp-port"),
                flags.int("sctp-port"),
                flags.int("delay-shutdown"),
                flags.text("http-override"),
            );
            let Some(listener) = listen(port) else {
                return 1;
            };
            log(&format!("Started HTTP server on port {port}"));
            if flags.int("udp-port") != -1 {
                log(&format!(
                    "Started UDP server on port  {}",
                    flags.int("udp-port")
                ));
            }
            server::serve(&listener, &mut app, stop_requested)
        }),
        "serve-hostname" => with_flags(&subcommand, &serve_hostname::FLAGS, &args, |flags| {
            let (tcp, udp, http) = (flags.bool("tcp"), flags.bool("udp"), flags.bool("http"));
            if http && (tcp || udp) {
                log("Can't server TCP/UDP mode and HTTP mode at the same time");
                return 1;
            }
            if udp {
                log("Error from ListenUDP(): UDP is not available to wasmpod components");
                return 1;
            }
            let port = flags.int("port");
            let Some(listener) = listen(port) else {
                return 1;
            };
            log(&format!("Serving on port {port}.\n"));
            let mut app = ServeHostname {
                hostname: hostname(),
                raw_tcp: tcp,
            };
            server::serve(&listener, &mut app, stop_requested)
        }),
        "pause" => with_flags(&subcommand, &pause::FLAGS, &args, |flags| {
            pause::run(flags.int("delay-shutdown"), stop_requested)
        }),
        "test-webserver" => with_flags(&subcommand, &test_webserver::FLAGS, &args, |flags| {
            serve_on_i64(flags.int("port"), &mut TestWebserver, stop_requested)
        }),
        "grpc-health-checking" => with_flags(&subcommand, &grpc_health::FLAGS, &args, |flags| {
            let http_port = flags.int("http-port");
            let Some(listener) = listen(http_port) else {
                return 1;
            };
            log(&format!("Http server starting to listen on :{http_port}"));
            let grpc_port = flags.int("port");
            let Some(grpc_listener) = listen(grpc_port) else {
                return 1;
            };
            log(&format!("gRPC server starting to listen on :{grpc_port}"));
            let mut app = GrpcHealthHttp {
                started: Instant::now(),
                force_unhealthy: None,
                service: flags.text("service"),
                delay_unhealthy_sec: flags.int("delay-unhealthy-sec"),
                started_text: crate::gotext::time_string(
                    crate::server::unix_now().as_nanos() as i128,
                    0,
                ),
            };
            server::serve_with_side(&listener, Some(&grpc_listener), &mut app, stop_requested)
        }),
        "help" | "--help" | "-h" => {
            println!("{}", help());
            0
        }
        other if NOT_PROVIDED.contains(&other) => {
            eprintln!("Error: agnhost {other} is not provided by the wasmpod stand-in");
            1
        }
        other => {
            eprintln!("Error: unknown command \"{other}\" for \"agnhost\"");
            eprintln!("Run 'agnhost --help' for usage.");
            1
        }
    }
}

fn help() -> String {
    let mut text =
        String::from("Usage:\n  agnhost [command]\n\nAvailable Commands (wasmpod stand-in):\n");
    for name in IMPLEMENTED {
        text.push_str(&format!("  {name}\n"));
    }
    text
}

/// Parses flags, printing cobra's error and usage (exit 1) when they are wrong.
fn with_flags(
    subcommand: &str,
    specs: &[Spec],
    args: &[String],
    start: impl FnOnce(&flags::Flags) -> i32,
) -> i32 {
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        println!("Usage:\n  agnhost {subcommand} [flags]");
        return 0;
    }
    match flags::parse(specs, args) {
        Ok(flags) => start(&flags),
        Err(message) => {
            eprintln!("Error: {message}");
            eprintln!("Usage:\n  agnhost {subcommand} [flags]\n");
            1
        }
    }
}

fn listen(port: i64) -> Option<std::net::TcpListener> {
    let Ok(port) = u16::try_from(port) else {
        log(&format!("listen tcp: address {port}: invalid port"));
        return None;
    };
    match server::bind(port) {
        Ok(listener) => Some(listener),
        Err(error) => {
            // log.Fatal(http.ListenAndServe(...)) prints this and exits 1.
            log(&format!("listen tcp :{port}: {error}"));
            None
        }
    }
}

fn serve_on(port: u16, app: &mut dyn App, stop_requested: &dyn Fn() -> bool) -> i32 {
    serve_on_i64(i64::from(port), app, stop_requested)
}

fn serve_on_i64(port: i64, app: &mut dyn App, stop_requested: &dyn Fn() -> bool) -> i32 {
    match listen(port) {
        Some(listener) => server::serve(&listener, app, stop_requested),
        None => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn finds_the_subcommand_in_the_usual_argv_shapes() {
        assert_eq!(locate(&argv(&["agnhost", "liveness"])).0, "liveness");
        let (sub, args) = locate(&argv(&["/agnhost", "netexec", "--http-port=8080"]));
        assert_eq!(
            (sub.as_str(), args),
            ("netexec", argv(&["--http-port=8080"]))
        );
        // args only: wasmpod puts the container name first, which may be a subcommand name.
        assert_eq!(locate(&argv(&["liveness", "liveness"])).0, "liveness");
        assert_eq!(locate(&argv(&["netexec"])).0, "pause");
        assert_eq!(locate(&argv(&["agnhost"])).0, "pause");
        assert_eq!(locate(&[]).0, "pause");
        assert_eq!(locate(&argv(&["x", "bogus"])).0, "bogus");
    }

    #[test]
    fn unknown_subcommands_and_bad_flags_exit_1() {
        assert_eq!(run(&argv(&["agnhost", "bogus"]), &|| true), 1);
        assert_eq!(run(&argv(&["agnhost", "porter"]), &|| true), 1);
        assert_eq!(
            run(&argv(&["agnhost", "liveness", "--port=1"]), &|| true),
            1
        );
        assert_eq!(
            run(&argv(&["agnhost", "serve-hostname", "--tcp"]), &|| true),
            1
        );
        assert_eq!(run(&argv(&["agnhost", "help"]), &|| true), 0);
    }

    #[test]
    fn pause_exits_2_when_stop_is_already_requested() {
        assert_eq!(run(&argv(&["agnhost", "pause"]), &|| true), 2);
    }

    #[test]
    fn netexec_on_a_free_port_exits_0_on_stop() {
        // Port 0: the OS picks a free one; the stop request is already there.
        assert_eq!(
            run(&argv(&["agnhost", "netexec", "--http-port=0"]), &|| true),
            0
        );
    }

    #[test]
    fn entrypoint_tester_prints_os_args_like_go() {
        assert_eq!(
            entrypoint_args(&argv(&[
                "agnhost",
                "entrypoint-tester",
                "override",
                "arguments"
            ])),
            "[/agnhost entrypoint-tester override arguments]"
        );
        assert_eq!(
            entrypoint_args(&argv(&["/agnhost-2", "entrypoint-tester"])),
            "[/agnhost-2 entrypoint-tester]"
        );
    }
}
