use roster_domain::preferences::Language;

/// A message Roster sends a person about their account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    PasswordChanged,
    EmailChanged {
        new_email: String,
    },
    MfaEnabled,
    MfaDisabled,
    /// An administrator removed the person's two-factor authentication.
    MfaReset,
    RecoveryCodeUsed {
        remaining: usize,
    },
    RecoveryCodesRegenerated,
    /// Too many failed logins; login is blocked for `minutes` (0 means until an administrator unlocks it).
    AccountLocked {
        minutes: u64,
    },
    /// A password reset link (valid 1 hour, single use).
    PasswordReset {
        link: String,
    },
    /// A link that moves the person's login to the address it is sent to (valid 24 hours,
    /// single use).
    EmailConfirmation {
        link: String,
    },
    /// Invitation to join an organisation (link valid 48 hours, single use).
    Invitation {
        organisation: String,
        link: String,
    },
}

/// How long an invitation link works.
pub const INVITATION_LIFETIME: chrono::Duration = chrono::Duration::hours(48);

/// How long a link confirming a new login email works.
pub const EMAIL_CONFIRMATION_LIFETIME: chrono::Duration = chrono::Duration::hours(24);

/// The link of an invitation email: the app's accept page with the token.
pub fn invitation_link(app_url: &str, token: &str) -> String {
    format!(
        "{}/accept-invitation?token={token}",
        app_url.trim_end_matches('/')
    )
}

/// A notice rendered for one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    /// Plain-text body, lines separated by "\n".
    pub text: String,
}

/// Renders `notice` in `language`, greeting the person by `first_name`.
pub fn render(notice: &Notice, language: Language, first_name: &str) -> Rendered {
    let t = texts(language);
    let (template, add_not_you, mut values) = match notice {
        Notice::PasswordChanged => (&t.password_changed, true, vec![]),
        Notice::EmailChanged { new_email } => {
            (&t.email_changed, true, vec![("{email}", new_email.clone())])
        }
        Notice::MfaEnabled => (&t.mfa_enabled, true, vec![]),
        Notice::MfaDisabled => (&t.mfa_disabled, true, vec![]),
        Notice::MfaReset => (&t.mfa_reset, false, vec![]),
        Notice::RecoveryCodeUsed { remaining } => (
            &t.recovery_code_used,
            true,
            vec![("{remaining}", remaining.to_string())],
        ),
        Notice::RecoveryCodesRegenerated => (&t.recovery_codes_regenerated, true, vec![]),
        Notice::AccountLocked { minutes: 0 } => (&t.account_locked_until_unlocked, true, vec![]),
        Notice::AccountLocked { minutes } => (
            &t.account_locked,
            true,
            vec![("{minutes}", minutes.to_string())],
        ),
        Notice::PasswordReset { link } => (&t.password_reset, true, vec![("{link}", link.clone())]),
        Notice::EmailConfirmation { link } => {
            (&t.email_confirmation, false, vec![("{link}", link.clone())])
        }
        Notice::Invitation { organisation, link } => (
            &t.invitation,
            false,
            vec![
                ("{organisation}", organisation.clone()),
                ("{link}", link.clone()),
            ],
        ),
    };
    values.push(("{name}", first_name.to_owned()));

    let mut text = format!(
        "{}\n\n{}",
        fill(t.greeting, &values),
        fill(template.body, &values)
    );
    if add_not_you {
        text.push_str("\n\n");
        text.push_str(t.not_you);
    }
    Rendered {
        subject: fill(template.subject, &values),
        text,
    }
}

/// Replaces each `{key}` placeholder in one pass, so values are inserted verbatim even when they
/// contain braces themselves.
pub(crate) fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        match values.iter().find(|(key, _)| rest.starts_with(key)) {
            Some((key, value)) => {
                out.push_str(value);
                rest = &rest[key.len()..];
            }
            None => {
                out.push('{');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

pub(crate) struct Template {
    pub(crate) subject: &'static str,
    pub(crate) body: &'static str,
}

/// The line that opens every message in `language`, with a `{name}` placeholder.
pub(crate) fn greeting(language: Language) -> &'static str {
    texts(language).greeting
}

/// One language's wording. `greeting` opens every message; `not_you` closes security notices
/// whose body does not already say whom to contact.
struct Texts {
    greeting: &'static str,
    not_you: &'static str,
    password_changed: Template,
    email_changed: Template,
    mfa_enabled: Template,
    mfa_disabled: Template,
    mfa_reset: Template,
    recovery_code_used: Template,
    recovery_codes_regenerated: Template,
    account_locked: Template,
    account_locked_until_unlocked: Template,
    password_reset: Template,
    email_confirmation: Template,
    invitation: Template,
}

fn texts(language: Language) -> &'static Texts {
    match language {
        Language::En => &EN,
        Language::De => &DE,
        Language::Fr => &FR,
        Language::It => &IT,
        Language::Hu => &HU,
        Language::Ja => &JA,
        Language::Ro => &RO,
        Language::Ru => &RU,
        Language::Tr => &TR,
        Language::Es => &ES,
        Language::Zh => &ZH,
    }
}

