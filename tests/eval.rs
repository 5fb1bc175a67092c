//! A yardstick from other scanners: the example strings of Nosey Parker's and Kingfisher's rule
//! files, read from ../shared/eval-public/peer-rule-examples.jsonl (provenance and licenses in
//! ../shared/eval-public/LICENSE-NOTES.md; the data stays there, and the test is skipped with a
//! message where ../shared is absent). For every peer rule whose kind of secret ferret also detects,
//! [`MAP`] names the ferret rules that count (with ferret's generic rules, see [`counts`]); then
//! at least 95% of the `match` examples must be found by one of them and at most 2% of the
//! `no_match` examples may be.
//!
//! Peer rules for things ferret does not report (client ids, account ids, hostnames, bucket
//! names, public keys, password hashes) or providers it has no rule for are not mapped; the
//! table printed by the test (`cargo test eval -- --nocapture`) lists what was scored.
//!
//! A `match` example that a mapped rule's regex does find, but that ferret's placeholder filter
//! rejects on purpose (`aaaa…`, `1234567890abcdef…`, `…EXAMPLE`, `<token>`: the false-positive
//! control of `src/matcher/placeholder.rs`), is counted as "placeholder" and reported, not
//! scored: the filter is a documented choice, and its own tests hold it to account. The raw
//! figure including them is printed too.
//!
//! The strings are used only to measure; no rule was written from them.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use ferret::blob::{Data, Origin};
use ferret::engine;
use ferret::matcher::placeholder;
use ferret::{Matcher, RuleSet};

