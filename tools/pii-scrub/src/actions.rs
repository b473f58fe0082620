//! What happens to a finding: `redact`, `mask`, `hash` or `remove`.
//!
//! `hash` is HMAC-SHA256 keyed by a secret salt, so the same value gives the
//! same token under one salt (logs stay joinable) while an attacker without
//! the salt cannot test guesses. The token carries a key id derived from the
//! salt, so a rotated salt is visible in the output.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use common::{Error, Result};

type HmacSha256 = Hmac<Sha256>;

/// The shortest salt accepted: shorter salts are guessable.
pub const MIN_SALT_BYTES: usize = 16;

/// What to do with a finding.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// `[REDACTED:type]`
    Redact,
    /// Keep a documented tail, e.g. `************1111`, `j***@example.com`.
    Mask,
    /// `[type:keyid:hmac]`, HMAC-SHA256 with the secret salt.
    Hash,
    /// Drop the JSON field holding the value (in text: drop the value).
    Remove,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Redact => "redact",
            Action::Mask => "mask",
            Action::Hash => "hash",
            Action::Remove => "remove",
        }
    }

    pub fn parse(text: &str) -> Option<Action> {
        Some(match text {
            "redact" => Action::Redact,
            "mask" => Action::Mask,
            "hash" => Action::Hash,
            "remove" => Action::Remove,
            _ => return None,
        })
    }
}

