//! [`Value`]: what a statement binds, the types SQLite and PostgreSQL store alike. Plain data,
//! so resources' change sets can hold it whatever database feature is on.

/// A value bound to a statement: the types both databases store alike. `None` binds a typed
/// `NULL`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `TEXT`.
    Text(Option<String>),
    /// `BIGINT` (SQLite `INTEGER`).
    Int(Option<i64>),
    /// `BOOLEAN` (SQLite `INTEGER` 0 or 1).
    Bool(Option<bool>),
    /// `DOUBLE PRECISION` (SQLite `REAL`).
    Float(Option<f64>),
    /// `BYTEA` (SQLite `BLOB`).
    Bytes(Option<Vec<u8>>),
}

macro_rules! value_from {
    ($variant:ident: $($ty:ty => $conv:expr),* $(,)?) => {$(
        impl From<$ty> for Value {
            fn from(v: $ty) -> Self {
                let conv: fn($ty) -> _ = $conv;
                Value::$variant(Some(conv(v)))
            }
        }
        impl From<Option<$ty>> for Value {
            fn from(v: Option<$ty>) -> Self {
                let conv: fn($ty) -> _ = $conv;
                Value::$variant(v.map(conv))
            }
        }
    )*};
}
value_from!(Text: String => |v| v, &str => str::to_owned, &String => String::clone);
value_from!(Int: i64 => |v| v, i32 => i64::from, u32 => i64::from, i16 => i64::from, u16 => i64::from);
value_from!(Bool: bool => |v| v);
value_from!(Float: f64 => |v| v);
value_from!(Bytes: Vec<u8> => |v| v, &[u8] => <[u8]>::to_vec);
