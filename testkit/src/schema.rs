//! Whether a service's `schema.rs`, written by hand, still says what its
//! migrations build. Diesel loads rows by position and trusts the types and
//! nullability `table!` declares, so a column added, retyped or reordered in
//! SQL but not in `schema.rs` fails only at run time, on the rows that hit
//! it. The check reads the `table!` blocks and compares them with
//! `information_schema` of a freshly migrated database: every table, its
//! columns in order, their types, their nullability and the primary key.

use std::collections::BTreeMap;
use std::fmt;

use tokio_postgres::Client;

/// A column as one side declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// PostgreSQL's name of the type (`information_schema.columns.udt_name`):
    /// `int8`, `timestamptz`, `_text` for `text[]`.
    pub udt: String,
    pub nullable: bool,
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let null = if self.nullable { " NULL" } else { " NOT NULL" };
        write!(f, "{} {}{null}", self.name, self.udt)
    }
}

/// A table: its primary key and its columns in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    pub primary_key: Vec<String>,
    pub columns: Vec<Column>,
}

pub type Tables = BTreeMap<String, Table>;

/// The tables the `diesel::table!` blocks of `source` declare.
pub fn declared(source: &str) -> Result<Tables, String> {
    let text: String = source
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut tables = Tables::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("table!") {
        rest = &rest[at + "table!".len()..];
        let body = braced(rest).ok_or("a table! without its braces")?;
        let (name, table) = table(body)?;
        tables.insert(name, table);
        rest = &rest[body.len()..];
    }
    if tables.is_empty() {
        return Err("no diesel::table! blocks".into());
    }
    Ok(tables)
}

