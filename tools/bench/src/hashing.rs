//! The argon2 peer: one argon2id hash by the argon2 crate, as Roster's `hash_password` makes it,
//! against one by argon2-cffi, which binds the reference C implementation, with the parameters
//! read from Roster's own hash. The two are taken in turn, sample by sample, each timed inside its
//! own process around the hash alone.

use std::{path::Path, process::Stdio, time::Instant};

use argon2::{Params, PasswordHash};
use roster_domain::credentials::hash_password;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::{
    PASSWORD, Row, Samples,
    import::{BenchError, step},
};

/// Hashes timed on each side.
const SAMPLES: usize = 100;
/// The peer's side, run by the peers' Python (`peers/argon2_cffi.py` says what it answers).
const ARGON2_CFFI: &str = include_str!("../peers/argon2_cffi.py");

/// What two argon2 hashes must share for their times to compare: algorithm, version, costs,
/// output length and salt length.
#[derive(Debug, PartialEq)]
struct Shape {
    algorithm: String,
    version: Option<u32>,
    params: Params,
    salt_len: usize,
}

impl Shape {
    fn of(phc: &str) -> Result<Self, BenchError> {
        let hash = PasswordHash::new(phc).map_err(step("reading a PHC string"))?;
        let mut salt = [0u8; 64];
        let salt_len = hash
            .salt
            .ok_or("a PHC string without salt")?
            .decode_b64(&mut salt)
            .map_err(step("reading the salt"))?
            .len();
        Ok(Self {
            algorithm: hash.algorithm.to_string(),
            version: hash.version,
            params: Params::try_from(&hash).map_err(step("reading the argon2 parameters"))?,
            salt_len,
        })
    }
}

pub async fn against_argon2_cffi(python: &Path) -> Result<Row, BenchError> {
    let ours = Shape::of(&hash_password(PASSWORD))?;
    let output_len = ours.params.output_len().ok_or("no output length")?;
    let mut peer = tokio::process::Command::new(python)
        .arg("-c")
        .arg(ARGON2_CFFI)
        .args(
            [
                ours.params.t_cost(),
                ours.params.m_cost(),
                ours.params.p_cost(),
                output_len as u32,
                ours.salt_len as u32,
            ]
            .map(|value| value.to_string()),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(step("starting argon2-cffi"))?;
    let mut requests = peer.stdin.take().ok_or("no stdin")?;
    let mut answers = BufReader::new(peer.stdout.take().ok_or("no stdout")?).lines();
    let (mut rust, mut c) = (Vec::new(), Vec::new());
    for _ in 0..SAMPLES {
        requests
            .write_all(format!("{PASSWORD}\n").as_bytes())
            .await?;
        let answer = answers.next_line().await?.ok_or("argon2-cffi stopped")?;
        let (ms, phc) = answer
            .split_once('\t')
            .ok_or_else(|| format!("argon2-cffi answered {answer:?}"))?;
        let theirs = Shape::of(phc)?;
        if theirs != ours {
            return Err(format!("argon2-cffi hashed as {theirs:?}, Roster as {ours:?}").into());
        }
        c.push(ms.parse::<f64>()?);
        let start = Instant::now();
        std::hint::black_box(hash_password(PASSWORD));
        rust.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    drop(requests);
    peer.wait().await?;
    let (rust, c) = (Samples::of(rust), Samples::of(c));
    Ok(Row::peer(
        "argon2id hash (median): argon2 crate vs argon2-cffi (C)",
        format!("{:.1} ms", rust.median()),
        format!("{:.1} ms", c.median()),
        rust.median() / c.median(),
        SAMPLES,
    )
    .timed(&rust, Some(&c)))
}
