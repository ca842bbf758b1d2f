//! Running a [`Command`]: for real with streamed, redacted logs, or as a dry run.
//!
//! One async core, [`run_async`], on tokio: the child's two streams, its exit, the stop request
//! and the timeout are awaited together, so nothing polls. [`run`] is the same for the layers,
//! which are synchronous: it drives the core on a small runtime of its own.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tracing::debug;

use crate::stop::{Group, Stop, supervise};
use crate::{Command, ExecError, Interrupt};

/// How to run a command.
#[derive(Clone)]
pub struct RunOptions<'a> {
    /// Report the command instead of running it.
    pub dry_run: bool,
    /// Append the command line and its output, line by line, to this file.
    pub log: Option<&'a Path>,
    /// Keep the whole standard output in [`Output::stdout`] (for tools whose output is data).
    pub capture_stdout: bool,
    /// How many of the last output lines a failure carries.
    pub tail_lines: usize,
    /// Exit codes that mean success (`terraform plan -detailed-exitcode` returns 2 for changes).
    pub success_codes: &'a [i32],
    /// Let the child write straight to Strata's own stdout and stderr (for commands a person
    /// watches, such as `cargo test` under `ci`); nothing is logged or kept then.
    pub inherit_output: bool,
    /// Called with each output line, of either stream (redacted), as it arrives, for progress.
    pub on_line: Option<&'a LineHook<'a>>,
    /// Run the child in its own process group and, once this is triggered (by a Ctrl-C
    /// handler), send the group SIGINT, then SIGTERM after 5 s, then SIGKILL after 10 s. The
    /// command then ends as it would have anyway (usually [`ExecError::Failed`]); the caller
    /// knows it asked for the stop.
    pub interrupt: Option<&'a Interrupt>,
    /// Stop the command, in the same order, when it has not finished after this long; it then
    /// fails with [`ExecError::TimedOut`]. For one-shot probes that must answer quickly; long
    /// operations (an apply, a playbook) have none. With an [`RunOptions::interrupt`] the whole
    /// process group is stopped; without one the command stays in the caller's group (so a
    /// terminal's Ctrl-C reaches it directly) and is stopped alone.
    pub timeout: Option<Duration>,
}

/// The limit of a one-shot probe (`terraform version`, `helm plugin list`, `kubectl get --raw
/// /readyz`): far beyond what one takes even on a loaded machine, short next to a hang. A probe
/// that passes it fails with [`ExecError::TimedOut`] instead of stalling the run.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// A callback for each output line, see [`RunOptions::on_line`].
pub type LineHook<'a> = dyn Fn(&str) + Sync + 'a;

impl Default for RunOptions<'_> {
    fn default() -> Self {
        Self {
            dry_run: false,
            log: None,
            capture_stdout: false,
            tail_lines: 20,
            success_codes: &[0],
            inherit_output: false,
            on_line: None,
            interrupt: None,
            timeout: None,
        }
    }
}

impl std::fmt::Debug for RunOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("dry_run", &self.dry_run)
            .field("log", &self.log)
            .field("capture_stdout", &self.capture_stdout)
            .field("tail_lines", &self.tail_lines)
            .field("success_codes", &self.success_codes)
            .field("inherit_output", &self.inherit_output)
            .field("on_line", &self.on_line.is_some())
            .field("interrupt", &self.interrupt.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Output {
    /// It was only reported, not run.
    pub dry_run: bool,
    /// Its exit code (0 for a dry run).
    pub code: i32,
    /// Its standard output when [`RunOptions::capture_stdout`] was set, secrets masked.
    pub stdout: String,
}

struct Sink<'a> {
    cmd: &'a Command,
    log: Option<Mutex<File>>,
    log_path: Option<&'a Path>,
    tail_lines: usize,
    on_line: Option<&'a LineHook<'a>>,
}

