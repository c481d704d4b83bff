//! Fuzzing the certificate and request decoders (issue 16, item 4): a certificate's facts
//! from DER (`CertificateFacts::parse`), a PEM chain (`CertificateFacts::parse_pem_chain`, the
//! path of `licnode pki show` and of a chain handed up with an anchor), and a signing request
//! (`SigningRequest::from_pem`, what a CA signs), on random bytes and on mutations of a real
//! root certificate and a real request. Hostile input is an error, never a panic or a hang.
//! Cases: `LICNODE_FUZZ_CASES` (see `licnode_testkit::fuzz`). Soak: `LICNODE_FUZZ_CASES=1000000
//! cargo test --release -p licnode-pki --test fuzz_certificates`.

use licnode_model::Level;
use licnode_pki::ca::SigningRequest;
use licnode_pki::names::CertificateFacts;
use licnode_pki::{CertificateAuthority, node};
use licnode_testkit::fuzz::{self, Watchdog};
use proptest::prelude::*;

/// A root certificate (PEM) and a province's signing request (PEM), made once.
fn samples() -> &'static (String, String) {
    static SAMPLES: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    SAMPLES.get_or_init(|| {
        licnode_pki::install_crypto_provider();
        let dir = tempfile::tempdir().expect("dir");
        let root = CertificateAuthority::init_root(&dir.path().join("ca")).expect("root");
        let root_pem = root.root_pem().expect("root pem");
        let request = node::create_request(&dir.path().join("node"), "330000", Level::Province)
            .expect("request");
        (root_pem, request.csr_pem)
    })
}

/// The DER bytes of the root certificate.
fn root_der() -> Vec<u8> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(samples().0.as_bytes()).expect("pem");
    pem.contents
}

fn watchdog() -> &'static Watchdog {
    static WATCHDOG: std::sync::OnceLock<Watchdog> = std::sync::OnceLock::new();
    WATCHDOG.get_or_init(Watchdog::default)
}

fn as_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn random_and_mutated_der_never_panics_the_certificate_decoder(
        der in prop_oneof![fuzz::bytes(2_048), fuzz::mutated(vec![root_der()])]
    ) {
        watchdog().run(|| fuzz::describe_bytes(&der), || { let _ = CertificateFacts::parse(&der); });
    }

    #[test]
    fn mutated_pem_chains_never_panic_the_chain_decoder(
        pem in fuzz::mutated(vec![
            samples().0.clone().into_bytes(),
            format!("{}{}", samples().0, samples().0).into_bytes(),
        ])
    ) {
        let text = as_text(&pem);
        watchdog().run(|| fuzz::describe_text(&text), || {
            let _ = CertificateFacts::parse_pem_chain(&text);
        });
    }

    #[test]
    fn mutated_requests_never_panic_the_request_decoder(
        pem in prop_oneof![fuzz::bytes(1_024), fuzz::mutated(vec![samples().1.clone().into_bytes()])]
    ) {
        let text = as_text(&pem);
        watchdog().run(|| fuzz::describe_text(&text), || { let _ = SigningRequest::from_pem(&text); });
    }
}

#[test]
fn the_samples_the_mutations_start_from_decode() {
    assert!(CertificateFacts::parse(&root_der()).is_ok());
    assert_eq!(
        CertificateFacts::parse_pem_chain(&samples().0)
            .expect("chain")
            .len(),
        1
    );
    assert!(SigningRequest::from_pem(&samples().1).is_ok());
}
