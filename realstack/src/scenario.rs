//! Real-stack scenario files: the same header as model scenarios (version, name, model,
//! description, origin, invariants, step_bound, schedulers, expect) plus the tables that script
//! the real crates: `[outcomes]`, `[differential]` and `[[cases]]` with their requests and
//! servers. Every table denies unknown keys; every error names `file:line:column`.
//!
//! A scenario holds one or more cases; each case is one client subject (`h2`, `hyper`,
//! `hyper-util`) against scripted h2 servers, explored on its own with the scheduler's full
//! iteration budget. The file's `model` names the main subject (the harness hands the file to
//! [`crate::RealCrates`] on it).

use crate::outcome::{Disposition, OutcomeClass};
use crate::Error;
use poolcheck_harness::backend::SchedulerSpec;
use poolcheck_harness::scenario::limits::{kebab_case, ITERATIONS, PCT_DEPTH};
use poolcheck_harness::scenario::{read_source, About, Header, MAX_SCENARIO_BYTES};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::{Range, RangeInclusive};
use std::path::Path;
use toml::Spanned;

/// Real-crate subjects: the values `model` and `client` may take.
pub const SUBJECTS: &[&str] = &["h2", "hyper", "hyper-util"];

/// The properties a real-stack run checks, with what holds when they do.
pub const PROPERTIES: &[(&str, &str)] = &[
    (
        "request-answered",
        "every request ends with a response or an error; none hangs",
    ),
    (
        "processed-once",
        "the server's handler accepts each request at most once",
    ),
    (
        "stream-after-goaway",
        "after the client read a GOAWAY, it opens no stream above its last-stream-id",
    ),
    (
        "max-streams",
        "after the client acknowledged MAX_CONCURRENT_STREAMS, it never has more streams open",
    ),
    (
        "frames-decode",
        "every frame on the wire decodes, header blocks included",
    ),
];

/// The properties every real-stack scenario checks.
pub const DEFAULT_INVARIANTS: &[&str] = &[
    "request-answered",
    "processed-once",
    "stream-after-goaway",
    "max-streams",
    "frames-decode",
];

/// The default shuttle-step bound per execution of the real crates. Not the models'
/// `DEFAULT_STEP_BOUND` (5,000 facade scheduling points): every await point of h2, hyper and
/// hyper-util is a shuttle step, so one request takes hundreds.
pub const REAL_DEFAULT_STEP_BOUND: u64 = 20_000;

/// A request `body` at most, in bytes (the body is one buffer in memory).
pub const MAX_BODY: usize = 1 << 20;

/// `duplex_capacity`'s range, in bytes.
pub const DUPLEX_CAPACITY: RangeInclusive<usize> = 64..=(16 << 20);

/// Requests a case may have.
pub const MAX_REQUESTS: usize = 16;

/// `max_concurrent_streams` at most (HTTP/2's stream ids are 31 bits).
pub const MAX_STREAMS: u32 = (1 << 31) - 1;

/// The largest step count in `start_after`, `handshake_after`, `shutdown_after` and
/// `respond_after`.
pub const MAX_STEPS: u32 = 1_000_000;

/// A request name: 1 to 32 ASCII letters, digits, `-`, `_` or `.`, starting with a letter or
/// digit (the harness's actor-name rule: requests are lanes in reports).
fn request_name(name: &str) -> Result<(), String> {
    let ok = (1..=32).contains(&name.len())
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        return Ok(());
    }
    let shown: String = name.chars().take(40).collect();
    Err(format!(
        "the request name `{}` must be 1 to 32 ASCII letters, digits, `-`, `_` or `.`",
        shown.escape_debug()
    ))
}

/// A host: a DNS name of lowercase labels (`a`, `api.example`), at most 253 characters, that
/// `http::Uri` accepts as an authority.
fn host_name(host: &str) -> Result<(), String> {
    let labels_ok = host.split('.').all(|l| {
        (1..=63).contains(&l.len())
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    });
    let uri_ok = format!("http://{host}/").parse::<http::Uri>().is_ok();
    if host.len() <= 253 && labels_ok && uri_ok {
        return Ok(());
    }
    let shown: String = host.chars().take(40).collect();
    Err(format!(
        "the host `{}` is not a host name (lowercase letters, digits and `-` in dot-separated \
         labels, like `a` or `api.example`)",
        shown.escape_debug()
    ))
}

