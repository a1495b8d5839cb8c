//! A guest written to attack wasmpod (its own tests only; not seeded into image stores).
//! Every attack answers what it achieved, so a test can tell "denied" from "done".
//!
//! Files: `/read?path=P`, `/write?path=P`, `/symlink?target=T&link=L` (then reads through it).
//! Network: `/connect?addr=IP:PORT` (wasi:sockets), `/http-out?authority=HOST:PORT`
//! (wasi:http outgoing). `/env` lists the environment.
//! Memory: `/recurse` (unbounded recursion), `/grow?pages=N` (memory.grow), `/leak?mb=N`
//! (keeps N MiB per request forever).
//! CPU: `/spin` (busy loop), `/poll-spin` (zero-timeout polls forever); env `START=spin`
//! loops forever in the startup hook.
//! I/O: `/flood?mb=N` (N MiB to stdout), `/big?mb=N` (an N MiB body), `/forever` (a body
//! that never ends), `/trickle` (reads the request body one byte at a time).
//! Protocol: `/half-then-trap` (half a body, then a panic), `/bad-header` (tries header names
//! and values HTTP forbids).

use wasip2::http::types::{
    Fields, IncomingBody, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

wit_bindgen::generate!({ path: "../../wit", world: "startup-only" });

export!(Hostile);
wasip2::http::proxy::export!(Hostile);

struct Hostile;

impl exports::wasmpod::container::startup::Guest for Hostile {
    fn start() {
        if std::env::var("START").as_deref() == Ok("spin") {
            println!("spinning at start-up");
            spin();
        }
        println!("started");
    }
}

#[allow(clippy::empty_loop)]
fn spin() -> ! {
    let mut x: u64 = 0;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

fn query(path: &str, key: &str) -> String {
    let query = path.split_once('?').map(|(_, q)| q).unwrap_or_default();
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.replace("%2F", "/").replace("%20", " "))
        .unwrap_or_default()
}

fn number(path: &str, key: &str) -> u64 {
    query(path, key).parse().unwrap_or(1)
}

impl wasip2::exports::http::incoming_handler::Guest for Hostile {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let route = path.split('?').next().unwrap_or_default().to_string();
        println!("attack {path}");
        let answer = match route.as_str() {
            "/read" => read(&query(&path, "path")),
            "/write" => match std::fs::write(query(&path, "path"), b"written by a guest\n") {
                Ok(()) => "written".to_string(),
                Err(error) => format!("denied: {error}"),
            },
            "/symlink" => symlink(&query(&path, "target"), &query(&path, "link")),
            "/env" => std::env::vars()
                .map(|(k, v)| format!("{k}={v}\n"))
                .collect(),
            "/connect" => connect(&query(&path, "addr")),
            "/http-out" => http_out(&query(&path, "authority")),
            "/recurse" => format!("depth {}", recurse(0)),
            "/grow" => {
                let pages = number(&path, "pages") as usize;
                match core::arch::wasm32::memory_grow(0, pages) {
                    usize::MAX => "refused".to_string(),
                    previous => format!("grown from {previous} pages"),
                }
            }
            "/leak" => leak(number(&path, "mb")),
            "/spin" => spin(),
            "/poll-spin" => loop {
                wasip2::clocks::monotonic_clock::subscribe_duration(0).block();
            },
            "/flood" => {
                let line = "x".repeat(1023);
                for _ in 0..number(&path, "mb") * 1024 {
                    println!("{line}");
                }
                "flooded".to_string()
            }
            "/big" => return stream_body(response_out, Some(number(&path, "mb") << 20)),
            "/forever" => return stream_body(response_out, None),
            "/trickle" => trickle(request),
            "/half-then-trap" => {
                let (outgoing, stream) = start_response(response_out, 200);
                let _ = stream.blocking_write_and_flush(&[b'h'; 1000]);
                drop(stream);
                drop(outgoing);
                panic!("trapping halfway through a body");
            }
            "/bad-header" => bad_headers(),
            _ => "ok".to_string(),
        };
        println!("result {route}: {answer}");
        let (outgoing, stream) = start_response(response_out, 200);
        let _ = stream.blocking_write_and_flush(format!("{answer}\n").as_bytes());
        drop(stream);
        let _ = OutgoingBody::finish(outgoing, None);
    }
}

fn start_response(
    response_out: ResponseOutparam,
    status: u16,
) -> (OutgoingBody, wasip2::io::streams::OutputStream) {
    let response = OutgoingResponse::new(Fields::new());
    response.set_status_code(status).expect("valid status");
    let outgoing = response.body().expect("body taken once");
    ResponseOutparam::set(response_out, Ok(response));
    let stream = outgoing.write().expect("stream taken once");
    (outgoing, stream)
}

fn read(path: &str) -> String {
    match std::fs::read(path) {
        Ok(bytes) => format!("read {} bytes: {}", bytes.len(), String::from_utf8_lossy(&bytes[..bytes.len().min(64)])),
        Err(error) => format!("denied: {error}"),
    }
}

