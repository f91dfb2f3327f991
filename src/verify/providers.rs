//! Each provider's check, in code: the fixed host, the cheapest read-only request that costs
//! nothing, and how its answers map to a verdict. A key is only ever sent to the host of the
//! provider that issued it (or to a `--verify-endpoint` override given on the command line).

use super::{Status, Verdict};

/// How the key travels in the request.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Auth {
    Bearer,
    Header(&'static str),
    /// `Authorization: <scheme> <key>` with a scheme other than Bearer (Deepgram's `Token`).
    Scheme(&'static str),
}

/// One provider's check.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Check {
    pub provider: &'static str,
    /// Scheme and host, no trailing slash.
    pub base: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub auth: Auth,
    pub headers: &'static [(&'static str, &'static str)],
}

/// The check for a provider, if it has one.
pub(crate) fn check_for(provider: &str) -> Option<Check> {
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
        // https://ai.google.dev/api/models#method:-models.list (Gemini API; an AIza key of a
        // project without the Generative Language API answers 403, which still proves it live)
        "google" => c(
            "google",
            "https://generativelanguage.googleapis.com",
            "GET",
            "/v1beta/models?pageSize=1",
            Auth::Header("x-goog-api-key"),
            &[],
        ),
        // https://inference-docs.cerebras.ai/api-reference/models
        "cerebras" => c(
            "cerebras",
            "https://api.cerebras.ai",
            "GET",
            "/v1/models",
            Auth::Bearer,
            &[],
        ),
        // https://docs.together.ai/reference/models
        "together" => c(
            "together",
            "https://api.together.xyz",
            "GET",
            "/v1/models",
            Auth::Bearer,
            &[],
        ),
        // https://docs.fireworks.ai/api-reference/list-accounts
        "fireworks" => c(
            "fireworks",
            "https://api.fireworks.ai",
            "GET",
            "/v1/accounts",
            Auth::Bearer,
            &[],
        ),
        // https://docs.pinecone.io/reference/api/2025-04/control-plane/list_indexes
        "pinecone" => c(
            "pinecone",
            "https://api.pinecone.io",
            "GET",
            "/indexes",
            Auth::Header("api-key"),
            &[("x-pinecone-api-version", "2025-04")],
        ),
        // https://docs.mistral.ai/api/endpoint/models
        "mistral" => c(
            "mistral",
            "https://api.mistral.ai",
            "GET",
            "/v1/models",
            Auth::Bearer,
            &[],
        ),
        // https://docs.cohere.com/reference/check-api-key (a POST without a body that only reads;
        // answers 200 with "valid")
        "cohere" => c(
            "cohere",
            "https://api.cohere.com",
            "POST",
            "/v1/check-api-key",
            Auth::Bearer,
            &[],
        ),
        // https://elevenlabs.io/docs/api-reference/user/get-user (keys may be restricted per
        // endpoint: https://elevenlabs.io/docs/api-reference/authentication)
        "elevenlabs" => c(
            "elevenlabs",
            "https://api.elevenlabs.io",
            "GET",
            "/v1/user",
            Auth::Header("xi-api-key"),
            &[],
        ),
        // https://platform.moonshot.ai/docs/api/balance (same API on api.moonshot.cn for keys of
        // the China platform, which this host refuses: see `classify`)
        "moonshot" => c(
            "moonshot",
            "https://api.moonshot.ai",
            "GET",
            "/v1/users/me/balance",
            Auth::Bearer,
            &[],
        ),
        // https://www.assemblyai.com/docs/api-reference/transcripts/list (the key itself is the
        // Authorization header, no scheme)
        "assemblyai" => c(
            "assemblyai",
            "https://api.assemblyai.com",
            "GET",
            "/v2/transcript?limit=1",
            Auth::Header("authorization"),
            &[],
        ),
        // https://deepinfra.com/docs/inference (Bearer auth); GET /v1/me is the account
        // operation of DeepInfra's published OpenAPI (api.deepinfra.com)
        "deepinfra" => c(
            "deepinfra",
            "https://api.deepinfra.com",
            "GET",
            "/v1/me",
            Auth::Bearer,
            &[],
        ),
        // https://docs.langchain.com/langsmith/smith-api/tracer-sessions/read-tracer-sessions
        // (EU-region keys live on eu.api.smith.langchain.com: see `classify`)
        "langsmith" => c(
            "langsmith",
            "https://api.smith.langchain.com",
            "GET",
            "/api/v1/sessions?limit=1",
            Auth::Header("x-api-key"),
            &[],
        ),
        // https://docs.perplexity.ai/api-reference/async-chat-completions-get (lists the key
        // owner's async requests; creates nothing)
        "perplexity" => c(
            "perplexity",
            "https://api.perplexity.ai",
            "GET",
            "/async/chat/completions",
            Auth::Bearer,
            &[],
        ),
        // https://docs.tavily.com/documentation/api-reference/endpoint/usage (the key's and the
        // account's credit usage; spends no credit)
        "tavily" => c(
            "tavily",
            "https://api.tavily.com",
            "GET",
            "/usage",
            Auth::Bearer,
            &[],
        ),
        // https://docs.firecrawl.dev/api-reference/endpoint/credit-usage
        "firecrawl" => c(
            "firecrawl",
            "https://api.firecrawl.dev",
            "GET",
            "/v1/team/credit-usage",
            Auth::Bearer,
            &[],
        ),
        // https://platform.stability.ai/docs/api-reference#tag/User/paths/~1v1~1user~1account/get
        "stability" => c(
            "stability",
            "https://api.stability.ai",
            "GET",
            "/v1/user/account",
            Auth::Bearer,
            &[],
        ),
        // https://docs.dev.runwayml.com/api/#tag/Organization (the version header is required)
        "runway" => c(
            "runway",
            "https://api.dev.runwayml.com",
            "GET",
            "/v1/organization",
            Auth::Bearer,
            &[("x-runway-version", "2024-11-06")],
        ),
        // https://developers.deepgram.com/reference/management-api/projects/list (keys travel as
        // `Authorization: Token <key>`)
        "deepgram" => c(
            "deepgram",
            "https://api.deepgram.com",
            "GET",
            "/v1/projects",
            Auth::Scheme("Token"),
            &[],
        ),
        // https://docs.baseten.co/reference/management-api/models/gets-all-models (keys travel as
        // `Authorization: Api-Key <key>`)
        "baseten" => c(
            "baseten",
            "https://api.baseten.co",
            "GET",
            "/v1/models",
            Auth::Scheme("Api-Key"),
            &[],
        ),
        // https://developers.llamaindex.ai/reference/typescript/resources/projects/ (list projects)
        "llamacloud" => c(
            "llamacloud",
            "https://api.cloud.llamaindex.ai",
            "GET",
            "/api/v1/projects",
            Auth::Bearer,
            &[],
        ),
        // https://docs.retellai.com/api-references/list-agents
        "retell" => c(
            "retell",
            "https://api.retellai.com",
            "GET",
            "/list-agents",
            Auth::Bearer,
            &[],
        ),
        _ => return None,
    })
}

