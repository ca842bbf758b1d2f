//! Stopping a running command: its timeout, the caller's interrupt, and its whole process
//! group. Margins are wide: the machine running these may be loaded, so no test depends on a
//! step taking less than a few seconds.

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use strata_exec::{Command, ExecError, Interrupt, RunOptions, run, run_async, shell_quote};
use strata_testkit::{TempDir, script};

/// Whether process `pid` still runs (a zombie waiting for its parent runs nothing).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next());
        !matches!(state, Some('Z' | 'X') | None)
    })
}

/// Waits up to 10 s for `pid` to be gone: a killed process takes a moment to die.
fn gone(pid: u32) -> bool {
    let start = Instant::now();
    while alive(pid) {
        if start.elapsed() > Duration::from_secs(10) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

fn pids(file: &Path) -> Vec<u32> {
    std::fs::read_to_string(file)
        .unwrap()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect()
}

/// A shell whose background jobs outlive it: one still holding the output pipe, one not. A
/// shell's `&` jobs ignore SIGINT, so the first signal of the stop sequence does not end them.
/// It prints `ready` once both are started and their pids written.
fn forking_tool(dir: &Path) -> std::path::PathBuf {
    let pids = dir.join("pids");
    script(
        dir,
        "tool",
        &format!(
            "echo started\n\
             echo 'login with s3cr3t-value failed, retrying' >&2\n\
             sleep 100 &\n\
             echo $! > {pids}\n\
             sleep 100 > /dev/null 2>&1 &\n\
             echo $! >> {pids}\n\
             echo ready\n\
             wait\n",
            pids = shell_quote(&pids.to_string_lossy())
        ),
    )
}

/// A command run with a stop request to watch (as every layer's command is under `deploy`)
/// has its own process group, which its timeout stops whole.
#[test]
fn a_command_past_its_timeout_is_stopped_with_everything_it_started() {
    let bin = TempDir::new("exec-timeout");
    let tool = forking_tool(bin.path());
    let log = bin.join("runs/1/probe.log");
    let cmd = Command::new(&tool, bin.path())
        .arg("probe")
        .secret_arg("s3cr3t-value");
    let interrupt = Interrupt::new();
    let started = Instant::now();
    let err = run(
        &cmd,
        &RunOptions {
            log: Some(&log),
            interrupt: Some(&interrupt),
            // Long enough for a loaded machine to start the shell's jobs.
            timeout: Some(Duration::from_secs(3)),
            ..RunOptions::default()
        },
    )
    .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "stopped, not waited out: {:?}",
        started.elapsed()
    );
    assert!(
        err.to_string()
            .ends_with("tool probe '***'` did not finish within 3s and was stopped"),
        "{err}"
    );
    assert!(err.hint().is_some_and(|h| h.contains("run it by hand")));
    assert!(
        !err.is_configuration(),
        "a hang is a failure, not bad input"
    );
    let ExecError::TimedOut {
        command,
        after,
        stdout_tail,
        stderr_tail,
        log: logged,
    } = err
    else {
        panic!("{err:?}")
    };
    assert!(command.ends_with("tool probe '***'"), "{command}");
    assert_eq!(after, Duration::from_secs(3));
    assert_eq!(stdout_tail, ["started", "ready"]);
    assert_eq!(stderr_tail, ["login with *** failed, retrying"]);
    assert_eq!(logged.as_deref(), Some(log.as_path()));
    for pid in pids(&bin.join("pids")) {
        assert!(gone(pid), "the background job {pid} was stopped too");
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("s3cr3t-value"), "{text}");
    // The two streams are read side by side: their lines interleave in either order.
    assert!(
        text.contains("\nstarted\n") && text.contains("\n! login with *** failed, retrying\n"),
        "{text}"
    );
    let last = text.lines().last().unwrap();
    assert!(
        last.starts_with("# timed out after 3s, stopped: "),
        "{text}"
    );
}

/// The process group a process is in, from `/proc/<pid>/stat` (`self` for this one).
fn group_of(pid: &str) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let (_, rest) = stat.rsplit_once(") ").unwrap();
    rest.split_whitespace().nth(2).unwrap().to_owned()
}

/// A command with a timeout and no stop request (a tool's version probe outside `deploy`) stays
/// in the caller's process group, so a Ctrl-C at the terminal reaches it as it reaches the
/// caller; its timeout stops it alone.
#[test]
fn a_probe_with_only_a_timeout_shares_the_callers_group_and_is_stopped_alone() {
    let bin = TempDir::new("exec-probe");
    let group = bin.join("group");
    let tool = script(
        bin.path(),
        "probe",
        &format!(
            "cut -d' ' -f5 /proc/$$/stat > {group}\necho ready\nexec sleep 100\n",
            group = shell_quote(&group.to_string_lossy())
        ),
    );
    let started = Instant::now();
    let err = run(
        &Command::new(&tool, bin.path()),
        &RunOptions {
            timeout: Some(Duration::from_secs(2)),
            ..RunOptions::default()
        },
    )
    .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(
        matches!(&err, ExecError::TimedOut { stdout_tail, .. } if stdout_tail == &["ready"]),
        "{err:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&group).unwrap().trim(),
        group_of("self")
    );
}

