//! Renders a deploy's events: on a terminal, a live line per running phase (indicatif, with a
//! steady tick, so the clock moves while a tool prints nothing) and a line per finished
//! release or image above it; otherwise plain lines prefixed with the phase.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use strata_deploy::{DeployEvent, Failure, Mode, SkipReason};
use strata_metadata::{ImageStatus, NoticeLevel, ReleaseStatus, ReportStatus};

use crate::ui::Ui;

/// A deploy's reporter.
pub(crate) struct Reporter<'a> {
    ui: &'a Ui,
    live: Option<Live>,
    mode: Mode,
}

struct Live {
    multi: MultiProgress,
    bar: Option<ProgressBar>,
}

impl<'a> Reporter<'a> {
    pub(crate) fn new(ui: &'a Ui, mode: Mode) -> Self {
        let live = (!ui.quiet && !ui.json && std::io::stderr().is_terminal()).then(|| Live {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bar: None,
        });
        Self { ui, live, mode }
    }

    /// A line for people on stderr, above the live line when there is one.
    fn note(&self, line: &str) {
        match &self.live {
            Some(live) => {
                let _ = live.multi.println(line);
            }
            None => self.ui.note(line),
        }
    }

    pub(crate) fn event(&mut self, event: DeployEvent) {
        let ui = self.ui;
        match event {
            DeployEvent::Started { .. } => {}
            DeployEvent::Notice { phase, notice } => {
                let message = match phase {
                    Some(p) => format!("[{p}] {}", notice.message),
                    None => notice.message.clone(),
                };
                match notice.level {
                    NoticeLevel::Warning => {
                        self.suspend(|| ui.warning(&message, notice.hint.as_deref()));
                    }
                    NoticeLevel::Info => self.note(&message),
                }
            }
            DeployEvent::Skipped { phase, reason } => {
                if let SkipReason::UpToDate { .. } = reason {
                    self.note(&format!("[{phase}] up to date"));
                }
            }
            DeployEvent::PhaseStarted { phase, what } => {
                if let Some(live) = &mut self.live {
                    let bar = live.multi.add(ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{spinner} {prefix:10} {elapsed:>4}  {wide_msg}",
                        )
                        .expect("a valid template"),
                    );
                    bar.set_prefix(phase.name());
                    bar.set_message(what);
                    bar.enable_steady_tick(Duration::from_millis(120));
                    live.bar = Some(bar);
                }
            }
            DeployEvent::Output { phase, line } => {
                let line = line.trim();
                if line.is_empty() || self.mode != Mode::Deploy {
                    return;
                }
                match &self.live {
                    Some(Live { bar: Some(bar), .. }) => bar.set_message(line.to_owned()),
                    _ => ui.note(&format!("[{phase}] {line}")),
                }
            }
            DeployEvent::Shown { phase, line } => {
                self.suspend(|| ui.result(&format!("  [{phase}] {line}")));
            }
            DeployEvent::Diagnostic { diagnostic, .. } => {
                self.suspend(|| ui.diagnostic(&diagnostic));
            }
            DeployEvent::Image { phase, image } => {
                let status = match image.status {
                    ImageStatus::Built => "built",
                    ImageStatus::UpToDate => "up to date",
                    ImageStatus::WouldBuild => "would build",
                    ImageStatus::Failed => "failed",
                };
                self.note(&format!(
                    "[{phase}] {}: {status} ({:.1}s){}",
                    image.role,
                    image.seconds,
                    image.error.map(|e| format!(": {e}")).unwrap_or_default()
                ));
            }
            DeployEvent::Release { phase, release } => {
                let status = match release.status {
                    ReleaseStatus::Deployed => "deployed",
                    ReleaseStatus::DryRun => "dry run",
                    ReleaseStatus::Changes => "changes",
                    ReleaseStatus::NoChanges => "no changes",
                    ReleaseStatus::Failed => "failed",
                    ReleaseStatus::Skipped => "skipped",
                };
                self.note(&format!(
                    "[{phase}] {}/{}: {status} ({:.1}s){}",
                    release.namespace,
                    release.name,
                    release.seconds,
                    release
                        .message
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ));
            }
            DeployEvent::PhaseFinished { report, failure } => {
                if let Some(live) = &mut self.live
                    && let Some(bar) = live.bar.take()
                {
                    bar.finish_and_clear();
                }
                if let Some(Failure {
                    message,
                    hint,
                    tail,
                    ..
                }) = &failure
                {
                    // Plain lines already showed the output as it came; a live line did not,
                    // nor does a dry run or plan.
                    if self.live.is_some() || self.mode != Mode::Deploy {
                        for line in tail {
                            self.note(&format!("  | {line}"));
                        }
                    }
                    self.suspend(|| {
                        ui.error(
                            &format!("phase `{}`: {message}", report.phase),
                            hint.as_deref(),
                        );
                    });
                }
                if report.status != ReportStatus::NotRun {
                    self.note(&format!(
                        "[{}] {} ({:.1}s)",
                        report.phase, report.status, report.seconds
                    ));
                }
            }
        }
    }

    /// Runs `f` with the live line out of the way.
    fn suspend(&self, f: impl FnOnce()) {
        match &self.live {
            Some(live) => live.multi.suspend(f),
            None => f(),
        }
    }
}
