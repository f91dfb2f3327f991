//! Issue 11: the AI providers' live checks, against one loopback server that plays each of them,
//! and the providers left `unsupported`, which must say why.
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::harness::{Rng, TestRepo, ALNUM, BASE64URL};

const HEX: &[u8] = b"0123456789abcdef";
const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A fake key in a rule's shape: `make` draws it, again until none of the words the
/// placeholder filter drops shows.
fn fake(seed: u64, make: fn(&mut Rng) -> String) -> String {
    let mut r = Rng::new(seed);
    loop {
        let key = make(&mut r);
        let lower = key.to_ascii_lowercase();
        if !keyhound::detect::filter::PLACEHOLDER_WORDS
            .iter()
            .any(|w| lower.contains(w))
        {
            return key;
        }
    }
}

/// A request the server saw: method, path with query, headers (names lower-cased).
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

#[derive(Clone)]
struct Answer {
    status: u16,
    content_type: &'static str,
    body: String,
}

fn json(status: u16, body: &str) -> Answer {
    Answer {
        status,
        content_type: "application/json",
        body: body.into(),
    }
}

/// A proxy's error page: not the provider's answer.
fn proxy_page() -> Answer {
    Answer {
        status: 502,
        content_type: "text/html",
        body: "<html><body>502 Bad Gateway</body></html>".into(),
    }
}

/// Serve `answers[key]` on an ephemeral loopback port, the key taken from whichever header
/// carries it (bearer or raw); every request is logged.
fn serve(answers: HashMap<String, Answer>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = Arc::clone(&seen);
    let answers = Arc::new(answers);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (log, answers) = (Arc::clone(&log), Arc::clone(&answers));
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                let mut words = line.split_whitespace();
                let method = words.next().unwrap_or("").to_string();
                let path = words.next().unwrap_or("").to_string();
                let mut headers = Vec::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = h.split_once(':') {
                        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
                    }
                }
                let answer = headers
                    .iter()
                    .find_map(|(_, v)| {
                        let key = ["Bearer ", "Token ", "Api-Key "]
                            .iter()
                            .find_map(|scheme| v.strip_prefix(scheme))
                            .unwrap_or(v);
                        answers.get(key)
                    })
                    .cloned()
                    .unwrap_or_else(|| json(404, r#"{"error":"no such key"}"#));
                log.lock().unwrap().push(Seen {
                    method,
                    path,
                    headers,
                });
                let head = format!(
                    "HTTP/1.1 {} X\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    answer.status,
                    answer.content_type,
                    answer.body.len()
                );
                let mut stream = stream;
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(answer.body.as_bytes());
            });
        }
    });
    (base, seen)
}

/// One provider's check as its documentation describes it, and a fake key in its rule's shape.
struct Provider {
    name: &'static str,
    key: fn(&mut Rng) -> String,
    /// How the key appears in a scanned file.
    line: fn(&str) -> String,
    method: &'static str,
    path: &'static str,
    /// Header that carries the key, and what precedes the key in it.
    auth: (&'static str, &'static str),
    headers: &'static [(&'static str, &'static str)],
    /// The answer of the provider to a live key.
    live: &'static str,
    /// The answer of the provider to a key it does not know, and the verdict it gets.
    invalid: (u16, &'static str, &'static str),
}

const BEARER: (&str, &str) = ("authorization", "Bearer ");
const OPENAI_401: (u16, &str, &str) = (
    401,
    r#"{"error":{"message":"Invalid API key","type":"invalid_request_error","code":"invalid_api_key"}}"#,
    "invalid",
);

