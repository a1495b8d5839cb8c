//! serve_tls at the HTTP level: a rustls client that trusts only the generated certificate.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use wasmpod_apiserver::{load_or_create_token, ApiOptions, ApiServer, ServingIdentity};
use wasmpod_storage::MemoryStorage;

#[tokio::test]
async fn https_requires_the_bearer_token_and_speaks_http1() {
    let state = tempfile::tempdir().unwrap();
    let token = load_or_create_token(state.path()).unwrap();
    let identity = ServingIdentity::load_or_create(state.path(), &[]).unwrap();
    let server = ApiServer::new(
        Arc::new(MemoryStorage::new()),
        ApiOptions {
            bearer_token: Some(token.clone()),
            ..ApiOptions::default()
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let serving = identity.clone();
    let task = tokio::spawn(async move { server.serve_tls(listener, &serving).await });

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(identity.cert_pem().as_bytes()).unwrap())
        .unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    // Offered like Go's client: h2 first. The server must pick http/1.1.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
    let tls = connector
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(connection);

    let request = |authorization: Option<String>| {
        let mut builder = http::Request::get("/api/v1/namespaces/default/pods")
            .header("host", address.to_string());
        if let Some(value) = authorization {
            builder = builder.header("authorization", value);
        }
        builder.body(Empty::<Bytes>::new()).unwrap()
    };

    let denied = sender.send_request(request(None)).await.unwrap();
    assert_eq!(denied.status(), 401);
    let body = denied.into_body().collect().await.unwrap().to_bytes();
    let status: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status["reason"], "Unauthorized");

    let allowed = sender
        .send_request(request(Some(format!("Bearer {token}"))))
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    let body = allowed.into_body().collect().await.unwrap().to_bytes();
    let list: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(list["kind"], "PodList");
    task.abort();
}
