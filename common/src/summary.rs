//! The `summary` record: the last record every checking tool writes.
//!
//! It names the tool and its inputs (with sha256), the gates and their
//! verdict, and the tool's figures. `bundle-seal` gathers these from every
//! gate's output, so all tools build it through [`SummaryBuilder`].

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::clock;
use crate::gate::{Gate, Verdict};
use crate::runner::Outcome;

/// An input the tool judged, by name and content digest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputRef {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sha256: Option<String>,
}

/// The summary record (`"kind":"summary"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub kind: String,
    pub tool: String,
    pub version: String,
    pub verdict: Verdict,
    pub started_at: String,
    pub finished_at: String,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub interrupted: bool,
    pub inputs: Vec<InputRef>,
    pub gates: Vec<Gate>,
    pub figures: Map<String, Value>,
}

impl Summary {
    /// The exit outcome this summary implies.
    pub fn outcome(&self) -> Outcome {
        if self.interrupted {
            Outcome::Interrupted
        } else {
            Outcome::from_pass(self.verdict.is_pass())
        }
    }
}

/// Collects a summary while a tool runs.
#[derive(Debug)]
pub struct SummaryBuilder {
    tool: String,
    version: String,
    started_at: String,
    inputs: Vec<InputRef>,
    gates: Vec<Gate>,
    figures: Map<String, Value>,
}

impl SummaryBuilder {
    /// Starts the clock for `tool` at `version` (use `env!("CARGO_PKG_VERSION")`).
    pub fn new(tool: &str, version: &str) -> Self {
        SummaryBuilder {
            tool: tool.to_string(),
            version: version.to_string(),
            started_at: clock::rfc3339(SystemTime::now()),
            inputs: Vec::new(),
            gates: Vec::new(),
            figures: Map::new(),
        }
    }

    pub fn input(&mut self, path: &str, sha256: Option<String>) -> &mut Self {
        self.inputs.push(InputRef {
            path: path.to_string(),
            sha256,
        });
        self
    }

    pub fn gate(&mut self, gate: Gate) -> &mut Self {
        self.gates.push(gate);
        self
    }

    /// Adds a figure; a value that cannot be encoded becomes `null`.
    pub fn figure(&mut self, name: &str, value: impl Serialize) -> &mut Self {
        let v = serde_json::to_value(value).unwrap_or(Value::Null);
        self.figures.insert(name.to_string(), v);
        self
    }

    pub fn gates(&self) -> &[Gate] {
        &self.gates
    }

    /// Ends the run. An interrupted run never passes: its evidence is partial.
    pub fn finish(self, interrupted: bool) -> Summary {
        let verdict = if interrupted {
            Verdict::Fail
        } else {
            Verdict::of(&self.gates)
        };
        Summary {
            kind: "summary".to_string(),
            tool: self.tool,
            version: self.version,
            verdict,
            started_at: self.started_at,
            finished_at: clock::now_rfc3339(),
            interrupted,
            inputs: self.inputs,
            gates: self.gates,
            figures: self.figures,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_shape() {
        let mut b = SummaryBuilder::new("replay-diff", "0.1.0");
        b.input("g.jsonl", Some("ab".into()));
        b.gate(Gate::at_most("divergences", 0.0, 3.0));
        b.figure("records", 50);
        let s = b.finish(false);
        assert_eq!(s.outcome(), Outcome::Fail);
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["kind"], "summary");
        assert_eq!(v["verdict"], "fail");
        assert_eq!(v["figures"]["records"], 50);
        assert!(v.get("interrupted").is_none());
        let back: Summary = serde_json::from_value(v).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn interrupted_runs_fail_with_130() {
        let s = SummaryBuilder::new("t", "0").finish(true);
        assert_eq!(s.outcome(), Outcome::Interrupted);
        assert_eq!(s.verdict, Verdict::Fail);
    }
}
