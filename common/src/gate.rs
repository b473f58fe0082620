//! Gates: a named figure compared with a limit, the unit of a verdict.
//!
//! Every tool writes its gates the same way so `bundle-seal` can gather them:
//! `{"name":"error_rate","op":"<","limit":0.005,"value":0.0012,"pass":true}`.

use serde::{Deserialize, Serialize};

/// How a gate's value must relate to its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "==")]
    Eq,
}

impl Op {
    pub fn holds(self, value: f64, limit: f64) -> bool {
        match self {
            Op::Le => value <= limit,
            Op::Lt => value < limit,
            Op::Ge => value >= limit,
            Op::Gt => value > limit,
            Op::Eq => value == limit,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Le => "<=",
            Op::Lt => "<",
            Op::Ge => ">=",
            Op::Gt => ">",
            Op::Eq => "==",
        }
    }
}

/// One evaluated gate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gate {
    pub name: String,
    pub op: Op,
    pub limit: f64,
    /// A value that is not a number (0/0) is written as `null` and read
    /// back as NaN, which never passes.
    #[serde(deserialize_with = "null_as_nan")]
    pub value: f64,
    pub pass: bool,
}

fn null_as_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

impl Gate {
    /// Evaluates `value op limit`. A NaN value never passes.
    pub fn check(name: impl Into<String>, op: Op, limit: f64, value: f64) -> Gate {
        let pass = !value.is_nan() && op.holds(value, limit);
        Gate {
            name: name.into(),
            op,
            limit,
            value,
            pass,
        }
    }

    /// `value <= limit`: the usual "at most" gate (errors, divergences, RTO).
    pub fn at_most(name: impl Into<String>, limit: f64, value: f64) -> Gate {
        Gate::check(name, Op::Le, limit, value)
    }

    /// `value >= limit`: the "at least" gate (determinism, health checks).
    pub fn at_least(name: impl Into<String>, limit: f64, value: f64) -> Gate {
        Gate::check(name, Op::Ge, limit, value)
    }
}

/// The verdict over a set of gates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
}

impl Verdict {
    /// Pass when every gate passed (vacuously, when none was asked).
    pub fn of(gates: &[Gate]) -> Verdict {
        if gates.iter().all(|g| g.pass) {
            Verdict::Pass
        } else {
            Verdict::Fail
        }
    }

    pub fn is_pass(self) -> bool {
        self == Verdict::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_evaluate_and_serialize() {
        let g = Gate::at_least("determinism", 0.98, 0.973);
        assert!(!g.pass);
        assert_eq!(
            serde_json::to_string(&g).unwrap(),
            r#"{"name":"determinism","op":">=","limit":0.98,"value":0.973,"pass":false}"#
        );
        assert!(Gate::at_most("divergences", 0.0, 0.0).pass);
        assert!(!Gate::at_most("x", 1.0, f64::NAN).pass);
        let nan = serde_json::to_string(&Gate::at_most("error_rate", 0.005, f64::NAN)).unwrap();
        assert!(nan.contains(r#""value":null"#), "{nan}");
        let back: Gate = serde_json::from_str(&nan).unwrap();
        assert!(back.value.is_nan() && !back.pass);
        assert_eq!(Verdict::of(&[]), Verdict::Pass);
        assert_eq!(Verdict::of(&[g]), Verdict::Fail);
    }
}