/// Peer rule id → the ferret rules (ids, or prefixes ending in `.`) that detect the same kind of
/// secret.
const MAP: &[(&str, &[&str])] = &[
    // AI and ML
    ("np.openai.1", &["openai."]),
    ("kingfisher.openai.1", &["openai."]),
    ("np.anthropic.1", &["anthropic."]),
    ("kingfisher.anthropic.1", &["anthropic."]),
    ("np.huggingface.1", &["huggingface."]),
    ("kingfisher.huggingface.1", &["huggingface."]),
    ("kingfisher.replicate.1", &["replicate."]),
    ("np.groq.1", &["groq."]),
    ("kingfisher.groq.1", &["groq."]),
    ("kingfisher.xai.1", &["xai."]),
    ("kingfisher.wandb.1", &["wandb."]),
    ("np.databricks.1", &["databricks."]),
    ("kingfisher.databricks.1", &["databricks."]),
    ("kingfisher.databricks.2", &["databricks."]),
    ("kingfisher.azureopenai.1", &["azure.openai-key"]),
    ("kingfisher.assemblyai.1", &["assemblyai."]),
    ("kingfisher.clarifai.1", &["clarifai."]),
    ("kingfisher.deepgram.1", &["deepgram."]),
    ("kingfisher.elevenlabs.1", &["elevenlabs."]),
    ("kingfisher.nvapi.1", &["nvidia."]),
    ("np.firecrawl.1", &["firecrawl."]),
    ("np.jina.1", &["jina."]),
    ("np.tavily.1", &["tavily."]),
    // Cloud and infrastructure
    ("np.aws.1", &["aws.access-key-id"]),
    ("kingfisher.aws.1", &["aws.access-key-id"]),
    ("np.aws.2", &["aws.secret-access-key"]),
    ("kingfisher.aws.2", &["aws.secret-access-key"]),
    ("np.aws.4", &["aws.session-token"]),
    ("kingfisher.aws.4", &["aws.session-token"]),
    ("np.aws.5", &["aws.mws-auth-token"]),
    ("np.aws.6", &["aws."]),
    ("kingfisher.gcp.3", &["gcp.service-account-key"]),
    ("np.google.2", &["google.oauth-client-secret"]),
    ("np.google.3", &["google.oauth-client-secret", "generic."]),
    (
        "kingfisher.google.2",
        &["google.oauth-client-secret", "generic."],
    ),
    (
        "kingfisher.google.3",
        &["google.oauth-client-secret", "generic."],
    ),
    ("np.google.4", &["google.oauth-access-token"]),
    ("kingfisher.google.4", &["google.oauth-access-token"]),
    ("kingfisher.google.oauth2.1", &["google.oauth-access-token"]),
    ("np.google.5", &["google.api-key"]),
    ("np.google.6", &["google.oauth-client-secret", "generic."]),
    (
        "kingfisher.google.6",
        &["google.oauth-client-secret", "generic."],
    ),
    ("np.azure.1", &["azure."]),
    ("kingfisher.azure.1", &["azure."]),
    ("np.azure.2", &["azure.app-configuration"]),
    ("kingfisher.azure.2", &["azure.app-configuration"]),
    ("np.azure.3", ADO),
    ("np.azure.4", ADO),
    ("kingfisher.azure.3", ADO),
    ("kingfisher.azure.devops.1", ADO),
    ("kingfisher.azurestorage.key.1", &["azure."]),
    ("kingfisher.alibabacloud.1", &["alibaba.access-key-id"]),
    (
        "kingfisher.cloudflare.1",
        &["cloudflare.api-token", "cloudflare.global-api-key"],
    ),
    ("kingfisher.cloudflare.2", &["cloudflare.origin-ca-key"]),
    ("np.digitalocean.1", &["digitalocean."]),
    ("np.digitalocean.2", &["digitalocean."]),
    ("np.digitalocean.3", &["digitalocean."]),
    ("kingfisher.digitalocean.1", &["digitalocean."]),
    ("kingfisher.digitalocean.2", &["digitalocean."]),
    ("kingfisher.digitalocean.3", &["digitalocean."]),
    ("np.heroku.1", &["heroku."]),
    ("kingfisher.heroku.1", &["heroku."]),
    ("kingfisher.vercel.1", &["vercel."]),
    ("kingfisher.netlify.1", &["netlify."]),
    ("kingfisher.netlify.2", &["netlify."]),
    ("kingfisher.terraform.1", &["terraform."]),
    ("np.hashicorp.1", &["vault.token.legacy"]),
    ("np.hashicorp.2", &["vault.token.legacy"]),
    ("np.hashicorp.3", &["vault.token.legacy"]),
    ("np.hashicorp.4", &["vault.token"]),
    ("np.hashicorp.5", &["vault.token"]),
    ("np.hashicorp.6", &["vault.token"]),
    ("np.kubernetes.1", &["kubernetes.bootstrap-token"]),
    (
        "np.kubernetes.2",
        &[
            "kubernetes.bootstrap-token",
            "kubernetes.bootstrap-token-secret",
        ],
    ),
    ("np.dockerhub.1", &["docker.hub-pat"]),
    ("kingfisher.dockerhub.1", &["docker.hub-pat"]),
    ("kingfisher.scaleway.1", &["scaleway."]),
    ("kingfisher.supabase.1", &["supabase."]),
    ("kingfisher.planetscale.1", &["planetscale."]),
    ("np.doppler.1", &["doppler."]),
    ("np.doppler.2", &["doppler."]),
    ("np.doppler.3", &["doppler."]),
    ("np.doppler.4", &["doppler."]),
    ("np.doppler.5", &["doppler."]),
    ("np.doppler.6", &["doppler."]),
    ("kingfisher.doppler.1", &["doppler."]),
    ("kingfisher.doppler.2", &["doppler."]),
    ("kingfisher.doppler.3", &["doppler."]),
    ("kingfisher.doppler.4", &["doppler."]),
    ("kingfisher.doppler.5", &["doppler."]),
    ("kingfisher.doppler.6", &["doppler."]),
    ("kingfisher.pulumi.1", &["pulumi."]),
    ("np.grafana.1", &["grafana.api-key"]),
    ("kingfisher.grafana.1", &["grafana.api-key"]),
    ("np.grafana.2", &["grafana.cloud-token"]),
    ("kingfisher.grafana.2", &["grafana.cloud-token"]),
    ("np.grafana.3", &["grafana.service-account-token"]),
    ("kingfisher.grafana.3", &["grafana.service-account-token"]),
    ("kingfisher.tailscale.1", &["tailscale."]),
    ("np.okta.1", &["okta."]),
    ("kingfisher.okta.1", &["okta."]),
    // Code and packages
    ("np.github.1", &["github.pat.classic"]),
    // Kingfisher's "personal access token" examples include OAuth and fine-grained tokens.
    ("kingfisher.github.1", &["github."]),
    ("np.github.2", &["github.oauth"]),
    ("kingfisher.github.2", &["github.oauth"]),
    (
        "np.github.3",
        &["github.user-to-server", "github.server-to-server"],
    ),
    (
        "kingfisher.github.3",
        &["github.user-to-server", "github.server-to-server"],
    ),
    ("np.github.4", &["github.refresh"]),
    ("kingfisher.github.4", &["github.refresh"]),
    ("np.github.7", &["github.pat.fine-grained"]),
    ("kingfisher.github.7", &["github.pat.fine-grained"]),
    ("np.gitlab.1", &["gitlab.runner-token"]),
    ("kingfisher.gitlab.2", &["gitlab.runner-token"]),
    ("np.gitlab.2", &["gitlab.pat"]),
    ("kingfisher.gitlab.1", &["gitlab.pat"]),
    ("np.gitlab.3", &["gitlab.pipeline-trigger"]),
    ("kingfisher.gitlab.3", &["gitlab.pipeline-trigger"]),
    ("np.bitbucket.1", &["bitbucket.app-password"]),
    ("np.npm.1", &["npm.access-token"]),
    ("kingfisher.npm.1", &["npm.access-token"]),
    ("kingfisher.npm.2", &["npm.legacy-token"]),
    ("np.pypi.1", &["pypi."]),
    ("kingfisher.pypi.1", &["pypi."]),
    ("np.rubygems.1", &["rubygems."]),
    ("kingfisher.rubygems.1", &["rubygems."]),
    ("np.nuget.1", &["nuget."]),
    ("kingfisher.nuget.1", &["nuget."]),
    ("np.cratesio.1", &["crates-io."]),
    ("kingfisher.cratesio.1", &["crates-io."]),
    ("np.artifactory.1", &["artifactory."]),
    ("kingfisher.artifactory.1", &["artifactory."]),
    ("np.sonarqube.1", &["sonarqube."]),
    ("kingfisher.sonarqube.1", &["sonarqube."]),
    ("kingfisher.sonarqube.3", &["sonarqube."]),
    ("kingfisher.sonarcloud.1", &["sonarqube."]),
    ("kingfisher.circleci.1", &["circleci."]),
    ("kingfisher.buildkite.1", &["buildkite."]),
    ("kingfisher.snyk.1", &["snyk."]),
    ("np.postman.1", &["postman."]),
    ("kingfisher.postman.1", &["postman."]),
    ("np.sourcegraph.1", &["sourcegraph."]),
    ("kingfisher.sourcegraph.1", &["sourcegraph."]),
    ("kingfisher.sourcegraph.2", &["sourcegraph."]),
    ("kingfisher.sourcegraph.3", &["sourcegraph."]),
    // Messaging and SaaS
    ("np.slack.2", &["slack.bot-token"]),
    ("kingfisher.slack.2", &["slack."]),
    ("np.slack.3", &["slack.webhook"]),
    ("kingfisher.slack.4", &["slack.webhook"]),
    ("np.slack.4", &["slack.user-token"]),
    ("np.slack.5", &["slack.app-token"]),
    ("kingfisher.slack.1", &["slack.app-token"]),
    ("np.slack.6", &["slack.legacy-token"]),
    ("kingfisher.discord.1", &["discord.webhook"]),
    ("kingfisher.discord.2", &["discord.bot-token"]),
    ("np.telegram.1", &["telegram."]),
    ("kingfisher.telegram.1", &["telegram."]),
    ("np.twilio.1", &["twilio."]),
    ("kingfisher.twilio.1", &["twilio."]),
    ("kingfisher.twilio.2", &["twilio."]),
    ("np.sendgrid.1", &["sendgrid."]),
    ("kingfisher.sendgrid.1", &["sendgrid."]),
    ("kingfisher.sendinblue.1", &["brevo."]),
    ("np.mailgun.1", &["mailgun."]),
    ("kingfisher.mailgun.1", &["mailgun."]),
    ("kingfisher.mailgun.2", &["mailgun."]),
    ("np.mailchimp.1", &["mailchimp."]),
    ("kingfisher.mailchimp.1", &["mailchimp."]),
    ("np.postmark.1", &["postmark."]),
    ("kingfisher.postmark.1", &["postmark."]),
    ("np.msteams.1", &["microsoft-teams."]),
    ("kingfisher.msteams.1", &["microsoft-teams."]),
    ("kingfisher.microsoftteamswebhook.1", &["microsoft-teams."]),
    ("kingfisher.zapierwebhook.1", &["zapier."]),
    (
        "np.stripe.1",
        &["stripe.secret-key", "stripe.restricted-key"],
    ),
    ("np.stripe.2", &["stripe.test-key"]),
    ("kingfisher.stripe.1", &["stripe.secret-key"]),
    (
        "kingfisher.stripe.2",
        &["stripe.secret-key", "stripe.restricted-key"],
    ),
    ("np.shopify.2", &["shopify."]),
    ("np.shopify.3", &["shopify."]),
    ("np.shopify.4", &["shopify."]),
    ("np.shopify.5", &["shopify."]),
    ("kingfisher.shopify.1", &["shopify."]),
    ("np.square.1", &["square.access-token"]),
    ("kingfisher.square.1", &["square.access-token"]),
    ("kingfisher.square.2", &["square.access-token"]),
    ("np.square.2", &["square.oauth-secret"]),
    ("kingfisher.square.3", &["square.oauth-secret"]),
    ("np.atlassian.1", &["atlassian."]),
    ("kingfisher.atlassian.1", &["atlassian."]),
    ("kingfisher.jira.2", &["atlassian."]),
    ("kingfisher.linear.1", &["linear."]),
    ("kingfisher.notion.1", &["notion."]),
    ("kingfisher.datadog.1", &["datadog.api-key"]),
    ("kingfisher.datadog.2", &["datadog.app-key"]),
    ("np.newrelic.1", &["newrelic.license-key"]),
    ("np.newrelic.3", &["newrelic.user-api-key"]),
    ("np.newrelic.2", &["newrelic.license-key.legacy"]),
    ("np.newrelic.4", &["newrelic.admin-key"]),
    ("np.newrelic.5", &["newrelic.insert-key"]),
    ("np.newrelic.6", &["newrelic.query-key"]),
    ("np.newrelic.7", &["newrelic.rest-api-key"]),
    ("np.newrelic.8", &["newrelic.pixie-api-key"]),
    ("np.newrelic.9", &["newrelic.pixie-deploy-key"]),
    ("kingfisher.newrelic.1", &["newrelic."]),
    ("kingfisher.sentry.1", &["sentry."]),
    ("kingfisher.pagerduty.1", &["pagerduty."]),
    ("kingfisher.contentful.1", &["contentful."]),
    ("np.dynatrace.1", &["dynatrace."]),
    ("kingfisher.dynatrace.1", &["dynatrace."]),
    ("np.figma.1", &["figma."]),
    ("kingfisher.figma.1", &["figma."]),
    ("kingfisher.figma.2", &["figma."]),
    ("kingfisher.airtable.1", &["airtable."]),
    ("kingfisher.airtable.2", &["airtable."]),
    ("kingfisher.hubspot.1", &["hubspot."]),
    ("kingfisher.clickup.1", &["clickup."]),
    ("np.mapbox.2", &["mapbox.secret-token"]),
    ("kingfisher.mapbox.2", &["mapbox.secret-token"]),
    ("np.dropbox.1", &["dropbox."]),
    ("kingfisher.dropbox.1", &["dropbox."]),
    ("np.facebook.2", &["facebook.access-token"]),
    ("kingfisher.facebook.3", &["facebook.access-token"]),
    ("np.facebook.1", &["facebook.app-secret"]),
    ("kingfisher.facebook.2", &["facebook.app-secret"]),
    ("kingfisher.twitch.1", &["twitch."]),
    ("np.twitch.1", &["twitch.stream-key"]),
    ("np.salesforce.1", &["salesforce."]),
    ("kingfisher.salesforce.1", &["salesforce."]),
    ("kingfisher.asana.2", &["asana."]),
    ("kingfisher.asana.3", &["asana."]),
    ("kingfisher.asanaoauth.1", &["asana."]),
    ("kingfisher.bannerbear.1", &["bannerbear."]),
    ("kingfisher.box.1", &["box."]),
    ("kingfisher.box.com.1", &["box."]),
    ("kingfisher.calendly.1", &["calendly."]),
    ("kingfisher.coinbase.1", &["coinbase."]),
    ("kingfisher.easypost.1", &["easypost."]),
    ("kingfisher.frame.io.1", &["frameio."]),
    ("kingfisher.frameio.1", &["frameio."]),
    ("kingfisher.intercom.1", &["intercom."]),
    ("kingfisher.launchdarkly.1", &["launchdarkly."]),
    ("kingfisher.lob.1", &["lob."]),
    ("kingfisher.mandrill.1", &["mailchimp.transactional-key"]),
    ("np.mapbox.3", &["mapbox.temporary-token"]),
    ("kingfisher.mapbox.3", &["mapbox.temporary-token"]),
    ("kingfisher.miro.1", &["miro."]),
    ("kingfisher.monday.1", &["monday."]),
    ("kingfisher.optimizely.1", &["optimizely."]),
    ("kingfisher.paypal.2", &["paypal.client-secret"]),
    ("kingfisher.readme.1", &["readme."]),
    ("np.segment.1", &["segment.public-api-token"]),
    ("kingfisher.segment.1", &["segment.public-api-token"]),
    ("kingfisher.shippo.1", &["shippo."]),
    ("kingfisher.smartsheets.1", &["smartsheet."]),
    ("kingfisher.trello.2", &["trello."]),
    ("kingfisher.typeform.1", &["typeform."]),
    ("kingfisher.voiceflow.1", &["voiceflow."]),
    ("kingfisher.webflow.1", &["webflow."]),
    ("kingfisher.algolia.1", &["algolia."]),
    // Keys and generic
    ("np.pem.1", &["private-key."]),
    ("np.pem.2", &["private-key."]),
    ("kingfisher.pem.1", &["private-key."]),
    ("kingfisher.pem.2", &["private-key."]),
    ("kingfisher.privkey.1", &["private-key."]),
    ("kingfisher.privkey.2", &["private-key."]),
    ("np.age.2", &["age.secret-key"]),
    ("kingfisher.age.2", &["age.secret-key"]),
    ("np.wireguard.1", &["wireguard."]),
    ("np.wireguard.2", &["wireguard."]),
    ("kingfisher.wireguard.1", &["wireguard."]),
    ("kingfisher.wireguard.2", &["wireguard."]),
    ("np.jwt.1", &["jwt", "kubernetes.service-account-token"]),
    (
        "kingfisher.jwt.1",
        &["jwt", "kubernetes.service-account-token"],
    ),
    (
        "np.postgres.1",
        &["database.postgres-uri", "generic.url-credentials"],
    ),
    (
        "kingfisher.postgres.1",
        &["database.postgres-uri", "generic.url-credentials"],
    ),
    (
        "kingfisher.mysql.1",
        &["database.mysql-uri", "generic.url-credentials"],
    ),
    (
        "np.mongodb.1",
        &["database.mongodb-uri", "generic.url-credentials"],
    ),
    (
        "kingfisher.mongodb.3",
        &["database.mongodb-uri", "generic.url-credentials"],
    ),
    (
        "kingfisher.rabbitmq.1",
        &["database.amqp-uri", "generic.url-credentials"],
    ),
    ("np.odbc.1", &["database.", "generic."]),
    ("kingfisher.odbc.1", &["database.", "generic."]),
    ("np.generic.10", &["database."]),
    ("np.netrc.1", &["netrc."]),
    ("kingfisher.netrc.1", &["netrc."]),
    ("np.http.1", &["http.basic-auth"]),
    ("np.http.2", &["generic.bearer-header"]),
    (
        "kingfisher.uri.1",
        &["generic.url-credentials", "database."],
    ),
    (
        "kingfisher.credentials.1",
        &["generic.url-credentials", "database."],
    ),
    ("np.django.1", &["django.", "generic."]),
    ("kingfisher.django.1", &["django.", "generic."]),
    ("np.jwt.2", &["generic."]),
    ("np.jwt.3", &["generic."]),
    ("np.generic.1", &["generic."]),
    ("np.generic.2", &["generic."]),
    ("np.generic.3", &["generic."]),
    // np.generic.4 is about unquoted values; its quoted no_match examples are other rules' job.
    ("np.generic.4", UNQUOTED),
    ("np.generic.5", &["generic."]),
    ("np.generic.6", &["generic."]),
    ("np.generic.9", &["generic."]),
    ("kingfisher.generic.1", &["generic."]),
    ("kingfisher.generic.2", &["generic."]),
    ("kingfisher.generic.3", &["generic."]),
    ("kingfisher.generic.4", UNQUOTED),
    ("kingfisher.generic.5", &["generic."]),
    ("kingfisher.generic.8", &["generic."]),
];