impl Sink<'_> {
    fn line(
        &self,
        prefix: &str,
        raw: &[u8],
        captured: Option<&mut String>,
        tail: &Mutex<VecDeque<String>>,
    ) -> io::Result<()> {
        let text = String::from_utf8_lossy(raw);
        let text = self.cmd.redact(text.trim_end_matches(['\n', '\r']));
        if let Some(hook) = self.on_line {
            hook(&text);
        }
        let logged = match &self.log {
            // A small append to a local file: blocking it stays (a line at a time).
            Some(log) => {
                let mut f = log.lock().unwrap_or_else(|e| e.into_inner());
                writeln!(f, "{prefix}{text}")
            }
            None => Ok(()),
        };
        if let Some(buf) = captured {
            buf.push_str(&text);
            buf.push('\n');
        }
        let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
        if tail.len() == self.tail_lines {
            tail.pop_front();
        }
        tail.push_back(text);
        logged
    }

    /// Streams one of the child's outputs into the log, keeping its last lines in `tail`
    /// (which stays readable if the reading is abandoned). Each stream keeps its own tail, so a
    /// burst on stdout never pushes the error off stderr's. A log that cannot be written is
    /// reported once the output ends: reading goes on, so the child never blocks on a full pipe.
    async fn drain(
        &self,
        prefix: &str,
        stream: Option<impl AsyncRead + Unpin>,
        mut captured: Option<&mut String>,
        tail: &Mutex<VecDeque<String>>,
    ) -> io::Result<()> {
        let Some(stream) = stream else {
            return Ok(());
        };
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        let mut failed = None;
        loop {
            buf.clear();
            if reader.read_until(b'\n', &mut buf).await? == 0 {
                return failed.map_or(Ok(()), Err);
            }
            if let Err(e) = self.line(prefix, &buf, captured.as_deref_mut(), tail) {
                failed.get_or_insert(e);
            }
        }
    }
}

