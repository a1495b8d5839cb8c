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

mod app;

wit_bindgen::generate!({ path: "../../wit", world: "startup-only" });
export!(HealthApp);
wasip2::http::proxy::export!(HealthApp);

struct HealthApp;

impl exports::wasmpod::container::startup::Guest for HealthApp {
    fn start() {
        app::start();
    }
}

impl wasip2::exports::http::incoming_handler::Guest for HealthApp {
    fn handle(
        request: wasip2::http::types::IncomingRequest,
        response_out: wasip2::http::types::ResponseOutparam,
    ) {
        app::handle(request, response_out);
    }
}
