//! Key-value pairs in text: `password=x`, `api_key: x`, `"token":"x"` (also
//! cut short: `{"password":"AEk…` at the end of a truncated record).
//!
//! The scanning pass stops at a secret word followed by `=` or `:`; this
//! module decides whether that is a key-value pair and where its value is.
//! Precision comes from the shape, not from the word alone (issue 12: on a
//! machine's package and test logs every finding was false):
//! - the key is a token of its own: it starts after a space or a delimiter,
//!   not inside a path or a value (`src/Password.java:`, `opt=-pass-through=`),
//!   and its name is about the secret (see [`super::keys`]);
//! - an unquoted key takes `:` only with a space after it (`key: value`, as in
//!   headers and YAML); `pkg:amd64`, `file.c:12` and `host:port` are not pairs;
//! - `PASS:` in capitals is a test-suite status word (DejaGnu, automake, go);
//! - a bare value looks like a value: at least 3 bytes, not ending in `:`
//!   (`session=first:` is the label of a sentence), not a status word
//!   (`ok`, `required`), not a package version after a package name
//!   (`dbus-user-session=1.14.10-1`).
//!
//! Quoted values run to their closing quote, honouring `\"`, or to the end
//! of the haystack when it was cut off; `{...}` and `[...]` values of a
//! secret key are taken whole (as the JSON walker does).

use std::ops::Range;

use super::keys::Field;
use super::validate;

/// A secret key's pair: where the key's name is and what to scrub.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    pub key: Range<usize>,
    pub value: Range<usize>,
    /// A YAML `key:` whose value is on the lines after it, past the end of
    /// the haystack (a text line): the key's column. `value` is empty.
    pub open: Option<usize>,
}

fn is_name(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// Bytes that may stand right before a key: the key is a token of its own.
fn is_key_boundary(b: u8) -> bool {
    !is_name(b) && !matches!(b, b'/' | b'@' | b'=' | b'%' | b'$' | b'+' | b'~')
}

fn is_quote(b: u8) -> bool {
    b == b'"' || b == b'\''
}

/// How the key was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quoting {
    Bare,
    /// `"key"` or `'key'`.
    Quoted,
    /// `\"key\"`: JSON-escaped text inside a string.
    Escaped,
}

/// Finds the key around the secret word at `word` (where the scanning pass
/// matched). Returns the key's span, its quoting, and where it ends
/// (after any closing quote).
fn key_at(hay: &[u8], word: usize) -> Option<(Range<usize>, Quoting, usize)> {
    let lo = word.saturating_sub(40);
    let mut start = word;
    while start > lo && is_name(hay[start - 1]) {
        start -= 1;
    }
    // `\npassword=` in escaped text: the `n` belongs to the escape, which
    // ends the previous line.
    let after_escape = start >= 1
        && start < word
        && hay[start - 1] == b'\\'
        && matches!(hay[start], b'n' | b'r' | b't');
    if after_escape {
        start += 1;
    }
    let mut end = word;
    while end < hay.len() && end - word < 48 && is_name(hay[end]) {
        end += 1;
    }
    let before = start.checked_sub(1).map(|i| hay[i]);
    let after = hay.get(end).copied();
    // Quoted: the same quote on both sides (escaped or not).
    if let (Some(q), Some(a)) = (before, after) {
        if is_quote(q) && a == q {
            let escaped = start >= 2 && hay[start - 2] == b'\\';
            return Some((
                start..end,
                if escaped {
                    Quoting::Escaped
                } else {
                    Quoting::Quoted
                },
                end + 1,
            ));
        }
        if q == b'"' && a == b'\\' && hay.get(end + 1) == Some(&b'"') {
            return Some((start..end, Quoting::Escaped, end + 2));
        }
    }
    // A quoted JSON key with other characters in it (`"password hash":`).
    if after.is_some_and(|a| a == b' ') || before.is_some_and(|b| b == b' ') {
        if let Some(k) = wide_quoted_key(hay, word) {
            return Some(k);
        }
    }
    // kubectl's `--from-literal=password=…` (a secret's key and value in
    // one option): `=` is otherwise no boundary (`opt=-pass-through=`).
    let from_literal = hay[..start].ends_with(b"--from-literal=");
    match before {
        None => {}
        Some(b) if after_escape || from_literal || is_key_boundary(b) => {}
        Some(_) => return None,
    }
    Some((start..end, Quoting::Bare, end))
}

