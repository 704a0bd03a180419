//! `google.api.http` path templates (`/v1/{name=shelves/*}/books/{book.id}:cancel`):
//! parsed once at start, matched against every request path.
//!
//! The grammar is the one in `google/api/http.proto`:
//!
//! ```text
//! Template = "/" Segments [ Verb ] ;
//! Segments = Segment { "/" Segment } ;
//! Segment  = "*" | "**" | LITERAL | Variable ;
//! Variable = "{" FieldPath [ "=" Segments ] "}" ;
//! FieldPath = IDENT { "." IDENT } ;
//! Verb     = ":" LITERAL ;
//! ```
//!
//! `*` matches one segment, `**` zero or more (at most one `**` per
//! template), and `{field}` is short for `{field=*}`.

use percent_encoding::percent_decode_str;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `*`: exactly one non-empty segment.
    One,
    /// `**`: zero or more segments.
    Rest,
}

/// A `{field.path=...}` of a template: which template segments it covers.
#[derive(Debug, Clone)]
pub struct Variable {
    pub field_path: Vec<String>,
    start: usize,
    end: usize,
}

#[derive(Debug, Clone)]
pub struct PathTemplate {
    source: String,
    segments: Vec<Segment>,
    variables: Vec<Variable>,
    verb: Option<String>,
}

/// Why a template in a contract is unusable.
#[derive(Debug, thiserror::Error)]
#[error("path template {template:?}: {reason}")]
pub struct TemplateError {
    template: String,
    reason: String,
}

/// A path variable's value could not be read (bad percent-encoding).
#[derive(Debug)]
pub struct CaptureError {
    pub field_path: String,
}

impl PathTemplate {
    pub fn parse(template: &str) -> Result<Self, TemplateError> {
        let fail = |reason: &str| TemplateError {
            template: template.to_owned(),
            reason: reason.to_owned(),
        };
        let Some(rest) = template.strip_prefix('/') else {
            return Err(fail("must start with '/'"));
        };
        let (body, verb) = split_verb(rest);
        let mut parser = Parser {
            input: body,
            position: 0,
        };
        let mut segments = Vec::new();
        let mut variables = Vec::new();
        loop {
            if parser.peek() == Some('{') {
                parser.bump();
                let inner = parser
                    .take_until('}')
                    .ok_or_else(|| fail("a '{' is never closed"))?;
                parser.bump();
                let (path, pattern) = match inner.split_once('=') {
                    Some((path, pattern)) => (path, pattern),
                    None => (inner, "*"),
                };
                let field_path: Vec<String> = path.split('.').map(str::to_owned).collect();
                if field_path.iter().any(|part| !is_ident(part)) {
                    return Err(fail(&format!("{path:?} is not a field path")));
                }
                let start = segments.len();
                for piece in pattern.split('/') {
                    segments.push(plain_segment(piece).map_err(|reason| fail(&reason))?);
                }
                variables.push(Variable {
                    field_path,
                    start,
                    end: segments.len(),
                });
            } else {
                let piece = parser.take_until('/').unwrap_or_else(|| parser.rest());
                segments.push(plain_segment(piece).map_err(|reason| fail(&reason))?);
            }
            match parser.peek() {
                None => break,
                Some('/') => parser.bump(),
                Some(_) => return Err(fail("a variable must fill a whole segment")),
            }
        }
        if segments.iter().filter(|s| **s == Segment::Rest).count() > 1 {
            return Err(fail("at most one '**' is supported"));
        }
        if let Some(verb) = verb
            && (verb.is_empty() || verb.contains(['/', '{', '}', '*']))
        {
            return Err(fail("the verb after ':' must be a plain literal"));
        }
        Ok(Self {
            source: template.to_owned(),
            segments,
            variables,
            verb: verb.map(str::to_owned),
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn variables(&self) -> &[Variable] {
        &self.variables
    }

    /// How specific the template is, to pick one when several match: more
    /// literal segments first, then a verb, then no `**`.
    pub fn specificity(&self) -> (usize, bool, bool) {
        let literals = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        let no_rest = !self.segments.contains(&Segment::Rest);
        (literals, self.verb.is_some(), no_rest)
    }

    /// Matches a request path, split once into a [`RequestPath`] and still
    /// percent-encoded; `Some` with the raw segments each variable captured.
    pub fn match_path<'a>(&'a self, request: &'a RequestPath<'a>) -> Option<Captures<'a>> {
        let raw: &[&str] = match (&self.verb, &request.verb_split) {
            (Some(verb), Some((segments, request_verb))) if verb == request_verb => segments,
            (Some(_), _) => return None,
            (None, _) => &request.segments,
        };
        let ranges = self.segment_ranges(raw.len())?;
        for (segment, &(start, end)) in self.segments.iter().zip(&ranges) {
            match segment {
                Segment::Literal(literal) => {
                    if raw[start] != literal {
                        return None;
                    }
                }
                Segment::One => {
                    if raw[start].is_empty() {
                        return None;
                    }
                }
                Segment::Rest => {
                    if raw[start..end].iter().any(|s| s.is_empty()) {
                        return None;
                    }
                }
            }
        }
        let values = self
            .variables
            .iter()
            .map(|variable| {
                let start = ranges[variable.start].0;
                let end = ranges[variable.end - 1].1;
                &raw[start..end]
            })
            .collect();
        Some(Captures {
            template: self,
            values,
        })
    }

    /// Where each template segment lies in a path of `len` segments.
    fn segment_ranges(&self, len: usize) -> Option<Vec<(usize, usize)>> {
        match self.segments.iter().position(|s| *s == Segment::Rest) {
            None => (len == self.segments.len()).then(|| (0..len).map(|i| (i, i + 1)).collect()),
            Some(rest) => {
                let after = self.segments.len() - rest - 1;
                let fixed = rest + after;
                if len < fixed {
                    return None;
                }
                let rest_end = len - after;
                Some(
                    (0..self.segments.len())
                        .map(|i| match i.cmp(&rest) {
                            std::cmp::Ordering::Less => (i, i + 1),
                            std::cmp::Ordering::Equal => (rest, rest_end),
                            std::cmp::Ordering::Greater => {
                                let j = rest_end + (i - rest - 1);
                                (j, j + 1)
                            }
                        })
                        .collect(),
                )
            }
        }
    }

    /// The OpenAPI form: each variable becomes `{field.path}`.
    pub fn openapi_path(&self) -> String {
        let mut out = String::new();
        let mut i = 0;
        while i < self.segments.len() {
            out.push('/');
            if let Some(variable) = self.variables.iter().find(|v| v.start == i) {
                out.push('{');
                out.push_str(&variable.field_path.join("."));
                out.push('}');
                i = variable.end;
                continue;
            }
            match &self.segments[i] {
                Segment::Literal(literal) => out.push_str(literal),
                Segment::One => out.push('*'),
                Segment::Rest => out.push_str("**"),
            }
            i += 1;
        }
        if let Some(verb) = &self.verb {
            out.push(':');
            out.push_str(verb);
        }
        out
    }

    /// Whether one of its variables spans more than one segment.
    pub fn spans_segments(&self) -> bool {
        self.variables
            .iter()
            .any(|variable| self.variable_pattern(variable).is_some())
    }

    /// Whether a variable spans more than one segment (`{name=shelves/*}`,
    /// `{path=**}`): OpenAPI cannot say so, so its documentation does.
    pub fn variable_pattern(&self, variable: &Variable) -> Option<String> {
        let pattern = &self.segments[variable.start..variable.end];
        if pattern == [Segment::One] {
            return None;
        }
        Some(
            pattern
                .iter()
                .map(|s| match s {
                    Segment::Literal(l) => l.as_str(),
                    Segment::One => "*",
                    Segment::Rest => "**",
                })
                .collect::<Vec<_>>()
                .join("/"),
        )
    }
}

/// The captured values of one matched request.
#[derive(Debug)]
pub struct Captures<'a> {
    template: &'a PathTemplate,
    values: Vec<&'a [&'a str]>,
}

