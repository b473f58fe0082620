//! A component's digests in one small allocation.
//!
//! A 1 GB SBOM holds 4 million components, nearly all with one SHA-256:
//! as a list of (String, String) that is four allocations and ~200 bytes
//! each; here it is one of ~48. Each entry is `[alg length: u8][alg]
//! [form: u8][value length: u32 LE][value]`, where a lowercase hex value of
//! even length is stored as its bytes (form 1) and anything else as text
//! (form 0). Entries are sorted by (algorithm, digest text) and unique, as
//! before; equal digests always encode to equal bytes, so equality and the
//! order used for pairing instances are those of the bytes.

use std::borrow::Cow;

/// (algorithm, digest) pairs: algorithms normalized (`SHA256`), digests
/// lowercase; sorted and unique.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hashes(Option<Box<[u8]>>);

const TEXT: u8 = 0;
const HEX: u8 = 1;

impl Hashes {
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// Adds `(alg, digest)` unless present; an algorithm name over 255
    /// bytes is not one (ignored).
    pub fn insert(&mut self, alg: &str, digest: &str) {
        if alg.len() > u8::MAX as usize || u32::try_from(digest.len()).is_err() {
            return;
        }
        let mut all: Vec<(&str, Cow<'_, str>)> = self.iter().collect();
        let new = (alg, Cow::Borrowed(digest));
        match all.binary_search(&new) {
            Ok(_) => return,
            Err(at) => all.insert(at, new),
        }
        let mut out = Vec::new();
        for (a, d) in &all {
            out.push(a.len() as u8);
            out.extend_from_slice(a.as_bytes());
            let packed = packed_hex(d);
            let (form, value): (u8, Cow<'_, [u8]>) = match packed {
                Some(bytes) => (HEX, Cow::Owned(bytes)),
                None => (TEXT, Cow::Borrowed(d.as_bytes())),
            };
            out.push(form);
            out.extend_from_slice(&(value.len() as u32).to_le_bytes());
            out.extend_from_slice(&value);
        }
        self.0 = Some(out.into_boxed_slice());
    }

    /// Every (algorithm, digest) in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Cow<'_, str>)> + '_ {
        let mut rest: &[u8] = self.0.as_deref().unwrap_or(&[]);
        std::iter::from_fn(move || {
            let (&alg_len, tail) = rest.split_first()?;
            let (alg, tail) = tail.split_at_checked(alg_len as usize)?;
            let (&form, tail) = tail.split_first()?;
            let (len, tail) = tail.split_at_checked(4)?;
            let len = u32::from_le_bytes(len.try_into().ok()?) as usize;
            let (value, tail) = tail.split_at_checked(len)?;
            rest = tail;
            let alg = std::str::from_utf8(alg).ok()?;
            let digest = if form == HEX {
                Cow::Owned(hex::encode(value))
            } else {
                Cow::Borrowed(std::str::from_utf8(value).ok()?)
            };
            Some((alg, digest))
        })
    }
}

/// The bytes of a lowercase hex string of even length, else None.
fn packed_hex(text: &str) -> Option<Vec<u8>> {
    if text.is_empty()
        || !text.len().is_multiple_of(2)
        || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return None;
    }
    hex::decode(text).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn entries_round_trip_sorted_and_unique() {
        let mut h = Hashes::default();
        assert!(h.is_empty());
        h.insert("SHA256", "ab01");
        h.insert("MD5", "not hex at all");
        h.insert("SHA256", "ab01");
        h.insert("SHA256", "0f");
        h.insert("SHA1", "abc");
        let all: Vec<(String, String)> = h
            .iter()
            .map(|(a, d)| (a.to_string(), d.into_owned()))
            .collect();
        let want = [
            ("MD5", "not hex at all"),
            ("SHA1", "abc"),
            ("SHA256", "0f"),
            ("SHA256", "ab01"),
        ];
        assert_eq!(
            all,
            want.map(|(a, d)| (a.to_string(), d.to_string())).to_vec()
        );
        let mut same = Hashes::default();
        for (a, d) in want.iter().rev() {
            same.insert(a, d);
        }
        assert_eq!(h, same);
        let mut other = Hashes::default();
        other.insert("SHA256", "ab02");
        assert_ne!(h, other);
    }
}
