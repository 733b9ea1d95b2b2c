//! TLS end to end, against a local server of its own that serves Bolt only
//! over TLS with a certificate from a private CA made here (openssl):
//! `bolt+ssc://` accepts it without checking, `neo4j+s://` with
//! `--trusted-ca` verifies it against that CA, and `bolt+s://` without the
//! CA refuses it with a sentence that says "certificate" and what to set.

mod common;

use std::path::Path;

use common::{FreshServer, generate, json, make_certificates, temp_dir};

const BOLT_PORT: u16 = 17697;

/// Neo4j's Bolt SSL policy serving the certificate the CA signed, TLS
/// required (its folder must hold `trusted` and `revoked`, empty here: no
/// client certificates).
fn neo4j_tls_policy(certs: &Path) -> Vec<String> {
    for folder in ["trusted", "revoked"] {
        std::fs::create_dir_all(certs.join(folder)).expect("mkdir");
    }
    vec![
        "dbms.ssl.policy.bolt.enabled=true".to_string(),
        format!("dbms.ssl.policy.bolt.base_directory={}", certs.display()),
        "dbms.ssl.policy.bolt.private_key=server.key".to_string(),
        "dbms.ssl.policy.bolt.public_certificate=server.pem".to_string(),
        "dbms.ssl.policy.bolt.client_auth=NONE".to_string(),
        "server.bolt.tls_level=REQUIRED".to_string(),
    ]
}

#[test]
fn tls_connects_with_ssc_and_with_a_trusted_ca_and_refuses_an_unknown_certificate() {
    let work = temp_dir();
    let certs = work.path().join("certs");
    std::fs::create_dir(&certs).expect("mkdir");
    let (ca, store) = make_certificates(&certs);
    let store = store.display().to_string();
    let server = FreshServer::configured(
        work.path().join("db"),
        BOLT_PORT,
        &[
            "-Darcadedb.bolt.ssl=REQUIRED".to_string(),
            format!("-Darcadedb.ssl.keyStore={store}"),
            "-Darcadedb.ssl.keyStorePassword=test-store".to_string(),
            // The trust store only matters for client certificates, which
            // are not used: the key store serves.
            format!("-Darcadedb.ssl.trustStore={store}"),
            "-Darcadedb.ssl.trustStorePassword=test-store".to_string(),
        ],
        &neo4j_tls_policy(&certs),
    );
    server.start();
    let input = generate(work.path(), "tls.csv", 300, 71, 0.0);
    let input = input.to_str().unwrap();

    // A self-signed (here: unknown) certificate, accepted unchecked.
    let ssc = format!("bolt+ssc://127.0.0.1:{BOLT_PORT}");
    let load = server.run(work.path(), &["load", input, "--json", "--uri", &ssc]);
    assert!(load.status.success(), "{}", String::from_utf8_lossy(&load.stderr));
    assert_eq!(json(&load)["rows_accepted"], 300);

    // Verified against the private CA, with routing.
    let ca = ca.display().to_string();
    let trusted = format!("neo4j+s://localhost:{BOLT_PORT}");
    let verify = server.run(
        work.path(),
        &["verify", input, "--uri", &trusted, "--trusted-ca", &ca],
    );
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(String::from_utf8_lossy(&verify.stdout).contains("PASSED"));

    // Verified against the system's roots, which do not know the CA.
    let strict = format!("bolt+s://localhost:{BOLT_PORT}");
    let refused = server.run(work.path(), &["verify", input, "--uri", &strict]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(14), "{stderr}");
    assert!(stderr.contains("certificate"), "{stderr}");
    assert!(stderr.contains("neo4j.trusted_ca"), "{stderr}");

    // Plain Bolt to a TLS-only server: told to use TLS.
    let plain = format!("bolt://127.0.0.1:{BOLT_PORT}");
    let refused = server.run(work.path(), &["verify", input, "--uri", &plain]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(14), "{stderr}");
    assert!(stderr.contains("bolt+s://"), "{stderr}");
}
