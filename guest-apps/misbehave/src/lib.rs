//! A guest for wasmpod's own tests (not seeded into image stores). Paths:
//! `/` 200 `ok`; `/panic`; `/exit/N` (wasi:cli/exit); `/spin` (busy loop);
//! `/alloc` (grows memory until it fails); `/block` (sleeps in a host call for an hour);
//! `/log` (a line to stdout and a partial line to stderr); `/healthz` (200, or 503 after
//! `/sick` until `/heal`); `/moved` (302 to another host); `/work/N` (N million rounds of arithmetic; answers the ms taken).
//! At start, env `STARTUP_SECONDS` makes it a slow starter (its ports open after that).
//! On stop, env `ON_STOP` decides: `exit:N` returns N, `spin` never returns.
//! Exec commands: `check` (0 `ok`, or 1 `sick` after `/sick`), `exit N [text]`, `sleep S`,
//! `panic`.

use wasip2::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

wit_bindgen::generate!({ path: "../../wit", world: "all-hooks" });

use std::sync::atomic::{AtomicBool, Ordering};

static SICK: AtomicBool = AtomicBool::new(false);
export!(Misbehave);
wasip2::http::proxy::export!(Misbehave);

struct Misbehave;

impl exports::wasmpod::container::startup::Guest for Misbehave {
    fn start() {
        if let Some(seconds) = std::env::var("STARTUP_SECONDS")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
        {
            println!("starting slowly: {seconds}s");
            wasip2::clocks::monotonic_clock::subscribe_duration(seconds * 1_000_000_000).block();
        }
        println!("started");
    }
}

impl exports::wasmpod::container::exec::Guest for Misbehave {
    fn run(argv: Vec<String>) -> (u8, String) {
        let arg = |i: usize| argv.get(i).map(String::as_str).unwrap_or_default();
        match arg(0) {
            "check" if SICK.load(Ordering::Relaxed) => (1, "sick\n".into()),
            "check" => (0, "ok\n".into()),
            "exit" => (
                arg(1).parse().unwrap_or(1),
                argv.get(2..).unwrap_or_default().join(" "),
            ),
            "sleep" => {
                let seconds: u64 = arg(1).parse().unwrap_or(1);
                wasip2::clocks::monotonic_clock::subscribe_duration(seconds * 1_000_000_000)
                    .block();
                (0, String::new())
            }
            "panic" => panic!("asked to panic in exec"),
            other => (127, format!("{other}: command not found\n")),
        }
    }
}

impl exports::wasmpod::container::shutdown::Guest for Misbehave {
    fn stop() -> u8 {
        match std::env::var("ON_STOP").unwrap_or_default().as_str() {
            "spin" => spin(),
            other => other
                .strip_prefix("exit:")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
        }
    }
}

#[allow(clippy::empty_loop)]
fn spin() -> ! {
    let mut x: u64 = 0;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

impl wasip2::exports::http::incoming_handler::Guest for Misbehave {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        println!("handling {path}");
        let mut status = 200;
        let mut body = b"ok\n".to_vec();
        match path.as_str() {
            "/panic" => panic!("asked to panic"),
            "/sick" => SICK.store(true, Ordering::Relaxed),
            "/heal" => SICK.store(false, Ordering::Relaxed),
            "/healthz" if SICK.load(Ordering::Relaxed) => status = 503,
            "/moved" => status = 302,
            "/spin" => spin(),
            "/alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                }
            }
            "/block" => {
                wasip2::clocks::monotonic_clock::subscribe_duration(3_600_000_000_000).block();
            }
            "/log" => {
                println!("to stdout");
                eprint!("partial ");
                eprint!("stderr line");
            }
            other => {
                if let Some(code) = other.strip_prefix("/exit/").and_then(|n| n.parse().ok()) {
                    std::process::exit(code);
                }
                if let Some(millions) = other
                    .strip_prefix("/work/")
                    .and_then(|n| n.parse::<u64>().ok())
                {
                    let start = wasip2::clocks::monotonic_clock::now();
                    let mut x: u64 = 1;
                    for i in 0..millions * 1_000_000 {
                        x = std::hint::black_box(
                            x.wrapping_mul(6364136223846793005).wrapping_add(i),
                        );
                    }
                    let elapsed_ms = (wasip2::clocks::monotonic_clock::now() - start) / 1_000_000;
                    body = format!("{elapsed_ms}\n").into_bytes();
                }
            }
        }
        let headers = Fields::new();
        if status == 302 {
            headers
                .append("location", b"http://elsewhere.invalid/")
                .expect("allowed header");
        }
        let response = OutgoingResponse::new(headers);
        response.set_status_code(status).expect("valid status");
        let outgoing = response.body().expect("body taken once");
        ResponseOutparam::set(response_out, Ok(response));
        {
            let stream = outgoing.write().expect("stream taken once");
            stream.blocking_write_and_flush(&body).expect("write");
        }
        OutgoingBody::finish(outgoing, None).expect("finish");
    }
}