impl Captures<'_> {
    /// Each variable's field path and percent-decoded value.
    pub fn decode(&self) -> Result<Vec<(&[String], String)>, CaptureError> {
        self.template
            .variables
            .iter()
            .zip(&self.values)
            .map(|(variable, raw)| {
                let decoded: Result<Vec<String>, _> = raw
                    .iter()
                    .map(|segment| {
                        percent_decode_str(segment)
                            .decode_utf8()
                            .map(|s| s.into_owned())
                    })
                    .collect();
                decoded
                    .map(|parts| (variable.field_path.as_slice(), parts.join("/")))
                    .map_err(|_| CaptureError {
                        field_path: variable.field_path.join("."),
                    })
            })
            .collect()
    }
}

/// A request path split once, shared by every template tried against it.
#[derive(Debug)]
pub struct RequestPath<'a> {
    segments: Vec<&'a str>,
    /// The segments with a trailing `:verb` split off the last one.
    verb_split: Option<(Vec<&'a str>, &'a str)>,
}

impl<'a> RequestPath<'a> {
    pub fn new(path: &'a str) -> Self {
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        let segments: Vec<&str> = trimmed.split('/').collect();
        let verb_split = segments.last().and_then(|last| {
            let (head, verb) = last.rsplit_once(':')?;
            let mut split = segments.clone();
            if let Some(slot) = split.last_mut() {
                *slot = head;
            }
            Some((split, verb))
        });
        Self {
            segments,
            verb_split,
        }
    }
}

fn split_verb(body: &str) -> (&str, Option<&str>) {
    let last_slash = body.rfind('/').map_or(0, |i| i + 1);
    let last_brace = body.rfind('}').map_or(0, |i| i + 1);
    let from = last_slash.max(last_brace);
    match body[from..].rfind(':') {
        Some(colon) => (&body[..from + colon], Some(&body[from + colon + 1..])),
        None => (body, None),
    }
}

