//! Escapes that hide a value from byte patterns, undone for a second scan:
//! URL encoding (`john%40acme.com`), C-style hex escapes (nginx writes `"` in
//! a logged request body as `\x22` and non-ASCII bytes as `\xC3\xA9`) and
//! `\uXXXX` (JSON-escaped text inside a text line), and HTML/XML character
//! references (`&quot;`, `&#64;`, `&#x22;`, `&lt;`: a request body written
//! into an HTML-escaped log or an XML document). The decoded text keeps a
//! map from each of its bytes to where its escape starts in the raw bytes,
//! so a finding in it is scrubbed in the raw line.

use memchr::memchr3_iter;

fn hex(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

fn hex_n(hay: &[u8], at: usize, n: usize) -> Option<u32> {
    let digits = hay.get(at..at + n)?;
    digits.iter().try_fold(0u32, |v, &c| Some(v * 16 + hex(c)?))
}

/// What one escape stands for.
enum Decoded {
    Byte(u8),
    Char(char),
}

/// `&quot;`, `&#64;`, `&#x40;` at `i`: the character and the raw length.
fn entity_at(hay: &[u8], i: usize) -> Option<(Decoded, usize)> {
    let rest = hay.get(i + 1..hay.len().min(i + 12))?;
    let semi = rest.iter().position(|&b| b == b';')?;
    let name = &rest[..semi];
    let c = match name {
        b"quot" => '"',
        b"apos" => '\'',
        b"lt" => '<',
        b"gt" => '>',
        b"amp" => '&',
        _ => {
            let num = name.strip_prefix(b"#")?;
            let (digits, radix) = match num.first()? {
                b'x' | b'X' => (&num[1..], 16),
                _ => (num, 10),
            };
            if digits.is_empty() || digits.len() > 7 {
                return None;
            }
            let code = digits
                .iter()
                .try_fold(0u32, |v, &d| Some(v * radix + (d as char).to_digit(radix)?))?;
            // `&#0;` and the C0 controls are no text to find anything in.
            if code < 0x20 {
                return None;
            }
            char::from_u32(code)?
        }
    };
    Some((Decoded::Char(c), semi + 2))
}

/// The escape starting at `i` (a `%`, `&` or `\`): what it decodes to and
/// how many raw bytes it takes. `backslash`: also `\xXX` and `\uXXXX`.
fn escape_at(hay: &[u8], i: usize, backslash: bool) -> Option<(Decoded, usize)> {
    match hay[i] {
        b'%' => Some((Decoded::Byte(hex_n(hay, i + 1, 2)? as u8), 3)),
        b'&' => entity_at(hay, i),
        b'\\' if backslash => match hay.get(i + 1)? {
            b'x' => Some((Decoded::Byte(hex_n(hay, i + 2, 2)? as u8), 4)),
            b'u' => {
                let hi = hex_n(hay, i + 2, 4)?;
                if (0xD800..0xDC00).contains(&hi) && hay.get(i + 6..i + 8) == Some(b"\\u") {
                    if let Some(lo) = hex_n(hay, i + 8, 4).filter(|l| (0xDC00..0xE000).contains(l))
                    {
                        let code = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        let c = char::from_u32(code).unwrap_or('\u{FFFD}');
                        return Some((Decoded::Char(c), 12));
                    }
                }
                Some((Decoded::Char(char::from_u32(hi).unwrap_or('\u{FFFD}')), 6))
            }
            _ => None,
        },
        _ => None,
    }
}

/// Percent-encoded text is decoded at most this many times (`%252540` is
/// `@` encoded three times: a URL in a parameter of a URL in a parameter).
pub const MAX_LAYERS: usize = 3;

/// True when `hay` holds an escape [`decode`] would undo.
pub fn has_escape(hay: &[u8], backslash: bool) -> bool {
    if backslash {
        memchr3_iter(b'%', b'&', b'\\', hay).any(|i| escape_at(hay, i, true).is_some())
            || form_spaces(hay).next().is_some()
    } else {
        // One pass: this runs on every string value of a JSON line.
        memchr3_iter(b'%', b'&', b'+', hay).any(|i| match hay[i] {
            b'+' => form_space_at(hay, i),
            _ => escape_at(hay, i, false).is_some(),
        })
    }
}

/// True when `hay` holds `%XX` (what a further layer would decode).
pub fn has_percent(hay: &[u8]) -> bool {
    memchr::memchr_iter(b'%', hay).any(|i| hex_n(hay, i + 1, 2).is_some())
}

/// True when the `+` at `i` stands for a blank: between two digits in a
/// form or query value, after a `=` in the same word
/// (`cc=4111+1111+1111+1111`, `phone=%2B49+30+901820`, `iban=DE89+3704…`).
/// What form encoding can hide from the detectors are digit groups (cards,
/// phones, IBANs); a `+` elsewhere (`+49 30…`, `a+b@x.com`, `g++`, base64
/// in a token) is itself, and costs no decoded scan.
fn form_space_at(hay: &[u8], i: usize) -> bool {
    if i == 0 || !hay[i - 1].is_ascii_digit() || !hay.get(i + 1).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let lo = i.saturating_sub(256);
    hay[lo..i]
        .iter()
        .rev()
        .take_while(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'\''))
        .any(|&b| b == b'=')
}

/// The `+`s of `hay` that stand for a blank ([`form_space_at`]).
fn form_spaces(hay: &[u8]) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr_iter(b'+', hay).filter(move |&i| form_space_at(hay, i))
}

