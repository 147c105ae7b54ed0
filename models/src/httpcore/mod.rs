//! httpcore's async HTTP/2 connection and connection pool (encode/httpcore 1.0.9).
//!
//! Placeholder registered so the workspace builds; the model lands with the httpcore issue.

use crate::model::{Model, ModelInfo, ScenarioSpec, VariantInfo};

/// The httpcore model.
pub struct HttpcoreModel;

static INFO: ModelInfo = ModelInfo {
    name: "httpcore",
    summary: "encode/httpcore AsyncHTTP2Connection + AsyncConnectionPool",
    upstream: "encode/httpcore 1.0.9 (9820975) httpcore/_async/http2.py, connection_pool.py",
    variants: &[VariantInfo {
        name: "fixed",
        upstream: "",
        summary: "",
    }],
    ops: &[],
    config: &[],
};

impl Model for HttpcoreModel {
    fn info(&self) -> &'static ModelInfo {
        &INFO
    }

    fn run(&self, _spec: &ScenarioSpec, _variant: &str) {}
}