/// `"…word…":` with spaces or other characters inside the quotes.
fn wide_quoted_key(hay: &[u8], word: usize) -> Option<(Range<usize>, Quoting, usize)> {
    let lo = word.saturating_sub(40);
    let open = hay[lo..word].iter().rposition(|&b| b == b'"')? + lo;
    let hi = (word + 48).min(hay.len());
    let close = hay[word..hi].iter().position(|&b| b == b'"')? + word;
    let inside = &hay[open + 1..close];
    if inside.iter().any(|&b| b == b'\\' || b == b'\n') {
        return None;
    }
    let after = close + 1;
    let ws = hay[after..]
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    (hay.get(after + ws) == Some(&b':')).then_some((open + 1..close, Quoting::Quoted, after))
}

/// `PASS:` (also glued to earlier output: `fooPASS:`, `active.PASS:`,
/// `verify_PASS:`): a test result, not a key. `DB_PASS:` and `DBPASS:`,
/// names in capitals, are keys.
fn is_status_key(key: &[u8]) -> bool {
    let Some(head) = key.strip_suffix(b"PASS") else {
        return false;
    };
    !head.iter().any(u8::is_ascii_uppercase)
}

/// Secret words that are also ordinary English (`during GIMPLE pass: ccp`,
/// `expected signature: 'int f()'`): alone as a `key:` they must start a
/// field, not follow a word of a sentence.
fn is_weak_word(key: &[u8]) -> bool {
    const WEAK: &[&[u8]] = &[
        b"pass",
        b"session",
        b"signature",
        b"sig",
        b"token",
        b"auth",
        b"pin",
        b"cookie",
        b"sid",
    ];
    WEAK.iter().any(|w| key.eq_ignore_ascii_case(w))
}

/// True when the text before `start` (blanks skipped) ends a word: the key
/// continues a sentence.
fn follows_a_word(hay: &[u8], start: usize) -> bool {
    let mut p = start;
    while p > 0 && matches!(hay[p - 1], b' ' | b'\t') {
        p -= 1;
    }
    p < start && p > 0 && hay[p - 1].is_ascii_alphanumeric()
}

/// Values that report a state rather than hold a secret.
fn is_status_value(v: &[u8]) -> bool {
    const WORDS: &[&[u8]] = &[
        b"ok",
        b"yes",
        b"no",
        b"on",
        b"off",
        b"set",
        b"unset",
        b"empty",
        b"required",
        b"optional",
        b"invalid",
        b"incorrect",
        b"missing",
        b"expired",
        b"changed",
        b"enabled",
        b"disabled",
        b"accepted",
        b"rejected",
        b"denied",
        b"failed",
        b"success",
        b"successful",
        b"valid",
        b"unknown",
        b"present",
        b"absent",
        b"provided",
        b"supplied",
    ];
    WORDS.iter().any(|w| v.eq_ignore_ascii_case(w))
}

/// `1.14.10-1~deb12u1`, `528.0.0-0`, `1:2.3-4`: a package version.
fn is_package_version(v: &[u8]) -> bool {
    v.first().is_some_and(u8::is_ascii_digit)
        && v.contains(&b'.')
        && v.iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'~' | b':'))
}

/// `dbus-user-session`, `python3-jwt`: lowercase words joined by `-`.
fn is_package_name(k: &[u8]) -> bool {
    k.contains(&b'-')
        && k.iter().all(|&b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'+')
        })
}

/// The end of a quoted value starting after its opening quote at `from`:
/// the closing quote (escapes honoured), or the end of the haystack.
fn quoted_end(hay: &[u8], from: usize, q: u8) -> usize {
    let mut i = from;
    while i < hay.len() {
        match hay[i] {
            b'\\' => i += 2,
            c if c == q => return i,
            _ => i += 1,
        }
    }
    hay.len()
}

