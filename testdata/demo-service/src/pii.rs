//! Fake personal data for the access log (`--fake-pii`), so pii-scrub has
//! realistic logs to work on. Every value is fake by construction: reserved
//! example domains, 555 and Ofcom drama phone numbers, documentation IP
//! ranges, and card numbers that pass the Luhn check but use a test prefix.
//! Deterministic: the same seed and request number give the same values.

use serde_json::{json, Map, Value};

const FIRST: [&str; 8] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
];
const LAST: [&str; 8] = [
    "smith", "jones", "garcia", "muller", "rossi", "kim", "silva", "novak",
];
const DOMAINS: [&str; 3] = ["example.com", "example.org", "example.net"];

/// splitmix64: a tiny, well-mixed generator; good enough for fake data and
/// for choosing which requests fail, and the same on every platform.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = mix(self.0);
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// The Luhn check digit for `digits` (most significant first).
pub fn luhn_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// True if the digits in `text` (spaces and dashes ignored) pass Luhn.
#[cfg(test)]
pub fn luhn_valid(text: &str) -> bool {
    let digits: Vec<u8> = text
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    match digits.split_last() {
        Some((&last, body)) if !body.is_empty() => luhn_check_digit(body) == last,
        _ => false,
    }
}

fn card(rng: &mut Rng) -> String {
    // 4000 00.. is a well-known test range; 16 digits, Luhn-valid.
    let mut digits = vec![4, 0, 0, 0];
    while digits.len() < 15 {
        digits.push(rng.below(10) as u8);
    }
    digits.push(luhn_check_digit(&digits));
    let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    if rng.below(2) == 0 {
        text
    } else {
        format!(
            "{} {} {} {}",
            &text[0..4],
            &text[4..8],
            &text[8..12],
            &text[12..16]
        )
    }
}

fn alnum(rng: &mut Rng, n: usize) -> String {
    const SET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..n)
        .map(|_| char::from(SET[rng.below(SET.len() as u64) as usize]))
        .collect()
}

fn token(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => format!("sk_live_{}", alnum(rng, 24)),
        1 => format!("ghp_{}", alnum(rng, 36)),
        _ => format!(
            "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI{}In0.{}",
            alnum(rng, 12),
            alnum(rng, 43)
        ),
    }
}

fn phone(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => format!("+1-555-01{:02}-{:04}", rng.below(100), rng.below(10_000)),
        1 => format!("(555) 01{}-{:04}", rng.below(10), rng.below(10_000)),
        _ => format!("+44 20 7946 0{:03}", rng.below(1000)),
    }
}

fn ip(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("192.0.2.{}", 1 + rng.below(254)),
        1 => format!("198.51.100.{}", 1 + rng.below(254)),
        2 => format!("203.0.113.{}", 1 + rng.below(254)),
        _ => format!("2001:db8::{:x}", 1 + rng.below(0xfffe)),
    }
}

/// Fake PII fields for request number `n`, to merge into its log record.
pub fn fields(seed: u64, n: u64) -> Map<String, Value> {
    let mut rng = Rng(mix(seed ^ mix(n)));
    let first = rng.pick(&FIRST);
    let last = rng.pick(&LAST);
    let email = format!("{first}.{last}{}@{}", rng.below(100), rng.pick(&DOMAINS));
    let phone = phone(&mut rng);
    let ip = ip(&mut rng);
    let card = card(&mut rng);
    let token = token(&mut rng);
    let note = format!("customer {first} {last} <{email}> called from {phone} about card {card}");
    let mut m = Map::new();
    m.insert("user_email".into(), json!(email));
    m.insert("user_phone".into(), json!(phone));
    m.insert("client_ip".into(), json!(ip));
    m.insert("card_number".into(), json!(card));
    m.insert("auth_token".into(), json!(token));
    m.insert("note".into(), json!(note));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn() {
        assert!(luhn_valid("4111 1111 1111 1111"));
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("4111 1111 1111 1112"));
        assert!(!luhn_valid("7"));
    }

    #[test]
    fn fields_are_fake_deterministic_and_luhn_valid() {
        for n in 0..500 {
            let f = fields(7, n);
            assert_eq!(f, fields(7, n));
            let card = f["card_number"].as_str().unwrap();
            assert!(luhn_valid(card), "{card}");
            assert!(card.starts_with("4000"));
            let email = f["user_email"].as_str().unwrap();
            assert!(DOMAINS.iter().any(|d| email.ends_with(d)), "{email}");
            assert!(f["note"].as_str().unwrap().contains(email));
        }
        assert_ne!(fields(7, 1), fields(8, 1));
    }
}
