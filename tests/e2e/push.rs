//! Push senders end to end: Web Push against a local push service that checks VAPID and decrypts
//! like a browser's, and SNS mobile push against moto's platform endpoints.

use roster_domain::ids::UserId;
use roster_e2e::{PushService, spawn_push_service, stack};
use roster_notify::{PhonePlatform, PushMessage, PushOutcome, SnsPusher, VapidKey, WebPushSender};
use serde_json::json;

fn message() -> PushMessage {
    PushMessage {
        title: "Desk 4.12 tomorrow".to_owned(),
        body: "09:00–17:00 · Zürich, 4th floor".to_owned(),
        tag: "reservation-42".to_owned(),
    }
}

fn web_push_sender() -> WebPushSender {
    WebPushSender::new(VapidKey::generate("mailto:push@roster.example").unwrap())
}

async fn send_to(service: &PushService, sender: &WebPushSender) -> (String, PushOutcome) {
    let (endpoint, p256dh, auth) = service.subscribe();
    let outcome = sender
        .send(&endpoint, &p256dh, &auth, &message(), 3600)
        .await;
    (endpoint, outcome)
}

#[tokio::test]
async fn a_web_push_reaches_the_browser_and_decrypts_to_the_message_sent() {
    let service = spawn_push_service().await;
    let sender = web_push_sender();

    let (endpoint, outcome) = send_to(&service, &sender).await;

    assert_eq!(service.failures(), Vec::<String>::new());
    assert_eq!(outcome, PushOutcome::Delivered);
    assert_eq!(
        service.received(&endpoint),
        [json!({
            "title": "Desk 4.12 tomorrow",
            "body": "09:00–17:00 · Zürich, 4th floor",
            "tag": "reservation-42"
        })]
    );
}

#[tokio::test]
async fn a_subscription_the_browser_dropped_is_gone() {
    let service = spawn_push_service().await;
    let sender = web_push_sender();
    let (endpoint, p256dh, auth) = service.subscribe();
    service.gone(&endpoint);

    let outcome = sender
        .send(&endpoint, &p256dh, &auth, &message(), 3600)
        .await;

    assert_eq!(outcome, PushOutcome::Gone);
    assert!(service.received(&endpoint).is_empty());
}

#[tokio::test]
async fn a_body_not_encrypted_for_the_subscription_is_refused_for_good() {
    let service = spawn_push_service().await;
    let sender = web_push_sender();
    let (endpoint, p256dh, _) = service.subscribe();
    let (_, _, another_auth) = service.subscribe();

    let outcome = sender
        .send(&endpoint, &p256dh, &another_auth, &message(), 3600)
        .await;

    assert!(matches!(outcome, PushOutcome::Failed(_)), "{outcome:?}");
    assert!(service.received(&endpoint).is_empty());
    let failures = service.failures();
    assert!(
        failures.len() == 1 && failures[0].contains("does not decrypt"),
        "{failures:?}"
    );
}

#[tokio::test]
async fn the_push_service_refuses_a_push_without_vapid() {
    let service = spawn_push_service().await;
    let (endpoint, _, _) = service.subscribe();

    let response = reqwest::Client::new()
        .post(&endpoint)
        .header("TTL", "60")
        .header("Content-Encoding", "aes128gcm")
        .body(vec![0u8; 103])
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 400);
    assert!(
        service.failures()[0].contains("vapid"),
        "{:?}",
        service.failures()
    );
}

#[tokio::test]
async fn a_web_push_to_an_unreachable_push_service_is_worth_retrying() {
    let sender = web_push_sender();
    let service = spawn_push_service().await;
    let (_, p256dh, auth) = service.subscribe();

    // Port 9 on loopback is closed (as in the stack's range API setting).
    let outcome = sender
        .send("http://127.0.0.1:9/push/x", &p256dh, &auth, &message(), 60)
        .await;

    assert!(matches!(outcome, PushOutcome::Transient(_)), "{outcome:?}");
}

/// A new SNS platform endpoint in the stack's application for `platform`.
async fn phone_endpoint(sns: &aws_sdk_sns::Client, platform: PhonePlatform) -> String {
    let push = &stack().await.push;
    let application = match platform {
        PhonePlatform::Ios => push.apns.clone(),
        PhonePlatform::Android => push.fcm.clone(),
    }
    .expect("the stack provisions both platform applications");
    sns.create_platform_endpoint()
        .platform_application_arn(application)
        .token(format!("token-{}", UserId::generate()))
        .send()
        .await
        .unwrap()
        .endpoint_arn
        .unwrap()
}

#[tokio::test]
async fn a_phone_push_is_published_until_the_phone_endpoint_is_disabled() {
    let sns = aws_sdk_sns::Client::new(&stack().await.aws);
    let pusher = SnsPusher::new(sns.clone());

    for platform in [PhonePlatform::Ios, PhonePlatform::Android] {
        let endpoint = phone_endpoint(&sns, platform).await;
        assert_eq!(
            pusher.send(&endpoint, platform, &message()).await,
            PushOutcome::Delivered,
            "{platform:?}"
        );

        // What SNS does when APNs or FCM report the token invalid.
        sns.set_endpoint_attributes()
            .endpoint_arn(&endpoint)
            .attributes("Enabled", "false")
            .send()
            .await
            .unwrap();
        assert_eq!(
            pusher.send(&endpoint, platform, &message()).await,
            PushOutcome::Gone,
            "{platform:?}"
        );
    }
}

#[tokio::test]
async fn a_deleted_phone_endpoint_is_gone() {
    let sns = aws_sdk_sns::Client::new(&stack().await.aws);
    let endpoint = phone_endpoint(&sns, PhonePlatform::Android).await;
    sns.delete_endpoint()
        .endpoint_arn(&endpoint)
        .send()
        .await
        .unwrap();

    let outcome = SnsPusher::new(sns)
        .send(&endpoint, PhonePlatform::Android, &message())
        .await;

    assert_eq!(outcome, PushOutcome::Gone);
}
