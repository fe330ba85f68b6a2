//! Password hashing with argon2id. The parameters are recorded in each hash
//! (PHC string format), so a change of configuration is noticed at the next
//! successful sign-in and the hash is renewed then.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::secrets::random_bytes;
use crate::ServiceError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Params {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Params {
    /// OWASP's recommended minimum for argon2id: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        Argon2Params {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl Argon2Params {
    fn hasher(self) -> Result<Argon2<'static>, String> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| format!("invalid argon2 parameters: {e}"))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Checks the parameters without hashing anything (for configuration checks).
    pub fn check(self) -> Result<(), String> {
        self.hasher().map(|_| ())
    }
}

/// Hashes on a blocking thread: argon2 is deliberately slow.
pub async fn hash(password: String, params: Argon2Params) -> Result<String, ServiceError> {
    tokio::task::spawn_blocking(move || hash_now(&password, params))
        .await
        .map_err(|e| ServiceError::internal("password hashing stopped", e))?
}

fn hash_now(password: &str, params: Argon2Params) -> Result<String, ServiceError> {
    let hasher = params
        .hasher()
        .map_err(|e| ServiceError::internal("password hashing parameters", e))?;
    let salt = SaltString::encode_b64(&random_bytes::<16>())
        .map_err(|e| ServiceError::internal("password salt", e))?;
    hasher
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::internal("password hashing failed", e))
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Correct, but hashed with other parameters than the current ones.
    YesRehash,
}

/// Verifies on a blocking thread. An unreadable stored hash counts as a mismatch.
pub async fn verify(password: String, stored: String, params: Argon2Params) -> Verified {
    tokio::task::spawn_blocking(move || verify_now(&password, &stored, params))
        .await
        .unwrap_or(Verified::No)
}

fn verify_now(password: &str, stored: &str, params: Argon2Params) -> Verified {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verified::No;
    };
    // Verification uses the parameters recorded in the hash itself.
    if Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_err()
    {
        return Verified::No;
    }
    let current = Params::try_from(&parsed).ok();
    let same = parsed.algorithm.as_str() == "argon2id"
        && current.is_some_and(|p| {
            p.m_cost() == params.memory_kib
                && p.t_cost() == params.iterations
                && p.p_cost() == params.parallelism
        });
    if same {
        Verified::Yes
    } else {
        Verified::YesRehash
    }
}

/// A hash to verify against when the account does not exist, so that a
/// wrong login costs as much time as a wrong password and does not reveal
/// which logins exist.
pub async fn burn_time(password: String, params: Argon2Params) {
    let _ = hash(password, params).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: Argon2Params = Argon2Params {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[tokio::test]
    async fn hashes_verify_and_notice_parameter_changes() {
        let h = hash("correct horse".into(), CHEAP).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{h}");
        assert_eq!(
            verify("correct horse".into(), h.clone(), CHEAP).await,
            Verified::Yes
        );
        assert_eq!(
            verify("wrong horse".into(), h.clone(), CHEAP).await,
            Verified::No
        );
        let stronger = Argon2Params {
            memory_kib: 128,
            ..CHEAP
        };
        assert_eq!(
            verify("correct horse".into(), h, stronger).await,
            Verified::YesRehash
        );
        assert_eq!(
            verify("x".into(), "not a hash".into(), CHEAP).await,
            Verified::No
        );
    }

    #[test]
    fn rejects_impossible_parameters() {
        assert!(Argon2Params {
            memory_kib: 1,
            iterations: 1,
            parallelism: 1
        }
        .check()
        .is_err());
        assert!(Argon2Params::default().check().is_ok());
    }
}
