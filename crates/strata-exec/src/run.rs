//! Running a [`Command`]: for real with streamed, redacted logs, or as a dry run.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::Mutex;

use tracing::debug;

use crate::{Command, ExecError};

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
    /// Run the child in its own process group and, once this flag is set (by a Ctrl-C
    /// handler), send the group SIGINT, then SIGTERM after 5 s, then SIGKILL after 10 s.
    pub interrupt: Option<&'a std::sync::atomic::AtomicBool>,
}

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
        tail: &mut VecDeque<String>,
    ) -> io::Result<()> {
        let text = String::from_utf8_lossy(raw);
        let text = self.cmd.redact(text.trim_end_matches(['\n', '\r']));
        if let Some(hook) = self.on_line {
            hook(&text);
        }
        if let Some(log) = &self.log {
            let mut f = log.lock().unwrap_or_else(|e| e.into_inner());
            writeln!(f, "{prefix}{text}")?;
        }
        if let Some(buf) = captured {
            buf.push_str(&text);
            buf.push('\n');
        }
        if tail.len() == self.tail_lines {
            tail.pop_front();
        }
        tail.push_back(text);
        Ok(())
    }

    /// Streams one of the child's outputs into the log and returns its last lines. Each
    /// stream keeps its own tail, so a burst on stdout never pushes the error off stderr's.
    fn drain(
        &self,
        prefix: &str,
        stream: impl Read,
        mut captured: Option<&mut String>,
    ) -> io::Result<Vec<String>> {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        let mut tail = VecDeque::with_capacity(self.tail_lines);
        loop {
            buf.clear();
            if reader.read_until(b'\n', &mut buf)? == 0 {
                return Ok(tail.into());
            }
            self.line(prefix, &buf, captured.as_deref_mut(), &mut tail)?;
        }
    }
}

/// Runs `cmd`, or only reports it when `opts.dry_run` is set.
///
/// Standard output and error are streamed line by line into `opts.log` (stderr lines prefixed
/// with `! `) while the command runs; every line is redacted first. Nothing waits on standard
/// input: it is closed.
pub fn run(cmd: &Command, opts: &RunOptions<'_>) -> Result<Output, ExecError> {
    let shown = cmd.display();
    if opts.dry_run {
        debug!(command = %cmd, "dry run");
        return Ok(Output {
            dry_run: true,
            ..Output::default()
        });
    }
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
    if opts.inherit_output {
        let status = spawn_retrying(&mut std_cmd)
            .and_then(|mut child| child.wait())
            .map_err(|source| ExecError::Spawn {
                command: shown.clone(),
                source,
            })?;
        return finish(status, opts, String::new(), (Vec::new(), Vec::new()), shown);
    }
    std_cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    if opts.interrupt.is_some() {
        // Its own group: a terminal's Ctrl-C reaches Strata only, which stops the whole group
        // (the child and what it started) in order.
        std::os::unix::process::CommandExt::process_group(&mut std_cmd, 0);
    }
    let mut child = spawn_retrying(&mut std_cmd).map_err(|source| ExecError::Spawn {
        command: shown.clone(),
        source,
    })?;

    let sink = Sink {
        cmd,
        log,
        log_path: opts.log,
        tail_lines: opts.tail_lines.max(1),
        on_line: opts.on_line,
    };
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut captured = String::new();
    let finished = std::sync::atomic::AtomicBool::new(false);
    let pgid = child.id() as i32;
    let streamed = std::thread::scope(|s| {
        if let Some(flag) = opts.interrupt {
            let finished = &finished;
            s.spawn(move || stop_on_interrupt(flag, finished, pgid));
        }
        let err = s.spawn(|| sink.drain("! ", stderr, None));
        let out = sink.drain("", stdout, opts.capture_stdout.then_some(&mut captured));
        let err = err.join().expect("the stderr reader does not panic");
        finished.store(true, std::sync::atomic::Ordering::SeqCst);
        out.and_then(|out| err.map(|err| (out, err)))
    });
    let status = child.wait();
    let log_error = |source| ExecError::Log {
        path: sink.log_path.map(Path::to_owned).unwrap_or_default(),
        source,
    };
    let tails = streamed.map_err(log_error)?;
    let status = status.map_err(|source| ExecError::Spawn {
        command: shown.clone(),
        source,
    })?;
    if let Some(log) = &sink.log {
        let mut f = log.lock().unwrap_or_else(|e| e.into_inner());
        writeln!(f, "# {}", describe(status)).map_err(log_error)?;
    }

    finish(status, opts, captured, tails, shown)
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
/// Waits for `flag`; then signals the process group `pgid`: SIGINT, SIGTERM after 5 s, SIGKILL
/// after 10 s, until the child's output ends (`finished`).
fn stop_on_interrupt(
    flag: &std::sync::atomic::AtomicBool,
    finished: &std::sync::atomic::AtomicBool,
    pgid: i32,
) {
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};
    while !flag.load(Ordering::SeqCst) {
        if finished.load(Ordering::SeqCst) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let start = Instant::now();
    for (after, signal) in [(0, libc::SIGINT), (5, libc::SIGTERM), (10, libc::SIGKILL)] {
        while start.elapsed() < Duration::from_secs(after) {
            if finished.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if finished.load(Ordering::SeqCst) {
            return;
        }
        #[expect(
            unsafe_code,
            reason = "std cannot signal a process group; kill(2) with -pgid is the one call"
        )]
        // SAFETY: kill(2) takes plain integers and touches no memory of this process.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}

fn spawn_retrying(cmd: &mut std::process::Command) -> io::Result<std::process::Child> {
    let mut attempt = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && attempt < 10 => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(5 * attempt));
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