static EN: Texts = Texts {
    greeting: "Hello {name},",
    not_you: "If this wasn't you, contact your administrator immediately.",
    password_changed: Template {
        subject: "Your Roster password was changed",
        body: "The password for your Roster account was changed.",
    },
    email_changed: Template {
        subject: "Your Roster email address was changed",
        body: "The email address for your Roster account was changed to {email}.",
    },
    mfa_enabled: Template {
        subject: "Two-factor authentication turned on",
        body: "Two-factor authentication was turned on for your Roster account.",
    },
    mfa_disabled: Template {
        subject: "Two-factor authentication turned off",
        body: "Two-factor authentication was turned off for your Roster account.",
    },
    mfa_reset: Template {
        subject: "Two-factor authentication removed",
        body: "An administrator removed two-factor authentication from your Roster account. \
               If you did not ask for this, contact your administrator.",
    },
    recovery_code_used: Template {
        subject: "A recovery code was used",
        body: "A recovery code was used to sign in to your Roster account. \
               Unused recovery codes left: {remaining}.",
    },
    recovery_codes_regenerated: Template {
        subject: "New recovery codes created",
        body: "New recovery codes were created for your Roster account. \
               Your previous codes no longer work.",
    },
    account_locked: Template {
        subject: "Your Roster account is locked",
        body: "After too many failed sign-in attempts, your Roster account is locked for {minutes} min.",
    },
    account_locked_until_unlocked: Template {
        subject: "Your Roster account is locked",
        body: "After too many failed sign-in attempts, your Roster account is locked \
               until an administrator unlocks it.",
    },
    password_reset: Template {
        subject: "Reset your Roster password",
        body: "Use this link to choose a new password for your Roster account:\n\
               {link}\n\
               The link is valid for 1 hour and can be used only once.",
    },
    email_confirmation: Template {
        subject: "Confirm your new Roster email address",
        body: "You asked to sign in to Roster with this email address. Confirm it with this link:\n\
               {link}\n\
               The link is valid for 24 hours and can be used only once. Until then you sign in \
               with your current address. If you did not ask for this, ignore this email: \
               nothing changes.",
    },
    invitation: Template {
        subject: "Invitation to join {organisation} on Roster",
        body: "You have been invited to join {organisation} on Roster. \
               Accept the invitation with this link:\n\
               {link}\n\
               The link is valid for 48 hours and can be used only once.",
    },
};

static DE: Texts = Texts {
    greeting: "Hallo {name},",
    not_you: "Falls Sie das nicht waren, wenden Sie sich bitte umgehend an Ihren Administrator.",
    password_changed: Template {
        subject: "Ihr Roster-Passwort wurde geändert",
        body: "Das Passwort Ihres Roster-Kontos wurde geändert.",
    },
    email_changed: Template {
        subject: "Ihre E-Mail-Adresse bei Roster wurde geändert",
        body: "Die E-Mail-Adresse Ihres Roster-Kontos wurde in {email} geändert.",
    },
    mfa_enabled: Template {
        subject: "Zwei-Faktor-Authentifizierung aktiviert",
        body: "Für Ihr Roster-Konto wurde die Zwei-Faktor-Authentifizierung aktiviert.",
    },
    mfa_disabled: Template {
        subject: "Zwei-Faktor-Authentifizierung deaktiviert",
        body: "Für Ihr Roster-Konto wurde die Zwei-Faktor-Authentifizierung deaktiviert.",
    },
    mfa_reset: Template {
        subject: "Zwei-Faktor-Authentifizierung entfernt",
        body: "Ein Administrator hat die Zwei-Faktor-Authentifizierung von Ihrem Roster-Konto \
               entfernt. Falls Sie das nicht veranlasst haben, wenden Sie sich bitte an Ihren \
               Administrator.",
    },
    recovery_code_used: Template {
        subject: "Ein Wiederherstellungscode wurde verwendet",
        body: "Für die Anmeldung bei Ihrem Roster-Konto wurde ein Wiederherstellungscode \
               verwendet. Verbleibende Wiederherstellungscodes: {remaining}.",
    },
    recovery_codes_regenerated: Template {
        subject: "Neue Wiederherstellungscodes erstellt",
        body: "Für Ihr Roster-Konto wurden neue Wiederherstellungscodes erstellt. \
               Ihre bisherigen Codes sind nicht mehr gültig.",
    },
    account_locked: Template {
        subject: "Ihr Roster-Konto ist gesperrt",
        body: "Nach zu vielen fehlgeschlagenen Anmeldeversuchen ist Ihr Roster-Konto \
               für {minutes} Min. gesperrt.",
    },
    account_locked_until_unlocked: Template {
        subject: "Ihr Roster-Konto ist gesperrt",
        body: "Nach zu vielen fehlgeschlagenen Anmeldeversuchen ist Ihr Roster-Konto gesperrt, \
               bis ein Administrator es entsperrt.",
    },
    password_reset: Template {
        subject: "Roster-Passwort zurücksetzen",
        body: "Über diesen Link können Sie ein neues Passwort für Ihr Roster-Konto festlegen:\n\
               {link}\n\
               Der Link ist 1 Stunde gültig und kann nur einmal verwendet werden.",
    },
    email_confirmation: Template {
        subject: "Bestätigen Sie Ihre neue E-Mail-Adresse bei Roster",
        body: "Sie möchten sich mit dieser E-Mail-Adresse bei Roster anmelden. Bestätigen Sie sie über \
               diesen Link:\n\
               {link}\n\
               Der Link ist 24 Stunden gültig und kann nur einmal verwendet werden. Bis dahin \
               melden Sie sich mit Ihrer bisherigen Adresse an. Falls Sie das nicht veranlasst \
               haben, ignorieren Sie diese E-Mail: Es ändert sich nichts.",
    },
    invitation: Template {
        subject: "Einladung zu {organisation} bei Roster",
        body: "Sie wurden eingeladen, {organisation} bei Roster beizutreten. \
               Nehmen Sie die Einladung über diesen Link an:\n\
               {link}\n\
               Der Link ist 48 Stunden gültig und kann nur einmal verwendet werden.",
    },
};

