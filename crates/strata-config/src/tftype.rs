//! Terraform type constraints (`type = map(object({…}))` in a `variable` block) and whether a
//! tfvars value fits one, by the rules terraform converts an input variable's value with: a
//! number or bool is a fine string, a string is a fine number when it reads as one and a fine
//! bool when it is `true`, `false`, `1` or `0`, an object may carry attributes the type does not
//! name (they are dropped), and `null` fits anything. Whatever terraform would reject is a
//! mismatch, found before a plan is ever made.

use std::fmt;
use std::ops::Range;

use hcl::edit::Span as _;
use hcl::edit::expr::{Expression as Value, ObjectKey};

/// A variable's type constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeConstraint {
    /// `any`: every value.
    Any,
    /// `string`.
    String,
    /// `number`.
    Number,
    /// `bool`.
    Bool,
    /// `list(T)`.
    List(Box<TypeConstraint>),
    /// `set(T)`.
    Set(Box<TypeConstraint>),
    /// `map(T)`.
    Map(Box<TypeConstraint>),
    /// `object({name = T, other = optional(T)})`, in declaration order.
    Object(Vec<ObjectAttribute>),
    /// `tuple([T, U])`.
    Tuple(Vec<TypeConstraint>),
}

/// One attribute of an object type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectAttribute {
    /// The attribute's name.
    pub name: String,
    /// Its type.
    pub ty: TypeConstraint,
    /// Declared with `optional(…)`: the value may leave it out.
    pub optional: bool,
}

impl TypeConstraint {
    /// Reads the `type` expression of a `variable` block; `Err` says what is not a type.
    pub fn parse(expr: &hcl::Expression) -> Result<Self, String> {
        match expr {
            hcl::Expression::Variable(v) => match v.as_str() {
                "any" => Ok(Self::Any),
                "string" => Ok(Self::String),
                "number" => Ok(Self::Number),
                "bool" => Ok(Self::Bool),
                other => Err(format!("`{other}` is not a type")),
            },
            hcl::Expression::Parenthesis(inner) => Self::parse(inner),
            hcl::Expression::FuncCall(call) => {
                let name = call.name.name.as_str();
                let [arg] = call.args.as_slice() else {
                    return Err(format!("`{name}(…)` takes one argument"));
                };
                let boxed = || Self::parse(arg).map(Box::new);
                match name {
                    "list" => Ok(Self::List(boxed()?)),
                    "set" => Ok(Self::Set(boxed()?)),
                    "map" => Ok(Self::Map(boxed()?)),
                    "tuple" => match arg {
                        hcl::Expression::Array(items) => items
                            .iter()
                            .map(Self::parse)
                            .collect::<Result<_, _>>()
                            .map(Self::Tuple),
                        _ => Err("`tuple(…)` takes a list of types".to_owned()),
                    },
                    "object" => match arg {
                        hcl::Expression::Object(attrs) => attrs
                            .iter()
                            .map(|(k, v)| object_attribute(k, v))
                            .collect::<Result<_, _>>()
                            .map(Self::Object),
                        _ => Err("`object(…)` takes an object of types".to_owned()),
                    },
                    other => Err(format!("`{other}(…)` is not a type")),
                }
            }
            _ => Err("not a type constraint".to_owned()),
        }
    }
}

fn object_attribute(
    key: &hcl::ObjectKey,
    value: &hcl::Expression,
) -> Result<ObjectAttribute, String> {
    let name = match key {
        hcl::ObjectKey::Identifier(i) => i.as_str().to_owned(),
        hcl::ObjectKey::Expression(hcl::Expression::String(s)) => s.clone(),
        _ => return Err("an object type's keys are names".to_owned()),
    };
    if let hcl::Expression::FuncCall(call) = value
        && call.name.name.as_str() == "optional"
    {
        // `optional(T)` or `optional(T, default)`: the default is terraform's business.
        let Some(inner) = call.args.first() else {
            return Err("`optional(…)` needs a type".to_owned());
        };
        return Ok(ObjectAttribute {
            name,
            ty: TypeConstraint::parse(inner)?,
            optional: true,
        });
    }
    Ok(ObjectAttribute {
        name,
        ty: TypeConstraint::parse(value)?,
        optional: false,
    })
}

