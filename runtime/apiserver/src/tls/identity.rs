//! The serving certificate: self-signed (no CA), for the served hosts plus 127.0.0.1 and
//! localhost, kept as `apiserver.crt` / `apiserver.key` (mode 0600) and reused while valid.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use super::secret_files::{
    ensure_dir, read_if_present, restrict_to_owner, write_atomically, OWNER_ONLY,
};
use super::{crypto_provider, TlsError};

pub const CERT_FILE: &str = "apiserver.crt";
pub const KEY_FILE: &str = "apiserver.key";

/// How long a new certificate is valid (client-go's self-signed serving certs: one year).
const VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);
/// Back-dated like client-go's, so a client with a slightly slow clock accepts it.
const BACKDATE: Duration = Duration::from_secs(3600);
/// A stored certificate this close to expiry is replaced rather than reused.
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(30 * 24 * 3600);

const COMMON_NAME: &str = "wasmpod-apiserver";

/// A self-signed serving certificate and its private key, both PEM.
#[derive(Clone)]
pub struct ServingIdentity {
    cert_pem: String,
    key_pem: String,
}

impl std::fmt::Debug for ServingIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServingIdentity")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Host {
    Ip(IpAddr),
    Dns(String),
}

impl ServingIdentity {
    /// The identity in `dir`, reused when it exists, matches its key, is valid for every host
    /// in `hosts` (IP addresses or DNS names) plus 127.0.0.1 and localhost, and is not about
    /// to expire; otherwise a new one is generated and stored.
    pub fn load_or_create(dir: &Path, hosts: &[String]) -> Result<ServingIdentity, TlsError> {
        let hosts = serving_hosts(hosts)?;
        ensure_dir(dir)?;
        let cert_path = dir.join(CERT_FILE);
        let key_path = dir.join(KEY_FILE);
        if let (Some(cert_pem), Some(key_pem)) =
            (read_if_present(&cert_path)?, read_if_present(&key_path)?)
        {
            let stored = ServingIdentity { cert_pem, key_pem };
            if stored.is_usable_for(&hosts, SystemTime::now()) {
                restrict_to_owner(&key_path)?;
                return Ok(stored);
            }
        }
        let identity = generate(&hosts, SystemTime::now())?;
        // The key first: a certificate on disk without its key would be useless.
        write_atomically(&key_path, identity.key_pem.as_bytes(), OWNER_ONLY)?;
        write_atomically(&cert_path, identity.cert_pem.as_bytes(), 0o644)?;
        Ok(identity)
    }

    /// The certificate (PEM); clients trust it directly as their certificate authority.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A rustls server configuration serving this identity over HTTP/1.1.
    pub(crate) fn server_config(&self) -> Result<rustls::ServerConfig, TlsError> {
        let cert = self.cert_der()?;
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes())
            .map_err(|error| TlsError::Certificate(format!("private key: {error}")))?;
        // `with_single_cert` also checks that the key belongs to the certificate.
        let mut config = rustls::ServerConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }

    fn cert_der(&self) -> Result<CertificateDer<'static>, TlsError> {
        CertificateDer::from_pem_slice(self.cert_pem.as_bytes())
            .map_err(|error| TlsError::Certificate(format!("certificate: {error}")))
    }

    /// Whether a client trusting this certificate accepts it for every host, now and for the
    /// renewal margin, and the key matches.
    fn is_usable_for(&self, hosts: &[Host], now: SystemTime) -> bool {
        self.verify_for(hosts, now).is_ok()
    }

    fn verify_for(&self, hosts: &[Host], now: SystemTime) -> Result<(), TlsError> {
        self.server_config()?;
        let cert = self.cert_der()?;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.clone())?;
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), crypto_provider())
                .build()
                .map_err(|error| TlsError::Certificate(error.to_string()))?;
        for host in hosts {
            let name = match host {
                Host::Ip(ip) => ServerName::IpAddress((*ip).into()),
                Host::Dns(dns) => ServerName::try_from(dns.clone())
                    .map_err(|_| TlsError::InvalidHost(dns.clone()))?,
            };
            for at in [now, now + RENEW_BEFORE_EXPIRY] {
                let at = at
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap_or_default();
                verifier.verify_server_cert(
                    &cert,
                    &[],
                    &name,
                    &[],
                    UnixTime::since_unix_epoch(at),
                )?;
            }
        }
        Ok(())
    }
}

/// `hosts` parsed, plus 127.0.0.1 and localhost, without duplicates.
fn serving_hosts(hosts: &[String]) -> Result<Vec<Host>, TlsError> {
    let mut parsed = vec![
        Host::Ip(IpAddr::from([127, 0, 0, 1])),
        Host::Dns("localhost".into()),
    ];
    for host in hosts {
        let host = parse_host(host)?;
        if !parsed.contains(&host) {
            parsed.push(host);
        }
    }
    Ok(parsed)
}

fn parse_host(host: &str) -> Result<Host, TlsError> {
    let trimmed = host.trim();
    let unbracketed = trimmed
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(trimmed);
    if let Ok(ip) = unbracketed.parse::<IpAddr>() {
        return Ok(Host::Ip(ip));
    }
    let dns = trimmed.trim_end_matches('.').to_ascii_lowercase();
    match rustls::pki_types::DnsName::try_from(dns.as_str()) {
        Ok(_) => Ok(Host::Dns(dns)),
        Err(_) => Err(TlsError::InvalidHost(host.to_string())),
    }
}

