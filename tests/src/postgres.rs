//! A throwaway PostgreSQL cluster for the tests: `initdb` into a temporary directory,
//! `pg_ctl start` on a free loopback port, stopped (and deleted) when dropped. Nothing is
//! mocked. When no PostgreSQL server is installed, [`TestPostgres::start`] says why and
//! gives `None`, except under CI (`CI` set), where that is a failure: CI installs it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, bail};

/// The superuser the clusters are made with (trust authentication on loopback).
const SUPERUSER: &str = "postgres";

/// A running cluster.
#[derive(Debug)]
pub struct TestPostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// The system user the server runs as (PostgreSQL refuses to run as root).
    run_as: Option<String>,
}

impl TestPostgres {
    /// Starts a cluster, or `None` (with the reason printed) when none can be started
    /// outside CI.
    pub fn start() -> anyhow::Result<Option<Self>> {
        let Some(bin) = server_bin_dir() else {
            let why = "no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin";
            if std::env::var_os("CI").is_some() {
                bail!("{why}: CI must install PostgreSQL (apt-get install postgresql)");
            }
            eprintln!("skipping the PostgreSQL part: {why}");
            return Ok(None);
        };
        let run_as = is_root().then(|| SUPERUSER.to_string());
        let dir = tempfile::Builder::new().prefix("cloudexec-pg").tempdir()?;
        if let Some(user) = &run_as {
            run(Command::new("chown").arg("-R").arg(format!("{user}:")).arg(dir.path()))?;
        }
        let data = dir.path().join("data");
        let port = free_port()?;
        let cluster = Self { dir, bin, port, run_as };
        cluster
            .as_server_user(&cluster.bin.join("initdb"))
            .args(["-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync", "-D"])
            .arg(&data)
            .output_checked()
            .context("initdb")?;
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200",
            cluster.dir.path().display()
        );
        cluster
            .as_server_user(&cluster.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .args(["-o", &options, "-l"])
            .arg(cluster.dir.path().join("server.log"))
            .args(["-w", "-t", "60", "start"])
            .output_checked()
            .with_context(|| format!("pg_ctl start (log: {})", cluster.log()))?;
        Ok(Some(cluster))
    }

    /// One cluster for the whole test process, started at the first call: every caller
    /// gets databases of its own on it. A watchdog process stops it and deletes its files
    /// once the test process has exited (a static is never dropped).
    pub fn shared() -> anyhow::Result<Option<&'static Self>> {
        static SHARED: OnceLock<Option<TestPostgres>> = OnceLock::new();
        if let Some(cluster) = SHARED.get() {
            return Ok(cluster.as_ref());
        }
        let started = Self::start()?;
        if let Some(cluster) = &started {
            cluster.watch_process()?;
        }
        // A racing first call may have won: its cluster is the one, this one stops on drop.
        Ok(SHARED.get_or_init(|| started).as_ref())
    }

    /// Stops this cluster and removes its directory once the current process exits.
    fn watch_process(&self) -> anyhow::Result<()> {
        let pg_ctl = self.bin.join("pg_ctl");
        let runas = self.run_as.as_ref().map(|u| format!("runuser -u {u} -- ")).unwrap_or_default();
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {runas}'{pg_ctl}' -D '{data}' -m immediate -w stop; rm -rf '{dir}'",
            pid = std::process::id(),
            pg_ctl = pg_ctl.display(),
            data = self.dir.path().join("data").display(),
            dir = self.dir.path().display(),
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("starting the cluster's watchdog")?;
        Ok(())
    }

    /// A new empty database with a unique name; returns its URL.
    pub fn fresh_database(&self) -> anyhow::Result<String> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        self.create_database(&format!("t{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst)))
    }

    /// A new empty database; returns its URL.
    pub fn create_database(&self, name: &str) -> anyhow::Result<String> {
        Command::new(psql(&self.bin))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", SUPERUSER, "-d", "postgres", "-c"])
            .arg(format!("CREATE DATABASE \"{name}\""))
            .output_checked()
            .context("CREATE DATABASE")?;
        Ok(self.url(name))
    }

    /// Runs `sql` in database `name` with psql, as the superuser.
    pub fn execute(&self, name: &str, sql: &str) -> anyhow::Result<()> {
        Command::new(psql(&self.bin))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                SUPERUSER,
                "-d",
                name,
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
            ])
            .arg(sql)
            .output_checked()
            .with_context(|| format!("psql: {sql}"))?;
        Ok(())
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{name}", self.port)
    }

    /// The server's log so far (for a failure's message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    fn as_server_user(&self, program: &Path) -> Command {
        match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(program);
                command
            }
            None => Command::new(program),
        }
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let _ = self
            .as_server_user(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

trait OutputChecked {
    fn output_checked(&mut self) -> anyhow::Result<Output>;
}

impl OutputChecked for Command {
    /// Runs the command; a failure's error carries what it printed.
    fn output_checked(&mut self) -> anyhow::Result<Output> {
        let output = self.output().with_context(|| format!("running {self:?}"))?;
        if !output.status.success() {
            bail!(
                "{self:?} failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(output)
    }
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    command.output_checked().map(drop)
}

/// Where `initdb` and `pg_ctl` are: on PATH, else Debian's versioned directory.
fn server_bin_dir() -> Option<PathBuf> {
    let on_path =
        std::env::var_os("PATH").map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>()).unwrap_or_default();
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| dirs.filter_map(|d| d.ok().map(|d| d.path().join("bin"))).collect())
        .unwrap_or_default();
    debian.sort();
    debian.reverse();
    on_path.into_iter().chain(debian).find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
}

/// `psql` beside the server binaries, or the one on PATH.
fn psql(bin: &Path) -> PathBuf {
    let beside = bin.join("psql");
    if beside.exists() { beside } else { PathBuf::from("psql") }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A loopback port free right now.
fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