const ADO: &[&str] = &["azure.devops-pat", "azure.devops-pat.legacy"];

const UNQUOTED: &[&str] = &[
    "generic.unquoted-password",
    "generic.unquoted-assignment",
    "generic.env-assignment",
];

/// `no_match` examples that are secrets all the same: the peer rule leaves them to another of
/// its rules (a quoting style, a different token shape). Each is excluded with its reason.
const NOT_NEGATIVES: &[(&str, &str, &str)] = &[
    (
        "np.generic.5",
        "password = 'super$ecret'",
        "a single-quoted password: np.generic.5 handles double quotes only, np.generic.6 finds it",
    ),
    (
        "np.generic.5",
        "password = super$ecret",
        "an unquoted password: np.generic.4's kind",
    ),
    (
        "np.generic.9",
        "<add key=\"ClearTextPassword\" value=\"eyJ0eXAi",
        "a NuGet feed's ClearTextPassword: a credential in any reading",
    ),
    (
        "np.aws.2",
        "export AWS_SECRET_ACCESS_KEY=ded7db27a4558e2ea9bbf0bf36ae0e8521618f366c",
        "42 characters is not an AWS key, but a secret assignment ferret's generic rule reports",
    ),
    (
        "np.generic.4",
        "user = 'Aladdin'\npassword = 'open_sesame'",
        "a quoted password: np.generic.4 covers unquoted ones, np.generic.3 finds it",
    ),
    (
        "np.generic.10",
        "<add key=\"FromEmailAddress\"",
        "an e-mail account's password in appSettings: np.generic.9 lists it as a match",
    ),
    (
        "np.jwt.1",
        "<add key=\"ClearTextPassword\" value=\"eyJ0eXAi",
        "a NuGet feed's ClearTextPassword: a credential in any reading",
    ),
    (
        "np.mongodb.1",
        "mongodb://myDatabaseUser:D1fficultP%40ssw0rd@%2Ftmp",
        "the password is real; only the host is a socket path",
    ),
];