fn providers() -> Vec<Provider> {
    vec![
        Provider {
            name: "google",
            key: |r| format!("AQ.{}", r.string(BASE64URL, 50)),
            line: |k| format!("GEMINI_API_KEY={k}"),
            method: "GET",
            path: "/v1beta/models?pageSize=1",
            auth: ("x-goog-api-key", ""),
            headers: &[],
            live: r#"{"models":[{"name":"models/gemini-2.5-flash"}],"nextPageToken":"x"}"#,
            invalid: (
                400,
                r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}"#,
                "invalid",
            ),
        },
        Provider {
            name: "cerebras",
            key: |r| format!("csk-{}", r.string(LOWER_ALNUM, 48)),
            line: |k| format!("CEREBRAS_API_KEY={k}"),
            method: "GET",
            path: "/v1/models",
            auth: BEARER,
            headers: &[],
            live: r#"{"object":"list","data":[]}"#,
            invalid: OPENAI_401,
        },
        Provider {
            name: "together",
            key: |r| format!("tgp_v1_{}", r.string(BASE64URL, 43)),
            line: |k| format!("TOGETHER_API_KEY={k}"),
            method: "GET",
            path: "/v1/models",
            auth: BEARER,
            headers: &[],
            live: r#"[{"id":"m","object":"model"}]"#,
            invalid: OPENAI_401,
        },
        Provider {
            name: "fireworks",
            key: |r| format!("fw_{}", r.string(ALNUM, 24)),
            line: |k| format!("FIREWORKS_API_KEY={k}"),
            method: "GET",
            path: "/v1/accounts",
            auth: BEARER,
            headers: &[],
            live: r#"{"accounts":[{"name":"accounts/a"}],"totalSize":1}"#,
            invalid: (401, r#"{"error":"unauthorized"}"#, "invalid"),
        },
        Provider {
            name: "pinecone",
            key: |r| format!("pcsk_{}_{}", r.string(ALNUM, 6), r.string(ALNUM, 63)),
            line: |k| format!("PINECONE_API_KEY={k}"),
            method: "GET",
            path: "/indexes",
            auth: ("api-key", ""),
            headers: &[("x-pinecone-api-version", "2025-04")],
            live: r#"{"indexes":[]}"#,
            invalid: (
                401,
                r#"{"error":{"code":"UNAUTHENTICATED","message":"Invalid API Key"},"status":401}"#,
                "invalid",
            ),
        },
        Provider {
            name: "mistral",
            key: |r| r.string(ALNUM, 32),
            line: |k| format!("MISTRAL_API_KEY={k}"),
            method: "GET",
            path: "/v1/models",
            auth: BEARER,
            headers: &[],
            live: r#"{"object":"list","data":[]}"#,
            invalid: (401, r#"{"message":"Unauthorized"}"#, "invalid"),
        },
        Provider {
            name: "cohere",
            key: |r| r.string(ALNUM, 40),
            line: |k| format!("COHERE_API_KEY={k}"),
            method: "POST",
            path: "/v1/check-api-key",
            auth: BEARER,
            headers: &[],
            live: r#"{"valid":true,"organization_id":"org","owner_id":"owner"}"#,
            invalid: (401, r#"{"message":"invalid api token"}"#, "invalid"),
        },
        Provider {
            name: "elevenlabs",
            key: |r| format!("sk_{}", r.string(HEX, 48)),
            line: |k| format!("ELEVENLABS_API_KEY={k}"),
            method: "GET",
            path: "/v1/user",
            auth: ("xi-api-key", ""),
            headers: &[],
            live: r#"{"subscription":{"tier":"free"},"is_new_user":false}"#,
            invalid: (
                401,
                r#"{"detail":{"status":"invalid_api_key","message":"Invalid API key"}}"#,
                "invalid",
            ),
        },
        Provider {
            name: "moonshot",
            key: |r| format!("sk-{}", r.string(ALNUM, 48)),
            line: |k| format!("MOONSHOT_API_KEY={k}"),
            method: "GET",
            path: "/v1/users/me/balance",
            auth: BEARER,
            headers: &[],
            live: r#"{"code":0,"data":{"available_balance":1.5},"status":true}"#,
            // A key of Moonshot's other region is refused the same way: not proof of a dead key.
            invalid: (
                401,
                r#"{"error":{"message":"Invalid Authentication","type":"invalid_authentication_error"}}"#,
                "unknown",
            ),
        },
        Provider {
            name: "assemblyai",
            key: |r| r.string(HEX, 32),
            line: |k| format!("ASSEMBLYAI_API_KEY={k}"),
            method: "GET",
            path: "/v2/transcript?limit=1",
            auth: ("authorization", ""),
            headers: &[],
            live: r#"{"page_details":{"limit":1},"transcripts":[]}"#,
            invalid: (
                401,
                r#"{"error":"Authentication error, API token missing/invalid"}"#,
                "invalid",
            ),
        },
        Provider {
            name: "deepinfra",
            key: |r| r.string(ALNUM, 32),
            line: |k| format!("DEEPINFRA_API_KEY={k}"),
            method: "GET",
            path: "/v1/me",
            auth: BEARER,
            headers: &[],
            live: r#"{"uid":"u","email":"e"}"#,
            invalid: (401, r#"{"detail":{"error":"Invalid token"}}"#, "invalid"),
        },
        Provider {
            name: "langsmith",
            key: |r| format!("lsv2_pt_{}_{}", r.string(HEX, 32), r.string(HEX, 10)),
            line: |k| format!("LANGSMITH_API_KEY={k}"),
            method: "GET",
            path: "/api/v1/sessions?limit=1",
            auth: ("x-api-key", ""),
            headers: &[],
            live: "[]",
            // An EU-region key is refused by the US host the same way.
            invalid: (401, r#"{"detail":"Invalid token"}"#, "unknown"),
        },
        Provider {
            name: "perplexity",
            key: |r| format!("pplx-{}", r.string(ALNUM, 48)),
            line: |k| format!("PERPLEXITY_API_KEY={k}"),
            method: "GET",
            path: "/async/chat/completions",
            auth: BEARER,
            headers: &[],
            live: r#"{"requests":[]}"#,
            invalid: OPENAI_401,
        },
        Provider {
            name: "tavily",
            key: |r| format!("tvly-dev-{}", r.string(ALNUM, 32)),
            line: |k| format!("TAVILY_API_KEY={k}"),
            method: "GET",
            path: "/usage",
            auth: BEARER,
            headers: &[],
            live: r#"{"key":{"usage":12,"limit":1000},"account":{"current_plan":"Researcher"}}"#,
            invalid: (
                401,
                r#"{"detail":{"error":"Unauthorized: missing or invalid API key."}}"#,
                "invalid",
            ),
        },
        Provider {
            name: "firecrawl",
            key: |r| format!("fc-{}", r.string(HEX, 32)),
            line: |k| format!("FIRECRAWL_API_KEY={k}"),
            method: "GET",
            path: "/v1/team/credit-usage",
            auth: BEARER,
            headers: &[],
            live: r#"{"success":true,"data":{"remaining_credits":500}}"#,
            invalid: (
                401,
                r#"{"success":false,"error":"Unauthorized: Invalid token"}"#,
                "invalid",
            ),
        },
        Provider {
            name: "stability",
            key: |r| format!("sk-{}", r.string(ALNUM, 48)),
            line: |k| format!("STABILITY_API_KEY={k}"),
            method: "GET",
            path: "/v1/user/account",
            auth: BEARER,
            headers: &[],
            live: r#"{"id":"user-1","email":"e","organizations":[]}"#,
            invalid: (
                401,
                r#"{"id":"x","name":"unauthorized","message":"Incorrect API key provided"}"#,
                "invalid",
            ),
        },
        Provider {
            name: "runway",
            key: |r| format!("key_{}", r.string(HEX, 128)),
            line: |k| format!("RUNWAYML_API_SECRET={k}"),
            method: "GET",
            path: "/v1/organization",
            auth: BEARER,
            headers: &[("x-runway-version", "2024-11-06")],
            live: r#"{"creditBalance":100,"tier":{"maxMonthlyCreditSpend":1000}}"#,
            invalid: (401, r#"{"error":"Invalid API key"}"#, "invalid"),
        },
        Provider {
            name: "deepgram",
            key: |r| r.string(HEX, 40),
            line: |k| format!("DEEPGRAM_API_KEY={k}"),
            method: "GET",
            path: "/v1/projects",
            auth: ("authorization", "Token "),
            headers: &[],
            live: r#"{"projects":[{"project_id":"p","name":"n"}]}"#,
            invalid: (
                401,
                r#"{"err_code":"INVALID_AUTH","err_msg":"Invalid credentials."}"#,
                "invalid",
            ),
        },
        Provider {
            name: "baseten",
            key: |r| format!("{}.{}", r.string(ALNUM, 8), r.string(ALNUM, 32)),
            line: |k| format!("BASETEN_API_KEY={k}"),
            method: "GET",
            path: "/v1/models",
            auth: ("authorization", "Api-Key "),
            headers: &[],
            live: r#"{"models":[]}"#,
            invalid: (401, r#"{"error":"Invalid API key"}"#, "invalid"),
        },
        Provider {
            name: "llamacloud",
            key: |r| format!("llx-{}", r.string(ALNUM, 48)),
            line: |k| format!("LLAMA_CLOUD_API_KEY={k}"),
            method: "GET",
            path: "/api/v1/projects",
            auth: BEARER,
            headers: &[],
            live: r#"[{"id":"p","name":"Default","organization_id":"o"}]"#,
            invalid: (401, r#"{"detail":"Invalid API Key"}"#, "invalid"),
        },
        Provider {
            name: "retell",
            key: |r| format!("key_{}", r.string(HEX, 28)),
            line: |k| format!("RETELL_API_KEY={k}"),
            method: "GET",
            path: "/list-agents",
            auth: BEARER,
            headers: &[],
            live: "[]",
            invalid: (
                401,
                r#"{"status":"error","message":"Invalid API Key"}"#,
                "invalid",
            ),
        },
    ]
}

/// Findings of a JSON report made with --show-secrets: secret -> (provider, verification).
fn findings(run: &crate::harness::Run) -> HashMap<String, (String, serde_json::Value)> {
    run.json()["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings array:\n{}", run.stderr))
        .iter()
        .map(|f| {
            (
                f["secret"].as_str().unwrap().to_string(),
                (
                    f["provider"].as_str().unwrap_or("").to_string(),
                    f["verification"].clone(),
                ),
            )
        })
        .collect()
}

/// Issue 11: for each AI provider with a check, a live answer is `live`, the provider's
/// refusal is `invalid` (or `unknown` where another region issues the same keys), a proxy's
/// 502 page is `unknown`, and each request carries the key where the provider's
/// documentation puts it, to the documented method and path, and nowhere else.
#[test]
fn issue_11_ai_provider_checks_map_answers_and_send_the_key_where_documented() {
    let providers = providers();
    // (provider index, key, expected status)
    let mut cases: Vec<(usize, String, &str)> = Vec::new();
    let mut answers = HashMap::new();
    for (i, p) in providers.iter().enumerate() {
        let seed = 1100 + 10 * i as u64;
        let (live, invalid, proxy) = (
            fake(seed, p.key),
            fake(seed + 1, p.key),
            fake(seed + 2, p.key),
        );
        answers.insert(live.clone(), json(200, p.live));
        answers.insert(invalid.clone(), json(p.invalid.0, p.invalid.1));
        answers.insert(proxy.clone(), proxy_page());
        cases.push((i, live, "live"));
        cases.push((i, invalid, p.invalid.2));
        cases.push((i, proxy, "unknown"));
    }
    // The answers only some providers give.
    let index = |name: &str| providers.iter().position(|p| p.name == name).unwrap();
    let mut extra = |name: &str, key: String, answer: Answer, want: &'static str| {
        answers.insert(key.clone(), answer);
        cases.push((index(name), key, want));
    };
    extra(
        "google",
        fake(1390, |r| format!("AIza{}", r.string(BASE64URL, 35))),
        json(
            403,
            r#"{"error":{"code":403,"status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED"}]}}"#,
        ),
        "live",
    );
    extra(
        "cohere",
        fake(1391, |r| r.string(ALNUM, 40)),
        json(200, r#"{"valid":false}"#),
        "invalid",
    );
    extra(
        "elevenlabs",
        fake(1392, |r| format!("sk_{}", r.string(HEX, 48))),
        json(
            401,
            r#"{"detail":{"status":"missing_permissions","message":"The API key you used is missing the permission user_read to execute this operation."}}"#,
        ),
        "live",
    );
    let (base, seen) = serve(answers);
    let repo = TestRepo::dir();
    for (n, (i, key, _)) in cases.iter().enumerate() {
        repo.write(
            &format!("keys/{}-{n}.env", providers[*i].name),
            format!("{}\n", (providers[*i].line)(key)),
        );
    }
    let mut args: Vec<String> = [
        "scan",
        ".",
        "--verify",
        "--no-cache",
        "--verify-rps",
        "100",
        "--verify-concurrency",
        "8",
        "--format",
        "json",
        "--show-secrets",
    ]
    .map(String::from)
    .to_vec();
    for p in &providers {
        args.push("--verify-endpoint".into());
        args.push(format!("{}={base}", p.name));
    }
    let run = repo.keyhound(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found = findings(&run);
    let seen = seen.lock().unwrap().clone();
    for (i, key, want) in &cases {
        let p = &providers[*i];
        let (provider, verification) = found
            .get(key)
            .unwrap_or_else(|| panic!("{}: a key in the rule's shape was not found", p.name));
        assert_eq!(provider, p.name, "attributed to its provider");
        assert_eq!(
            verification["status"], *want,
            "{}: {}",
            p.name, verification["reason"]
        );
        let requests: Vec<&Seen> = seen
            .iter()
            .filter(|s| s.headers.iter().any(|(_, v)| v.contains(key.as_str())))
            .collect();
        assert_eq!(requests.len(), 1, "{}: one request per key", p.name);
        let s = requests[0];
        assert_eq!(
            (s.method.as_str(), s.path.as_str()),
            (p.method, p.path),
            "{}",
            p.name
        );
        let carriers: Vec<&(String, String)> = s
            .headers
            .iter()
            .filter(|(_, v)| v.contains(key.as_str()))
            .collect();
        assert_eq!(
            carriers,
            [&(p.auth.0.to_string(), format!("{}{key}", p.auth.1))],
            "{}: the key travels in the documented header, and only there",
            p.name
        );
        for (name, value) in p.headers {
            assert!(
                s.headers.iter().any(|(k, v)| k == name && v == value),
                "{}: header {name} missing",
                p.name
            );
        }
    }
    assert_eq!(seen.len(), cases.len(), "no request without a known key");
}

/// Issue 11: providers without a free read-only check are `unsupported`, say why in one
/// line, and send nothing.
#[test]
fn issue_11_unsupported_ai_providers_say_why() {
    let cases: [(&str, String, &str); 9] = [
        (
            "azure-openai",
            fake(1400, |r| {
                format!(
                    "{}JQQJ99{}ACOG{}",
                    r.string(ALNUM, 52),
                    r.string(ALNUM, 18),
                    r.string(ALNUM, 4)
                )
            }),
            "*.openai.azure.com",
        ),
        (
            "voyage",
            fake(1401, |r| {
                format!("VOYAGE_API_KEY=pa-{}", r.string(BASE64URL, 43))
            }),
            "billed",
        ),
        (
            "nvidia",
            fake(1402, |r| format!("nvapi-{}", r.string(BASE64URL, 64))),
            "without a key",
        ),
        (
            "wandb",
            fake(1403, |r| {
                format!("wandb_v1_{}_{}", r.string(ALNUM, 27), r.string(ALNUM, 49))
            }),
            "GraphQL",
        ),
        (
            "zai",
            fake(1404, |r| {
                format!(
                    "ZHIPUAI_API_KEY={}.{}",
                    r.string(HEX, 32),
                    r.string(ALNUM, 16)
                )
            }),
            "open.bigmodel.cn",
        ),
        (
            "ibm",
            fake(1405, |r| {
                format!("IBM_CLOUD_API_KEY={}", r.string(BASE64URL, 44))
            }),
            "mints a new credential",
        ),
        (
            "jina",
            fake(1406, |r| {
                format!(
                    "JINA_API_KEY=jina_{}{}",
                    r.string(HEX, 32),
                    r.string(BASE64URL, 28)
                )
            }),
            "spend its tokens",
        ),
        (
            "langfuse",
            fake(1407, |r| {
                let h = r.string(HEX, 32);
                format!(
                    "LANGFUSE_SECRET_KEY=sk-lf-{}-{}-{}-{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..]
                )
            }),
            "public key",
        ),
        (
            "exa",
            fake(1408, |r| {
                let h = r.string(HEX, 32);
                format!(
                    "EXA_API_KEY={}-{}-{}-{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..]
                )
            }),
            "billed",
        ),
    ];
    let repo = TestRepo::dir();
    for (n, (_, line, _)) in cases.iter().enumerate() {
        repo.write(&format!("k{n}.env"), format!("{line}\n"));
    }
    let run = repo.keyhound(&[
        "scan",
        ".",
        "--verify",
        "--format",
        "json",
        "--show-secrets",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found = findings(&run);
    for (provider, _, why) in cases {
        let (_, v) = found
            .values()
            .find(|(p, _)| p == provider)
            .unwrap_or_else(|| panic!("{provider}: no finding\n{}", run.stdout));
        assert_eq!(v["status"], "unsupported", "{provider}");
        let reason = v["reason"].as_str().unwrap();
        assert!(
            reason.contains(why) && !reason.contains('\n'),
            "{provider}: {reason}"
        );
    }
}
