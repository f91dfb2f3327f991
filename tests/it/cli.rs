//! The command line keeps its promises (issue 19): numeric flags are bounded with a clear
//! error, every listed flag acts, and messages say what is true, once.
use crate::harness::{control_line, TestRepo, OPENAI_RULE};
use crate::readme::found;

/// `--threads 100000` never finished starting its threads. Counts outside 1..=256 are refused
/// with one error naming the bound (exit 2); the largest accepted count scans as usual (issue 19
/// item 18).
#[test]
fn thread_count_is_bounded_with_a_clear_error() {
    let repo = TestRepo::dir();
    repo.write("app.env", control_line(1918));
    for bad in ["100000", "257", "0", "many"] {
        let run = repo.keyhound(&["scan", "--threads", bad, "."]);
        assert_eq!(run.code, 2, "--threads {bad}: {}", run.stderr);
        assert!(
            run.stderr.contains("thread count from 1 to 256"),
            "--threads {bad}: {}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "--threads {bad}");
    }
    for good in ["256", "1"] {
        let run = repo.keyhound(&["scan", "--format", "json", "-j", good, "."]);
        let want = [(OPENAI_RULE.to_string(), "app.env".to_string())];
        assert_eq!(found(&run, "scan"), want.into_iter().collect(), "-j {good}");
    }
}
