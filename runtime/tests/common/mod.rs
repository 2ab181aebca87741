//! The test harness shared by the test binaries that run the real `cloudexec serve`:
//! a server child on a free port (killed on drop), CLI runs against it, guests.
#![allow(dead_code, reason = "each test binary uses a different part of the shared harness")]

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use serde_json::Value;

/// The app token every test server uses.
pub const TOKEN: &str = "serve-test-token-0123456789";
/// How long a server may take to answer `/healthz`.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long jobs may take to reach a final status.
pub const JOB_TIMEOUT: Duration = Duration::from_secs(60);

/// A `cloudexec serve` child, killed when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub url: String,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `cloudexec serve` on a free port over `data_dir` (`--token` given unless
    /// `token` is `None`) and waits for `/healthz`. Output goes to files in `logs`.
    pub fn start(data_dir: &Path, logs: &Path, token: Option<&str>, extra: &[&str]) -> anyhow::Result<Self> {
        Self::start_from(Command::new(env!("CARGO_BIN_EXE_cloudexec")), data_dir, logs, token, extra)
    }

    /// As [`Server::start`], with the limits of open files `ulimit` sets (e.g. `-Sn 256`)
    /// when the server starts (a shell sets them, then becomes the server).
    pub fn start_under_ulimit(
        ulimit: &str,
        data_dir: &Path,
        logs: &Path,
        token: Option<&str>,
        extra: &[&str],
    ) -> anyhow::Result<Self> {
        let mut command = Command::new("bash");
        command.args(["-c", &format!("ulimit {ulimit} && exec \"$0\" \"$@\""), env!("CARGO_BIN_EXE_cloudexec")]);
        Self::start_from(command, data_dir, logs, token, extra)
    }

    /// Starts `command` (the server, or what becomes it) with `serve` and its arguments.
    fn start_from(
        mut command: Command,
        data_dir: &Path,
        logs: &Path,
        token: Option<&str>,
        extra: &[&str],
    ) -> anyhow::Result<Self> {
        let port = free_port()?;
        let url = format!("http://127.0.0.1:{port}");
        let tag = format!("serve-{port}");
        let (stdout, stderr) = (logs.join(format!("{tag}.out")), logs.join(format!("{tag}.err")));
        command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(data_dir)
            .args(token.map_or_else(Vec::new, |t| vec!["--token", t]))
            // The tests' endpoints listen on loopback, which the default egress policy refuses.
            .args(if extra.contains(&"--egress-allow") { &[][..] } else { &["--egress-allow", "127.0.0.0/8"][..] })
            .args(extra)
            .stdout(Stdio::from(File::create(&stdout)?))
            .stderr(Stdio::from(File::create(&stderr)?));
        let child = clean_env(&mut command).spawn().context("spawning cloudexec serve")?;
        let mut server = Self { child, url, stdout, stderr };
        server.wait_healthy()?;
        Ok(server)
    }

    pub fn wait_healthy(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        while started.elapsed() < START_TIMEOUT {
            if let Some(status) = self.child.try_wait()? {
                bail!("cloudexec serve exited with {status}: {}", self.stderr_text());
            }
            if let Ok(answer) = ureq::get(format!("{}/healthz", self.url)).call()
                && answer.status() == 200
            {
                return Ok(());
            }
            sleep(Duration::from_millis(100));
        }
        bail!("cloudexec serve did not answer /healthz within {START_TIMEOUT:?}: {}", self.stderr_text())
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stdout_text(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// `GET path` with the token, as JSON.
    pub fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        let mut answer = ureq::get(format!("{}{path}", self.url))
            .header("authorization", format!("Bearer {TOKEN}"))
            .call()
            .with_context(|| format!("GET {path}"))?;
        Ok(serde_json::from_str(&answer.body_mut().read_to_string()?)?)
    }

    /// `POST path` with the token and a JSON body (any status): the status and the body
    /// as JSON (`null` when it is not JSON).
    pub fn post_json(&self, path: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut answer = agent
            .post(format!("{}{path}", self.url))
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .send(body.to_string())
            .with_context(|| format!("POST {path}"))?;
        let text = answer.body_mut().read_to_string()?;
        Ok((answer.status().as_u16(), serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// Kills the process at once (SIGKILL: no shutdown, no lease given up).
    pub fn kill(&mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Polls `/v1/jobs/{id}` until the job leaves `waiting` and `executing`.
    pub fn wait_final(&self, id: i64) -> anyhow::Result<Value> {
        let started = Instant::now();
        loop {
            let job = self.get_json(&format!("/v1/jobs/{id}"))?;
            if !matches!(job["status"].as_str(), Some("waiting" | "executing")) {
                return Ok(job);
            }
            ensure!(started.elapsed() < JOB_TIMEOUT, "job {id} still {} after {JOB_TIMEOUT:?}", job["status"]);
            sleep(Duration::from_millis(100));
        }
    }

    /// Polls `/v1/jobs/{id}` until it has `status`.
    pub fn wait_status(&self, id: i64, status: &str) -> anyhow::Result<()> {
        let started = Instant::now();
        while started.elapsed() < JOB_TIMEOUT {
            if self.get_json(&format!("/v1/jobs/{id}"))?["status"] == status {
                return Ok(());
            }
            sleep(Duration::from_millis(20));
        }
        bail!("job {id} never became {status}")
    }

    /// Runs a client command against this server with the test token.
    pub fn cli(&self, args: &[&str]) -> anyhow::Result<Run> {
        cloudexec(&[args, &["--server", &self.url, "--token", TOKEN]].concat())
    }
}

/// A finished CLI run.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Fails unless the exit code is `code`.
    pub fn expect(self, code: i32) -> anyhow::Result<Self> {
        ensure!(self.code == Some(code), "expected exit {code}: {self:#?}");
        Ok(self)
    }

    /// Fails unless stdout has every one of `wanted`.
    pub fn shows(self, wanted: &[&str]) -> anyhow::Result<Self> {
        for want in wanted {
            ensure!(self.stdout.contains(want), "{want:?} missing: {self:#?}");
        }
        Ok(self)
    }

    /// The rest of the stdout line starting with `prefix`.
    pub fn value(&self, prefix: &str) -> anyhow::Result<String> {
        let line = self.stdout.lines().find_map(|l| l.strip_prefix(prefix));
        Ok(line.with_context(|| format!("no {prefix:?} in {self:#?}"))?.trim().to_string())
    }
}

pub fn cloudexec(args: &[&str]) -> anyhow::Result<Run> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cloudexec"));
    command.args(args);
    let Output { status, stdout, stderr } = clean_env(&mut command).output()?;
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    Ok(Run { code: status.code(), stdout: text(stdout), stderr: text(stderr) })
}

/// The CLI's environment variables removed, so the caller's shell cannot change a test.
pub fn clean_env(command: &mut Command) -> &mut Command {
    for var in
        ["CLOUDEXEC_TOKEN", "CLOUDEXEC_SERVER", "CLOUDEXEC_DATA_DIR", "CLOUDEXEC_ADMIN_TOKEN", "CLOUDEXEC_LISTEN"]
    {
        command.env_remove(var);
    }
    command
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub fn guest(name: &str) -> anyhow::Result<String> {
    Ok(cloudexec_tests::guest(name)?.display().to_string())
}
