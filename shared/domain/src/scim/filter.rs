//! SCIM filters (RFC 7644 section 3.4.2.2): parsed into a tree, evaluated against a resource's
//! JSON. Attribute names resolve through the schema, so a filter on an attribute Roster does not
//! have is refused (`invalidFilter`) rather than answered with an empty list, which a client
//! would take as "create it".

use std::{iter::Peekable, str::CharIndices};

use serde_json::Value;

use super::{
    ScimProblem, ScimType,
    schema::{AttributeDef, Kind, ResourceKind, attribute_in, is_server_attribute, locate},
};
use crate::profile::Email;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A value a filter compares with, as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Text(String),
    Boolean(bool),
    Null,
}

/// An attribute as a filter names it: its top-level name as written and an optional
/// sub-attribute (`emails.value`, `name.givenName`).
#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    pub attribute: String,
    pub sub_attribute: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare(AttrPath, Operator, Literal),
    Present(AttrPath),
    /// `emails[type eq "work" and value co "@"]`: some element of a multi-valued attribute matches.
    ValuePath(String, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

/// Filters longer than this are refused (a client never needs more; bounds parsing work).
pub const MAX_FILTER_LENGTH: usize = 2048;
/// Parentheses and value-path brackets nest at most this deep (a client never needs more; bounds
/// the recursion of parsing, evaluating and dropping a filter, which would otherwise overflow a
/// worker thread's stack well within `MAX_FILTER_LENGTH`).
pub const MAX_NESTING: usize = 32;

fn invalid(detail: impl Into<String>) -> ScimProblem {
    ScimProblem::new(ScimType::InvalidFilter, detail)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
}

fn tokens(input: &str) -> Result<Vec<Token>, ScimProblem> {
    let mut chars: Peekable<CharIndices> = input.char_indices().peekable();
    let mut tokens = Vec::new();
    while let Some(&(start, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '[' | ']' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    '[' => Token::OpenBracket,
                    _ => Token::CloseBracket,
                });
            }
            '"' => {
                // A JSON string: find its closing quote (skipping escapes), then decode it.
                chars.next();
                let mut end = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => {
                            end = Some(i);
                            break;
                        }
                        _ => {}
                    }
                }
                let end = end.ok_or_else(|| invalid("a quoted value is not closed"))?;
                let text: String = serde_json::from_str(&input[start..=end])
                    .map_err(|_| invalid("a quoted value has a bad escape"))?;
                tokens.push(Token::Text(text));
            }
            _ => {
                let mut end = input.len();
                while let Some(&(i, c)) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"') {
                        end = i;
                        break;
                    }
                    chars.next();
                }
                tokens.push(Token::Word(input[start..end].to_owned()));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// Parentheses and brackets open at `at`.
    depth: usize,
}

