//! The tutorial's app.js, behaviour for behaviour:
//!
//! ```js
//! console.log("server starting...");
//! var requestCount = 0;
//! var handler = function(request, response) {
//!   console.log("Received request from " + request.connection.remoteAddress);
//!   requestCount++;
//!   if (requestCount > 3) { response.writeHead(500); response.end("I'm not well. Please restart me!"); return; }
//!   response.writeHead(200); response.end("You've hit " + os.hostname() + "\n");
//! };
//! ```
//!
//! The instance is long-lived, so `REQUEST_COUNT` persists between requests and starts from
//! zero again after a restart. The peer address comes from the last `X-Forwarded-For` entry,
//! which wasmpod appends for every connection.

use std::sync::atomic::{AtomicU32, Ordering};
use wasip2::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

wit_bindgen::generate!({ path: "../../wit", world: "startup-only" });
export!(HealthApp);
wasip2::http::proxy::export!(HealthApp);

static REQUEST_COUNT: AtomicU32 = AtomicU32::new(0);

struct HealthApp;

impl exports::wasmpod::container::startup::Guest for HealthApp {
    fn start() {
        println!("server starting...");
    }
}

impl wasip2::exports::http::incoming_handler::Guest for HealthApp {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
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