/// Which client drives the requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// `h2::client` on one connection per host.
    H2,
    /// `hyper::client::conn::http2` on one connection per host.
    Hyper,
    /// `hyper_util::client::legacy::Client` (its pool connects through our connector).
    HyperUtil,
}

impl Subject {
    /// The name used in files.
    pub fn name(self) -> &'static str {
        match self {
            Subject::H2 => "h2",
            Subject::Hyper => "hyper",
            Subject::HyperUtil => "hyper-util",
        }
    }

    fn from_name(s: &str) -> Option<Self> {
        match s {
            "h2" => Some(Subject::H2),
            "hyper" => Some(Subject::Hyper),
            "hyper-util" => Some(Subject::HyperUtil),
            _ => None,
        }
    }

    /// Whether the subject retries on its own (hyper-util's `retry_canceled_requests`).
    pub fn has_retry_layer(self) -> bool {
        self == Subject::HyperUtil
    }
}

/// An explored number of scheduling steps: shuttle's random source picks one in `lo..=hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Steps {
    /// Smallest.
    pub lo: u32,
    /// Largest.
    pub hi: u32,
}

/// How the server ends a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// `h2::server::Connection::graceful_shutdown`: GOAWAY(2^31-1), PING, GOAWAY(last id).
    Graceful,
    /// `h2::server::Connection::abrupt_shutdown(NO_ERROR)`: GOAWAY(last id), then close.
    Abrupt,
}

/// The scripted h2 server for one host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerScript {
    /// The host it serves.
    pub host: String,
    /// MAX_CONCURRENT_STREAMS in its initial SETTINGS.
    pub max_concurrent_streams: Option<u32>,
    /// Steps before it reads anything and sends its SETTINGS.
    pub handshake_after: Steps,
    /// How it shuts the connection down, if it does.
    pub shutdown: Option<Shutdown>,
    /// Steps after its handshake before it shuts down.
    pub shutdown_after: Steps,
    /// How many of the host's connections (the first ones) run the shutdown.
    pub shutdown_connections: u32,
    /// Steps its handler takes before responding (from its own task).
    pub respond_after: Steps,
    /// Requests it answers with RST_STREAM(REFUSED_STREAM) on their first attempt.
    pub refuse: Vec<String>,
    /// Requests that must end before it reads anything (it "stops reading" until then).
    pub stall_until: Vec<String>,
}

impl ServerScript {
    fn plain(host: &str) -> Self {
        ServerScript {
            host: host.to_owned(),
            max_concurrent_streams: None,
            handshake_after: Steps::default(),
            shutdown: None,
            shutdown_after: Steps::default(),
            shutdown_connections: 1,
            respond_after: Steps::default(),
            refuse: Vec::new(),
            stall_until: Vec::new(),
        }
    }
}

/// One client request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestSpec {
    /// Its name (sent as the `x-req` header).
    pub name: String,
    /// The host it goes to.
    pub host: String,
    /// Steps before it starts.
    pub start_after: Steps,
    /// Request body bytes (a POST when non-zero, else a GET).
    pub body: usize,
}

/// One subject against its servers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// Its name (unique in the scenario).
    pub name: String,
    /// The client.
    pub client: Subject,
    /// The requests, each on its own task.
    pub requests: Vec<RequestSpec>,
    /// One server script per host the requests name.
    pub servers: Vec<ServerScript>,
    /// Every class's disposition (the scenario's, with this case's overrides).
    pub outcomes: BTreeMap<OutcomeClass, Disposition>,
    /// Why this case's dispositions are what they are.
    pub note: Option<String>,
    /// How the client is connected to its servers and to shuttle.
    pub wiring: Wiring,
}

/// How a case's client is connected to its servers (in-memory duplex pipes) and to shuttle
/// (the executor hyper spawns its tasks with): the runtime glue's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wiring {
    /// Bytes each direction of an in-memory connection buffers before a write waits.
    pub duplex_capacity: usize,
    /// Spawn hyper's tasks directly on shuttle, under hyper-util's pool lock: the known trap,
    /// kept to show the watchdog at work (`executor = "direct"`; default `"deferred"`).
    pub direct_spawn: bool,
}

impl Case {
    /// The server script for `host`.
    pub fn server(&self, host: &str) -> &ServerScript {
        self.servers
            .iter()
            .find(|s| s.host == host)
            .expect("validated: every host has a script")
    }
}

