//! Does a field name say "secret"? Used for JSON keys and `key=value` pairs.
//!
//! Names are split into words (`_ - .`, spaces and camelCase), so
//! `dbPassword`, `X-Api-Key` and `client_secret` are secret while
//! `max_tokens`, `token_type` and `password_policy` are not: a name is secret
//! when it holds a secret word and its last word holds the secret too (a
//! secret word, or `id`, `key`, `hash`, ...), unless it starts with a counting
//! word. So `dbus-user-session` is, but `Password.java`, `pass-through` and
//! `gcloud-auth-plugin` are not: there the secret word is not what the name
//! is about.

/// Compounds found anywhere in the name once separators are removed.
const COMPOUNDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "apikey",
    "accesskey",
    "privatekey",
    "secretkey",
    "credential",
    "cookie",
    "sessionid",
    "sessiontoken",
    "authtoken",
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "bearer",
    "clientsecret",
    "signingkey",
    "encryptionkey",
    "masterkey",
    "sessid",
];

/// One automaton for all compounds (a memmem per compound was measurable).
/// Building from fixed ASCII words cannot fail; `None` would fall back to memmem.
fn compounds() -> Option<&'static aho_corasick::AhoCorasick> {
    static AC: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>> = std::sync::OnceLock::new();
    AC.get_or_init(|| aho_corasick::AhoCorasick::new(COMPOUNDS).ok())
        .as_ref()
}

/// Whole words that are secret on their own.
const WORDS: &[&str] = &[
    "pass",
    "pwd",
    "pw",
    "token",
    "auth",
    "authorization",
    "session",
    "sid",
    "jwt",
    "otp",
    "pin",
    "cvv",
    "cvc",
    "ssn",
    "signature",
    "sig",
    "xsrf",
    "csrf",
];

/// A last word that describes rather than holds the secret.
const DESCRIPTIVE_LAST: &[&str] = &[
    "count",
    "counts",
    "len",
    "length",
    "size",
    "type",
    "types",
    "kind",
    "ttl",
    "expiry",
    "expires",
    "expire",
    "expiration",
    "in",
    "at",
    "ms",
    "s",
    "sec",
    "secs",
    "seconds",
    "max",
    "min",
    "limit",
    "limits",
    "method",
    "methods",
    "mode",
    "provider",
    "enabled",
    "enable",
    "disabled",
    "required",
    "url",
    "uri",
    "endpoint",
    "scheme",
    "status",
    "state",
    "error",
    "errors",
    "version",
    "name",
    "hint",
    "policy",
    "reset",
    "changed",
    "updated",
    "valid",
    "rotation",
    "rotated",
    "format",
    "strength",
    "used",
    "usage",
    "file",
    "path",
    "field",
    "fields",
    "header",
    "id_type",
    "algorithm",
    "alg",
    "label",
    "prompt",
    "strategy",
    "timeout",
    "attempts",
    "retries",
    "level",
    "flow",
    "success",
    "failed",
    "failure",
    "ok",
    "result",
];

/// Last words that name the secret itself (`session_id`, `api_key`,
/// `password_hash`, `secret_key_base`), besides the secret words.
const HOLDERS: &[&str] = &[
    "id",
    "ids",
    "key",
    "keys",
    "value",
    "val",
    "hash",
    "digest",
    "code",
    "phrase",
    "data",
    "str",
    "string",
    "text",
    "b64",
    "base64",
    "hex",
    "enc",
    "encrypted",
    "raw",
    "plain",
    "plaintext",
    "base",
    "pem",
    "der",
    "bytes",
    "new",
    "old",
    "current",
    "confirm",
    "confirmation",
    "salt",
    "nonce",
    "cred",
    "creds",
];

/// A first word that makes the name a number about secrets (`max_tokens`).
const COUNTING_FIRST: &[&str] = &[
    "max", "min", "num", "total", "n", "count", "is", "has", "use", "no",
];