static FR: Texts = Texts {
    greeting: "Bonjour {name},",
    not_you: "Si vous n'êtes pas à l'origine de cette action, contactez immédiatement votre \
              administrateur.",
    password_changed: Template {
        subject: "Votre mot de passe Roster a été modifié",
        body: "Le mot de passe de votre compte Roster a été modifié.",
    },
    email_changed: Template {
        subject: "Votre adresse e-mail Roster a été modifiée",
        body: "L'adresse e-mail de votre compte Roster a été remplacée par {email}.",
    },
    mfa_enabled: Template {
        subject: "Authentification à deux facteurs activée",
        body: "L'authentification à deux facteurs a été activée sur votre compte Roster.",
    },
    mfa_disabled: Template {
        subject: "Authentification à deux facteurs désactivée",
        body: "L'authentification à deux facteurs a été désactivée sur votre compte Roster.",
    },
    mfa_reset: Template {
        subject: "Authentification à deux facteurs supprimée",
        body: "Un administrateur a supprimé l'authentification à deux facteurs de votre compte \
               Roster. Si vous ne l'avez pas demandé, contactez votre administrateur.",
    },
    recovery_code_used: Template {
        subject: "Un code de récupération a été utilisé",
        body: "Un code de récupération a été utilisé pour vous connecter à votre compte Roster. \
               Codes de récupération restants : {remaining}.",
    },
    recovery_codes_regenerated: Template {
        subject: "Nouveaux codes de récupération générés",
        body: "De nouveaux codes de récupération ont été générés pour votre compte Roster. \
               Vos anciens codes ne fonctionnent plus.",
    },
    account_locked: Template {
        subject: "Votre compte Roster est verrouillé",
        body: "En raison d'un trop grand nombre de tentatives de connexion infructueuses, \
               votre compte Roster est verrouillé pendant {minutes} min.",
    },
    account_locked_until_unlocked: Template {
        subject: "Votre compte Roster est verrouillé",
        body: "En raison d'un trop grand nombre de tentatives de connexion infructueuses, \
               votre compte Roster est verrouillé jusqu'à ce qu'un administrateur le déverrouille.",
    },
    password_reset: Template {
        subject: "Réinitialisation de votre mot de passe Roster",
        body: "Utilisez ce lien pour choisir un nouveau mot de passe pour votre compte Roster :\n\
               {link}\n\
               Ce lien est valable 1 heure et ne peut être utilisé qu'une seule fois.",
    },
    email_confirmation: Template {
        subject: "Confirmez votre nouvelle adresse e-mail Roster",
        body: "Vous avez demandé à vous connecter à Roster avec cette adresse e-mail. Confirmez-la avec \
               ce lien :\n\
               {link}\n\
               Ce lien est valable 24 heures et ne peut être utilisé qu'une seule fois. D'ici là, \
               vous vous connectez avec votre adresse actuelle. Si vous n'êtes pas à l'origine de \
               cette demande, ignorez cet e-mail : rien ne change.",
    },
    invitation: Template {
        subject: "Invitation à rejoindre {organisation} sur Roster",
        body: "Vous avez reçu une invitation à rejoindre {organisation} sur Roster. \
               Acceptez l'invitation avec ce lien :\n\
               {link}\n\
               Ce lien est valable 48 heures et ne peut être utilisé qu'une seule fois.",
    },
};

