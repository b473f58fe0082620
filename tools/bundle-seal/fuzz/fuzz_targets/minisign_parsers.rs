//! Fuzzes the minisign key and signature parsers: any bytes must give a
//! value or an error, never a panic; what parses must re-encode to text
//! that parses to the same value.
#![no_main]

use bundle_seal::minisign::{PublicKey, SecretKeyFile, SignatureFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(pk) = PublicKey::parse(text, "fuzz.pub") {
        let again = PublicKey::parse(&pk.to_file(), "re.pub").expect("re-encoded key parses");
        assert_eq!(again, pk);
    }
    if let Ok(sk) = SecretKeyFile::parse(text, "fuzz.key") {
        // Only unencrypted keys: an encrypted one would run scrypt with
        // fuzzer-chosen cost (bounded, but far too slow to fuzz).
        if !sk.is_encrypted() {
            let _ = sk.decrypt(None, "fuzz.key");
        }
    }
    if let Ok(sig) = SignatureFile::parse(text, "fuzz.minisig") {
        let again = SignatureFile::parse(&sig.to_file(), "re.minisig")
            .expect("re-encoded signature parses");
        assert_eq!(again, sig);
        let key =
            PublicKey::from_base64("RWTHUC+zYf4wbUVp399yGGmmRSchRPiPrf4Ia3QRyc15RQK3UN/ixvGE")
                .expect("fixed key");
        let _ = sig.verify(&key, &b"hello\n"[..]);
    }
});