/// Why a provider has no check: the one line an `unsupported` verdict gives.
pub(crate) fn unsupported_reason(provider: &str) -> Option<&'static str> {
    Some(match provider {
        "azure-openai" => "each Azure OpenAI key belongs to its customer's own host (*.openai.azure.com), which the key does not name",
        "ibm" => "IBM Cloud checks a key only by exchanging it for an IAM token (POST iam.cloud.ibm.com/identity/token), which mints a new credential",
        "nvidia" => "NVIDIA's model list answers without a key and its other endpoints run billed inference; no free request proves an nvapi- key",
        "voyage" => "Voyage AI documents only billed endpoints (embeddings, rerank); no free read-only request",
        "wandb" => "W&B documents no fixed read-only REST request for a key (its login check is a GraphQL query, and hosts differ per deployment)",
        "zai" => "Z.ai documents no free read-only request (chat, images and video are billed), and z.ai and open.bigmodel.cn keys use different hosts",
        "aws" => "AWS access keys need a SigV4-signed request and Bedrock API keys a regional host; keyhound sends neither",
        "jina" => "Jina documents no free read-only request for a key: embeddings, reader and search calls spend its tokens",
        "langfuse" => "a Langfuse secret key works only with its public key, on its project's own host (a cloud region or a self-hosted server)",
        "friendli" => "FriendliAI documents no free read-only request for a token (its inference endpoints are billed)",
        "clarifai" => "keyhound knows no documented free read-only Clarifai request that proves a token",
        "coze" => "a Coze token belongs to coze.com or coze.cn, which the token does not name",
        "devin" => "Devin's apk_ and cog_ keys use different API versions; keyhound knows no one free request that proves both",
        "exa" => "Exa documents only billed endpoints (search, contents, answer); no free read-only request",
        "ollama" => "ollama.com's model list answers without a key; no free request proves an Ollama key",
        "cursor" => "Cursor's Admin API takes only team admin keys, by Basic auth; no one free request proves every Cursor key",
        "greptile" => "Greptile documents no free read-only request (queries and indexing are billed)",
        _ => return None,
    })
}

