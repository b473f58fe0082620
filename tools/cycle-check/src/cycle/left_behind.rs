//! What the service left behind: what it holds just before the stop, and
//! after it (and --settle) the zombies, orphans, listening sockets still
//! open, leftover files and processes outside its tree (see `handoff`).

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use super::Runner;
use crate::handoff::{self, Baseline};
use crate::procfs::{self, Listener, Proc};
use crate::records::{LeftBehind, PortRecord, ProcRecord};
use crate::sock_diag;
use crate::supervise::nap;

/// What the running service holds just before the stop.
pub(super) struct Running {
    /// Its processes: every descendant of cycle-check.
    pub tree: Vec<Proc>,
    /// Zombies it has not reaped.
    zombies: Vec<ProcRecord>,
    /// The sockets its live processes hold (inodes).
    sockets: HashSet<u64>,
    /// Those of them that listen.
    listeners: HashSet<u64>,
    /// Where it listens, `ADDR:PORT`, sorted.
    pub listening: Vec<String>,
}

/// A zombie must still be there this much later to count (its parent may be
/// about to reap it).
const ZOMBIE_RECHECK: Duration = Duration::from_millis(20);
/// How long a zombie's parent that is runnable but has not run yet may take
/// to reap it.
const ZOMBIE_PATIENCE: Duration = Duration::from_millis(1000);

impl Runner<'_> {
    /// What the service holds just before the stop: its zombies and its
    /// listening sockets.
    pub(super) fn running(&self) -> Running {
        let tree = procfs::descendants(&procfs::scan(), self.sup.me());
        let zombies = self.unreaped_zombies(&tree);
        let sockets: HashSet<u64> = tree
            .iter()
            .filter(|p| !p.is_zombie())
            .flat_map(|p| procfs::socket_inodes(p.pid))
            .collect();
        let held: Vec<Listener> = sock_diag::listeners()
            .into_iter()
            .filter(|l| sockets.contains(&l.inode))
            .collect();
        let listeners = held.iter().map(|l| l.inode).collect();
        let mut listening: Vec<String> = held
            .iter()
            .map(|l| std::net::SocketAddr::new(l.addr, l.port).to_string())
            .collect();
        listening.sort();
        listening.dedup();
        Running {
            tree,
            zombies,
            sockets,
            listeners,
            listening,
        }
    }

    /// Gives the rest of the tree --settle to follow the main process out;
    /// the tree as it is then, `None` on Ctrl-C.
    pub(super) fn settle(&mut self) -> Option<Vec<Proc>> {
        let settle_end = Instant::now() + self.config.settle;
        loop {
            self.sup.reap_all();
            let tree = procfs::descendants(&procfs::scan(), self.sup.me());
            let now = Instant::now();
            if tree.iter().all(Proc::is_zombie) || now >= settle_end {
                return Some(tree);
            }
            if !nap(Duration::from_millis(2).min(settle_end - now)) {
                return None;
            }
        }
    }

    /// What is left once the service has stopped and settled (`after`: the
    /// tree then), against what it held while `running`.
    pub(super) fn left_behind(
        &self,
        running: Running,
        after: &[Proc],
        baseline: &Baseline,
        launched_ticks: u64,
    ) -> LeftBehind {
        let orphans: Vec<ProcRecord> = after
            .iter()
            .filter(|p| !p.is_zombie())
            .map(ProcRecord::of)
            .collect();
        let mut zombies = running.zombies;
        for z in self.unreaped_zombies(after) {
            if !zombies.iter().any(|known| known.pid == z.pid) {
                zombies.push(z);
            }
        }
        zombies.sort_by_key(|z| z.pid);

        let leaked_ports = leaked_ports(&running.listeners, &orphans, baseline);
        let leftover_files: Vec<String> = self
            .config
            .check_files
            .iter()
            .flat_map(|c| c.matches())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();

        let mut own_sockets = running.sockets;
        own_sockets.extend(
            after
                .iter()
                .filter(|p| !p.is_zombie())
                .flat_map(|p| procfs::socket_inodes(p.pid)),
        );
        let (foreign_leftovers, _) = handoff::leftovers(
            baseline,
            &handoff::Service {
                launched_ticks,
                handed: &self.config.handed,
                me: self.sup.me(),
                own_sockets: &own_sockets,
                token: self.sup.token(),
            },
            &self.config.leftovers,
        );
        LeftBehind {
            zombies,
            orphans,
            leaked_ports,
            leftover_files,
            foreign_leftovers,
        }
    }

    /// Leaves nothing for the next cycle (nothing to do if the tree
    /// `after` the stop was empty).
    pub(super) fn clear_for_next(&mut self, n: u64, after: &[Proc]) {
        let stuck = if after.is_empty() {
            Vec::new()
        } else {
            self.sup.kill_all(Duration::from_secs(2))
        };
        if !stuck.is_empty() {
            let pids: Vec<String> = stuck.iter().map(|p| p.pid.to_string()).collect();
            common::runner::warn(
                "cycle-check",
                format!("cycle {n}: could not kill {}", pids.join(", ")),
            );
        }
        self.sup.forget_reaped();
    }

    /// Zombies whose parent is alive and is not us: children the service
    /// (or a leftover) has not reaped. A zombie counts once it is still
    /// there `ZOMBIE_RECHECK` later and its parent has had the chance to reap
    /// it (see [`parent_may_yet_reap`]), or after `ZOMBIE_PATIENCE`.
    fn unreaped_zombies(&self, tree: &[Proc]) -> Vec<ProcRecord> {
        let me = self.sup.me();
        let mut pending: Vec<&Proc> = tree
            .iter()
            .filter(|p| p.is_zombie() && p.ppid != me)
            .collect();
        let give_up = Instant::now() + ZOMBIE_PATIENCE;
        let mut found = Vec::new();
        while !pending.is_empty() {
            std::thread::sleep(ZOMBIE_RECHECK);
            let patient = Instant::now() < give_up;
            pending.retain(|p| {
                let Some(now) =
                    procfs::stat(p.pid).filter(|now| now.is_zombie() && now.ppid == p.ppid)
                else {
                    return false; // reaped
                };
                let parent = procfs::stat(p.ppid).map(|pp| pp.state);
                if patient && parent_may_yet_reap(parent) {
                    return true;
                }
                found.push(ProcRecord::of(&now));
                false
            });
        }
        found
    }
}

