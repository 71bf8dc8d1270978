//! Field paths such as `address.zip` or `tags[3]`, kept on the stack while validating.
//!
//! A path is only turned into a `String` when a rule fails, so validating a valid value
//! allocates nothing.

use std::fmt;

/// Where a value sits inside the validated input.
///
/// Paths are linked lists on the stack: each nested call adds one segment that borrows its
/// parent. Names come from the type definition (after serde's renames) and indices are
/// positions, so a rendered path never contains submitted data.
#[derive(Clone, Copy)]
pub struct FieldPath<'a> {
    parent: Option<&'a FieldPath<'a>>,
    segment: Segment<'a>,
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Root,
    Field(&'a str),
    Index(usize),
}

impl<'a> FieldPath<'a> {
    /// The path of the top-level value (renders as an empty string).
    pub const fn root() -> FieldPath<'static> {
        FieldPath {
            parent: None,
            segment: Segment::Root,
        }
    }

    /// The path of field `name` inside `self`.
    pub const fn field<'b>(&'b self, name: &'b str) -> FieldPath<'b> {
        FieldPath {
            parent: Some(self),
            segment: Segment::Field(name),
        }
    }

    /// The path of element `index` inside `self`.
    pub const fn index<'b>(&'b self, index: usize) -> FieldPath<'b> {
        FieldPath {
            parent: Some(self),
            segment: Segment::Index(index),
        }
    }

    /// Whether this is the top-level path.
    pub fn is_root(&self) -> bool {
        matches!(self.segment, Segment::Root) && self.parent.is_none()
    }

    fn write_to(&self, out: &mut String) {
        if let Some(parent) = self.parent {
            parent.write_to(out);
        }
        match self.segment {
            Segment::Root => {}
            Segment::Field(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Segment::Index(i) => {
                use fmt::Write;
                let _ = write!(out, "[{i}]");
            }
        }
    }
}

impl fmt::Display for FieldPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.write_to(&mut s);
        f.write_str(&s)
    }
}

impl fmt::Debug for FieldPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FieldPath({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_fields_and_indices() {
        let root = FieldPath::root();
        assert_eq!(root.to_string(), "");
        let address = root.field("address");
        assert_eq!(address.field("zip").to_string(), "address.zip");
        let tags = root.field("tags");
        assert_eq!(tags.index(3).to_string(), "tags[3]");
        let nested = tags.index(0);
        assert_eq!(nested.field("name").to_string(), "tags[0].name");
        assert_eq!(root.index(1).to_string(), "[1]");
    }
}