/// The model side of the differential check: the model scenario is run and its outcome classes
/// are compared with the real crates'; only the documented differences are written by hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Differential {
    /// The model scenario it mirrors (a file in the same folder).
    pub model_scenario: String,
    /// Classes the real stack shows that the model does not reach, explained in `note`.
    pub known_differences: Vec<OutcomeClass>,
    /// The explanation.
    pub note: String,
}

/// A validated real-stack scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct RealScenario {
    /// Its file, name, model, description and origin, as every scenario has them.
    pub about: About,
    /// The main subject (`about.model`).
    pub model: Subject,
    /// Properties checked.
    pub invariants: Vec<String>,
    /// Scheduling steps per execution.
    pub step_bound: u64,
    /// Schedulers with their budgets (iterations per case), in file order: random, pct.
    pub schedulers: Vec<SchedulerSpec>,
    /// The expected verdict of variant `upstream`.
    pub expect: String,
    /// The differential check, if this scenario mirrors a model scenario.
    pub differential: Option<Differential>,
    /// The cases.
    pub cases: Vec<Case>,
}

impl RealScenario {
    /// The scheduler named `name`, with the file's budget.
    pub fn scheduler(&self, name: &str) -> Option<&SchedulerSpec> {
        self.schedulers.iter().find(|b| b.name() == name)
    }

    /// The case named `name`.
    pub fn case(&self, name: &str) -> Option<&Case> {
        self.cases.iter().find(|c| c.name == name)
    }
}