/// Whether a zombie's parent may simply not have had the CPU yet: it is
/// runnable (`R`: woken by SIGCHLD or busy, waiting for a CPU on a loaded
/// machine) or in uninterruptible sleep (`D`). A parent asleep (`S`) or
/// stopped with an unreaped child is not about to reap it. Before this, a
/// service looping over short-lived children was now and then charged with
/// a zombie its parent reaped a few ms after the 20 ms recheck (2 runs in
/// ~45 of the test suite at load 8-12 on 2 CPUs).
fn parent_may_yet_reap(parent_state: Option<char>) -> bool {
    matches!(parent_state, Some('R' | 'D'))
}

/// Listening sockets still open after the stop that the service held
/// before it, wherever they are held now, or that a leftover process holds.
///
/// The kernel table is read even when nothing of the tree is left: a
/// process outside the tree may hold a listener the service handed it over
/// a unix socket (SCM_RIGHTS, as einhorn or a hot restart does), and the
/// port listens on after the stop (trial 2, #38). A listener that was open
/// before the start (passed down to cycle-check by its caller, as socket
/// activation does, and so inherited by the service) is the caller's: it
/// counts only while a leftover of the service holds it.
fn leaked_ports(
    service_listeners: &HashSet<u64>,
    orphans: &[ProcRecord],
    baseline: &Baseline,
) -> Vec<PortRecord> {
    let orphan_pids: Vec<i32> = orphans.iter().map(|o| o.pid).collect();
    let orphan_inodes: HashSet<u64> = orphan_pids
        .iter()
        .flat_map(|&p| procfs::socket_inodes(p))
        .collect();
    let still: Vec<Listener> = sock_diag::listeners()
        .into_iter()
        .filter(|l| {
            orphan_inodes.contains(&l.inode)
                || (service_listeners.contains(&l.inode) && !baseline.had(l.inode))
        })
        .collect();
    if still.is_empty() {
        return Vec::new();
    }
    let inodes: HashSet<u64> = still.iter().map(|l| l.inode).collect();
    let owners = procfs::owners(&inodes, &orphan_pids);
    let mut out: Vec<PortRecord> = still
        .iter()
        .map(|l| {
            let pid = owners.get(&l.inode).copied();
            PortRecord {
                address: l.addr.to_string(),
                port: l.port,
                pid,
                cmdline: pid.map(|p| {
                    let comm = procfs::stat(p).map(|s| s.comm).unwrap_or_default();
                    procfs::cmdline(p, &comm)
                }),
            }
        })
        .collect();
    out.sort_by(|a, b| (a.port, &a.address).cmp(&(b.port, &b.address)));
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zombie_is_judged_once_its_parent_could_have_reaped_it() {
        assert!(parent_may_yet_reap(Some('R')));
        assert!(parent_may_yet_reap(Some('D')));
        for asleep_or_stopped in ['S', 'T', 't', 'I', 'Z'] {
            assert!(!parent_may_yet_reap(Some(asleep_or_stopped)));
        }
        assert!(!parent_may_yet_reap(None), "gone: the zombie is reparented");
    }
}
