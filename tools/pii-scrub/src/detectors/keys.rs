//! Does a field name say "secret"? Used for JSON keys and `key=value` pairs.
//!
//! Names are split into words (`_ - .`, spaces and camelCase), so
//! `dbPassword`, `X-Api-Key` and `client_secret` are secret while
//! `max_tokens`, `token_type` and `password_policy` are not: a name is secret
//! when it holds a secret word, unless it starts with a counting word or ends
//! with a word that describes the secret rather than holding it.

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
    if words > 1
        && (COUNTING_FIRST.contains(&word(0)) || DESCRIPTIVE_LAST.contains(&word(words - 1)))
    {
        return false;
    }
    if (0..words).any(|i| WORDS.contains(&word(i))) {
        return true;
    }
    let all = &joined[..n];
    match compounds() {
        Some(ac) => ac.is_match(all),
        None => COMPOUNDS
            .iter()
            .any(|c| memchr::memmem::find(all, c.as_bytes()).is_some()),
    }
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
        ] {
            assert!(!s(no.as_bytes()), "{no}");
        }
    }
}
