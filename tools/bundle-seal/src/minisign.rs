//! Keys and signatures in minisign's file formats, so `minisign -V` verifies
//! what we sign and we verify what `minisign -S` signs.
//!
//! Written from the format description, not from minisign's code:
//! - public key: `untrusted comment: ...` then base64 of
//!   `"Ed" || key_id[8] || ed25519_public[32]`;
//! - secret key: `untrusted comment: ...` then base64 of
//!   `"Ed" || kdf("Sc" or 0 0) || "B2" || salt[32] || opslimit_le[8] ||
//!   memlimit_le[8] || (key_id[8] || ed25519_secret[64] || checksum[32])`,
//!   where the last 104 bytes are XORed with an scrypt stream when encrypted
//!   and the checksum is BLAKE2b-256 of `"Ed" || key_id || secret`;
//! - signature: untrusted comment line, base64 of `alg[2] || key_id[8] ||
//!   sig[64]` (`ED`: signature over the BLAKE2b-512 of the file, `Ed`:
//!   legacy, over the file itself), `trusted comment: ...` line, and base64
//!   of the global signature over `sig || trusted_comment`.
//!
//! Key ids are shown as minisign shows them: the 8 bytes read as a
//! little-endian integer, in upper-case hex.

use std::io::Read;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use blake2::digest::consts::U32;
use blake2::{Blake2b, Blake2b512, Digest};
use common::{Error, Result};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand::RngCore;

const UNTRUSTED_PREFIX: &str = "untrusted comment: ";
const TRUSTED_PREFIX: &str = "trusted comment: ";
/// minisign's limit for one comment line.
pub const COMMENT_MAX: usize = 1024;
const ALG_ED: [u8; 2] = *b"Ed";
const ALG_PREHASHED: [u8; 2] = *b"ED";
const KDF_SCRYPT: [u8; 2] = *b"Sc";
const KDF_NONE: [u8; 2] = [0, 0];
const CHK_BLAKE2: [u8; 2] = *b"B2";
const PUBLIC_LEN: usize = 2 + 8 + 32;
const SECRET_LEN: usize = 2 + 2 + 2 + 32 + 8 + 8 + 104;
const SIG_LEN: usize = 2 + 8 + 64;
/// libsodium's "sensitive" scrypt limits, which `minisign -G` uses.
pub const DEFAULT_OPSLIMIT: u64 = 33_554_432;
pub const DEFAULT_MEMLIMIT: u64 = 1_073_741_824;
/// The most a legacy (`Ed`, not prehashed) signature is checked over.
pub const LEGACY_MAX: u64 = 1 << 30;
/// A hostile key file must not make us allocate without bound.
const MAX_SCRYPT_BYTES: u64 = 2 << 30;

type Blake2b256 = Blake2b<U32>;

/// An 8-byte key id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyId(pub [u8; 8]);

impl std::fmt::Display for KeyId {
    /// As minisign prints it (`%llX`): upper-case hex, no leading zeros.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:X}", u64::from_le_bytes(self.0))
    }
}

/// A minisign public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    pub key_id: KeyId,
    pub key: VerifyingKey,
}

impl PublicKey {
    /// Parses a public key file (comment line, base64 line) or a bare base64
    /// key (what `minisign -P` takes). `name` is used in error messages.
    pub fn parse(text: &str, name: &str) -> Result<PublicKey> {
        let lines: Vec<&str> = text.lines().map(trim_line).collect();
        let (line_no, b64) = match lines.as_slice() {
            [one] if !one.starts_with(UNTRUSTED_PREFIX) => (1, *one),
            [first, second, rest @ ..] if rest.iter().all(|l| l.is_empty()) => {
                if !first.starts_with(UNTRUSTED_PREFIX) {
                    return Err(Error::at(
                        name,
                        1,
                        "public key: expected 'untrusted comment: ...'",
                    ));
                }
                (2, *second)
            }
            _ => {
                return Err(Error::at(
                    name,
                    1,
                    "public key: expected a comment line and a base64 line",
                ))
            }
        };
        Self::from_base64(b64).map_err(|m| Error::at(name, line_no, format!("public key: {m}")))
    }

