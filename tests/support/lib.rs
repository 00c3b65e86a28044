//! What the end-to-end tests share: the local stack's settings (from the environment `make test`
//! sets), an app served on an ephemeral port, the sample events, and a private DynamoDB Local.

use std::{path::PathBuf, process::Child, time::Duration};

use aws_config::SdkConfig;
use roster_local::{Clients, Functions, LocalConfig, dev::local_router, template::Template};
use serde_json::Value;
use tokio::sync::OnceCell;

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The local stack `make test` started and provisioned.
pub struct Stack {
    pub aws: SdkConfig,
    pub config: LocalConfig,
}

static STACK: OnceCell<Stack> = OnceCell::const_new();

pub async fn stack() -> &'static Stack {
    STACK
        .get_or_init(|| async {
            let mut config = LocalConfig::from_env().unwrap_or_else(|error| {
                panic!("{error}: the end-to-end tests run against the local stack; run them with `make test`")
            });
            config.template = repo_root().join("infra/template.yaml");
            Stack {
                aws: roster_bootstrap::aws_config().await,
                config,
            }
        })
        .await
}

impl Stack {
    pub fn template(&self) -> Template {
        Template::load(&self.config.template, &self.config.stack_name)
            .expect("infra/template.yaml loads")
    }

    pub fn clients(&self) -> Clients {
        Clients::new(&self.aws)
    }

    pub fn functions(&self) -> Functions {
        Functions::new(&self.clients(), &self.config)
    }

    /// The URL of moto's email outbox.
    pub fn outbox_url(&self) -> String {
        let endpoint =
            std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL is set by make test");
        format!("{}/_roster/outbox", endpoint.trim_end_matches('/'))
    }
}

/// The local server (HTTP API and invoke route) of `functions` on an ephemeral loopback port.
pub struct TestApp {
    pub base_url: String,
    pub http: reqwest::Client,
}

pub async fn spawn_app(functions: &Functions) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free port");
    let base_url = format!("http://{}", listener.local_addr().expect("local address"));
    let router = local_router(functions);
    tokio::spawn(async move { axum::serve(listener, router).await });
    TestApp {
        base_url,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client"),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
}

/// A sample Lambda event from `events/`.
pub fn sample_event(name: &str) -> Value {
    let path = repo_root().join("events").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A DynamoDB Local of the test's own (the JVM from `make test`'s tools), for tests that stop it.
/// Killed when dropped.
pub struct PrivateDynamoDb {
    process: Child,
    pub endpoint: String,
}

impl PrivateDynamoDb {
    pub async fn start() -> Self {
        let dir = std::env::var("ROSTER_DYNAMODB_LOCAL_DIR")
            .expect("ROSTER_DYNAMODB_LOCAL_DIR is set by make test");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let process = std::process::Command::new("java")
            .current_dir(&dir)
            .args([
                "-Djava.library.path=./DynamoDBLocal_lib",
                "-jar",
                "DynamoDBLocal.jar",
                "-inMemory",
                "-port",
            ])
            .arg(port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("java runs DynamoDB Local");
        let endpoint = format!("http://127.0.0.1:{port}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "DynamoDB Local did not start on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self { process, endpoint }
    }

    /// A DynamoDB client of this instance (an explicit endpoint outranks the environment's).
    pub fn client(&self, base: &SdkConfig) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::config::Builder::from(base)
            .endpoint_url(&self.endpoint)
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    pub fn stop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Drop for PrivateDynamoDb {
    fn drop(&mut self) {
        self.stop();
    }
}