/// The keyed hasher for `hash`.
#[derive(Clone)]
pub struct Hasher {
    mac: HmacSha256,
    key_id: String,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl Hasher {
    /// `key_id` defaults to `k` + 8 hex digits of HMAC(salt, "pii-scrub key id"):
    /// stable for one salt, different after rotation, and reveals nothing usable.
    pub fn new(salt: &[u8], key_id: Option<&str>) -> Result<Hasher> {
        if salt.len() < MIN_SALT_BYTES {
            return Err(Error::usage(format!(
                "the salt is {} bytes; at least {MIN_SALT_BYTES} are required for hash",
                salt.len()
            ))
            .with_hint("generate one: head -c 32 /dev/urandom | base64 > salt.txt"));
        }
        let mac = HmacSha256::new_from_slice(salt).map_err(|e| Error::usage(e.to_string()))?;
        let key_id = match key_id {
            Some(k) => {
                if k.is_empty()
                    || !k
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                {
                    return Err(Error::usage(format!(
                        "--key-id '{k}': use letters, digits, '_' or '-'"
                    )));
                }
                k.to_string()
            }
            None => {
                let mut m = mac.clone();
                m.update(b"pii-scrub key id");
                format!("k{}", &hex::encode(m.finalize().into_bytes())[..8])
            }
        };
        Ok(Hasher { mac, key_id })
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// `[type:keyid:32 hex]` over the type and the normalized value.
    pub fn token(&self, ty: &str, value: &[u8], out: &mut Vec<u8>) {
        let mut m = self.mac.clone();
        m.update(ty.as_bytes());
        m.update(&[0]);
        m.update(&normalize(ty, value));
        let digest = m.finalize().into_bytes();
        out.push(b'[');
        out.extend_from_slice(ty.as_bytes());
        out.push(b':');
        out.extend_from_slice(self.key_id.as_bytes());
        out.push(b':');
        out.extend_from_slice(hex::encode(&digest[..16]).as_bytes());
        out.push(b']');
    }
}

/// The same person written two ways hashes the same: emails are compared
/// case-insensitively, numbers by their digits.
fn normalize(ty: &str, value: &[u8]) -> Vec<u8> {
    match ty {
        "email" | "ipv6" => value.to_ascii_lowercase(),
        "card" | "phone" | "ssn" => value.iter().copied().filter(u8::is_ascii_digit).collect(),
        "iban" => value
            .iter()
            .filter(|b| **b != b' ')
            .map(u8::to_ascii_uppercase)
            .collect(),
        _ => value.to_vec(),
    }
}

/// Writes the replacement for `value` of type `ty` under `action` to `out`.
/// `remove` writes nothing (JSON callers drop the whole field instead).
pub fn render(action: Action, ty: &str, value: &[u8], hasher: Option<&Hasher>, out: &mut Vec<u8>) {
    match action {
        Action::Redact => redact(ty, out),
        Action::Mask => mask(ty, value, out),
        Action::Hash => match hasher {
            Some(h) => h.token(ty, value, out),
            // Config refuses hash without a salt; never fall back to plain text.
            None => redact(ty, out),
        },
        Action::Remove => {}
    }
}

fn redact(ty: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"[REDACTED:");
    out.extend_from_slice(ty.as_bytes());
    out.push(b']');
}

/// Masks keep only what identifies the kind of value, never enough to
/// recover it: last 4 digits of a card, IBAN or SSN, last 2 of a phone, the
/// first letter and domain of an email, the first octet of an IPv4, the
/// first group of an IPv6, and a token's public prefix. Anything else: `********`.
fn mask(ty: &str, value: &[u8], out: &mut Vec<u8>) {
    let digits = || {
        value
            .iter()
            .copied()
            .filter(u8::is_ascii_digit)
            .collect::<Vec<u8>>()
    };
    match ty {
        "card" => {
            let d = digits();
            let keep = d.len().saturating_sub(4);
            out.extend(std::iter::repeat_n(b'*', keep));
            out.extend_from_slice(&d[keep..]);
        }
        "ssn" => {
            let d = digits();
            out.extend_from_slice(b"***-**-");
            out.extend_from_slice(&d[d.len().saturating_sub(4)..]);
        }
        "phone" => {
            let total = value.iter().filter(|b| b.is_ascii_digit()).count();
            let mut seen = 0;
            for &b in value {
                if b.is_ascii_digit() {
                    seen += 1;
                    out.push(if seen + 2 > total { b } else { b'*' });
                } else {
                    out.push(b);
                }
            }
        }
        "email" => match value.iter().position(|&b| b == b'@') {
            Some(at) if at > 0 => {
                out.push(value[0]);
                out.extend_from_slice(b"***");
                out.extend_from_slice(&value[at..]);
            }
            _ => out.extend_from_slice(b"********"),
        },
        "iban" => {
            let chars: Vec<u8> = value.iter().copied().filter(|b| *b != b' ').collect();
            let n = chars.len();
            out.extend_from_slice(&chars[..4.min(n)]);
            out.extend(std::iter::repeat_n(b'*', n.saturating_sub(8)));
            out.extend_from_slice(&chars[n.saturating_sub(4).max(4.min(n))..]);
        }
        "ipv4" => {
            let first = value.split(|&b| b == b'.').next().unwrap_or_default();
            out.extend_from_slice(first);
            out.extend_from_slice(b".*.*.*");
        }
        "ipv6" => {
            let first = value.split(|&b| b == b':').next().unwrap_or_default();
            out.extend_from_slice(first);
            out.extend_from_slice(b":*");
        }
        "github_token" | "gitlab_token" | "slack_token" | "stripe_key" | "aws_access_key" => {
            let prefix_len = value
                .iter()
                .position(|&b| b == b'_' || b == b'-')
                .map_or(4, |i| i + 1)
                .min(value.len());
            out.extend_from_slice(&value[..prefix_len.min(12)]);
            out.extend_from_slice(b"********");
        }
        _ => out.extend_from_slice(b"********"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(action: Action, ty: &str, v: &str, h: Option<&Hasher>) -> String {
        let mut out = Vec::new();
        render(action, ty, v.as_bytes(), h, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn masks_keep_documented_tails() {
        assert_eq!(
            r(Action::Mask, "card", "4111 1111 1111 1111", None),
            "************1111"
        );
        assert_eq!(
            r(Action::Mask, "email", "john@example.com", None),
            "j***@example.com"
        );
        assert_eq!(
            r(Action::Mask, "phone", "+1 415-555-2671", None),
            "+* ***-***-**71"
        );
        assert_eq!(r(Action::Mask, "ssn", "123-45-6789", None), "***-**-6789");
        assert_eq!(
            r(Action::Mask, "iban", "DE89 3704 0044 0532 0130 00", None),
            "DE89**************3000"
        );
        assert_eq!(r(Action::Mask, "ipv4", "10.1.2.3", None), "10.*.*.*");
        assert_eq!(
            r(Action::Mask, "github_token", "ghp_abcdef", None),
            "ghp_********"
        );
        assert_eq!(r(Action::Mask, "secret", "hunter2", None), "********");
        assert_eq!(
            r(Action::Redact, "email", "x@y.z", None),
            "[REDACTED:email]"
        );
    }

    #[test]
    fn hashes_are_stable_per_salt_and_rotate() {
        let a = Hasher::new(b"0123456789abcdef-salt-one", None).unwrap();
        let b = Hasher::new(b"0123456789abcdef-salt-two", None).unwrap();
        let t1 = r(Action::Hash, "email", "John@Example.com", Some(&a));
        let t2 = r(Action::Hash, "email", "john@example.com", Some(&a));
        let t3 = r(Action::Hash, "email", "john@example.com", Some(&b));
        assert_eq!(t1, t2);
        assert_ne!(t2, t3);
        assert!(t1.starts_with(&format!("[email:{}:", a.key_id())));
        assert_ne!(a.key_id(), b.key_id());
        assert_eq!(t1.len(), "[email::]".len() + a.key_id().len() + 32);
        assert!(Hasher::new(b"short", None).is_err());
    }
}
