//! Each provider's check, in code: the fixed host, the cheapest read-only request that costs
//! nothing, and how its answers map to a verdict. A key is only ever sent to the host of the
//! provider that issued it (or to a `--verify-endpoint` override given on the command line).

use super::{Status, Verdict};

/// How the key travels in the request.
#[derive(Debug, Clone, Copy)]
pub enum Auth {
    Bearer,
    Header(&'static str),
}

/// One provider's check.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    pub provider: &'static str,
    /// Scheme and host, no trailing slash.
    pub base: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub auth: Auth,
    pub headers: &'static [(&'static str, &'static str)],
}

/// The check for a provider, if it has one.
pub fn check_for(provider: &str) -> Option<Check> {
    let c = |provider, base, method, path, auth, headers| Check {
        provider,
        base,
        method,
        path,
        auth,
        headers,
    };
    Some(match provider {
        // https://platform.openai.com/docs/api-reference/models/list
        "openai" => c(
            "openai",
            "https://api.openai.com",
            "GET",
            "/v1/models",
            Auth::Bearer,
            &[],
        ),
        // https://docs.anthropic.com/en/api/models-list
        "anthropic" => c(
            "anthropic",
            "https://api.anthropic.com",
            "GET",
            "/v1/models",
            Auth::Header("x-api-key"),
            &[("anthropic-version", "2023-06-01")],
        ),
        // https://docs.github.com/en/rest/users/users#get-the-authenticated-user
        "github" => c(
            "github",
            "https://api.github.com",
            "GET",
            "/user",
            Auth::Bearer,
            &[("accept", "application/vnd.github+json")],
        ),
        "groq" => c(
            "groq",
            "https://api.groq.com",
            "GET",
            "/openai/v1/models",
            Auth::Bearer,
            &[],
        ),
        "xai" => c(
            "xai",
            "https://api.x.ai",
            "GET",
            "/v1/api-key",
            Auth::Bearer,
            &[],
        ),
        // https://openrouter.ai/docs/api-reference/get-current-api-key
        "openrouter" => c(
            "openrouter",
            "https://openrouter.ai",
            "GET",
            "/api/v1/key",
            Auth::Bearer,
            &[],
        ),
        "deepseek" => c(
            "deepseek",
            "https://api.deepseek.com",
            "GET",
            "/models",
            Auth::Bearer,
            &[],
        ),
        // https://huggingface.co/docs/hub/api (whoami-v2)
        "huggingface" => c(
            "huggingface",
            "https://huggingface.co",
            "GET",
            "/api/whoami-v2",
            Auth::Bearer,
            &[],
        ),
        // https://docs.gitlab.com/api/personal_access_tokens/#self-inform
        "gitlab" => c(
            "gitlab",
            "https://gitlab.com",
            "GET",
            "/api/v4/personal_access_tokens/self",
            Auth::Header("private-token"),
            &[],
        ),
        // https://api.slack.com/methods/auth.test (answers 200 with ok=false for a bad token)
        "slack" => c(
            "slack",
            "https://slack.com",
            "POST",
            "/api/auth.test",
            Auth::Bearer,
            &[],
        ),
        // https://docs.stripe.com/api/balance/balance_retrieve (read-only)
        "stripe" => c(
            "stripe",
            "https://api.stripe.com",
            "GET",
            "/v1/balance",
            Auth::Bearer,
            &[],
        ),
        // https://www.twilio.com/docs/sendgrid/api-reference/api-key-permissions/retrieve-a-list-of-scopes-for-which-this-user-has-access
        "sendgrid" => c(
            "sendgrid",
            "https://api.sendgrid.com",
            "GET",
            "/v3/scopes",
            Auth::Bearer,
            &[],
        ),
        // https://docs.npmjs.com/cli/commands/npm-whoami (registry endpoint /-/whoami)
        "npm" => c(
            "npm",
            "https://registry.npmjs.org",
            "GET",
            "/-/whoami",
            Auth::Bearer,
            &[],
        ),
        "replicate" => c(
            "replicate",
            "https://api.replicate.com",
            "GET",
            "/v1/account",
            Auth::Bearer,
            &[],
        ),
        _ => return None,
    })
}

/// A response, as much of it as classification needs.
#[derive(Debug, Clone, Default)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, if it is the provider's JSON (a proxy's HTML page is not).
    pub fn json(&self) -> Option<serde_json::Value> {
        let is_json = self
            .header("content-type")
            .is_some_and(|t| t.contains("json"));
        if !is_json {
            return None;
        }
        serde_json::from_str(&self.body).ok()
    }
}

/// What to do with a response.
#[derive(Debug, Clone)]
pub enum Outcome {
    Done(Verdict),
    /// Rate limited: try again after backing off.
    Retry,
}

