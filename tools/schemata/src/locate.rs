//! Where the expressions cargo-mutants mutates start and end, as byte offsets into the file.
//!
//! cargo-mutants names a mutant by the span of what it replaces: an operator token, a guard, a
//! function's statements, a match arm. A schema must also reproduce the operands around an
//! operator in both of its branches, so the file is parsed (with `syn`, positions from
//! `proc-macro2`'s `span-locations`) to find each operator's whole expression.

use crate::list::Pos;
use proc_macro2::LineColumn;
use quote::ToTokens;
use std::collections::BTreeMap;
use syn::visit::Visit;

/// A file's text with its line starts, to turn line and column into byte offsets.
pub struct Source {
    pub text: String,
    line_starts: Vec<usize>,
}

impl Source {
    pub fn new(text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Source { text, line_starts }
    }

    /// The byte offset of a cargo-mutants position (line and character column from 1).
    pub fn offset(&self, pos: Pos) -> Option<usize> {
        let start = *self.line_starts.get(pos.line.checked_sub(1)?)?;
        let line = &self.text[start..];
        let chars = pos.column.checked_sub(1)?;
        match line.char_indices().nth(chars) {
            Some((i, _)) => Some(start + i),
            // The end of the last line (or of the file) is a valid end position.
            None => (line.chars().count() == chars).then_some(self.text.len()),
        }
    }

    fn at(&self, lc: LineColumn) -> usize {
        // proc-macro2 counts lines from 1 and columns from 0.
        let pos = Pos {
            line: lc.line,
            column: lc.column + 1,
        };
        self.offset(pos)
            .expect("a position proc-macro2 gave lies inside the file")
    }

    /// The byte range of everything `node` prints as.
    fn range(&self, node: &impl ToTokens) -> (usize, usize) {
        let tokens: Vec<_> = node.to_token_stream().into_iter().collect();
        let first = tokens.first().expect("a node has tokens").span();
        let last = tokens.last().expect("a node has tokens").span();
        (self.at(first.start()), self.at(last.end()))
    }
}

/// An operator (binary, or unary prefix) and the expression it belongs to.
#[derive(Clone, Copy, Debug)]
pub struct Operator {
    pub expr: (usize, usize),
    pub op: (usize, usize),
}

/// A match arm: where its pattern ends, and its guard expression if it has one.
#[derive(Clone, Copy, Debug)]
pub struct Arm {
    pub pattern_end: usize,
    pub guard: Option<(usize, usize)>,
    /// Whether an unguarded `_` arm follows in the same match: an arm whose guard never holds
    /// then leaves the match exhaustive. (cargo-mutants also deletes arms where only a guarded
    /// wildcard exists; those mutants do not compile, and are left to it.)
    pub wildcard_after: bool,
}

/// The nodes of one file, by the byte offset where cargo-mutants' span for them starts.
#[derive(Default)]
pub struct Nodes {
    pub binary: BTreeMap<usize, Operator>,
    pub unary: BTreeMap<usize, Operator>,
    pub arms: BTreeMap<usize, Arm>,
}

/// Parse `src` and index its operators and match arms.
pub fn nodes(src: &Source) -> Result<Nodes, String> {
    let file = syn::parse_file(&src.text).map_err(|e| format!("does not parse: {e}"))?;
    let mut finder = Finder {
        src,
        nodes: Nodes::default(),
    };
    finder.visit_file(&file);
    Ok(finder.nodes)
}

struct Finder<'a> {
    src: &'a Source,
    nodes: Nodes,
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_expr_binary(&mut self, e: &'ast syn::ExprBinary) {
        let op = self.src.range(&e.op);
        let expr = self.src.range(e);
        self.nodes.binary.insert(op.0, Operator { expr, op });
        syn::visit::visit_expr_binary(self, e);
    }

    fn visit_expr_unary(&mut self, e: &'ast syn::ExprUnary) {
        let op = self.src.range(&e.op);
        let expr = self.src.range(e);
        self.nodes.unary.insert(op.0, Operator { expr, op });
        syn::visit::visit_expr_unary(self, e);
    }

    fn visit_expr_match(&mut self, m: &'ast syn::ExprMatch) {
        for (i, a) in m.arms.iter().enumerate() {
            let wildcard_after = m.arms[i + 1..]
                .iter()
                .any(|later| later.guard.is_none() && matches!(later.pat, syn::Pat::Wild(_)));
            let arm = Arm {
                pattern_end: self.src.range(&a.pat).1,
                guard: a.guard.as_ref().map(|(_, g)| self.src.range(g)),
                wildcard_after,
            };
            // cargo-mutants' span of an arm starts at its pattern (or at an attribute before it).
            self.nodes.arms.insert(self.src.range(&a.pat).0, arm);
            if let Some(attr) = a.attrs.first() {
                self.nodes.arms.insert(self.src.range(attr).0, arm);
            }
        }
        syn::visit::visit_expr_match(self, m);
    }
}
