//! `keyhound rules`: listing, and `rules check` on the built-in rules and on a user's file.
use crate::harness::TestRepo;

#[test]
fn rules_check_passes_on_every_builtin_rule() {
    let run = TestRepo::dir().keyhound(&["rules", "check"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("0 problems"), "{}", run.stderr);
}

#[test]
fn rules_list_covers_every_family_of_issue_2() {
    let run = TestRepo::dir().keyhound(&["rules"]);
    assert_eq!(run.code, 0);
    let providers: std::collections::BTreeSet<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    for p in [
        "openai",
        "anthropic",
        "openrouter",
        "groq",
        "xai",
        "google",
        "huggingface",
        "github",
        "gitlab",
        "npm",
        "pypi",
        "stripe",
        "slack",
        "sendgrid",
        "aws",
        "private-key",
        "deepseek",
    ] {
        assert!(providers.contains(p), "no rule for {p}");
    }
    assert!(run.stdout.lines().count() >= 30);
}

#[test]
fn rules_check_reports_a_failing_example() {
    let repo = TestRepo::dir();
    repo.write(
        "acme.toml",
        concat!(
            "[[rule]]\n",
            "id = \"acme.token\"\n",
            "provider = \"acme\"\n",
            "name = \"Acme token\"\n",
            "keywords = [\"acme_\"]\n",
            "pattern = '(acme_[a-z0-9]{24})'\n",
            "examples = [\"token = acme_q8w7e6r5t4y3u2i1o9p8a7s6\", \"acme_short\"]\n",
            "counter_examples = [\"acme_your_token_goes_here\"]\n",
        ),
    );
    let run = repo.keyhound(&["rules", "check", "acme.toml"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("acme.token: example 2 should give exactly one finding"),
        "{}",
        run.stdout
    );
}