fn keyword(token: Option<&Token>, word: &str) -> bool {
    matches!(token, Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn or(&mut self) -> Result<Filter, ScimProblem> {
        let mut left = self.and()?;
        while keyword(self.peek(), "or") {
            self.next();
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, ScimProblem> {
        let mut left = self.unary()?;
        while keyword(self.peek(), "and") {
            self.next();
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, ScimProblem> {
        if keyword(self.peek(), "not") {
            self.next();
            return Ok(Filter::Not(Box::new(self.group()?)));
        }
        if self.peek() == Some(&Token::Open) {
            return self.group();
        }
        self.comparison()
    }

    fn group(&mut self) -> Result<Filter, ScimProblem> {
        if self.next() != Some(Token::Open) {
            return Err(invalid("expected '(' after not"));
        }
        let inner = self.nested()?;
        if self.next() != Some(Token::Close) {
            return Err(invalid("a '(' is not closed"));
        }
        Ok(inner)
    }

    /// The filter inside a '(' or '[' just read.
    fn nested(&mut self) -> Result<Filter, ScimProblem> {
        if self.depth == MAX_NESTING {
            return Err(invalid(format!(
                "the filter nests more than {MAX_NESTING} levels"
            )));
        }
        self.depth += 1;
        let inner = self.or()?;
        self.depth -= 1;
        Ok(inner)
    }

    fn comparison(&mut self) -> Result<Filter, ScimProblem> {
        let Some(Token::Word(path)) = self.next() else {
            return Err(invalid("expected an attribute name"));
        };
        if self.peek() == Some(&Token::OpenBracket) {
            self.next();
            let inner = self.nested()?;
            if self.next() != Some(Token::CloseBracket) {
                return Err(invalid("a '[' is not closed"));
            }
            // Entra ID compares a sub-attribute of the element the brackets select:
            // `emails[type eq "work"].value eq "a@b.c"` is `emails[type eq "work" and value eq
            // "a@b.c"]`.
            if let Some(Token::Word(word)) = self.peek()
                && let Some(sub) = word.strip_prefix('.')
            {
                let sub = AttrPath {
                    attribute: sub.to_owned(),
                    sub_attribute: None,
                };
                self.next();
                let compared = self.operation(sub)?;
                return Ok(Filter::ValuePath(
                    path,
                    Box::new(Filter::And(Box::new(inner), Box::new(compared))),
                ));
            }
            return Ok(Filter::ValuePath(path, Box::new(inner)));
        }
        self.operation(attr_path(&path))
    }

    /// The operator and value that follow `path`.
    fn operation(&mut self, path: AttrPath) -> Result<Filter, ScimProblem> {
        let Some(Token::Word(operator)) = self.next() else {
            return Err(invalid(format!(
                "expected an operator after {}",
                path.attribute
            )));
        };
        let operator = match operator.to_ascii_lowercase().as_str() {
            "pr" => return Ok(Filter::Present(path)),
            "eq" => Operator::Eq,
            "ne" => Operator::Ne,
            "co" => Operator::Co,
            "sw" => Operator::Sw,
            "ew" => Operator::Ew,
            "gt" => Operator::Gt,
            "ge" => Operator::Ge,
            "lt" => Operator::Lt,
            "le" => Operator::Le,
            other => return Err(invalid(format!("unknown operator '{other}'"))),
        };
        let literal = match self.next() {
            Some(Token::Text(text)) => Literal::Text(text),
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("true") => Literal::Boolean(true),
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("false") => {
                Literal::Boolean(false)
            }
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("null") => Literal::Null,
            // Entra ID sends some values unquoted (`externalId eq 1234`).
            Some(Token::Word(word)) => Literal::Text(word),
            _ => {
                return Err(invalid(format!(
                    "expected a value after {}",
                    path.attribute
                )));
            }
        };
        Ok(Filter::Compare(path, operator, literal))
    }
}

/// Splits `a.b` into attribute and sub-attribute; a schema URN prefix stays with the attribute
/// (`urn:...:enterprise:2.0:User:manager.value`).
pub(crate) fn attr_path(written: &str) -> AttrPath {
    let last_colon = written.rfind(':').map_or(0, |i| i + 1);
    match written[last_colon..].find('.') {
        Some(dot) => AttrPath {
            attribute: written[..last_colon + dot].to_owned(),
            sub_attribute: Some(written[last_colon + dot + 1..].to_owned()),
        },
        None => AttrPath {
            attribute: written.to_owned(),
            sub_attribute: None,
        },
    }
}

impl Filter {
    /// Parses `input` and checks every attribute it names exists on `kind`.
    pub fn parse(input: &str, kind: ResourceKind) -> Result<Filter, ScimProblem> {
        if input.len() > MAX_FILTER_LENGTH {
            return Err(ScimProblem::new(
                ScimType::InvalidFilter,
                format!("the filter is longer than {MAX_FILTER_LENGTH} characters"),
            ));
        }
        let mut parser = Parser {
            tokens: tokens(input)?,
            at: 0,
            depth: 0,
        };
        if parser.tokens.is_empty() {
            return Err(invalid("the filter is empty"));
        }
        let mut filter = parser.or()?;
        if parser.at != parser.tokens.len() {
            return Err(invalid("unexpected text after the filter"));
        }
        filter.compare_values_of_complex_attributes(kind);
        filter.check(kind, None)?;
        Ok(filter)
    }

    /// A complex attribute named without a sub-attribute is compared by its `value` (RFC 7644
    /// section 3.4.2.2's `emails co "example.com"`; Entra ID asks whether a user is still in a
    /// group with `id eq "<group>" and members eq "<user>"`).
    fn compare_values_of_complex_attributes(&mut self, kind: ResourceKind) {
        match self {
            Filter::Compare(path, ..) | Filter::Present(path) => {
                let has_value = locate(kind, &path.attribute).is_some_and(|located| {
                    located.attribute.kind == Kind::Complex
                        && attribute_in(located.attribute.sub_attributes, "value").is_some()
                });
                if path.sub_attribute.is_none() && has_value {
                    path.sub_attribute = Some("value".to_owned());
                }
            }
            Filter::And(a, b) | Filter::Or(a, b) => {
                a.compare_values_of_complex_attributes(kind);
                b.compare_values_of_complex_attributes(kind);
            }
            Filter::Not(inner) => inner.compare_values_of_complex_attributes(kind),
            // Inside, names are the element's sub-attributes.
            Filter::ValuePath(..) => {}
        }
    }

    fn check(
        &self,
        kind: ResourceKind,
        within: Option<&'static AttributeDef>,
    ) -> Result<(), ScimProblem> {
        match self {
            Filter::Compare(path, ..) => match resolve(kind, within, path)? {
                // Nothing it holds compares with a value (a `name eq "Ada"` matched nothing).
                AttributeDef {
                    kind: Kind::Complex,
                    name,
                    ..
                } => Err(invalid(format!(
                    "{name} is a complex attribute: compare one of its sub-attributes"
                ))),
                _ => Ok(()),
            },
            Filter::Present(path) => resolve(kind, within, path).map(|_| ()),
            Filter::ValuePath(attribute, inner) => {
                let located = locate(kind, attribute)
                    .filter(|l| l.attribute.kind == Kind::Complex)
                    .ok_or_else(|| invalid(format!("{attribute} is not a complex attribute")))?;
                inner.check(kind, Some(located.attribute))
            }
            Filter::And(a, b) | Filter::Or(a, b) => {
                a.check(kind, within)?;
                b.check(kind, within)
            }
            Filter::Not(inner) => inner.check(kind, within),
        }
    }

    /// Whether `resource` (a rendered resource: its document with `id` and `meta`) matches.
    pub fn matches(&self, kind: ResourceKind, resource: &Value) -> bool {
        self.matches_in(kind, None, resource)
    }

    /// Whether an element of the multi-valued `attribute` matches (the filter of a value path).
    pub(crate) fn matches_element(
        &self,
        kind: ResourceKind,
        attribute: &'static AttributeDef,
        element: &Value,
    ) -> bool {
        self.matches_in(kind, Some(attribute), element)
    }

    fn matches_in(
        &self,
        kind: ResourceKind,
        within: Option<&'static AttributeDef>,
        value: &Value,
    ) -> bool {
        match self {
            Filter::And(a, b) => {
                a.matches_in(kind, within, value) && b.matches_in(kind, within, value)
            }
            Filter::Or(a, b) => {
                a.matches_in(kind, within, value) || b.matches_in(kind, within, value)
            }
            Filter::Not(inner) => !inner.matches_in(kind, within, value),
            Filter::ValuePath(attribute, inner) => {
                let Some(located) = locate(kind, attribute) else {
                    return false;
                };
                let container = match located.extension {
                    None => Some(value),
                    Some(schema) => value.get(schema.id),
                };
                match container.and_then(|c| c.get(located.attribute.name)) {
                    Some(Value::Array(items)) => items
                        .iter()
                        .any(|item| inner.matches_in(kind, Some(located.attribute), item)),
                    Some(item) => inner.matches_in(kind, Some(located.attribute), item),
                    None => false,
                }
            }
            Filter::Present(path) => values(kind, within, path, value)
                .iter()
                .any(|v| !matches!(v, Value::Null) && v.as_str() != Some("")),
            Filter::Compare(path, operator, literal) => {
                let attribute = resolve(kind, within, path);
                let compared = match attribute {
                    Ok(AttributeDef { email: true, .. }) => Compared::AsMailbox,
                    Ok(AttributeDef {
                        case_exact: true, ..
                    }) => Compared::Exactly,
                    _ => Compared::IgnoringCase,
                };
                values(kind, within, path, value)
                    .iter()
                    .any(|v| compare(v, *operator, literal, compared))
            }
        }
    }

    /// The equality a lookup can start from: the first `attribute eq "value"` on one of the
    /// kind's `lookups` (canonical names: `userName`, `id`, `emails.value` ...) that must hold
    /// for the whole filter to match: the filter itself, a conjunct of a top-level `and`, or of
    /// the filter of a value path (`emails[type eq "work" and value eq "a@b.c"]`).
    pub fn required_equality(&self, kind: ResourceKind) -> Option<(String, String)> {
        self.equality_within(kind, None)
    }

    /// `required_equality` inside the value path of `element` (whose sub-attributes the
    /// comparisons name), or at the top.
    fn equality_within(
        &self,
        kind: ResourceKind,
        element: Option<&str>,
    ) -> Option<(String, String)> {
        match self {
            Filter::Compare(path, Operator::Eq, Literal::Text(value)) => {
                let canonical = match element {
                    None => canonical_name(kind, path)?,
                    Some(_) if path.sub_attribute.is_some() => return None,
                    Some(element) => canonical_name(
                        kind,
                        &AttrPath {
                            attribute: element.to_owned(),
                            sub_attribute: Some(path.attribute.clone()),
                        },
                    )?,
                };
                kind.lookups()
                    .contains(&canonical.as_str())
                    .then(|| (canonical, value.clone()))
            }
            Filter::ValuePath(attribute, inner) if element.is_none() => {
                inner.equality_within(kind, Some(attribute))
            }
            Filter::And(a, b) => a
                .equality_within(kind, element)
                .or_else(|| b.equality_within(kind, element)),
            _ => None,
        }
    }
}

fn canonical_name(kind: ResourceKind, path: &AttrPath) -> Option<String> {
    if path.attribute.eq_ignore_ascii_case("id") && path.sub_attribute.is_none() {
        return Some("id".to_owned());
    }
    let located = locate(kind, &path.attribute)?;
    if located.extension.is_some() {
        return None;
    }
    match &path.sub_attribute {
        None => Some(located.attribute.name.to_owned()),
        Some(sub) => attribute_in(located.attribute.sub_attributes, sub)
            .map(|s| format!("{}.{}", located.attribute.name, s.name)),
    }
}

/// The attribute a path names: `id`/`meta.*` (server attributes, compared exactly), a schema
/// attribute, or a sub-attribute of the complex attribute a value path is inside.
fn resolve(
    kind: ResourceKind,
    within: Option<&'static AttributeDef>,
    path: &AttrPath,
) -> Result<&'static AttributeDef, ScimProblem> {
    static SERVER: AttributeDef = AttributeDef {
        case_exact: true,
        ..super::schema::EXTERNAL_ID
    };
    if let Some(parent) = within
        && path.sub_attribute.is_none()
        && let Some(sub) = attribute_in(parent.sub_attributes, &path.attribute)
    {
        return Ok(sub);
    }
    if is_server_attribute(&path.attribute) {
        return Ok(&SERVER);
    }
    let unknown = || {
        invalid(format!(
            "{} has no attribute {}",
            kind.name(),
            match &path.sub_attribute {
                Some(sub) => format!("{}.{sub}", path.attribute),
                None => path.attribute.clone(),
            }
        ))
    };
    let located = locate(kind, &path.attribute).ok_or_else(unknown)?;
    match &path.sub_attribute {
        None => Ok(located.attribute),
        Some(sub) => attribute_in(located.attribute.sub_attributes, sub).ok_or_else(unknown),
    }
}

/// Every value at `path` in `value` (elements of multi-valued attributes flattened).
fn values<'a>(
    kind: ResourceKind,
    within: Option<&'static AttributeDef>,
    path: &AttrPath,
    value: &'a Value,
) -> Vec<&'a Value> {
    let get = |container: &'a Value, name: &str| -> Option<&'a Value> {
        container
            .as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let top = if within.is_some() || is_server_attribute(&path.attribute) {
        get(value, &path.attribute)
    } else {
        locate(kind, &path.attribute).and_then(|located| match located.extension {
            None => get(value, located.attribute.name),
            Some(schema) => get(value, schema.id).and_then(|e| get(e, located.attribute.name)),
        })
    };
    let Some(top) = top else { return vec![] };
    let items: Vec<&Value> = match top {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    match &path.sub_attribute {
        None => items,
        Some(sub) => items
            .into_iter()
            .filter_map(|item| get(item, sub))
            .collect(),
    }
}

/// How an attribute's text compares with a filter's.
#[derive(Clone, Copy)]
enum Compared {
    Exactly,
    IgnoringCase,
    /// Equality by the mailbox named (`Email::lookup_key`), other operators ignoring case.
    AsMailbox,
}

fn compare(value: &Value, operator: Operator, literal: &Literal, compared: Compared) -> bool {
    let text = match literal {
        Literal::Null => return matches!(operator, Operator::Eq) == value.is_null(),
        Literal::Boolean(flag) => {
            return match operator {
                Operator::Eq => value.as_bool() == Some(*flag),
                Operator::Ne => value.as_bool() != Some(*flag),
                _ => false,
            };
        }
        Literal::Text(text) => text,
    };
    let actual = match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => return false,
    };
    let (actual, expected) = match (compared, operator) {
        (Compared::Exactly, _) => (actual, text.clone()),
        (Compared::AsMailbox, Operator::Eq | Operator::Ne) => {
            (Email::lookup_key(&actual), Email::lookup_key(text))
        }
        _ => (actual.to_lowercase(), text.to_lowercase()),
    };
    match operator {
        Operator::Eq => actual == expected,
        Operator::Ne => actual != expected,
        Operator::Co => actual.contains(&expected),
        Operator::Sw => actual.starts_with(&expected),
        Operator::Ew => actual.ends_with(&expected),
        Operator::Gt => actual > expected,
        Operator::Ge => actual >= expected,
        Operator::Lt => actual < expected,
        Operator::Le => actual <= expected,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn user() -> Value {
        json!({
            "id": "u1",
            "userName": "Ada@Example.com",
            "externalId": "E-7",
            "active": true,
            "name": { "givenName": "Ada", "familyName": "Lovelace" },
            "emails": [
                { "value": "ada@home.example", "type": "home" },
                { "value": "ada@example.com", "type": "work", "primary": true }
            ],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": "R&D" }
        })
    }

    fn matches(filter: &str) -> bool {
        Filter::parse(filter, ResourceKind::User)
            .unwrap()
            .matches(ResourceKind::User, &user())
    }

    #[test]
    fn entra_id_filters_match() {
        assert!(
            matches(r#"userName eq "ada@example.com""#),
            "userName ignores case"
        );
        assert!(matches(r#"externalId eq "E-7""#));
        assert!(matches("externalId eq E-7"), "unquoted values are text");
        assert!(
            !matches(r#"externalId eq "e-7""#),
            "externalId is case-exact"
        );
        assert!(matches(
            r#"userName eq "ada@example.com" and externalId eq "E-7""#
        ));
        assert!(!matches(r#"userName eq "00000000-test-connection""#));
        assert!(matches(
            r#"emails[type eq "work"].value eq "ADA@example.com""#
        ));
        assert!(
            !matches(r#"emails[type eq "work"].value eq "ada@home.example""#),
            "the address of another element"
        );
    }

    #[test]
    fn a_complex_attribute_compares_by_its_value_and_one_without_a_value_is_refused() {
        assert!(matches(r#"emails co "example.com""#));
        assert!(matches(r#"emails eq "ADA@example.com""#));
        assert!(!matches(r#"emails eq "grace@example.com""#));
        assert_eq!(
            Filter::parse(r#"emails eq "ada@example.com""#, ResourceKind::User)
                .unwrap()
                .required_equality(ResourceKind::User),
            Some(("emails.value".to_owned(), "ada@example.com".to_owned()))
        );
        let group = json!({
            "id": "g1",
            "displayName": "Staff",
            "members": [{ "value": "u1" }, { "value": "u2", "display": "Grace" }]
        });
        let in_group = |filter: &str| {
            Filter::parse(filter, ResourceKind::Group)
                .unwrap()
                .matches(ResourceKind::Group, &group)
        };
        assert!(in_group(r#"id eq "g1" and members eq "u2""#));
        assert!(!in_group(r#"id eq "g1" and members eq "u3""#));
        for refused in [r#"name eq "Ada""#, r#"name co "Love""#] {
            assert_eq!(
                Filter::parse(refused, ResourceKind::User)
                    .unwrap_err()
                    .scim_type,
                ScimType::InvalidFilter,
                "{refused}"
            );
        }
    }

    #[test]
    fn an_address_equals_itself_with_its_domain_in_either_form() {
        let held = |address: &str| json!({ "emails": [{ "value": address, "type": "work" }] });
        let matches = |filter: &str, document: &Value| {
            Filter::parse(filter, ResourceKind::User)
                .unwrap()
                .matches(ResourceKind::User, document)
        };
        let unicode = held("joerg@müller.example");
        let ascii = held("joerg@xn--mller-kva.example");
        for document in [&unicode, &ascii] {
            assert!(matches(
                r#"emails.value eq "Joerg@xn--MLLER-kva.example""#,
                document
            ));
            assert!(matches(
                r#"emails.value eq "joerg@Müller.example""#,
                document
            ));
            assert!(matches(
                r#"emails[type eq "work" and value eq "joerg@müller.example"]"#,
                document
            ));
            assert!(!matches(
                r#"emails.value ne "joerg@müller.example""#,
                document
            ));
            assert!(!matches(
                r#"emails.value eq "joerg@muller.example""#,
                document
            ));
        }
        assert!(
            !matches(r#"emails.value co "xn--""#, &unicode),
            "other operators compare the text"
        );
    }

    #[test]
    fn operators_value_paths_and_logic() {
        assert!(matches(
            r#"emails[type eq "work" and value ew "example.com"]"#
        ));
        assert!(!matches(r#"emails[type eq "other"]"#));
        assert!(matches(r#"emails.value eq "ada@home.example""#));
        assert!(
            matches(r#"emails.value eq "ADA@HOME.example""#),
            "an address ignores case"
        );
        assert!(matches(r#"name.familyName sw "love""#));
        assert!(matches("title pr or active eq true"));
        assert!(matches(r#"not (userName co "bob") and active eq TRUE"#));
        assert!(matches(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "r&d""#
        ));
        assert!(matches(r#"id eq "u1""#));
        assert!(matches(
            r#"userName eq "Ada@Example.com" OR (userName eq "x")"#
        ));
    }

    #[test]
    fn unknown_attributes_and_bad_syntax_are_invalid_filters() {
        for filter in [
            r#"shoeSize eq "44""#,
            r#"userName eq"#,
            r#"userName xx "a""#,
            r#"(userName eq "a""#,
            r#"userName eq "a" extra"#,
            r#"userName eq "unterminated"#,
            r#"emails[type eq "work""#,
            r#"emails[type eq "work"].shoeSize eq "44""#,
            r#"emails[type eq "work"].value"#,
            "",
        ] {
            let problem = Filter::parse(filter, ResourceKind::User).unwrap_err();
            assert_eq!(problem.scim_type, ScimType::InvalidFilter, "{filter}");
        }
        assert!(Filter::parse(&"a".repeat(3000), ResourceKind::User).is_err());
    }

    #[test]
    fn deeply_nested_filters_are_refused_without_overflowing_the_stack() {
        let parse = |filter: &str| Filter::parse(filter, ResourceKind::User);
        let parenthesised =
            |depth: usize| format!("{}userName pr{}", "(".repeat(depth), ")".repeat(depth));
        assert!(parse(&parenthesised(MAX_NESTING)).is_ok());
        assert!(parse(&parenthesised(MAX_NESTING + 1)).is_err());
        let negated =
            |depth: usize| format!("{}userName pr{}", "not (".repeat(depth), ")".repeat(depth));
        assert!(parse(&negated(MAX_NESTING)).is_ok());
        assert!(parse(&negated(MAX_NESTING + 1)).is_err());
        let in_value_path = format!("emails[{}]", parenthesised(MAX_NESTING));
        assert!(parse(&in_value_path).is_err(), "the bracket is a level too");

        // Within the length limit, and deep enough to overflow a 2 MiB stack (a tokio worker's)
        // if nesting were not bounded.
        let deepest = parenthesised(1010);
        assert!(deepest.len() <= MAX_FILTER_LENGTH);
        let problem = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || Filter::parse(&deepest, ResourceKind::User).unwrap_err())
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(problem.scim_type, ScimType::InvalidFilter);
        assert!(problem.detail.contains("nests"), "{}", problem.detail);
    }

    #[test]
    fn the_lookup_equality_is_taken_from_the_filter() {
        let equality =
            |filter: &str, kind| Filter::parse(filter, kind).unwrap().required_equality(kind);
        assert_eq!(
            equality(r#"UserName eq "a""#, ResourceKind::User),
            Some(("userName".to_owned(), "a".to_owned()))
        );
        assert_eq!(
            equality(
                r#"active eq true and externalId eq "x""#,
                ResourceKind::User
            ),
            Some(("externalId".to_owned(), "x".to_owned()))
        );
        assert_eq!(
            equality(r#"emails[value eq "a@b.c"]"#, ResourceKind::User),
            Some(("emails.value".to_owned(), "a@b.c".to_owned()))
        );
        assert_eq!(
            equality(
                r#"emails[type eq "work"].value eq "a@b.c""#,
                ResourceKind::User
            ),
            Some(("emails.value".to_owned(), "a@b.c".to_owned())),
            "Entra ID's form"
        );
        assert_eq!(
            equality(
                r#"displayName eq "Ada" and userName eq "ada""#,
                ResourceKind::User
            ),
            Some(("userName".to_owned(), "ada".to_owned())),
            "the lookup among the conjuncts"
        );
        assert_eq!(
            equality(r#"displayName eq "Staff""#, ResourceKind::Group),
            Some(("displayName".to_owned(), "Staff".to_owned()))
        );
        assert_eq!(
            equality(r#"userName eq "a" or userName eq "b""#, ResourceKind::User),
            None
        );
        assert_eq!(equality(r#"userName sw "a""#, ResourceKind::User), None);
    }
}
