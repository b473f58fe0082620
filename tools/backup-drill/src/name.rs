//! Names as bytes. A Linux file name is any bytes but `/` and NUL; the
//! manifest is UTF-8 JSON. A name is written as `path` alone when that
//! string is its bytes and shows them unambiguously (UTF-8 without a
//! backslash: almost every name). Any other name is written as its
//! [`display`] form in `path` plus its exact bytes, base64, in `path_b64`
//! (a link target likewise in `target` + `target_b64`).
//!
//! [`display`] is one-to-one: UTF-8 runs as they are with `\` doubled,
//! every byte that is not UTF-8 as `\xNN`. So a `path` never equals another
//! name's `path` (the Latin-1 `caf\xe9.txt` shows as `caf\xe9.txt`, a real
//! UTF-8 name spelled `caf\xe9.txt` as `caf\\xe9.txt`), records and text
//! output show every name printable, and the parser can check that `path`
//! shows exactly the bytes that restore will write.

use std::borrow::Cow;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// The one printable, unambiguous form of a name: UTF-8 runs as they are
/// (a backslash doubled), every other byte as `\xNN`.
pub fn display(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(&chunk.valid().replace('\\', "\\\\"));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// The manifest fields for a name: (`path`, `path_b64`). The bytes field is
/// present only when [`display`] is not the name itself.
pub fn encode(bytes: &[u8]) -> (String, Option<String>) {
    match std::str::from_utf8(bytes) {
        Ok(text) if !text.contains('\\') => (text.to_string(), None),
        _ => (display(bytes), Some(STANDARD.encode(bytes))),
    }
}

/// The bytes of a name already checked by [`decode`] (a parsed manifest's).
pub fn bytes<'a>(text: &'a str, b64: Option<&str>) -> Cow<'a, [u8]> {
    match b64.and_then(|b| STANDARD.decode(b).ok()) {
        Some(raw) => Cow::Owned(raw),
        None => Cow::Borrowed(text.as_bytes()),
    }
}

/// The bytes in a `{field}_b64` field (strict base64).
pub fn from_b64(b64: &str, field: &str) -> Result<Vec<u8>, String> {
    STANDARD
        .decode(b64)
        .map_err(|e| format!("{field}_b64 is not base64: {e}"))
}

/// Checks a name read as `text` plus bytes `raw`: the bytes were needed
/// (`text` alone could not hold them, see [`encode`]), and `text` shows
/// exactly them, so what a reader sees is what restore writes.
pub fn check_raw(text: &str, raw: &[u8], field: &str) -> Result<(), String> {
    if encode(raw).1.is_none() {
        return Err(format!(
            "{field}_b64 holds a UTF-8 name without a backslash: it belongs in {field} alone"
        ));
    }
    let want = display(raw);
    if text == want {
        return Ok(());
    }
    Err(format!(
        "{field} {text:?} does not show {field}_b64 (\"{}\")",
        common::printer::printable(&want)
    ))
}

/// A relative path as bytes in canonical form: not empty, not absolute, no
/// NUL, no `.`, `..` or empty component. The error shows the path printable.
pub fn check_relative(raw: &[u8]) -> Result<(), String> {
    let shown = || common::printer::printable(&display(raw)).into_owned();
    if raw.is_empty() {
        return Err("empty path".into());
    }
    if raw.contains(&0) {
        return Err(format!("path \"{}\" contains a NUL byte", shown()));
    }
    if raw.starts_with(b"/") {
        return Err(format!(
            "path \"{}\" is absolute: only relative paths are allowed",
            shown()
        ));
    }
    let parts = || raw.split(|&b| b == b'/');
    if parts().any(|c| c == b"..") {
        return Err(format!(
            "path \"{}\" contains '..': refusing to leave the root",
            shown()
        ));
    }
    if parts().any(|c| c.is_empty() || c == b".") {
        return Err(format!("path \"{}\" is not in canonical form", shown()));
    }
    Ok(())
}

/// The parent directory of a relative path, if it has one.
pub fn parent(raw: &[u8]) -> Option<&[u8]> {
    raw.iter().rposition(|&b| b == b'/').map(|i| &raw[..i])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn display_is_printable_and_one_to_one() {
        assert_eq!(display(b"Kundenvertr\xe4ge\\x"), "Kundenvertr\\xe4ge\\\\x");
        assert_eq!(display(b"caf\\xe9"), "caf\\\\xe9");
        assert_eq!(display(b"caf\xe9"), "caf\\xe9");
        assert_eq!(display("ä/b".as_bytes()), "ä/b");
        // Every pair of distinct short names shows differently.
        let alphabet: [u8; 6] = [b'\\', b'x', b'e', b'9', 0xe9, 0xc3];
        let mut seen = std::collections::HashMap::new();
        for len in 0..=4u32 {
            for n in 0..6usize.pow(len) {
                let name: Vec<u8> = (0..len).map(|i| alphabet[n / 6usize.pow(i) % 6]).collect();
                if let Some(other) = seen.insert(display(&name), name.clone()) {
                    panic!("{name:?} and {other:?} both show as {}", display(&name));
                }
            }
        }
    }

    #[test]
    fn names_round_trip_through_the_manifest_fields() {
        for raw in [
            &b"data/a.txt"[..],
            b"data/caf\xe9.txt",
            b"data/caf\\xe9.txt",
            b"data/x\\\xff",
            "data/ä".as_bytes(),
        ] {
            let (text, b64) = encode(raw);
            assert_eq!(bytes(&text, b64.as_deref()), raw);
            match &b64 {
                Some(b) => {
                    assert_eq!(from_b64(b, "path").unwrap(), raw);
                    check_raw(&text, raw, "path").unwrap();
                }
                None => assert_eq!(text.as_bytes(), raw),
            }
        }
        assert_eq!(encode(b"data/a.txt").1, None);
        assert!(check_raw("data", b"data", "path")
            .unwrap_err()
            .contains("path_b64 holds a UTF-8 name"));
        assert!(check_raw("x", b"\xff", "target")
            .unwrap_err()
            .contains("target \"x\" does not show target_b64 (\"\\xff\")"));
        assert!(from_b64("*", "target")
            .unwrap_err()
            .starts_with("target_b64 is not base64"));
    }

    #[test]
    fn relative_paths_are_checked_as_bytes() {
        check_relative(b"data/\xff/x").unwrap();
        check_relative(b"data/..\xff").unwrap();
        for (bad, why) in [
            (&b""[..], "empty"),
            (b"../x", "'..'"),
            (b"data/\xff/..", "'..'"),
            (b"/etc/\xff", "absolute"),
            (b"data//\xff", "canonical"),
            (b"data/\xff/", "canonical"),
            (b"./\xff", "canonical"),
            (b"data/\xff\0", "NUL"),
        ] {
            let err = check_relative(bad).unwrap_err();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
        assert_eq!(parent(b"data/\xff/x"), Some(&b"data/\xff"[..]));
        assert_eq!(parent(b"data"), None);
    }
}