/// `\"…\"`: a JSON-escaped string inside a string.
fn escaped_end(hay: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < hay.len() {
        if hay[i] == b'\\' {
            if hay.get(i + 1) == Some(&b'"') {
                return i;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    hay.len()
}

/// A `{...}` or `[...]` value: to its matching bracket (strings skipped), or
/// the end of the haystack when it was cut off.
fn bracket_end(hay: &[u8], from: usize) -> usize {
    let mut depth = 0usize;
    let mut i = from;
    while i < hay.len() {
        match hay[i] {
            b'"' => i = quoted_end(hay, i + 1, b'"'),
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    hay.len()
}

/// The end of an unquoted value: the next blank or delimiter; a blank
/// escaped with `\` (`PASSWORD=a\ b\ c`) is part of the value.
fn bare_end(hay: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(&b) = hay.get(i) {
        if b == b'\\' && hay.get(i + 1).is_some_and(|n| matches!(n, b' ' | b'\t')) {
            i += 2;
            continue;
        }
        if b.is_ascii_whitespace()
            || matches!(
                b,
                b',' | b';' | b'&' | b'"' | b'\'' | b'<' | b'>' | b']' | b'}' | b')'
            )
        {
            break;
        }
        i += 1;
    }
    i
}

/// The end of a plain-text `key: value`'s value that starts with a word
/// ending at `from`: the end of the line, or a quote or markup that closes
/// what the pair sits in (`msg="password: two words" user=x`,
/// `<td>password: a b</td>`), or an escape (`\n` in escaped text). An
/// apostrophe between letters (`don't`) is text. Trailing blanks and
/// closing punctuation (`,;)]}`) are left out. At most [`LINE_VALUE_MAX`]
/// bytes are taken (cut at a blank).
fn line_end(hay: &[u8], from: usize) -> usize {
    let mut i = from;
    let limit = hay.len().min(from + LINE_VALUE_MAX);
    while let Some(&b) = hay.get(i).filter(|_| i < limit) {
        let apostrophe = b == b'\''
            && i > 0
            && hay[i - 1].is_ascii_alphabetic()
            && hay.get(i + 1).is_some_and(u8::is_ascii_alphabetic);
        if matches!(b, b'\n' | b'\r' | b'"' | b'\\' | b'<' | b'`') || b == b'\'' && !apostrophe {
            break;
        }
        i += 1;
    }
    if i == limit && limit < hay.len() {
        // Cut at the last blank within the bound, not inside a word.
        if let Some(j) = memchr::memrchr2(b' ', b'\t', &hay[from..i]) {
            i = from + j;
        }
    }
    while i > from && matches!(hay[i - 1], b' ' | b'\t' | b',' | b';' | b')' | b']' | b'}') {
        i -= 1;
    }
    i
}

/// How far a value that runs to the end of a line is followed: every
/// candidate on a line then costs at most this much (a line of 200,000
/// pairs stays linear); what lies beyond is scanned as usual.
pub const LINE_VALUE_MAX: usize = 4096;

/// `Authorization`, `Proxy-Authorization`: a header whose value is a scheme
/// and a credential.
fn is_authorization(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"authorization") || name.eq_ignore_ascii_case(b"proxy-authorization")
}

/// `key="…"` or `name="…"` before the quote at `quote`: the quoted text
/// names the setting (`<add key="Password" value="…"/>`).
fn names_a_setting(hay: &[u8], quote: usize) -> bool {
    let before = hay[..quote].trim_ascii_end();
    let Some(before) = before.strip_suffix(b"=") else {
        return false;
    };
    let before = before.trim_ascii_end();
    [&b"key"[..], b"name"].iter().any(|w| {
        before.len() > w.len()
            && before[before.len() - w.len()..].eq_ignore_ascii_case(w)
            && matches!(before[before.len() - w.len() - 1], b' ' | b'\t')
    })
}

/// The text of an element from `from` (after its start tag's `>`) to its
/// end tag `</name>` on this line, nested markup and all. Without an end tag
/// it is not an element: `AUTH <username> <password>` is a usage line
/// (redis.conf), not XML. Blank text is no value.
fn element_text(hay: &[u8], from: usize, name: &[u8]) -> Option<Range<usize>> {
    let rest = &hay[from..];
    let is_close = |j: usize| {
        rest[j + 1..].starts_with(b"/")
            && rest[j + 2..].starts_with(name)
            && rest.get(j + 2 + name.len()) == Some(&b'>')
    };
    // Plain text ends at the first `<`, the usual case. Nested markup is
    // searched for its end tag within 4 KiB only: an unbounded search from
    // each of many start tags on one line was quadratic (3 MB of
    // `<password>a</x>` took 295 s).
    let first = memchr::memchr(b'<', rest)?;
    let close = if is_close(first) {
        first
    } else {
        let window = &rest[..rest.len().min(first + 4096)];
        // The whole end tag at once (not each `</` or each mention of the
        // name: start tags repeat it), built on the stack.
        let mut tag = [0u8; 80];
        let n = name.len();
        if n + 3 > tag.len() {
            return None;
        }
        tag[..2].copy_from_slice(b"</");
        tag[2..2 + n].copy_from_slice(name);
        tag[2 + n] = b'>';
        memchr::memmem::find(window, &tag[..n + 3])?
    };
    let text = &rest[..close];
    let lead = text.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let trail = text[lead..]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    (lead + trail < text.len()).then(|| from + lead..from + close - trail)
}

/// `\n`, `\r`, `\x0A`, `\x0D`, `\u000A`, `\u000D` at the start of `t`.
fn is_escaped_newline(t: &[u8]) -> bool {
    let lower = |i: usize| t.get(i).map(u8::to_ascii_lowercase);
    match t.get(1) {
        Some(b'n' | b'r') => true,
        Some(b'x') => t.get(2) == Some(&b'0') && matches!(lower(3), Some(b'a' | b'd')),
        Some(b'u') => t.get(2..5) == Some(b"000") && matches!(lower(5), Some(b'a' | b'd')),
        _ => false,
    }
}

/// XML elements named like secrets that hold public values: XML-DSig's
/// `<SignatureValue>` and D-Bus's `<auth>EXTERNAL</auth>` (a mechanism).
fn is_public_element(name: &[u8]) -> bool {
    let starts = |w: &[u8]| name.len() >= w.len() && name[..w.len()].eq_ignore_ascii_case(w);
    starts(b"signature") || name.eq_ignore_ascii_case(b"sig") || name.eq_ignore_ascii_case(b"auth")
}

/// Where the start tag whose name ends with the key at `start` opens:
/// `<password`, `<wsse:Password`.
fn tag_open(hay: &[u8], start: usize) -> Option<usize> {
    match start.checked_sub(1).map(|i| hay[i])? {
        b'<' => Some(start - 1),
        b':' => {
            let p = start - 1;
            let n = hay[..p]
                .iter()
                .rev()
                .take(64)
                .take_while(|&&b| is_name(b))
                .count();
            (n > 0 && p > n && hay[p - n - 1] == b'<').then(|| p - n - 1)
        }
        _ => None,
    }
}

/// XML: the text of `<password>…</password>` (`<wsse:Password Type="…">` too); the value attribute after
/// `key="Password"` or `name='ApiKey'` (.NET `<add key=… value=…/>`); the
/// text of `<entry key="db.password">…</entry>` (Java properties).
/// `after`: just past the key (and its closing quote).
fn xml_value(
    hay: &[u8],
    key: &Range<usize>,
    quoting: Quoting,
    after: usize,
) -> Option<Range<usize>> {
    let next = *hay.get(after)?;
    match quoting {
        Quoting::Bare if matches!(next, b'>' | b' ' | b'\t') => {
            if is_public_element(&hay[key.clone()]) {
                return None;
            }
            let lt = tag_open(hay, key.start)?;
            // The start tag's end, past any attributes (`Type="…#PasswordText"`).
            let gt = after
                + hay[after..]
                    .iter()
                    .position(|&b| matches!(b, b'>' | b'<' | b'\n'))
                    .filter(|&j| hay[after + j] == b'>')?;
            if hay[gt - 1] == b'/' {
                return None; // `<password/>`
            }
            element_text(hay, gt + 1, &hay[lt + 1..key.end])
        }
        Quoting::Quoted if names_a_setting(hay, key.start - 1) => {
            if next == b'>' {
                // The start tag is near (bounded: this runs per candidate).
                let lo = key.start.saturating_sub(256);
                let open = lo + memchr::memrchr(b'<', &hay[lo..key.start])?;
                let tag = &hay[open + 1..];
                let n = tag.iter().take_while(|&&b| is_name(b) || b == b':').count();
                if tag[..n].eq_ignore_ascii_case(b"input") {
                    return None; // an HTML form field: what follows is its label
                }
                return element_text(hay, after + 1, &tag[..n]);
            }
            let rest = &hay[after..];
            let ws = rest
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
            let rest = &rest[ws..];
            if ws == 0 || rest.len() < 5 || !rest[..5].eq_ignore_ascii_case(b"value") {
                return None;
            }
            let mut j = after + ws + 5;
            while hay.get(j).is_some_and(|b| matches!(b, b' ' | b'\t')) {
                j += 1;
            }
            if hay.get(j) != Some(&b'=') {
                return None;
            }
            j += 1;
            while hay.get(j).is_some_and(|b| matches!(b, b' ' | b'\t')) {
                j += 1;
            }
            let q = *hay.get(j).filter(|q| is_quote(**q))?;
            let end = quoted_end(hay, j + 1, q);
            let v = j + 1..end;
            (!v.is_empty() && !validate::is_placeholder(&hay[v.clone()])).then_some(v)
        }
        _ => None,
    }
}

/// The column of a key that starts its line (after indentation and `- `
/// list markers): a YAML mapping key.
fn yaml_key_column(hay: &[u8], key: &Range<usize>, quoting: Quoting) -> Option<usize> {
    let start = match quoting {
        Quoting::Bare => key.start,
        Quoting::Quoted => key.start - 1,
        Quoting::Escaped => return None,
    };
    // Leftwards over the indentation only (not to the line's start: that
    // is quadratic over a long line of pairs).
    let indent = hay[..start]
        .iter()
        .rev()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'-'))
        .count();
    let line = start - indent;
    (line == 0 || hay[line - 1] == b'\n').then_some(indent)
}

/// After `key:`, nothing but a comment, or a block scalar header (`|`,
/// `>-`, `|2+`): the value is on the lines that follow.
fn value_on_next_lines(rest: &[u8]) -> bool {
    let mut r = rest.trim_ascii();
    if let Some(x) = r.strip_prefix(b"|").or_else(|| r.strip_prefix(b">")) {
        let n = x
            .iter()
            .take(2)
            .take_while(|b| matches!(b, b'-' | b'+' | b'0'..=b'9'))
            .count();
        r = x[n..].trim_ascii_start();
    }
    r.is_empty() || r.starts_with(b"#")
}

/// A YAML secret key whose value starts on the next line (`password:`
/// then `  hunter2`, or a `|`/`>-` block scalar): the lines after it that
/// are indented deeper than the key (blank lines in between). When the
/// haystack ends at the key's line (a text line), the pair is `open`: the
/// caller takes the next lines.
fn yaml_next_lines(hay: &[u8], key: &Range<usize>, quoting: Quoting, v: usize) -> Option<Pair> {
    // Cheap tests first: this runs at every `key:` of a line.
    match hay.get(v) {
        None | Some(b'\n' | b'\r' | b'#' | b'|' | b'>') => {}
        Some(_) => return None,
    }
    let col = yaml_key_column(hay, key, quoting)?;
    let eol = memchr::memchr(b'\n', &hay[v..]).map_or(hay.len(), |i| v + i);
    if !value_on_next_lines(&hay[v..eol]) {
        return None;
    }
    if eol == hay.len() {
        // Empty at the separator: the rest of the line (a comment) is
        // still scanned by the other detectors.
        return Some(Pair {
            key: key.clone(),
            value: v..v,
            open: Some(col),
        });
    }
    let mut value: Option<Range<usize>> = None;
    let mut p = eol + 1;
    while p < hay.len() {
        let end = memchr::memchr(b'\n', &hay[p..]).map_or(hay.len(), |i| p + i);
        let line = &hay[p..end];
        if let Some(content) = continuation(line, col) {
            let r = p + content.start..p + content.end;
            value = Some(value.map_or(r.clone(), |v| v.start..r.end));
        } else if !line.trim_ascii().is_empty() {
            break;
        }
        p = end + 1;
    }
    let value = value?;
    if validate::is_placeholder(&hay[value.clone()]) {
        return None;
    }
    Some(Pair {
        key: key.clone(),
        value,
        open: None,
    })
}

/// The content of a line indented deeper than `col` (trailing blanks and
/// `\r` left out), if it is one.
pub fn continuation(line: &[u8], col: usize) -> Option<Range<usize>> {
    let indent = line
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    let end = line.len()
        - line
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
    (indent > col && end > indent).then_some(indent..end)
}

/// The pair whose key holds the word at `word` (where the scanning pass
/// matched) and is named like `field`, if the text there is one; the value
/// must be one `field` takes (a phone field's is a number).
pub fn named_pair(hay: &[u8], word: usize, field: Field) -> Option<Pair> {
    let pair = pair_at(hay, word, field)?;
    if field == Field::Secret || pair.open.is_some() || field.takes(&hay[pair.value.clone()]) {
        Some(pair)
    } else {
        None
    }
}

/// A phone field's unquoted value: digits and phone punctuation, single
/// blanks between groups (`+49 30 901820`), trailing punctuation left out.
fn phone_run(hay: &[u8], from: usize) -> usize {
    let mut end = from;
    let mut i = from;
    while i < hay.len() {
        let b = hay[i];
        if b.is_ascii_digit() || b == b')' {
            end = i + 1;
        } else if !(matches!(b, b'+' | b'-' | b'.' | b'/' | b'(')
            || b == b' '
                && hay
                    .get(i + 1)
                    .is_some_and(|n| n.is_ascii_digit() || *n == b'('))
        {
            break;
        }
        i += 1;
    }
    end
}

fn pair_at(hay: &[u8], word: usize, field: Field) -> Option<Pair> {
    let (key, quoting, mut i) = key_at(hay, word)?;
    let name = &hay[key.clone()];
    if !field.names(name) {
        return None;
    }
    if let Some(value) = xml_value(hay, &key, quoting, i) {
        // Already scrubbed (`<password>[REDACTED:secret]</password>`) is
        // not found again; nested markup (`<b>…`) is a value.
        let v = &hay[value.clone()];
        if !v.starts_with(b"<") && validate::is_placeholder(v) {
            return None;
        }
        return Some(Pair {
            key,
            value,
            open: None,
        });
    }
    // A PHP array subscript: `$config['db_password'] = …`, print_r's
    // `[api_key] => …`, var_export's `["password"]=>"…"`.
    let open_at = match quoting {
        Quoting::Bare => key.start.checked_sub(1),
        _ => key.start.checked_sub(2),
    };
    if hay.get(i) == Some(&b']') && open_at.is_some_and(|o| hay[o] == b'[') {
        i += 1;
    }
    // Separator: optional blanks, `=`, `=>` or `:`, optional blanks.
    while i < hay.len() && matches!(hay[i], b' ' | b'\t') {
        i += 1;
    }
    let sep = *hay.get(i)?;
    if sep != b'=' && sep != b':' {
        return None;
    }
    i += 1;
    if sep == b'=' && hay.get(i) == Some(&b'>') {
        i += 1;
    } else if sep == b'=' && hay.get(i) == Some(&b'=') {
        return None; // `==`: a comparison
    }
    let blanks = hay[i..]
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    let v = i + blanks;
    let bare_key = quoting == Quoting::Bare;
    if bare_key
        && sep == b':'
        && (is_status_key(name) || is_weak_word(name) && follows_a_word(hay, key.start))
    {
        return None;
    }
    if sep == b':' {
        if let Some(pair) = yaml_next_lines(hay, &key, quoting, v) {
            return Some(pair);
        }
    }
    let first = *hay.get(v)?;
    if bare_key && sep == b':' {
        // `pkg:amd64`, `file.c:12`, `host:6379`: a colon without a blank is
        // not a key-value separator unless the value is quoted.
        if blanks == 0 && !is_quote(first) && first != b'\\' {
            return None;
        }
    }
    if first == b'\\' && is_escaped_newline(&hay[v..]) {
        // `password:\x0A    x`: the value is on the next line, which the
        // decoded scan sees; the escape itself is not a value.
        return None;
    }
    let value = if first == b'\\' && hay.get(v + 1) == Some(&b'"') {
        v + 2..escaped_end(hay, v + 2)
    } else if is_quote(first) || first == b'`' {
        // Backticks: a command substitution (`secret=`cat /x y``) is whole.
        v + 1..quoted_end(hay, v + 1, first)
    } else if (first == b'{' || first == b'[') && field == Field::Secret {
        v..bracket_end(hay, v)
    } else if field != Field::Secret && (first == b'{' || first == b'[') {
        // An object under `phone`/`passport` is judged field by field (JSON).
        return None;
    } else if field == Field::Phone {
        v..phone_run(hay, v)
    } else {
        let end = bare_end(hay, v);
        let text = &hay[v..end];
        if bare_key {
            if text.len() < 3 || text.ends_with(b":") || is_status_value(text) {
                return None;
            }
            if is_package_name(name) && is_package_version(text) {
                return None;
            }
        }
        // `surname= first_name=x`: an empty value, then the next pair.
        let next_pair = blanks > 0
            && text.len() > 1
            && text.ends_with(b"=")
            && text[..text.len() - 1].iter().all(|&b| is_name(b));
        // A plain-text `key: value` (YAML, headers, log fields): the value
        // is the rest of the line (`password: correct horse battery staple`).
        // Already scrubbed is judged on the first word, before the line is
        // searched: a rejection after that search would make a long line of
        // such pairs quadratic.
        let line_value = bare_key
            && sep == b':'
            && blanks > 0
            && !next_pair
            && !validate::is_placeholder(text)
            && field.takes(text);
        let vend = if line_value { line_end(hay, end) } else { end };
        if field != Field::Secret {
            return (vend > v && !next_pair).then_some(Pair {
                key,
                value: v..vend,
                open: None,
            });
        }
        // `Cookie: a=b; c=d` runs to the end of the line.
        if super::keys::takes_rest_of_line(name) && text.contains(&b'=') {
            let end = memchr::memchr(b'\n', &hay[v..]).map_or(hay.len(), |j| v + j);
            return Some(Pair {
                key,
                value: v..end,
                open: None,
            });
        }
        // `authorization=Bearer xyz`: the credential is the next word.
        if validate::is_auth_scheme(text) {
            let ws = hay[end..]
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
            let w = end + ws;
            let word_end = w + hay[w..]
                .iter()
                .take_while(|b| {
                    !b.is_ascii_whitespace() && !matches!(b, b'"' | b'\'' | b',' | b';')
                })
                .count();
            if ws == 0 || word_end == w || validate::is_placeholder(&hay[w..word_end]) {
                return None;
            }
            return Some(Pair {
                key,
                value: w..word_end,
                open: None,
            });
        }
        // `Authorization: Digest username="…", response="…"`, and any
        // scheme not known above (`AWS4-HMAC-SHA256 Credential=…`): the
        // scheme stays, what follows it to the end of the line is the
        // credential (trial 2 item 23: the scheme was scrubbed, the rest kept).
        let scheme_end = v + text.len().min(
            text.iter()
                .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-'))
                .unwrap_or(text.len()),
        );
        if sep == b':'
            && is_authorization(name)
            && scheme_end > v
            && hay[v].is_ascii_alphabetic()
            && hay
                .get(scheme_end)
                .is_some_and(|b| matches!(b, b' ' | b'\t'))
        {
            let w = scheme_end
                + hay[scheme_end..]
                    .iter()
                    .take_while(|b| matches!(b, b' ' | b'\t'))
                    .count();
            let lim = hay.len().min(w + LINE_VALUE_MAX);
            let eol = w + memchr::memchr2(b'\n', b'\r', &hay[w..lim]).unwrap_or(lim - w);
            let end = w + hay[w..eol].trim_ascii_end().len();
            if end == w || validate::is_placeholder(&hay[w..end]) {
                return None;
            }
            return Some(Pair {
                key,
                value: w..end,
                open: None,
            });
        }
        if line_value {
            return Some(Pair {
                key,
                value: v..vend,
                open: None,
            });
        }
        v..vend
    };
    if value.is_empty() || validate::is_placeholder(&hay[value.clone()]) {
        return None;
    }
    Some(Pair {
        key,
        value,
        open: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(s: &str) -> Option<&str> {
        // Where the scanning pass would stop: the first secret word.
        let lower = s.to_ascii_lowercase();
        let word = [
            "pass",
            "session",
            "key",
            "token",
            "secret",
            "cookie",
            "auth",
            "credential",
            "pin",
        ]
        .iter()
        .filter_map(|w| lower.find(w))
        .min()?;
        named_pair(s.as_bytes(), word, Field::Secret).map(|p| &s[p.value])
    }

    #[test]
    fn shapes_that_are_pairs() {
        assert_eq!(value("password=hunter22 x"), Some("hunter22"));
        assert_eq!(value("password: hunter22"), Some("hunter22"));
        assert_eq!(value("password:\"hunter22\""), Some("hunter22"));
        assert_eq!(value("{\"password\":\"AEkf^g3@j"), Some("AEkf^g3@j"));
        assert_eq!(value("{\"password\": \"a\\\"b\", \"n\":1"), Some("a\\\"b"));
        assert_eq!(value("msg=\\\"api_key=\\\"abc123\\\"\\\""), Some("abc123"));
        assert_eq!(value("{\"password hash\": \"x1\"}"), Some("x1"));
        assert_eq!(
            value("\"credentials\":{\"u\":\"b\",\"p\":[1]},\"x\":1"),
            Some("{\"u\":\"b\",\"p\":[1]}")
        );
        assert_eq!(value("\"pin\":1234,"), Some("1234"));
        assert_eq!(value("Cookie: a=b; c=d"), Some("a=b; c=d"));
        assert_eq!(value("authorization=Bearer abc.def"), Some("abc.def"));
        assert_eq!(value(":password => \"xyz1\""), Some("xyz1"));
        assert_eq!(value("DB_PASS: hunter22"), Some("hunter22"));
        assert_eq!(value("login failed, password: hunter22"), Some("hunter22"));
        assert_eq!(value("x=1, session: 0a1b2c3d"), Some("0a1b2c3d"));
        assert_eq!(value("Cookie: a=b; c=d"), Some("a=b; c=d"));
        assert_eq!(value("\\npassword=abc123"), Some("abc123"));
        assert_eq!(value("<password>hunter22</password>"), Some("hunter22"));
        assert_eq!(
            value("<wsse:Password Type=\"x#PasswordText\"> pw1 </wsse:Password>"),
            Some("pw1")
        );
        assert_eq!(
            value("<p><password><b>x</b></password></p>"),
            Some("<b>x</b>")
        );
        assert_eq!(value("<add name=\"Password\" value='x1'/>"), Some("x1"));
        assert_eq!(value("<entry name=\"db.password\">x2</entry>"), Some("x2"));
        // YAML values on the next lines (inside one haystack: a JSON string).
        assert_eq!(
            value("db:\n  password:\n    hunter2\n  host: x"),
            Some("hunter2")
        );
        assert_eq!(
            value("- token: |-\r\n    a\r\n\r\n    b\r\nx: 1"),
            Some("a\r\n\r\n    b")
        );
    }

    #[test]
    fn yaml_keys_open_at_the_end_of_a_line() {
        let open = |s: &str| {
            let word = s.to_ascii_lowercase().find("pass").unwrap();
            named_pair(s.as_bytes(), word, Field::Secret).and_then(|p| p.open)
        };
        assert_eq!(open("password:"), Some(0));
        assert_eq!(open("  - password: >-  # folded"), Some(4));
        assert_eq!(open("  \"password\":\r"), Some(2));
        assert_eq!(open("Enter password:"), None);
        assert_eq!(open("password: |x"), None);
        assert_eq!(open("PASS:"), None);
    }

    #[test]
    fn shapes_that_are_not() {
        for s in [
            "PASS: gdb.base/foo.exp: changing the language",
            "geegeefoobarPASS: x.f  -O0",
            "A debugging session is active.PASS: gcc.dg/guality/pr54519-2.c  -Og",
            "\tPASSED: test-combination.PASS: test-combination.c.exe iteration 5",
            "---PASS: objc/execute/x.m execution,  -Os",
            "pass=0: none",
            "session=first: ok",
            "install dbus-user-session:amd64 <none>",
            "python3-jwt:all",
            "dbus-user-session=1.14.10-1~deb12u1",
            "at Password.java:123",
            "src/password.c: In function",
            "-plugin-opt=-pass-through=-lgcc",
            "  Array cookie:            ac",
            "during GIMPLE pass: ccp",
            "note: expected signature: 'int f(int)'",
            "error: gcc_jit_context_new_PASS: test-x.c iteration 1 of 5",
            "password: required",
            "password=null",
            "password=[REDACTED:secret]",
            "if password == x",
            "token=\"\"",
            "redis host:6379 secret:abc",
            "  password:\n  host: x",
            "<password/>",
            "<token></token>",
            "<password>\n",
            "AUTH <username> <password>. More <b>x</b>",
            "<auth>EXTERNAL</auth>",
            "\"db:\\x0A  password:\\x0A    x\\x0A\"",
            "password:\\n  x",
            "<ds:SignatureValue>fDKK0so/zFcmmq2X+BaVFmS0</ds:SignatureValue>",
            "<input type=\"password\" name=\"password\"> Enter it<br>",
            "<add key=\"PasswordPolicy\" value=\"strict\"/>",
            "<add key=\"Password\" value=\"\"/>",
            "the password is=\"x\"",
            "Enter password:\n  not a value",
        ] {
            assert_eq!(value(s), None, "{s}");
        }
    }
}