// ---------------------------------------------------------------------------------------------
// The file format as serde sees it.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    version: Spanned<i64>,
    name: Spanned<String>,
    model: Spanned<String>,
    description: String,
    #[serde(default)]
    origin: Option<String>,
    #[serde(default)]
    invariants: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    step_bound: Option<Spanned<i64>>,
    schedulers: RawSchedulers,
    expect: Spanned<BTreeMap<Spanned<String>, Spanned<String>>>,
    #[serde(default)]
    outcomes: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    differential: Option<RawDifferential>,
    cases: Spanned<Vec<RawCase>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedulers {
    random: Option<RawRandom>,
    pct: Option<RawPct>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRandom {
    seed: u64,
    iterations: Spanned<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPct {
    seed: u64,
    depth: Spanned<usize>,
    iterations: Spanned<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDifferential {
    model_scenario: String,
    #[serde(default)]
    known_differences: Vec<Spanned<String>>,
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: Spanned<String>,
    client: Spanned<String>,
    #[serde(default)]
    duplex_capacity: Option<Spanned<usize>>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    executor: Option<Spanned<String>>,
    #[serde(default)]
    outcomes: BTreeMap<Spanned<String>, Spanned<String>>,
    requests: Vec<RawRequest>,
    #[serde(default)]
    servers: Vec<RawServer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    name: Spanned<String>,
    #[serde(default)]
    host: Option<Spanned<String>>,
    #[serde(default)]
    start_after: Option<Spanned<Vec<u32>>>,
    #[serde(default)]
    body: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    host: Spanned<String>,
    #[serde(default)]
    max_concurrent_streams: Option<Spanned<u32>>,
    #[serde(default)]
    handshake_after: Option<Spanned<Vec<u32>>>,
    #[serde(default)]
    shutdown: Option<Spanned<String>>,
    #[serde(default)]
    shutdown_after: Option<Spanned<Vec<u32>>>,
    #[serde(default)]
    shutdown_connections: Option<Spanned<u32>>,
    #[serde(default)]
    respond_after: Option<Spanned<Vec<u32>>>,
    #[serde(default)]
    refuse: Vec<Spanned<String>>,
    #[serde(default)]
    stall_until: Vec<Spanned<String>>,
}

// ---------------------------------------------------------------------------------------------
// Loading and validation.

/// Load and validate one real-stack scenario file.
pub fn load(path: &Path) -> Result<RealScenario, Error> {
    let source = read_source(path, MAX_SCENARIO_BYTES)?;
    parse(path, &source)
}

/// Parse and validate scenario text that claims to come from `path`.
pub fn parse(path: &Path, source: &str) -> Result<RealScenario, Error> {
    let raw: RawScenario = toml::from_str(source).map_err(|e| {
        Error::at(
            path,
            source,
            e.span().unwrap_or(0..0),
            "",
            e.message().trim(),
        )
    })?;
    Cx { path, source }.build(raw)
}

struct Cx<'a> {
    path: &'a Path,
    source: &'a str,
}

impl Cx<'_> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> Error {
        Error::at(self.path, self.source, span, "", message)
    }

    fn build(&self, raw: RawScenario) -> Result<RealScenario, Error> {
        let header = Header {
            path: self.path,
            source: self.source,
        };
        header.check(&raw.version, &raw.name)?;
        let model = self.subject(&raw.model)?;
        let invariants = self.invariants(raw.invariants)?;
        let step_bound = header.step_bound(raw.step_bound.as_ref(), REAL_DEFAULT_STEP_BOUND)?;
        let outcomes = self.dispositions(&BTreeMap::new(), &raw.outcomes)?;
        let mut cases = Vec::new();
        for c in raw.cases.get_ref() {
            let case = self.case(c, &outcomes)?;
            if cases.iter().any(|k: &Case| k.name == case.name) {
                return Err(self.err(c.name.span(), "duplicate case name"));
            }
            cases.push(case);
        }
        if cases.is_empty() {
            return Err(self.err(raw.cases.span(), "a scenario needs at least one case"));
        }
        Ok(RealScenario {
            about: About {
                path: self.path.to_owned(),
                name: raw.name.into_inner(),
                model: model.name().to_owned(),
                description: raw.description,
                origin: raw.origin,
            },
            model,
            expect: self.expect(&raw.expect, &invariants)?,
            invariants,
            step_bound,
            schedulers: self.schedulers(raw.schedulers)?,
            differential: raw.differential.map(|d| self.differential(d)).transpose()?,
            cases,
        })
    }

    fn subject(&self, s: &Spanned<String>) -> Result<Subject, Error> {
        Subject::from_name(s.get_ref()).ok_or_else(|| {
            self.err(
                s.span(),
                format!(
                    "unknown real subject `{}`; expected one of {}",
                    s.get_ref(),
                    SUBJECTS.join(", ")
                ),
            )
        })
    }

    fn invariants(&self, raw: Option<Vec<Spanned<String>>>) -> Result<Vec<String>, Error> {
        let Some(list) = raw else {
            return Ok(DEFAULT_INVARIANTS.iter().map(|s| (*s).to_owned()).collect());
        };
        let mut out = Vec::new();
        for i in list {
            if !PROPERTIES.iter().any(|(n, _)| n == i.get_ref()) {
                let names: Vec<&str> = PROPERTIES.iter().map(|(n, _)| *n).collect();
                return Err(self.err(
                    i.span(),
                    format!(
                        "unknown property `{}`; expected one of {}",
                        i.get_ref(),
                        names.join(", ")
                    ),
                ));
            }
            out.push(i.into_inner());
        }
        if !out.iter().any(|i| i == "request-answered") {
            out.insert(0, "request-answered".to_owned()); // a hang is always a violation
        }
        Ok(out)
    }

    fn expect(
        &self,
        raw: &Spanned<BTreeMap<Spanned<String>, Spanned<String>>>,
        invariants: &[String],
    ) -> Result<String, Error> {
        let map = raw.get_ref();
        if let Some((k, _)) = map.iter().find(|(k, _)| k.get_ref() != "upstream") {
            return Err(self.err(
                k.span(),
                format!(
                    "unknown variant `{}`: a real subject has one variant, `upstream` (the \
                     versions in Cargo.lock)",
                    k.get_ref()
                ),
            ));
        }
        let Some((_, v)) = map.iter().next() else {
            return Err(self.err(raw.span(), "`[expect]` must give `upstream`"));
        };
        let verdict = v.get_ref();
        let known = verdict == "pass"
            || invariants.iter().any(|i| i == verdict)
            || OutcomeClass::from_name(verdict).is_some_and(|c| c != OutcomeClass::Hung);
        if !known {
            return Err(self.err(
                v.span(),
                format!(
                    "`{verdict}` is not a verdict: expected `pass`, a checked property ({}) or \
                     an outcome class",
                    invariants.join(", ")
                ),
            ));
        }
        Ok(verdict.clone())
    }

    fn dispositions(
        &self,
        base: &BTreeMap<OutcomeClass, Disposition>,
        raw: &BTreeMap<Spanned<String>, Spanned<String>>,
    ) -> Result<BTreeMap<OutcomeClass, Disposition>, Error> {
        let mut out = base.clone();
        for (k, v) in raw {
            let class = self.class(k)?;
            let disposition = match v.get_ref().as_str() {
                "acceptable" => Disposition::Acceptable,
                "forbidden" => Disposition::Forbidden,
                "interesting" => Disposition::Interesting,
                other => {
                    return Err(self.err(
                        v.span(),
                        format!(
                            "unknown disposition `{other}`; expected acceptable, forbidden or \
                             interesting"
                        ),
                    ))
                }
            };
            if class == OutcomeClass::Hung && disposition != Disposition::Forbidden {
                return Err(self.err(v.span(), "`hung` is always forbidden"));
            }
            out.insert(class, disposition);
        }
        // Classes a file leaves out: hung is forbidden, the others acceptable.
        for c in OutcomeClass::ALL {
            out.entry(c).or_insert(if c == OutcomeClass::Hung {
                Disposition::Forbidden
            } else {
                Disposition::Acceptable
            });
        }
        Ok(out)
    }

    fn class(&self, s: &Spanned<String>) -> Result<OutcomeClass, Error> {
        OutcomeClass::from_name(s.get_ref()).ok_or_else(|| {
            let names: Vec<&str> = OutcomeClass::ALL.iter().map(|c| c.name()).collect();
            self.err(
                s.span(),
                format!(
                    "unknown outcome class `{}`; expected one of {}",
                    s.get_ref(),
                    names.join(", ")
                ),
            )
        })
    }

    fn steps(&self, raw: &Option<Spanned<Vec<u32>>>) -> Result<Steps, Error> {
        let Some(r) = raw else {
            return Ok(Steps::default());
        };
        match r.get_ref().as_slice() {
            [n] if *n <= MAX_STEPS => Ok(Steps { lo: *n, hi: *n }),
            [lo, hi] if lo <= hi && *hi <= MAX_STEPS => Ok(Steps { lo: *lo, hi: *hi }),
            _ => Err(self.err(
                r.span(),
                format!(
                    "expected `[n]` or `[lo, hi]` with lo <= hi <= {MAX_STEPS} (scheduling steps, \
                 chosen by shuttle's random source)"
                ),
            )),
        }
    }

    fn case(
        &self,
        c: &RawCase,
        outcomes: &BTreeMap<OutcomeClass, Disposition>,
    ) -> Result<Case, Error> {
        kebab_case("case name", c.name.get_ref()).map_err(|m| self.err(c.name.span(), m))?;
        let requests = self.requests(c)?;
        let servers = self.servers(c, &requests)?;
        let capacity = match &c.duplex_capacity {
            Some(n) if !DUPLEX_CAPACITY.contains(n.get_ref()) => {
                return Err(self.err(
                    n.span(),
                    format!(
                        "`duplex_capacity` is {}; it must be between {} and {} bytes",
                        n.get_ref(),
                        DUPLEX_CAPACITY.start(),
                        DUPLEX_CAPACITY.end()
                    ),
                ))
            }
            Some(n) => *n.get_ref(),
            None => 64 * 1024,
        };
        let direct_spawn = match &c.executor {
            None => false,
            Some(e) if e.get_ref() == "deferred" => false,
            Some(e) if e.get_ref() == "direct" => true,
            Some(e) => {
                return Err(self.err(
                    e.span(),
                    format!(
                        "unknown executor `{}`; expected deferred or direct",
                        e.get_ref()
                    ),
                ))
            }
        };
        Ok(Case {
            name: c.name.get_ref().clone(),
            client: self.subject(&c.client)?,
            requests,
            servers,
            outcomes: self.dispositions(outcomes, &c.outcomes)?,
            note: c.note.clone(),
            wiring: Wiring {
                duplex_capacity: capacity,
                direct_spawn,
            },
        })
    }

    /// The case's requests: at least one, names unique.
    fn requests(&self, c: &RawCase) -> Result<Vec<RequestSpec>, Error> {
        let mut requests: Vec<RequestSpec> = Vec::new();
        for r in &c.requests {
            request_name(r.name.get_ref()).map_err(|m| self.err(r.name.span(), m))?;
            if requests.iter().any(|q| &q.name == r.name.get_ref()) {
                return Err(self.err(r.name.span(), "duplicate request name in this case"));
            }
            if let Some(h) = &r.host {
                host_name(h.get_ref()).map_err(|m| self.err(h.span(), m))?;
            }
            requests.push(RequestSpec {
                name: r.name.get_ref().clone(),
                host: r.host.as_ref().map_or("a", |h| h.get_ref()).to_owned(),
                start_after: self.steps(&r.start_after)?,
                body: self.body(r.body.as_ref())?,
            });
        }
        if requests.is_empty() {
            return Err(self.err(c.name.span(), "a case needs at least one request"));
        }
        if requests.len() > MAX_REQUESTS {
            return Err(self.err(
                c.name.span(),
                format!(
                    "{} requests; a case may have at most {MAX_REQUESTS}",
                    requests.len()
                ),
            ));
        }
        Ok(requests)
    }

    /// The scripted servers, one per host; a host a request names without a script gets a
    /// plain server that answers everything.
    fn servers(&self, c: &RawCase, requests: &[RequestSpec]) -> Result<Vec<ServerScript>, Error> {
        let mut servers: Vec<ServerScript> = Vec::new();
        for s in &c.servers {
            let script = self.server(s, requests)?;
            if servers.iter().any(|k| k.host == script.host) {
                return Err(self.err(s.host.span(), "duplicate server for this host"));
            }
            servers.push(script);
        }
        for r in requests {
            if !servers.iter().any(|s| s.host == r.host) {
                servers.push(ServerScript::plain(&r.host));
            }
        }
        Ok(servers)
    }

    /// A request body: 0 (a GET) to [`MAX_BODY`] bytes.
    fn body(&self, raw: Option<&Spanned<i64>>) -> Result<usize, Error> {
        let Some(b) = raw else { return Ok(0) };
        match usize::try_from(*b.get_ref()) {
            Ok(n) if n <= MAX_BODY => Ok(n),
            _ => Err(self.err(
                b.span(),
                format!(
                    "`body` is {}; it must be between 0 and {MAX_BODY} bytes",
                    b.get_ref()
                ),
            )),
        }
    }

    fn server(&self, s: &RawServer, requests: &[RequestSpec]) -> Result<ServerScript, Error> {
        host_name(s.host.get_ref()).map_err(|m| self.err(s.host.span(), m))?;
        let connections = match &s.shutdown_connections {
            None => 1,
            Some(n) if (1..=1000).contains(n.get_ref()) => *n.get_ref(),
            Some(n) => {
                return Err(self.err(
                    n.span(),
                    format!(
                        "`shutdown_connections` is {}; it must be between 1 and 1000",
                        n.get_ref()
                    ),
                ))
            }
        };
        if let Some(m) = s
            .max_concurrent_streams
            .as_ref()
            .filter(|m| *m.get_ref() > MAX_STREAMS)
        {
            return Err(self.err(
                m.span(),
                format!(
                    "`max_concurrent_streams` is {}; it must be between 0 and {MAX_STREAMS}",
                    m.get_ref()
                ),
            ));
        }
        let names = |list: &[Spanned<String>]| -> Result<Vec<String>, Error> {
            list.iter()
                .map(|n| {
                    if requests.iter().any(|r| &r.name == n.get_ref()) {
                        Ok(n.get_ref().clone())
                    } else {
                        Err(self.err(n.span(), format!("no request named `{}`", n.get_ref())))
                    }
                })
                .collect()
        };
        let shutdown = match &s.shutdown {
            None => None,
            Some(m) => Some(match m.get_ref().as_str() {
                "graceful" => Shutdown::Graceful,
                "abrupt" => Shutdown::Abrupt,
                other => {
                    return Err(self.err(
                        m.span(),
                        format!("unknown shutdown `{other}`; expected graceful or abrupt"),
                    ))
                }
            }),
        };
        Ok(ServerScript {
            host: s.host.get_ref().clone(),
            max_concurrent_streams: s.max_concurrent_streams.as_ref().map(|m| *m.get_ref()),
            handshake_after: self.steps(&s.handshake_after)?,
            shutdown,
            shutdown_after: self.steps(&s.shutdown_after)?,
            shutdown_connections: connections,
            respond_after: self.steps(&s.respond_after)?,
            refuse: names(&s.refuse)?,
            stall_until: names(&s.stall_until)?,
        })
    }

    /// The budgets, each in range; at least one.
    fn schedulers(&self, raw: RawSchedulers) -> Result<Vec<SchedulerSpec>, Error> {
        let mut out = Vec::new();
        if let Some(r) = raw.random {
            out.push(SchedulerSpec::Random {
                seed: r.seed,
                iterations: self.ranged(&r.iterations, "iterations", &ITERATIONS)?,
            });
        }
        if let Some(p) = raw.pct {
            out.push(SchedulerSpec::Pct {
                seed: p.seed,
                depth: self.ranged(&p.depth, "depth", &PCT_DEPTH)?,
                iterations: self.ranged(&p.iterations, "iterations", &ITERATIONS)?,
            });
        }
        if out.is_empty() {
            let at = self.source.find("[schedulers").unwrap_or(0);
            return Err(self.err(
                at..at + 11,
                "no scheduler listed: add [schedulers.random] or [schedulers.pct]",
            ));
        }
        Ok(out)
    }

    fn ranged<T>(&self, n: &Spanned<T>, key: &str, range: &RangeInclusive<T>) -> Result<T, Error>
    where
        T: PartialOrd + Copy + std::fmt::Display,
    {
        if range.contains(n.get_ref()) {
            return Ok(*n.get_ref());
        }
        Err(self.err(
            n.span(),
            format!(
                "`{key}` is {}; it must be between {} and {}",
                n.get_ref(),
                range.start(),
                range.end()
            ),
        ))
    }

    fn differential(&self, d: RawDifferential) -> Result<Differential, Error> {
        let classes = |list: &[Spanned<String>]| -> Result<Vec<OutcomeClass>, Error> {
            list.iter().map(|c| self.class(c)).collect()
        };
        Ok(Differential {
            known_differences: classes(&d.known_differences)?,
            model_scenario: d.model_scenario,
            note: d.note,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
version = 1
name = "t"
model = "h2"
description = "d"
[schedulers.random]
seed = 1
iterations = 2
[expect]
upstream = "pass"
[[cases]]
name = "c"
client = "h2"
[[cases.requests]]
name = "A"
"#;

    fn load_str(s: &str) -> Result<RealScenario, Error> {
        parse(Path::new("scenarios/t.toml"), s)
    }

    #[test]
    fn a_minimal_file_loads_with_defaults() {
        let s = load_str(MINIMAL).unwrap();
        assert_eq!(s.cases[0].servers[0].host, "a");
        assert_eq!(
            s.cases[0].outcomes[&OutcomeClass::Hung],
            Disposition::Forbidden
        );
        assert_eq!(s.invariants.len(), DEFAULT_INVARIANTS.len());
    }

    #[test]
    fn errors_point_at_the_line() {
        let bad = MINIMAL.replace("client = \"h2\"", "client = \"curl\"");
        let e = load_str(&bad).unwrap_err();
        assert_eq!(
            (e.file.as_path(), e.line),
            (Path::new("scenarios/t.toml"), 13)
        );
        assert!(e.message.contains("unknown real subject `curl`"), "{e}");
        let bad = format!("{MINIMAL}[outcomes]\nhung = \"interesting\"\n");
        let e = load_str(&bad).unwrap_err().to_string();
        assert!(e.contains("always forbidden"), "{e}");
        let bad = format!("{MINIMAL}colour = 1\n");
        let e = load_str(&bad).unwrap_err().to_string();
        assert!(e.contains("colour"), "{e}");
    }

    /// The header keys are the harness's: a real-crate file gets a model file's errors.
    #[test]
    fn a_bad_header_gets_the_model_loaders_error() {
        let dir = std::env::temp_dir().join(format!("poolcheck-header-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let model = "\nversion = 1\nname = \"t\"\nmodel = \"httpcore\"\ndescription = \"d\"\n\
                     invariants = []\n[schedulers.random]\nseed = 1\niterations = 2\n";
        let model_error = |text: &str| {
            let path = dir.join("t.toml");
            std::fs::write(&path, text).unwrap();
            let e = poolcheck_harness::scenario::load_file(&path, &[])
                .err()
                .expect("an error");
            (e.line, e.message)
        };
        let cases = [
            ("version = 1\n", "version = 2\n"),
            ("name = \"t\"\n", "name = \"u\"\n"),
            (
                "description = \"d\"\n",
                "description = \"d\"\nstep_bound = 0\n",
            ),
        ];
        for (good, bad) in cases {
            let real = load_str(&MINIMAL.replacen(good, bad, 1)).unwrap_err();
            let expected = model_error(&model.replacen(good, bad, 1));
            assert_eq!((real.line, real.message), expected, "{bad}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
