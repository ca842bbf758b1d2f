//! The platform releases as a dependency graph: their order, drawn as Mermaid or DOT, and run
//! with independent releases in parallel, a failure stopping only what depends on it.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::Poll;
use std::time::{Duration, Instant};

use strata_metadata::Release;

use crate::HelmError;

/// The releases in an order that deploys every release after its `needs`, keeping the file's
/// order where `needs` allows. Unknown `needs` and cycles are errors.
pub fn order(releases: &[Release]) -> Result<Vec<&Release>, HelmError> {
    let names: BTreeSet<&str> = releases.iter().map(|r| r.name.as_str()).collect();
    for r in releases {
        for n in &r.needs {
            if !names.contains(n.as_str()) {
                return Err(HelmError::Graph(format!(
                    "release `{}` needs `{n}`, which is not a release",
                    r.name
                )));
            }
        }
    }
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::with_capacity(releases.len());
    while out.len() < releases.len() {
        let next = releases.iter().find(|r| {
            !done.contains(r.name.as_str()) && r.needs.iter().all(|n| done.contains(n.as_str()))
        });
        match next {
            Some(r) => {
                done.insert(&r.name);
                out.push(r);
            }
            None => {
                let stuck: Vec<&str> = releases
                    .iter()
                    .map(|r| r.name.as_str())
                    .filter(|n| !done.contains(n))
                    .collect();
                return Err(HelmError::Graph(format!(
                    "these releases need each other in a circle: {}",
                    stuck.join(", ")
                )));
            }
        }
    }
    Ok(out)
}

/// The graph as a Mermaid flowchart (an edge from each need to the release that needs it).
pub fn mermaid(releases: &[Release]) -> String {
    let mut out = String::from("flowchart LR\n");
    for r in releases {
        out.push_str(&format!(
            "  {}[\"{} ({})\"]\n",
            id(&r.name),
            r.name,
            r.namespace
        ));
    }
    for r in releases {
        for n in &r.needs {
            out.push_str(&format!("  {} --> {}\n", id(n), id(&r.name)));
        }
    }
    out
}

/// The graph in Graphviz DOT.
pub fn dot(releases: &[Release]) -> String {
    let mut out = String::from("digraph platform {\n  rankdir=LR;\n");
    for r in releases {
        out.push_str(&format!(
            "  \"{}\" [label=\"{}\\n{}\"];\n",
            r.name, r.name, r.namespace
        ));
    }
    for r in releases {
        for n in &r.needs {
            out.push_str(&format!("  \"{n}\" -> \"{}\";\n", r.name));
        }
    }
    out.push_str("}\n");
    out
}

/// A Mermaid node id for a release, prefixed so it never meets another graph's ids.
fn id(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("release_{safe}")
}

/// What happened to one release.
#[derive(Debug)]
pub enum ReleaseResult {
    /// It ran and succeeded.
    Done,
    /// It ran and failed.
    Failed(HelmError),
    /// It did not run because a release it needs (directly or not) failed.
    Skipped {
        /// The failed release it waited for.
        failed: String,
    },
}

/// One release's result and how long it ran.
#[derive(Debug)]
pub struct ReleaseOutcome {
    /// The release.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Done, failed or skipped.
    pub result: ReleaseResult,
    /// Wall time (zero when skipped).
    pub took: Duration,
}

