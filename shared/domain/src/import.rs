//! User-list imports: which column of a file means what (detected from its headers in any of the
//! product's languages, or mapped explicitly), the rules each cell must meet, and what a row does
//! to the person it matches. File decoding (CSV encodings, spreadsheets) lives in the import
//! function; everything here works on header and cell strings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

use crate::{
    membership::{Membership, Status, Username},
    preferences::Language,
    profile::{
        Attribute, Change, DEPARTMENT_MAX, DISPLAY_NAME_MAX, EXTERNAL_ID_MAX, Email, FUNCTION_MAX,
        NAME_MAX, Owner, PHONE_MAX, Profile, ProfilePatch, phone_number, tags,
    },
    validation::{FieldProblem, ValidationErrors, bounded_text},
};

/// What an import does with the organisation's users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Create new people and update the ones the file names.
    Add,
    /// Like `Add`, and deactivate active users missing from the file (except SCIM/SSO users).
    Replace,
}

/// A column Roster understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    Username,
    FirstName,
    LastName,
    DisplayName,
    Title,
    Phone,
    Mobile,
    Department,
    Email,
    FirstAider,
    EmergencyOfficer,
    ProfilePhoto,
    PhoneCountryCode,
    Tags,
    ExternalId,
    Language,
    /// The part of a surname a Dutch or German list keeps apart (`van`, `van der`, `von`): put
    /// before the last name.
    LastNamePrefix,
    /// A Spanish or Portuguese second surname: put after the last name.
    SecondLastName,
}

impl Column {
    pub const ALL: [Column; 18] = [
        Self::Username,
        Self::FirstName,
        Self::LastName,
        Self::DisplayName,
        Self::Title,
        Self::Phone,
        Self::Mobile,
        Self::Department,
        Self::Email,
        Self::FirstAider,
        Self::EmergencyOfficer,
        Self::ProfilePhoto,
        Self::PhoneCountryCode,
        Self::Tags,
        Self::ExternalId,
        Self::Language,
        Self::LastNamePrefix,
        Self::SecondLastName,
    ];

    /// The column's name in reports, errors and explicit mappings.
    pub fn name(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::DisplayName => "display_name",
            Self::Title => "title",
            Self::Phone => "phone",
            Self::Mobile => "mobile",
            Self::Department => "department",
            Self::Email => "email",
            Self::FirstAider => "first_aider",
            Self::EmergencyOfficer => "emergency_officer",
            Self::ProfilePhoto => "profile_photo",
            Self::PhoneCountryCode => "phone_country_code",
            Self::Tags => "tags",
            Self::ExternalId => "external_id",
            Self::Language => "language",
            Self::LastNamePrefix => "last_name_prefix",
            Self::SecondLastName => "second_last_name",
        }
    }

    /// The header of the product's CSV template (`CSV_FIRSTNAME` ...), where it has one.
    pub fn template_header(self) -> Option<&'static str> {
        Some(match self {
            Self::Username => "CSV_USERNAME",
            Self::FirstName => "CSV_FIRSTNAME",
            Self::LastName => "CSV_SURNAME",
            Self::DisplayName => "CSV_DISPLAYNAME",
            Self::Title => "CSV_TITLE",
            Self::Phone => "CSV_PHONE",
            Self::Mobile => "CSV_MOBILE",
            Self::Department => "CSV_DEPARTMENT",
            Self::Email => "CSV_EMAIL",
            Self::FirstAider => "CSV_EHBO",
            Self::EmergencyOfficer => "CSV_BHV",
            Self::ProfilePhoto => "CSV_PROFILEPHOTO",
            _ => return None,
        })
    }

    /// Headers people write for this column in English, German, French, Italian, Hungarian,
    /// Japanese, Romanian, Russian, Turkish, Spanish, Chinese and Dutch, already normalised
    /// (see `normalise_header`).
    fn synonyms(self) -> &'static [&'static str] {
        match self {
            Self::Username => &[
                "username",
                "login",
                "loginname",
                "benutzername",
                "nomdutilisateur",
                "identifiant",
                "nomeutente",
                "felhasznalonev",
                "ユーザー名",
                "numeutilizator",
                "имяпользователя",
                "логин",
                "kullaniciadi",
                "nombredeusuario",
                "usuario",
                "用户名",
                "gebruikersnaam",
            ],
            Self::FirstName => &[
                "firstname",
                "givenname",
                "forename",
                "vorname",
                "prenom",
                "nome",
                "keresztnev",
                "utonev",
                "名",
                "名前",
                "prenume",
                "имя",
                "ad",
                "adi",
                "isim",
                "nombre",
                "名字",
                "voornaam",
            ],
            Self::LastName => &[
                "lastname",
                "surname",
                "familyname",
                "nachname",
                "familienname",
                "nomdefamille",
                "nom",
                "cognome",
                "vezeteknev",
                "姓",
                "苗字",
                "numedefamilie",
                "nume",
                "csaladnev",
                "фамилия",
                "soyad",
                "soyadi",
                "apellido",
                "apellidos",
                "primerapellido",
                "apellido1",
                "apellidopaterno",
                "姓氏",
                "achternaam",
            ],
            Self::DisplayName => &[
                "displayname",
                "fullname",
                "anzeigename",
                "nomaffiche",
                "nomcomplet",
                "nomevisualizzato",
                "megjelenitettnev",
                "表示名",
                "numeafisat",
                "отображаемоеимя",
                "gorunenad",
                "nombreparamostrar",
                "显示名称",
                "weergavenaam",
            ],
            Self::Title => &[
                "title",
                "jobtitle",
                "function",
                "position",
                "titel",
                "berufsbezeichnung",
                "fonction",
                "titre",
                "poste",
                "titolo",
                "ruolo",
                "beosztas",
                "役職",
                "functie",
                "titlu",
                "должность",
                "unvan",
                "gorev",
                "cargo",
                "puesto",
                "职位",
            ],
            Self::Phone => &[
                "phone",
                "telephone",
                "phonenumber",
                "telefon",
                "telefonnummer",
                "telephonefixe",
                "telefono",
                "telefonszam",
                "電話",
                "電話番号",
                "телефон",
                "telefonnumarasi",
                "电话",
                "telefoon",
                "telefoonnummer",
            ],
            Self::Mobile => &[
                "mobile",
                "mobilephone",
                "cellphone",
                "mobil",
                "handy",
                "mobiltelefon",
                "portable",
                "cellulare",
                "mobiltelefonszam",
                "携帯電話",
                "мобильный",
                "cepTelefonu",
                "ceptelefonu",
                "movil",
                "celular",
                "手机",
                "mobiel",
                "gsm",
            ],
            Self::Department => &[
                "department",
                "abteilung",
                "service",
                "departement",
                "reparto",
                "dipartimento",
                "osztaly",
                "部署",
                "departament",
                "отдел",
                "departman",
                "departamento",
                "部门",
                "afdeling",
            ],
            Self::Email => &[
                "email",
                "emailaddress",
                "mail",
                "emailadresse",
                "courriel",
                "adresseemail",
                "adressecourriel",
                "posta",
                "emailcim",
                "メール",
                "メールアドレス",
                "adresadeemail",
                "электроннаяпочта",
                "почта",
                "eposta",
                "correo",
                "correoelectronico",
                "电子邮件",
                "邮箱",
                "emailadres",
            ],
            Self::FirstAider => &["ehbo", "firstaider", "firstaid", "ersthelfer", "secouriste"],
            Self::EmergencyOfficer => &[
                "bhv",
                "emergencyofficer",
                "emergencyresponse",
                "brandschutzhelfer",
            ],
            Self::ProfilePhoto => &[
                "profilephoto",
                "photo",
                "picture",
                "avatar",
                "profilbild",
                "foto",
                "fotoprofilo",
                "profilkep",
                "プロフィール写真",
                "fotografie",
                "фото",
                "profilfotografi",
                "fotodeperfil",
                "头像",
                "profielfoto",
            ],
            Self::PhoneCountryCode => &[
                "phonecountrycode",
                "countrycode",
                "landesvorwahl",
                "indicatifpays",
                "prefissointernazionale",
                "orszaghivokod",
                "国番号",
                "prefixtara",
                "кодстраны",
                "ulkekodu",
                "codigodepais",
                "国家代码",
                "landcode",
                "landnummer",
            ],
            Self::Tags => &[
                "tags",
                "tag",
                "labels",
                "schlagworter",
                "etiquettes",
                "etichette",
                "cimkek",
                "タグ",
                "etichete",
                "теги",
                "etiketler",
                "etiquetas",
                "标签",
            ],
            Self::ExternalId => &[
                "externalid",
                "employeeid",
                "employeenumber",
                "personnelnumber",
                "externeid",
                "personalnummer",
                "idexterne",
                "matricule",
                "idesterno",
                "matricola",
                "kulsoazonosito",
                "外部id",
                "社員番号",
                "idextern",
                "внешнийid",
                "табельныйномер",
                "haricikimlik",
                "sicilno",
                "idexterno",
                "外部编号",
                "externeid",
                "personeelsnummer",
            ],
            Self::Language => &[
                "language", "locale", "sprache", "langue", "lingua", "nyelv", "言語", "limba",
                "язык", "dil", "idioma", "语言", "taal",
            ],
            Self::LastNamePrefix => &[
                "tussenvoegsel",
                "tussenvoegsels",
                "voorvoegsel",
                "voorvoegsels",
                "namensvorsatz",
                "lastnameprefix",
                "surnameprefix",
            ],
            Self::SecondLastName => &[
                "segundoapellido",
                "apellido2",
                "apellidomaterno",
                "segundosobrenome",
                "secondlastname",
                "secondsurname",
            ],
        }
    }

    /// Columns rows are matched to people by.
    fn identifies(self) -> bool {
        matches!(self, Self::Email | Self::Username | Self::ExternalId)
    }
}