static IT: Texts = Texts {
    greeting: "Ciao {name},",
    not_you: "Se non hai effettuato tu questa operazione, contatta subito il tuo amministratore.",
    password_changed: Template {
        subject: "La tua password di Roster è stata modificata",
        body: "La password del tuo account Roster è stata modificata.",
    },
    email_changed: Template {
        subject: "Il tuo indirizzo email di Roster è stato modificato",
        body: "L'indirizzo email del tuo account Roster è stato cambiato in {email}.",
    },
    mfa_enabled: Template {
        subject: "Autenticazione a due fattori attivata",
        body: "L'autenticazione a due fattori è stata attivata per il tuo account Roster.",
    },
    mfa_disabled: Template {
        subject: "Autenticazione a due fattori disattivata",
        body: "L'autenticazione a due fattori è stata disattivata per il tuo account Roster.",
    },
    mfa_reset: Template {
        subject: "Autenticazione a due fattori rimossa",
        body: "Un amministratore ha rimosso l'autenticazione a due fattori dal tuo account Roster. \
               Se non l'hai richiesto tu, contatta il tuo amministratore.",
    },
    recovery_code_used: Template {
        subject: "È stato usato un codice di recupero",
        body: "È stato usato un codice di recupero per accedere al tuo account Roster. \
               Codici di recupero rimanenti: {remaining}.",
    },
    recovery_codes_regenerated: Template {
        subject: "Nuovi codici di recupero generati",
        body: "Sono stati generati nuovi codici di recupero per il tuo account Roster. \
               I codici precedenti non sono più validi.",
    },
    account_locked: Template {
        subject: "Il tuo account Roster è bloccato",
        body: "A causa di troppi tentativi di accesso non riusciti, il tuo account Roster \
               è bloccato per {minutes} min.",
    },
    account_locked_until_unlocked: Template {
        subject: "Il tuo account Roster è bloccato",
        body: "A causa di troppi tentativi di accesso non riusciti, il tuo account Roster \
               è bloccato finché un amministratore non lo sblocca.",
    },
    password_reset: Template {
        subject: "Reimposta la tua password di Roster",
        body: "Usa questo link per scegliere una nuova password per il tuo account Roster:\n\
               {link}\n\
               Il link è valido per 1 ora e può essere usato una sola volta.",
    },
    email_confirmation: Template {
        subject: "Conferma il tuo nuovo indirizzo email di Roster",
        body: "Hai chiesto di accedere a Roster con questo indirizzo email. Confermalo con questo link:\n\
               {link}\n\
               Il link è valido per 24 ore e può essere usato una sola volta. Fino ad allora accedi \
               con il tuo indirizzo attuale. Se non l'hai chiesto tu, ignora questa email: non \
               cambia nulla.",
    },
    invitation: Template {
        subject: "Invito a unirti a {organisation} su Roster",
        body: "Hai ricevuto un invito a unirti a {organisation} su Roster. \
               Accetta l'invito con questo link:\n\
               {link}\n\
               Il link è valido per 48 ore e può essere usato una sola volta.",
    },
};

static HU: Texts = Texts {
    greeting: "Kedves {name}!",
    not_you: "Ha nem Ön volt, haladéktalanul forduljon a rendszergazdájához.",
    password_changed: Template {
        subject: "Megváltozott a Roster-jelszava",
        body: "Roster-fiókja jelszava megváltozott.",
    },
    email_changed: Template {
        subject: "Megváltozott a Roster-fiókja e-mail-címe",
        body: "Roster-fiókja e-mail-címe a következőre változott: {email}.",
    },
    mfa_enabled: Template {
        subject: "Kétfaktoros hitelesítés bekapcsolva",
        body: "Roster-fiókjában bekapcsolták a kétfaktoros hitelesítést.",
    },
    mfa_disabled: Template {
        subject: "Kétfaktoros hitelesítés kikapcsolva",
        body: "Roster-fiókjában kikapcsolták a kétfaktoros hitelesítést.",
    },
    mfa_reset: Template {
        subject: "Kétfaktoros hitelesítés eltávolítva",
        body: "Egy rendszergazda eltávolította a kétfaktoros hitelesítést Roster-fiókjából. \
               Ha nem Ön kérte, forduljon a rendszergazdájához.",
    },
    recovery_code_used: Template {
        subject: "Helyreállítási kódot használtak",
        body: "Roster-fiókjába egy helyreállítási kóddal jelentkeztek be. \
               Fel nem használt helyreállítási kódok: {remaining}.",
    },
    recovery_codes_regenerated: Template {
        subject: "Új helyreállítási kódok készültek",
        body: "Roster-fiókjához új helyreállítási kódok készültek. \
               A korábbi kódok már nem érvényesek.",
    },
    account_locked: Template {
        subject: "Roster-fiókját zároltuk",
        body: "A túl sok sikertelen bejelentkezési kísérlet miatt Roster-fiókját \
               {minutes} percre zároltuk.",
    },
    account_locked_until_unlocked: Template {
        subject: "Roster-fiókját zároltuk",
        body: "A túl sok sikertelen bejelentkezési kísérlet miatt Roster-fiókját zároltuk, \
               amíg egy rendszergazda fel nem oldja.",
    },
    password_reset: Template {
        subject: "Roster-jelszó visszaállítása",
        body: "Ezen a linken új jelszót állíthat be Roster-fiókjához:\n\
               {link}\n\
               A link 1 óráig érvényes, és csak egyszer használható.",
    },
    email_confirmation: Template {
        subject: "Erősítse meg új Roster e-mail-címét",
        body: "Ezzel az e-mail-címmel kíván bejelentkezni a Rosterbe. Erősítse meg ezen a linken:\n\
               {link}\n\
               A link 24 óráig érvényes, és csak egyszer használható. Addig a jelenlegi címével \
               jelentkezik be. Ha nem Ön kérte, hagyja figyelmen kívül ezt az e-mailt: semmi sem \
               változik.",
    },
    invitation: Template {
        subject: "Meghívó a Rosterbe: {organisation}",
        body: "Meghívást kapott, hogy csatlakozzon a következő szervezethez a Rosterben: \
               {organisation}. A meghívást ezzel a linkkel fogadhatja el:\n\
               {link}\n\
               A link 48 óráig érvényes, és csak egyszer használható.",
    },
};

