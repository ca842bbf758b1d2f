//! TLS to the state database: rustls on ring, the trust anchors from `sslrootcert` or the
//! system's store, and what each `sslmode` verifies.
//!
//! - `prefer`: TLS when the server offers it, else clear text, as libpq. The certificate is not
//!   verified (unless `sslrootcert` is given): whoever can intercept the connection can also
//!   refuse TLS and so get clear text, so verifying would only break servers with a self-signed
//!   certificate (PostgreSQL's packages make one) and protect nothing more.
//! - `require`: TLS or no connection; the certificate chain and the host name are verified
//!   (stricter than libpq, whose `require` trusts any certificate without a root file).
//! - `verify-ca`: TLS; the chain is verified, not the host name.
//! - `verify-full`: TLS; the chain and the host name are verified.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::StateError;

/// `sslmode`, with the two modes tokio-postgres does not know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub(crate) fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Where the trust anchors come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RootCert {
    /// The system's trust store (no `sslrootcert`, or `sslrootcert=system`).
    System,
    /// `sslrootcert=<file>`: the PEM certificates in that file, and only those (as libpq).
    File(PathBuf),
}

/// What is checked of the server's certificate.
enum Verify {
    /// Nothing but the handshake's signatures (`prefer` without `sslrootcert`).
    Nothing,
    /// The chain up to a trust anchor, not the name.
    Chain,
    /// The chain and the name.
    ChainAndName,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The connector for `mode`, `None` for `disable`. Reads the trust anchors now, so a missing
/// or unreadable `sslrootcert` is refused before any connection.
pub(crate) fn connector(
    mode: SslMode,
    root: &RootCert,
    endpoint: &str,
) -> Result<Option<MakeRustlsConnect>, StateError> {
    let verify = match (mode, root) {
        (SslMode::Disable, _) => return Ok(None),
        (SslMode::Prefer, RootCert::System) => Verify::Nothing,
        (SslMode::Prefer | SslMode::VerifyCa, _) => Verify::Chain,
        (SslMode::Require | SslMode::VerifyFull, _) => Verify::ChainAndName,
    };
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions");
    let algorithms = provider.signature_verification_algorithms;
    let config = match verify {
        Verify::Nothing => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unverified { algorithms }))
            .with_no_client_auth(),
        Verify::Chain => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ChainOnly {
                roots: Arc::new(roots(root, endpoint)?),
                algorithms,
            }))
            .with_no_client_auth(),
        Verify::ChainAndName => builder
            .with_root_certificates(roots(root, endpoint)?)
            .with_no_client_auth(),
    };
    Ok(Some(MakeRustlsConnect::new(config)))
}

fn roots(root: &RootCert, endpoint: &str) -> Result<RootCertStore, StateError> {
    let bad = |what: String| StateError::RootCert {
        endpoint: endpoint.to_owned(),
        source_name: match root {
            RootCert::System => "the system's trust store".to_owned(),
            RootCert::File(p) => format!("`sslrootcert={}`", p.display()),
        },
        what,
    };
    let certs: Vec<CertificateDer<'static>> = match root {
        RootCert::System => {
            let found = rustls_native_certs::load_native_certs();
            if found.certs.is_empty() {
                let why = found
                    .errors
                    .first()
                    .map_or_else(|| "it is empty".to_owned(), |e| e.to_string());
                return Err(bad(format!("holds no certificate ({why})")));
            }
            found.certs
        }
        RootCert::File(path) => {
            let pem = std::fs::read(path).map_err(|e| bad(format!("cannot be read: {e}")))?;
            read_pem(&pem).map_err(bad)?
        }
    };
    let mut store = RootCertStore::empty();
    let (added, _ignored) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(bad("holds no usable CA certificate".to_owned()));
    }
    Ok(store)
}

fn read_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("is not a PEM file ({e})"))?;
    if certs.is_empty() {
        return Err("has no `-----BEGIN CERTIFICATE-----` block".to_owned());
    }
    Ok(certs)
}

/// Verifies the handshake's signatures only (`prefer`).
#[derive(Debug)]
struct Unverified {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Unverified {
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
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Verifies the chain up to a trust anchor, not the name (`verify-ca`).
#[derive(Debug)]
struct ChainOnly {
    roots: Arc<RootCertStore>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let cert = ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            &self.roots,
            intermediates,
            now,
            self.algorithms.all,
        )?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A connector that notes whether the TLS handshake was started, which tells "the server does
/// not offer TLS" from other failures to connect.
pub(crate) struct Tracked {
    inner: MakeRustlsConnect,
    started: Arc<AtomicBool>,
}

impl Tracked {
    pub(crate) fn new(inner: MakeRustlsConnect) -> (Self, Arc<AtomicBool>) {
        let started = Arc::new(AtomicBool::new(false));
        (
            Self {
                inner,
                started: started.clone(),
            },
            started,
        )
    }
}

impl<S> MakeTlsConnect<S> for Tracked
where
    MakeRustlsConnect: MakeTlsConnect<S>,
{
    type Stream = <MakeRustlsConnect as MakeTlsConnect<S>>::Stream;
    type TlsConnect = TrackedConnect<<MakeRustlsConnect as MakeTlsConnect<S>>::TlsConnect>;
    type Error = <MakeRustlsConnect as MakeTlsConnect<S>>::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<Self::TlsConnect, Self::Error> {
        Ok(TrackedConnect {
            inner: self.inner.make_tls_connect(domain)?,
            started: self.started.clone(),
        })
    }
}

/// [`Tracked`]'s per-connection half.
pub(crate) struct TrackedConnect<T> {
    inner: T,
    started: Arc<AtomicBool>,
}

impl<S, T: TlsConnect<S>> TlsConnect<S> for TrackedConnect<T> {
    type Stream = T::Stream;
    type Error = T::Error;
    type Future = T::Future;

    fn connect(self, stream: S) -> Self::Future {
        self.started.store(true, Ordering::SeqCst);
        self.inner.connect(stream)
    }
}

/// The certificate error in `err`'s causes, when the handshake failed on the certificate.
pub(crate) fn certificate_error(err: &tokio_postgres::Error) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(c) = cause {
        let tls = c.downcast_ref::<rustls::Error>().or_else(|| {
            c.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(rustls::Error::InvalidCertificate(e)) = tls {
            return Some(describe(e));
        }
        cause = c.source();
    }
    None
}

fn describe(e: &rustls::CertificateError) -> String {
    use rustls::CertificateError as E;
    match e {
        E::UnknownIssuer => "it is not signed by a trusted CA".to_owned(),
        E::NotValidForName | E::NotValidForNameContext { .. } => {
            "it is not issued for this host name".to_owned()
        }
        E::Expired | E::ExpiredContext { .. } => "it has expired".to_owned(),
        E::NotValidYet | E::NotValidYetContext { .. } => "it is not valid yet".to_owned(),
        E::Revoked => "it is revoked".to_owned(),
        other => format!("{other:?}"),
    }
}
