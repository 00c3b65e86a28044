//! Creates the local stand-ins of the template's resources (table, import bucket, SES identity and
//! configuration set). Idempotent: what already exists is left as it is.

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
    VersioningConfiguration,
};
use aws_sdk_sesv2::error::ProvideErrorMetadata;

use crate::{
    LocalConfig,
    template::{KeyElement, TableDefinition, Template},
};

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("the template's bucket {0} has no local name (see LocalConfig::bucket_name)")]
    UnmappedBucket(String),
    #[error("creating {what}: {source}")]
    Aws {
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

fn failed(
    what: impl Into<String>,
    source: impl std::error::Error + Send + Sync + 'static,
) -> ProvisionError {
    ProvisionError::Aws {
        what: what.into(),
        source: Box::new(source),
    }
}

/// The SNS platform applications for phone push (parameters of the template, created locally).
#[derive(Debug, Clone, Default)]
pub struct PushApplications {
    pub apns: Option<String>,
    pub fcm: Option<String>,
}

pub async fn provision(
    aws: &SdkConfig,
    template: &Template,
    config: &LocalConfig,
) -> Result<PushApplications, ProvisionError> {
    create_table(
        &aws_sdk_dynamodb::Client::new(aws),
        &config.table_name,
        &template.table,
    )
    .await?;
    let s3 = aws_sdk_s3::Client::new(aws);
    for bucket in &template.buckets {
        let name = config
            .bucket_name(&bucket.logical_id)
            .ok_or_else(|| ProvisionError::UnmappedBucket(bucket.logical_id.clone()))?;
        create_bucket(&s3, name, &config.region, bucket.versioned).await?;
    }
    if template.has_email_identity {
        create_email_identity(&aws_sdk_sesv2::Client::new(aws), config).await?;
    }
    push_applications(&aws_sdk_sns::Client::new(aws)).await
}

/// Finds or creates the local APNS and FCM platform applications.
pub async fn push_applications(
    sns: &aws_sdk_sns::Client,
) -> Result<PushApplications, ProvisionError> {
    let existing = sns
        .list_platform_applications()
        .send()
        .await
        .map_err(|e| failed("listing SNS platform applications", e))?;
    let find = |name: &str| {
        existing
            .platform_applications()
            .iter()
            .filter_map(|app| app.platform_application_arn())
            .find(|arn| arn.ends_with(&format!("/{name}")))
            .map(str::to_owned)
    };
    let mut applications = PushApplications::default();
    for (name, platform) in [("roster-ios", "APNS_SANDBOX"), ("roster-android", "GCM")] {
        let arn = match find(name) {
            Some(arn) => arn,
            None => sns
                .create_platform_application()
                .name(name)
                .platform(platform)
                .attributes("PlatformCredential", "local-credential")
                .attributes("PlatformPrincipal", "local-principal")
                .send()
                .await
                .map_err(|e| failed(format!("SNS platform application {name}"), e))?
                .platform_application_arn
                .unwrap_or_default(),
        };
        if platform == "GCM" {
            applications.fcm = Some(arn);
        } else {
            applications.apns = Some(arn);
        }
    }
    Ok(applications)
}

/// Creates the table as the template declares it (keys, indexes, TTL), on demand.
pub async fn create_table(
    dynamodb: &aws_sdk_dynamodb::Client,
    name: &str,
    table: &TableDefinition,
) -> Result<(), ProvisionError> {
    let what = format!("table {name}");
    let mut request = dynamodb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(&table.key_schema)));
    for attribute in &table.attribute_definitions {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(&attribute.attribute_name)
                .attribute_type(ScalarAttributeType::from(attribute.attribute_type.as_str()))
                .build()
                .map_err(|e| failed(what.clone(), e))?,
        );
    }
    for index in &table.global_secondary_indexes {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&index.index_name)
                .set_key_schema(Some(key_schema(&index.key_schema)))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(
                            index.projection.projection_type.as_str(),
                        ))
                        .build(),
                )
                .build()
                .map_err(|e| failed(what.clone(), e))?,
        );
    }
    match request.send().await {
        Ok(_) => {}
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            return Ok(());
        }
        Err(error) => return Err(failed(what, error)),
    }
    if let Some(ttl) = table
        .time_to_live_specification
        .as_ref()
        .filter(|ttl| ttl.enabled)
    {
        dynamodb
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(&ttl.attribute_name)
                    .enabled(true)
                    .build()
                    .map_err(|e| failed(format!("TTL of {name}"), e))?,
            )
            .send()
            .await
            .map_err(|e| failed(format!("TTL of {name}"), e))?;
    }
    Ok(())
}

fn key_schema(elements: &[KeyElement]) -> Vec<KeySchemaElement> {
    elements
        .iter()
        .filter_map(|element| {
            KeySchemaElement::builder()
                .attribute_name(&element.attribute_name)
                .key_type(KeyType::from(element.key_type.as_str()))
                .build()
                .ok()
        })
        .collect()
}

async fn create_bucket(
    s3: &aws_sdk_s3::Client,
    name: &str,
    region: &str,
    versioned: bool,
) -> Result<(), ProvisionError> {
    // us-east-1 is the one region whose buckets take no location constraint.
    let location = (region != "us-east-1").then(|| {
        CreateBucketConfiguration::builder()
            .location_constraint(BucketLocationConstraint::from(region))
            .build()
    });
    match s3
        .create_bucket()
        .bucket(name)
        .set_create_bucket_configuration(location)
        .send()
        .await
    {
        Ok(_) => {}
        Err(error)
            if error.as_service_error().is_some_and(|e| {
                e.is_bucket_already_owned_by_you() || e.is_bucket_already_exists()
            }) => {}
        Err(error) => return Err(failed(format!("bucket {name}"), error)),
    }
    if versioned {
        s3.put_bucket_versioning()
            .bucket(name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| failed(format!("versioning of bucket {name}"), e))?;
    }
    Ok(())
}

/// The sender's domain as a verified SES identity, and the configuration set every send names.
async fn create_email_identity(
    ses: &aws_sdk_sesv2::Client,
    config: &LocalConfig,
) -> Result<(), ProvisionError> {
    let domain = config
        .sender_address
        .rsplit_once('@')
        .map_or(config.sender_address.as_str(), |(_, domain)| domain);
    if let Err(error) = ses
        .create_configuration_set()
        .configuration_set_name(&config.ses_configuration_set)
        .send()
        .await
    {
        // moto names it ConfigurationSetAlreadyExistsException, which the SDK does not model.
        if !error
            .code()
            .is_some_and(|code| code.ends_with("AlreadyExistsException"))
        {
            return Err(failed("SES configuration set", error));
        }
    }
    match ses
        .create_email_identity()
        .email_identity(domain)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_already_exists_exception()) =>
        {
            Ok(())
        }
        Err(error) => Err(failed(format!("SES identity {domain}"), error)),
    }
}
