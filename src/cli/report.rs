//! `ferret report`: JSON results in, one HTML page or a Markdown summary out.
//!
//! Several results are merged (a sweep of many machines): one entry per secret, each place
//! once. An input that cannot be read does not stop the others: it is named in the report and
//! on stderr, and the command exits with 2 so that CI notices the report is incomplete.
//! Otherwise the exit code is 0 when the report is written, whatever it contains: the scan is
//! what gates a pipeline; the report explains it.

use std::io::{Read, Write};

use ferret::report::html::{self, HtmlOptions};
use ferret::report::markdown;
use ferret::report::results::Merge;

use super::ExitStatus;
use super::args::{ReportArgs, ReportFormatArg};
use super::output;

pub fn run(args: ReportArgs) -> anyhow::Result<ExitStatus> {
    let mut merge = Merge::new(args.show_secrets);
    let mut failed = 0;
    for input in &args.inputs {
        let text = if input == "-" {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map(|_| s)
                .map_err(|e| format!("<stdin>: {e}"))
        } else {
            std::fs::read(input)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .map_err(|e| format!("{input}: {e}"))
        };
        let label = if input == "-" {
            "<stdin>"
        } else {
            input.as_str()
        };
        let result = text.and_then(|t| merge.add(label, &t).map_err(|e| e.to_string()));
        if let Err(message) = result {
            failed += 1;
            if !args.quiet {
                eprintln!("ferret: error: {message}");
            }
            merge.problem(message);
        }
    }
    let results = merge.finish();
    if !args.quiet {
        for p in results.problems.iter().skip(failed) {
            eprintln!("ferret: warning: {p}");
        }
        if args.show_secrets && !results.inputs.iter().any(|i| i.has_secrets) {
            eprintln!(
                "ferret: warning: the results carry no secrets (scan with --show-secrets to \
                 keep them); they stay masked"
            );
        }
    }
    let text = match args.format {
        ReportFormatArg::Html => html::render(
            &results,
            &HtmlOptions {
                title: args.title.clone(),
            },
        ),
        ReportFormatArg::Markdown => markdown::render(&results, &args.title),
    };
    let mut out = output::open(args.output.as_deref(), args.allow_output_symlink)?;
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => {}
        // The reader went away (`ferret report … | head`): not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitStatus::Clean),
        Err(e) => return Err(anyhow::Error::new(e).context("cannot write the report")),
    }
    if !args.quiet {
        eprintln!(
            "ferret: {} secrets in {} places from {} results{}",
            results.groups.len(),
            results.places(),
            results.inputs.len(),
            args.output
                .as_ref()
                .map(|p| format!("; wrote {}", p.display()))
                .unwrap_or_default(),
        );
    }
    Ok(if failed > 0 {
        ExitStatus::Error
    } else {
        ExitStatus::Clean
    })
}