impl TryFrom<&str> for Column {
    type Error = FieldProblem;

    /// A column by its name (`first_name`) or template header (`CSV_FIRSTNAME`).
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Column::ALL
            .into_iter()
            .find(|c| c.name() == value || c.template_header() == Some(value))
            .ok_or_else(|| {
                FieldProblem::new(
                    "unknown_column",
                    format!(
                        "{value:?} is not a column; use one of {} or \"ignore\"",
                        Column::ALL.map(Column::name).join(", ")
                    ),
                )
            })
    }
}

/// A header as compared: lowercase, accents and everything but letters and digits removed.
pub fn normalise_header(header: &str) -> String {
    header
        .trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .chars()
        .filter_map(|c| {
            let plain = match c {
                'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ă' => 'a',
                'ç' => 'c',
                'è' | 'é' | 'ê' | 'ë' => 'e',
                'ì' | 'í' | 'î' | 'ï' | 'ı' => 'i',
                'ñ' => 'n',
                'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ő' | 'ø' => 'o',
                'ù' | 'ú' | 'û' | 'ü' | 'ű' => 'u',
                'ş' | 'ș' => 's',
                'ţ' | 'ț' => 't',
                'ğ' => 'g',
                'ß' => 's',
                other => other,
            };
            plain.is_alphanumeric().then_some(plain)
        })
        .collect()
}

/// How one header was understood.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectedColumn {
    pub header: String,
    pub column: Option<Column>,
    /// 1.0 for the template's own header or an explicit mapping, 0.9 for a known header in one of
    /// the languages, 0.6 for a header that contains one, 0 when nothing matched.
    pub confidence: f64,
    /// `template`, `header`, `partial`, `mapping` or `none`.
    pub source: String,
}

/// Which column each position of a file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnMapping {
    pub columns: Vec<DetectedColumn>,
}

/// An explicit mapping: normalised header -> column (`None`: ignore the column).
pub type ExplicitMapping = BTreeMap<String, Option<Column>>;

/// Parses `{"Header text": "first_name" | "CSV_FIRSTNAME" | "ignore"}`.
pub fn parse_mapping(
    value: &serde_json::Value,
) -> Result<ExplicitMapping, crate::validation::ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let Some(object) = value.as_object() else {
        return Err(ValidationErrors::single(
            "mapping",
            "invalid_type",
            "must be an object of header -> column",
        ));
    };
    let mut mapping = ExplicitMapping::new();
    for (header, column) in object {
        let field = format!("mapping.{header}");
        let normalised = normalise_header(header);
        if normalised.is_empty() {
            errors.push(
                field,
                "empty_header",
                "must name a header by its letters or digits (headers are matched on those alone)",
            );
            continue;
        }
        let column = match column {
            serde_json::Value::Null => Ok(None),
            serde_json::Value::String(name) if name == "ignore" => Ok(None),
            serde_json::Value::String(name) => Column::try_from(name.as_str()).map(Some),
            _ => Err(FieldProblem::new("invalid_type", "must be a column name")),
        };
        if let Some(column) = errors.collect(&field, column) {
            mapping.insert(normalised, column);
        }
    }
    errors.into_result(mapping)
}

/// Header words that name their column only as the whole header: Romanian `nume` (surname) is
/// inside the Romance words for number (`numéro`, `numero`, `número`) that phone headers start with.
/// French `service` (department) is inside "Length of service" and "Years of service".
const EXACT_ONLY: &[&str] = &["nume", "service"];

/// What a spreadsheet shows in a cell whose formula failed (a lookup that found nothing), and
/// writes into a CSV saved from it: never a value of the person's.
const FORMULA_ERRORS: &[&str] = &[
    "#N/A",
    "#NAME?",
    "#NULL!",
    "#NUM!",
    "#REF!",
    "#VALUE!",
    "#DIV/0!",
    "#DATA!",
    "#SPILL!",
    "#CALC!",
    "#FIELD!",
    "#BLOCKED!",
    "#CONNECT!",
    "#BUSY!",
    "#UNKNOWN!",
    "#GETTING_DATA",
];

/// Columns only a whole header names: their values have a strict form (a photo, a 1/0 flag, a
/// language), and a header that merely contains their word ("Photo consent", "First aid course",
/// "Language skills") would refuse every row of the file.
const WHOLE_HEADER_ONLY: &[Column] = &[
    Column::ProfilePhoto,
    Column::FirstAider,
    Column::EmergencyOfficer,
    Column::Language,
];

