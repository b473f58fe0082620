//! The records replay-diff writes, and the running tally that becomes the
//! summary's figures. The records go to a `RecordWriter`: JSON Lines, or
//! with `--format text` a readable diff by the renderer in `text.rs`.

use common::jsonl::Invalid;
use common::output::RecordWriter;
use common::summary::Summary;
use common::Result;
use serde::Serialize;

use crate::compare::{Change, Difference};
use crate::json::Json;

/// Counts over one comparison (or, in run mode, over all of them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub records_golden: u64,
    pub records_replay: u64,
    pub compared: u64,
    pub identical: u64,
    pub divergent: u64,
    pub missing: u64,
    pub extra: u64,
    /// Lines skipped under `--skip-invalid` (either side).
    pub invalid: u64,
    /// Keyed mode: records without the key (paired among themselves).
    pub keyless: u64,
    /// `divergence` records: one per differing path of a compared pair.
    pub divergent_paths: u64,
}

impl Tally {
    /// identical / (compared + missing + extra + invalid); 1 when empty.
    /// A skipped invalid line is a line that did not replay: it counts
    /// against determinism like a record without a partner.
    pub fn determinism(&self) -> f64 {
        let judged = self.compared + self.missing + self.extra + self.invalid;
        if judged == 0 {
            1.0
        } else {
            self.identical as f64 / judged as f64
        }
    }

    /// The `divergences` figure and gate value (one number): differing
    /// paths + missing + extra records.
    pub fn divergences(&self) -> u64 {
        self.divergent_paths + self.missing + self.extra
    }

    pub fn add(&mut self, other: &Tally) {
        self.records_golden += other.records_golden;
        self.records_replay += other.records_replay;
        self.compared += other.compared;
        self.identical += other.identical;
        self.divergent += other.divergent;
        self.missing += other.missing;
        self.extra += other.extra;
        self.invalid += other.invalid;
        self.keyless += other.keyless;
        self.divergent_paths += other.divergent_paths;
    }
}

#[derive(Serialize)]
struct DivergenceRecord<'a> {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<u32>,
    golden_line: u64,
    replay_line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a Json>,
    path: &'a str,
    change: Change,
    #[serde(skip_serializing_if = "Option::is_none")]
    golden: Option<&'a Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replay: Option<&'a Json>,
}

#[derive(Serialize)]
struct UnmatchedRecord<'a> {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    golden_line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replay_line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    golden: Option<&'a Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replay: Option<&'a Json>,
}

#[derive(Serialize)]
struct InvalidRecord<'a> {
    kind: &'static str,
    #[serde(flatten)]
    invalid: &'a Invalid,
}

/// One run of the command in `run` mode.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    pub kind: &'static str,
    pub run: u32,
    pub exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    pub records: u64,
    pub sha256: String,
    pub duration_ms: f64,
    /// Processes the command left running in its process group (killed).
    pub leftover_processes: usize,
}

/// Writes the records of a comparison (or, in run mode, of every run's).
pub struct Reporter {
    out: RecordWriter,
    run: Option<u32>,
}

impl Reporter {
    pub fn new(out: RecordWriter) -> Self {
        Reporter { out, run: None }
    }

    /// In run mode, records carry the number of the run being compared.
    pub fn set_run(&mut self, run: Option<u32>) {
        self.run = run;
    }

    /// All differences of one aligned pair: a `divergence` record each.
    pub fn divergences(
        &mut self,
        golden_line: u64,
        replay_line: u64,
        key: Option<&Json>,
        diffs: &[Difference],
    ) -> Result<()> {
        for d in diffs {
            self.out.write(&DivergenceRecord {
                kind: "divergence",
                run: self.run,
                golden_line,
                replay_line,
                key,
                path: &d.path,
                change: d.change,
                golden: d.golden.as_ref(),
                replay: d.replay.as_ref(),
            })?;
        }
        Ok(())
    }

    /// A golden record with no counterpart.
    pub fn missing(&mut self, line: u64, key: Option<&Json>, value: &Json) -> Result<()> {
        self.out.write(&UnmatchedRecord {
            kind: "missing",
            run: self.run,
            golden_line: Some(line),
            replay_line: None,
            key,
            golden: Some(value),
            replay: None,
        })
    }

    /// A replay record with no counterpart.
    pub fn extra(&mut self, line: u64, key: Option<&Json>, value: &Json) -> Result<()> {
        self.out.write(&UnmatchedRecord {
            kind: "extra",
            run: self.run,
            golden_line: None,
            replay_line: Some(line),
            key,
            golden: None,
            replay: Some(value),
        })
    }

    pub fn invalid(&mut self, bad: &Invalid) -> Result<()> {
        self.out.write(&InvalidRecord {
            kind: "invalid",
            invalid: bad,
        })
    }

    pub fn run_record(&mut self, record: &RunRecord) -> Result<()> {
        self.out.write(record)
    }

    /// The summary, last; then everything written is flushed.
    pub fn summary(&mut self, summary: &Summary) -> Result<()> {
        self.out.write(summary)?;
        self.out.flush()
    }
}
