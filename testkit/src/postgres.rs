//! A PostgreSQL cluster of a test's own, which the test may stop and start
//! again: for what a service does while its database is away. Built with
//! the machine's server binaries (Debian's `postgresql`, which
//! `scripts/test` installs when missing; `KURSI_PG_BINDIR` names them
//! elsewhere), in a folder under the system's temp folder, on a free port.
//!
//! initdb and pg_ctl refuse to run as root: as root they run as the
//! `postgres` system user, as `scripts/lib/postgres.sh` does.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The cluster; stopped and removed on drop.
pub struct TestPostgres {
    bindir: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl TestPostgres {
    /// A new cluster, started.
    pub async fn start() -> Self {
        let bindir = bindir().expect(
            "no PostgreSQL server binaries (initdb, pg_ctl): install Debian's postgresql or set KURSI_PG_BINDIR",
        );
        let dir =
            std::env::temp_dir().join(format!("kursi-testpg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("cluster folder");
        let port = free_port().await;
        let cluster = Self { bindir, dir, port };
        cluster.as_owner_of_the_folder();
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        // No fsync (the machine does not crash under a test), but every
        // commit is written before it is acknowledged: the test stops the
        // server as a crash would, and what it acknowledged must survive.
        let settings = format!(
            "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nfsync = off\nmax_connections = 100\n",
            cluster.dir.display()
        );
        let conf = Path::new(&data).join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).expect("postgresql.conf");
        text.push_str(&settings);
        std::fs::write(&conf, text).expect("postgresql.conf");
        cluster.resume();
        cluster
    }

    /// A URL on this cluster for database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Stops the server at once (`-m immediate`, as a crash or a failover
    /// would), leaving its data.
    pub fn stop(&self) {
        let data = self.data();
        self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }

    /// Starts it again, on the same port.
    pub fn resume(&self) {
        let data = self.data();
        let log = self.dir.join("server.log").display().to_string();
        let port = format!("-p {}", self.port);
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-o", &port, "-w", "-t", "60", "start",
            ],
        );
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn run(&self, program: &str, args: &[&str]) {
        let program = self.bindir.join(program);
        let status = if is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&program)
                .args(args)
                .status()
        } else {
            Command::new(&program).args(args).status()
        };
        let status = status.unwrap_or_else(|err| panic!("{}: {err}", program.display()));
        assert!(
            status.success(),
            "{} {args:?} failed: {status}",
            program.display()
        );
    }

    fn as_owner_of_the_folder(&self) {
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&self.dir)
                .status()
                .expect("chown");
            assert!(status.success(), "chown the cluster folder to postgres");
        }
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let data = self.data();
        let program = self.bindir.join("pg_ctl");
        let args = ["-D", data.as_str(), "-m", "immediate", "-w", "stop"];
        let _ = if is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&program)
                .args(args)
                .output()
        } else {
            Command::new(&program).args(args).output()
        };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"0\n"))
}

/// `KURSI_PG_BINDIR`, else the newest `/usr/lib/postgresql/<major>/bin`.
fn bindir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("KURSI_PG_BINDIR") {
        return Some(PathBuf::from(dir));
    }
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((major, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, dir)| dir)
}

async fn free_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    listener.local_addr().expect("addr").port()
}
