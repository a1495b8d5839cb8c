//! A test guest speaking `grpc.health.v1.Health/Check` as a wasi:http handler (the host
//! delivers HTTP/2 gRPC calls as ordinary requests). `Check` answers SERVING for the
//! services `""` and `ok` (NOT_FOUND `unknown service` for others); `GET /set/NOT_SERVING`
//! and `GET /set/SERVING` flip the overall status; anything else is UNIMPLEMENTED.

pub mod health;

#[cfg(target_arch = "wasm32")]
mod component {
    use crate::health::{encode_grpc_message, Health, Reply};
    use wasip2::http::types::{
        Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingResponse,
        ResponseOutparam,
    };

    wasip2::http::proxy::export!(GrpcHealth);

    /// One long-lived instance serves all requests, so the status persists between them.
    static HEALTH: Health = Health::new();

    /// wasi:http output streams accept at most this much per blocking write.
    const WRITE_CHUNK: usize = 4096;

    struct GrpcHealth;

    impl wasip2::exports::http::incoming_handler::Guest for GrpcHealth {
        fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
            let method = match request.method() {
                Method::Get => "GET".to_string(),
                Method::Post => "POST".to_string(),
                Method::Other(other) => other,
                _ => "OTHER".to_string(),
            };
            let path = request.path_with_query().unwrap_or_default();
            let body = read_body(&request);
            let reply = HEALTH.handle(&method, &path, &body);
            respond(reply, response_out);
        }
    }

    fn read_body(request: &IncomingRequest) -> Vec<u8> {
        let mut collected = Vec::new();
        let Ok(body) = request.consume() else {
            return collected;
        };
        if let Ok(stream) = body.stream() {
            while let Ok(chunk) = stream.blocking_read(64 * 1024) {
                collected.extend_from_slice(&chunk);
            }
        }
        let _ = IncomingBody::finish(body);
        collected
    }

    fn respond(reply: Reply, response_out: ResponseOutparam) {
        let (status, content_type, body, trailers) = match reply {
            Reply::Grpc {
                body,
                code,
                message,
            } => {
                let mut trailers = vec![("grpc-status".to_string(), code.to_string().into_bytes())];
                if !message.is_empty() {
                    trailers.push((
                        "grpc-message".to_string(),
                        encode_grpc_message(&message).into_bytes(),
                    ));
                }
                (200, "application/grpc", body, Some(trailers))
            }
            Reply::Plain { status, body } => {
                (status, "text/plain; charset=utf-8", body.into_bytes(), None)
            }
        };
        let headers =
            Fields::from_list(&[("content-type".to_string(), content_type.as_bytes().to_vec())])
                .unwrap_or_else(|_| Fields::new());
        let response = OutgoingResponse::new(headers);
        let _ = response.set_status_code(status);
        let Ok(outgoing) = response.body() else {
            return;
        };
        ResponseOutparam::set(response_out, Ok(response));
        if let Ok(stream) = outgoing.write() {
            for chunk in body.chunks(WRITE_CHUNK) {
                if stream.blocking_write_and_flush(chunk).is_err() {
                    break;
                }
            }
        }
        let trailers = trailers.and_then(|list| Fields::from_list(&list).ok());
        let _ = OutgoingBody::finish(outgoing, trailers);
    }
}