fn guess(header: &str) -> (Option<Column>, f64, &'static str) {
    let trimmed = header.trim().trim_start_matches('\u{feff}');
    if let Some(column) = Column::ALL.into_iter().find(|c| {
        c.template_header()
            .is_some_and(|t| t.eq_ignore_ascii_case(trimmed))
    }) {
        return (Some(column), 1.0, "template");
    }
    let normalised = normalise_header(header);
    if normalised.is_empty() {
        return (None, 0.0, "none");
    }
    if let Some(column) = Column::ALL
        .into_iter()
        .find(|c| c.synonyms().contains(&normalised.as_str()))
    {
        return (Some(column), 0.9, "header");
    }
    // A header that merely contains a word ("Manager email", "Last login") never names an
    // identifier column: matching people by the wrong column would merge them. The phone column
    // is taken last ("Mobiltelefonnummer" names the mobile, "Telephone country code" the code),
    // and else the longest word found decides ("Nombre del departamento" is the department, not
    // the first name).
    let partial = Column::ALL
        .into_iter()
        .filter(|c| !c.identifies() && !WHOLE_HEADER_ONLY.contains(c))
        .filter_map(|c| {
            let longest = c
                .synonyms()
                .iter()
                .filter(|s| !EXACT_ONLY.contains(s) && normalised.contains(*s))
                .map(|s| s.chars().count())
                .max()
                .filter(|length| *length >= 4)?;
            Some((c, longest))
        })
        .max_by_key(|(c, longest)| (*c != Column::Phone, *longest))
        .map(|(c, _)| c);
    match partial {
        Some(column) => (Some(column), 0.6, "partial"),
        None => (None, 0.0, "none"),
    }
}

impl ColumnMapping {
    /// Maps `headers`: an explicit mapping decides for the headers it names; the rest are
    /// detected. Each column is taken once, by the most confident header (the first on a tie).
    pub fn detect(headers: &[String], explicit: &ExplicitMapping) -> Self {
        let mut columns: Vec<DetectedColumn> = headers
            .iter()
            .map(|header| match explicit.get(&normalise_header(header)) {
                Some(column) => DetectedColumn {
                    header: header.clone(),
                    column: *column,
                    confidence: 1.0,
                    source: "mapping".to_owned(),
                },
                None => {
                    let (column, confidence, source) = guess(header);
                    DetectedColumn {
                        header: header.clone(),
                        column,
                        confidence,
                        source: source.to_owned(),
                    }
                }
            })
            .collect();
        for index in 0..columns.len() {
            let Some(column) = columns[index].column else {
                continue;
            };
            let best = columns
                .iter()
                .enumerate()
                .filter(|(_, c)| c.column == Some(column))
                .max_by(|(ia, a), (ib, b)| a.confidence.total_cmp(&b.confidence).then(ib.cmp(ia)))
                .map(|(i, _)| i);
            if best != Some(index) {
                columns[index].column = None;
                columns[index].confidence = 0.0;
                columns[index].source = "duplicate".to_owned();
            }
        }
        Self { columns }
    }

    fn position(&self, column: Column) -> Option<usize> {
        self.columns.iter().position(|c| c.column == Some(column))
    }

    /// A file in the product's template (any `CSV_*` header) follows the template's mandatory
    /// columns; any other file needs first name, last name and an email or a username.
    fn uses_template(&self) -> bool {
        self.columns.iter().any(|c| c.source == "template")
    }

    fn mandatory(&self) -> &'static [Column] {
        if self.uses_template() {
            &[
                Column::Username,
                Column::FirstName,
                Column::LastName,
                Column::DisplayName,
                Column::Email,
            ]
        } else {
            &[Column::FirstName, Column::LastName]
        }
    }

    /// Every mandatory column the file lacks, named.
    pub fn missing_columns(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        for column in self.mandatory() {
            if self.position(*column).is_none() {
                errors.push(
                    column.name(),
                    "missing_column",
                    format!("the file has no {} column", column.name()),
                );
            }
        }
        if !self.uses_template()
            && self.position(Column::Email).is_none()
            && self.position(Column::Username).is_none()
        {
            errors.push(
                "email",
                "missing_column",
                "the file needs an email or a username column",
            );
        }
        errors.into_result(())
    }
}

/// One row of a user list, every cell checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportedRow {
    pub email: Option<Email>,
    pub username: Option<Username>,
    pub external_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub display_name: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub department: Option<String>,
    pub first_aider: Option<bool>,
    pub emergency_officer: Option<bool>,
    pub photo: Option<String>,
    pub tags: Option<Vec<String>>,
    pub language: Option<Language>,
}

/// Letters (with their accents, also as combining marks), digits, spaces and the punctuation of
/// names (`Jansen, Jan`, `O'Neil-Smith`).
fn name_text(value: &str, (min, max): (usize, usize)) -> Result<String, FieldProblem> {
    let text = bounded_text(value, min, max)?;
    if text.chars().all(|c| {
        c.is_alphanumeric() || is_combining_mark(c) || c == ' ' || ".,'’-&()/_+".contains(c)
    }) {
        Ok(text)
    } else {
        Err(FieldProblem::new(
            "invalid_characters",
            "may only contain letters, digits, spaces and . , ' - & ( ) / _ +",
        ))
    }
}

/// A name, display name, title or department cell: in a file of the product's template, by the
/// template's rules (2 to 50 characters, 2 to 20 for display name and title, the characters of
/// `name_text`); in any other file, as the profile API takes the field, so a file brings whom an
/// administrator could create (one-character names such as 王 or 김, a `·` in Col·lell).
fn name_cell(value: &str, column: Column, template: bool) -> Result<String, FieldProblem> {
    let (template_max, api_max) = match column {
        Column::DisplayName => (20, DISPLAY_NAME_MAX),
        Column::Title => (20, FUNCTION_MAX),
        Column::Department => (50, DEPARTMENT_MAX),
        _ => (50, NAME_MAX),
    };
    // Composed, as typed (`Zoë`, not `Zoe` and a combining diaeresis as macOS and PDFs give
    // it): so it is counted, matched and searched as the person's name.
    let value: String = value.nfc().collect();
    if template {
        name_text(&value, (2, template_max))
    } else {
        bounded_text(&value, 1, api_max)
    }
}

fn flag(value: &str) -> Result<bool, FieldProblem> {
    match value.trim() {
        "1" => Ok(true),
        "0" => Ok(false),
        _ => Err(FieldProblem::new("invalid_flag", "must be 1 or 0")),
    }
}

/// An https or http URL, or a plain file name with an extension.
fn photo(value: &str) -> Result<String, FieldProblem> {
    let text = bounded_text(value, 5, 500)?;
    let lower = text.to_lowercase();
    let valid = if lower.starts_with("http://") || lower.starts_with("https://") {
        url::Url::parse(&text).is_ok_and(|u| u.host_str().is_some())
    } else {
        text.contains('.')
            && text
                .chars()
                .all(|c| c.is_alphanumeric() || " ._-()".contains(c))
    };
    if valid {
        Ok(text)
    } else {
        Err(FieldProblem::new(
            "invalid_photo",
            "must be an http(s) URL or a file name such as janjansen.jpg",
        ))
    }
}

/// `+32`, `32` or `0032`.
fn country_code(value: &str) -> Result<String, FieldProblem> {
    let text = value.trim();
    let digits = text
        .strip_prefix('+')
        .or_else(|| text.strip_prefix("00"))
        .unwrap_or(text);
    // No country's code starts with 0 (`031` is a trunk prefix written before `31`).
    if (1..=3).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0')
    {
        Ok(digits.to_owned())
    } else {
        Err(FieldProblem::new(
            "invalid_country_code",
            "must be a dialling code such as +32",
        ))
    }
}

