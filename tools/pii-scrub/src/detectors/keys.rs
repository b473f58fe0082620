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

/// A name split into lowercased ASCII words (`_ - .`, blanks and camelCase
/// separate them), on the stack: the splitters run on every `name=` the
/// scanner meets.
struct Words {
    joined: [u8; 128],
    n: usize,
    bounds: [(usize, usize); 32],
    count: usize,
}

impl Words {
    fn split(name: &[u8]) -> Option<Words> {
        if name.is_empty() || name.len() > 128 {
            return None;
        }
        let mut w = Words {
            joined: [0u8; 128],
            n: 0,
            bounds: [(0, 0); 32],
            count: 0,
        };
        let mut word_start = 0;
        let mut prev_lower = false;
        for &b in name {
            if b.is_ascii_alphanumeric() {
                if b.is_ascii_uppercase() && prev_lower && w.n > word_start {
                    w.push(word_start);
                    word_start = w.n;
                }
                prev_lower = b.is_ascii_lowercase() || b.is_ascii_digit();
                w.joined[w.n] = b.to_ascii_lowercase();
                w.n += 1;
            } else {
                if w.n > word_start {
                    w.push(word_start);
                }
                word_start = w.n;
                prev_lower = false;
            }
        }
        if w.n > word_start {
            w.push(word_start);
        }
        (w.count > 0).then_some(w)
    }

    fn push(&mut self, start: usize) {
        if self.count < self.bounds.len() {
            self.bounds[self.count] = (start, self.n);
            self.count += 1;
        }
    }

    fn word(&self, i: usize) -> &str {
        let (a, b) = self.bounds[i];
        std::str::from_utf8(&self.joined[a..b]).unwrap_or("")
    }

    /// Words `i..=j` joined (`date`,`of`,`birth` -> `dateofbirth`).
    fn joined(&self, i: usize, j: usize) -> &[u8] {
        &self.joined[self.bounds[i].0..self.bounds[j].1]
    }

    /// The last word that is not a number or version (`password_2`, `token_v2`).
    fn last(&self) -> usize {
        let mut last = self.count - 1;
        while last > 0 && is_number_word(self.word(last)) {
            last -= 1;
        }
        last
    }
}

/// What a field's name says its value is: the key-name driven detectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `password`, `api_key`, `session_id`: type `secret`.
    Secret,
    /// `phone`, `phone_number`, `msisdn`: type `phone`, when the value is a number.
    Phone,
    /// `first_name`, `date_of_birth`, `passport_number`: type `identity`.
    Identity,
}

impl Field {
    /// True when `name` names a field of this kind.
    pub fn names(self, name: &[u8]) -> bool {
        match self {
            Field::Secret => is_secret_name(name),
            Field::Phone => is_phone_name(name),
            Field::Identity => is_identity_name(name),
        }
    }

    /// True when `value` (as written, quotes removed) can be this field's
    /// value: a phone field's holds 7-15 digits and nothing but phone
    /// punctuation; an identity field's is not empty, a placeholder or a
    /// word saying there is none. Secret values are judged by their shape
    /// where they are found.
    pub fn takes(self, value: &[u8]) -> bool {
        match self {
            Field::Secret => true,
            Field::Phone => super::validate::phone_value(value),
            Field::Identity => super::validate::identity_value(value),
        }
    }
}

/// True when `name` (bytes; need not be UTF-8) names a secret value.
/// Allocation-free: it runs on every `name=` the scanner meets.
pub fn is_secret_name(name: &[u8]) -> bool {
    let Some(w) = Words::split(name) else {
        return false;
    };
    let last = w.last();
    if last > 0 && (COUNTING_FIRST.contains(&w.word(0)) || DESCRIPTIVE_LAST.contains(&w.word(last)))
    {
        return false;
    }
    let has_compound = |x: &[u8]| match compounds() {
        Some(ac) => ac.is_match(x),
        None => COMPOUNDS
            .iter()
            .any(|c| memchr::memmem::find(x, c.as_bytes()).is_some()),
    };
    let secret = (0..=last).any(|i| WORDS.contains(&w.word(i))) || has_compound(&w.joined[..w.n]);
    if !secret {
        return false;
    }
    let tail = w.word(last);
    WORDS.contains(&tail) || HOLDERS.contains(&tail) || has_compound(tail.as_bytes())
}

/// Words that say a phone number is held (`phone`, `mobilePhone`, `msisdn`).
const PHONE_WORDS: &[&str] = &[
    "phone",
    "phones",
    "telephone",
    "tel",
    "mobile",
    "msisdn",
    "cellphone",
    "mobilephone",
    "phonenumber",
    "telephonenumber",
    "mobilenumber",
];