/// True when `name` (bytes; need not be UTF-8) names a secret value.
/// Allocation-free: it runs on every `name=` the scanner meets.
pub fn is_secret_name(name: &[u8]) -> bool {
    if name.is_empty() || name.len() > 128 {
        return false;
    }
    // Lowercased letters and digits only, with word boundaries.
    let mut joined = [0u8; 128];
    let mut n = 0;
    let mut bounds = [(0usize, 0usize); 32];
    let mut words = 0;
    let mut word_start = 0;
    let mut prev_lower = false;
    for &b in name {
        if b.is_ascii_alphanumeric() {
            if b.is_ascii_uppercase() && prev_lower && n > word_start {
                if words < bounds.len() {
                    bounds[words] = (word_start, n);
                    words += 1;
                }
                word_start = n;
            }
            prev_lower = b.is_ascii_lowercase() || b.is_ascii_digit();
            joined[n] = b.to_ascii_lowercase();
            n += 1;
        } else {
            if n > word_start && words < bounds.len() {
                bounds[words] = (word_start, n);
                words += 1;
            }
            word_start = n;
            prev_lower = false;
        }
    }
    if n > word_start && words < bounds.len() {
        bounds[words] = (word_start, n);
        words += 1;
    }
    if words == 0 {
        return false;
    }
    let word = |i: usize| -> &str {
        let (a, b) = bounds[i];
        std::str::from_utf8(&joined[a..b]).unwrap_or("")
    };
    // Trailing numbers and versions (`password_2`, `token_v2`) say nothing.
    let mut last = words - 1;
    while last > 0 && is_number_word(word(last)) {
        last -= 1;
    }
    if last > 0 && (COUNTING_FIRST.contains(&word(0)) || DESCRIPTIVE_LAST.contains(&word(last))) {
        return false;
    }
    let has_compound = |w: &[u8]| match compounds() {
        Some(ac) => ac.is_match(w),
        None => COMPOUNDS
            .iter()
            .any(|c| memchr::memmem::find(w, c.as_bytes()).is_some()),
    };
    let secret = (0..=last).any(|i| WORDS.contains(&word(i))) || has_compound(&joined[..n]);
    if !secret {
        return false;
    }
    let tail = word(last);
    WORDS.contains(&tail) || HOLDERS.contains(&tail) || has_compound(tail.as_bytes())
}

/// `2`, `v2`, `01`: a counter or version, not a word.
fn is_number_word(w: &str) -> bool {
    let digits = w.strip_prefix('v').unwrap_or(w);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Header-like names whose value runs to the end of the line (`Cookie: a=b; c=d`).
pub fn takes_rest_of_line(name: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(lower.as_slice(), b"cookie" | b"set-cookie")
}

/// Field names whose values are version strings, so IPv4-shaped values stay.
/// Allocation-free: it runs on every JSON key.
pub fn is_version_name(name: &[u8]) -> bool {
    const WORDS: [&[u8]; 6] = [
        b"version",
        b"ver",
        b"release",
        b"build",
        b"firmware",
        b"revision",
    ];
    let has = |w: &[u8]| name.windows(w.len()).any(|x| x.eq_ignore_ascii_case(w));
    let ends =
        |w: &[u8]| name.len() >= w.len() && name[name.len() - w.len()..].eq_ignore_ascii_case(w);
    WORDS.iter().any(|w| has(w)) && !ends(b"ip") && !ends(b"addr")
}

#[cfg(test)]
mod tests {
    use super::is_secret_name as s;

    #[test]
    fn secret_names() {
        for yes in [
            "password",
            "db_password",
            "dbPassword",
            "X-Api-Key",
            "api_key",
            "apiKey",
            "client_secret",
            "token",
            "access_token",
            "Authorization",
            "cookie",
            "session_id",
            "passwd",
            "pwd",
            "AWS_SECRET_ACCESS_KEY",
            "refreshToken",
            "pin",
            "dbus-user-session",
            "session_id",
            "secret_key_base",
            "password_2",
            "api_keys",
            "PHPSESSID",
            "jsessionid",
            "DB_PASS",
            "password_hash",
        ] {
            assert!(s(yes.as_bytes()), "{yes}");
        }
        for no in [
            "max_tokens",
            "token_type",
            "password_policy",
            "tokens",
            "authentication",
            "author",
            "keyboard",
            "user",
            "message",
            "expires_in",
            "token_count",
            "passenger",
            "compass",
            "bypass_cache",
            "session_count",
            "Password.java",
            "pass-through",
            "gcloud-auth-plugin",
            "diagnostic-token-ranges.c",
            "proc_ptr_comp_pass_4.f90",
            "auth_user",
            "secret_arn",
        ] {
            assert!(!s(no.as_bytes()), "{no}");
        }
    }
}