#[derive(serde::Deserialize)]
struct Example {
    source: String,
    rule_id: String,
    text: String,
    expect: String,
}

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| Matcher::new(&RuleSet::builtin().unwrap()).unwrap())
}

/// Whether a finding of rule `id` counts for a peer rule mapped to `targets`: one of the
/// targets, or one of ferret's generic rules (they exist to catch credentials that have no
/// provider format, so a provider token they report is found; and what they flag in a
/// `no_match` example is counted against ferret too).
fn counts(id: &str, targets: &[&str]) -> bool {
    targets.iter().any(|t| {
        if t.ends_with('.') {
            id.starts_with(t)
        } else {
            id == *t
        }
    }) || id.starts_with("generic.")
}

/// The ferret rule ids found in `text` (whole pipeline: views, placeholders, suppression).
fn found(text: &str) -> Vec<String> {
    let m = matcher();
    let mut scratch = m.scratch();
    let mut buf = Vec::new();
    let data = Data::Owned(text.as_bytes().to_vec());
    let r = engine::scan_data(
        m,
        &data,
        &Origin::file("example"),
        u64::MAX,
        &mut scratch,
        &mut buf,
    );
    // Everything the engine finds (`--confidence low --show-invalid`): the peers' examples
    // include checksum-failing tokens and placeholder pairs that a default scan hides on
    // purpose (issue 16); the yardstick measures what ferret can find.
    r.findings.iter().map(|f| f.rule.id().to_string()).collect()
}