static JA: Texts = Texts {
    greeting: "{name} 様",
    not_you: "お心当たりがない場合は、すぐに管理者にお問い合わせください。",
    password_changed: Template {
        subject: "Roster のパスワードが変更されました",
        body: "Roster アカウントのパスワードが変更されました。",
    },
    email_changed: Template {
        subject: "Roster のメールアドレスが変更されました",
        body: "Roster アカウントのメールアドレスが {email} に変更されました。",
    },
    mfa_enabled: Template {
        subject: "2段階認証が有効になりました",
        body: "Roster アカウントの2段階認証が有効になりました。",
    },
    mfa_disabled: Template {
        subject: "2段階認証が無効になりました",
        body: "Roster アカウントの2段階認証が無効になりました。",
    },
    mfa_reset: Template {
        subject: "2段階認証が解除されました",
        body: "管理者が Roster アカウントの2段階認証を解除しました。\
               ご自身で依頼していない場合は、管理者にお問い合わせください。",
    },
    recovery_code_used: Template {
        subject: "リカバリーコードが使用されました",
        body: "Roster アカウントへのログインにリカバリーコードが使用されました。\
               未使用のリカバリーコードは残り {remaining} 個です。",
    },
    recovery_codes_regenerated: Template {
        subject: "新しいリカバリーコードが発行されました",
        body: "Roster アカウントの新しいリカバリーコードが発行されました。\
               以前のコードは使用できなくなりました。",
    },
    account_locked: Template {
        subject: "Roster アカウントがロックされました",
        body: "ログインの失敗が続いたため、Roster アカウントを {minutes} 分間ロックしました。",
    },
    account_locked_until_unlocked: Template {
        subject: "Roster アカウントがロックされました",
        body: "ログインの失敗が続いたため、Roster アカウントをロックしました。\
               管理者がロックを解除するまでログインできません。",
    },
    password_reset: Template {
        subject: "Roster パスワードの再設定",
        body: "以下のリンクから Roster アカウントの新しいパスワードを設定してください。\n\
               {link}\n\
               このリンクの有効期限は1時間で、1回のみ使用できます。",
    },
    email_confirmation: Template {
        subject: "Roster の新しいメールアドレスの確認",
        body: "このメールアドレスで Roster にサインインするよう依頼がありました。以下のリンクから確認してください。\n\
               {link}\n\
               このリンクの有効期限は24時間で、1回のみ使用できます。確認までは現在のアドレスでサインインします。\
               心当たりがない場合は、このメールを無視してください。何も変更されません。",
    },
    invitation: Template {
        subject: "Roster で {organisation} に招待されました",
        body: "Roster で {organisation} に参加するよう招待されました。\
               以下のリンクから招待を承諾してください。\n\
               {link}\n\
               このリンクの有効期限は48時間で、1回のみ使用できます。",
    },
};

static RO: Texts = Texts {
    greeting: "Bună ziua, {name},",
    not_you: "Dacă nu ați fost dumneavoastră, contactați imediat administratorul.",
    password_changed: Template {
        subject: "Parola Roster a fost schimbată",
        body: "Parola contului dumneavoastră Roster a fost schimbată.",
    },
    email_changed: Template {
        subject: "Adresa de e-mail Roster a fost schimbată",
        body: "Adresa de e-mail a contului dumneavoastră Roster a fost schimbată în {email}.",
    },
    mfa_enabled: Template {
        subject: "Autentificarea în doi pași a fost activată",
        body: "Autentificarea în doi pași a fost activată pentru contul dumneavoastră Roster.",
    },
    mfa_disabled: Template {
        subject: "Autentificarea în doi pași a fost dezactivată",
        body: "Autentificarea în doi pași a fost dezactivată pentru contul dumneavoastră Roster.",
    },
    mfa_reset: Template {
        subject: "Autentificarea în doi pași a fost eliminată",
        body: "Un administrator a eliminat autentificarea în doi pași din contul dumneavoastră \
               Roster. Dacă nu ați solicitat acest lucru, contactați administratorul.",
    },
    recovery_code_used: Template {
        subject: "A fost folosit un cod de recuperare",
        body: "Un cod de recuperare a fost folosit pentru conectarea la contul dumneavoastră \
               Roster. Coduri de recuperare rămase: {remaining}.",
    },
    recovery_codes_regenerated: Template {
        subject: "Au fost generate coduri de recuperare noi",
        body: "Au fost generate coduri de recuperare noi pentru contul dumneavoastră Roster. \
               Codurile anterioare nu mai sunt valabile.",
    },
    account_locked: Template {
        subject: "Contul dumneavoastră Roster este blocat",
        body: "Din cauza prea multor încercări de conectare eșuate, contul dumneavoastră Roster \
               este blocat timp de {minutes} min.",
    },
    account_locked_until_unlocked: Template {
        subject: "Contul dumneavoastră Roster este blocat",
        body: "Din cauza prea multor încercări de conectare eșuate, contul dumneavoastră Roster \
               este blocat până când un administrator îl deblochează.",
    },
    password_reset: Template {
        subject: "Resetarea parolei Roster",
        body: "Folosiți acest link pentru a alege o parolă nouă pentru contul dumneavoastră \
               Roster:\n\
               {link}\n\
               Linkul este valabil 1 oră și poate fi folosit o singură dată.",
    },
    email_confirmation: Template {
        subject: "Confirmați noua adresă de e-mail Roster",
        body: "Ați cerut să vă conectați la Roster cu această adresă de e-mail. Confirmați-o cu acest \
               link:\n\
               {link}\n\
               Linkul este valabil 24 de ore și poate fi folosit o singură dată. Până atunci vă \
               conectați cu adresa actuală. Dacă nu ați cerut acest lucru, ignorați acest e-mail: \
               nu se schimbă nimic.",
    },
    invitation: Template {
        subject: "Invitație de a vă alătura organizației {organisation}",
        body: "Ați primit o invitație de a vă alătura organizației {organisation} în Roster. \
               Acceptați invitația folosind acest link:\n\
               {link}\n\
               Linkul este valabil 48 de ore și poate fi folosit o singură dată.",
    },
};

