//! One run of a sequence target by one virtual user: steps in order, each
//! (`repeat` times) on the user's connection, a value from an earlier
//! answer usable in a later step. Steps marked `"parallel": true` are sent
//! at the same moment as the step before them, each on a connection of its
//! own, and the sequence goes on once all have answered: two decisions of
//! one confirmation at once, the double click a race guard must survive.
//!
//! A status in a step's `accept` list counts as answered, not as an error
//! (a second decision refused with 409 is the right answer); only 2xx
//! acknowledges a write. Verify steps are not sent here: with --verify
//! their read is rendered from this run's answers and kept for the end
//! (see `verify.rs`).

use bytes::Bytes;
use serde_json::Value;
use tokio::time::Instant;

use crate::client::{self, Conns};
use crate::load::Ctx;
use crate::targets::Step;
use crate::verify::Pending;

/// What one step's request came back with.
struct Sent {
    /// 2xx: a write it made is acknowledged.
    acked: bool,
    body: Option<Bytes>,
    correlation_id: String,
}

/// Sends step `step` once and records it; `Err` when a value it needs from
/// an earlier answer is missing (it is then not sent).
async fn send(
    ctx: &Ctx,
    conns: &mut Conns,
    key: u64,
    step: &Step,
    responses: &[Option<Value>],
    since: Instant,
    late: bool,
) -> Result<Sent, String> {
    let req = &step.request;
    let id = ctx.next_correlation_id(&mut conns.ids);
    let built = ctx.build(req, responses, &id)?;
    let sent = conns
        .exchange(
            Instant::now(),
            ctx.timeout,
            req.endpoint,
            &ctx.plan.endpoints,
            &built,
            step.keep_response,
        )
        .await;
    let (outcome, status, body, done) = match sent {
        Err(f) => (Err(f.class), f.status, None, Instant::now()),
        Ok(answer) => {
            let (outcome, body) = match client::classify(answer.status) {
                None => (Ok(()), answer.body),
                Some(_) if step.accept.contains(&answer.status) => (Ok(()), None),
                Some(class) => (Err(class), None),
            };
            (outcome, Some(answer.status), body, answer.done)
        }
    };
    let entry = ctx.record(key, req.stat, since, done, outcome, status, late, &id);
    ctx.log(entry).await;
    Ok(Sent {
        acked: status.is_some_and(|s| (200..300).contains(&s)) && outcome.is_ok(),
        body,
        correlation_id: id.to_string(),
    })
}

/// Runs `steps` for pick `key`; `intended` is when the first step was due.
pub async fn run(
    ctx: &Ctx,
    conns: &mut Conns,
    key: u64,
    steps: &[Step],
    intended: Instant,
    late: bool,
) {
    let mut responses: Vec<Option<Value>> = vec![None; steps.len()];
    // The correlation id of each step's last acknowledged answer.
    let mut acked: Vec<Option<String>> = vec![None; steps.len()];
    // Only the first step was scheduled; the rest follow its answer and are
    // timed from their own send.
    let mut first = Some((intended, late));
    let mut i = 0;
    while i < steps.len() {
        let step = &steps[i];
        if let Some(spec) = &step.verify {
            if ctx.verify.enabled() {
                if let Some(write_id) = &acked[spec.of] {
                    ctx.verify
                        .push(pending(ctx, steps, i, &responses, write_id.clone()));
                }
            }
            i += 1;
            continue;
        }
        let end = (i + 1..steps.len())
            .find(|&j| !steps[j].parallel)
            .unwrap_or(steps.len());
        let (t0, l) = first.take().unwrap_or((Instant::now(), false));
        if end - i == 1 {
            for done in 0..step.repeat {
                let (t0, l) = if done == 0 {
                    (t0, l)
                } else {
                    (Instant::now(), false)
                };
                match send(ctx, conns, key, step, &responses, t0, l).await {
                    Ok(sent) => keep(step, i, sent, &mut responses, &mut acked),
                    Err(_) => {
                        // An earlier answer lacked a value this step uses.
                        ctx.shards
                            .lock(key)
                            .skipped(step.request.stat, u64::from(step.repeat - done));
                        break;
                    }
                }
            }
        } else {
            // The group: all sent at once, each on its own connection (the
            // first on the user's), all from the answers before the group.
            let before = responses.clone();
            let mut extra: Vec<Conns> = (i + 1..end).map(|_| Conns::default()).collect();
            let mut sends = Vec::with_capacity(end - i);
            sends.push(send(ctx, conns, key, step, &before, t0, l));
            for (k, c) in extra.iter_mut().enumerate() {
                sends.push(send(ctx, c, key, &steps[i + 1 + k], &before, t0, l));
            }
            let results = join_all(sends).await;
            for (k, result) in results.into_iter().enumerate() {
                let s = &steps[i + k];
                match result {
                    Ok(sent) => keep(s, i + k, sent, &mut responses, &mut acked),
                    Err(_) => ctx.shards.lock(key).skipped(s.request.stat, 1),
                }
            }
        }
        i = end;
    }
}

/// Keeps what a later step (or verification) needs from an answer.
fn keep(
    step: &Step,
    i: usize,
    sent: Sent,
    responses: &mut [Option<Value>],
    acked: &mut [Option<String>],
) {
    if step.keep_response {
        responses[i] = sent.body.and_then(|b| serde_json::from_slice(&b).ok());
    }
    if sent.acked {
        acked[i] = Some(sent.correlation_id);
    }
}

/// The read of verify step `i`, rendered from this run's answers.
fn pending(
    ctx: &Ctx,
    steps: &[Step],
    i: usize,
    responses: &[Option<Value>],
    write_correlation_id: String,
) -> Pending {
    let step = &steps[i];
    let name = |s: &Step| ctx.plan.stat_names[s.request.stat].clone();
    let spec = step.verify.as_ref();
    let of = spec.map_or(i, |s| s.of);
    let request = ctx.build(&step.request, responses, &ctx.correlation_id());
    let url = match &request {
        Ok(r) => r
            .uri
            .as_ref()
            .or(step.request.uri.as_ref())
            .map(ToString::to_string)
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let mut expect = Vec::new();
    let mut missing = None;
    for (field, path, template) in spec.map(|s| s.expect.as_slice()).unwrap_or_default() {
        match template.render(responses) {
            Ok(v) => expect.push((field.clone(), path.clone(), v)),
            Err(e) => missing = Some(format!("\"expect\" '{field}': {e}")),
        }
    }
    Pending {
        step: name(step),
        write: name(&steps[of]),
        write_correlation_id,
        endpoint: step.request.endpoint,
        url,
        request: match (request, missing) {
            (Ok(r), None) => Ok(r),
            (Err(e), _) | (_, Some(e)) => Err(e),
        },
        expect,
    }
}

/// Polls every future to its end, concurrently on this task.
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in futures.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}