/// A probe stopped alone whose output stays open, held by a process it started (as a kubectl
/// credential plugin holds kubectl's stderr), still ends: its output is read for a short grace
/// after it ended, then the run returns the timeout with the lines read so far.
#[test]
fn a_stopped_probe_whose_output_a_child_keeps_open_still_returns() {
    let bin = TempDir::new("exec-plugin");
    let tool = forking_tool(bin.path());
    let started = Instant::now();
    let err = run(
        &Command::new(&tool, bin.path()),
        &RunOptions {
            timeout: Some(Duration::from_secs(2)),
            ..RunOptions::default()
        },
    )
    .unwrap_err();
    let took = started.elapsed();
    // Left running, in this process's group: stop them so the test leaves nothing behind.
    for pid in pids(&bin.join("pids")) {
        #[expect(unsafe_code, reason = "the test cleans up the jobs it made")]
        // SAFETY: kill(2) takes plain integers and touches no memory of this process.
        unsafe {
            libc::kill(i32::try_from(pid).unwrap(), libc::SIGKILL);
        }
    }
    assert!(took < Duration::from_secs(60), "{took:?}");
    assert!(
        matches!(
            &err,
            ExecError::TimedOut { stdout_tail, .. } if stdout_tail == &["started", "ready"]
        ),
        "{err:?}"
    );
}

#[test]
fn a_command_that_ignores_sigint_gets_sigterm_after_five_seconds() {
    let bin = TempDir::new("exec-sigterm");
    let tool = script(
        bin.path(),
        "stubborn",
        "trap '' INT\necho waiting\nwhile :; do sleep 1; done\n",
    );
    let started = Instant::now();
    let err = run(
        &Command::new(&tool, bin.path()),
        &RunOptions {
            timeout: Some(Duration::from_secs(2)),
            ..RunOptions::default()
        },
    )
    .unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(&err, ExecError::TimedOut { stdout_tail, .. } if stdout_tail == &["waiting"]),
        "{err:?}"
    );
    // 2 s of timeout, then 5 s of SIGINT ignored; SIGKILL would come at 12 s.
    assert!(
        took >= Duration::from_secs(7) && took < Duration::from_secs(60),
        "{took:?}"
    );
}

/// The caller's interrupt, triggered from another thread as a Ctrl-C watcher does, stops the
/// command at once (SIGINT to its group, not the SIGTERM that comes 5 s later) and the command
/// fails as it does when a person stops it: killed by SIGINT.
#[test]
fn an_interrupt_from_another_thread_stops_the_command_and_its_group_with_sigint() {
    let bin = TempDir::new("exec-interrupt");
    let tool = forking_tool(bin.path());
    let interrupt = Interrupt::new();
    let (ready, is_ready) = mpsc::channel();
    let on_line = move |line: &str| {
        // Not before: a stop while the shell starts its jobs would leave no pids to check.
        if line == "ready" {
            ready.send(()).unwrap();
        }
    };
    let watcher = {
        let interrupt = interrupt.clone();
        std::thread::spawn(move || {
            is_ready.recv().unwrap();
            interrupt.trigger();
            Instant::now()
        })
    };
    let err = run(
        &Command::new(&tool, bin.path()),
        &RunOptions {
            interrupt: Some(&interrupt),
            on_line: Some(&on_line),
            ..RunOptions::default()
        },
    )
    .unwrap_err();
    let took = watcher.join().unwrap().elapsed();
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(
        matches!(
            &err,
            ExecError::Failed { code: None, signal: Some(2), stdout_tail, .. }
                if stdout_tail == &["started", "ready"]
        ),
        "{err:?}"
    );
    assert!(err.to_string().ends_with("was killed by signal 2"), "{err}");
    for pid in pids(&bin.join("pids")) {
        assert!(gone(pid), "the background job {pid} was stopped too");
    }
}

/// A limit that is not reached, and an interrupt nobody triggers, change nothing: the output,
/// the exit code and the error are those of a command run without them.
#[test]
fn a_timeout_not_reached_changes_nothing() {
    let bin = TempDir::new("exec-in-time");
    let tool = script(
        bin.path(),
        "tool",
        "echo out; echo err >&2; [ \"$1\" = ok ] || exit 3\n",
    );
    let interrupt = Interrupt::new();
    let opts = RunOptions {
        capture_stdout: true,
        timeout: Some(Duration::from_secs(60)),
        interrupt: Some(&interrupt),
        ..RunOptions::default()
    };
    let out = run(&Command::new(&tool, bin.path()).arg("ok"), &opts).unwrap();
    assert_eq!((out.code, out.stdout.as_str()), (0, "out\n"));
    let err = run(&Command::new(&tool, bin.path()), &opts).unwrap_err();
    let ExecError::Failed {
        code,
        stdout_tail,
        stderr_tail,
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (code, stdout_tail, stderr_tail),
        (Some(3), vec!["out".to_owned()], vec!["err".to_owned()])
    );
}

/// A caller already on tokio can use both forms: `run` does not panic inside a runtime, and
/// `run_async` is awaited there (and may be spawned: its future is `Send`).
#[test]
fn a_caller_on_tokio_can_run_commands() {
    let bin = TempDir::new("exec-on-tokio");
    let tool = script(bin.path(), "tool", "echo hi\n");
    let cmd = Command::new(&tool, bin.path());
    let opts = RunOptions {
        capture_stdout: true,
        timeout: Some(Duration::from_secs(60)),
        ..RunOptions::default()
    };
    fn send<T: Send>(t: T) -> T {
        t
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .unwrap();
    let (blocking, awaited) = runtime.block_on(async {
        let blocking = run(&cmd, &opts).unwrap();
        let awaited = send(run_async(&cmd, &opts)).await.unwrap();
        (blocking, awaited)
    });
    assert_eq!(blocking.stdout, "hi\n");
    assert_eq!(awaited, blocking);
}
