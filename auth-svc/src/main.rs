//! `auth-svc [serve]`, `auth-svc migrate`, `auth-svc health [ADDR]`,
//! `auth-svc generate-key PATH`.

use std::io::Write;
use std::process::ExitCode;

use auth_svc::config::{AuthConfig, DEFAULT_LISTEN_ADDR};
use service_kit::cli::{self, Binary};

const AUTH_SVC: Binary = Binary {
    name: "auth-svc",
    default_listen_addr: DEFAULT_LISTEN_ADDR,
    migrations: &auth_svc::db::MIGRATIONS,
};

#[tokio::main]
async fn main() -> ExitCode {
    AUTH_SVC
        .main(
            AuthConfig::from_env,
            |config| config.common.listen_addr,
            auth_svc::app::run,
            |name, args| (name == "generate-key").then(|| generate_key(args)),
        )
        .await
}

/// Writes a new Ed25519 key readable by its owner only; never overwrites.
fn generate_key(args: &[String]) -> ExitCode {
    let [path] = args else {
        return cli::fail(AUTH_SVC.name, "usage: auth-svc generate-key PATH");
    };
    let pem = match auth_svc::keys::generate_pem() {
        Ok(pem) => pem,
        Err(err) => return cli::fail(AUTH_SVC.name, err),
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options
        .open(path)
        .and_then(|mut file| file.write_all(pem.as_bytes()))
    {
        Ok(()) => {
            eprintln!("auth-svc: wrote a new Ed25519 signing key to {path}");
            ExitCode::SUCCESS
        }
        Err(err) => cli::fail(AUTH_SVC.name, format!("cannot write {path}: {err}")),
    }
}
