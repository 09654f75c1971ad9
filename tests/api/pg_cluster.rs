//! A PostgreSQL cluster of a test's own: `initdb` in a temporary directory,
//! the server on a free port, stopped and started again by the test, so that
//! an outage is a real stopped server (connections refused, sessions cut),
//! not a relay imitating one. Runs the server binaries as `postgres` when the
//! test runs as root, which `initdb` refuses.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running (or stopped) cluster; stopped and deleted on drop.
pub struct PgCluster {
    bin: PathBuf,
    data: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl PgCluster {
    /// Creates and starts a cluster; `None` (printed, and a failure under
    /// `CI`) when no PostgreSQL server binaries are installed.
    pub fn start() -> Option<Self> {
        let Some(bin) = server_binaries() else {
            let reason = "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin";
            assert!(std::env::var_os("CI").is_none(), "CI must run: {reason}");
            eprintln!("SKIPPED: {reason}");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        // Free now; the server binds it a moment later.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Self {
            bin,
            data,
            port,
            _dir: dir,
        };
        if as_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(cluster._dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown the cluster's directory");
        }
        cluster.run(
            "initdb",
            &["-A", "trust", "-U", "postgres", "--no-sync", "-D"],
            &[&cluster.data],
        );
        cluster.start_again();
        Some(cluster)
    }

    /// `postgres://…` for its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl stop -m immediate`: every server process exits at once, no
    /// checkpoint, as a crash would; the next start recovers from the WAL.
    pub fn stop_immediately(&self) {
        self.run(
            "pg_ctl",
            &["stop", "-m", "immediate", "-w", "-D"],
            &[&self.data],
        );
    }

    /// Starts the (stopped) server and waits until it accepts connections.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.data.display()
        );
        let log = self.data.join("server.log");
        self.run(
            "pg_ctl",
            &["start", "-w", "-o", &options, "-l"],
            &[&log, Path::new("-D"), &self.data],
        );
    }

    /// Runs one of the server binaries (as `postgres` under root); panics
    /// with its output unless it succeeds.
    fn run(&self, program: &str, args: &[&str], paths: &[&Path]) {
        let binary = self.bin.join(program);
        let mut command = if as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(binary);
            c
        } else {
            Command::new(binary)
        };
        let output = command.args(args).args(paths).output().unwrap();
        assert!(output.status.success(), "{program} {args:?}: {output:?}");
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        // Stopped already, or running: either way nothing may outlive the test.
        let _ = Command::new(self.bin.join("pg_ctl"))
            .args(["stop", "-m", "immediate", "-D"])
            .arg(&self.data)
            .output();
        if as_root() {
            let _ = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"))
                .args(["stop", "-m", "immediate", "-D"])
                .arg(&self.data)
                .output();
        }
    }
}

/// The newest installed version's `bin` directory holding `initdb`.
fn server_binaries() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| Some(e.ok()?.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
        .collect();
    dirs.sort_by_key(|d| {
        d.parent()
            .and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok())
    });
    dirs.pop()
}

fn as_root() -> bool {
    // The owner of /proc/self is the effective user.
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}