static RU: Texts = Texts {
    greeting: "Здравствуйте, {name}!",
    not_you: "Если это были не вы, немедленно свяжитесь с администратором.",
    password_changed: Template {
        subject: "Пароль Roster изменён",
        body: "Пароль вашей учётной записи Roster был изменён.",
    },
    email_changed: Template {
        subject: "Адрес электронной почты Roster изменён",
        body: "Адрес электронной почты вашей учётной записи Roster изменён на {email}.",
    },
    mfa_enabled: Template {
        subject: "Двухфакторная аутентификация включена",
        body: "Для вашей учётной записи Roster включена двухфакторная аутентификация.",
    },
    mfa_disabled: Template {
        subject: "Двухфакторная аутентификация отключена",
        body: "Для вашей учётной записи Roster отключена двухфакторная аутентификация.",
    },
    mfa_reset: Template {
        subject: "Двухфакторная аутентификация сброшена",
        body: "Администратор отключил двухфакторную аутентификацию для вашей учётной записи \
               Roster. Если вы об этом не просили, свяжитесь с администратором.",
    },
    recovery_code_used: Template {
        subject: "Использован код восстановления",
        body: "Для входа в вашу учётную запись Roster был использован код восстановления. \
               Осталось кодов восстановления: {remaining}.",
    },
    recovery_codes_regenerated: Template {
        subject: "Созданы новые коды восстановления",
        body: "Для вашей учётной записи Roster созданы новые коды восстановления. \
               Прежние коды больше не действуют.",
    },
    account_locked: Template {
        subject: "Учётная запись Roster заблокирована",
        body: "Из-за слишком большого числа неудачных попыток входа ваша учётная запись Roster \
               заблокирована на {minutes} мин.",
    },
    account_locked_until_unlocked: Template {
        subject: "Учётная запись Roster заблокирована",
        body: "Из-за слишком большого числа неудачных попыток входа ваша учётная запись Roster \
               заблокирована, пока администратор её не разблокирует.",
    },
    password_reset: Template {
        subject: "Сброс пароля Roster",
        body: "Перейдите по этой ссылке, чтобы задать новый пароль для учётной записи Roster:\n\
               {link}\n\
               Ссылка действительна 1 час и может быть использована только один раз.",
    },
    email_confirmation: Template {
        subject: "Подтвердите новый адрес электронной почты Roster",
        body: "Вы попросили входить в Roster с этим адресом электронной почты. Подтвердите его по этой \
               ссылке:\n\
               {link}\n\
               Ссылка действительна 24 часа и может быть использована только один раз. До тех пор \
               вы входите с текущим адресом. Если вы этого не запрашивали, просто проигнорируйте \
               это письмо: ничего не изменится.",
    },
    invitation: Template {
        subject: "Приглашение в организацию {organisation} в Roster",
        body: "Вас пригласили присоединиться к организации {organisation} в Roster. \
               Примите приглашение по этой ссылке:\n\
               {link}\n\
               Ссылка действительна 48 часов и может быть использована только один раз.",
    },
};

static TR: Texts = Texts {
    greeting: "Merhaba {name},",
    not_you: "Bu işlemi siz yapmadıysanız hemen yöneticinizle iletişime geçin.",
    password_changed: Template {
        subject: "Roster şifreniz değiştirildi",
        body: "Roster hesabınızın şifresi değiştirildi.",
    },
    email_changed: Template {
        subject: "Roster e-posta adresiniz değiştirildi",
        body: "Roster hesabınızın e-posta adresi {email} olarak değiştirildi.",
    },
    mfa_enabled: Template {
        subject: "İki adımlı doğrulama etkinleştirildi",
        body: "Roster hesabınız için iki adımlı doğrulama etkinleştirildi.",
    },
    mfa_disabled: Template {
        subject: "İki adımlı doğrulama devre dışı bırakıldı",
        body: "Roster hesabınız için iki adımlı doğrulama devre dışı bırakıldı.",
    },
    mfa_reset: Template {
        subject: "İki adımlı doğrulama kaldırıldı",
        body: "Bir yönetici Roster hesabınızdaki iki adımlı doğrulamayı kaldırdı. \
               Bunu siz talep etmediyseniz yöneticinizle iletişime geçin.",
    },
    recovery_code_used: Template {
        subject: "Bir kurtarma kodu kullanıldı",
        body: "Roster hesabınıza giriş yapmak için bir kurtarma kodu kullanıldı. \
               Kalan kurtarma kodu sayısı: {remaining}.",
    },
    recovery_codes_regenerated: Template {
        subject: "Yeni kurtarma kodları oluşturuldu",
        body: "Roster hesabınız için yeni kurtarma kodları oluşturuldu. \
               Önceki kodlarınız artık geçerli değil.",
    },
    account_locked: Template {
        subject: "Roster hesabınız kilitlendi",
        body: "Çok sayıda başarısız giriş denemesi nedeniyle Roster hesabınız \
               {minutes} dakika süreyle kilitlendi.",
    },
    account_locked_until_unlocked: Template {
        subject: "Roster hesabınız kilitlendi",
        body: "Çok sayıda başarısız giriş denemesi nedeniyle Roster hesabınız, \
               bir yönetici kilidi açana kadar kilitlendi.",
    },
    password_reset: Template {
        subject: "Roster şifrenizi sıfırlayın",
        body: "Roster hesabınız için yeni bir şifre belirlemek üzere bu bağlantıyı kullanın:\n\
               {link}\n\
               Bağlantı 1 saat geçerlidir ve yalnızca bir kez kullanılabilir.",
    },
    email_confirmation: Template {
        subject: "Yeni Roster e-posta adresinizi onaylayın",
        body: "Roster'da bu e-posta adresiyle oturum açmak istediniz. Bu bağlantıyla onaylayın:\n\
               {link}\n\
               Bağlantı 24 saat geçerlidir ve yalnızca bir kez kullanılabilir. O zamana kadar \
               mevcut adresinizle oturum açarsınız. Bunu siz istemediyseniz bu e-postayı \
               yok sayın: hiçbir şey değişmez.",
    },
    invitation: Template {
        subject: "{organisation} kuruluşuna katılma daveti",
        body: "Roster'da {organisation} kuruluşuna katılmaya davet edildiniz. \
               Daveti bu bağlantıyla kabul edin:\n\
               {link}\n\
               Bağlantı 48 saat geçerlidir ve yalnızca bir kez kullanılabilir.",
    },
};