impl fmt::Display for TypeConstraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("any"),
            Self::String => f.write_str("string"),
            Self::Number => f.write_str("number"),
            Self::Bool => f.write_str("bool"),
            Self::List(t) => write!(f, "list({t})"),
            Self::Set(t) => write!(f, "set({t})"),
            Self::Map(t) => write!(f, "map({t})"),
            Self::Tuple(ts) => {
                f.write_str("tuple([")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("])")
            }
            Self::Object(attrs) => {
                f.write_str("object({")?;
                for (i, a) in attrs.iter().enumerate() {
                    f.write_str(if i > 0 { ", " } else { " " })?;
                    if a.optional {
                        write!(f, "{} = optional({})", a.name, a.ty)?;
                    } else {
                        write!(f, "{} = {}", a.name, a.ty)?;
                    }
                }
                f.write_str(if attrs.is_empty() { "})" } else { " })" })
            }
        }
    }
}

/// A value, or a part of one, that does not fit its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mismatch {
    /// Where in the value: `nodes["dev-cp-1"].cores`.
    pub(crate) path: String,
    /// The byte range of the offending value in the tfvars text.
    pub(crate) span: Option<Range<usize>>,
    /// `must be number, found a string`.
    pub(crate) problem: String,
}

/// Checks `value` against `ty`, collecting every part that terraform would refuse. Expressions
/// that are not literal values (which tfvars cannot hold anyway) are not judged here.
pub(crate) fn check_value(ty: &TypeConstraint, value: &Value, path: &str, out: &mut Vec<Mismatch>) {
    let mismatch = |out: &mut Vec<Mismatch>, problem: String| {
        out.push(Mismatch {
            path: path.to_owned(),
            span: value.span(),
            problem,
        });
    };
    let found = match value {
        Value::Parenthesis(inner) => return check_value(ty, inner.inner(), path, out),
        Value::Null(_) => return,
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) | Value::StringTemplate(_) | Value::HeredocTemplate(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
        _ => return,
    };
    let expected = || format!("must be {ty}, found {found}");
    match (ty, value) {
        (TypeConstraint::Any, _) => {}
        (TypeConstraint::String, Value::Array(_) | Value::Object(_)) => mismatch(out, expected()),
        (TypeConstraint::String, _) => {}
        (TypeConstraint::Number, Value::Number(_)) => {}
        (TypeConstraint::Number, Value::String(s)) => {
            let reads = s.parse::<f64>().is_ok() && s.bytes().any(|b| b.is_ascii_digit());
            if !reads {
                mismatch(
                    out,
                    format!("must be number, found the string {:?}", s.as_str()),
                );
            }
        }
        (TypeConstraint::Number, Value::StringTemplate(_) | Value::HeredocTemplate(_)) => {}
        (TypeConstraint::Bool, Value::Bool(_)) => {}
        (TypeConstraint::Bool, Value::String(s)) => {
            if !["true", "false", "1", "0"].contains(&s.as_str()) {
                mismatch(
                    out,
                    format!("must be bool, found the string {:?}", s.as_str()),
                );
            }
        }
        (TypeConstraint::Bool, Value::StringTemplate(_) | Value::HeredocTemplate(_)) => {}
        (TypeConstraint::List(t) | TypeConstraint::Set(t), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check_value(t, item, &format!("{path}[{i}]"), out);
            }
        }
        (TypeConstraint::Tuple(ts), Value::Array(items)) => {
            if ts.len() != items.len() {
                mismatch(
                    out,
                    format!("must be {ty}, found a list of {} elements", items.len()),
                );
                return;
            }
            for (i, (t, item)) in ts.iter().zip(items.iter()).enumerate() {
                check_value(t, item, &format!("{path}[{i}]"), out);
            }
        }
        (TypeConstraint::Map(t), Value::Object(entries)) => {
            for (key, entry) in entries.iter() {
                let shown = key_name(key).map_or_else(|| "[…]".to_owned(), |k| format!("[{k:?}]"));
                check_value(t, entry.expr(), &format!("{path}{shown}"), out);
            }
        }
        (TypeConstraint::Object(attrs), Value::Object(entries)) => {
            for attr in attrs {
                let given = entries
                    .iter()
                    .find(|(k, _)| key_name(k).as_deref() == Some(attr.name.as_str()));
                match given {
                    Some((_, entry)) => {
                        check_value(
                            &attr.ty,
                            entry.expr(),
                            &format!("{path}.{}", attr.name),
                            out,
                        );
                    }
                    None if attr.optional => {}
                    None => mismatch(
                        out,
                        format!("lacks the attribute `{}` ({})", attr.name, attr.ty),
                    ),
                }
            }
        }
        _ => mismatch(out, expected()),
    }
}

