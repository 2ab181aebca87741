//! Seed 001's `user_log_url`: a pre-signed link that expires, fetched with no credentials
//! (the seed's example is an S3 link with `X-Amz-Expires=86400` and a signature). Ours
//! names the app and the job, the time it was made and how long it lasts, signed with
//! HMAC-SHA256 under a server secret kept in the store: refused (403) once expired or when
//! any part was changed, so it never opens another job or another app's.

use std::time::Duration;

use serde::Deserialize;

use crate::error::ServiceError;
use crate::signing::Signer;
use crate::store::Store;
use crate::time::{amz_date, parse_amz_date};

/// The store's name for the secret links are signed with.
const SECRET_NAME: &str = "log-links";
/// What the links say they are signed with.
const ALGORITHM: &str = "CLOUDEXEC-HMAC-SHA256";
/// How long a link lasts by default (the seed's example: 86,400 s).
pub const DEFAULT_TTL: Duration = Duration::from_secs(86_400);

/// Makes and checks signed log links.
#[derive(Debug, Clone)]
pub struct LogLinks {
    signer: Signer,
    ttl: Duration,
}

/// A link's query parameters, as the log route reads them.
#[derive(Debug, Default, Deserialize)]
pub struct SignedQuery {
    /// The app the job belongs to.
    #[serde(rename = "X-Cloudexec-App")]
    pub app: Option<i64>,
    #[serde(rename = "X-Amz-Date")]
    date: Option<String>,
    #[serde(rename = "X-Amz-Expires")]
    expires: Option<i64>,
    /// The signature; a request without one needs a bearer token.
    #[serde(rename = "X-Amz-Signature")]
    pub signature: Option<String>,
}

fn refused(message: &str) -> ServiceError {
    ServiceError::AccessDenied(message.into())
}

impl LogLinks {
    /// Links signed with the store's secret, lasting `ttl`.
    pub async fn load(store: &dyn Store, ttl: Duration) -> Result<Self, ServiceError> {
        Ok(Self { signer: Signer::load(store, SECRET_NAME).await?, ttl })
    }

    fn message(app: i64, job: i64, date: &str, expires: i64) -> String {
        format!("{ALGORITHM}\n{app}\n{job}\n{date}\n{expires}")
    }

    /// The query string of job `job`'s log link, made at `now_secs`.
    pub fn query(&self, app: i64, job: i64, now_secs: i64) -> String {
        let date = amz_date(now_secs);
        let expires = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX);
        let signature = hex::encode(self.signer.sign(Self::message(app, job, &date, expires).as_bytes()));
        format!(
            "X-Amz-Algorithm={ALGORITHM}&X-Cloudexec-App={app}&X-Amz-Date={date}&X-Amz-Expires={expires}&X-Amz-Signature={signature}"
        )
    }

    /// `Ok` when `query` is a link to job `job` of its app that has not expired at `now_secs`.
    pub fn check(&self, query: &SignedQuery, job: i64, now_secs: i64) -> Result<i64, ServiceError> {
        let incomplete = || refused("the log link is incomplete");
        let (app, date, expires) = (query.app.ok_or_else(incomplete)?, query.date.as_deref(), query.expires);
        let (date, expires) = (date.ok_or_else(incomplete)?, expires.ok_or_else(incomplete)?);
        let signature = query.signature.as_deref().and_then(|s| hex::decode(s).ok()).ok_or_else(incomplete)?;
        if !self.signer.verify(Self::message(app, job, date, expires).as_bytes(), &signature) {
            return Err(refused("the log link's signature does not match (it was changed, or is for another job)"));
        }
        let made = parse_amz_date(date).ok_or_else(incomplete)?;
        if now_secs > made.saturating_add(expires) {
            return Err(refused("the log link has expired: list the job again for a fresh one"));
        }
        Ok(app)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(query: &str) -> SignedQuery {
        let uri: axum::http::Uri = format!("/log/?{query}").parse().unwrap_or_default();
        axum::extract::Query::<SignedQuery>::try_from_uri(&uri).map(|q| q.0).unwrap_or_default()
    }

    #[test]
    fn a_link_opens_its_job_until_it_expires() {
        let links = LogLinks { signer: Signer::with_secret(b"s"), ttl: Duration::from_secs(60) };
        let query = links.query(1, 7, 1_000);
        assert_eq!(links.check(&parsed(&query), 7, 1_030).ok(), Some(1));
        assert!(links.check(&parsed(&query), 7, 1_061).is_err(), "expired");
        assert!(links.check(&parsed(&query), 8, 1_030).is_err(), "another job");
        assert!(links.check(&parsed(&query.replace("App=1", "App=2")), 7, 1_030).is_err(), "another app");
        assert!(links.check(&parsed(&query.replace("Expires=60", "Expires=6000")), 7, 1_030).is_err(), "extended");
        assert!(links.check(&parsed(""), 7, 1_030).is_err(), "no link");
        let other = LogLinks { signer: Signer::with_secret(b"t"), ttl: Duration::from_secs(60) };
        assert!(other.check(&parsed(&query), 7, 1_030).is_err(), "another server's secret");
    }
}