static ES: Texts = Texts {
    greeting: "Hola, {name}:",
    not_you: "Si no has sido tú, ponte en contacto con tu administrador de inmediato.",
    password_changed: Template {
        subject: "Se ha cambiado tu contraseña de Roster",
        body: "Se ha cambiado la contraseña de tu cuenta de Roster.",
    },
    email_changed: Template {
        subject: "Se ha cambiado tu correo electrónico de Roster",
        body: "La dirección de correo electrónico de tu cuenta de Roster se ha cambiado a {email}.",
    },
    mfa_enabled: Template {
        subject: "Autenticación de dos factores activada",
        body: "Se ha activado la autenticación de dos factores en tu cuenta de Roster.",
    },
    mfa_disabled: Template {
        subject: "Autenticación de dos factores desactivada",
        body: "Se ha desactivado la autenticación de dos factores en tu cuenta de Roster.",
    },
    mfa_reset: Template {
        subject: "Autenticación de dos factores eliminada",
        body: "Un administrador ha eliminado la autenticación de dos factores de tu cuenta de \
               Roster. Si no lo has solicitado, ponte en contacto con tu administrador.",
    },
    recovery_code_used: Template {
        subject: "Se ha usado un código de recuperación",
        body: "Se ha usado un código de recuperación para iniciar sesión en tu cuenta de Roster. \
               Códigos de recuperación restantes: {remaining}.",
    },
    recovery_codes_regenerated: Template {
        subject: "Se han generado nuevos códigos de recuperación",
        body: "Se han generado nuevos códigos de recuperación para tu cuenta de Roster. \
               Tus códigos anteriores ya no son válidos.",
    },
    account_locked: Template {
        subject: "Tu cuenta de Roster está bloqueada",
        body: "Debido a demasiados intentos fallidos de inicio de sesión, tu cuenta de Roster \
               está bloqueada durante {minutes} min.",
    },
    account_locked_until_unlocked: Template {
        subject: "Tu cuenta de Roster está bloqueada",
        body: "Debido a demasiados intentos fallidos de inicio de sesión, tu cuenta de Roster \
               está bloqueada hasta que un administrador la desbloquee.",
    },
    password_reset: Template {
        subject: "Restablece tu contraseña de Roster",
        body: "Usa este enlace para elegir una nueva contraseña para tu cuenta de Roster:\n\
               {link}\n\
               El enlace es válido durante 1 hora y solo puede usarse una vez.",
    },
    email_confirmation: Template {
        subject: "Confirma tu nueva dirección de correo de Roster",
        body: "Has pedido iniciar sesión en Roster con esta dirección de correo. Confírmala con este \
               enlace:\n\
               {link}\n\
               El enlace es válido durante 24 horas y solo puede usarse una vez. Hasta entonces \
               inicias sesión con tu dirección actual. Si no lo has pedido tú, ignora este correo: \
               no cambia nada.",
    },
    invitation: Template {
        subject: "Invitación para unirte a {organisation} en Roster",
        body: "Te han invitado a unirte a {organisation} en Roster. \
               Acepta la invitación con este enlace:\n\
               {link}\n\
               El enlace es válido durante 48 horas y solo puede usarse una vez.",
    },
};