/// Progress of a graph run.
#[derive(Debug, Clone, Copy)]
pub enum GraphEvent<'a> {
    /// A release started.
    Started(&'a str),
    /// A release ended: done, failed, or skipped because a release it needs failed.
    Finished(&'a ReleaseOutcome),
}

/// Runs `step` for every release, each once all its `needs` succeeded, at most `jobs` at a
/// time. A failure skips every release that needs it (directly or not); independent releases
/// go on. Results come back in [`order`]. `events` is called on the calling thread only.
///
/// The steps are tasks on one tokio runtime, on a thread of its own (so the caller may itself
/// be on tokio): a step awaits its commands ([`strata_exec::run_async`]) and the releases that
/// are running at once wait side by side on that thread. The decisions (what is ready, what a
/// failure skips) are taken on the calling thread.
pub fn run_graph<'a, F, Fut>(
    releases: &'a [Release],
    jobs: usize,
    step: F,
    events: &mut dyn FnMut(GraphEvent<'_>),
) -> Result<Vec<ReleaseOutcome>, HelmError>
where
    F: Fn(&'a Release) -> Fut + Sync,
    Fut: Future<Output = Result<(), HelmError>>,
{
    let ordered = order(releases)?;
    let jobs = jobs.max(1);
    let mut state: BTreeMap<&str, Option<ReleaseOutcome>> =
        ordered.iter().map(|r| (r.name.as_str(), None)).collect();
    let mut running = 0usize;
    let mut started: BTreeSet<&str> = BTreeSet::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|source| HelmError::Io {
            action: "start the runtime the releases run on in",
            path: std::env::temp_dir(),
            source,
        })?;
    let (work, todo) = tokio::sync::mpsc::unbounded_channel::<&'a Release>();
    let (tx, rx) = mpsc::channel::<(String, Result<(), HelmError>, Duration)>();
    let step = &step;
    std::thread::scope(|s| {
        s.spawn(move || runtime.block_on(run_steps(todo, step, tx)));
        loop {
            // Skip whatever needs a release that failed or was skipped.
            let mut changed = true;
            while changed {
                changed = false;
                for r in &ordered {
                    if state[r.name.as_str()].is_some() || started.contains(r.name.as_str()) {
                        continue;
                    }
                    let blocked = r.needs.iter().find_map(|n| match &state[n.as_str()] {
                        Some(ReleaseOutcome {
                            result: ReleaseResult::Failed(_),
                            ..
                        }) => Some(n.clone()),
                        Some(ReleaseOutcome {
                            result: ReleaseResult::Skipped { failed },
                            ..
                        }) => Some(failed.clone()),
                        _ => None,
                    });
                    if let Some(failed) = blocked {
                        let outcome = ReleaseOutcome {
                            name: r.name.clone(),
                            namespace: r.namespace.clone(),
                            result: ReleaseResult::Skipped { failed },
                            took: Duration::ZERO,
                        };
                        events(GraphEvent::Finished(&outcome));
                        state.insert(&r.name, Some(outcome));
                        changed = true;
                    }
                }
            }
            // Start what is ready, in order, up to `jobs`.
            for r in &ordered {
                if running >= jobs {
                    break;
                }
                let name = r.name.as_str();
                if started.contains(name) || state[name].is_some() {
                    continue;
                }
                let ready = r.needs.iter().all(|n| {
                    matches!(
                        state[n.as_str()],
                        Some(ReleaseOutcome {
                            result: ReleaseResult::Done,
                            ..
                        })
                    )
                });
                if ready {
                    started.insert(name);
                    running += 1;
                    events(GraphEvent::Started(name));
                    work.send(r)
                        .expect("the runtime thread runs until the graph is done");
                }
            }
            if running == 0 {
                // The runtime thread ends once its queue is closed and empty.
                drop(work);
                break;
            }
            let (name, result, took) = rx.recv().expect("a running release reports back");
            running -= 1;
            let release = ordered
                .iter()
                .find(|r| r.name == name)
                .expect("a known release");
            let outcome = ReleaseOutcome {
                name,
                namespace: release.namespace.clone(),
                result: match result {
                    Ok(()) => ReleaseResult::Done,
                    Err(e) => ReleaseResult::Failed(e),
                },
                took,
            };
            events(GraphEvent::Finished(&outcome));
            state.insert(release.name.as_str(), Some(outcome));
        }
    });
    Ok(ordered
        .iter()
        .map(|r| {
            state
                .remove(r.name.as_str())
                .flatten()
                .expect("every release ends done, failed or skipped")
        })
        .collect())
}

/// The runtime thread of [`run_graph`]: starts each release it is sent as a task and reports
/// each result as it comes, until the queue is closed and every task ended.
async fn run_steps<'a, F, Fut>(
    mut todo: tokio::sync::mpsc::UnboundedReceiver<&'a Release>,
    step: &F,
    done: mpsc::Sender<(String, Result<(), HelmError>, Duration)>,
) where
    F: Fn(&'a Release) -> Fut,
    Fut: Future<Output = Result<(), HelmError>>,
{
    let start = |release: &'a Release| {
        Box::pin(async move {
            let t = Instant::now();
            let result = step(release).await;
            (release.name.clone(), result, t.elapsed())
        })
    };
    let mut running = Vec::new();
    let mut open = true;
    loop {
        let next = std::future::poll_fn(|cx| {
            if open {
                match todo.poll_recv(cx) {
                    Poll::Ready(Some(release)) => return Poll::Ready(Some(Ok(release))),
                    Poll::Ready(None) => open = false,
                    Poll::Pending => {}
                }
            }
            if let Poll::Ready(result) = poll_any(&mut running, cx) {
                return Poll::Ready(Some(Err(result)));
            }
            if open || !running.is_empty() {
                Poll::Pending
            } else {
                Poll::Ready(None)
            }
        })
        .await;
        match next {
            Some(Ok(release)) => running.push(start(release)),
            Some(Err(result)) => {
                // The receiver only goes away once every started release reported.
                let _ = done.send(result);
            }
            None => return,
        }
    }
}