    /// The base64 form alone.
    pub fn from_base64(b64: &str) -> std::result::Result<PublicKey, String> {
        let bytes = decode_exact(b64, PUBLIC_LEN)?;
        if bytes[..2] != ALG_ED {
            return Err(format!(
                "unsupported algorithm {:?} (expected \"Ed\")",
                alg_text(&bytes[..2])
            ));
        }
        let mut id = [0u8; 8];
        id.copy_from_slice(&bytes[2..10]);
        let mut pk = [0u8; 32];
        pk.copy_from_slice(&bytes[10..42]);
        let key =
            VerifyingKey::from_bytes(&pk).map_err(|_| "not a valid Ed25519 point".to_string())?;
        Ok(PublicKey {
            key_id: KeyId(id),
            key,
        })
    }

    pub fn to_base64(&self) -> String {
        let mut bytes = Vec::with_capacity(PUBLIC_LEN);
        bytes.extend_from_slice(&ALG_ED);
        bytes.extend_from_slice(&self.key_id.0);
        bytes.extend_from_slice(self.key.as_bytes());
        B64.encode(bytes)
    }

    /// The file minisign writes: `untrusted comment: minisign public key ID`.
    pub fn to_file(&self) -> String {
        format!(
            "{UNTRUSTED_PREFIX}minisign public key {}\n{}\n",
            self.key_id,
            self.to_base64()
        )
    }
}

/// A usable (decrypted) secret key.
#[derive(Clone)]
pub struct SecretKey {
    pub key_id: KeyId,
    signing: SigningKey,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// scrypt cost as stored in the key file (libsodium's opslimit/memlimit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kdf {
    pub opslimit: u64,
    pub memlimit: u64,
}

impl Default for Kdf {
    fn default() -> Self {
        Kdf {
            opslimit: DEFAULT_OPSLIMIT,
            memlimit: DEFAULT_MEMLIMIT,
        }
    }
}

impl SecretKey {
    /// A fresh random key pair.
    pub fn generate() -> SecretKey {
        let mut rng = rand::rngs::OsRng;
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let mut id = [0u8; 8];
        rng.fill_bytes(&mut id);
        SecretKey {
            key_id: KeyId(id),
            signing: SigningKey::from_bytes(&seed),
        }
    }

    pub fn public(&self) -> PublicKey {
        PublicKey {
            key_id: self.key_id,
            key: self.signing.verifying_key(),
        }
    }

    /// Raw Ed25519 signature (for receipts and checkpoints).
    pub fn sign_raw(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// The secret key file; encrypted with `passphrase` (scrypt, minisign's
    /// layout) or unencrypted (`minisign -W`) without one.
    pub fn to_file(&self, passphrase: Option<&[u8]>, kdf: Kdf) -> Result<String> {
        let mut inner = [0u8; 104];
        inner[..8].copy_from_slice(&self.key_id.0);
        inner[8..40].copy_from_slice(&self.signing.to_bytes());
        inner[40..72].copy_from_slice(self.signing.verifying_key().as_bytes());
        let chk = checksum(&self.key_id.0, &inner[8..72]);
        inner[72..].copy_from_slice(&chk);
        let mut out = Vec::with_capacity(SECRET_LEN);
        out.extend_from_slice(&ALG_ED);
        let mut salt = [0u8; 32];
        let (kdf_alg, ops, mem) = match passphrase {
            Some(pass) => {
                rand::rngs::OsRng.fill_bytes(&mut salt);
                xor_stream(pass, &salt, kdf, &mut inner)?;
                (KDF_SCRYPT, kdf.opslimit, kdf.memlimit)
            }
            None => (KDF_NONE, 0, 0),
        };
        out.extend_from_slice(&kdf_alg);
        out.extend_from_slice(&CHK_BLAKE2);
        out.extend_from_slice(&salt);
        out.extend_from_slice(&ops.to_le_bytes());
        out.extend_from_slice(&mem.to_le_bytes());
        out.extend_from_slice(&inner);
        let comment = if passphrase.is_some() {
            "minisign encrypted secret key"
        } else {
            "minisign secret key (unencrypted)"
        };
        Ok(format!(
            "{UNTRUSTED_PREFIX}{comment}\n{}\n",
            B64.encode(out)
        ))
    }

    /// Signs `message` the way `minisign -S` does (prehashed, `ED`).
    pub fn sign(
        &self,
        message: impl Read,
        untrusted_comment: &str,
        trusted_comment: &str,
    ) -> std::io::Result<SignatureFile> {
        let digest = blake2b512(message)?;
        let sig = self.signing.sign(&digest).to_bytes();
        let mut global = Vec::with_capacity(64 + trusted_comment.len());
        global.extend_from_slice(&sig);
        global.extend_from_slice(trusted_comment.as_bytes());
        let global_sig = self.signing.sign(&global).to_bytes();
        Ok(SignatureFile {
            untrusted_comment: untrusted_comment.to_string(),
            prehashed: true,
            key_id: self.key_id,
            sig,
            trusted_comment: trusted_comment.to_string(),
            global_sig,
        })
    }
}

/// A parsed secret key file, possibly still encrypted.
#[derive(Clone)]
pub struct SecretKeyFile {
    kdf_alg: [u8; 2],
    salt: [u8; 32],
    kdf: Kdf,
    inner: [u8; 104],
}

impl std::fmt::Debug for SecretKeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKeyFile")
            .field("encrypted", &self.is_encrypted())
            .finish_non_exhaustive()
    }
}

