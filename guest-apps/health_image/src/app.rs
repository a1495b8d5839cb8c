//! The request handler of the tutorial's app.js, shared by `health_image` (which, like app.js
//! run as PID 1, ignores the stop request) and `health_graceful` (which exits on it).

use std::sync::atomic::{AtomicU32, Ordering};
use wasip2::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

static REQUEST_COUNT: AtomicU32 = AtomicU32::new(0);

pub fn start() {
    println!("server starting...");
}

pub fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
    println!("Received request from {}", peer_address(&request));
    let count = REQUEST_COUNT.fetch_add(1, Ordering::Relaxed) + 1;
    let (status, body) = if count > 3 {
        (500, "I'm not well. Please restart me!".to_string())
    } else {
        let hostname = std::env::var("HOSTNAME").unwrap_or_default();
        (200, format!("You've hit {hostname}\n"))
    };
    respond(response_out, status, body.as_bytes());
}

fn peer_address(request: &IncomingRequest) -> String {
    let values = request.headers().get("x-forwarded-for");
    values
        .last()
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| v.rsplit(',').next())
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

fn respond(response_out: ResponseOutparam, status: u16, body: &[u8]) {
    let response = OutgoingResponse::new(Fields::new());
    response.set_status_code(status).expect("valid status");
    let outgoing = response.body().expect("body taken once");
    ResponseOutparam::set(response_out, Ok(response));
    {
        let stream = outgoing.write().expect("stream taken once");
        stream
            .blocking_write_and_flush(body)
            .expect("write response body");
    }
    OutgoingBody::finish(outgoing, None).expect("finish body");
}