fn key_name(key: &ObjectKey) -> Option<String> {
    match key {
        ObjectKey::Ident(i) => Some(i.as_str().to_owned()),
        ObjectKey::Expression(Value::String(s)) => Some(s.as_str().to_owned()),
        ObjectKey::Expression(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(text: &str) -> TypeConstraint {
        let body = hcl::parse(&format!("type = {text}\n")).unwrap();
        let attr = body.attributes().next().unwrap();
        TypeConstraint::parse(attr.expr()).unwrap()
    }

    fn problems(ty_text: &str, value: &str) -> Vec<String> {
        let body = hcl::edit::parser::parse_body(&format!("v = {value}\n")).unwrap();
        let attr = body.attributes().next().unwrap();
        let mut out = Vec::new();
        check_value(&ty(ty_text), &attr.value, "v", &mut out);
        out.into_iter()
            .map(|m| format!("{}: {}", m.path, m.problem))
            .collect()
    }

    #[test]
    fn types_read_back_as_terraform_writes_them() {
        for text in [
            "any",
            "list(string)",
            "set(number)",
            "map(bool)",
            "tuple([string, number])",
            "map(object({ vm_id = number, role = string, tags = optional(list(string)) }))",
        ] {
            assert_eq!(ty(text).to_string(), text);
        }
        assert_eq!(
            ty("object({ a = optional(number, 3) })").to_string(),
            "object({ a = optional(number) })"
        );
        let body = hcl::parse("type = \"string\"\n").unwrap();
        assert!(TypeConstraint::parse(body.attributes().next().unwrap().expr()).is_err());
    }

    /// Each case was run through terraform 1.11.4 (`plan -var-file`): the accepted ones plan,
    /// the others fail with "Invalid value for input variable".
    #[test]
    fn values_fit_as_terraform_converts_them() {
        let accepted = [
            ("string", "12"),
            ("string", "true"),
            ("number", "\"12\""),
            ("number", "\"1e3\""),
            ("number", "\"-1.5\""),
            ("bool", "\"1\""),
            ("bool", "\"false\""),
            ("list(string)", "[\"a\", 1, true]"),
            ("list(string)", "null"),
            ("list(string)", "[null]"),
            ("map(number)", "{ a = \"1\" }"),
            ("tuple([string, number])", "[\"a\", 1]"),
            (
                "object({ a = string, b = optional(number) })",
                "{ a = \"x\", c = 1 }",
            ),
            ("object({ a = string })", "{ a = null }"),
            ("any", "{ a = [1, { b = 2 }] }"),
        ];
        for (t, v) in accepted {
            assert_eq!(problems(t, v), Vec::<String>::new(), "{t} = {v}");
        }
        let refused = [
            (
                "list(string)",
                "42",
                "v: must be list(string), found a number",
            ),
            (
                "list(string)",
                "\"a\"",
                "v: must be list(string), found a string",
            ),
            (
                "list(string)",
                "[[\"a\"]]",
                "v[0]: must be string, found a list",
            ),
            (
                "list(string)",
                "{ a = \"x\" }",
                "v: must be list(string), found an object",
            ),
            ("string", "[\"a\"]", "v: must be string, found a list"),
            ("number", "true", "v: must be number, found a bool"),
            (
                "number",
                "\"abc\"",
                "v: must be number, found the string \"abc\"",
            ),
            (
                "number",
                "\" 12\"",
                "v: must be number, found the string \" 12\"",
            ),
            ("bool", "1", "v: must be bool, found a number"),
            (
                "bool",
                "\"yes\"",
                "v: must be bool, found the string \"yes\"",
            ),
            (
                "map(number)",
                "[\"a\"]",
                "v: must be map(number), found a list",
            ),
            (
                "map(number)",
                "{ a = [1] }",
                "v[\"a\"]: must be number, found a list",
            ),
            (
                "tuple([string, number])",
                "[\"a\"]",
                "v: must be tuple([string, number]), found a list of 1 elements",
            ),
            (
                "object({ a = string, b = optional(number) })",
                "{ b = 1 }",
                "v: lacks the attribute `a` (string)",
            ),
            (
                "object({ a = string })",
                "{ a = [\"x\"] }",
                "v.a: must be string, found a list",
            ),
        ];
        for (t, v, want) in refused {
            assert_eq!(problems(t, v), [want], "{t} = {v}");
        }
    }
}