impl SecretKeyFile {
    pub fn parse(text: &str, name: &str) -> Result<SecretKeyFile> {
        let lines: Vec<&str> = text.lines().map(trim_line).collect();
        let b64 = match lines.as_slice() {
            [first, second, rest @ ..] if rest.iter().all(|l| l.is_empty()) => {
                if !first.starts_with(UNTRUSTED_PREFIX) {
                    return Err(Error::at(
                        name,
                        1,
                        "secret key: expected 'untrusted comment: ...'",
                    ));
                }
                *second
            }
            _ => {
                return Err(Error::at(
                    name,
                    1,
                    "secret key: expected a comment line and a base64 line",
                ))
            }
        };
        let bytes = decode_exact(b64, SECRET_LEN)
            .map_err(|m| Error::at(name, 2, format!("secret key: {m}")))?;
        let bad = |m: String| Error::at(name, 2, format!("secret key: {m}"));
        if bytes[..2] != ALG_ED {
            return Err(bad(format!(
                "unsupported signature algorithm {:?}",
                alg_text(&bytes[..2])
            )));
        }
        let kdf_alg = [bytes[2], bytes[3]];
        if kdf_alg != KDF_SCRYPT && kdf_alg != KDF_NONE {
            return Err(bad(format!(
                "unsupported key derivation {:?}",
                alg_text(&kdf_alg)
            )));
        }
        if bytes[4..6] != CHK_BLAKE2 {
            return Err(bad(format!(
                "unsupported checksum algorithm {:?}",
                alg_text(&bytes[4..6])
            )));
        }
        let mut salt = [0u8; 32];
        salt.copy_from_slice(&bytes[6..38]);
        let opslimit =
            u64::from_le_bytes(bytes[38..46].try_into().map_err(|_| bad("short".into()))?);
        let memlimit =
            u64::from_le_bytes(bytes[46..54].try_into().map_err(|_| bad("short".into()))?);
        let mut inner = [0u8; 104];
        inner.copy_from_slice(&bytes[54..158]);
        Ok(SecretKeyFile {
            kdf_alg,
            salt,
            kdf: Kdf { opslimit, memlimit },
            inner,
        })
    }

    pub fn is_encrypted(&self) -> bool {
        self.kdf_alg == KDF_SCRYPT
    }

    /// Decrypts (when encrypted) and checks the key; `name` for messages.
    pub fn decrypt(&self, passphrase: Option<&[u8]>, name: &str) -> Result<SecretKey> {
        let mut inner = self.inner;
        if self.is_encrypted() {
            let Some(pass) = passphrase else {
                return Err(Error::usage(format!(
                    "{name}: the secret key is encrypted and no passphrase was given"
                ))
                .with_hint("pass --passphrase-file FILE (or '-' to read it from stdin)"));
            };
            xor_stream(pass, &self.salt, self.kdf, &mut inner).map_err(|e| e.context(name))?;
        }
        let mut id = [0u8; 8];
        id.copy_from_slice(&inner[..8]);
        let secret = &inner[8..72];
        let stored_chk = &inner[72..104];
        let chk = checksum(&id, secret);
        // minisign 0.11 leaves the checksum of an unencrypted key zero.
        let unchecked = !self.is_encrypted() && stored_chk.iter().all(|&b| b == 0);
        if !unchecked && stored_chk != chk.as_slice() {
            return Err(if self.is_encrypted() {
                Error::new(format!(
                    "{name}: wrong passphrase (the key's checksum does not match)"
                ))
            } else {
                Error::new(format!("{name}: secret key is corrupt (checksum mismatch)"))
            });
        }
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&secret[..32]);
        let signing = SigningKey::from_bytes(&seed);
        if signing.verifying_key().as_bytes() != &secret[32..64] {
            return Err(Error::new(format!(
                "{name}: secret key is corrupt (its public half does not match)"
            )));
        }
        Ok(SecretKey {
            key_id: KeyId(id),
            signing,
        })
    }
}