/// The output of the first of `tasks` that is ready, which leaves the list.
fn poll_any<T: Future>(
    tasks: &mut Vec<Pin<Box<T>>>,
    cx: &mut std::task::Context<'_>,
) -> Poll<T::Output> {
    for i in 0..tasks.len() {
        if let Poll::Ready(output) = tasks[i].as_mut().poll(cx) {
            drop(tasks.swap_remove(i));
            return Poll::Ready(output);
        }
    }
    Poll::Pending
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn rel(name: &str, needs: &[&str]) -> Release {
        serde_json::from_value(serde_json::json!({
            "name": name, "namespace": "ns", "chart": "platform/charts/x",
            "needs": needs,
        }))
        .unwrap()
    }

    #[test]
    fn order_follows_needs_and_keeps_the_file_order_otherwise() {
        let rs = [
            rel("c", &["a"]),
            rel("a", &[]),
            rel("b", &[]),
            rel("d", &["c", "b"]),
        ];
        let names: Vec<_> = order(&rs).unwrap().iter().map(|r| r.name.clone()).collect();
        assert_eq!(names, ["a", "c", "b", "d"]);
        let cycle = [rel("a", &["b"]), rel("b", &["a"]), rel("c", &[])];
        assert!(
            order(&cycle)
                .unwrap_err()
                .to_string()
                .contains("need each other in a circle: a, b")
        );
        assert!(
            order(&[rel("a", &["zz"])])
                .unwrap_err()
                .to_string()
                .contains("needs `zz`")
        );
    }

    #[test]
    fn a_failure_skips_its_dependents_and_not_its_siblings() {
        // a fails; b needs a; c needs b; d is independent; e needs d.
        let rs = [
            rel("a", &[]),
            rel("b", &["a"]),
            rel("c", &["b"]),
            rel("d", &[]),
            rel("e", &["d"]),
        ];
        let ran = Mutex::new(Vec::new());
        let out = run_graph(
            &rs,
            2,
            |r| {
                ran.lock().unwrap().push(r.name.clone());
                std::future::ready(if r.name == "a" {
                    Err(HelmError::Graph("boom".into()))
                } else {
                    Ok(())
                })
            },
            &mut |_| {},
        )
        .unwrap();
        let mut ran = ran.into_inner().unwrap();
        ran.sort();
        assert_eq!(ran, ["a", "d", "e"]);
        let summary: Vec<String> = out
            .iter()
            .map(|o| match &o.result {
                ReleaseResult::Done => format!("{} done", o.name),
                ReleaseResult::Failed(_) => format!("{} failed", o.name),
                ReleaseResult::Skipped { failed } => format!("{} skipped ({failed})", o.name),
            })
            .collect();
        assert_eq!(
            summary,
            [
                "a failed",
                "b skipped (a)",
                "c skipped (a)",
                "d done",
                "e done"
            ]
        );
    }

    #[test]
    fn independent_releases_run_at_the_same_time_up_to_jobs() {
        // a and b each wait until both have started: only a concurrent run gets through.
        let rs = [rel("a", &[]), rel("b", &[]), rel("c", &["a", "b"])];
        let run = |jobs| {
            // Not cancel safe: a wait that timed out still counts, so each run has its own.
            let both = tokio::sync::Barrier::new(2);
            let both = &both;
            run_graph(
                &rs,
                jobs,
                |r| async move {
                    if r.name == "c" {
                        return Ok(());
                    }
                    match tokio::time::timeout(Duration::from_secs(2), both.wait()).await {
                        Ok(_) => Ok(()),
                        Err(_) => Err(HelmError::Graph("ran alone".into())),
                    }
                },
                &mut |_| {},
            )
            .unwrap()
        };
        let out = run(2);
        assert!(
            out.iter().all(|o| matches!(o.result, ReleaseResult::Done)),
            "{out:?}"
        );
        // One at a time, a waits alone and fails, and c, which needs it, is skipped. (What b
        // meets depends on the barrier counting a's wait that timed out, so it is not checked.)
        let alone = run(1);
        assert!(
            matches!(alone[0].result, ReleaseResult::Failed(_)),
            "{alone:?}"
        );
        assert!(
            matches!(alone[2].result, ReleaseResult::Skipped { .. }),
            "{alone:?}"
        );
    }

    #[test]
    fn graphs_draw_every_edge() {
        let rs = [
            rel("cert-manager", &[]),
            rel("cluster-issuers", &["cert-manager"]),
        ];
        assert!(mermaid(&rs).contains("  release_cert_manager --> release_cluster_issuers\n"));
        assert!(dot(&rs).contains("  \"cert-manager\" -> \"cluster-issuers\";\n"));
    }
}
