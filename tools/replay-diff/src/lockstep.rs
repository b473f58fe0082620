//! The fast path: decide "identical" from the raw text of two valid JSON
//! records without building either value.
//!
//! Both texts are walked token by token in lockstep; a subtree whose path is
//! `--ignore`d is skipped on both sides. Any other difference — even one that
//! might vanish under masks, tolerance, escapes or key order — returns false,
//! and the caller falls back to the full comparison in `compare`. So `true`
//! is always right, and `false` only means "look closer" (numbers too: `100`
//! and `1e2` are equal, which only the full comparison sees). Callers must
//! pass texts that are valid JSON and pass [`crate::raw::check`] (the readers
//! check every line), which bounds the recursion here.

use common::pointer::{Pattern, Seg};

use crate::raw::{scalar_end, skip_value, skip_ws, string_end};

/// True when `a` and `b` are the same JSON value once ignored paths are
/// skipped. Conservative: may say false for values that are equal.
pub fn same(a: &[u8], b: &[u8], ignore: &[Pattern]) -> bool {
    if a == b {
        return true;
    }
    let mut walk = Lockstep {
        a,
        b,
        i: 0,
        j: 0,
        ignore,
        path: Vec::new(),
    };
    walk.value().is_some() && {
        walk.i = skip_ws(a, walk.i);
        walk.j = skip_ws(b, walk.j);
        walk.i == a.len() && walk.j == b.len()
    }
}

struct Lockstep<'a, 'p> {
    a: &'a [u8],
    b: &'a [u8],
    i: usize,
    j: usize,
    ignore: &'p [Pattern],
    path: Vec<Seg<'a>>,
}

impl<'a> Lockstep<'a, '_> {
    fn ws(&mut self) {
        self.i = skip_ws(self.a, self.i);
        self.j = skip_ws(self.b, self.j);
    }

    /// The next byte on both sides, if it is the same.
    fn peek_same(&self) -> Option<u8> {
        let ca = *self.a.get(self.i)?;
        (self.b.get(self.j) == Some(&ca)).then_some(ca)
    }

    fn expect_both(&mut self, byte: u8) -> Option<()> {
        self.ws();
        (self.peek_same()? == byte).then(|| {
            self.i += 1;
            self.j += 1;
        })
    }

    fn value(&mut self) -> Option<()> {
        self.ws();
        if !self.ignore.is_empty() && self.ignore.iter().any(|p| p.matches(&self.path)) {
            self.i = skip_value(self.a, self.i)?;
            self.j = skip_value(self.b, self.j)?;
            return Some(());
        }
        match self.peek_same()? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => {
                let ea = string_end(self.a, self.i)?;
                let eb = string_end(self.b, self.j)?;
                self.same_span(ea, eb)
            }
            _ => {
                let ea = scalar_end(self.a, self.i);
                let eb = scalar_end(self.b, self.j);
                self.same_span(ea, eb)
            }
        }
    }

    fn same_span(&mut self, ea: usize, eb: usize) -> Option<()> {
        (self.a[self.i..ea] == self.b[self.j..eb]).then(|| {
            self.i = ea;
            self.j = eb;
        })
    }

    fn object(&mut self) -> Option<()> {
        self.i += 1;
        self.j += 1;
        self.ws();
        if self.peek_same() == Some(b'}') {
            self.i += 1;
            self.j += 1;
            return Some(());
        }
        loop {
            self.ws();
            let a: &'a [u8] = self.a;
            let ea = string_end(a, self.i)?;
            let eb = string_end(self.b, self.j)?;
            let key = &a[self.i + 1..ea - 1];
            // Escaped keys would need decoding to match patterns: look closer.
            if key != &self.b[self.j + 1..eb - 1] || key.contains(&b'\\') {
                return None;
            }
            let key = std::str::from_utf8(key).ok()?;
            self.i = ea;
            self.j = eb;
            self.expect_both(b':')?;
            self.path.push(Seg::Key(key));
            self.value()?;
            self.path.pop();
            self.ws();
            match self.peek_same()? {
                b',' => {
                    self.i += 1;
                    self.j += 1;
                }
                b'}' => {
                    self.i += 1;
                    self.j += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self) -> Option<()> {
        self.i += 1;
        self.j += 1;
        self.ws();
        if self.peek_same() == Some(b']') {
            self.i += 1;
            self.j += 1;
            return Some(());
        }
        let mut index = 0;
        loop {
            self.path.push(Seg::Index(index));
            self.value()?;
            self.path.pop();
            index += 1;
            self.ws();
            match self.peek_same()? {
                b',' => {
                    self.i += 1;
                    self.j += 1;
                }
                b']' => {
                    self.i += 1;
                    self.j += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        Pattern::parse(s).unwrap()
    }

    #[test]
    fn lockstep_cases() {
        let ts = [p("/ts"), p("/items/*/ts")];
        assert!(same(br#"{"ts":"a","v":1}"#, br#"{"ts":"bb","v":1}"#, &ts));
        assert!(same(
            br#"{"v":1, "ts":{"x":[1,"]"]}}"#,
            br#"{"v":1,"ts":null}"#,
            &ts
        ));
        assert!(same(
            br#"{"items":[{"ts":1,"k":"a\"b"}]}"#,
            br#"{"items":[{"ts":22,"k":"a\"b"}]}"#,
            &ts
        ));
        assert!(!same(br#"{"ts":"a","v":1}"#, br#"{"ts":"a","v":2}"#, &ts));
        assert!(
            !same(br#"{"a":1,"b":2}"#, br#"{"b":2,"a":1}"#, &ts),
            "key order: look closer"
        );
        assert!(!same(br#"[1,2]"#, br#"[1,2,3]"#, &[]));
        assert!(!same(br#"{"a":1}"#, br#"{"a":1,"b":2}"#, &[]));
        assert!(same(br#" [1, {"a" : true}] "#, br#"[1,{"a":true}]"#, &[]));
        assert!(same(br#"{"x":1}"#, br#"{"y":2}"#, &[p("")]));
    }
}
