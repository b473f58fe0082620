//! The built-in detectors: name, candidate regex (ASCII, bytes) and check.
//!
//! Order is priority: when two findings overlap, the earlier type names the
//! merged span (a JWT inside an `Authorization` header is an `auth_header`).
//! Keep in sync with the type list in `cli.rs`'s help text and the README.

use super::{Anchor, Check};

/// One built-in detector definition.
#[derive(Debug)]
pub struct Builtin {
    pub name: &'static str,
    pub regex: &'static str,
    pub check: Check,
    /// A cheaper regex for the combined scanning pass ("" = `regex`), and
    /// how to get from its match back to where `regex` starts. A candidate
    /// finds where a match may begin; it avoids wide counted repetitions,
    /// which multiply the combined DFA's states (issue 12: building states
    /// was most of the time on PII-dense logs).
    pub candidate: &'static str,
    pub anchor: Anchor,
    /// What it finds, for `--list-types` and the docs.
    pub about: &'static str,
}

/// A secret word inside a name, then `=` or `:` (`pairs.rs` judges the rest).
/// Bounded (`{0,64}`), not `*`: an unbounded tail kept the leftmost-first
/// search alive to the end of a line of name characters, so each later
/// candidate on it rescanned the rest (`password x 1.2.3.4 ` repeated was
/// quadratic). The bound costs the combined DFA a state per count, but only
/// after a secret word.
/// The scanning pass starts at the secret word, not at every letter that
/// might begin a name (which made the DFA several times slower). The second
/// branch also flags JSON keys with other characters (`"password hash":`),
/// and strings that may name a secret before `,`/`]`/`}` (HAR's
/// `{"name":"password","value":…}`, `["Authorization","Basic …"]`), so a
/// JSON line holding one is always walked.
/// The last branch is XML: `<password>`, `<wsse:Password Type=`, and
/// `key="Password" value=` or `key="db.password">` (a setting's name in an
/// attribute).
const KV_TRIGGER: &str = r#"(?i)(?:pass|pwd|pw|secret|token|key|auth|cookie|session|sid|credential|signature|sig|bearer|jwt|otp|pin|cvv|cvc|ssn|xsrf|csrf)(?:[a-z0-9_.\-]{0,64}\\?["']?\]?[ \t]*[:=]|[a-z0-9_.\- ]{0,64}"[ \t]*[:,\]}]|[a-z0-9_.\-]{0,64}(?:>|[ \t]+[a-z_:\-]{1,64}=|["'](?:>|[ \t]+value[ \t]*=)))"#;

/// The same tail as [`KV_TRIGGER`]'s, after a word of a phone-named key.
/// `\btel`: `tel` inside `hotel`, `intel` would only cost candidates.
const PHONE_KEY_TRIGGER: &str = r#"(?i)(?:phone|mobile|msisdn|\btel)(?:[a-z0-9_.\-]{0,64}\\?["']?\]?[ \t]*[:=]|[a-z0-9_.\- ]{0,64}"[ \t]*[:,\]}]|[a-z0-9_.\-]{0,64}>)"#;

/// The same tail after a word that starts an identity field's name
/// (`first_name`, `date_of_birth`, `passport_no`, `national_id`; see
/// [`super::keys::is_identity_name`]).
const IDENTITY_KEY_TRIGGER: &str = r#"(?i)(?:(?:first|last|given|family|sur|full|middle|maiden|legal|birth)[_.\- ]?name|birth|dob|date[_.\- ]?of[_.\- ]?birth|place[_.\- ]?of[_.\- ]?birth|passport|national|nino|tax[_.\-]?(?:payer[_.\-]?)?id|driv(?:er|ing)|social[_.\-]?security|id[_.\-]?card|identity)(?:[a-z0-9_.\-]{0,64}\\?["']?\]?[ \t]*[:=]|[a-z0-9_.\- ]{0,64}"[ \t]*[:,\]}]|[a-z0-9_.\-]{0,64}>)"#;

pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "private_key",
        regex: r"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----",
        check: Check::PrivateKey,
        candidate: r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY",
        anchor: Anchor::Start,
        about: "PEM private key blocks, multi-line or on one line with literal \\n",
    },
    Builtin {
        name: "auth_header",
        // One-word credentials (`Bearer`, `NTLM`, ...), else any scheme
        // (Digest's parameters, `AWS4-HMAC-SHA256 Credential=…`): the rest
        // of the line, searched in a 4 KiB window (detectors::mod.rs; a
        // counted repetition here made the lazy DFA rebuild its states).
        regex: r#"(?i:\b(?:proxy-)?authorization\\?["']?[ \t]*[:=][ \t]*\\?["']?(?:(?:bearer|basic|token|negotiate|apikey|ntlm)[ \t]+([A-Za-z0-9._~+/=\-]{4,})|[a-z][a-z0-9\-]*[ \t]+([^\r\n]*[^\s])))|\bBearer[ \t]+([A-Za-z0-9._~+/\-]{16,}=*)"#,
        check: Check::FirstGroup,
        candidate: r#"(?i:authorization)\\?["']?[ \t]*[:=]|Bearer[ \t]"#,
        anchor: Anchor::Start,
        about: "the credential of an Authorization or Proxy-Authorization header (Bearer, Basic, NTLM, Negotiate, Digest's parameters, any scheme)",
    },
    Builtin {
        name: "url_credentials",
        // `scheme://user:`; the validator finds the password's end (the last `@`).
        regex: r#"\b[A-Za-z][A-Za-z0-9+.\-]{1,20}://[^\s:/?#@"'<>\\]*:"#,
        check: Check::UrlCredentials,
        candidate: r#"://[^\s:/?#@"'<>\\]*:"#,
        anchor: Anchor::SchemeLeft,
        about: "user:password in a URL (scheme://user:pass@host)",
    },
    Builtin {
        name: "jwt",
        regex: r"\beyJ[A-Za-z0-9_\-]{6,}\.[A-Za-z0-9_\-]{6,}\.[A-Za-z0-9_\-]*",
        check: Check::Jwt,
        candidate: r"eyJ",
        anchor: Anchor::Start,
        about: "JSON Web Tokens whose header decodes to a JSON object",
    },
    Builtin {
        name: "aws_access_key",
        regex: r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16}\b",
        check: Check::None,
        candidate: r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]",
        anchor: Anchor::Start,
        about: "AWS access key ids (AKIA..., ASIA...)",
    },
    Builtin {
        name: "aws_secret_key",
        regex: r#"(?i:aws[a-z0-9_.\-]{0,20}secret[a-z0-9_.\-]{0,20})\\?["']?[ \t]*[:=][ \t]*\\?["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        check: Check::FirstGroup,
        candidate: r"(?i:aws[_.\-]?secret)",
        anchor: Anchor::Start,
        about: "AWS secret access keys next to an aws...secret name",
    },
    Builtin {
        name: "github_token",
        regex: r"\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255})\b",
        check: Check::None,
        candidate: r"gh[pousr]_|github_pat_",
        anchor: Anchor::Start,
        about: "GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_)",
    },
    Builtin {
        name: "gitlab_token",
        regex: r"\bgl(?:pat|dt|rt|ptt|cbt|imt|ft|oas|soat|agent)-[A-Za-z0-9_\-]{20,64}",
        check: Check::None,
        candidate: r"gl(?:pat|dt|rt|ptt|cbt|imt|ft|oas|soat|agent)-",
        anchor: Anchor::Start,
        about: "GitLab tokens (glpat-, gldt-, glrt-, ...)",
    },
    Builtin {
        name: "slack_token",
        regex: r"\bxox[abposrce]-[A-Za-z0-9\-]{10,250}|https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_\-]{20,}",
        check: Check::None,
        candidate: r"xox[abposrce]-|https://hooks\.slack\.com/",
        anchor: Anchor::Start,
        about: "Slack tokens (xoxb-, xoxp-, ...) and webhook URLs",
    },
    Builtin {
        name: "stripe_key",
        regex: r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,247}\b|\bwhsec_[A-Za-z0-9]{20,}\b",
        check: Check::None,
        candidate: r"(?:sk|rk|pk)_(?:live|test)_|whsec_",
        anchor: Anchor::Start,
        about: "Stripe keys (sk_live_, rk_live_, pk_..., whsec_)",
    },
    Builtin {
        name: "secret",
        regex: KV_TRIGGER,
        check: Check::SecretValue,
        candidate: "",
        anchor: Anchor::Start,
        about: "values whose name says secret (password, token, api_key, cookie, ...): key=value pairs, JSON keys and name/value entries, YAML keys (values on the next lines too), XML elements and key=/value= attributes, PHP array subscripts; command-line options (--password X, --from-literal=password=X) and known clients (mysql -pX, sshpass -p X, redis-cli -a X, curl -u user:X, docker/podman login -p X)",
    },
    Builtin {
        // The same type: `--password X` (a secret-named option, its own argument).
        name: "secret",
        regex: r"--[A-Za-z0-9_\-]*(?i:pass|pwd|secret|token|key|auth|credential|bearer)[A-Za-z0-9_\-]*[ \t]+[^\s\-]",
        check: Check::SecretOption,
        candidate: "",
        anchor: Anchor::Start,
        about: "",
    },
    Builtin {
        // The same type: `mysql -pX`, `sshpass -p X`, `redis-cli -a X`,
        // `curl -u user:X`, `docker login -p X`.
        name: "secret",
        regex: r"(?:mysql|mariadb|sshpass|redis-cli|valkey-cli|curl|docker|podman|buildah|skopeo|nerdctl)[a-z_\-]*[ \t]",
        check: Check::ToolPassword,
        candidate: "",
        anchor: Anchor::Start,
        about: "",
    },
    Builtin {
        name: "identity",
        regex: IDENTITY_KEY_TRIGGER,
        check: Check::IdentityField,
        candidate: "",
        anchor: Anchor::Start,
        about: "values of fields whose name says they identify a person: first_name, last_name, full_name, surname, date_of_birth, dob, passport(_number), national_id, tax_id, drivers_license, ... (JSON keys and key=value / key: value pairs)",
    },
    Builtin {
        name: "email",
        // Bytes 0x80-0xFF: UTF-8 local parts and IDN domains (`josé@correo.es`,
        // `john@exämple.com`, `user@пример.рф`); the validator checks they
        // are letters or digits. A non-ASCII TLD has no `\b` (non-ASCII bytes
        // are not word bytes here): the validator trims what is not a letter.
        // RFC 5322 local parts: `o'brien@`, `x!y#z@` (the scan takes those
        // characters only between letters or digits), `"john doe"@`.
        regex: r#"(?:"[^"\\\r\n]{1,64}"|[A-Za-z0-9\x80-\xFF][A-Za-z0-9._%+\-'!#$*^~\x80-\xFF]{0,63})@[A-Za-z0-9\x80-\xFF](?:[A-Za-z0-9\-\x80-\xFF]{0,62}[A-Za-z0-9\x80-\xFF])?(?:\.[A-Za-z0-9\x80-\xFF](?:[A-Za-z0-9\-\x80-\xFF]{0,62}[A-Za-z0-9\x80-\xFF])?)*\.(?:[A-Za-z]{2,24}\b|[A-Za-z]*[\x80-\xFF][A-Za-z\x80-\xFF]*)"#,
        check: Check::Email,
        candidate: r"@[A-Za-z0-9\x80-\xFF][A-Za-z0-9.\-\x80-\xFF]*\.[A-Za-z\x80-\xFF]{2}",
        anchor: Anchor::LocalLeft,
        about: "email addresses",
    },
    Builtin {
        name: "iban",
        regex: r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?",
        check: Check::Iban,
        candidate: r"\b[A-Z]{2}[0-9]{2} ?[A-Z0-9]{4} ?[A-Z0-9]{4}",
        anchor: Anchor::Start,
        about: "IBANs (country length and mod-97 checked)",
    },
    Builtin {
        name: "card",
        // Every issuer prefix starts with 2-6, so epoch times (1...) never become candidates.
        regex: r"\b[2-6](?:[0-9]{12,18}|[0-9]{3}(?:[ \-][0-9]{4}){2,3}(?:[ \-][0-9]{1,4})?|[0-9]{3}[ \-][0-9]{6}[ \-][0-9]{4,5})\b",
        check: Check::Card,
        // The pattern itself: as cheap for the combined DFA as a shorter
        // candidate, and its match is the span (no second search for the
        // many order numbers that fail Luhn).
        candidate: "",
        anchor: Anchor::Start,
        about: "payment card numbers, 13-19 digits (Luhn and known prefixes checked)",
    },
    Builtin {
        name: "ssn",
        regex: r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b",
        check: Check::Ssn,
        candidate: "",
        anchor: Anchor::Start,
        about: "US social security numbers (invalid areas and groups excluded)",
    },
    Builtin {
        name: "phone",
        // `(0)20`: a trunk prefix in parentheses glued to the area code (`+44 (0)20 7946 0958`).
        regex: r"\+[1-9][0-9]{6,14}\b|\+[1-9][0-9]{0,3}(?:[ .\-]?\([0-9]{1,4}\)[0-9]{0,8}|[ .\-][0-9]{1,8}){2,6}\b|\([2-9][0-9]{2}\)[ .\-]?[2-9][0-9]{2}[ .\-][0-9]{4}\b|\b(?:1[ .\-])?[2-9][0-9]{2}[ .\-][2-9][0-9]{2}[ .\-][0-9]{4}\b",
        check: Check::Phone,
        candidate: r"\+[1-9][0-9 .\-()]{6}|\([2-9][0-9]{2}\)[ .\-]?[2-9]|\b(?:1[ .\-])?[2-9][0-9]{2}[ .\-][2-9][0-9]{2}[ .\-][0-9]{4}",
        anchor: Anchor::Start,
        about: "phone numbers: E.164 (+...) and North American formats; 7-15 digits under a phone-named key (phone, phone_number, mobile, msisdn, tel)",
    },
    Builtin {
        // The same type: a number under a phone-named key (`"phone":"4155552671"`).
        name: "phone",
        regex: PHONE_KEY_TRIGGER,
        check: Check::PhoneField,
        candidate: "",
        anchor: Anchor::Start,
        about: "",
    },
    Builtin {
        name: "ipv6",
        regex: r"(?i)(?:(?:[0-9a-f]{1,4}:){1,6}|::)(?:[0-9a-f]{1,4}:){0,5}(?:[0-9]{1,3}\.){3}[0-9]{1,3}|(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}:){1,7}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?(?:%[0-9a-z]{1,15})?|::[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6}(?:%[0-9a-z]{1,15})?",
        check: Check::Ipv6,
        candidate: r"::|:[0-9a-fA-F]{1,4}:[0-9a-fA-F]{1,4}:",
        anchor: Anchor::HexLeft,
        about: "IPv6 addresses in every compressed form",
    },
    Builtin {
        name: "ipv4",
        regex: r"\b[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\b",
        check: Check::Ipv4,
        candidate: "",
        anchor: Anchor::Start,
        about: "IPv4 addresses (valid octets; version strings excluded)",
    },
];