fn verdict(status: Status, reason: impl Into<String>) -> Outcome {
    Outcome::Done(Verdict {
        status,
        reason: reason.into(),
        metadata: Default::default(),
    })
}

/// Map a response to a verdict. A key is a credential, not a quota: a key that works but has
/// no credit, or lacks a scope, is live. Only the provider's own JSON answer can make a key
/// live or invalid; anything else (a proxy page, a 5xx) is unknown.
pub fn classify(check: &Check, r: &Response) -> Outcome {
    let json = r.json();
    let code = json.as_ref().and_then(error_code).unwrap_or_default();
    match (check.provider, r.status) {
        ("slack", 200) => match json.as_ref().and_then(|j| j["ok"].as_bool()) {
            Some(true) => {
                let mut v = live("auth.test accepted the token");
                if let Some(j) = &json {
                    for k in ["team", "user", "url"] {
                        if let Some(s) = j[k].as_str() {
                            v.metadata.insert(k.into(), s.into());
                        }
                    }
                }
                Outcome::Done(v)
            }
            Some(false)
                if matches!(
                    code.as_str(),
                    "invalid_auth"
                        | "token_revoked"
                        | "account_inactive"
                        | "not_authed"
                        | "token_expired"
                ) =>
            {
                verdict(Status::Invalid, format!("Slack answered {code}"))
            }
            Some(false) if code == "ratelimited" => Outcome::Retry,
            _ => verdict(Status::Unknown, "Slack's answer could not be read"),
        },
        (_, 200..=299) => {
            let mut v = live("the provider accepted the key (read-only request)");
            collect_metadata(check, r, json.as_ref(), &mut v);
            Outcome::Done(v)
        }
        (_, 401) if json.is_some() => verdict(
            Status::Invalid,
            format!(
                "401 from the provider{}: revoked or never valid",
                paren(&code)
            ),
        ),
        (_, 429) if code.contains("insufficient_quota") || code.contains("billing") => {
            let mut v = live("429 insufficient_quota: the key works but the account has no credit; it is live the moment billing is added");
            collect_metadata(check, r, json.as_ref(), &mut v);
            Outcome::Done(v)
        }
        (_, 429) => Outcome::Retry,
        ("github", 403) if r.header("x-ratelimit-remaining") == Some("0") => Outcome::Retry,
        (_, 403) if json.is_some() => {
            let mut v = live(format!(
                "403 from the provider's API{}: the key is valid but lacks this permission (a restricted key)",
                paren(&code)
            ));
            collect_metadata(check, r, json.as_ref(), &mut v);
            Outcome::Done(v)
        }
        (_, 404) if check.provider == "npm" && json.is_some() => verdict(
            Status::Invalid,
            "404 from /-/whoami: the token is not recognised",
        ),
        (_, status) => verdict(
            Status::Unknown,
            format!(
                "HTTP {status}{}: not an answer about the key",
                if json.is_none() {
                    " without the provider's JSON (a proxy or outage?)"
                } else {
                    ""
                }
            ),
        ),
    }
}

fn live(reason: impl Into<String>) -> Verdict {
    Verdict {
        status: Status::Live,
        reason: reason.into(),
        metadata: Default::default(),
    }
}

fn paren(code: &str) -> String {
    if code.is_empty() {
        String::new()
    } else {
        format!(" ({code})")
    }
}

/// The error code in an OpenAI/Anthropic/Slack style JSON error.
fn error_code(j: &serde_json::Value) -> Option<String> {
    let e = &j["error"];
    e["code"]
        .as_str()
        .or_else(|| e["type"].as_str())
        .or_else(|| e.as_str())
        .or_else(|| j["type"].as_str())
        .map(str::to_string)
}

/// What the response reveals about the key's reach.
fn collect_metadata(
    check: &Check,
    r: &Response,
    json: Option<&serde_json::Value>,
    v: &mut Verdict,
) {
    let headers: &[&str] = match check.provider {
        "openai" => &[
            "openai-organization",
            "openai-project",
            "x-ratelimit-limit-requests",
            "x-ratelimit-limit-tokens",
        ],
        "anthropic" => &[
            "anthropic-organization-id",
            "anthropic-ratelimit-requests-limit",
        ],
        "github" => &["x-oauth-scopes", "github-authentication-token-expiration"],
        _ => &[],
    };
    for h in headers {
        if let Some(value) = r.header(h) {
            v.metadata.insert((*h).to_string(), value.to_string());
        }
    }
    if let Some(j) = json {
        for k in ["login", "name", "username", "label"] {
            if let Some(s) = j[k].as_str() {
                v.metadata.insert(k.to_string(), s.to_string());
            }
        }
        if let Some(scopes) = j["scopes"].as_array() {
            let s: Vec<&str> = scopes.iter().filter_map(|x| x.as_str()).collect();
            v.metadata.insert("scopes".into(), s.join(","));
        }
    }
}