/// `en`, `en_US`, `fr-BE`: the language part must be one of the profile's languages.
fn language(value: &str) -> Result<Language, FieldProblem> {
    let text = value.trim();
    let code = text
        .split(['_', '-'])
        .next()
        .unwrap_or_default()
        .to_lowercase();
    Language::try_from(code.as_str()).map_err(|_| {
        FieldProblem::new(
            "unsupported_language",
            format!(
                "must be one of the profile languages ({}), optionally with a region such as en_US",
                Language::ALL.map(Language::code).join(", ")
            ),
        )
    })
}

/// Tags in one cell, separated by `,`, `;` or `|`.
fn tag_cell(value: &str) -> Result<Vec<String>, FieldProblem> {
    let items: Vec<serde_json::Value> = value
        .split([',', ';', '|'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| serde_json::Value::String(t.to_owned()))
        .collect();
    tags(&serde_json::Value::Array(items))
}

impl ImportedRow {
    /// Checks one row's cells against `mapping`; every failing cell is named by its column.
    /// Empty cells are "not given": they leave the person's value as it is.
    pub fn parse(cells: &[String], mapping: &ColumnMapping) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut row = ImportedRow::default();
        let mut country = None;
        let (mut prefix, mut second) = (None, None);
        let template = mapping.uses_template();
        for (position, detected) in mapping.columns.iter().enumerate() {
            let Some(column) = detected.column else {
                continue;
            };
            let cell = cells.get(position).map(|c| c.trim()).unwrap_or_default();
            if cell.is_empty() {
                continue;
            }
            let field = column.name();
            if FORMULA_ERRORS.iter().any(|e| e.eq_ignore_ascii_case(cell)) {
                errors.push(
                    field,
                    "formula_error",
                    format!(
                        "holds {cell}, a formula's error: correct the formula, or empty the cell"
                    ),
                );
                continue;
            }
            if cell.contains(char::REPLACEMENT_CHARACTER) {
                errors.push(
                    field,
                    "invalid_encoding",
                    "holds bytes that are not text in the file's encoding: save the file as UTF-8",
                );
                continue;
            }
            match column {
                Column::Username => {
                    row.username = errors.collect(field, Username::try_from(cell));
                }
                Column::FirstName => {
                    row.first_name = errors
                        .collect(field, name_cell(cell, column, template))
                        .unwrap_or_default();
                }
                Column::LastName => {
                    row.last_name = errors
                        .collect(field, name_cell(cell, column, template))
                        .unwrap_or_default();
                }
                Column::DisplayName => {
                    row.display_name = errors.collect(field, name_cell(cell, column, template))
                }
                Column::Title => {
                    row.title = errors.collect(field, name_cell(cell, column, template))
                }
                Column::Department => {
                    row.department = errors.collect(field, name_cell(cell, column, template))
                }
                Column::Phone => row.phone = errors.collect(field, phone_number(cell)),
                Column::Mobile => row.mobile = errors.collect(field, phone_number(cell)),
                Column::Email => row.email = errors.collect(field, Email::try_from(cell)),
                Column::FirstAider => row.first_aider = errors.collect(field, flag(cell)),
                Column::EmergencyOfficer => {
                    row.emergency_officer = errors.collect(field, flag(cell));
                }
                Column::ProfilePhoto => row.photo = errors.collect(field, photo(cell)),
                Column::PhoneCountryCode => country = errors.collect(field, country_code(cell)),
                Column::Tags => row.tags = errors.collect(field, tag_cell(cell)),
                Column::ExternalId => {
                    row.external_id = errors.collect(field, bounded_text(cell, 1, EXTERNAL_ID_MAX));
                }
                Column::Language => row.language = errors.collect(field, language(cell)),
                Column::LastNamePrefix => {
                    prefix = errors.collect(field, name_cell(cell, column, template));
                }
                Column::SecondLastName => {
                    second = errors.collect(field, name_cell(cell, column, template));
                }
            }
        }
        // A surname kept in parts is one last name: `van` + `Dijk`, `García` + `López`.
        if !row.last_name.is_empty() && (prefix.is_some() || second.is_some()) {
            let parts = [
                prefix.as_deref(),
                Some(row.last_name.as_str()),
                second.as_deref(),
            ];
            let whole = parts.into_iter().flatten().collect::<Vec<_>>().join(" ");
            match bounded_text(&whole, 1, NAME_MAX) {
                Ok(whole) => row.last_name = whole,
                Err(problem) => errors.push(Column::LastName.name(), problem.code, problem.message),
            }
        }
        for column in mapping.mandatory() {
            let given = match column {
                Column::Username => row.username.is_some(),
                Column::FirstName => !row.first_name.is_empty(),
                Column::LastName => !row.last_name.is_empty(),
                Column::DisplayName => row.display_name.is_some(),
                _ => row.email.is_some(),
            };
            let cell_failed = errors.0.iter().any(|e| e.field == column.name());
            if !given && !cell_failed {
                errors.push(column.name(), "required", "must not be empty");
            }
        }
        if !mapping.uses_template()
            && row.email.is_none()
            && row.username.is_none()
            && !errors
                .0
                .iter()
                .any(|e| e.field == "email" || e.field == "username")
        {
            errors.push("email", "required", "give an email or a username");
        }
        if let Some(code) = country {
            for (field, number) in [("phone", &mut row.phone), ("mobile", &mut row.mobile)] {
                let Some(number) = number else { continue };
                if !number.starts_with('+') && !number.starts_with("00") {
                    let national = number.trim_start_matches('0');
                    *number = format!("+{code} {national}");
                    if number.chars().count() > PHONE_MAX {
                        errors.push(
                            field,
                            "too_long",
                            format!("with its country code must be at most {PHONE_MAX} characters"),
                        );
                    }
                }
            }
        }
        errors.into_result(row)
    }

    /// The identifier cells of a row as the keys a valid row's values have (an email's domain
    /// in ASCII, `müller.de` as `xn--mller-kva.de`; a username NFKC; both lowercased; all
    /// trimmed), read even when other cells fail, so a refused row still says which person it is
    /// about. An email that does not parse is only lowercased: it names nobody stored.
    pub fn raw_identifiers(cells: &[String], mapping: &ColumnMapping) -> Vec<(Column, String)> {
        mapping
            .columns
            .iter()
            .zip(cells)
            .filter_map(|(detected, cell)| {
                let column = detected.column.filter(|c| c.identifies())?;
                let value = cell.trim();
                if value.is_empty() {
                    return None;
                }
                Some(match column {
                    Column::ExternalId => (column, value.to_owned()),
                    Column::Username => (column, Username::normalise(value)),
                    _ => (column, Email::lookup_key(value)),
                })
            })
            .collect()
    }

    /// The profile change the row asks for; empty cells change nothing.
    fn patch(&self) -> ProfilePatch {
        let set = |value: &Option<String>| value.clone().map(Change::Set);
        ProfilePatch {
            first_name: Some(self.first_name.clone()),
            last_name: Some(self.last_name.clone()),
            display_name: set(&self.display_name),
            email: self.email.clone(),
            department: set(&self.department),
            function: set(&self.title),
            about_me: None,
            tags: self.tags.clone(),
            external_id: set(&self.external_id),
            phone: set(&self.phone),
            mobile: set(&self.mobile),
            first_aider: self.first_aider,
            emergency_officer: self.emergency_officer,
            photo: set(&self.photo),
        }
    }

    /// A new person's profile, every attribute the file gave owned by `csv`.
    pub fn new_profile(&self) -> Profile {
        let blank = Profile::named(String::new(), String::new(), None);
        let (profile, _) = self
            .patch()
            .apply(&blank, Owner::Csv)
            .expect("a blank profile has no owner that refuses csv");
        profile
    }

    /// What the row does to `existing`: the membership after it (version raised), or `None`
    /// when nothing changes. Attributes an identity provider (SCIM, SSO) owns are refused. A
    /// person an earlier import deactivated for missing from its file is listed again, so they
    /// are active again (one an admin deactivated stays so).
    pub fn update(&self, existing: &Membership) -> Result<Option<Membership>, ValidationErrors> {
        match (&self.email, &existing.profile.email) {
            (Some(email), Some(current)) if email.normalised() != current.normalised() => {
                return Err(ValidationErrors::single(
                    Attribute::Email.field(),
                    "email_differs",
                    "the person this row matches has another email; change it in Roster first",
                ));
            }
            (Some(_), None) => {
                return Err(ValidationErrors::single(
                    Attribute::Email.field(),
                    "email_not_set",
                    "the person this row matches logs in without email; give them one in Roster first",
                ));
            }
            _ => {}
        }
        // A username never changes, so a row giving another one is a mistake to report rather
        // than a value to drop (someone without one is an email user: the row's is not theirs).
        if let (Some(username), Some(current)) = (&self.username, &existing.username)
            && username.normalised() != current.normalised()
        {
            return Err(ValidationErrors::single(
                Column::Username.name(),
                "username_differs",
                "the person this row matches has another username, and usernames never change",
            ));
        }
        // The login email is never changed by a row (the checks above leave only the same
        // address, perhaps spelled in other capitals).
        let patch = ProfilePatch {
            email: None,
            ..self.patch()
        };
        // A row's language is where a new person starts; after that the language is the
        // person's own choice, which a daily file must not take back.
        let (profile, changed) = patch.apply(&existing.profile, Owner::Csv)?;
        if changed.is_empty() && !existing.deactivated_by_import {
            return Ok(None);
        }
        let mut after = if existing.deactivated_by_import {
            existing.with_status(Status::Active, false)
        } else {
            existing.clone()
        };
        after.profile = profile;
        after.version += 1;
        Ok(Some(after))
    }
}

