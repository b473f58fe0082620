//! Key files on disk: generating a pair, loading a public key (a file or
//! minisign's bare base64 form), and loading a secret key only when its
//! file is private (0600 or stricter), decrypting it with a passphrase
//! read from a file or stdin.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::atomic::AtomicFile;
use common::{Error, Result};
use serde::Serialize;

use crate::minisign::{Kdf, PublicKey, SecretKey, SecretKeyFile};

/// Key files are a few hundred bytes; refuse to slurp anything large.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// Loads a public key from a file, or from its base64 text (`RW...`).
pub fn load_public(spec: &str) -> Result<PublicKey> {
    let path = Path::new(spec);
    // minisign's -P form: 56 base64 characters of "Ed" || id || key.
    if !path.exists() && spec.len() == 56 && spec.starts_with("RW") {
        return PublicKey::parse(spec, "--pub");
    }
    let text = read_small(path)?;
    PublicKey::parse(&text, spec)
}

/// Loads and decrypts a secret key, refusing files others can read.
pub fn load_secret(path: &Path, passphrase_file: Option<&Path>) -> Result<SecretKey> {
    let name = path.display().to_string();
    let meta = fs::metadata(path).map_err(|e| Error::io(&name, e))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::new(format!(
            "{name}: secret key is accessible by group or others (mode {mode:04o}); refusing to use it"
        ))
        .with_hint(format!("chmod 600 {name}")));
    }
    let text = read_small(path)?;
    let file = SecretKeyFile::parse(&text, &name)?;
    let pass = match passphrase_file {
        Some(p) if file.is_encrypted() => Some(read_passphrase(p)?),
        _ => None,
    };
    file.decrypt(pass.as_deref(), &name)
}

/// The first line of a passphrase file (`-` is stdin), without its newline.
pub fn read_passphrase(path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(MAX_KEY_FILE)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io("<stdin>", e))?;
    } else {
        bytes = read_small(path)?.into_bytes();
    }
    let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return Err(Error::new(format!("{}: empty passphrase", path.display())));
    }
    Ok(line.to_vec())
}

fn read_small(path: &Path) -> Result<String> {
    let name = path.display().to_string();
    let file = fs::File::open(path).map_err(|e| Error::io(&name, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(&name, e))?;
    if bytes.len() as u64 > MAX_KEY_FILE {
        return Err(Error::new(format!(
            "{name}: too large for a key or signature file"
        )));
    }
    String::from_utf8(bytes).map_err(|_| Error::new(format!("{name}: not UTF-8 text")))
}

/// What `keygen` reports.
#[derive(Debug, Serialize)]
pub struct KeygenRecord {
    pub kind: &'static str,
    pub key_id: String,
    pub public_key: String,
    pub secret_key: String,
    pub encrypted: bool,
    pub public_key_base64: String,
}

/// Writes a new key pair; never overwrites unless `force`. `None` when
/// interrupted (Ctrl-C, SIGTERM) before the files were written: then none is.
pub fn keygen(
    public_path: &Path,
    secret_path: &Path,
    passphrase: Option<&[u8]>,
    kdf: Kdf,
    force: bool,
) -> Result<Option<KeygenRecord>> {
    for p in [public_path, secret_path] {
        if !force && fs::symlink_metadata(p).is_ok() {
            return Err(Error::usage(format!(
                "{}: already exists; refusing to overwrite a key",
                p.display()
            ))
            .with_hint("pass --force to replace it"));
        }
    }
    let sk = SecretKey::generate();
    let secret_text = sk.to_file(passphrase, kdf)?;
    // scrypt takes seconds: a Ctrl-C during it must not still write a pair.
    if common::interrupt::requested() {
        return Ok(None);
    }
    let mut f = AtomicFile::create_with_mode(secret_path, 0o600)?;
    f.write_all(secret_text.as_bytes())
        .map_err(|e| Error::io(secret_path.display(), e))?;
    f.commit()?;
    let pk = sk.public();
    let mut f = AtomicFile::create_with_mode(public_path, 0o644)?;
    f.write_all(pk.to_file().as_bytes())
        .map_err(|e| Error::io(public_path.display(), e))?;
    f.commit()?;
    Ok(Some(KeygenRecord {
        kind: "key",
        key_id: pk.key_id.to_string(),
        public_key: public_path.display().to_string(),
        secret_key: secret_path.display().to_string(),
        encrypted: passphrase.is_some(),
        public_key_base64: pk.to_base64(),
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bare_base64_keys_may_contain_slashes() {
        let b64 = "RWTHUC+zYf4wbUVp399yGGmmRSchRPiPrf4Ia3QRyc15RQK3UN/ixvGE";
        assert_eq!(
            load_public(b64).unwrap().key_id.to_string(),
            "6D30FE61B32F50C7"
        );
        let err = load_public("no/such.pub").unwrap_err();
        assert_eq!(err.to_string(), "no/such.pub: No such file or directory");
    }
}