static ZH: Texts = Texts {
    greeting: "{name}，您好：",
    not_you: "如果这不是您本人的操作，请立即联系您的管理员。",
    password_changed: Template {
        subject: "您的 Roster 密码已更改",
        body: "您的 Roster 账户密码已更改。",
    },
    email_changed: Template {
        subject: "您的 Roster 邮箱地址已更改",
        body: "您的 Roster 账户邮箱地址已更改为 {email}。",
    },
    mfa_enabled: Template {
        subject: "双重身份验证已启用",
        body: "您的 Roster 账户已启用双重身份验证。",
    },
    mfa_disabled: Template {
        subject: "双重身份验证已停用",
        body: "您的 Roster 账户已停用双重身份验证。",
    },
    mfa_reset: Template {
        subject: "双重身份验证已被移除",
        body: "管理员已移除您 Roster 账户的双重身份验证。如果您并未提出此请求，请联系您的管理员。",
    },
    recovery_code_used: Template {
        subject: "恢复码已被使用",
        body: "已使用恢复码登录您的 Roster 账户。剩余可用恢复码：{remaining} 个。",
    },
    recovery_codes_regenerated: Template {
        subject: "已生成新的恢复码",
        body: "已为您的 Roster 账户生成新的恢复码，之前的恢复码已失效。",
    },
    account_locked: Template {
        subject: "您的 Roster 账户已被锁定",
        body: "由于登录失败次数过多，您的 Roster 账户已被锁定 {minutes} 分钟。",
    },
    account_locked_until_unlocked: Template {
        subject: "您的 Roster 账户已被锁定",
        body: "由于登录失败次数过多，您的 Roster 账户已被锁定，需由管理员解锁后才能登录。",
    },
    password_reset: Template {
        subject: "重置您的 Roster 密码",
        body: "请使用以下链接为您的 Roster 账户设置新密码：\n\
               {link}\n\
               该链接 1 小时内有效，且仅可使用一次。",
    },
    email_confirmation: Template {
        subject: "确认您的 Roster 新邮箱地址",
        body: "您申请使用此邮箱地址登录 Roster。请通过以下链接确认：\n\
               {link}\n\
               该链接 24 小时内有效，且仅可使用一次。确认之前，您仍使用当前地址登录。\
               如果这不是您本人的操作，请忽略此邮件：不会有任何更改。",
    },
    invitation: Template {
        subject: "邀请您加入 Roster 上的 {organisation}",
        body: "您已受邀加入 Roster 上的 {organisation}。请通过以下链接接受邀请：\n\
               {link}\n\
               该链接 48 小时内有效，且仅可使用一次。",
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    const RESET_LINK: &str = "https://roster.example/reset?token=r3s3t-T0k3n";
    const INVITE_LINK: &str = "https://roster.example/invite?token=1nv1t3-T0k3n";
    const CONFIRM_LINK: &str = "https://roster.example/confirm-email?token=c0nf1rm-T0k3n";

    fn all_notices() -> Vec<Notice> {
        vec![
            Notice::PasswordChanged,
            Notice::EmailChanged {
                new_email: "anna.new@example.com".to_owned(),
            },
            Notice::MfaEnabled,
            Notice::MfaDisabled,
            Notice::MfaReset,
            Notice::RecoveryCodeUsed { remaining: 7 },
            Notice::RecoveryCodesRegenerated,
            Notice::AccountLocked { minutes: 15 },
            Notice::AccountLocked { minutes: 0 },
            Notice::PasswordReset {
                link: RESET_LINK.to_owned(),
            },
            Notice::EmailConfirmation {
                link: CONFIRM_LINK.to_owned(),
            },
            Notice::Invitation {
                organisation: "Acme Logistics".to_owned(),
                link: INVITE_LINK.to_owned(),
            },
        ]
    }

    #[test]
    fn every_notice_renders_in_every_language_without_placeholders() {
        for language in Language::ALL {
            for notice in all_notices() {
                let rendered = render(&notice, language, "Anna");
                for part in [&rendered.subject, &rendered.text] {
                    assert!(!part.trim().is_empty(), "{language:?} {notice:?}");
                    assert!(
                        !part.contains('{') && !part.contains('}'),
                        "{language:?} {notice:?}: {part}"
                    );
                }
            }
        }
    }

    #[test]
    fn links_appear_verbatim_on_their_own_line() {
        for language in Language::ALL {
            for notice in all_notices() {
                let link = match &notice {
                    Notice::PasswordReset { link }
                    | Notice::EmailConfirmation { link }
                    | Notice::Invitation { link, .. } => link,
                    _ => continue,
                };
                let text = render(&notice, language, "Anna").text;
                assert!(
                    text.lines().any(|line| line == link),
                    "{language:?} {notice:?}: {text}"
                );
                assert!(text.contains("token="));
            }
        }
    }

    #[test]
    fn language_is_honoured() {
        for notice in all_notices() {
            let en = render(&notice, Language::En, "Anna");
            let de = render(&notice, Language::De, "Anna");
            assert_ne!(en.text, de.text, "{notice:?}");
            assert_ne!(en.subject, de.subject, "{notice:?}");
        }
    }

    #[test]
    fn first_name_appears_in_every_text() {
        for language in Language::ALL {
            for notice in all_notices() {
                let text = render(&notice, language, "Zsófia").text;
                assert!(text.contains("Zsófia"), "{language:?} {notice:?}");
            }
        }
    }

    #[test]
    fn account_locked_shows_minutes() {
        for language in Language::ALL {
            let text = render(&Notice::AccountLocked { minutes: 37 }, language, "Anna").text;
            assert!(text.contains("37"), "{language:?}: {text}");
        }
    }

    #[test]
    fn values_are_inserted_verbatim_and_not_expanded() {
        let notice = Notice::Invitation {
            organisation: "Team {link}".to_owned(),
            link: INVITE_LINK.to_owned(),
        };
        let rendered = render(&notice, Language::En, "{name}");
        assert!(rendered.text.starts_with("Hello {name},"));
        assert!(rendered.subject.contains("Team {link}"));
        assert_eq!(rendered.text.matches(INVITE_LINK).count(), 1);
    }
}
