//! Stand-in for the official `nginx` image (1.27) as a wasi:http component, for
//! `containerPort: 80`.
//!
//! - `GET /` and `/index.html`: the image's 615-byte "Welcome to nginx!" page; `/50x.html`:
//!   its error page; every other path: nginx's built-in 404 page — including
//!   `/_status/healthz` from the old Kubernetes walkthrough, which fails against real nginx
//!   too; non-GET/HEAD on a page: 405. Headers: `Server: nginx/1.27.5`, `Content-Type:
//!   text/html`.
//! - Console: the image entrypoint's lines (stdout) and nginx's start notices (stderr) at
//!   start; a `main`-format access-log line per request (stdout); the SIGQUIT shutdown
//!   notices and exit code 0 when stopped (the image's STOPSIGNAL is SIGQUIT; nginx also
//!   exits 0 on SIGTERM).
//! - Approximate: no ETag/Last-Modified/Accept-Ranges, no keep-alive control (the host owns
//!   the connection), the `built by`/`OS` notices are fixed texts, one worker.

pub mod logs;
pub mod pages;

#[cfg(target_arch = "wasm32")]
mod component {
    use crate::logs::{self, AccessEntry};
    use crate::pages;
    use std::time::{SystemTime, UNIX_EPOCH};
    use wasip2::http::types::{
        Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
    };

    wit_bindgen::generate!({ path: "../../wit", world: "http-container" });
    export!(Nginx);
    wasip2::http::proxy::export!(Nginx);

    /// wasi:http output streams accept at most this much per blocking write.
    const WRITE_CHUNK: usize = 4096;

    struct Nginx;

    fn now() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs() as i64)
    }

    fn method_name(method: &Method) -> String {
        match method {
            Method::Get => "GET".into(),
            Method::Head => "HEAD".into(),
            Method::Post => "POST".into(),
            Method::Put => "PUT".into(),
            Method::Delete => "DELETE".into(),
            Method::Connect => "CONNECT".into(),
            Method::Options => "OPTIONS".into(),
            Method::Trace => "TRACE".into(),
            Method::Patch => "PATCH".into(),
            Method::Other(name) => name.clone(),
        }
    }

    fn header(fields: &Fields, name: &str) -> Option<String> {
        fields
            .get(name)
            .into_iter()
            .next()
            .map(|value| String::from_utf8_lossy(&value).into_owned())
    }

    impl exports::wasmpod::container::startup::Guest for Nginx {
        fn start() {
            for line in logs::ENTRYPOINT_LINES {
                println!("{line}");
            }
            let at = now();
            for (pid, message) in logs::START_NOTICES {
                eprintln!("{}", logs::notice(at, pid, message));
            }
        }
    }

    impl exports::wasmpod::container::shutdown::Guest for Nginx {
        fn stop() -> u8 {
            let at = now();
            for (pid, message) in logs::STOP_NOTICES {
                eprintln!("{}", logs::notice(at, pid, message));
            }
            0
        }
    }

    impl wasip2::exports::http::incoming_handler::Guest for Nginx {
        fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
            let method = method_name(&request.method());
            let path = request.path_with_query().unwrap_or_else(|| "/".into());
            let request_headers = request.headers();
            let page = pages::route(&method, &path);
            let body = if method == "HEAD" {
                ""
            } else {
                page.body.as_str()
            };

            let headers = Fields::new();
            let _ = headers.append("server", pages::VERSION.as_bytes());
            let _ = headers.append("content-type", b"text/html");
            let _ = headers.append("content-length", page.body.len().to_string().as_bytes());
            let response = OutgoingResponse::new(headers);
            let _ = response.set_status_code(page.status);
            let Ok(outgoing) = response.body() else {
                return;
            };
            ResponseOutparam::set(response_out, Ok(response));
            if let Ok(stream) = outgoing.write() {
                for chunk in body.as_bytes().chunks(WRITE_CHUNK) {
                    if stream.blocking_write_and_flush(chunk).is_err() {
                        break;
                    }
                }
            }
            let _ = OutgoingBody::finish(outgoing, None);

            let referer = header(&request_headers, "referer");
            let user_agent = header(&request_headers, "user-agent");
            let forwarded_for = header(&request_headers, "x-forwarded-for");
            println!(
                "{}",
                logs::access_line(
                    now(),
                    &AccessEntry {
                        method: &method,
                        path_with_query: &path,
                        status: page.status,
                        body_bytes: body.len(),
                        referer: referer.as_deref(),
                        user_agent: user_agent.as_deref(),
                        forwarded_for: forwarded_for.as_deref(),
                    },
                )
            );
        }
    }
}