/// A `.minisig` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureFile {
    pub untrusted_comment: String,
    /// `ED` (BLAKE2b-512 of the file signed) rather than legacy `Ed`.
    pub prehashed: bool,
    pub key_id: KeyId,
    pub sig: [u8; 64],
    pub trusted_comment: String,
    pub global_sig: [u8; 64],
}

/// Why a signature did not verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifyError {
    /// Signed by another key.
    KeyMismatch { signed_by: KeyId, expected: KeyId },
    /// The signature over the file does not match.
    BadSignature,
    /// The signature over the trusted comment does not match.
    BadTrustedComment,
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyError::KeyMismatch {
                signed_by,
                expected,
            } => {
                write!(
                    f,
                    "signed by key {signed_by}, not by the given key {expected}"
                )
            }
            VerifyError::BadSignature => f.write_str("signature does not match the file"),
            VerifyError::BadTrustedComment => {
                f.write_str("trusted comment signature does not match (comment altered?)")
            }
        }
    }
}

impl SignatureFile {
    pub fn parse(text: &str, name: &str) -> Result<SignatureFile> {
        if !text.ends_with('\n') {
            return Err(Error::at(
                name,
                4,
                "signature: the last line is incomplete (no newline)",
            ));
        }
        let lines: Vec<&str> = text.lines().map(trim_line).collect();
        if lines.len() < 4 || lines[4..].iter().any(|l| !l.is_empty()) {
            return Err(Error::at(name, 1, "signature: expected exactly 4 lines"));
        }
        let untrusted = lines[0]
            .strip_prefix(UNTRUSTED_PREFIX)
            .ok_or_else(|| Error::at(name, 1, "signature: expected 'untrusted comment: ...'"))?;
        let bytes = decode_exact(lines[1], SIG_LEN)
            .map_err(|m| Error::at(name, 2, format!("signature: {m}")))?;
        let prehashed = match [bytes[0], bytes[1]] {
            ALG_PREHASHED => true,
            ALG_ED => false,
            other => {
                return Err(Error::at(
                    name,
                    2,
                    format!("signature: unsupported algorithm {:?}", alg_text(&other)),
                ))
            }
        };
        let mut id = [0u8; 8];
        id.copy_from_slice(&bytes[2..10]);
        let mut sig = [0u8; 64];
        sig.copy_from_slice(&bytes[10..74]);
        let trusted = lines[2]
            .strip_prefix(TRUSTED_PREFIX)
            .ok_or_else(|| Error::at(name, 3, "signature: expected 'trusted comment: ...'"))?;
        let global = decode_exact(lines[3], 64)
            .map_err(|m| Error::at(name, 4, format!("signature: {m}")))?;
        let mut global_sig = [0u8; 64];
        global_sig.copy_from_slice(&global);
        Ok(SignatureFile {
            untrusted_comment: untrusted.to_string(),
            prehashed,
            key_id: KeyId(id),
            sig,
            trusted_comment: trusted.to_string(),
            global_sig,
        })
    }

    pub fn to_file(&self) -> String {
        let mut head = Vec::with_capacity(SIG_LEN);
        head.extend_from_slice(if self.prehashed {
            &ALG_PREHASHED
        } else {
            &ALG_ED
        });
        head.extend_from_slice(&self.key_id.0);
        head.extend_from_slice(&self.sig);
        format!(
            "{UNTRUSTED_PREFIX}{}\n{}\n{TRUSTED_PREFIX}{}\n{}\n",
            self.untrusted_comment,
            B64.encode(head),
            self.trusted_comment,
            B64.encode(self.global_sig)
        )
    }

    /// Verifies the file signature and the trusted comment's signature.
    pub fn verify(
        &self,
        key: &PublicKey,
        message: impl Read,
    ) -> std::io::Result<std::result::Result<(), VerifyError>> {
        self.verify_limited(key, message, LEGACY_MAX)
    }

