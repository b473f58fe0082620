//! `{{steps.NAME.PATH}}`: a value from an earlier step's JSON response, used
//! in a later step of the same sequence (URL path, header value, body).
//!
//! Templates are compiled once when the targets file is read, so a bad
//! reference is an error naming the file and line, never a surprise at hour
//! 30 of a soak. In a JSON body a string that is exactly one template takes
//! the referenced value as it is (a number stays a number); anywhere else the
//! value is spliced in as text.

use serde_json::Value;

/// A reference to part of an earlier step's response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ref {
    /// Index of the step in its sequence.
    pub step: usize,
    /// Object keys or array indices below the response's top level.
    pub path: Vec<String>,
}

impl Ref {
    /// The referenced value, if the response had it.
    pub fn lookup<'a>(&self, responses: &'a [Option<Value>]) -> Option<&'a Value> {
        let mut v = responses.get(self.step)?.as_ref()?;
        for key in &self.path {
            v = match v {
                Value::Object(m) => m.get(key)?,
                Value::Array(a) => a.get(key.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(v)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Lit(String),
    Ref(Ref),
}

/// A string that may contain templates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    pieces: Vec<Piece>,
}

/// Where a value is spliced in decides how it is escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Splice {
    /// As is (header values, text bodies).
    Plain,
    /// Percent-encoded, so a value cannot change the URL's structure.
    Url,
}

impl Text {
    /// Compiles `text`; `steps` are the names of the earlier steps of its
    /// sequence (`None` outside a sequence, where any template is an error).
    pub fn parse(text: &str, steps: Option<&[String]>) -> Result<Text, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                pieces.push(Piece::Lit(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("unclosed '{{{{' in {text:?}"))?;
            pieces.push(Piece::Ref(parse_ref(after[..close].trim(), steps)?));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Lit(rest.to_string()));
        }
        Ok(Text { pieces })
    }

    /// True when nothing needs filling in.
    pub fn is_static(&self) -> bool {
        self.pieces.iter().all(|p| matches!(p, Piece::Lit(_)))
    }

    /// The single reference this text consists of, if it is exactly one.
    fn whole_ref(&self) -> Option<&Ref> {
        match self.pieces.as_slice() {
            [Piece::Ref(r)] => Some(r),
            _ => None,
        }
    }

    /// The text with every reference filled in; `Err` names the first
    /// reference the responses could not satisfy.
    pub fn render(&self, responses: &[Option<Value>], splice: Splice) -> Result<String, String> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Lit(s) => out.push_str(s),
                Piece::Ref(r) => {
                    let v = r.lookup(responses).ok_or_else(|| missing(r))?;
                    let text = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    match splice {
                        Splice::Plain => out.push_str(&text),
                        Splice::Url => percent_encode(&text, &mut out),
                    }
                }
            }
        }
        Ok(out)
    }

    /// Indices of the steps this text refers to.
    pub fn steps(&self) -> impl Iterator<Item = usize> + '_ {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Ref(r) => Some(r.step),
            Piece::Lit(_) => None,
        })
    }
}

fn missing(r: &Ref) -> String {
    format!("step {} has no value at '{}'", r.step + 1, r.path.join("."))
}

fn parse_ref(inner: &str, steps: Option<&[String]>) -> Result<Ref, String> {
    let mut parts = inner.split('.');
    if parts.next() != Some("steps") {
        return Err(format!(
            "unknown template '{{{{{inner}}}}}' (the form is {{{{steps.NAME.FIELD}}}})"
        ));
    }
    let name = parts.next().unwrap_or_default();
    let path: Vec<String> = parts.map(str::to_string).collect();
    if name.is_empty() || path.is_empty() || path.iter().any(String::is_empty) {
        return Err(format!(
            "template '{{{{{inner}}}}}' needs a step name and a field: {{{{steps.NAME.FIELD}}}}"
        ));
    }
    let Some(steps) = steps else {
        return Err(format!(
            "template '{{{{{inner}}}}}' outside a sequence (templates refer to earlier steps)"
        ));
    };
    let earlier = if steps.is_empty() {
        "none".to_string()
    } else {
        steps.join(", ")
    };
    let step = steps.iter().position(|s| s == name).ok_or_else(|| {
        format!(
            "template '{{{{{inner}}}}}' refers to step '{name}', which is not an earlier step \
             of this sequence (earlier steps: {earlier})"
        )
    })?;
    Ok(Ref { step, path })
}