fn plain_segment(piece: &str) -> Result<Segment, String> {
    match piece {
        "*" => Ok(Segment::One),
        "**" => Ok(Segment::Rest),
        "" => Err("empty segment".into()),
        literal if literal.contains(['{', '}', '*', '=']) => {
            Err(format!("{literal:?} is not a literal segment"))
        }
        literal => Ok(Segment::Literal(literal.to_owned())),
    }
}

fn is_ident(part: &str) -> bool {
    let mut chars = part.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

struct Parser<'a> {
    input: &'a str,
    position: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<char> {
        self.input[self.position..].chars().next()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.position += c.len_utf8();
        }
    }

    /// Up to (not including) `stop`, or `None` when `stop` never comes.
    fn take_until(&mut self, stop: char) -> Option<&'a str> {
        let rest = &self.input[self.position..];
        let at = rest.find(stop)?;
        self.position += at;
        Some(&rest[..at])
    }

    fn rest(&mut self) -> &'a str {
        let rest = &self.input[self.position..];
        self.position = self.input.len();
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(template: &str, path: &str) -> Option<Vec<(String, String)>> {
        let template = PathTemplate::parse(template).expect("template parses");
        let request = RequestPath::new(path);
        let captures = template.match_path(&request)?;
        Some(
            captures
                .decode()
                .expect("decodes")
                .into_iter()
                .map(|(field, value)| (field.join("."), value))
                .collect(),
        )
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn literal_and_single_variables() {
        assert_eq!(
            capture(
                "/api/reservations/{reservation_id}",
                "/api/reservations/abc"
            ),
            Some(pairs(&[("reservation_id", "abc")]))
        );
        assert_eq!(capture("/api/reservations/{id}", "/api/reservations"), None);
        assert_eq!(
            capture("/api/reservations/{id}", "/api/reservations/"),
            None
        );
        assert_eq!(capture("/api/me", "/api/me"), Some(vec![]));
        assert_eq!(capture("/api/me", "/api/me/"), None);
    }

    #[test]
    fn nested_fields_and_patterns() {
        assert_eq!(
            capture(
                "/v1/{shelf.name=shelves/*}/books/{book.id}",
                "/v1/shelves/s1/books/b%202"
            ),
            Some(pairs(&[("shelf.name", "shelves/s1"), ("book.id", "b 2")]))
        );
        assert_eq!(
            capture(
                "/v1/{shelf.name=shelves/*}/books/{id}",
                "/v1/racks/s1/books/b"
            ),
            None
        );
    }

    #[test]
    fn double_wildcards_take_zero_or_more_segments() {
        assert_eq!(
            capture("/v1/files/{path=**}", "/v1/files/a/b/c.txt"),
            Some(pairs(&[("path", "a/b/c.txt")]))
        );
        assert_eq!(
            capture("/v1/files/{path=**}", "/v1/files"),
            Some(pairs(&[("path", "")]))
        );
        assert_eq!(
            capture("/v1/{path=**}/raw", "/v1/a/b/raw"),
            Some(pairs(&[("path", "a/b")]))
        );
    }

    #[test]
    fn verbs() {
        assert_eq!(
            capture("/v1/echo/{id}:touch", "/v1/echo/abc:touch"),
            Some(pairs(&[("id", "abc")]))
        );
        assert_eq!(capture("/v1/echo/{id}:touch", "/v1/echo/abc"), None);
        assert_eq!(capture("/v1/echo/{id}:touch", "/v1/echo/abc:other"), None);
    }

    #[test]
    fn specificity_prefers_literals() {
        let literal = PathTemplate::parse("/api/movies/import").expect("parses");
        let variable = PathTemplate::parse("/api/movies/{movie_id}").expect("parses");
        assert!(literal.specificity() > variable.specificity());
    }

    #[test]
    fn openapi_paths() {
        let template =
            PathTemplate::parse("/v1/{shelf.name=shelves/*}/books/{id}:cancel").expect("parses");
        assert_eq!(
            template.openapi_path(),
            "/v1/{shelf.name}/books/{id}:cancel"
        );
        assert_eq!(
            template.variable_pattern(&template.variables()[0]),
            Some("shelves/*".into())
        );
        assert_eq!(template.variable_pattern(&template.variables()[1]), None);
    }

    #[test]
    fn bad_templates_are_refused() {
        for bad in [
            "api/x",
            "/api/{x",
            "/api/{x=**}/{y=**}",
            "/api/{1x}",
            "/api//x",
            "/api/x{y}",
        ] {
            assert!(PathTemplate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_percent_encoding_is_reported() {
        let template = PathTemplate::parse("/api/{id}").expect("parses");
        let request = RequestPath::new("/api/%FF");
        let captures = template.match_path(&request).expect("matches");
        assert!(captures.decode().is_err());
    }
}
