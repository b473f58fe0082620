//! Ctrl-C must act within a second even in the middle of a 1 GB document:
//! the parsers poll the interrupt flag while they read components. With
//! the flag already raised, parsing stops with "interrupted" instead of
//! reading the whole document (issue 14 item 13). Its own test binary: the
//! flag is process-wide.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::Ordering;

use sbom_diff::formats::parse_bytes;
use sbom_diff::model::{Kind, Options};

#[test]
fn parsers_stop_at_an_interrupt() {
    let comps: Vec<String> = (0..20_000)
        .map(|i| {
            format!(
                "{{\"name\":\"p{i}\",\"version\":\"1.0.{i}\",\"purl\":\"pkg:npm/p{i}@1.0.{i}\"}}"
            )
        })
        .collect();
    let cdx = format!(
        "{{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":[{}]}}",
        comps.join(",")
    );
    let spdx_pkgs: Vec<String> = (0..20_000)
        .map(|i| format!("{{\"SPDXID\":\"SPDXRef-{i}\",\"name\":\"p{i}\",\"versionInfo\":\"1.0.{i}\",\"externalRefs\":[{{\"referenceCategory\":\"PACKAGE-MANAGER\",\"referenceType\":\"purl\",\"referenceLocator\":\"pkg:npm/p{i}@1.0.{i}\"}}]}}"))
        .collect();
    let spdx = format!(
        "{{\"spdxVersion\":\"SPDX-2.3\",\"SPDXID\":\"SPDXRef-DOCUMENT\",\"packages\":[{}]}}",
        spdx_pkgs.join(",")
    );
    let pip: String = (0..20_000).map(|i| format!("p{i}==1.0.{i}\n")).collect();
    let opts = Options::default();
    // Not interrupted: each parses whole.
    for (kind, text) in [
        (Kind::Cyclonedx, &cdx),
        (Kind::Spdx, &spdx),
        (Kind::Pip, &pip),
    ] {
        let (_, sbom) = parse_bytes("doc", text.as_bytes(), kind, &opts).unwrap();
        assert_eq!(sbom.components.len(), 20_000, "{kind:?}");
    }
    common::interrupt::flag().store(true, Ordering::Relaxed);
    for (kind, text) in [
        (Kind::Cyclonedx, &cdx),
        (Kind::Spdx, &spdx),
        (Kind::Pip, &pip),
    ] {
        let err = parse_bytes("doc", text.as_bytes(), kind, &opts).unwrap_err();
        assert!(err.to_string().contains("interrupted"), "{kind:?}: {err}");
    }
}