/// Last words after a phone or identity word that still name the value
/// itself (`phone_number`, `passport_no`, `national_id`).
const NUMBER_HOLDERS: &[&str] = &[
    "number", "numbers", "no", "num", "nr", "id", "value", "e164",
];

/// True when `name` names a phone number (`phone`, `phone_number`,
/// `home_phone`, `mobilePhone`, `msisdn`, `tel`): a phone word, and the last
/// word is one or a number holder. `phone_verified`, `phone_country`,
/// `libphonenumber8` are not. The value must still look like a number
/// ([`super::validate::phone_value`]).
pub fn is_phone_name(name: &[u8]) -> bool {
    let Some(w) = Words::split(name) else {
        return false;
    };
    let last = w.last();
    if last > 0 && COUNTING_FIRST.contains(&w.word(0)) {
        return false;
    }
    let tail = w.word(last);
    (0..=last).any(|i| PHONE_WORDS.contains(&w.word(i)))
        && (PHONE_WORDS.contains(&tail) || NUMBER_HOLDERS.contains(&tail))
}

/// Identity fields of a person, as names are spelled once their words are
/// joined: names, birth dates and places, identity document numbers.
const IDENTITY: &[&[u8]] = &[
    b"firstname",
    b"lastname",
    b"givenname",
    b"givennames",
    b"familyname",
    b"surname",
    b"fullname",
    b"middlename",
    b"maidenname",
    b"legalname",
    b"birthname",
    b"dateofbirth",
    b"birthdate",
    b"birthday",
    b"dob",
    b"placeofbirth",
    b"birthplace",
    b"passport",
    b"nationalid",
    b"nationalidentity",
    b"nationalidentifier",
    b"nationalinsurance",
    b"nino",
    b"idcard",
    b"identitycard",
    b"identitydocument",
    b"taxid",
    b"taxpayerid",
    b"taxidentification",
    b"driverslicense",
    b"driverlicense",
    b"driverslicence",
    b"driverlicence",
    b"drivinglicense",
    b"drivinglicence",
    b"socialsecurity",
];

/// True when `name` names an identity field of a person (`first_name`,
/// `lastName`, `date_of_birth`, `dob`, `passport_number`, `national_id`,
/// `tax_id`, `drivers_license`): consecutive words that spell one of
/// [`IDENTITY`] end the name, or are followed only by a number holder
/// (`passport_no`). `first_name_length`, `last_name_changed_at`,
/// `passport_expiry`, `name`, `username`, `hostname` are not.
pub fn is_identity_name(name: &[u8]) -> bool {
    let Some(w) = Words::split(name) else {
        return false;
    };
    let last = w.last();
    if last > 0 && COUNTING_FIRST.contains(&w.word(0)) {
        return false;
    }
    let ends_at = |j: usize| {
        (0..=j)
            .rev()
            .take(4)
            .any(|i| IDENTITY.contains(&w.joined(i, j)))
    };
    ends_at(last) || (last > 0 && NUMBER_HOLDERS.contains(&w.word(last)) && ends_at(last - 1))
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

    #[test]
    fn phone_and_identity_names() {
        use super::{is_identity_name as id, is_phone_name as ph};
        for yes in [
            "phone",
            "phone_number",
            "phoneNumber",
            "home_phone",
            "mobilePhone",
            "msisdn",
            "tel",
            "telephoneNumber",
            "mobile",
            "PHONE_NO",
        ] {
            assert!(ph(yes.as_bytes()), "{yes}");
        }
        for no in [
            "phone_verified",
            "phone_country",
            "libphonenumber8",
            "has_phone",
            "phone_count",
            "telemetry",
            "hotel",
        ] {
            assert!(!ph(no.as_bytes()), "{no}");
        }
        for yes in [
            "first_name",
            "firstName",
            "FIRSTNAME",
            "last_name",
            "surName",
            "surname",
            "full_name",
            "date_of_birth",
            "dob",
            "birth_date",
            "passport",
            "passport_number",
            "passport_no",
            "national_id",
            "tax_id",
            "drivers_license",
            "customer_last_name",
            "social_security_number",
        ] {
            assert!(id(yes.as_bytes()), "{yes}");
        }
        for no in [
            "name",
            "username",
            "hostname",
            "display_name",
            "first_name_length",
            "last_name_changed_at",
            "passport_expiry",
            "adobe",
            "has_passport",
            "birth",
        ] {
            assert!(!id(no.as_bytes()), "{no}");
        }
    }
}
