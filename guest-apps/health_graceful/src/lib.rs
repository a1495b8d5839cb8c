//! The tutorial's app.js (see `health_image`), plus a stop handler that exits 0 at once: what
//! app.js would do with `process.on("SIGTERM", () => process.exit(0))`. The restart benchmark
//! (P1) uses it so that trip → first 200 measures the restart, not the kubelet's 2 s minimum
//! grace period for a process that ignores SIGTERM.

#[path = "../../health_image/src/app.rs"]
mod app;

wit_bindgen::generate!({ path: "../../wit", world: "http-container" });
export!(GracefulHealthApp);
wasip2::http::proxy::export!(GracefulHealthApp);

struct GracefulHealthApp;

impl exports::wasmpod::container::startup::Guest for GracefulHealthApp {
    fn start() {
        app::start();
    }
}

impl exports::wasmpod::container::shutdown::Guest for GracefulHealthApp {
    fn stop() -> u8 {
        0
    }
}

impl wasip2::exports::http::incoming_handler::Guest for GracefulHealthApp {
    fn handle(
        request: wasip2::http::types::IncomingRequest,
        response_out: wasip2::http::types::ResponseOutparam,
    ) {
        app::handle(request, response_out);
    }
}