    fn verify_limited(
        &self,
        key: &PublicKey,
        message: impl Read,
        legacy_max: u64,
    ) -> std::io::Result<std::result::Result<(), VerifyError>> {
        if self.key_id != key.key_id {
            return Ok(Err(VerifyError::KeyMismatch {
                signed_by: self.key_id,
                expected: key.key_id,
            }));
        }
        let sig = Signature::from_bytes(&self.sig);
        let ok = if self.prehashed {
            let digest = blake2b512(message)?;
            key.key.verify_strict(&digest, &sig).is_ok()
        } else {
            // A legacy signature is over the whole message, held in memory;
            // a hostile .minisig must not make us load a huge file.
            let mut all = Vec::new();
            message.take(legacy_max + 1).read_to_end(&mut all)?;
            if all.len() as u64 > legacy_max {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "legacy (non-prehashed) signature over more than {legacy_max} bytes; \
                         re-sign with a prehashed signature"
                    ),
                ));
            }
            key.key.verify_strict(&all, &sig).is_ok()
        };
        if !ok {
            return Ok(Err(VerifyError::BadSignature));
        }
        let mut global = Vec::with_capacity(64 + self.trusted_comment.len());
        global.extend_from_slice(&self.sig);
        global.extend_from_slice(self.trusted_comment.as_bytes());
        if key
            .key
            .verify_strict(&global, &Signature::from_bytes(&self.global_sig))
            .is_err()
        {
            return Ok(Err(VerifyError::BadTrustedComment));
        }
        Ok(Ok(()))
    }
}

/// Verifies a raw Ed25519 signature (receipts, checkpoints).
pub fn verify_raw(key: &PublicKey, message: &[u8], sig: &[u8; 64]) -> bool {
    key.key
        .verify_strict(message, &Signature::from_bytes(sig))
        .is_ok()
}

/// Whether a comment can go on one line of a signature file.
pub fn check_comment(comment: &str) -> std::result::Result<(), String> {
    if comment.contains(['\n', '\r']) {
        return Err("a comment must be one line".into());
    }
    if comment.len() > COMMENT_MAX {
        return Err(format!("a comment must be at most {COMMENT_MAX} bytes"));
    }
    Ok(())
}

/// libsodium's mapping from (opslimit, memlimit) to scrypt's (log2 N, r, p),
/// which minisign relies on; reproduced so our keys interoperate.
pub fn scrypt_params(kdf: Kdf) -> (u8, u32, u32) {
    let opslimit = kdf.opslimit.max(32_768);
    let r: u64 = 8;
    let mut n_log2: u32 = 1;
    let p: u64;
    if opslimit < kdf.memlimit / 32 {
        p = 1;
        let max_n = opslimit / (r * 4);
        while n_log2 < 63 && (1u64 << n_log2) <= max_n / 2 {
            n_log2 += 1;
        }
    } else {
        let max_n = kdf.memlimit / (r * 128);
        while n_log2 < 63 && (1u64 << n_log2) <= max_n / 2 {
            n_log2 += 1;
        }
        let max_rp = ((opslimit / 4) / (1u64 << n_log2)).min(0x3fff_ffff);
        p = max_rp / r;
    }
    (n_log2 as u8, r as u32, p as u32)
}

fn xor_stream(pass: &[u8], salt: &[u8; 32], kdf: Kdf, inner: &mut [u8; 104]) -> Result<()> {
    let (log_n, r, p) = scrypt_params(kdf);
    let bytes = 128u64.saturating_mul(u64::from(r)).saturating_mul(
        1u64.checked_shl(u32::from(log_n))
            .unwrap_or(u64::MAX)
            .saturating_add(u64::from(p)),
    );
    if bytes > MAX_SCRYPT_BYTES || p > 16 {
        return Err(Error::new(format!(
            "secret key asks for scrypt N=2^{log_n} r={r} p={p} ({bytes} bytes), over this tool's limit"
        )));
    }
    let params = scrypt::Params::new(log_n, r, p, 32)
        .map_err(|_| Error::new(format!("invalid scrypt parameters N=2^{log_n} r={r} p={p}")))?;
    let mut stream = [0u8; 104];
    scrypt::scrypt(pass, salt, &params, &mut stream).map_err(|_| Error::new("scrypt failed"))?;
    for (b, s) in inner.iter_mut().zip(stream.iter()) {
        *b ^= s;
    }
    Ok(())
}

