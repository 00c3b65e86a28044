//! The four Lambda functions, in one process, reachable as API Gateway and Lambda would reach
//! them: HTTP routes for the HTTP functions, and `invoke` with a Lambda event for any function.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::SdkConfig;
use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderName, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use http_body_util::{BodyExt, Full};
use lambda_http::{Context, LambdaEvent, request::LambdaRequest};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tower::ServiceExt;

use roster_domain::session::secret_hash;

use crate::{LocalConfig, grants::Grants, provision::PushApplications, template::Template};

/// The function names, as the template's `BuildProperties.Binary` names them.
pub const FUNCTION_NAMES: [&str; 4] = ["profile-api", "scim", "csv-import", "jobs"];

#[derive(Clone)]
pub struct Functions {
    profile_api: Router,
    scim: Router,
    importer: csv_import::Importer,
    jobs: jobs::Jobs,
}

/// Why an invocation produced no result.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("no function named {0:?}; the functions are {FUNCTION_NAMES:?}")]
    UnknownFunction(String),
    /// The function ran (or failed to read its event) and reported an error, as Lambda would.
    #[error("{error_type}: {message}")]
    Function { error_type: String, message: String },
}

/// The SDK clients the functions use, built once.
pub type Clients = profile_api::Clients;

pub fn clients(aws: &SdkConfig) -> Clients {
    Clients {
        dynamodb: aws_sdk_dynamodb::Client::new(aws),
        s3: aws_sdk_s3::Client::new(aws),
        sns: aws_sdk_sns::Client::new(aws),
        ses: aws_sdk_sesv2::Client::new(aws),
    }
}

/// `clients` held to what the template grants the function `name` (see `grants`).
fn granted(clients: &Clients, template: &Template, name: &str) -> Clients {
    let actions = template
        .grants
        .get(name)
        .unwrap_or_else(|| panic!("infra/template.yaml has no function built as {name}"));
    let grants = Grants::new(name, actions.clone());
    Clients {
        dynamodb: aws_sdk_dynamodb::Client::from_conf(
            clients
                .dynamodb
                .config()
                .to_builder()
                .interceptor(grants.clone())
                .build(),
        ),
        s3: aws_sdk_s3::Client::from_conf(
            clients
                .s3
                .config()
                .to_builder()
                .interceptor(grants.clone())
                .build(),
        ),
        sns: aws_sdk_sns::Client::from_conf(
            clients
                .sns
                .config()
                .to_builder()
                .interceptor(grants.clone())
                .build(),
        ),
        ses: aws_sdk_sesv2::Client::from_conf(
            clients
                .ses
                .config()
                .to_builder()
                .interceptor(grants)
                .build(),
        ),
    }
}

impl Functions {
    /// The functions, each with `clients` as its role in the template may use them.
    pub fn new(
        clients: &Clients,
        config: &LocalConfig,
        push: &PushApplications,
        clock: profile_api::Clock,
    ) -> Self {
        let template = Template::load(&config.template, &config.stack_name)
            .unwrap_or_else(|error| panic!("{}: {error}", config.template.display()));
        let [
            profile_api_clients,
            scim_clients,
            import_clients,
            jobs_clients,
        ] = FUNCTION_NAMES.map(|name| granted(clients, &template, name));
        let profile_api_config = profile_api::Config {
            table_name: config.table_name.clone(),
            avatar_bucket: config.avatar_bucket.clone(),
            import_bucket: config.import_bucket.clone(),
            platform_token_sha256: config.platform_token.as_deref().map(secret_hash),
            apns_application_arn: push.apns.clone(),
            fcm_application_arn: push.fcm.clone(),
            sender_address: config.sender_address.clone(),
            ses_configuration_set: Some(config.ses_configuration_set.clone()),
            app_url: config.app_url.clone(),
            sealing_key: config.sealing_key.clone(),
            breached_range_url: config
                .breached_range_url
                .clone()
                .unwrap_or_else(|| profile_api::PWNED_PASSWORDS_RANGE_URL.to_owned()),
        };
        Self {
            profile_api: profile_api::router(profile_api::AppState::new(
                profile_api_clients,
                profile_api_config,
                clock,
            )),
            scim: scim::router(
                roster_store::DynamoTable::new(scim_clients.dynamodb, config.table_name.clone()),
                roster_notify::SesMailer::new(
                    scim_clients.ses,
                    &config.sender_address,
                    Some(config.ses_configuration_set.clone()),
                ),
                roster_store::avatars::S3AvatarStore::new(scim_clients.s3, &config.avatar_bucket),
            ),
            importer: csv_import::Importer::new(
                import_clients.s3,
                roster_store::DynamoTable::new(import_clients.dynamodb, config.table_name.clone()),
                csv_import::Invitations {
                    mailer: roster_notify::SesMailer::new(
                        import_clients.ses,
                        &config.sender_address,
                        Some(config.ses_configuration_set.clone()),
                    ),
                    app_url: config.app_url.clone(),
                },
            ),
            jobs: jobs::Jobs::new(
                jobs::Clients {
                    dynamodb: jobs_clients.dynamodb,
                    ses: jobs_clients.ses,
                    sns: jobs_clients.sns,
                },
                &jobs::Config {
                    table_name: config.table_name.clone(),
                    sender_address: config.sender_address.clone(),
                    ses_configuration_set: Some(config.ses_configuration_set.clone()),
                    vapid_private_key: config.vapid_private_key.clone(),
                    vapid_subject: config.vapid_subject.clone(),
                },
            )
            .expect("the stack's VAPID key is valid"),
        }
    }