/// Creates `link` (inside a mount) pointing at `target` (outside it), then reads through it.
fn symlink(target: &str, link: &str) -> String {
    let created = wasip2::filesystem::preopens::get_directories()
        .into_iter()
        .find_map(|(dir, mount)| {
            let relative = link.strip_prefix(&format!("{}/", mount.trim_end_matches('/')))?;
            Some(dir.symlink_at(target, relative).map_err(|e| format!("{e:?}")))
        })
        .unwrap_or_else(|| Err("no mount holds the link".to_string()));
    let created = match created {
        Ok(()) => "created".to_string(),
        Err(error) => format!("not created: {error}"),
    };
    format!("{created}; {}", read(link))
}

fn connect(address: &str) -> String {
    use wasip2::sockets::network::{IpAddressFamily, IpSocketAddress, Ipv4SocketAddress};
    let Some((ip, port)) = address.rsplit_once(':') else {
        return "bad address".to_string();
    };
    let octets: Vec<u8> = ip.split('.').filter_map(|o| o.parse().ok()).collect();
    let (Ok(port), [a, b, c, d]) = (port.parse::<u16>(), octets.as_slice()) else {
        return "bad address".to_string();
    };
    let socket = match wasip2::sockets::tcp_create_socket::create_tcp_socket(IpAddressFamily::Ipv4) {
        Ok(socket) => socket,
        Err(error) => return format!("denied: no socket: {error:?}"),
    };
    let network = wasip2::sockets::instance_network::instance_network();
    let remote = IpSocketAddress::Ipv4(Ipv4SocketAddress {
        port,
        address: (*a, *b, *c, *d),
    });
    if let Err(error) = socket.start_connect(&network, remote) {
        return format!("denied: {error:?}");
    }
    socket.subscribe().block();
    match socket.finish_connect() {
        Ok(_) => "connected".to_string(),
        Err(error) => format!("denied: {error:?}"),
    }
}

fn http_out(authority: &str) -> String {
    use wasip2::http::types::{OutgoingRequest, Scheme};
    let request = OutgoingRequest::new(Fields::new());
    let _ = request.set_scheme(Some(&Scheme::Http));
    let _ = request.set_authority(Some(authority));
    let _ = request.set_path_with_query(Some("/"));
    match wasip2::http::outgoing_handler::handle(request, None) {
        Err(error) => format!("denied: {error:?}"),
        Ok(future) => {
            future.subscribe().block();
            match future.get() {
                Some(Ok(Ok(response))) => format!("answered {}", response.status()),
                Some(Ok(Err(error))) => format!("denied: {error:?}"),
                other => format!("denied: {other:?}"),
            }
        }
    }
}

#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth; 64]);
    if std::hint::black_box(depth) == u64::MAX {
        return frame[0];
    }
    recurse(depth + 1) + frame[1]
}

static mut LEAKED: Vec<Vec<u8>> = Vec::new();

fn leak(mb: u64) -> String {
    // A single-threaded guest: no other reference to LEAKED exists.
    #[allow(static_mut_refs)]
    let leaked = unsafe { &mut LEAKED };
    for _ in 0..mb {
        leaked.push(vec![7u8; 1 << 20]);
    }
    format!("holding {} MiB", leaked.len())
}

fn stream_body(response_out: ResponseOutparam, total: Option<u64>) {
    let (outgoing, stream) = start_response(response_out, 200);
    // blocking-write-and-flush takes at most 4096 bytes per call.
    let chunk = vec![b'b'; 4096];
    let mut sent = 0u64;
    while total.is_none_or(|total| sent < total) {
        // The client hung up (or the host stopped reading): stop, as a server would.
        if stream.blocking_write_and_flush(&chunk).is_err() {
            println!("client went away after {sent} bytes");
            return;
        }
        sent += chunk.len() as u64;
    }
    drop(stream);
    let _ = OutgoingBody::finish(outgoing, None);
}

fn trickle(request: IncomingRequest) -> String {
    let Ok(body) = request.consume() else {
        return "no body".to_string();
    };
    let stream = body.stream().expect("stream taken once");
    let mut count = 0u64;
    loop {
        match stream.blocking_read(1) {
            Ok(byte) => count += byte.len() as u64,
            Err(_) => break,
        }
    }
    drop(stream);
    let _ = IncomingBody::finish(body);
    format!("read {count} bytes one at a time")
}

fn bad_headers() -> String {
    let fields = Fields::new();
    let attempts: [(&str, &[u8]); 3] = [
        ("bad header", b"x"),
        ("x-split", b"a\r\nInjected: yes"),
        ("", b"empty name"),
    ];
    attempts
        .iter()
        .map(|(name, value)| match fields.append(name, value) {
            Ok(()) => format!("{name:?} accepted"),
            Err(error) => format!("{name:?} refused: {error:?}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}
