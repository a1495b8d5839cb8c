//! A guest for wasmpod's own tests (not seeded into image stores). Paths:
//! `/` 200 `ok`; `/panic`; `/exit/N` (wasi:cli/exit); `/spin` (busy loop);
//! `/alloc` (grows memory until it fails); `/block` (sleeps in a host call for an hour);
//! `/log` (a line to stdout and a partial line to stderr).
//! On stop, env `ON_STOP` decides: `exit:N` returns N, `spin` never returns.

use wasip2::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

wit_bindgen::generate!({ path: "../../wit", world: "shutdown-only" });
export!(Misbehave);
wasip2::http::proxy::export!(Misbehave);

struct Misbehave;

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
        match path.as_str() {
            "/panic" => panic!("asked to panic"),
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
            }
        }
        let response = OutgoingResponse::new(Fields::new());
        let body = response.body().expect("body taken once");
        ResponseOutparam::set(response_out, Ok(response));
        {
            let stream = body.write().expect("stream taken once");
            stream.blocking_write_and_flush(b"ok\n").expect("write");
        }
        OutgoingBody::finish(body, None).expect("finish");
    }
}
