//! Stand-in for `registry.k8s.io/goproxy:0.1` (kubernetes test/images/goproxy: elazarl/goproxy
//! with `Verbose = true`, `http.ListenAndServe(":8080", proxy)`), as a command component.
//!
//! - Every request logs `[NNN] INFO: Got request <path> <host> <method> <url>` like goproxy.
//! - Non-proxy requests (origin-form target, e.g. a probe's `GET /`) get goproxy's
//!   NonproxyHandler answer: 500 `This is a proxy server. Does not respond to non-proxy
//!   requests.` (http.Error, so with a trailing newline). A tcpSocket probe just connects.
//! - Absolute-form `http://` requests are forwarded (one request per connection,
//!   `Connection: close`) and the upstream answer is relayed byte for byte. Under wasmpod
//!   today outbound connects fail (`Permission denied`), so this answers 500 with that error.
//! - Approximate/missing: `CONNECT` tunnels and https are answered 501; one connection at a
//!   time; no goproxy response-side logging beyond one line.
//! - Stop request: a Go binary without a SIGTERM handler as PID 1 exits 2 (reported as 1 by
//!   WASI 0.2).

mod proxy;

fn main() {
    let listener = match agnhost::server::bind(proxy::PORT) {
        Ok(listener) => listener,
        Err(error) => {
            agnhost::server::log(&format!("listen tcp :{}: {error}", proxy::PORT));
            std::process::exit(1);
        }
    };
    let mut app = proxy::GoProxy::default();
    let code = agnhost::server::serve(&listener, &mut app, &agnhost::stop_requested);
    std::process::exit(code);
}