/// A response, as much of it as classification needs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, if it is the provider's JSON (a proxy's HTML page is not).
    pub(crate) fn json(&self) -> Option<serde_json::Value> {
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
pub(crate) enum Outcome {
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
pub(crate) fn classify(check: &Check, r: &Response) -> Outcome {
    let json = r.json();
    let code = json.as_ref().and_then(error_code).unwrap_or_default();
    match (check.provider, r.status) {
        ("slack", 200) => match json.as_ref().and_then(|j| j["ok"].as_bool()) {
            Some(true) => {
                let mut v = live("auth.test accepted the token");
                if let Some(j) = &json {
                    for k in ["team", "user", "url"] {
                        if let Some(s) = j[k].as_str().filter(|s| plain(s)) {
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
        ("cohere", 200) if json.as_ref().and_then(|j| j["valid"].as_bool()) == Some(false) => {
            verdict(Status::Invalid, "Cohere's check-api-key answered valid: false")
        }
        // Google answers a deleted, expired or made-up key with 400, not 401.
        ("google", 400) if code == "API_KEY_INVALID" => verdict(
            Status::Invalid,
            "400 API_KEY_INVALID from Google: deleted, expired or never valid",
        ),
        // An ElevenLabs key restricted to other endpoints is refused with 401, not 403.
        ("elevenlabs", 401) if code == "missing_permissions" => {
            let mut v = live("401 missing_permissions from ElevenLabs: the key is valid but restricted to other endpoints");
            collect_metadata(check, r, json.as_ref(), &mut v);
            Outcome::Done(v)
        }
        // The same key shapes are issued by a second, separate region that this host refuses.
        ("moonshot", 401) if json.is_some() => verdict(
            Status::Unknown,
            "401 from api.moonshot.ai: not a key of Moonshot's international platform; a platform.moonshot.cn key is refused here too, so rotate it to be safe",
        ),
        ("langsmith", 401) if json.is_some() => verdict(
            Status::Unknown,
            "401 from api.smith.langchain.com: not a US-region key; an EU-region key is refused here too, so rotate it to be safe",
        ),
        // A 2xx is an answer about the key only in the provider's own JSON shape: a captive
        // portal's or a proxy's page (HTML, or JSON of another shape) is not (issue 19 item 15).
        (_, 200..=299) if !json.as_ref().is_some_and(|j| answers_as(check.provider, j)) => {
            verdict(
                Status::Unknown,
                format!(
                    "HTTP {} without the provider's JSON answer (a proxy or captive portal?)",
                    r.status
                ),
            )
        }
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

/// ` (code)` for a code in [`KNOWN_CODES`], else nothing: the rest of a provider's answer is
/// free text, which may echo the key (`"Incorrect API key provided: sk-..."`), and would land
/// in the report and the cache (issue 19 item 15).
fn paren(code: &str) -> String {
    if KNOWN_CODES.contains(&code) {
        format!(" ({code})")
    } else {
        String::new()
    }
}

/// The error codes a verdict may quote: the documented codes of the providers checked.
const KNOWN_CODES: &[&str] = &[
    "invalid_api_key",
    "invalid_request_error",
    "authentication_error",
    "invalid_authentication_error",
    "permission_error",
    "permission_denied",
    "insufficient_quota",
    "billing_hard_limit_reached",
    "billing_not_active",
    "rate_limit_exceeded",
    "rate_limit_error",
    "missing_scope",
    "missing_permissions",
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "token_expired",
    "account_inactive",
    "unauthorized",
    "forbidden",
    "API_KEY_INVALID",
    "API_KEY_SERVICE_BLOCKED",
    "SERVICE_DISABLED",
    "PERMISSION_DENIED",
    "UNAUTHENTICATED",
    "INVALID_ARGUMENT",
];

/// Whether a 2xx JSON answer has the shape of the provider's documented answer to the check
/// (its reference is linked at the check in [`check_for`]): the field its answer always holds,
/// or an array where the endpoint lists things.
fn answers_as(provider: &str, j: &serde_json::Value) -> bool {
    let has = |keys: &[&str]| keys.iter().any(|k| j.get(k).is_some());
    match provider {
        // OpenAI-compatible model lists: `{"object": "list", "data": [...]}`.
        "openai" | "anthropic" | "groq" | "deepseek" | "cerebras" | "mistral" => {
            j["data"].is_array()
        }
        "together" => j.is_array() || j["data"].is_array(),
        "langsmith" | "llamacloud" | "retell" => j.is_array(),
        "github" => has(&["login"]),
        "xai" => has(&["api_key_id", "user_id", "team_id"]),
        "openrouter" | "moonshot" | "firecrawl" => has(&["data"]),
        "huggingface" => has(&["name", "auth"]),
        "gitlab" => has(&["scopes", "active"]),
        "stripe" => j["object"] == "balance" || has(&["available"]),
        "sendgrid" => j["scopes"].is_array(),
        "npm" => has(&["username"]),
        "replicate" => has(&["username", "type"]),
        "google" | "baseten" => has(&["models"]),
        "fireworks" => has(&["accounts"]),
        "pinecone" => has(&["indexes"]),
        "cohere" => j["valid"] == true,
        "elevenlabs" => has(&["subscription", "user_id", "xi_api_key"]),
        "assemblyai" => has(&["transcripts"]),
        "deepinfra" => has(&["uid", "email"]),
        "perplexity" => has(&["requests"]),
        "tavily" => has(&["key", "account"]),
        "stability" => has(&["id", "email"]),
        "runway" => has(&["creditBalance", "tier"]),
        "deepgram" => has(&["projects"]),
        // Slack is classified on its own (`ok`); a provider without a shape here is not live.
        _ => false,
    }
}

/// The error code in an OpenAI/Anthropic/Slack style JSON error, a Google `google.rpc` error
/// (its ErrorInfo reason, else its status) or an ElevenLabs `detail`.
fn error_code(j: &serde_json::Value) -> Option<String> {
    let e = &j["error"];
    let google_reason = || {
        e["details"]
            .as_array()?
            .iter()
            .find_map(|d| d["reason"].as_str())
    };
    e["code"]
        .as_str()
        .or_else(|| e["type"].as_str())
        .or_else(google_reason)
        .or_else(|| e["status"].as_str())
        .or_else(|| e.as_str())
        .or_else(|| j["type"].as_str())
        .or_else(|| j["detail"]["status"].as_str())
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
        if let Some(value) = r.header(h).filter(|s| plain(s)) {
            v.metadata.insert((*h).to_string(), value.to_string());
        }
    }
    if let Some(j) = json {
        for k in ["login", "name", "username", "label"] {
            if let Some(s) = j[k].as_str().filter(|s| plain(s)) {
                v.metadata.insert(k.to_string(), s.to_string());
            }
        }
        if let Some(scopes) = j["scopes"].as_array() {
            let s: Vec<&str> = scopes.iter().filter_map(|x| x.as_str()).collect();
            let s = s.join(",");
            if plain(&s) {
                v.metadata.insert("scopes".into(), s);
            }
        }
    }
}

/// A metadata value worth keeping: short, printable ASCII (an identifier, a scope list, a
/// number), not a sentence or a control sequence.
fn plain(s: &str) -> bool {
    s.len() <= 200 && s.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11: each AI provider's key goes to its issuer's host, over https, and only there.
    #[test]
    fn issue_11_ai_checks_go_only_to_their_issuer() {
        for (provider, host) in [
            ("google", "generativelanguage.googleapis.com"),
            ("cerebras", "api.cerebras.ai"),
            ("together", "api.together.xyz"),
            ("fireworks", "api.fireworks.ai"),
            ("pinecone", "api.pinecone.io"),
            ("mistral", "api.mistral.ai"),
            ("cohere", "api.cohere.com"),
            ("elevenlabs", "api.elevenlabs.io"),
            ("moonshot", "api.moonshot.ai"),
            ("assemblyai", "api.assemblyai.com"),
            ("deepinfra", "api.deepinfra.com"),
            ("langsmith", "api.smith.langchain.com"),
            ("perplexity", "api.perplexity.ai"),
            ("tavily", "api.tavily.com"),
            ("firecrawl", "api.firecrawl.dev"),
            ("stability", "api.stability.ai"),
            ("runway", "api.dev.runwayml.com"),
            ("deepgram", "api.deepgram.com"),
            ("baseten", "api.baseten.co"),
            ("llamacloud", "api.cloud.llamaindex.ai"),
            ("retell", "api.retellai.com"),
        ] {
            let check = check_for(provider).unwrap_or_else(|| panic!("{provider}: no check"));
            assert_eq!(check.base, format!("https://{host}"), "{provider}");
            assert!(check.path.starts_with('/'), "{provider}");
            assert!(unsupported_reason(provider).is_none(), "{provider}");
        }
    }

    /// Issue 11: a provider without a check says why, in one line.
    #[test]
    fn issue_11_unsupported_providers_say_why() {
        for provider in [
            "azure-openai",
            "ibm",
            "nvidia",
            "voyage",
            "wandb",
            "zai",
            "aws",
            "jina",
            "langfuse",
            "friendli",
            "clarifai",
            "coze",
            "devin",
            "exa",
            "ollama",
            "cursor",
            "greptile",
        ] {
            assert!(check_for(provider).is_none(), "{provider}");
            let why = unsupported_reason(provider).unwrap_or_else(|| panic!("{provider}"));
            assert!(!why.contains('\n') && why.len() < 160, "{provider}: {why}");
        }
    }

    fn status_of(provider: &str, status: u16, body: &str) -> Option<Status> {
        let check = check_for(provider).expect("a check");
        let r = Response {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
        };
        match classify(&check, &r) {
            Outcome::Done(v) => Some(v.status),
            Outcome::Retry => None,
        }
    }

    /// Issue 19 item 15: a verdict quotes a provider's code only when it is a known one, and
    /// metadata only when it is plain: free text may repeat the key.
    #[test]
    fn verdicts_quote_only_known_codes_and_plain_fields() {
        let check = check_for("openai").expect("a check");
        let answer = |status: u16, body: &str| Response {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
        };
        let reason = |r: &Response| match classify(&check, r) {
            Outcome::Done(v) => v.reason,
            Outcome::Retry => panic!("retry"),
        };
        let said = reason(&answer(
            401,
            r#"{"error":"Incorrect API key provided: sk-xyz"}"#,
        ));
        assert!(!said.contains("sk-xyz"), "{said}");
        let said = reason(&answer(401, r#"{"error":{"code":"invalid_api_key"}}"#));
        assert!(said.contains("(invalid_api_key)"), "{said}");
        let live = answer(
            200,
            r#"{"data":[],"login":"octocat","name":"line one\nline two","label":"\u001b[2J"}"#,
        );
        let Outcome::Done(v) = classify(&check, &live) else {
            panic!("retry")
        };
        assert_eq!(v.metadata.get("login").map(String::as_str), Some("octocat"));
        assert!(!v.metadata.contains_key("name") && !v.metadata.contains_key("label"));
    }

    /// Issue 11: the answers that differ from the common 200/401/403 mapping.
    #[test]
    fn issue_11_provider_specific_answers() {
        let google_invalid = r#"{"error":{"code":400,"status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}"#;
        let google_disabled = r#"{"error":{"code":403,"status":"PERMISSION_DENIED","details":[{"reason":"SERVICE_DISABLED"}]}}"#;
        let cases = [
            ("google", 400, google_invalid, Some(Status::Invalid)),
            (
                "google",
                400,
                r#"{"error":{"code":400,"status":"INVALID_ARGUMENT"}}"#,
                Some(Status::Unknown),
            ),
            ("google", 403, google_disabled, Some(Status::Live)),
            ("cohere", 200, r#"{"valid":false}"#, Some(Status::Invalid)),
            (
                "cohere",
                200,
                r#"{"valid":true,"organization_id":"o"}"#,
                Some(Status::Live),
            ),
            (
                "elevenlabs",
                401,
                r#"{"detail":{"status":"missing_permissions"}}"#,
                Some(Status::Live),
            ),
            (
                "elevenlabs",
                401,
                r#"{"detail":{"status":"invalid_api_key"}}"#,
                Some(Status::Invalid),
            ),
            (
                "moonshot",
                401,
                r#"{"error":{"type":"invalid_authentication_error"}}"#,
                Some(Status::Unknown),
            ),
            (
                "langsmith",
                401,
                r#"{"detail":"Invalid token"}"#,
                Some(Status::Unknown),
            ),
            (
                "pinecone",
                401,
                r#"{"error":{"code":"UNAUTHENTICATED"},"status":401}"#,
                Some(Status::Invalid),
            ),
            (
                "mistral",
                429,
                r#"{"message":"Requests rate limit exceeded"}"#,
                None,
            ),
            // Issue 19 item 15: a 2xx is live only in the provider's own shape.
            (
                "openai",
                200,
                r#"{"object":"list","data":[]}"#,
                Some(Status::Live),
            ),
            ("openai", 200, "{}", Some(Status::Unknown)),
            ("openai", 200, "[]", Some(Status::Unknown)),
            ("github", 200, r#"{"login":"octocat"}"#, Some(Status::Live)),
            ("github", 200, r#"{"data":[]}"#, Some(Status::Unknown)),
            ("cohere", 200, r#"{"valid":"yes"}"#, Some(Status::Unknown)),
        ];
        for (provider, status, body, want) in cases {
            assert_eq!(
                status_of(provider, status, body),
                want,
                "{provider} {status} {body}"
            );
        }
    }
}
