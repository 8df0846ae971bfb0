//! TLS to PostgreSQL, as `DATABASE_URL` asks for it with libpq's `sslmode` and `sslrootcert`
//! (managed PostgreSQL services require TLS), through rustls on the process's one crypto provider.
//!
//! tokio-postgres knows only `disable`, `prefer` and `require`, and verifies nothing itself: the
//! connector does. So both parameters are taken out of the URL here and turned into a rustls
//! configuration, with libpq's meanings:
//! - `disable` (or no `sslmode`): no TLS.
//! - `prefer` / `require`: TLS if offered / always, the certificate not verified (encryption
//!   against passive listeners only, as in libpq) — unless `sslrootcert` is given, which makes
//!   `require` behave as `verify-ca`, again as libpq does.
//! - `verify-ca`: the chain must lead to a trusted root; the host name is not checked.
//! - `verify-full`: the chain and the host name (or IP address) are checked.
//!
//! Trusted roots are the PEM certificates in `sslrootcert`, else the Mozilla roots compiled in
//! (webpki-roots). Invariant: handshake signatures are always verified with the provider's
//! algorithms, even where the certificate is not; the provider is the process default (installed
//! by `main` and the tests), never one chosen here, so only one is ever in use.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::StorageError;

/// How strictly the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verify {
    Nothing,
    Chain,
    ChainAndName,
}

/// A PostgreSQL URL split into what tokio-postgres parses and the TLS it asks for.
#[derive(Debug)]
pub struct Target {
    /// The URL without `sslmode` and `sslrootcert`.
    pub url: String,
    /// `None`: plain TCP.
    pub tls: Option<Tls>,
}

/// The TLS part of a [`Target`].
#[derive(Debug)]
pub struct Tls {
    pub mode: SslMode,
    verify: Verify,
    root_cert: Option<String>,
}

fn invalid(message: String) -> StorageError {
    StorageError::Unavailable(format!("invalid PostgreSQL URL: {message}"))
}

/// Splits `url` (`postgres://…?sslmode=…&sslrootcert=…`). Never quotes the URL (it may hold a
/// password).
pub fn parse(url: &str) -> Result<Target, StorageError> {
    let Ok(mut parsed) = url::Url::parse(url) else {
        // A key=value connection string: tokio-postgres parses (and refuses) it as it is.
        return Ok(Target {
            url: url.to_owned(),
            tls: None,
        });
    };
    let (mut mode, mut root_cert, mut rest) = (None, None, Vec::new());
    for (key, value) in parsed.query_pairs() {
        match &*key {
            "sslmode" => mode = Some(value.into_owned()),
            "sslrootcert" => root_cert = Some(value.into_owned()),
            _ => rest.push((key.into_owned(), value.into_owned())),
        }
    }
    if rest.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(rest);
    }
    let verify_if_rooted = if root_cert.is_some() {
        Verify::Chain
    } else {
        Verify::Nothing
    };
    let tls = match mode.as_deref() {
        None | Some("disable") => None,
        Some("prefer") => Some((SslMode::Prefer, verify_if_rooted)),
        Some("require") => Some((SslMode::Require, verify_if_rooted)),
        Some("verify-ca") => Some((SslMode::Require, Verify::Chain)),
        Some("verify-full") => Some((SslMode::Require, Verify::ChainAndName)),
        Some(other) => {
            return Err(invalid(format!(
                "sslmode={other} is not one of disable, prefer, require, verify-ca, verify-full"
            )));
        }
    };
    Ok(Target {
        url: parsed.into(),
        tls: tls.map(|(mode, verify)| Tls {
            mode,
            verify,
            root_cert,
        }),
    })
}

impl Tls {
    /// The connector: rustls on the process's provider, verifying as the mode says.
    pub fn connector(&self) -> Result<MakeRustlsConnect, StorageError> {
        let provider = CryptoProvider::get_default()
            .cloned()
            .ok_or_else(|| StorageError::Unavailable("no TLS crypto provider is installed in this process".into()))?;
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| StorageError::Unavailable(format!("TLS to PostgreSQL: {e}")))?;
        let verifier: Arc<dyn ServerCertVerifier> = match self.verify {
            Verify::Nothing => Arc::new(Unverified(provider)),
            verify => {
                let roots = Arc::new(self.roots()?);
                let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
                    .build()
                    .map_err(|e| StorageError::Unavailable(format!("TLS to PostgreSQL: {e}")))?;
                if verify == Verify::Chain {
                    Arc::new(AnyName(webpki)) as Arc<dyn ServerCertVerifier>
                } else {
                    webpki as Arc<dyn ServerCertVerifier>
                }
            }
        };
        let config = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }

    fn roots(&self) -> Result<RootCertStore, StorageError> {
        let Some(path) = &self.root_cert else {
            return Ok(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            });
        };
        let unreadable = |e: &dyn std::fmt::Display| StorageError::Unavailable(format!("sslrootcert {path}: {e}"));
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| unreadable(&e))? {
            roots
                .add(cert.map_err(|e| unreadable(&e))?)
                .map_err(|e| unreadable(&e))?;
        }
        if roots.is_empty() {
            return Err(unreadable(&"no certificate in the file"));
        }
        Ok(roots)
    }
}

/// `verify-ca`: the chain is checked, the name is not.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `prefer` / `require` without a root: any certificate, but the handshake is still signed by
/// its key (libpq's semantics: encryption, no authentication of the server).
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

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
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tls_parameters_are_taken_out_of_the_url_and_the_rest_kept() {
        let target = parse("postgres://u:p@db.example:5432/app?sslmode=verify-full&application_name=rr").unwrap();
        assert_eq!(target.url, "postgres://u:p@db.example:5432/app?application_name=rr");
        let tls = target.tls.unwrap();
        assert_eq!((tls.mode, tls.verify), (SslMode::Require, Verify::ChainAndName));

        let target = parse("postgres://u@h/app?sslrootcert=%2Fetc%2Fca.pem&sslmode=require").unwrap();
        assert_eq!(target.url, "postgres://u@h/app");
        let tls = target.tls.unwrap();
        assert_eq!(
            tls.verify,
            Verify::Chain,
            "a root makes require verify the chain, as in libpq"
        );
        assert_eq!(tls.root_cert.as_deref(), Some("/etc/ca.pem"));

        assert!(parse("postgres://u@h/app").unwrap().tls.is_none());
        assert!(parse("postgres://u@h/app?sslmode=disable").unwrap().tls.is_none());
        let error = parse("postgres://u:secret@h/app?sslmode=allow")
            .unwrap_err()
            .to_string();
        assert!(error.contains("sslmode=allow") && !error.contains("secret"), "{error}");
    }
}
