//! The Ray fan-out (python/ferret_ray): its test runs on a local Ray cluster started by the
//! test itself (`ray.init(address="local", num_cpus=2)`, ended by `ray.shutdown()`), with this
//! build's `ferret` binary. Skipped with a message when `ray` is not installed, unless
//! `FERRET_REQUIRE_TOOLS=1` (CI), which makes a missing `ray` a failure.

use std::path::PathBuf;
use std::process::Command;

use crate::common::s3::tools_required;

#[test]
fn ray_shards_merge_to_one_scan_and_failed_shards_are_retried() {
    let has_ray = Command::new("python3")
        .args(["-c", "import ray"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_ray {
        assert!(
            !tools_required(),
            "python3 -m pip install ray: FERRET_REQUIRE_TOOLS=1"
        );
        eprintln!("SKIPPED: python3 cannot import ray");
        return;
    }
    let package = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/ferret_ray");
    let out = Command::new("python3")
        .arg(package.join("tests/test_ray_sweep.py"))
        .env("FERRET_BIN", env!("CARGO_BIN_EXE_ferret"))
        .env_remove("RAY_ADDRESS")
        .current_dir(&package)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the Ray test failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("2 passed, 0 failed"), "{stdout}\n{stderr}");
}