fn checksum(key_id: &[u8; 8], secret: &[u8]) -> [u8; 32] {
    let mut h = Blake2b256::new();
    h.update(ALG_ED);
    h.update(key_id);
    h.update(secret);
    h.finalize().into()
}

/// BLAKE2b-512 of a reader (the prehash of `ED` signatures).
pub fn blake2b512(mut reader: impl Read) -> std::io::Result<[u8; 64]> {
    let mut h = Blake2b512::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(h.finalize().into())
}

/// Tolerates CRLF line ends, nothing else: a signature file has no
/// unsigned slack beyond its untrusted comment.
fn trim_line(line: &str) -> &str {
    line.strip_suffix('\r').unwrap_or(line)
}

fn decode_exact(b64: &str, len: usize) -> std::result::Result<Vec<u8>, String> {
    let bytes = B64
        .decode(b64.trim())
        .map_err(|e| format!("invalid base64: {e}"))?;
    if bytes.len() != len {
        return Err(format!("expected {len} bytes, found {}", bytes.len()));
    }
    Ok(bytes)
}

fn alg_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn libsodium_sensitive_limits_map_to_n20_r8_p1() {
        assert_eq!(scrypt_params(Kdf::default()), (20, 8, 1));
        // The interactive limits (524288, 16777216) give N=2^14.
        assert_eq!(
            scrypt_params(Kdf {
                opslimit: 524_288,
                memlimit: 16_777_216
            }),
            (14, 8, 1)
        );
    }

    #[test]
    fn key_round_trip_and_signature() {
        let sk = SecretKey::generate();
        let text = sk.to_file(None, Kdf::default()).unwrap();
        let back = SecretKeyFile::parse(&text, "k")
            .unwrap()
            .decrypt(None, "k")
            .unwrap();
        assert_eq!(back.public(), sk.public());
        let pk = PublicKey::parse(&sk.public().to_file(), "p").unwrap();
        let sig = sk.sign(&b"hello"[..], "u", "t").unwrap();
        let parsed = SignatureFile::parse(&sig.to_file(), "s").unwrap();
        assert_eq!(parsed, sig);
        assert_eq!(parsed.verify(&pk, &b"hello"[..]).unwrap(), Ok(()));
        assert_eq!(
            parsed.verify(&pk, &b"hellp"[..]).unwrap(),
            Err(VerifyError::BadSignature)
        );
        let mut altered = parsed.clone();
        altered.trusted_comment.push('x');
        assert_eq!(
            altered.verify(&pk, &b"hello"[..]).unwrap(),
            Err(VerifyError::BadTrustedComment)
        );
    }

    #[test]
    fn encrypted_key_with_cheap_kdf() {
        let sk = SecretKey::generate();
        let kdf = Kdf {
            opslimit: 524_288,
            memlimit: 16_777_216,
        };
        let text = sk.to_file(Some(b"pw"), kdf).unwrap();
        let file = SecretKeyFile::parse(&text, "k").unwrap();
        assert!(file.is_encrypted());
        assert_eq!(
            file.decrypt(Some(b"pw"), "k").unwrap().public(),
            sk.public()
        );
        let err = file.decrypt(Some(b"px"), "k").unwrap_err();
        assert!(err.to_string().contains("wrong passphrase"), "{err}");
    }

    /// Regression: ids whose top hex digit is 0 (one key in 16) were shown
    /// as 16 digits, `083563FC71652973`, where minisign shows
    /// `83563FC71652973` (printf's `%llX`): the same key under two names.
    #[test]
    fn key_id_is_shown_without_leading_zeros_as_minisign_does() {
        let id = KeyId([0x73, 0x29, 0x65, 0x71, 0xfc, 0x63, 0x35, 0x08]);
        assert_eq!(id.to_string(), "83563FC71652973");
        assert_eq!(KeyId([1, 0, 0, 0, 0, 0, 0, 0]).to_string(), "1");
    }

    #[test]
    fn key_id_is_shown_little_endian() {
        let id = KeyId([0xc7, 0x50, 0x2f, 0xb3, 0x61, 0xfe, 0x30, 0x6d]);
        assert_eq!(id.to_string(), "6D30FE61B32F50C7");
    }

    #[test]
    fn parses_a_minisign_public_key() {
        let text = "untrusted comment: minisign public key 6D30FE61B32F50C7\n\
                    RWTHUC+zYf4wbUVp399yGGmmRSchRPiPrf4Ia3QRyc15RQK3UN/ixvGE\n";
        let pk = PublicKey::parse(text, "a.pub").unwrap();
        assert_eq!(pk.key_id.to_string(), "6D30FE61B32F50C7");
        assert_eq!(
            PublicKey::parse(
                "RWTHUC+zYf4wbUVp399yGGmmRSchRPiPrf4Ia3QRyc15RQK3UN/ixvGE",
                "-P"
            )
            .unwrap(),
            pk
        );
        let err = PublicKey::parse("untrusted comment: x\nRWTH\n", "a.pub").unwrap_err();
        assert!(
            err.to_string().starts_with("a.pub:2: public key: "),
            "{err}"
        );
    }

    #[test]
    fn verifies_a_signature_made_by_minisign() {
        // Made with `minisign -S -s a.key -m m.txt` over "hello\n".
        let pk = PublicKey::from_base64("RWTHUC+zYf4wbUVp399yGGmmRSchRPiPrf4Ia3QRyc15RQK3UN/ixvGE")
            .unwrap();
        let sig = "untrusted comment: signature from minisign secret key\n\
            RUTHUC+zYf4wbSXS9sCj8bCh5Xq5fVbtY/1jv/d4R4rpqKRKcN9IdEZZD5pnLLk+eUxep9o3v3P3UK/L80fQYznPkDK6FjEcHg4=\n\
            trusted comment: timestamp:1795439613\tfile:m.txt\thashed\n\
            RgLb3Vq9tS9lxvqh3fabYp74H61VapO+zKdm/a3FP+p74Wfrhxsxc+4lOCWuFTwIjgCPfZpQJ9ShNgzrJ4RlCA==\n";
        let sig = SignatureFile::parse(sig, "m.txt.minisig").unwrap();
        assert!(sig.prehashed);
        assert_eq!(sig.verify(&pk, &b"hello\n"[..]).unwrap(), Ok(()));
        // Legacy (`-l`) signature over the same file.
        let legacy = "untrusted comment: signature from minisign secret key\n\
            RWTHUC+zYf4wbTVtvYLRgtmRKWANlV4CX588huzEXCn5zEqvD4sZyqexxEg7JbNLdqO7K4UbXkbBYxLmO25eHdbIqFybS1L8IgY=\n\
            trusted comment: timestamp:1795439634\tfile:m.txt\n\
            C/rIOhKOdYjn828kFuNkaeSdISJXQOhE3M/oHubOVMiHrx4O0Wv2J5iDFQU0Uy9iZGq1fQjGDZ8SrNVgSxvhBA==\n";
        let legacy = SignatureFile::parse(legacy, "l.sig").unwrap();
        assert!(!legacy.prehashed);
        assert_eq!(legacy.verify(&pk, &b"hello\n"[..]).unwrap(), Ok(()));
        // A legacy signature over a message larger than the limit is refused
        // before the message is held whole (the limit is 1 GiB in use).
        assert_eq!(
            legacy.verify_limited(&pk, &b"hello\n"[..], 6).unwrap(),
            Ok(())
        );
        let err = legacy.verify_limited(&pk, &b"hello\n"[..], 5).unwrap_err();
        assert_eq!(
            err.to_string(),
            "legacy (non-prehashed) signature over more than 5 bytes; \
             re-sign with a prehashed signature"
        );
        // Prehashed signatures stream, whatever the size.
        assert_eq!(sig.verify_limited(&pk, &b"hello\n"[..], 0).unwrap(), Ok(()));
    }

    #[test]
    fn hostile_kdf_limits_are_refused_not_allocated() {
        let mut text = SecretKey::generate()
            .to_file(
                Some(b"pw"),
                Kdf {
                    opslimit: 524_288,
                    memlimit: 16_777_216,
                },
            )
            .unwrap();
        let b64 = text.lines().nth(1).unwrap().to_string();
        let mut bytes = B64.decode(&b64).unwrap();
        bytes[38..46].copy_from_slice(&u64::MAX.to_le_bytes());
        bytes[46..54].copy_from_slice(&u64::MAX.to_le_bytes());
        text = text.replace(&b64, &B64.encode(&bytes));
        let err = SecretKeyFile::parse(&text, "k")
            .unwrap()
            .decrypt(Some(b"pw"), "k")
            .unwrap_err();
        assert!(err.to_string().contains("over this tool's limit"), "{err}");
    }
}