/// Whether an identity provider keeps this person: `replace` never deactivates them. A SCIM
/// client that provisioned them keeps them even when it owns none of their attributes (the
/// organisation may take few or none of them).
pub fn managed_by_identity_provider(membership: &Membership) -> bool {
    membership.scim.is_some()
        || Attribute::ALL.iter().any(|a| {
            matches!(
                membership.profile.managed_by.owner(*a),
                Owner::Scim | Owner::Sso
            )
        })
}

/// Whether deactivating `deactivations` of `active` users stays within `threshold_percent`.
pub fn within_deactivation_threshold(
    deactivations: usize,
    active: usize,
    threshold_percent: u8,
) -> bool {
    deactivations * 100 <= active * usize::from(threshold_percent)
}

/// A cell as written into a report a spreadsheet will open: text that a spreadsheet would run
/// as a formula (`=`, `+`, `-`, `@`, tab, carriage return first) is prefixed with `'`, at the
/// cell's start and after each `;`, tab or line break in it: a spreadsheet whose locale splits a
/// CSV at `;` (Dutch, German, French ...) starts a cell there, whatever the file's quotes say.
pub fn neutralise_formula(cell: &str) -> String {
    let mut neutral = String::with_capacity(cell.len() + 1);
    let mut starts_cell = true;
    for c in cell.chars() {
        if starts_cell && matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r') {
            neutral.push('\'');
        }
        neutral.push(c);
        starts_cell = matches!(c, ';' | '\t' | '\r' | '\n');
    }
    neutral
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    fn cells(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| (*s).to_owned()).collect()
    }

    /// Each refused field with its code.
    fn named(errors: &ValidationErrors) -> Vec<(&str, &'static str)> {
        errors
            .0
            .iter()
            .map(|e| (e.field.as_str(), e.code))
            .collect()
    }

    fn template() -> ColumnMapping {
        ColumnMapping::detect(
            &headers(&[
                "CSV_USERNAME",
                "CSV_FIRSTNAME",
                "CSV_SURNAME",
                "CSV_DISPLAYNAME",
                "CSV_TITLE",
                "CSV_PHONE",
                "CSV_MOBILE",
                "CSV_DEPARTMENT",
                "CSV_EMAIL",
                "CSV_EHBO",
                "CSV_BHV",
                "CSV_PROFILEPHOTO",
            ]),
            &ExplicitMapping::new(),
        )
    }

    #[test]
    fn a_failing_row_still_names_its_person_by_keys_normalised_as_a_valid_row_is() {
        let mut row = example(Column::Username, " ＪａｎＪ ");
        row[template().position(Column::FirstAider).unwrap()] = "yes".to_owned();
        assert!(ImportedRow::parse(&row, &template()).is_err());
        for (cell, key) in [
            ("J.Jansen@Example.COM", "j.jansen@example.com"),
            ("Jörg@Müller.Example", "jörg@müller.example"),
            ("joerg@Müller.Example", "joerg@xn--mller-kva.example"),
        ] {
            row[template().position(Column::Email).unwrap()] = cell.to_owned();
            let valid = Email::try_from(cell).map(|email| email.normalised().to_owned());
            assert!(valid.is_err() || valid == Ok(key.to_owned()), "{cell}");
            assert_eq!(
                ImportedRow::raw_identifiers(&row, &template()),
                [
                    (Column::Username, "janj".to_owned()),
                    (Column::Email, key.to_owned())
                ]
            );
        }
    }

    /// The template's example row, with one cell replaced.
    fn example(column: Column, value: &str) -> Vec<String> {
        let mut row = cells(&[
            "JanJ",
            "Jan",
            "Jansen",
            "Jansen, Jan",
            "Manager",
            "+3120123456",
            "+3165123456",
            "Support",
            "j.jansen@flexwhere.com",
            "1",
            "0",
            "janjansen.jpg",
        ]);
        let position = template().position(column).unwrap();
        row[position] = value.to_owned();
        row
    }

    /// A formula's error (a lookup that found nothing), from a spreadsheet or a CSV saved from
    /// one, refuses its cell (was: stored as the department or external id, owned by csv).
    #[test]
    fn a_formula_error_refuses_its_cell() {
        for error in ["#N/A", "#REF!", "#value!"] {
            let refused =
                ImportedRow::parse(&example(Column::Department, error), &template()).unwrap_err();
            assert_eq!(
                named(&refused),
                [("department", "formula_error")],
                "{error}"
            );
        }
    }

    /// Names come composed whichever way a file spells the accents (was: a template file's
    /// `Zoe` + combining diaeresis, as macOS and PDFs give it, was refused as
    /// `invalid_characters`); a cell holding bytes the file's encoding could not read is refused,
    /// not stored with U+FFFD in it.
    #[test]
    fn names_are_stored_composed_and_a_cell_the_encoding_could_not_read_is_refused() {
        let row =
            ImportedRow::parse(&example(Column::FirstName, "Zoe\u{308}"), &template()).unwrap();
        assert_eq!(row.first_name, "Zoë");
        let display = ImportedRow::parse(
            &example(Column::DisplayName, "Cafe\u{301} Zoe\u{308} Lefe\u{300}vre"),
            &template(),
        )
        .unwrap();
        assert_eq!(display.display_name.as_deref(), Some("Café Zoë Lefèvre"));
        // Lithuanian `i` with a dot above and an acute has no composed form: its marks stay.
        let lithuanian =
            ImportedRow::parse(&example(Column::LastName, "Ji\u{307}\u{301}s"), &template())
                .unwrap();
        assert_eq!(lithuanian.last_name, "Ji\u{307}\u{301}s");

        let refused =
            ImportedRow::parse(&example(Column::Department, "Sup\u{FFFD}rt"), &template())
                .unwrap_err();
        assert_eq!(named(&refused), [("department", "invalid_encoding")]);
    }

    #[test]
    fn the_template_headers_map_with_full_confidence() {
        let mapping = template();
        assert!(mapping.columns.iter().all(|c| c.confidence == 1.0));
        assert_eq!(mapping.position(Column::LastName), Some(2));
        assert_eq!(mapping.position(Column::FirstAider), Some(9));
        assert!(mapping.missing_columns().is_ok());
    }

    #[test]
    fn human_headers_are_recognised_in_many_languages() {
        for (names, language) in [
            (["First name", "Last name", "E-mail"], "en"),
            (["Vorname", "Nachname", "E-Mail-Adresse"], "de"),
            (["Prénom", "Nom", "Courriel"], "fr"),
            (["Voornaam", "Achternaam", "E-mailadres"], "nl"),
            (["Nombre", "Apellidos", "Correo electrónico"], "es"),
            (["Nome", "Cognome", "E-mail"], "it"),
            (["Имя", "Фамилия", "Электронная почта"], "ru"),
            (["名", "姓", "メールアドレス"], "ja"),
            (["Keresztnév", "Vezetéknév", "E-mail cím"], "hu"),
            (["Utónév", "Családnév", "E-mail cím"], "hu"),
            (["Prenume", "Nume", "E-mail"], "ro"),
        ] {
            let mapping = ColumnMapping::detect(&headers(&names), &ExplicitMapping::new());
            let found: Vec<_> = mapping.columns.iter().map(|c| c.column).collect();
            assert_eq!(
                found,
                [
                    Some(Column::FirstName),
                    Some(Column::LastName),
                    Some(Column::Email)
                ],
                "{language}: {names:?}"
            );
            assert!(mapping.columns.iter().all(|c| c.confidence >= 0.9));
        }
    }

    #[test]
    fn headers_containing_a_known_word_map_with_lower_confidence_and_unknown_ones_not_at_all() {
        let mapping = ColumnMapping::detect(
            &headers(&[
                "Department name",
                "Shoe size",
                "Manager email",
                "Last login",
            ]),
            &ExplicitMapping::new(),
        );
        assert_eq!(mapping.columns[0].column, Some(Column::Department));
        assert_eq!(mapping.columns[0].confidence, 0.6);
        assert_eq!(
            mapping.columns[2].column, None,
            "identifiers are never guessed from a part"
        );
        assert_eq!(mapping.columns[3].column, None);
        assert_eq!(mapping.columns[1].column, None);
        assert_eq!(mapping.columns[1].source, "none");
    }

    /// A header that merely contains a word is the column of its longest such word, and never a
    /// column whose values have a strict form (was: "Photo consent" was the profile photo, so its
    /// `Yes` refused every row; "Nombre del departamento" was the first name, so the department
    /// was never imported; "Years of service" was the department).
    #[test]
    fn a_header_containing_words_of_two_columns_is_the_column_of_the_longest() {
        for (header, column) in [
            ("Nombre del departamento", Some(Column::Department)),
            ("Nome reparto", Some(Column::Department)),
            ("Mobile phone number", Some(Column::Mobile)),
            ("Telephone country code", Some(Column::PhoneCountryCode)),
            ("Photo consent", None),
            ("Foto toestemming", None),
            ("First aid course date", None),
            ("Language skills", None),
            ("Years of service", None),
        ] {
            assert_eq!(guess(header).0, column, "{header}");
        }
        let spanish = ColumnMapping::detect(
            &headers(&["Nombre", "Apellidos", "Correo", "Nombre del departamento"]),
            &ExplicitMapping::new(),
        );
        assert_eq!(spanish.position(Column::FirstName), Some(0));
        assert_eq!(spanish.position(Column::Department), Some(3));
    }

    #[test]
    fn a_romance_number_header_is_the_phone_or_mobile_not_the_romanian_surname() {
        for (header, column) in [
            ("Numéro de téléphone", Column::Phone),
            ("Numero di telefono", Column::Phone),
            ("Número de teléfono", Column::Phone),
            ("Numéro de portable", Column::Mobile),
            ("Numero di cellulare", Column::Mobile),
            ("Nume", Column::LastName),
        ] {
            assert_eq!(guess(header).0, Some(column), "{header}");
        }
    }

    #[test]
    fn a_header_naming_a_mobile_or_a_country_code_is_not_taken_for_the_phone() {
        let named = [
            ("Mobile phone number", Column::Mobile),
            ("Mobiltelefonnummer", Column::Mobile),
            ("Telefoonnummer mobiel", Column::Mobile),
            ("GSM", Column::Mobile),
            ("Telephone country code", Column::PhoneCountryCode),
            ("Phone number (office)", Column::Phone),
        ];
        for (header, column) in named {
            let mapping = ColumnMapping::detect(&headers(&[header]), &ExplicitMapping::new());
            assert_eq!(mapping.columns[0].column, Some(column), "{header}");
        }
    }

    #[test]
    fn a_column_is_taken_once_by_its_most_confident_header() {
        let mapping = ColumnMapping::detect(
            &headers(&["Private email", "Email", "Mail"]),
            &ExplicitMapping::new(),
        );
        let taken: Vec<_> = mapping.columns.iter().map(|c| c.column).collect();
        assert_eq!(taken, [None, Some(Column::Email), None]);
    }

    #[test]
    fn an_explicit_mapping_overrides_detection() {
        let explicit = parse_mapping(&serde_json::json!({
            "Roepnaam": "first_name",
            "Email": "ignore",
            "Mail 2": "CSV_EMAIL"
        }))
        .unwrap();
        let mapping = ColumnMapping::detect(&headers(&["Roepnaam", "Email", "Mail 2"]), &explicit);
        let taken: Vec<_> = mapping.columns.iter().map(|c| c.column).collect();
        assert_eq!(taken, [Some(Column::FirstName), None, Some(Column::Email)]);
        assert_eq!(mapping.columns[0].source, "mapping");

        let errors = parse_mapping(&serde_json::json!({ "X": "shoe_size" })).unwrap_err();
        assert_eq!(errors.0[0].field, "mapping.X");
        assert_eq!(errors.0[0].code, "unknown_column");

        // A header without a letter or digit would match no header of any file (and an empty
        // key cannot be stored).
        let errors =
            parse_mapping(&serde_json::json!({ "": null, " - ": "email", "k": null })).unwrap_err();
        assert_eq!(
            named(&errors),
            [
                ("mapping.", "empty_header"),
                ("mapping. - ", "empty_header")
            ]
        );
    }

    #[test]
    fn missing_mandatory_columns_are_named() {
        let mapping = ColumnMapping::detect(
            &headers(&["CSV_FIRSTNAME", "CSV_EMAIL"]),
            &ExplicitMapping::new(),
        );
        let errors = mapping.missing_columns().unwrap_err();
        assert_eq!(errors.fields(), ["username", "last_name", "display_name"]);

        let mapping = ColumnMapping::detect(
            &headers(&["First name", "Last name"]),
            &ExplicitMapping::new(),
        );
        assert_eq!(mapping.missing_columns().unwrap_err().fields(), ["email"]);
    }

    #[test]
    fn the_template_example_row_passes() {
        let row = ImportedRow::parse(
            &example(Column::Email, "j.jansen@flexwhere.com"),
            &template(),
        )
        .unwrap();
        assert_eq!(row.display_name.as_deref(), Some("Jansen, Jan"));
        assert_eq!(row.first_aider, Some(true));
        assert_eq!(row.emergency_officer, Some(false));
        assert_eq!(row.photo.as_deref(), Some("janjansen.jpg"));
        assert_eq!(row.username.unwrap().display(), "JanJ");
    }

    #[test]
    fn each_template_rule_refuses_its_wrong_values() {
        for (column, value, code) in [
            (Column::Username, "J", "invalid_length"),
            (Column::Username, "Jan J", "invalid_username"),
            (Column::Username, "", "required"),
            (Column::FirstName, "J", "too_short"),
            (Column::FirstName, &"J".repeat(51), "too_long"),
            (Column::FirstName, "Jan<script>", "invalid_characters"),
            (Column::LastName, "", "required"),
            (Column::DisplayName, "Jansen, Jan the Third", "too_long"),
            (Column::DisplayName, "", "required"),
            (Column::Title, "M", "too_short"),
            (Column::Title, "Senior Support Manager", "too_long"),
            (Column::Phone, "call me", "invalid_phone"),
            (Column::Phone, "+31201234567890123456", "too_long"),
            (Column::Mobile, "06-ABC", "invalid_phone"),
            (Column::Department, "S", "too_short"),
            (Column::Email, "jan@", "invalid_email"),
            (Column::Email, "", "required"),
            (Column::FirstAider, "yes", "invalid_flag"),
            (Column::FirstAider, "10", "invalid_flag"),
            (Column::EmergencyOfficer, "2", "invalid_flag"),
            (Column::ProfilePhoto, "a.jp", "too_short"),
            (Column::ProfilePhoto, "../../etc/passwd", "invalid_photo"),
            (Column::ProfilePhoto, "javascript:alert(1)", "invalid_photo"),
        ] {
            let errors = ImportedRow::parse(&example(column, value), &template()).unwrap_err();
            assert_eq!(errors.0.len(), 1, "{column:?} {value:?}: {errors:?}");
            assert_eq!(errors.0[0].field, column.name());
            assert_eq!(errors.0[0].code, code, "{column:?} {value:?}");
        }
    }

    #[test]
    fn each_template_rule_takes_its_right_values() {
        for (column, value) in [
            (Column::Title, "QA"),
            (Column::Phone, "(020) 123-456"),
            (Column::Mobile, "06 12345678"),
            (Column::Department, "R&D / Support"),
            (Column::FirstAider, "0"),
            (Column::EmergencyOfficer, "1"),
            (Column::ProfilePhoto, "https://cdn.example.com/p/jan.png"),
        ] {
            assert!(
                ImportedRow::parse(&example(column, value), &template()).is_ok(),
                "{column:?} {value:?}"
            );
        }
    }

    /// A member of a new organisation, not invited, with `profile`.
    fn member_with(profile: Profile) -> Membership {
        let organisation = crate::organisation::Organisation::new(
            crate::ids::OrganisationId::generate(),
            "Acme".to_owned(),
            Default::default(),
        );
        Membership::joining(
            &organisation,
            crate::ids::AccountId::generate(),
            profile,
            None,
            vec![],
            crate::membership::InvitationStatus::NotInvited,
        )
    }

    #[test]
    fn a_row_starts_a_new_persons_language_never_overrides_it_and_undoes_an_imports_deactivation() {
        let mapping = ColumnMapping::detect(
            &headers(&["First name", "Last name", "Email", "Language"]),
            &ExplicitMapping::new(),
        );
        let row = ImportedRow::parse(
            &cells(&["Jan", "Jansen", "jan@example.com", "de"]),
            &mapping,
        )
        .unwrap();
        assert_eq!(row.language, Some(Language::De));
        let mut existing = member_with(row.new_profile());
        existing.preferences.language = Language::Fr;
        assert_eq!(row.update(&existing).unwrap(), None);

        // Listed again after an import deactivated them: active again; after an admin did: not.
        existing.status = Status::Deactivated;
        assert_eq!(
            row.update(&existing).unwrap(),
            None,
            "an admin's deactivation"
        );
        existing.deactivated_by_import = true;
        let after = row.update(&existing).unwrap().unwrap();
        assert!(after.is_active());
        assert!(!after.deactivated_by_import);
        assert_eq!(after.session_epoch, existing.session_epoch);
        assert_eq!(after.version, existing.version + 1);
    }

    #[test]
    fn a_row_takes_over_a_value_the_person_set_alike_once() {
        let mapping = ColumnMapping::detect(
            &headers(&["First name", "Last name", "Email", "Department"]),
            &ExplicitMapping::new(),
        );
        let row = ImportedRow::parse(
            &cells(&["Jan", "Jansen", "jan@example.com", "Support"]),
            &mapping,
        )
        .unwrap();
        let mut existing = member_with(row.new_profile());
        existing
            .profile
            .managed_by
            .set(Attribute::Department, Owner::SelfService);

        let after = row.update(&existing).unwrap().expect("an owner change");

        assert_eq!(after.profile.department, existing.profile.department);
        assert_eq!(
            after.profile.managed_by.owner(Attribute::Department),
            Owner::Csv
        );
        assert_eq!(row.update(&after).unwrap(), None, "then unchanged");
    }

    #[test]
    fn a_surname_kept_in_parts_is_imported_whole() {
        let cases = [
            (
                &["Voornaam", "Tussenvoegsel", "Achternaam", "E-mailadres"][..],
                &["Jan", "van der", "Dijk", "jan@example.nl"][..],
                "van der Dijk",
            ),
            (
                &["Nombre", "Primer apellido", "Segundo apellido", "Correo"][..],
                &["Ana", "García", "López", "ana@example.es"][..],
                "García López",
            ),
            (
                &["Voornaam", "Tussenvoegsel", "Achternaam", "E-mailadres"][..],
                &["Piet", "", "Jansen", "piet@example.nl"][..],
                "Jansen",
            ),
        ];
        for (names, values, last_name) in cases {
            let mapping = ColumnMapping::detect(&headers(names), &ExplicitMapping::new());
            assert!(
                mapping
                    .columns
                    .iter()
                    .all(|c| c.column.is_some() && c.confidence >= 0.9),
                "{names:?}: {mapping:?}"
            );
            let row = ImportedRow::parse(&cells(values), &mapping).unwrap();
            assert_eq!(row.last_name, last_name);
        }
        let mapping = ColumnMapping::detect(
            &headers(&["Voornaam", "Tussenvoegsel", "Achternaam", "E-mailadres"]),
            &ExplicitMapping::new(),
        );
        let too_long = "D".repeat(48);
        let errors = ImportedRow::parse(
            &cells(&["Jan", "van", &too_long, "jan@example.nl"]),
            &mapping,
        )
        .unwrap_err();
        assert_eq!(errors.0[0].field, "last_name");
        assert_eq!(errors.0[0].code, "too_long");
    }

    #[test]
    fn a_file_not_in_the_template_takes_names_as_the_profile_api_does() {
        let mapping = ColumnMapping::detect(
            &headers(&["名", "姓", "邮箱", "Job title", "Display name"]),
            &ExplicitMapping::new(),
        );
        let title = "Senior Customer Support Manager";
        let row = ImportedRow::parse(
            &cells(&["小明", "王", "wang@example.cn", title, "Col·lell, Marta"]),
            &mapping,
        )
        .unwrap();
        assert_eq!(
            (row.first_name.as_str(), row.last_name.as_str()),
            ("小明", "王")
        );
        assert_eq!(row.title.as_deref(), Some(title));
        assert_eq!(row.display_name.as_deref(), Some("Col·lell, Marta"));
        let too_long = ImportedRow::parse(
            &cells(&["小明", &"王".repeat(51), "wang@example.cn", "", ""]),
            &mapping,
        )
        .unwrap_err();
        assert_eq!(too_long.0[0].code, "too_long");
        // The template's own file keeps the template's rules.
        let errors = ImportedRow::parse(&example(Column::LastName, "王"), &template()).unwrap_err();
        assert_eq!(errors.0[0].code, "too_short");
    }

    #[test]
    fn human_columns_parse_country_codes_tags_languages_and_external_ids() {
        let mapping = ColumnMapping::detect(
            &headers(&[
                "First name",
                "Last name",
                "Email",
                "Phone country code",
                "Phone",
                "Tags",
                "Language",
                "External ID",
            ]),
            &ExplicitMapping::new(),
        );
        let row = ImportedRow::parse(
            &cells(&[
                "Zoë",
                "Dupont",
                "zoe@example.be",
                "+32",
                "0470 12 34 56",
                "Parking; Ghent",
                "fr_BE",
                "E-77",
            ]),
            &mapping,
        )
        .unwrap();
        assert_eq!(row.phone.as_deref(), Some("+32 470 12 34 56"));
        assert_eq!(
            row.tags,
            Some(vec!["Parking".to_owned(), "Ghent".to_owned()])
        );
        assert_eq!(row.language, Some(Language::Fr));
        assert_eq!(row.external_id.as_deref(), Some("E-77"));

        let errors = ImportedRow::parse(
            &cells(&["Zoë", "Dupont", "", "x", "", "", "nl_BE", ""]),
            &mapping,
        )
        .unwrap_err();
        assert_eq!(
            named(&errors),
            [
                ("phone_country_code", "invalid_country_code"),
                ("language", "unsupported_language"),
                ("email", "required")
            ]
        );
    }

    #[test]
    fn a_country_code_is_a_dialling_code_however_written() {
        for (written, code) in [("+32", "32"), ("0032", "32"), ("1", "1"), (" 358 ", "358")] {
            assert_eq!(country_code(written).as_deref(), Ok(code), "{written}");
        }
        for refused in ["031", "+0", "0", "00", "+3212", "NL", "", "+"] {
            assert_eq!(
                country_code(refused).map_err(|problem| problem.code),
                Err("invalid_country_code"),
                "{refused}"
            );
        }
    }

    #[test]
    fn a_row_updates_only_what_differs_and_leaves_identity_provider_attributes_alone() {
        let mapping = template();
        let row = ImportedRow::parse(&example(Column::Title, "Manager"), &mapping).unwrap();
        let profile = row.new_profile();
        assert_eq!(profile.managed_by.owner(Attribute::Function), Owner::Csv);
        assert_eq!(
            profile.managed_by.owner(Attribute::AboutMe),
            Owner::SelfService
        );
        let mut existing = member_with(profile);
        existing.profile.email = row.email.clone();
        assert_eq!(
            row.update(&existing).unwrap(),
            None,
            "the same row changes nothing"
        );

        let changed = ImportedRow::parse(&example(Column::Title, "Director"), &mapping).unwrap();
        let after = changed.update(&existing).unwrap().unwrap();
        assert_eq!(after.profile.function.as_deref(), Some("Director"));
        assert_eq!(after.version, existing.version + 1);

        existing
            .profile
            .managed_by
            .set(Attribute::Function, Owner::Scim);
        assert!(managed_by_identity_provider(&existing));
        let provisioned_owning_nothing = Membership {
            scim: Some(crate::scim::user::ScimUser {
                document: serde_json::Map::new(),
                created: chrono::Utc::now(),
                last_modified: chrono::Utc::now(),
            }),
            ..member_with(Profile::named("Jan".into(), "Jansen".into(), None))
        };
        assert!(managed_by_identity_provider(&provisioned_owning_nothing));
        assert!(!managed_by_identity_provider(&member_with(Profile::named(
            "Jan".into(),
            "Jansen".into(),
            None
        ))));
        assert_eq!(
            changed.update(&existing).unwrap_err().0[0].code,
            "read_only"
        );

        let moved =
            ImportedRow::parse(&example(Column::Email, "jan@elsewhere.com"), &mapping).unwrap();
        assert_eq!(
            moved.update(&existing).unwrap_err().0[0].code,
            "email_differs"
        );

        existing.username = row.username.clone();
        let renamed = ImportedRow::parse(&example(Column::Username, "someone.else"), &mapping)
            .unwrap()
            .update(&existing);
        assert_eq!(renamed.unwrap_err().fields(), ["username"]);
        let recapitalised = example(
            Column::Username,
            &row.username.as_ref().unwrap().display().to_uppercase(),
        );
        assert!(
            ImportedRow::parse(&recapitalised, &mapping)
                .unwrap()
                .update(&existing)
                .is_ok()
        );
    }

    #[test]
    fn the_deactivation_threshold_is_a_share_of_active_users() {
        assert!(within_deactivation_threshold(20, 100, 20));
        assert!(!within_deactivation_threshold(21, 100, 20));
        assert!(within_deactivation_threshold(0, 0, 20));
        assert!(!within_deactivation_threshold(1, 0, 20));
    }

    #[test]
    fn spreadsheet_formulas_are_neutralised() {
        for cell in ["=HYPERLINK(\"x\")", "+1+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralise_formula(cell).starts_with('\''), "{cell:?}");
        }
        assert_eq!(neutralise_formula("Jan"), "Jan");
        assert_eq!(neutralise_formula("j@x.com"), "j@x.com");
        assert_eq!(neutralise_formula("Doe - Smith"), "Doe - Smith");
    }

    #[test]
    fn a_formula_after_a_semicolon_tab_or_line_break_is_neutralised_too() {
        assert_eq!(
            neutralise_formula("x;=cmd|' /C calc'!A0"),
            "x;'=cmd|' /C calc'!A0"
        );
        assert_eq!(neutralise_formula("a\t+1\n@b"), "a\t'+1\n'@b");
        assert_eq!(neutralise_formula("\t=1"), "'\t'=1");
        assert_eq!(neutralise_formula("a; b"), "a; b");
    }
}