fn generate(hosts: &[Host], now: SystemTime) -> Result<ServingIdentity, TlsError> {
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, COMMON_NAME);
    params.subject_alt_names = hosts
        .iter()
        .map(|host| match host {
            Host::Ip(ip) => Ok(rcgen::SanType::IpAddress(*ip)),
            Host::Dns(dns) => Ok(rcgen::SanType::DnsName(dns.as_str().try_into()?)),
        })
        .collect::<Result<_, rcgen::Error>>()?;
    params.not_before = (now - BACKDATE).into();
    params.not_after = (now + VALIDITY).into();
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.self_signed(&key)?;
    Ok(ServingIdentity {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn hosts(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn creates_an_owner_only_key_and_reuses_the_stored_identity() {
        let dir = tempfile::tempdir().unwrap();
        let first = ServingIdentity::load_or_create(dir.path(), &hosts(&["10.1.2.3"])).unwrap();
        assert_eq!(mode(&dir.path().join(KEY_FILE)), 0o600);
        assert_eq!(
            std::fs::read_to_string(dir.path().join(CERT_FILE)).unwrap(),
            first.cert_pem()
        );
        assert!(first.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));

        // The same hosts, or fewer, reuse it.
        let again = ServingIdentity::load_or_create(dir.path(), &hosts(&["10.1.2.3"])).unwrap();
        assert_eq!(again.cert_pem, first.cert_pem);
        assert_eq!(again.key_pem, first.key_pem);
        let fewer = ServingIdentity::load_or_create(dir.path(), &[]).unwrap();
        assert_eq!(fewer.cert_pem, first.cert_pem);
    }

    #[test]
    fn a_key_file_made_readable_by_others_is_narrowed_on_reuse() {
        let dir = tempfile::tempdir().unwrap();
        ServingIdentity::load_or_create(dir.path(), &[]).unwrap();
        let key = dir.path().join(KEY_FILE);
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        ServingIdentity::load_or_create(dir.path(), &[]).unwrap();
        assert_eq!(mode(&key), 0o600);
    }

    #[test]
    fn is_valid_for_the_given_hosts_plus_loopback_and_localhost() {
        let dir = tempfile::tempdir().unwrap();
        let identity = ServingIdentity::load_or_create(
            dir.path(),
            &hosts(&["192.168.7.9", "[fd00::1]", "Node-1.Example.COM."]),
        )
        .unwrap();
        let now = SystemTime::now();
        for host in [
            "127.0.0.1",
            "localhost",
            "192.168.7.9",
            "fd00::1",
            "node-1.example.com",
        ] {
            identity
                .verify_for(&[parse_host(host).unwrap()], now)
                .unwrap_or_else(|error| panic!("{host}: {error}"));
        }
        for host in ["10.9.9.9", "other.example.com", "::1"] {
            assert!(
                !identity.is_usable_for(&[parse_host(host).unwrap()], now),
                "{host}"
            );
        }
        // Expired, or within the renewal margin: not reused.
        assert!(!identity.is_usable_for(&serving_hosts(&[]).unwrap(), now + VALIDITY));
    }

    #[test]
    fn a_new_host_replaces_the_stored_identity() {
        let dir = tempfile::tempdir().unwrap();
        let first = ServingIdentity::load_or_create(dir.path(), &[]).unwrap();
        let wider = ServingIdentity::load_or_create(dir.path(), &hosts(&["10.0.0.5"])).unwrap();
        assert_ne!(wider.key_pem, first.key_pem);
        assert!(wider.is_usable_for(&[Host::Ip([10, 0, 0, 5].into())], SystemTime::now()));
        let stored = std::fs::read_to_string(dir.path().join(CERT_FILE)).unwrap();
        assert_eq!(stored, wider.cert_pem);
    }

    #[test]
    fn unusable_stored_files_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let first = ServingIdentity::load_or_create(dir.path(), &[]).unwrap();
        // A key that does not belong to the certificate.
        let other = tempfile::tempdir().unwrap();
        let stranger = ServingIdentity::load_or_create(other.path(), &[]).unwrap();
        std::fs::write(dir.path().join(KEY_FILE), &stranger.key_pem).unwrap();
        let replaced = ServingIdentity::load_or_create(dir.path(), &[]).unwrap();
        assert_ne!(replaced.cert_pem, first.cert_pem);
        replaced.server_config().unwrap();

        std::fs::write(dir.path().join(CERT_FILE), "garbage").unwrap();
        let fresh = ServingIdentity::load_or_create(dir.path(), &[]).unwrap();
        assert_ne!(fresh.cert_pem, replaced.cert_pem);
    }

    #[test]
    fn rejects_hosts_that_are_neither_ip_nor_dns() {
        let dir = tempfile::tempdir().unwrap();
        let error = ServingIdentity::load_or_create(dir.path(), &hosts(&["not a host"]));
        assert!(matches!(error, Err(TlsError::InvalidHost(host)) if host == "not a host"));
    }
}
