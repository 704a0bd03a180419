//! `loadgen SCENARIO [OPTIONS]`: see `loadgen --help` and BENCHMARKS.md;
//! `loadgen faults …`: the fault suite's half (scripts/faults, RELIABILITY.md).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use loadgen::cli::Args;

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if argv.get(1).is_some_and(|arg| arg == "faults") {
        return loadgen::faults::main(argv[1..].to_vec());
    }
    let args = Args::parse_from(argv);
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if let Some(threads) = args.threads {
        runtime.worker_threads(usize::from(threads));
    }
    let summary = match runtime.build() {
        Ok(runtime) => runtime.block_on(loadgen::execute(&args)),
        Err(err) => Err(err.into()),
    };
    let summary = match summary {
        Ok(summary) => summary,
        Err(err) => {
            eprintln!("loadgen: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    let text = if args.json {
        match serde_json::to_string_pretty(&summary) {
            Ok(json) => json + "\n",
            Err(err) => {
                eprintln!("loadgen: {err}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        summary.text()
    };
    // The report is the program's output; stdout rather than the log.
    if std::io::stdout().lock().write_all(text.as_bytes()).is_err() {
        return ExitCode::FAILURE;
    }
    // Reported first, so the figures of a failed check are there to read.
    let failures = summary.failures();
    for failure in &failures {
        eprintln!("loadgen: {failure}");
    }
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