    /// The HTTP API as the template routes it: `/scim/v2` and below to the SCIM function,
    /// everything else (`/v1/...`, `/health`) to the profile API. Paths reach each router unchanged.
    pub fn http_api(&self) -> Router {
        let (profile_api, scim) = (self.profile_api.clone(), self.scim.clone());
        Router::new().fallback(move |request: axum::extract::Request| {
            let path = request.uri().path();
            let function = if path == "/scim/v2" || path.starts_with("/scim/v2/") {
                scim.clone()
            } else {
                profile_api.clone()
            };
            async move {
                let Ok(response) = function.oneshot(request).await;
                response
            }
        })
    }

    /// Runs `function` on `event` (a Lambda event, as in `events/`) and answers what the function
    /// returned, as `sam local invoke -e` does.
    pub async fn invoke(&self, function: &str, event: Value) -> Result<Value, InvokeError> {
        self.invoke_until(function, event, None).await
    }

    /// [`Functions::invoke`] as an invocation that Lambda ends at `deadline` (none: no end, as
    /// `sam local invoke` runs).
    pub async fn invoke_until(
        &self,
        function: &str,
        event: Value,
        deadline: Option<SystemTime>,
    ) -> Result<Value, InvokeError> {
        match function {
            "profile-api" => invoke_http(self.profile_api.clone(), event, deadline).await,
            "scim" => invoke_http(self.scim.clone(), event, deadline).await,
            "csv-import" => {
                let event = parse_event(event)?;
                let run = self
                    .importer
                    .handle(lambda_event(event, deadline))
                    .await
                    .map_err(function_error)?;
                Ok(to_json(&run))
            }
            "jobs" => {
                let event = parse_event(event)?;
                let run = self
                    .jobs
                    .handle(lambda_event(event, deadline))
                    .await
                    .map_err(function_error)?;
                Ok(to_json(&run))
            }
            other => Err(InvokeError::UnknownFunction(other.to_owned())),
        }
    }
}

/// An API Gateway event through `lambda_http`'s own adapter, as `lambda_http::run` handles it.
/// The response body is buffered first (a `Sync` body), so the invocation can run on any task.
async fn invoke_http(
    router: Router,
    event: Value,
    deadline: Option<SystemTime>,
) -> Result<Value, InvokeError> {
    let request: LambdaRequest = parse_event(event)?;
    let buffered_router = lambda_http::service_fn(move |request: lambda_http::Request| {
        let router = router.clone();
        async move {
            let Ok(response) = router.oneshot(request).await;
            let (parts, body) = response.into_parts();
            let bytes = body.collect().await?.to_bytes();
            Ok::<_, axum::Error>(http::Response::from_parts(parts, Full::new(bytes)))
        }
    });
    let response = lambda_http::Adapter::from(buffered_router)
        .oneshot(lambda_event(request, deadline))
        .await
        .map_err(function_error)?;
    Ok(to_json(&response))
}

fn lambda_event<T>(payload: T, deadline: Option<SystemTime>) -> LambdaEvent<T> {
    let mut context = Context::default();
    if let Some(deadline) = deadline {
        let since_epoch = deadline.duration_since(UNIX_EPOCH).unwrap_or_default();
        context.deadline = u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX);
    }
    LambdaEvent::new(payload, context)
}

fn parse_event<T: DeserializeOwned>(event: Value) -> Result<T, InvokeError> {
    serde_json::from_value(event).map_err(|error| InvokeError::Function {
        error_type: "Runtime.UnmarshalError".to_owned(),
        message: error.to_string(),
    })
}

fn function_error(error: impl std::error::Error) -> InvokeError {
    let error_type = std::any::type_name_of_val(&error)
        .rsplit("::")
        .next()
        .unwrap_or("Error")
        .to_owned();
    InvokeError::Function {
        error_type,
        message: error.to_string(),
    }
}

fn to_json(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value)
        .unwrap_or_else(|error| json!({ "serialisationError": error.to_string() }))
}

/// `POST /_local/invoke/{function}`: the Lambda Invoke API's answer shape. A function error is
/// 200 with `X-Amz-Function-Error: Unhandled` and `{errorType, errorMessage}`.
pub fn invoke_route(functions: Functions) -> Router {
    Router::new()
        .route("/_local/invoke/{function}", post(invoke_handler))
        .with_state(functions)
}

/// The body is read as JSON whatever its content type, as the Invoke API reads a payload (so
/// `curl -d @events/x.json` works); JSON it is not answers 400 `InvalidRequestContentException`.
async fn invoke_handler(
    State(functions): State<Functions>,
    Path(function): Path<String>,
    body: Bytes,
) -> Response {
    let event = match serde_json::from_slice::<Value>(&body) {
        Ok(event) => event,
        Err(error) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({
                    "errorType": "InvalidRequestContentException",
                    "errorMessage": format!("the payload is not JSON: {error}")
                })),
            )
                .into_response();
        }
    };
    match functions.invoke(&function, event).await {
        Ok(result) => Json(result).into_response(),
        Err(error @ InvokeError::UnknownFunction(_)) => (
            StatusCode::NOT_FOUND,
            Json(json!({ "errorType": "ResourceNotFoundException", "errorMessage": error.to_string() })),
        )
            .into_response(),
        Err(InvokeError::Function { error_type, message }) => (
            [(HeaderName::from_static("x-amz-function-error"), "Unhandled")],
            Json(json!({ "errorType": error_type, "errorMessage": message })),
        )
            .into_response(),
    }
}