/// Whether the example is a placeholder by ferret's definition: a mapped rule's regex matches
/// but the placeholder filter rejects every such match, or the text holds a token-sized run
/// the filter rejects (`1234567890abcdef…`, `xxxx…`), which ferret will not report whatever
/// the surrounding format.
fn only_placeholders(text: &str, targets: &[&str]) -> bool {
    let typed = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || "_+/=.-".contains(c)))
        .any(|run| run.len() >= 16 && placeholder::reason(run.as_bytes()).is_some());
    // A masked value (`password=######`).
    if typed || text.contains("####") || text.contains("****") {
        return true;
    }
    let m = matcher();
    let mut scratch = m.scratch();
    let mut candidates = Vec::new();
    m.scan(text.as_bytes(), &mut scratch, &mut candidates);
    let mapped: Vec<_> = candidates
        .iter()
        .filter(|c| counts(m.rule(c.rule).id(), targets))
        .collect();
    !mapped.is_empty()
        && mapped.iter().all(|c| {
            let secret = &text.as_bytes()[c.secret.clone()];
            placeholder::reason(secret).is_some()
                || (m.rule(c.rule).spec.generic && placeholder::lookalike(secret).is_some())
        })
}

#[derive(Default)]
struct Score {
    matched: usize,
    found: usize,
    placeholders: usize,
    no_match: usize,
    flagged: usize,
}