/// Runs `cmd`, or only reports it when `opts.dry_run` is set.
///
/// Standard output and error are streamed line by line into `opts.log` (stderr lines prefixed
/// with `! `) while the command runs; every line is redacted first. Nothing waits on standard
/// input: it is closed.
///
/// This drives [`run_async`] on a current-thread runtime built for the call (a few tens of
/// microseconds, next to the milliseconds a spawn takes). Called from inside a tokio runtime,
/// where blocking on another would panic, it runs that runtime on a thread of its own and
/// blocks the caller's thread until the command ends; async callers should await
/// [`run_async`] instead.
pub fn run(cmd: &Command, opts: &RunOptions<'_>) -> Result<Output, ExecError> {
    if opts.dry_run {
        return Ok(dry_run(cmd));
    }
    let on_own_runtime = || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|source| ExecError::Spawn {
                command: cmd.display(),
                source,
            })?;
        runtime.block_on(run_async(cmd, opts))
    };
    if tokio::runtime::Handle::try_current().is_err() {
        return on_own_runtime();
    }
    std::thread::scope(|s| match s.spawn(on_own_runtime).join() {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// [`run`], awaited: for a caller on tokio (a runtime with I/O and time enabled), such as one
/// running several commands as tasks. Dropping the future before it ends leaves the child
/// running: await it, and stop it through [`RunOptions::interrupt`].
pub async fn run_async(cmd: &Command, opts: &RunOptions<'_>) -> Result<Output, ExecError> {
    if opts.dry_run {
        return Ok(dry_run(cmd));
    }
    let shown = cmd.display();
    debug!(command = %cmd, "running");

    let log = match opts.log {
        Some(path) => Some(Mutex::new(open_log(path, cmd).map_err(|source| {
            ExecError::Log {
                path: path.to_owned(),
                source,
            }
        })?)),
        None => None,
    };

    #[expect(
        clippy::disallowed_methods,
        reason = "strata-exec is the one place that spawns"
    )]
    let mut std_cmd = std::process::Command::new(cmd.program());
    for key in cmd.removed_env() {
        std_cmd.env_remove(key);
    }
    std_cmd
        .args(cmd.raw_args())
        .envs(cmd.raw_env())
        .current_dir(cmd.cwd())
        .stdin(Stdio::null());
    if !opts.inherit_output {
        std_cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    // With a stop request to watch, the child gets its own group: a terminal's Ctrl-C reaches
    // Strata only, which stops the whole group (the child and what it started) in order, and so
    // does a timeout. Without one (a probe with only a timeout), the child stays in Strata's
    // group, so a Ctrl-C at the terminal still reaches it, and a timeout stops the child alone.
    let own_group = opts.interrupt.is_some();
    if own_group {
        std::os::unix::process::CommandExt::process_group(&mut std_cmd, 0);
    }
    let mut std_cmd = tokio::process::Command::from(std_cmd);
    let mut child = spawn_retrying(&mut std_cmd)
        .await
        .map_err(|source| ExecError::Spawn {
            command: shown.clone(),
            source,
        })?;
    let group = child.id().and_then(|pid| {
        if own_group {
            Group::led_by(pid)
        } else if opts.timeout.is_some() {
            Group::only(pid)
        } else {
            None
        }
    });

    let sink = Sink {
        cmd,
        log,
        log_path: opts.log,
        tail_lines: opts.tail_lines.max(1),
        on_line: opts.on_line,
    };
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let mut captured = String::new();
    let tails = [(); 2].map(|()| Mutex::new(VecDeque::with_capacity(sink.tail_lines)));
    let streams = async {
        let capture = opts.capture_stdout.then_some(&mut captured);
        let both = async {
            let (out, err) = tokio::join!(
                sink.drain("", stdout, capture, &tails[0]),
                sink.drain("! ", stderr, None, &tails[1])
            );
            out.and(err)
        };
        match &group {
            // A stopped command whose output stays open after it ended (a process it started
            // left the group, or, stopped alone, never was in it: a kubectl credential plugin)
            // is not waited for beyond a short grace.
            Some(group) => tokio::select! {
                biased;
                read = both => read,
                () = group.abandoned() => Ok(()),
            },
            None => both.await,
        }
    };
    let exited = async {
        let status = child.wait().await;
        if let Some(group) = &group {
            group.leader_exited();
        }
        status
    };
    let work = async { tokio::join!(streams, exited) };
    let ((streamed, status), stopped) = match &group {
        Some(group) => supervise(work, group, opts.interrupt, opts.timeout).await,
        None => (work.await, None),
    };

    let log_error = |source| ExecError::Log {
        path: sink.log_path.map(Path::to_owned).unwrap_or_default(),
        source,
    };
    streamed.map_err(log_error)?;
    let [stdout_tail, stderr_tail] =
        tails.map(|t| Vec::from(t.into_inner().unwrap_or_else(|e| e.into_inner())));
    let status = status.map_err(|source| ExecError::Spawn {
        command: shown.clone(),
        source,
    })?;
    if let Some(log) = &sink.log {
        let mut f = log.lock().unwrap_or_else(|e| e.into_inner());
        let ended = match stopped {
            Some(Stop::TimedOut(after)) => format!(
                "# timed out after {}, stopped: {}",
                crate::stop::shown_duration(after),
                describe(status)
            ),
            _ => format!("# {}", describe(status)),
        };
        writeln!(f, "{ended}").map_err(log_error)?;
    }

    if let Some(Stop::TimedOut(after)) = stopped {
        return Err(ExecError::TimedOut {
            command: shown,
            after,
            stdout_tail,
            stderr_tail,
            log: opts.log.map(Path::to_owned),
        });
    }
    finish(status, opts, captured, (stdout_tail, stderr_tail), shown)
}

fn dry_run(cmd: &Command) -> Output {
    debug!(command = %cmd, "dry run");
    Output {
        dry_run: true,
        ..Output::default()
    }
}

fn finish(
    status: ExitStatus,
    opts: &RunOptions<'_>,
    stdout: String,
    (stdout_tail, stderr_tail): (Vec<String>, Vec<String>),
    shown: String,
) -> Result<Output, ExecError> {
    let code = status.code();
    if let Some(code) = code.filter(|c| opts.success_codes.contains(c)) {
        return Ok(Output {
            dry_run: false,
            code,
            stdout,
        });
    }
    Err(ExecError::Failed {
        command: shown,
        signal: std::os::unix::process::ExitStatusExt::signal(&status),
        code,
        stdout_tail,
        stderr_tail,
        log: opts.log.map(Path::to_owned),
    })
}

/// Spawns, retrying briefly while the executable is "busy" (`ETXTBSY`): Linux refuses to run a
/// file that some process still holds open for writing, which happens for a moment when a tool
/// is being installed or replaced, or when another thread forks while a script is written.
async fn spawn_retrying(cmd: &mut tokio::process::Command) -> io::Result<tokio::process::Child> {
    let mut attempt = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && attempt < 10 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(5 * attempt)).await;
            }
            other => return other,
        }
    }
}

fn open_log(path: &Path, cmd: &Command) -> io::Result<File> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(f, "$ {cmd}")?;
    Ok(f)
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    crate::error::describe_status(status.code(), status.signal())
}
