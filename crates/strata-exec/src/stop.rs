//! Watching a running child: its end, the stop request and the timeout, awaited together; and
//! stopping its process group in order when one of the last two comes first.

use std::future::Future;
use std::time::Duration;

use tokio::time::{Instant, sleep, sleep_until};

use crate::Interrupt;

/// When each signal goes to the group, counted from the stop: SIGINT lets a tool clean up
/// (terraform releases its state lock), SIGTERM is for one that ignores SIGINT, and SIGKILL
/// for one that ignores both.
const SEQUENCE: [(Duration, libc::c_int); 3] = [
    (Duration::ZERO, libc::SIGINT),
    (Duration::from_secs(5), libc::SIGTERM),
    (Duration::from_secs(10), libc::SIGKILL),
];

/// Why a running command was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The caller's [`Interrupt`] was triggered.
    Interrupted,
    /// It ran longer than this.
    TimedOut(Duration),
}

/// How long the output of a stopped command is still read once the command itself has ended.
const GRACE: Duration = Duration::from_secs(2);

/// What a stop signals: a child's process group, or the child alone; whether it is being
/// stopped, and whether the child has been reaped.
#[derive(Debug)]
pub(crate) struct Group {
    pid: i32,
    whole_group: bool,
    stopping: std::sync::atomic::AtomicBool,
    reaped: std::sync::atomic::AtomicBool,
    ended_after_stop: tokio::sync::Notify,
}

impl Group {
    /// The group the child `pid` leads (it was spawned with `process_group(0)`).
    pub(crate) fn led_by(pid: u32) -> Option<Self> {
        Self::new(pid, true)
    }

    /// The child `pid` alone, which shares Strata's own group.
    pub(crate) fn only(pid: u32) -> Option<Self> {
        Self::new(pid, false)
    }

    fn new(pid: u32, whole_group: bool) -> Option<Self> {
        Some(Self {
            pid: i32::try_from(pid).ok().filter(|p| *p > 0)?,
            whole_group,
            stopping: false.into(),
            reaped: false.into(),
            ended_after_stop: tokio::sync::Notify::new(),
        })
    }

    /// Called once the leader has exited, before anything else runs: when the command was being
    /// stopped, whatever it left in its group (a background job that ignores SIGINT, as a
    /// shell's `&` jobs do) is killed now rather than left running.
    ///
    /// The leader was just reaped, so its pid is free again; a new process would have to take
    /// that very pid and make itself a group leader in these few instructions to be hit.
    pub(crate) fn leader_exited(&self) {
        use std::sync::atomic::Ordering;
        self.reaped.store(true, Ordering::SeqCst);
        if self.stopping.load(Ordering::SeqCst) {
            if self.whole_group {
                self.signal(libc::SIGKILL);
            }
            self.ended_after_stop.notify_one();
        }
    }

    /// Marks the command as being stopped (before the first signal). If it has already ended,
    /// its output is given only the grace from now.
    fn begin_stop(&self) {
        use std::sync::atomic::Ordering;
        self.stopping.store(true, Ordering::SeqCst);
        if self.reaped.load(Ordering::SeqCst) {
            self.ended_after_stop.notify_one();
        }
    }

    /// Ends [`GRACE`] after the command, stopped, has ended: its output is not read longer.
    pub(crate) async fn abandoned(&self) {
        self.ended_after_stop.notified().await;
        sleep(GRACE).await;
    }

    fn signal(&self, signal: libc::c_int) {
        // A reaped child's pid may belong to another process by now: only its group, which the
        // leader's exit does not free while members remain, is still signalled.
        if !self.whole_group && self.reaped.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        #[expect(
            unsafe_code,
            reason = "std and tokio cannot signal a process group; kill(2) with -pgid is the one call"
        )]
        // SAFETY: kill(2) takes plain integers and touches no memory of this process. Its error
        // (ESRCH: the group is already empty) needs no handling.
        unsafe {
            libc::kill(
                if self.whole_group {
                    -self.pid
                } else {
                    self.pid
                },
                signal,
            );
        }
    }
}

/// Awaits `work` (the child's exit and the end of its output). When `interrupt` is triggered or
/// `timeout` passes first, stops `group` (SIGINT, SIGTERM after 5 s, SIGKILL after 10 s, each
/// only while `work` is unfinished) and still awaits `work`, so the output is read to its end
/// and the child is reaped. Says why it stopped the command, if it did.
pub(crate) async fn supervise<T>(
    work: impl Future<Output = T>,
    group: &Group,
    interrupt: Option<&Interrupt>,
    timeout: Option<Duration>,
) -> (T, Option<Stop>) {
    let mut work = std::pin::pin!(work);
    let why = tokio::select! {
        // An end and a stop at the same moment is an end: the command finished.
        biased;
        done = &mut work => return (done, None),
        () = triggered(interrupt) => Stop::Interrupted,
        after = expired(timeout) => Stop::TimedOut(after),
    };
    group.begin_stop();
    let start = Instant::now();
    for (after, signal) in SEQUENCE {
        tokio::select! {
            biased;
            done = &mut work => return (done, Some(why)),
            () = sleep_until(start + after) => group.signal(signal),
        }
    }
    (work.await, Some(why))
}

async fn triggered(interrupt: Option<&Interrupt>) {
    match interrupt {
        Some(interrupt) => interrupt.triggered().await,
        None => std::future::pending().await,
    }
}

async fn expired(timeout: Option<Duration>) -> Duration {
    match timeout {
        Some(after) => {
            sleep(after).await;
            after
        }
        None => std::future::pending().await,
    }
}

/// A limit as people write it: `30s`, `1m30s`, `250ms`.
pub(crate) fn shown_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if d.subsec_millis() != 0 || secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    match (secs / 60, secs % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_as_people_write_them() {
        let shown = [250, 1_000, 30_000, 60_000, 90_000, 1_500]
            .map(|ms| shown_duration(Duration::from_millis(ms)));
        assert_eq!(shown, ["250ms", "1s", "30s", "1m", "1m30s", "1500ms"]);
    }
}
