//! Rewriting one file: every schema in its place, schemata nested inside schemata.
//!
//! A schema replaces a range of the original text (or inserts text at an offset) with code
//! that runs the original unless its mutant's switch is on. Operands are written out again in
//! each branch, so a schema inside an operand appears once per branch, each copy with its own
//! switch check; only one branch ever runs, so the copies never interfere.
//!
//! Every schema is marked with comments, `/*S1,2<*/ ... /*>S1,2*/` around the whole of it and
//! `/*M1<*/ ... /*>M1*/` around mutant 1's own code, so a compile error can be traced back to
//! the mutant (or schema) whose text it points at.

/// Text of a schema: written as is, or the original text of a byte range (with the schemata
/// inside it rendered).
#[derive(Clone, Debug)]
pub enum Piece {
    Lit(String),
    Src(usize, usize),
}

/// What a schema does with its range.
#[derive(Clone, Debug)]
pub enum Form {
    /// Text inserted at `start` (the range is empty): each mutant's, in order.
    Insert(Vec<(usize, Vec<Piece>)>),
    /// `(if on(a) { alt a } else if on(b) { alt b } else { original })` over the range.
    Switch(Vec<(usize, Vec<Piece>)>),
}

/// One schema: a range of the original file and what replaces it.
#[derive(Clone, Debug)]
pub struct Schema {
    pub start: usize,
    pub end: usize,
    /// Of two schemata over the same range, the lower `depth` is the outer one.
    pub depth: u8,
    pub form: Form,
}

impl Schema {
    fn ids(&self) -> Vec<usize> {
        match &self.form {
            Form::Insert(alts) | Form::Switch(alts) => alts.iter().map(|(id, _)| *id).collect(),
        }
    }

    fn contains(&self, other: &Schema) -> bool {
        if other.start == other.end {
            return self.start < other.start && other.start < self.end;
        }
        self.start <= other.start && other.end <= self.end
    }
}

/// `text` with every schema written in. Schemata may nest but not overlap partially (they
/// come from a syntax tree).
pub fn render(text: &str, mut schemata: Vec<Schema>) -> String {
    schemata.sort_by_key(|s| (s.start, s.start != s.end, std::cmp::Reverse(s.end), s.depth));
    let tree = nest(schemata);
    let mut out = String::new();
    Renderer { text }.range(&mut out, 0, text.len(), &tree);
    out
}

/// A schema with the schemata strictly inside it.
struct Node {
    schema: Schema,
    inner: Vec<Node>,
}

/// Build the nesting forest of schemata sorted outer-first.
fn nest(sorted: Vec<Schema>) -> Vec<Node> {
    let mut roots: Vec<Node> = Vec::new();
    for schema in sorted {
        insert(&mut roots, schema);
    }
    roots
}

fn insert(level: &mut Vec<Node>, schema: Schema) {
    match level.last_mut() {
        Some(last) if last.schema.contains(&schema) => insert(&mut last.inner, schema),
        _ => level.push(Node {
            schema,
            inner: Vec::new(),
        }),
    }
}

struct Renderer<'a> {
    text: &'a str,
}

impl Renderer<'_> {
    /// The original text of `start..end` with the schemata of `nodes` inside it rendered.
    fn range(&self, out: &mut String, start: usize, end: usize, nodes: &[Node]) {
        let mut pos = start;
        for node in nodes {
            let s = &node.schema;
            if s.start < start || s.end > end {
                continue;
            }
            out.push_str(&self.text[pos..s.start]);
            self.schema(out, node);
            pos = s.end;
        }
        out.push_str(&self.text[pos..end]);
    }

    fn pieces(&self, out: &mut String, pieces: &[Piece], inner: &[Node]) {
        for p in pieces {
            match p {
                Piece::Lit(t) => out.push_str(t),
                Piece::Src(a, b) => self.range(out, *a, *b, inner),
            }
        }
    }

    fn schema(&self, out: &mut String, node: &Node) {
        let s = &node.schema;
        let ids = join(&s.ids());
        out.push_str(&format!("/*S{ids}<*/"));
        match &s.form {
            Form::Insert(alts) => {
                for (id, pieces) in alts {
                    out.push_str(&format!("/*M{id}<*/"));
                    self.pieces(out, pieces, &node.inner);
                    out.push_str(&format!("/*>M{id}*/"));
                }
            }
            Form::Switch(alts) => {
                out.push('(');
                for (id, pieces) in alts {
                    out.push_str(&format!("if crate::__mutants::on({id}) {{ /*M{id}<*/"));
                    self.pieces(out, pieces, &node.inner);
                    out.push_str(&format!("/*>M{id}*/ }} else "));
                }
                out.push_str("{ ");
                self.range(out, s.start, s.end, &node.inner);
                out.push_str(" })");
            }
        }
        out.push_str(&format!("/*>S{ids}*/"));
    }
}

fn join(ids: &[usize]) -> String {
    let parts: Vec<String> = ids.iter().map(usize::to_string).collect();
    parts.join(",")
}
