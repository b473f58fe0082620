//! Does a field name say "secret"? Used for JSON keys and `key=value` pairs.
//!
//! Names are split into words (`_ - .`, spaces and camelCase), so
//! `dbPassword`, `X-Api-Key` and `client_secret` are secret while
//! `max_tokens`, `token_type` and `password_policy` are not: a name is secret
//! when it holds a secret word, unless it starts with a counting word or ends
//! with a word that describes the secret rather than holding it.

/// Compounds found anywhere in the name once separators are removed.
const COMPOUNDS: &[&str] = &[
    "password", "passwd", "passphrase", "secret", "apikey", "accesskey", "privatekey",
    "secretkey", "credential", "cookie", "sessionid", "sessiontoken", "authtoken",
    "accesstoken", "refreshtoken", "idtoken", "bearer", "clientsecret", "signingkey",
    "encryptionkey", "masterkey",
];

/// Whole words that are secret on their own.
const WORDS: &[&str] = &[
    "pass", "pwd", "pw", "token", "auth", "authorization", "session", "sid", "jwt", "otp",
    "pin", "cvv", "cvc", "ssn", "signature", "sig", "xsrf", "csrf",
];

/// A last word that describes rather than holds the secret.
const DESCRIPTIVE_LAST: &[&str] = &[
    "count", "counts", "len", "length", "size", "type", "types", "kind", "ttl", "expiry",
    "expires", "expire", "expiration", "in", "at", "ms", "s", "sec", "secs", "seconds", "max",
    "min", "limit", "limits", "method", "methods", "mode", "provider", "enabled", "enable",
    "disabled", "required", "url", "uri", "endpoint", "scheme", "status", "state", "error",
    "errors", "version", "name", "hint", "policy", "reset", "changed", "updated", "valid",
    "rotation", "rotated", "format", "strength", "used", "usage", "file", "path", "field",
    "fields", "header", "id_type", "algorithm", "alg", "label", "prompt", "strategy", "timeout",
    "attempts", "retries", "level", "flow", "success", "failed", "failure", "ok", "result",
];

/// A first word that makes the name a number about secrets (`max_tokens`).
const COUNTING_FIRST: &[&str] = &["max", "min", "num", "total", "n", "count", "is", "has", "use", "no"];

/// True when `name` (bytes; need not be UTF-8) names a secret value.
pub fn is_secret_name(name: &[u8]) -> bool {
    if name.is_empty() || name.len() > 128 {
        return false;
    }
    let mut words: Vec<String> = Vec::with_capacity(4);
    let mut cur = String::new();
    let mut prev_lower = false;
    for &b in name {
        if b.is_ascii_alphanumeric() {
            if b.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = b.is_ascii_lowercase() || b.is_ascii_digit();
            cur.push(b.to_ascii_lowercase() as char);
        } else {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    let (Some(first), Some(last)) = (words.first(), words.last()) else { return false };
    if words.len() > 1 && (COUNTING_FIRST.contains(&first.as_str()) || DESCRIPTIVE_LAST.contains(&last.as_str())) {
        return false;
    }
    if words.iter().any(|w| WORDS.contains(&w.as_str())) {
        return true;
    }
    let joined: String = words.concat();
    COMPOUNDS.iter().any(|c| joined.contains(c))
}

/// Header-like names whose value runs to the end of the line (`Cookie: a=b; c=d`).
pub fn takes_rest_of_line(name: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(lower.as_slice(), b"cookie" | b"set-cookie")
}

/// Field names whose values are version strings, so IPv4-shaped values stay.
pub fn is_version_name(name: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    [&b"version"[..], b"ver", b"release", b"build", b"firmware", b"revision"]
        .iter()
        .any(|w| memchr::memmem::find(&lower, w).is_some())
        && !lower.ends_with(b"ip")
        && !lower.ends_with(b"addr")
}

#[cfg(test)]
mod tests {
    use super::is_secret_name as s;

    #[test]
    fn secret_names() {
        for yes in [
            "password", "db_password", "dbPassword", "X-Api-Key", "api_key", "apiKey", "client_secret",
            "token", "access_token", "Authorization", "cookie", "session_id", "passwd", "pwd",
            "AWS_SECRET_ACCESS_KEY", "refreshToken", "pin",
        ] {
            assert!(s(yes.as_bytes()), "{yes}");
        }
        for no in [
            "max_tokens", "token_type", "password_policy", "tokens", "authentication", "author",
            "keyboard", "user", "message", "expires_in", "token_count", "passenger", "compass",
            "bypass_cache", "session_count",
        ] {
            assert!(!s(no.as_bytes()), "{no}");
        }
    }
}