#[test]
fn peer_examples_recall_and_false_positives() {
    let Some(path) = crate::common::shared_file("eval-public/peer-rule-examples.jsonl") else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let map: BTreeMap<&str, &[&str]> = MAP.iter().copied().collect();
    let mut per_rule: BTreeMap<String, Score> = BTreeMap::new();
    let mut total = Score::default();
    let mut misses = Vec::new();
    let mut fps = Vec::new();
    let mut seen_ids = std::collections::BTreeSet::new();
    for line in text.lines() {
        let ex: Example = serde_json::from_str(line).unwrap();
        seen_ids.insert(ex.rule_id.clone());
        let Some(targets) = map.get(ex.rule_id.as_str()) else {
            continue;
        };
        let hit = found(&ex.text).iter().any(|id| counts(id, targets));
        let s = per_rule.entry(ex.rule_id.clone()).or_default();
        if ex.expect == "match" {
            s.matched += 1;
            total.matched += 1;
            if hit {
                s.found += 1;
                total.found += 1;
            } else if only_placeholders(&ex.text, targets) {
                s.placeholders += 1;
                total.placeholders += 1;
            } else {
                misses.push(format!(
                    "{} {}: {:?}",
                    ex.source,
                    ex.rule_id,
                    short(&ex.text)
                ));
            }
        } else {
            if NOT_NEGATIVES
                .iter()
                .any(|(id, prefix, _)| *id == ex.rule_id && ex.text.starts_with(prefix))
            {
                continue;
            }
            s.no_match += 1;
            total.no_match += 1;
            if hit {
                s.flagged += 1;
                total.flagged += 1;
                fps.push(format!(
                    "{} {}: {:?}",
                    ex.source,
                    ex.rule_id,
                    short(&ex.text)
                ));
            }
        }
    }
    for (id, _) in MAP {
        assert!(
            seen_ids.contains(*id),
            "MAP names {id}, which the data does not have"
        );
    }
    println!(
        "peer rule                                    match found placeholder  no_match flagged"
    );
    for (id, s) in &per_rule {
        println!(
            "{id:44} {:5} {:5} {:11} {:9} {:7}",
            s.matched, s.found, s.placeholders, s.no_match, s.flagged
        );
    }
    let scored = total.matched - total.placeholders;
    let recall = total.found as f64 / scored.max(1) as f64;
    let raw = total.found as f64 / total.matched.max(1) as f64;
    let fp = total.flagged as f64 / total.no_match.max(1) as f64;
    println!(
        "\n{} peer rules mapped; match examples: {} found of {} scored ({:.1}%; {} placeholders \
         not scored; {:.1}% of all {}); no_match examples flagged: {} of {} ({:.1}%)",
        per_rule.len(),
        total.found,
        scored,
        recall * 100.0,
        total.placeholders,
        raw * 100.0,
        total.matched,
        total.flagged,
        total.no_match,
        fp * 100.0
    );
    println!("\nmissed:\n  {}", misses.join("\n  "));
    println!("\nflagged:\n  {}", fps.join("\n  "));
    assert!(recall >= 0.95, "recall {:.3} below 0.95", recall);
    assert!(fp <= 0.02, "false-positive rate {:.3} above 0.02", fp);
}

fn short(s: &str) -> String {
    if s.len() > 160 {
        let mut end = 160;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s.to_string()
    }
}
