//! `--actors N --ops M`: N virtual users at once, each running exactly M
//! target picks (a sequence is one op) back to back on its own
//! connections, so the service sees N users racing over the same state —
//! the concurrency race guard of the release gates (20 actors × 100
//! operations). Like the closed model, latency runs from each send; unlike
//! it, every actor does its own M ops (a fast actor does not do a slow
//! one's share), so the count per user is exact.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::client::Conns;
use crate::load::Ctx;

/// How often waiting loops look at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(20);

/// Runs the actors until each has done its ops, the run's end, or a stop;
/// after a stop waits at most `grace`. Returns the picks still unanswered.
pub async fn run(
    ctx: Arc<Ctx>,
    actors: usize,
    ops: u64,
    end: Option<Instant>,
    grace: Duration,
) -> u64 {
    let mut users = tokio::task::JoinSet::new();
    for actor in 0..actors {
        let ctx = Arc::clone(&ctx);
        users.spawn(async move {
            let mut conns = Conns::default();
            for op in 0..ops {
                if ctx.stopping() || end.is_some_and(|e| Instant::now() >= e) {
                    break;
                }
                // Interleaved so the targets' weights hold over all actors.
                let pick = op * actors as u64 + actor as u64;
                ctx.in_flight.enter(actor as u64);
                ctx.run_pick(&mut conns, pick, actor as u64, None).await;
                ctx.in_flight.leave(actor as u64);
            }
        });
    }
    loop {
        if ctx.stopping() {
            let _ =
                tokio::time::timeout(grace, async { while users.join_next().await.is_some() {} })
                    .await;
            users.abort_all();
            break;
        }
        if let Ok(None) = tokio::time::timeout(STOP_POLL, users.join_next()).await {
            break;
        }
    }
    ctx.in_flight.load()
}