/// A `+` in a form value ([`form_space_at`]) is a blank, decoded before
/// the `%XX` escapes as a form decoder does (`%2B` is a `+`).
pub fn decode(hay: &[u8], backslash: bool, out: &mut Vec<u8>, map: &mut Vec<usize>) {
    out.clear();
    map.clear();
    let mut pluses = form_spaces(hay).peekable();
    let mut i = 0;
    while i < hay.len() {
        while pluses.next_if(|&p| p < i).is_some() {}
        if pluses.next_if_eq(&i).is_some() {
            out.push(b' ');
            map.push(i);
            i += 1;
            continue;
        }
        let esc = match hay[i] {
            b'%' | b'&' | b'\\' => escape_at(hay, i, backslash),
            _ => None,
        };
        match esc {
            Some((Decoded::Byte(b), n)) => {
                out.push(b);
                map.push(i);
                i += n;
            }
            Some((Decoded::Char(c), n)) => {
                let mut buf = [0u8; 4];
                for &b in c.encode_utf8(&mut buf).as_bytes() {
                    out.push(b);
                    map.push(i);
                }
                i += n;
            }
            None => {
                out.push(hay[i]);
                map.push(i);
                i += 1;
            }
        }
    }
    map.push(hay.len());
}

/// One more layer of `%XX` only (no `+`: a `+` left after the first layer
/// was written `%2B`), mapped back through `map` (the earlier layers' map
/// to the raw bytes) into `out_map`.
pub fn decode_percent(hay: &[u8], map: &[usize], out: &mut Vec<u8>, out_map: &mut Vec<usize>) {
    out.clear();
    out_map.clear();
    let mut i = 0;
    while i < hay.len() {
        match (hay[i] == b'%').then(|| hex_n(hay, i + 1, 2)).flatten() {
            Some(v) => {
                out.push(v as u8);
                out_map.push(map[i]);
                i += 3;
            }
            None => {
                out.push(hay[i]);
                out_map.push(map[i]);
                i += 1;
            }
        }
    }
    out_map.push(map[hay.len()]);
}

/// The raw span of decoded bytes `start..end` (whole escapes: an end inside
/// the bytes of one escape takes all of it).
pub fn raw_span(map: &[usize], start: usize, end: usize) -> (usize, usize) {
    let mut e = end;
    if e > start {
        while e + 1 < map.len() && map[e] == map[end - 1] {
            e += 1;
        }
    }
    (map[start], map[e])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str, backslash: bool) -> (String, Vec<usize>) {
        let (mut out, mut map) = (Vec::new(), Vec::new());
        decode(s.as_bytes(), backslash, &mut out, &mut map);
        (String::from_utf8(out).unwrap(), map)
    }

    #[test]
    fn decodes_percent_hex_and_unicode_escapes() {
        assert_eq!(dec(r"a%40b\x22c", true).0, "a@b\"c");
        assert_eq!(dec(r"a%40b\x22c", false).0, r"a@b\x22c");
        assert_eq!(
            dec(r"\u0022\u00e9\ud83d\ude00\n\x4", true).0,
            "\"é😀\\n\\x4"
        );
        assert_eq!(dec(r"jos\xC3\xA9", true).0, "josé");
        assert!(has_escape(br"x\x22", true) && !has_escape(br"x\x22", false));
        assert!(!has_escape(br"x\n\t\x2 %4", true));
        assert_eq!(
            dec("&quot;a&#64;b&#x40;c&lt;&gt;&amp;&apos;&#x2014;", false).0,
            "\"a@b@c<>&'—"
        );
        for kept in [
            "a & b",
            "&unknown;",
            "&#0;",
            "&#x;",
            "&#12345678;",
            "&amp",
            "&#xD800;",
        ] {
            assert_eq!(dec(kept, false).0, kept, "{kept}");
        }
    }

    #[test]
    fn form_pluses_and_further_percent_layers() {
        assert_eq!(
            dec("cc=4111+1111 +49+30 g++ a=%2B49+30", false).0,
            "cc=4111 1111 +49+30 g++ a=+49 30"
        );
        assert!(has_escape(b"cc=4111+1111", false) && !has_escape(b"+49+30 a+b@x.com", false));
        assert!(!has_escape(b"token=ab+cd/ef+", false) && !has_escape(b"x=1 2+3", false));
        let raw = b"u=%252Fa%2540b";
        let (mut one, mut map) = (Vec::new(), Vec::new());
        decode(raw, false, &mut one, &mut map);
        assert_eq!(one, b"u=%2Fa%40b");
        let (mut two, mut map2) = (Vec::new(), Vec::new());
        decode_percent(&one, &map, &mut two, &mut map2);
        assert_eq!(two, b"u=/a@b");
        // `@` came from the raw `%2540` at 8..13.
        assert_eq!(raw_span(&map2, 4, 5), (8, 13));
    }

    #[test]
    fn spans_map_back_to_whole_escapes() {
        let (text, map) = dec(r"a\u00e9b\x22", true);
        assert_eq!(text, "aéb\"");
        // `é` is two decoded bytes of one 6-byte escape.
        assert_eq!(raw_span(&map, 1, 3), (1, 7));
        assert_eq!(raw_span(&map, 1, 2), (1, 7));
        assert_eq!(raw_span(&map, 3, 4), (7, 8));
        assert_eq!(raw_span(&map, 4, 5), (8, 12));
    }
}