fn percent_encode(text: &str, out: &mut String) {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// A JSON body with templates in its strings.
#[derive(Clone, Debug, PartialEq)]
pub enum JsonTemplate {
    Lit(Value),
    Str(Text),
    Array(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    pub fn parse(value: &Value, steps: Option<&[String]>) -> Result<JsonTemplate, String> {
        Ok(match value {
            Value::String(s) => {
                let t = Text::parse(s, steps)?;
                if t.is_static() {
                    JsonTemplate::Lit(value.clone())
                } else {
                    JsonTemplate::Str(t)
                }
            }
            Value::Array(a) => {
                let items = a
                    .iter()
                    .map(|v| JsonTemplate::parse(v, steps))
                    .collect::<Result<Vec<_>, _>>()?;
                if items.iter().all(|i| matches!(i, JsonTemplate::Lit(_))) {
                    JsonTemplate::Lit(value.clone())
                } else {
                    JsonTemplate::Array(items)
                }
            }
            Value::Object(m) => {
                let items = m
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), JsonTemplate::parse(v, steps)?)))
                    .collect::<Result<Vec<_>, String>>()?;
                if items.iter().all(|(_, i)| matches!(i, JsonTemplate::Lit(_))) {
                    JsonTemplate::Lit(value.clone())
                } else {
                    JsonTemplate::Object(items)
                }
            }
            other => JsonTemplate::Lit(other.clone()),
        })
    }

    pub fn is_static(&self) -> bool {
        matches!(self, JsonTemplate::Lit(_))
    }

    pub fn render(&self, responses: &[Option<Value>]) -> Result<Value, String> {
        Ok(match self {
            JsonTemplate::Lit(v) => v.clone(),
            JsonTemplate::Str(t) => match t.whole_ref() {
                Some(r) => r.lookup(responses).cloned().ok_or_else(|| missing(r))?,
                None => Value::String(t.render(responses, Splice::Plain)?),
            },
            JsonTemplate::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| i.render(responses))
                    .collect::<Result<_, _>>()?,
            ),
            JsonTemplate::Object(items) => Value::Object(
                items
                    .iter()
                    .map(|(k, i)| Ok((k.clone(), i.render(responses)?)))
                    .collect::<Result<_, String>>()?,
            ),
        })
    }

    /// Indices of the steps this body refers to.
    pub fn steps(&self, out: &mut Vec<usize>) {
        match self {
            JsonTemplate::Lit(_) => {}
            JsonTemplate::Str(t) => out.extend(t.steps()),
            JsonTemplate::Array(items) => items.iter().for_each(|i| i.steps(out)),
            JsonTemplate::Object(items) => items.iter().for_each(|(_, i)| i.steps(out)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn steps() -> Vec<String> {
        vec!["start".into(), "chat".into()]
    }

    #[test]
    fn text_templates_fill_in_and_escape_for_urls() {
        let t = Text::parse("/s/{{steps.start.session_id}}/m", Some(&steps())).unwrap();
        let responses = vec![Some(json!({"session_id": "s 1/2"})), None];
        assert_eq!(t.render(&responses, Splice::Url).unwrap(), "/s/s%201%2F2/m");
        assert_eq!(t.render(&responses, Splice::Plain).unwrap(), "/s/s 1/2/m");
        let nested = Text::parse("{{steps.chat.items.1.id}}", Some(&steps())).unwrap();
        let responses = vec![None, Some(json!({"items": [{"id": 1}, {"id": 42}]}))];
        assert_eq!(nested.render(&responses, Splice::Plain).unwrap(), "42");
        assert!(nested.render(&[None, None], Splice::Plain).is_err());
    }

    #[test]
    fn bad_templates_say_what_is_wrong() {
        let e = Text::parse("{{steps.stop.id}}", Some(&steps())).unwrap_err();
        assert!(e.contains("not an earlier step"), "{e}");
        let e = Text::parse("{{user}}", Some(&steps())).unwrap_err();
        assert!(e.contains("unknown template"), "{e}");
        let e = Text::parse("{{steps.start}}", Some(&steps())).unwrap_err();
        assert!(e.contains("needs a step name and a field"), "{e}");
        let e = Text::parse("x {{steps.start.id", Some(&steps())).unwrap_err();
        assert!(e.contains("unclosed"), "{e}");
        let e = Text::parse("{{steps.start.id}}", None).unwrap_err();
        assert!(e.contains("outside a sequence"), "{e}");
        assert!(Text::parse("plain {text}", None).unwrap().is_static());
    }

    #[test]
    fn json_bodies_keep_the_type_of_a_whole_template() {
        let body = json!({"session_id": "{{steps.start.id}}", "note": "id={{steps.start.id}}", "n": [1, "{{steps.start.id}}"]});
        let t = JsonTemplate::parse(&body, Some(&steps())).unwrap();
        let out = t.render(&[Some(json!({"id": 7})), None]).unwrap();
        assert_eq!(out, json!({"session_id": 7, "note": "id=7", "n": [1, 7]}));
        let mut used = Vec::new();
        t.steps(&mut used);
        assert_eq!(used, vec![0, 0, 0]);
        assert!(JsonTemplate::parse(&json!({"a": [1, "b"]}), None)
            .unwrap()
            .is_static());
    }
}
