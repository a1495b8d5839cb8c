//! Apache httpd's default page, and a clean exit (0) when the container is stopped, as httpd
//! does on SIGTERM. Serve it on port 80 (`containerPort: 80`).

use wasip2::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

wit_bindgen::generate!({ path: "../../wit", world: "http-container" });
export!(Httpd);
wasip2::http::proxy::export!(Httpd);

const PAGE: &[u8] = b"<html><body><h1>It works!</h1></body></html>\n";

struct Httpd;

impl exports::wasmpod::container::startup::Guest for Httpd {
    fn start() {
        eprintln!("httpd (wasmpod guest): resuming normal operations");
    }
}

impl exports::wasmpod::container::shutdown::Guest for Httpd {
    fn stop() -> u8 {
        eprintln!("httpd (wasmpod guest): caught SIGTERM, shutting down");
        0
    }
}

impl wasip2::exports::http::incoming_handler::Guest for Httpd {
    fn handle(_request: IncomingRequest, response_out: ResponseOutparam) {
        let headers = Fields::new();
        headers
            .append("content-type", b"text/html")
            .expect("allowed header");
        let response = OutgoingResponse::new(headers);
        let outgoing = response.body().expect("body taken once");
        ResponseOutparam::set(response_out, Ok(response));
        {
            let stream = outgoing.write().expect("stream taken once");
            stream.blocking_write_and_flush(PAGE).expect("write page");
        }
        OutgoingBody::finish(outgoing, None).expect("finish body");
    }
}