/// The text inside the first `{ … }` of `text`, braces balanced.
fn braced(text: &str) -> Option<&str> {
    let open = text.find('{')?;
    let mut depth = 0;
    for (i, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[open + 1..open + i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// `name (pk, …) { column -> Type, … }`.
fn table(body: &str) -> Result<(String, Table), String> {
    let head_end = body.find('{').ok_or("a table without columns")?;
    let head = body[..head_end].trim();
    let (name, key) = head
        .split_once('(')
        .ok_or_else(|| format!("`{head}`: no primary key"))?;
    let primary_key = key
        .trim_end_matches(')')
        .split(',')
        .map(|part| part.trim().to_owned())
        .filter(|part| !part.is_empty())
        .collect();
    let columns_text = braced(&body[head_end..]).ok_or("unbalanced columns")?;
    let mut columns = Vec::new();
    let mut sql_name = None;
    for line in columns_text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        if let Some(attribute) = line.strip_prefix("#[") {
            if let Some(value) = attribute.strip_prefix("sql_name = \"") {
                sql_name = value.split('"').next().map(str::to_owned);
            }
            continue;
        }
        let (column, ty) = line
            .trim_end_matches(',')
            .split_once("->")
            .ok_or_else(|| format!("`{line}` is not `column -> Type`"))?;
        let (ty, nullable) = match ty.trim().strip_prefix("Nullable<") {
            Some(inner) => (inner.strip_suffix('>').unwrap_or(inner), true),
            None => (ty.trim(), false),
        };
        columns.push(Column {
            name: sql_name.take().unwrap_or_else(|| column.trim().to_owned()),
            udt: udt(ty.trim())?,
            nullable,
        });
    }
    Ok((
        name.trim().to_owned(),
        Table {
            primary_key,
            columns,
        },
    ))
}

/// PostgreSQL's name for a diesel SQL type.
fn udt(diesel: &str) -> Result<String, String> {
    if let Some(inner) = diesel.strip_prefix("Array<") {
        let inner = inner.strip_suffix('>').unwrap_or(inner);
        return Ok(format!("_{}", udt(inner.trim())?));
    }
    let name = match diesel {
        "Bool" => "bool",
        "Int2" | "SmallInt" => "int2",
        "Int4" | "Integer" => "int4",
        "Int8" | "BigInt" => "int8",
        "Float4" => "float4",
        "Float8" | "Double" => "float8",
        "Numeric" => "numeric",
        "Text" => "text",
        "Varchar" => "varchar",
        "Bytea" | "Binary" => "bytea",
        "Uuid" => "uuid",
        "Date" => "date",
        "Time" => "time",
        "Timestamp" => "timestamp",
        "Timestamptz" => "timestamptz",
        "Interval" => "interval",
        "Json" => "json",
        "Jsonb" => "jsonb",
        "Tstzrange" => "tstzrange",
        other => {
            return Err(format!(
                "no PostgreSQL name known for the diesel type {other}"
            ));
        }
    };
    Ok(name.into())
}

/// The tables of the `public` schema of the database `client` is on, but
/// diesel's own bookkeeping.
pub async fn migrated(client: &Client) -> Result<Tables, tokio_postgres::Error> {
    let mut tables = Tables::new();
    let columns = client
        .query(
            "SELECT c.table_name::text, c.column_name::text, c.udt_name::text, c.is_nullable = 'YES'
               FROM information_schema.columns c
               JOIN information_schema.tables t USING (table_schema, table_name)
              WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
                AND c.table_name <> '__diesel_schema_migrations'
              ORDER BY c.table_name, c.ordinal_position",
            &[],
        )
        .await?;
    for row in columns {
        tables.entry(row.get(0)).or_default().columns.push(Column {
            name: row.get(1),
            udt: row.get(2),
            nullable: row.get(3),
        });
    }
    let keys = client
        .query(
            "SELECT kcu.table_name::text, kcu.column_name::text
               FROM information_schema.table_constraints tc
               JOIN information_schema.key_column_usage kcu
                 USING (constraint_schema, constraint_name, table_name)
              WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = 'public'
              ORDER BY kcu.table_name, kcu.ordinal_position",
            &[],
        )
        .await?;
    for row in keys {
        if let Some(table) = tables.get_mut(&row.get::<_, String>(0)) {
            table.primary_key.push(row.get(1));
        }
    }
    Ok(tables)
}

/// Every way `declared` differs from `migrated`, one line each; empty when
/// they agree.
pub fn differences(declared: &Tables, migrated: &Tables) -> Vec<String> {
    let mut found = Vec::new();
    for (name, table) in declared {
        let Some(actual) = migrated.get(name) else {
            found.push(format!(
                "table {name} is declared but the migrations do not create it"
            ));
            continue;
        };
        if table.primary_key != actual.primary_key {
            found.push(format!(
                "table {name}: primary key ({}) is declared, the database has ({})",
                table.primary_key.join(", "),
                actual.primary_key.join(", ")
            ));
        }
        let longest = table.columns.len().max(actual.columns.len());
        for i in 0..longest {
            match (table.columns.get(i), actual.columns.get(i)) {
                (Some(d), Some(a)) if d == a => {}
                (Some(d), Some(a)) => found.push(format!(
                    "table {name}, column {}: `{d}` is declared, the database has `{a}`",
                    i + 1
                )),
                (Some(d), None) => found.push(format!(
                    "table {name}: `{d}` is declared, the database has no such column"
                )),
                (None, Some(a)) => found.push(format!(
                    "table {name}: the database has `{a}`, which is not declared"
                )),
                (None, None) => {}
            }
        }
    }
    for name in migrated.keys().filter(|name| !declared.contains_key(*name)) {
        found.push(format!(
            "table {name} exists in the database but is not declared"
        ));
    }
    found
}

/// Panics, listing every difference, unless the `table!` blocks of
/// `sources` describe the database `client` is on exactly.
pub async fn assert_declared_as_migrated(client: &Client, sources: &[&str]) {
    let mut declared_tables = Tables::new();
    for source in sources {
        declared_tables.extend(declared(source).unwrap_or_else(|err| panic!("schema.rs: {err}")));
    }
    let migrated_tables = migrated(client).await.expect("read information_schema");
    let found = differences(&declared_tables, &migrated_tables);
    assert!(
        found.is_empty(),
        "schema.rs and the migrations disagree:\n  {}",
        found.join("\n  ")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"
//! A comment -> that is not a column.
diesel::table! {
    seats (order_id, label) {
        order_id -> Uuid,
        label -> Text, // a comment
        #[sql_name = "type"]
        kind -> Nullable<Text>,
        tags -> Array<Text>,
    }
}
diesel::joinable!(seats -> orders (order_id));
"#;

    fn column(name: &str, udt: &str, nullable: bool) -> Column {
        Column {
            name: name.into(),
            udt: udt.into(),
            nullable,
        }
    }

    fn as_migrated() -> Tables {
        Tables::from([(
            "seats".to_owned(),
            Table {
                primary_key: vec!["order_id".into(), "label".into()],
                columns: vec![
                    column("order_id", "uuid", false),
                    column("label", "text", false),
                    column("type", "text", true),
                    column("tags", "_text", false),
                ],
            },
        )])
    }

    #[test]
    fn table_blocks_are_read_with_keys_types_and_nullability() {
        assert_eq!(declared(SCHEMA).unwrap(), as_migrated());
    }

    #[test]
    fn a_retyped_a_nullable_a_missing_and_an_extra_column_are_each_named() {
        let edited = SCHEMA
            .replace("label -> Text", "label -> Int4")
            .replace("order_id -> Uuid", "order_id -> Nullable<Uuid>")
            .replace("tags -> Array<Text>,", "");
        let found = differences(&declared(&edited).unwrap(), &as_migrated());
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(found[0].contains("order_id uuid NULL"), "{found:#?}");
        assert!(found[1].contains("label int4"), "{found:#?}");
        assert!(found[2].contains("tags _text NOT NULL"), "{found:#?}");
        let mut more = as_migrated();
        more.insert("history".into(), Table::default());
        let found = differences(&declared(SCHEMA).unwrap(), &more);
        assert_eq!(
            found,
            ["table history exists in the database but is not declared"]
        );
    }
}
