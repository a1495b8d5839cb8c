//! TLS for `https` probes. The kubelet's transport sets `InsecureSkipVerify: true`:
//! any certificate is accepted (handshake signatures are still checked).

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::recording_io::IoLog;

/// Runs the client handshake; the error is Go's text where known.
pub(crate) async fn connect<IO>(
    io: IO,
    hostname: &str,
    log: &IoLog,
) -> Result<TlsStream<IO>, String>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    // Go sends SNI only for names, not IP literals; rustls does the same for IpAddress.
    let server_name = match hostname.parse::<IpAddr>() {
        Ok(ip) => ServerName::IpAddress(ip.into()),
        Err(_) => ServerName::try_from(hostname.to_string()).unwrap_or(ServerName::IpAddress(
            IpAddr::V4(Ipv4Addr::UNSPECIFIED).into(),
        )),
    };
    TlsConnector::from(client_config())
        .connect(server_name, io)
        .await
        .map_err(|error| handshake_error_text(&error, log))
}

fn handshake_error_text(error: &io::Error, log: &IoLog) -> String {
    if log.first_line().starts_with(b"HTTP/") {
        return "http: server gave HTTP response to HTTPS client".into();
    }
    if let Some(text) = log.first_error() {
        return text;
    }
    if error.kind() == io::ErrorKind::UnexpectedEof {
        return "EOF".into();
    }
    match error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidMessage(_)) => {
            "tls: first record does not look like a TLS handshake".into()
        }
        Some(tls_error) => format!("tls: {tls_error}"),
        None => error.to_string(),
    }
}

fn client_config() -> Arc<ClientConfig> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    Arc::clone(CONFIG.get_or_init(|| {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = Arc::new(AcceptAnyCertificate(Arc::clone(&provider)));
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|builder| {
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(verifier)
                    .with_no_client_auth()
            })
            // The ring provider supports the default versions; this cannot fail.
            .unwrap_or_else(|_| unreachable_config());
        Arc::new(config)
    }))
}

#[cold]
fn unreachable_config() -> ClientConfig {
    ClientConfig::builder()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))))
        .with_no_client_auth()
}

/// `InsecureSkipVerify`: no chain or name verification.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
